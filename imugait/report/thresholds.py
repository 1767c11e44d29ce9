"""Load and validate the report's data files: thresholds, the drill catalogue and the drill rules.

The clinical numbers live in ``imugait/data/{thresholds,drills,drill_rules}.json`` (versioned, each
entry with its source and population); this module turns them into frozen dataclasses and refuses
a file whose entries lack a source, name an unknown source, drill or finding, or use an unknown
comparison. Nothing here holds a clinical number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any

from imugait.analysis.confidence import Confidence, parse_calibration_confidence
from imugait.data import load_json
from imugait.errors import ValidationError

THRESHOLDS_FILE = "thresholds.json"
DRILLS_FILE = "drills.json"
DRILL_RULES_FILE = "drill_rules.json"
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


@dataclass(frozen=True)
class Drill:
    id: str
    name: str
    category: str
    purpose: str
    steps: tuple[str, ...]
    dose: dict[str, Any]
    cues: tuple[str, ...]
    addresses: tuple[str, ...]
    contraindications: tuple[str, ...]
    source: str
    progression: str = ""
    safety_source: str = ""

    @property
    def per_side(self) -> bool:
        return bool(self.dose.get("per_side"))


@dataclass(frozen=True)
class DrillCatalogue:
    format_version: int
    sources: dict[str, dict[str, Any]]
    drills: dict[str, Drill]
    general_contraindications: tuple[str, ...]


@dataclass(frozen=True)
class DrillRule:
    finding: str
    drills: tuple[str, ...]
    rationale: str
    source: str


@dataclass(frozen=True)
class ReferralTrigger:
    id: str
    text: str
    findings: tuple[str, ...]
    min_severity: Severity | None
    kind: str
    """``refer`` (see a professional first), ``consider``, or ``always_listed``."""
    holds_drills: bool = False
    """The drills wait until a professional has seen the person (e.g. pain)."""


@dataclass(frozen=True)
class DrillRules:
    format_version: int
    sources: dict[str, dict[str, Any]]
    rules: dict[str, DrillRule]
    programme: dict[str, Any]
    triggers: tuple[ReferralTrigger, ...]
    refer_message: str
    consider_message: str
    disclaimer: str
    disclaimer_source: str


REFERRAL_KINDS = ("refer", "consider", "always_listed")
CATEGORIES = ("mobility", "strength", "motor_control", "posture")


def _require(doc: dict, key: str, where: str) -> Any:
    if key not in doc or doc[key] in (None, ""):
        raise ValidationError(f"{where}: missing '{key}'")
    return doc[key]


def _check_header(doc: dict, schema: str, name: str) -> None:
    if doc.get("schema") != schema:
        raise ValidationError(f"{name}: schema is {doc.get('schema')!r}, expected {schema!r}")
    if doc.get("format_version") != SUPPORTED_FORMAT_VERSION:
        raise ValidationError(f"{name}: format_version {doc.get('format_version')!r} is not supported "
                              f"(this imugait reads {SUPPORTED_FORMAT_VERSION})")
    for key, source in _require(doc, "sources", name).items():
        _require(source, "citation", f"{name}: source {key}")
        _require(source, "population", f"{name}: source {key}")


def _check_source(entry: dict, sources: dict, where: str, key: str = "source") -> str:
    source = _require(entry, key, where)
    if source not in sources:
        raise ValidationError(f"{where}: {key} {source!r} is not one of the file's sources ({', '.join(sources)})")
    return source


def _stride_rule(raw: dict, where: str) -> StrideRule:
    medium, high = int(_require(raw, "medium", where)), int(_require(raw, "high", where))
    if not 1 <= medium <= high:
        raise ValidationError(f"{where}: needs 1 <= medium <= high strides, got medium {medium}, high {high}")
    return StrideRule(medium, high)


def _level(raw: dict, where: str) -> Level:
    try:
        severity = Severity(_require(raw, "severity", where))
    except ValueError:
        raise ValidationError(f"{where}: unknown severity {raw['severity']!r}") from None
    return Level(severity, _require(raw, "label", where), raw.get("low"), raw.get("high"), raw.get("limit"))


def _threshold(raw: dict, sources: dict) -> Threshold:
    tid = _require(raw, "id", "thresholds.json threshold")
    where = f"thresholds.json: threshold {tid}"
    try:
        comparison = ComparisonKind(_require(raw, "comparison", where))
        side_handling = SideHandling(_require(raw, "side_handling", where))
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
        _require(raw, "reason", where)
    if comparison is ComparisonKind.REFERENCE_ONLY:
        _require(raw, "reference", where)
    return Threshold(
        id=tid, metric=_require(raw, "metric", where), title=_require(raw, "title", where), unit=raw.get("unit", ""),
        protocol=_require(raw, "protocol", where), comparison=comparison, side_handling=side_handling,
        population=_require(raw, "population", where), source=_check_source(raw, sources, where),
        levels_by_population=levels, findings=dict(raw.get("findings", {})),
        findings_by_severity=dict(raw.get("findings_by_severity", {})), direction_text=dict(raw.get("direction_text", {})),
        caveats=tuple(raw.get("caveats", ())), reason=raw.get("reason", ""), reference=raw.get("reference"),
        derived=raw.get("derived"),
    )


def parse_thresholds(doc: dict[str, Any]) -> ThresholdSet:
    """Validate a thresholds document (the content of thresholds.json) and build the set."""
    _check_header(doc, "imugait.thresholds", THRESHOLDS_FILE)
    sources = doc["sources"]
    thresholds = tuple(_threshold(raw, sources) for raw in _require(doc, "thresholds", THRESHOLDS_FILE))
    ids = [t.id for t in thresholds]
    if len(ids) != len(set(ids)):
        raise ValidationError(f"{THRESHOLDS_FILE}: duplicate threshold ids")
    rules = _require(doc, "confidence_rules", THRESHOLDS_FILE)
    where = f"{THRESHOLDS_FILE}: confidence_rules"
    min_strides = _require(rules, "min_strides", where)
    confidence = ConfidenceRules(
        min_strides_default=_stride_rule(_require(min_strides, "default", f"{where}.min_strides"), f"{where}.min_strides.default"),
        min_strides_by_metric={metric: _stride_rule(raw, f"{where}.min_strides.by_metric.{metric}")
                               for metric, raw in min_strides.get("by_metric", {}).items()},
        calibration_quality_to_confidence=parse_calibration_confidence(rules["calibration_quality_to_confidence"]),
        source=_check_source(rules, sources, where),
        min_strides_source=_check_source(rules, sources, where, key="min_strides_source"),
        strides_per_10m_pass=int(_require(rules, "strides_per_10m_pass", where)),
    )
    derived = tuple(
        DerivedMetric(d["name"], d["minuend"], d["subtrahend"], d["unit"],
                      _check_source(d, sources, f"{THRESHOLDS_FILE}: derived metric {d.get('name')}"))
        for d in doc.get("derived_metrics", ())
    )
    return ThresholdSet(doc["format_version"], sources, thresholds, confidence, derived)


def parse_drills(doc: dict[str, Any]) -> DrillCatalogue:
    _check_header(doc, "imugait.drills", DRILLS_FILE)
    sources = doc["sources"]
    drills: dict[str, Drill] = {}
    for raw in _require(doc, "drills", DRILLS_FILE):
        did = _require(raw, "id", f"{DRILLS_FILE} drill")
        where = f"{DRILLS_FILE}: drill {did}"
        if did in drills:
            raise ValidationError(f"{where}: duplicate id")
        if raw.get("category") not in CATEGORIES:
            raise ValidationError(f"{where}: category {raw.get('category')!r} is not one of {CATEGORIES}")
        dose = _require(raw, "dose", where)
        _require(dose, "text", f"{where}: dose")
        drills[did] = Drill(
            id=did, name=_require(raw, "name", where), category=raw["category"], purpose=_require(raw, "purpose", where),
            steps=tuple(_require(raw, "steps", where)), dose=dose, cues=tuple(raw.get("cues", ())),
            addresses=tuple(_require(raw, "addresses", where)), contraindications=tuple(raw.get("contraindications", ())),
            source=_check_source(raw, sources, where), progression=raw.get("progression", ""),
            safety_source=_check_source(raw, sources, where, "safety_source") if "safety_source" in raw else "",
        )
    return DrillCatalogue(doc["format_version"], sources, drills, tuple(doc.get("general_contraindications", ())))


def parse_drill_rules(doc: dict[str, Any], catalogue: DrillCatalogue, thresholds: ThresholdSet) -> DrillRules:
    """Validate the rules against the catalogue (drill ids) and the thresholds (finding codes)."""
    _check_header(doc, "imugait.drill_rules", DRILL_RULES_FILE)
    sources = doc["sources"]
    known_findings = thresholds.finding_codes
    rules: dict[str, DrillRule] = {}
    for raw in _require(doc, "rules", DRILL_RULES_FILE):
        code = _require(raw, "finding", f"{DRILL_RULES_FILE} rule")
        where = f"{DRILL_RULES_FILE}: rule for {code}"
        if code not in known_findings:
            raise ValidationError(f"{where}: no threshold produces the finding {code!r}")
        unknown = [d for d in raw["drills"] if d not in catalogue.drills]
        if unknown:
            raise ValidationError(f"{where}: unknown drills {unknown}")
        rules[code] = DrillRule(code, tuple(raw["drills"]), _require(raw, "rationale", where), _check_source(raw, sources, where))
    programme = _require(doc, "programme", DRILL_RULES_FILE)
    _check_source(programme, sources, f"{DRILL_RULES_FILE}: programme")
    _require(programme, "population", f"{DRILL_RULES_FILE}: programme")
    referral = _require(doc, "referral", DRILL_RULES_FILE)
    _check_source(referral, sources, f"{DRILL_RULES_FILE}: referral")
    triggers = []
    for raw in referral["triggers"]:
        where = f"{DRILL_RULES_FILE}: referral trigger {raw.get('id')}"
        if raw.get("kind") not in REFERRAL_KINDS:
            raise ValidationError(f"{where}: kind must be one of {REFERRAL_KINDS}")
        unknown = [f for f in raw.get("findings", ()) if f not in known_findings]
        if unknown:
            raise ValidationError(f"{where}: unknown findings {unknown}")
        severity = Severity(raw["min_severity"]) if raw.get("min_severity") else None
        triggers.append(ReferralTrigger(raw["id"], raw["text"], tuple(raw.get("findings", ())), severity, raw["kind"],
                                        bool(raw.get("holds_drills", False))))
    disclaimer = _require(doc, "disclaimer", DRILL_RULES_FILE)
    return DrillRules(
        format_version=doc["format_version"], sources=sources, rules=rules, programme=programme,
        triggers=tuple(triggers), refer_message=referral["refer_message"], consider_message=referral["consider_message"],
        disclaimer=_require(disclaimer, "text", f"{DRILL_RULES_FILE}: disclaimer"),
        disclaimer_source=_check_source(disclaimer, sources, f"{DRILL_RULES_FILE}: disclaimer"),
    )


@dataclass(frozen=True)
class ReportData:
    """The three data files, validated against each other."""

    thresholds: ThresholdSet
    drills: DrillCatalogue
    rules: DrillRules


@cache
def load_report_data() -> ReportData:
    """The packaged data files (cached)."""
    thresholds = parse_thresholds(load_json(THRESHOLDS_FILE))
    drills = parse_drills(load_json(DRILLS_FILE))
    return ReportData(thresholds, drills, parse_drill_rules(load_json(DRILL_RULES_FILE), drills, thresholds))
