"""Measurements → comparisons against thresholds → findings.

A *comparison* is one measurement (or a left/right pair) held against one threshold entry, whatever
the outcome — within the reference, outside it, shown with a reference value only, or shown
without a normative comparison because none is verified. A *finding* is a comparison that is
outside the reference and whose measurements are trusted (a leg whose results are not trusted is
compared and shown, marked, but never becomes a finding, a drill or a referral): it carries a finding code (what drills.py maps to drills or a referral), a
severity and a confidence. Wording describes measurements; it never names a diagnosis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

from imugait.conventions import Side
from imugait.gait.metrics import asymmetry
from imugait.report.measurements import Measurement, with_unit
from imugait.report.thresholds import (
    ComparisonKind,
    Confidence,
    Level,
    Population,
    Severity,
    SideHandling,
    Threshold,
    ThresholdSet,
)


class Status(StrEnum):
    """Outcome of a comparison."""

    WITHIN = "within"
    OUTSIDE = "outside"
    REFERENCE = "reference_only"
    NOT_AVAILABLE = "not_available"


@dataclass(frozen=True)
class Comparison:
    threshold_id: str
    metric: str
    title: str
    side: Side | None
    value: float
    unit: str
    status: Status
    reference_text: str
    """The reference the value was held against, in words and numbers (or why there is none)."""
    confidence: Confidence
    source: str
    population: str
    severity: Severity | None = None
    direction: str = ""
    finding_code: str = ""
    n: int | None = None
    quantity: str = "value"
    """``value``, ``symmetry_index_pct`` or ``right_minus_left``."""
    confidence_reason: str = ""
    """Why the confidence is not high (the measurement's reason; per side for a left/right quantity)."""
    trusted: bool = True
    """False when a measurement it holds comes from a leg whose results are not trusted: shown, marked,
    never a finding."""


@dataclass(frozen=True)
class Finding:
    code: str
    threshold_id: str
    metric: str
    title: str
    side: Side | None
    value: float
    unit: str
    severity: Severity
    confidence: Confidence
    direction: str
    reference_text: str
    message: str
    source: str
    citation: str
    population: str
    caveats: tuple[str, ...]
    confidence_reason: str = ""

    @property
    def refer(self) -> bool:
        return self.severity is Severity.REFER


def _num(x: float, unit: str) -> str:
    return with_unit(x, unit, 0 if float(x).is_integer() else 1)


def _level_text(level: Level, unit: str) -> str:
    """The numbers of a level that fired, with the level's label."""
    if level.low is not None and level.high is not None:
        return f"{level.label} ({_num(level.low, unit)} to {_num(level.high, unit)})"
    if level.limit is not None:
        return f"{level.label} ({_num(level.limit, unit)})"
    return level.label


def _typical_text(kind: ComparisonKind, level: Level, unit: str) -> str:
    """The range a value is within when no level fires (the mildest level's bounds)."""
    if kind is ComparisonKind.OUTSIDE_RANGE:
        return f"typical {_num(level.low, unit)} to {_num(level.high, unit)}"
    if kind is ComparisonKind.ABOVE:
        return f"typical up to {_num(level.limit, unit)}"
    if kind is ComparisonKind.BELOW:
        return f"typical from {_num(level.limit, unit)}"
    if kind is ComparisonKind.AT_LEAST:
        return f"typical below {_num(level.limit, unit)}"
    return "not reported"


def _fires(kind: ComparisonKind, level: Level, value: float) -> str:
    """The direction in which ``value`` lies beyond ``level`` ('' when it does not)."""
    if kind is ComparisonKind.OUTSIDE_RANGE:
        return "above" if value > level.high else "below" if value < level.low else ""
    if kind is ComparisonKind.ABOVE:
        return "above" if value > level.limit else ""
    if kind is ComparisonKind.BELOW:
        return "below" if value < level.limit else ""
    if kind is ComparisonKind.AT_LEAST:
        return "above" if value >= level.limit else ""
    if kind is ComparisonKind.FLAG:
        return "flag" if value else ""
    return ""


def _compare(t: Threshold, side: Side | None, value: float, unit: str, confidence: Confidence, n: int | None,
             population: Population, quantity: str = "value", confidence_reason: str = "",
             trusted: bool = True) -> Comparison:
    base = dict(threshold_id=t.id, metric=t.metric, title=t.title, side=side, value=value, unit=unit,
                confidence=confidence, source=t.source, population=t.population, n=n, quantity=quantity,
                confidence_reason=confidence_reason, trusted=trusted)
    if t.comparison is ComparisonKind.NOT_AVAILABLE:
        return Comparison(status=Status.NOT_AVAILABLE, reference_text=t.reason, **base)
    if t.comparison is ComparisonKind.REFERENCE_ONLY:
        return Comparison(status=Status.REFERENCE, reference_text=t.reference["label"], **base)
    levels = t.levels(population)
    fired = [(lv, d) for lv in levels if (d := _fires(t.comparison, lv, value))]
    if not fired:
        return Comparison(status=Status.WITHIN, reference_text=_typical_text(t.comparison, levels[0], t.unit), **base)
    level, direction = fired[-1]  # the most severe level that fires
    return Comparison(status=Status.OUTSIDE, reference_text=_level_text(level, t.unit), severity=level.severity,
                      direction=direction, finding_code=t.finding_code(direction, level.severity), **base)


def _symmetry_index(left: float, right: float, metric: str) -> float:
    """The analysis's symmetry index (imugait.gait.metrics.asymmetry), for one metric."""
    table = pd.DataFrame({"side": ["left", "right"], "metric": [metric, metric], "mean": [left, right]})
    return float(asymmetry(table)["symmetry_index_pct"].iloc[0])


def compare_all(measurements: Iterable[Measurement], thresholds: ThresholdSet,
                population: Population = Population.UNKNOWN) -> list[Comparison]:
    """Every threshold entry held against the measurements it applies to."""
    by_key = {(m.name, m.side): m for m in measurements}
    out: list[Comparison] = []
    for t in thresholds.thresholds:
        if t.side_handling in (SideHandling.PER_SIDE, SideHandling.SUBJECT):
            sides = list(Side) if t.side_handling is SideHandling.PER_SIDE else [None]
            for side in sides:
                m = by_key.get((t.metric, side))
                if m is not None:
                    out.append(_compare(t, side, m.value, m.unit, m.confidence, m.n, population,
                                        confidence_reason=m.confidence_reason, trusted=m.trusted))
            continue
        left, right = by_key.get((t.metric, Side.LEFT)), by_key.get((t.metric, Side.RIGHT))
        if left is None or right is None:
            continue
        confidence = Confidence.lowest(left.confidence, right.confidence)
        n = min(left.n or 0, right.n or 0) or None
        reason = "; ".join(f"{m.side.value}: {m.confidence_reason}" for m in (left, right) if m.confidence_reason)
        trusted = left.trusted and right.trusted
        if t.side_handling is SideHandling.SYMMETRY_INDEX:
            si = _symmetry_index(left.value, right.value, t.metric)
            out.append(_compare(t, None, si, "%", confidence, n, population, "symmetry_index_pct", reason, trusted))
        else:
            out.append(_compare(t, None, right.value - left.value, left.unit, confidence, n, population,
                                "right_minus_left", reason, trusted))
    return out


def _message(t: Threshold, c: Comparison) -> str:
    who = f"{c.side.value} side" if c.side else ("left/right" if c.quantity != "value" else "")
    what = t.direction_text.get(c.direction, t.title)
    value = "" if t.comparison is ComparisonKind.FLAG else f" ({with_unit(c.value, c.unit)})"
    text = f"{who}: {what}{value}" if who else f"{what[:1].upper()}{what[1:]}{value}"
    return text[:1].upper() + text[1:]


def findings_from(comparisons: Iterable[Comparison], thresholds: ThresholdSet) -> list[Finding]:
    """The comparisons that are outside their reference, most severe first; a comparison of a
    measurement that is not trusted is never a finding (issue 10: values that are not valid never
    become findings)."""
    by_id = {t.id: t for t in thresholds.thresholds}
    out = []
    for c in comparisons:
        if c.status is not Status.OUTSIDE or not c.trusted:
            continue
        t = by_id[c.threshold_id]
        out.append(Finding(
            code=c.finding_code, threshold_id=t.id, metric=t.metric, title=t.title, side=c.side, value=c.value,
            unit=c.unit, severity=c.severity, confidence=c.confidence, direction=c.direction,
            reference_text=c.reference_text, message=_message(t, c), source=t.source,
            citation=thresholds.citation(t.source), population=t.population, caveats=t.caveats,
            confidence_reason=c.confidence_reason,
        ))
    return sorted(out, key=lambda f: (-f.severity.rank, f.code, f.side.value if f.side else ""))
