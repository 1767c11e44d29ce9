"""Words and number formats shared by the text, JSON and HTML renderers (presentation only)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from imugait.conventions import Side
from imugait.report.findings import Comparison, Finding, Status
from imugait.report.measurements import Measurement, with_unit

if TYPE_CHECKING:
    from imugait.report.report import Report

KEY_METRICS = (
    ("hip_rotation_mean_deg", "Hip rotation, mean over the cycle (+ = internal)"),
    ("hip_rotation_stance_mean_deg", "Hip rotation, stance mean (+ = internal)"),
    ("knee_valgus_stance_peak_deg", "Knee valgus, stance peak (+ = knee moves in)"),
    ("knee_flexion_swing_peak_deg", "Knee flexion, swing peak"),
    ("knee_flexion_loading_peak_deg", "Knee flexion, loading peak"),
    ("knee_rotation_stance_mean_deg", "Knee rotation, stance mean (+ = internal)"),
    ("stance_pct", "Stance, % of stride"),
    ("stride_time_s", "Stride time"),
    ("cadence_steps_per_min", "Cadence"),
)
"""The walking metrics shown in the summary table, in order, with their labels."""

CURVE_LABELS = {
    "knee_flexion_deg": "Knee flexion (+) / extension",
    "knee_adduction_deg": "Knee adduction: varus (+) / valgus (−)",
    "knee_rotation_deg": "Knee rotation: internal (+) / external",
    "hip_rotation_deg": "Hip rotation: internal (+) / external",
}

STATUS_TEXT = {
    Status.WITHIN: "within the reference",
    Status.OUTSIDE: "outside the reference",
    Status.REFERENCE: "reference value shown, no cut-off",
    Status.NOT_AVAILABLE: "shown without a normative comparison",
}

SEVERITY_TEXT = {"mild": "mild", "marked": "marked", "refer": "see a professional"}

SIDE_ORDER = (Side.LEFT, Side.RIGHT)


def side_text(side: Side | None, quantity: str = "value") -> str:
    if side is not None:
        return side.value
    return {"symmetry_index_pct": "left vs right (SI)", "right_minus_left": "right − left"}.get(quantity, "—")


def value_text(value: float | None, unit: str, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return with_unit(value, unit, digits)


def measurement_text(m: Measurement | None) -> str:
    if m is None:
        return "—"
    digits = 2 if m.unit == "s" else 1
    text = value_text(m.value, m.unit, digits)
    if m.sd is not None:
        text += f" ± {m.sd:.{digits}f}"
    return text


def comparison_value_text(c: Comparison) -> str:
    if c.metric == "pain_reported":
        return "yes" if c.value else "no"
    return value_text(c.value, c.unit)


def confidence_text(entry: Comparison | Finding) -> str:
    """``low (only 7 strides used …)``: the confidence and, when it is not high, why."""
    return entry.confidence.value + (f" ({entry.confidence_reason})" if entry.confidence_reason else "")


def drill_purpose_text(drill_findings: Iterable[str], findings: Iterable[Finding]) -> str:
    """What a drill is for, in words: ``hip rotation while walking (right)`` for each of this
    report's findings it was chosen for."""
    labels = (f.title.split(" (")[0].lower() + (f" ({f.side.value})" if f.side else "")
              for f in findings if f.code in drill_findings)
    return ", ".join(dict.fromkeys(labels))


def _untrusted_sides(report: Report) -> list[Side]:
    return [q.side for q in report.quality if not q.trusted]


def side_heading(side: Side, report: Report) -> str:
    """A summary column's heading: the side, marked when its leg's results are not trusted."""
    return side.value + (" (not trusted)" if side in _untrusted_sides(report) else "")


def no_finding_text(report: Report) -> str:
    """'No finding', and — when a leg's results are not trusted — that its values do not count."""
    text = "No finding: every compared measurement is within its reference."
    untrusted = " and ".join(s.value for s in _untrusted_sides(report))
    if untrusted:
        text += (f" The {untrusted} leg's results are not trusted (see the warning): re-strap its sensors and "
                 f"record again before relying on them.")
    return text


def metric_label(name: str) -> str:
    return dict(KEY_METRICS).get(name, name.replace("_", " "))
