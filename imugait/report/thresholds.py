"""Load and validate the report's thresholds file (and the checks every report data file shares).

The clinical numbers live in ``imugait/data/{thresholds,drills,drill_rules}.json`` (versioned, each
entry with its source and population); this module turns them into frozen dataclasses and refuses
a file whose entries lack a source, name an unknown source, drill or finding, or use an unknown
comparison. Nothing here holds a clinical number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from imugait.analysis.confidence import Confidence, parse_calibration_confidence
from imugait.errors import ValidationError

THRESHOLDS_FILE = "thresholds.json"
SUPPORTED_FORMAT_VERSION = 1


class Severity(StrEnum):
    """How far a finding is from the reference, in increasing order."""

    MILD = "mild"
    MARKED = "marked"
    REFER = "refer"
    """See a professional (a structural sign or pain): never answered by drills alone."""

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class ComparisonKind(StrEnum):
    OUTSIDE_RANGE = "outside_range"
    ABOVE = "above"
    BELOW = "below"
    AT_LEAST = "at_least"
    FLAG = "flag"
    REFERENCE_ONLY = "reference_only"
    NOT_AVAILABLE = "not_available"


class SideHandling(StrEnum):
    PER_SIDE = "per_side"
    """Each side's value is compared on its own."""
    SYMMETRY_INDEX = "symmetry_index"
    """100 (R − L) / ((R + L) / 2) of the two sides' values is compared."""
    RIGHT_MINUS_LEFT = "right_minus_left"
    SUBJECT = "subject"
    """A value of the person, not of a side (e.g. pain reported)."""


class Population(StrEnum):
    """Which sex-specific reference to use; ``unknown`` uses the wider range when a source splits."""

    UNKNOWN = "unknown"
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class Level:
    severity: Severity
    label: str
    low: float | None = None
    high: float | None = None
    limit: float | None = None


@dataclass(frozen=True)
class Threshold:
    id: str
    metric: str
    title: str
    unit: str
    protocol: str
    comparison: ComparisonKind
    side_handling: SideHandling
    population: str
    source: str
    levels_by_population: dict[str, tuple[Level, ...]] = field(default_factory=dict)
    findings: dict[str, str] = field(default_factory=dict)
    """Direction (``above``, ``below``, ``flag``) → finding code."""
    findings_by_severity: dict[str, str] = field(default_factory=dict)
    """Severity → finding code, overriding ``findings`` (a structural sign is its own finding)."""
    direction_text: dict[str, str] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()
    reason: str = ""
    reference: dict[str, Any] | None = None
    derived: dict[str, Any] | None = None

    def levels(self, population: Population = Population.UNKNOWN) -> tuple[Level, ...]:
        """Levels in increasing severity for ``population`` (falls back to the generic levels)."""
        for key in (population.value, Population.UNKNOWN.value, "all"):
            if key in self.levels_by_population:
                return self.levels_by_population[key]
        return ()

    def reference_band(self, population: Population = Population.UNKNOWN) -> tuple[float, float] | None:
        """The mildest level as a band (low, high) of values that raise no finding, NaN for an
        open end (``above`` / ``at_least``: no low; ``below``: no high); None when the threshold
        has no levels with numbers (flags, reference-only and not-available entries)."""
        levels = self.levels(population)
        if not levels:
            return None
        level = levels[0]
        if level.low is not None or level.high is not None:
            return (math.nan if level.low is None else level.low, math.nan if level.high is None else level.high)
        if level.limit is None:
            return None
        if self.comparison in (ComparisonKind.ABOVE, ComparisonKind.AT_LEAST):
            return (math.nan, level.limit)
        if self.comparison is ComparisonKind.BELOW:
            return (level.limit, math.nan)
        return None

    def finding_code(self, direction: str, severity: Severity) -> str:
        return self.findings_by_severity.get(severity.value) or self.findings[direction]

    @property
    def finding_codes(self) -> set[str]:
        return set(self.findings.values()) | set(self.findings_by_severity.values())


@dataclass(frozen=True)
class DerivedMetric:
    name: str
    minuend: str
    subtrahend: str
    unit: str
    source: str


@dataclass(frozen=True)
class StrideRule:
    """How many used strides a measurement's mean needs for each confidence level."""

    medium: int
    high: int

    def level(self, n_strides: int) -> Confidence:
        if n_strides >= self.high:
            return Confidence.HIGH
        return Confidence.MEDIUM if n_strides >= self.medium else Confidence.LOW


@dataclass(frozen=True)
class ConfidenceRules:
    min_strides_default: StrideRule
    min_strides_by_metric: dict[str, StrideRule]
    calibration_quality_to_confidence: dict[str, Confidence]
    source: str
    min_strides_source: str
    strides_per_10m_pass: int

    def stride_rule(self, metric: str | None) -> StrideRule:
        """The measurement's rule (``min_strides.by_metric``), else the default."""
        return self.min_strides_by_metric.get(metric or "", self.min_strides_default)


@dataclass(frozen=True)
class ThresholdSet:
    format_version: int
    sources: dict[str, dict[str, Any]]
    thresholds: tuple[Threshold, ...]
    confidence: ConfidenceRules
    derived_metrics: tuple[DerivedMetric, ...]

    def for_metric(self, metric: str) -> list[Threshold]:
        return [t for t in self.thresholds if t.metric == metric]

    def citation(self, source_id: str) -> str:
        return self.sources[source_id]["citation"]

    @property
    def finding_codes(self) -> set[str]:
        return set().union(*(t.finding_codes for t in self.thresholds))


def require(doc: dict, key: str, where: str) -> Any:
    if key not in doc or doc[key] in (None, ""):
        raise ValidationError(f"{where}: missing '{key}'")
    return doc[key]


def check_header(doc: dict, schema: str, name: str) -> None:
    if doc.get("schema") != schema:
        raise ValidationError(f"{name}: schema is {doc.get('schema')!r}, expected {schema!r}")
    if doc.get("format_version") != SUPPORTED_FORMAT_VERSION:
        raise ValidationError(f"{name}: format_version {doc.get('format_version')!r} is not supported "
                              f"(this imugait reads {SUPPORTED_FORMAT_VERSION})")
    for key, source in require(doc, "sources", name).items():
        require(source, "citation", f"{name}: source {key}")
        require(source, "population", f"{name}: source {key}")


def check_source(entry: dict, sources: dict, where: str, key: str = "source") -> str:
    source = require(entry, key, where)
    if source not in sources:
        raise ValidationError(f"{where}: {key} {source!r} is not one of the file's sources ({', '.join(sources)})")
    return source


def _stride_rule(raw: dict, where: str) -> StrideRule:
    medium, high = int(require(raw, "medium", where)), int(require(raw, "high", where))
    if not 1 <= medium <= high:
        raise ValidationError(f"{where}: needs 1 <= medium <= high strides, got medium {medium}, high {high}")
    return StrideRule(medium, high)


def _level(raw: dict, where: str) -> Level:
    try:
        severity = Severity(require(raw, "severity", where))
    except ValueError:
        raise ValidationError(f"{where}: unknown severity {raw['severity']!r}") from None
    return Level(severity, require(raw, "label", where), raw.get("low"), raw.get("high"), raw.get("limit"))


def _threshold(raw: dict, sources: dict) -> Threshold:
    tid = require(raw, "id", "thresholds.json threshold")
    where = f"thresholds.json: threshold {tid}"
    try:
        comparison = ComparisonKind(require(raw, "comparison", where))
        side_handling = SideHandling(require(raw, "side_handling", where))
    except ValueError as exc:
        raise ValidationError(f"{where}: {exc}") from None
    levels: dict[str, tuple[Level, ...]] = {}
    if "levels" in raw:
        levels["all"] = tuple(_level(x, where) for x in raw["levels"])
    for pop, items in raw.get("levels_by_population", {}).items():
        if pop not in {p.value for p in Population}:
            raise ValidationError(f"{where}: unknown population key {pop!r}")
        levels[pop] = tuple(_level(x, where) for x in items)
    for pop, items in levels.items():
        ranks = [lv.severity.rank for lv in items]
        if ranks != sorted(ranks):
            raise ValidationError(f"{where}: levels ({pop}) must be in increasing severity")
    comparing = comparison not in (ComparisonKind.REFERENCE_ONLY, ComparisonKind.NOT_AVAILABLE)
    if comparing and (not levels or not raw.get("findings")):
        raise ValidationError(f"{where}: a '{comparison.value}' threshold needs levels and findings")
    if comparison is ComparisonKind.NOT_AVAILABLE:
        require(raw, "reason", where)
    if comparison is ComparisonKind.REFERENCE_ONLY:
        require(raw, "reference", where)
    return Threshold(
        id=tid, metric=require(raw, "metric", where), title=require(raw, "title", where), unit=raw.get("unit", ""),
        protocol=require(raw, "protocol", where), comparison=comparison, side_handling=side_handling,
        population=require(raw, "population", where), source=check_source(raw, sources, where),
        levels_by_population=levels, findings=dict(raw.get("findings", {})),
        findings_by_severity=dict(raw.get("findings_by_severity", {})), direction_text=dict(raw.get("direction_text", {})),
        caveats=tuple(raw.get("caveats", ())), reason=raw.get("reason", ""), reference=raw.get("reference"),
        derived=raw.get("derived"),
    )


def parse_thresholds(doc: dict[str, Any]) -> ThresholdSet:
    """Validate a thresholds document (the content of thresholds.json) and build the set."""
    check_header(doc, "imugait.thresholds", THRESHOLDS_FILE)
    sources = doc["sources"]
    thresholds = tuple(_threshold(raw, sources) for raw in require(doc, "thresholds", THRESHOLDS_FILE))
    ids = [t.id for t in thresholds]
    if len(ids) != len(set(ids)):
        raise ValidationError(f"{THRESHOLDS_FILE}: duplicate threshold ids")
    rules = require(doc, "confidence_rules", THRESHOLDS_FILE)
    where = f"{THRESHOLDS_FILE}: confidence_rules"
    min_strides = require(rules, "min_strides", where)
    confidence = ConfidenceRules(
        min_strides_default=_stride_rule(require(min_strides, "default", f"{where}.min_strides"), f"{where}.min_strides.default"),
        min_strides_by_metric={metric: _stride_rule(raw, f"{where}.min_strides.by_metric.{metric}")
                               for metric, raw in min_strides.get("by_metric", {}).items()},
        calibration_quality_to_confidence=parse_calibration_confidence(rules["calibration_quality_to_confidence"]),
        source=check_source(rules, sources, where),
        min_strides_source=check_source(rules, sources, where, key="min_strides_source"),
        strides_per_10m_pass=int(require(rules, "strides_per_10m_pass", where)),
    )
    derived = tuple(
        DerivedMetric(d["name"], d["minuend"], d["subtrahend"], d["unit"],
                      check_source(d, sources, f"{THRESHOLDS_FILE}: derived metric {d.get('name')}"))
        for d in doc.get("derived_metrics", ())
    )
    return ThresholdSet(doc["format_version"], sources, thresholds, confidence, derived)
