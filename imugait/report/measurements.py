"""The flat list of measured metrics that findings work on.

Every protocol (the walking analysis now; standing posture, prone/supine hip rotation, squat and
single-leg balance later) hands the report a list of :class:`Measurement` — name (with its unit
suffix), side, value, unit, number of repetitions, confidence. Findings do not care which protocol
a number came from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from imugait.analysis import AnalysisResult
from imugait.analysis.confidence import UNTRUSTED_REASON, calibration_confidence
from imugait.conventions import Side
from imugait.report.thresholds import Confidence, ConfidenceRules, DerivedMetric

UNIT_BY_SUFFIX = (("_deg", "deg"), ("_pct", "%"), ("_s", "s"), ("_per_min", "1/min"))
UNIT_SYMBOL = {"deg": "°", "%": "%", "s": " s", "1/min": " steps/min", "": ""}


@dataclass(frozen=True)
class Measurement:
    """One measured metric of one side (``side`` None: of the person, e.g. pain reported)."""

    name: str
    side: Side | None
    value: float
    unit: str
    n: int | None = None
    """How many repetitions (strides, trials) the value is the mean of."""
    confidence: Confidence = Confidence.HIGH
    sd: float | None = None
    protocol: str = "walking"
    confidence_reason: str = ""
    trusted: bool = True
    """False: from a leg whose results are not trusted (``LegReport.trusted``): shown, never a finding."""


def unit_of(name: str) -> str:
    for suffix, unit in UNIT_BY_SUFFIX:
        if name.endswith(suffix):
            return unit
    return ""


def with_unit(value: float, unit: str, digits: int = 1) -> str:
    """``12.3°``, ``55.0%``, ``1.10 s``: a number with its unit symbol, for people."""
    return f"{value:.{digits}f}{UNIT_SYMBOL.get(unit, ' ' + unit)}".rstrip()


def leg_confidence(
    calibration_quality: str, n_used: int, rules: ConfidenceRules, trusted: bool = True, metric: str | None = None
) -> tuple[Confidence, str]:
    """Confidence of a leg's walking metric: lowered by a poor calibration, too many strides whose
    values were not walking (``trusted`` False), or fewer used strides than the metric's rule
    (``confidence_rules.min_strides`` in thresholds.json, measured on real walks: docs/report.md)."""
    confidence = calibration_confidence(calibration_quality, rules.calibration_quality_to_confidence)
    reasons = [] if confidence is Confidence.HIGH else [f"sensor calibration {calibration_quality}"]
    if not trusted:
        confidence = Confidence.LOW
        reasons.append(UNTRUSTED_REASON)
    rule = rules.stride_rule(metric)
    by_strides = rule.level(n_used)
    if by_strides is not Confidence.HIGH:
        confidence = Confidence.lowest(confidence, by_strides)
        reasons.append(stride_reason(n_used, rule.medium if by_strides is Confidence.LOW else rule.high,
                                     by_strides, rules.strides_per_10m_pass))
    return confidence, "; ".join(reasons)


def stride_reason(n_used: int, needed: int, level: Confidence, strides_per_pass: int) -> str:
    """Why a mean of ``n_used`` strides is only ``level``, and how much more walking lifts it."""
    passes = math.ceil((needed - n_used) / strides_per_pass)
    more = f"record about {passes} more 10-m pass{'es' if passes > 1 else ''} (≈ {strides_per_pass} strides a leg each)"
    if level is Confidence.LOW:
        return (f"only {n_used} stride{'s' if n_used != 1 else ''} used, fewer than {needed}: a mean of so few is less certain than walking "
                f"again — {more}")
    return f"{n_used} strides used, {needed} give high confidence: {more}"


def measurements_from_analysis(result: AnalysisResult, rules: ConfidenceRules) -> list[Measurement]:
    """Every per-side aggregate of the walking analysis as a measurement (NaN means are left out).

    Confidence per metric and side: from the leg's calibration rating and the metric's stride count."""
    out = []
    for side, leg in result.legs.items():
        rows = result.aggregates[result.aggregates["side"] == side.value]
        for row in rows.itertuples(index=False):
            if not math.isfinite(row.mean):
                continue
            confidence, reason = leg_confidence(leg.calibration_quality, int(row.n), rules, leg.trusted, row.metric)
            out.append(Measurement(
                name=row.metric, side=side, value=float(row.mean), unit=unit_of(row.metric), n=int(row.n),
                confidence=confidence, sd=float(row.sd) if math.isfinite(row.sd) else None, protocol="walking",
                confidence_reason=reason, trusted=leg.trusted,
            ))
    return out


def with_derived(measurements: Iterable[Measurement], derived: Iterable[DerivedMetric]) -> list[Measurement]:
    """Add derived metrics (e.g. internal minus external rotation) where both inputs were measured
    on the same side and the derived one was not."""
    out = list(measurements)
    index = {(m.name, m.side): m for m in out}
    for d in derived:
        for (name, side), a in list(index.items()):
            if name != d.minuend or (d.name, side) in index or (d.subtrahend, side) not in index:
                continue
            b = index[(d.subtrahend, side)]
            m = Measurement(d.name, side, a.value - b.value, d.unit, n=min(a.n or 0, b.n or 0) or None,
                            confidence=Confidence.lowest(a.confidence, b.confidence), protocol=a.protocol,
                            confidence_reason="; ".join(r for r in (a.confidence_reason, b.confidence_reason) if r),
                            trusted=a.trusted and b.trusted)
            out.append(m)
            index[(d.name, side)] = m
    return out


def measurements_from_metrics(metrics: Iterable) -> list[Measurement]:
    """Measurements from assessment-protocol metrics (``imugait.assessment`` ``Metric`` objects or
    anything with ``protocol``, ``name``, ``side``, ``value``, ``n``, ``confidence`` and ``sd``)."""
    out = []
    for m in metrics:
        if not math.isfinite(m.value):
            continue
        sd = getattr(m, "sd", math.nan)
        out.append(Measurement(
            name=m.name, side=m.side, value=float(m.value), unit=unit_of(m.name), n=m.n,
            confidence=Confidence(getattr(m.confidence, "value", m.confidence)),
            sd=float(sd) if sd is not None and math.isfinite(sd) else None,
            protocol=getattr(m.protocol, "value", str(m.protocol)),
        ))
    return out
