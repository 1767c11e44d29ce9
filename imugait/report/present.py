"""Words and number formats shared by the text, JSON and HTML renderers (presentation only)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from imugait.analysis.confidence import RESTRAP_ADVICE, UNTRUSTED_REASON
from imugait.conventions import Side
from imugait.report.findings import Comparison, Finding, Status
from imugait.report.measurements import Measurement, with_unit

if TYPE_CHECKING:
    from imugait.report.report import LegQuality, Report, Trend

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


NOT_COUNTED = "not counted: leg not trusted"
"""Beside a comparison of a leg whose results are not trusted (it raises no finding)."""


def result_text(c: Comparison) -> str:
    """``outside the reference (mild)``, marked when the comparison does not count."""
    severity = f" ({SEVERITY_TEXT[c.severity.value]})" if c.severity else ""
    return STATUS_TEXT[c.status] + severity + ("" if c.trusted else f"; {NOT_COUNTED}")


def _untrusted_sides(report: Report) -> list[Side]:
    untrusted = {q.side for q in report.quality if not q.trusted} | {
        m.side for m in report.measurements if not m.trusted and m.side is not None}
    return [s for s in SIDE_ORDER if s in untrusted]


def side_heading(side: Side, report: Report) -> str:
    """A summary column's heading: the side, marked when its leg's results are not trusted."""
    return side.value + (" (not trusted)" if side in _untrusted_sides(report) else "")


def leg_quality_text(q: LegQuality) -> str:
    """A leg's line under the summary (without its calibration method): the rating, the strides
    used of found and why the others were not (a newcomer read "25 of 47 strides used" of the qmt
    walk with turns and found no reason anywhere), and the not-trusted mark."""
    unused = "; ".join(f"{n} {reason}" for reason, n in q.strides_unused)
    return (f"{q.side.value} leg: sensor calibration {q.calibration_quality}, {q.strides_used} of {q.strides_found} "
            f"strides used" + (f" (unused: {unused})" if unused else "")
            + ("" if q.trusted else " — NOT TRUSTED (most strides implausible)"))


def recorded_text(report: Report) -> str:
    """``recorded 2016-08-22T18:24:00``, saying when the time is only the imported file's (an
    Xsens text export copied today read as recorded today)."""
    return f"recorded {report.recorded_at}" + (" (the file's time: it states no date)"
                                               if report.recorded_at_is_file_time else "")


def no_finding_text(report: Report) -> str:
    """'No finding', saying whether every comparison counted (:func:`not_counted_text` says why not),
    or that nothing was compared (a recording without one usable stride is not 'within the reference')."""
    if not report.comparisons:
        if report.quality and not any(q.strides_used for q in report.quality):
            return ("No finding, and nothing was compared: no leg had a stride that could be used "
                    "(the warnings say why and what to record next time).")
        return "No finding, and nothing was compared: no measurement of this report has a reference."
    counted = sum(c.trusted for c in report.comparisons)
    if counted == len(report.comparisons):
        return "No finding: every compared measurement is within its reference."
    if counted:
        return "No finding: every measurement that counts is within its reference."
    return "No finding: no measurement of this report counts."


def not_counted_text(report: Report) -> str:
    """Why a leg's comparisons raise no finding and what to redo ('' when every leg is trusted)."""
    sides = _untrusted_sides(report)
    if not sides:
        return ""
    one = len(sides) == 1
    whose = f"the {sides[0].value} leg's results are" if one else "both legs' results are"
    redo = RESTRAP_ADVICE if one else RESTRAP_ADVICE.replace("this leg", "each leg")
    return (f"Not counted: {whose} not trusted — {UNTRUSTED_REASON}. {'Its' if one else 'Their'} comparisons are "
            f"shown, marked '{NOT_COUNTED}', but raise no finding, no drill and no referral. To count them, {redo}.")


def metric_label(name: str) -> str:
    return dict(KEY_METRICS).get(name, name.replace("_", " "))


def _signed(value: float, unit: str) -> str:
    return ("+" if value > 0 else "") + with_unit(value, unit, 2 if unit == "s" else 1)


def trend_change_text(t: Trend) -> str:
    """The latest change of a trend against its measurement's walk-to-walk spread, in words: a
    change smaller than the spread is not a change."""
    change = _signed(t.change, t.unit)
    if t.smallest_real_change is None:
        return f"{change}: not judged — no walk-to-walk spread was measured for this measurement"
    spread = with_unit(t.smallest_real_change, t.unit, 2 if t.unit == "s" else 1)
    if t.beyond_spread:
        return f"{change}: larger than the walk-to-walk spread (±{spread})"
    return f"{change}: within the walk-to-walk spread (±{spread}), not a change"


TREND_NOTE = (
    "Change: the latest value minus the one before it. The walk-to-walk spread is the change that two walks of "
    "one leg minutes apart exceed only 1 time in 20 (1.96 · √2 · the SD across walks, measured on real repeated "
    "walks: see Sources, walk_repeatability). Between sessions on "
    "different days, with the sensors strapped on again, the spread is larger, so a change beyond it can still be "
    "the strapping."
)
"""Under the trend table: what the change column is judged against."""
