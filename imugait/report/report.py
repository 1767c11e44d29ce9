"""Assemble a :class:`Report` from a walking analysis (and, later, assessment-protocol measurements)
plus optional earlier reports of the same person for trends."""

from __future__ import annotations

import datetime as _dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from imugait import __version__
from imugait.analysis import AnalysisResult, normalised_cycles
from imugait.conventions import HipRotationReference, Side
from imugait.errors import ValidationError
from imugait.report.drill_data import ReportData, load_report_data
from imugait.report.drills import Programme, plan_programme
from imugait.report.findings import Comparison, Finding, compare_all, findings_from
from imugait.report.measurements import Measurement, measurements_from_analysis, with_derived
from imugait.report.spread import SPREAD_SOURCE_ID, SpreadTable, walk_to_walk_spreads
from imugait.report.thresholds import Population

HIP_ROTATION_NOTES = {
    HipRotationReference.PROGRESSION: (
        "Hip rotation here is the thigh's rotation relative to the line of progression (no pelvis sensor "
        "was worn); over a whole gait cycle it averages to the hip rotation."
    ),
    HipRotationReference.PELVIS: "Hip rotation here is the thigh relative to the pelvis (pelvis sensor worn).",
}
HIP_ROTATION_NOTE_PELVIS_WORN = (
    "Hip rotation here is the thigh's rotation relative to the line of progression; over a whole gait cycle it "
    "averages to the hip rotation. A pelvis sensor was worn: the thigh's rotation relative to the pelvis is "
    "measured as well (hip_rotation_pelvis_mean_deg in the JSON report's measurements)."
)
PAIN_METRIC = "pain_reported"


@dataclass(frozen=True)
class CurveSummary:
    """Mean and SD over the used strides of one angle, time-normalised: (101,) each, degrees."""

    mean_deg: np.ndarray
    sd_deg: np.ndarray
    n: int


@dataclass(frozen=True)
class LegQuality:
    side: Side
    calibration_quality: str
    strides_used: int
    strides_found: int
    calibration_method: str = ""
    """Reference pose, heading source and expected errors (``LegReport.calibration_method``)."""
    trusted: bool = True
    strides_unused: tuple[tuple[str, int], ...] = ()
    """Why the other strides were not used: (reason, count), commonest first."""


@dataclass(frozen=True)
class PreviousReport:
    """What trends need from an earlier report of the same person."""

    subject_id: str
    recorded_at: str
    values: dict[tuple[str, Side | None], float]


@dataclass(frozen=True)
class TrendPoint:
    recorded_at: str
    value: float


@dataclass(frozen=True)
class Trend:
    metric: str
    side: Side | None
    unit: str
    points: tuple[TrendPoint, ...]
    """Oldest first; the last point is this report."""
    smallest_real_change: float | None = None
    """The measurement's walk-to-walk spread (:mod:`imugait.report.spread`); None: not measured."""

    @property
    def change(self) -> float:
        """The latest point minus the one before it (the measurement's unit)."""
        return self.points[-1].value - self.points[-2].value

    @property
    def beyond_spread(self) -> bool | None:
        """The latest change is at least the smallest real change (None: no measured spread)."""
        if self.smallest_real_change is None:
            return None
        return abs(self.change) >= self.smallest_real_change


@dataclass(frozen=True)
class Report:
    subject_id: str
    recorded_at: str
    generated_at: str
    population: Population
    hip_rotation_reference: HipRotationReference
    measurements: tuple[Measurement, ...]
    comparisons: tuple[Comparison, ...]
    findings: tuple[Finding, ...]
    programme: Programme
    disclaimer: str
    sources: dict[str, str]
    """Source id → citation, for every source the report's entries use."""
    quality: tuple[LegQuality, ...] = ()
    warnings: tuple[str, ...] = ()
    curves: dict[Side, dict[str, CurveSummary]] = field(default_factory=dict)
    trends: tuple[Trend, ...] = ()
    software_version: str = __version__
    pelvis_worn: bool = False
    """A pelvis sensor was analysed (the hip angles against the pelvis are among the measurements)."""
    recorded_at_is_file_time: bool = False
    """``recorded_at`` is an imported file's modification time (the file states no date)."""

    @property
    def hip_rotation_note(self) -> str:
        if self.pelvis_worn and self.hip_rotation_reference is HipRotationReference.PROGRESSION:
            return HIP_ROTATION_NOTE_PELVIS_WORN
        return HIP_ROTATION_NOTES[self.hip_rotation_reference]

    def measurement(self, name: str, side: Side | None) -> Measurement | None:
        return next((m for m in self.measurements if m.name == name and m.side == side), None)


def _curves(result: AnalysisResult) -> dict[Side, dict[str, CurveSummary]]:
    out: dict[Side, dict[str, CurveSummary]] = {}
    for side, leg in result.legs.items():
        out[side] = {}
        for name, curves in normalised_cycles(result.t_s, leg).items():
            if len(curves) == 0:
                continue
            sd = np.nanstd(curves, axis=0, ddof=1) if len(curves) > 1 else np.full(curves.shape[1], np.nan)
            out[side][name] = CurveSummary(np.nanmean(curves, axis=0), sd, len(curves))
    return out


def _trends(measurements: Sequence[Measurement], comparisons: Sequence[Comparison], recorded_at: str,
            previous: Sequence[PreviousReport], spreads: SpreadTable) -> tuple[Trend, ...]:
    """Trends of the compared measurements over ``previous``; a measurement that is not trusted
    starts none (its values do not count)."""
    compared = {(c.metric, c.side) for c in comparisons if c.quantity == "value"}
    out = []
    for m in measurements:
        if (m.name, m.side) not in compared or not m.trusted:
            continue
        points = [TrendPoint(p.recorded_at, p.values[(m.name, m.side)]) for p in previous
                  if math.isfinite(p.values.get((m.name, m.side), math.nan))]
        if points:
            points.append(TrendPoint(recorded_at, m.value))
            out.append(Trend(m.name, m.side, m.unit, tuple(sorted(points, key=lambda p: p.recorded_at)),
                             spreads.smallest_real_change(m.name)))
    return tuple(out)


def _used_sources(data: ReportData, comparisons: Iterable[Comparison], programme: Programme,
                  trends: Sequence[Trend], spreads: SpreadTable) -> dict[str, str]:
    used = {c.source: data.thresholds.citation(c.source) for c in comparisons}
    if any(t.smallest_real_change is not None for t in trends):
        used[SPREAD_SOURCE_ID] = spreads.citation
    for d in programme.drills:
        for source in filter(None, (d.drill.source, d.drill.safety_source)):
            used[source] = data.drills.sources[source]["citation"]
    used[data.rules.disclaimer_source] = data.rules.sources[data.rules.disclaimer_source]["citation"]
    return used


def build_report(
    analysis: AnalysisResult | None = None,
    *,
    measurements: Iterable[Measurement] = (),
    previous: Sequence[PreviousReport] = (),
    population: Population = Population.UNKNOWN,
    pain_reported: bool | None = None,
    subject_id: str | None = None,
    recorded_at: str | None = None,
    data: ReportData | None = None,
    generated_at: str | None = None,
    spreads: SpreadTable | None = None,
) -> Report:
    """Measurements → comparisons → findings → programme, with trends over ``previous``.

    Parameters
    ----------
    analysis
        The walking analysis; its per-side aggregates become measurements, its time-normalised
        angle curves go into the report for plotting.
    measurements
        More measurements (other protocols: posture, prone/supine rotation, squat, balance).
    previous
        Earlier reports of the same subject (``render_json.read_previous``); another subject's
        report is refused.
    pain_reported
        What the person said about pain during the tests (None: not asked).
    spreads
        The walk-to-walk spreads a trend's change is judged against (default: the packaged
        ``walk_repeatability.json``).
    """
    data = data or load_report_data()
    spreads = spreads or walk_to_walk_spreads()
    if analysis is None and subject_id is None:
        raise ValidationError("a report needs a walking analysis or a subject id")
    meta = analysis.session_meta if analysis is not None else None
    subject_id = subject_id or meta.subject_id
    recorded_at = recorded_at or (meta.recorded_at if meta else _now())
    for p in previous:
        if p.subject_id != subject_id:
            raise ValidationError(f"previous report of subject {p.subject_id!r} given for subject {subject_id!r}: "
                                  f"trends compare one person's sessions only")
    all_measurements = list(measurements)
    if analysis is not None:
        all_measurements = measurements_from_analysis(analysis, data.thresholds.confidence) + all_measurements
    if pain_reported is not None:
        all_measurements.append(Measurement(PAIN_METRIC, None, float(pain_reported), "", protocol="self_report"))
    all_measurements = with_derived(all_measurements, data.thresholds.derived_metrics)
    comparisons = compare_all(all_measurements, data.thresholds, population)
    findings = findings_from(comparisons, data.thresholds)
    programme = plan_programme(findings, data.drills, data.rules)
    trends = _trends(all_measurements, comparisons, recorded_at, previous, spreads)
    quality = ()
    if analysis is not None:
        quality = tuple(LegQuality(side, leg.calibration_quality, sum(s.used for s in leg.strides), len(leg.strides),
                                   leg.calibration_method, leg.trusted, _unused(leg.strides))
                        for side, leg in sorted(analysis.legs.items(), key=lambda kv: kv[0].value))
    return Report(
        subject_id=subject_id, recorded_at=recorded_at, generated_at=generated_at or _now(), population=population,
        hip_rotation_reference=analysis.hip_rotation_reference if analysis else HipRotationReference.PROGRESSION,
        measurements=tuple(all_measurements), comparisons=tuple(comparisons), findings=tuple(findings),
        programme=programme, disclaimer=data.rules.disclaimer, sources=_used_sources(data, comparisons, programme, trends, spreads),
        quality=quality, warnings=tuple(analysis.warnings) if analysis else (),
        curves=_curves(analysis) if analysis is not None else {},
        trends=trends,
        pelvis_worn=analysis is not None and analysis.pelvis_worn,
        recorded_at_is_file_time=meta is not None and recorded_at == meta.recorded_at and meta.recorded_at_is_file_time,
    )


def _unused(strides) -> tuple[tuple[str, int], ...]:
    """(reason, count) of the strides not used, commonest first (ties in the order met)."""
    counts = Counter(s.exclusion.value for s in strides if not s.used)
    return tuple(counts.most_common())


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
