"""The drill catalogue and the drill rules (``imugait/data/{drills,drill_rules}.json``): loaded,
validated against each other and against the thresholds' finding codes; and the three report data
files together (:func:`load_report_data`). Nothing here holds a clinical number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from imugait.data import load_json
from imugait.errors import ValidationError
from imugait.report.thresholds import (
    THRESHOLDS_FILE,
    Severity,
    ThresholdSet,
    check_header,
    check_source,
    parse_thresholds,
    require,
)

DRILLS_FILE = "drills.json"
DRILL_RULES_FILE = "drill_rules.json"


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



def parse_drills(doc: dict[str, Any]) -> DrillCatalogue:
    check_header(doc, "imugait.drills", DRILLS_FILE)
    sources = doc["sources"]
    drills: dict[str, Drill] = {}
    for raw in require(doc, "drills", DRILLS_FILE):
        did = require(raw, "id", f"{DRILLS_FILE} drill")
        where = f"{DRILLS_FILE}: drill {did}"
        if did in drills:
            raise ValidationError(f"{where}: duplicate id")
        if raw.get("category") not in CATEGORIES:
            raise ValidationError(f"{where}: category {raw.get('category')!r} is not one of {CATEGORIES}")
        dose = require(raw, "dose", where)
        require(dose, "text", f"{where}: dose")
        drills[did] = Drill(
            id=did, name=require(raw, "name", where), category=raw["category"], purpose=require(raw, "purpose", where),
            steps=tuple(require(raw, "steps", where)), dose=dose, cues=tuple(raw.get("cues", ())),
            addresses=tuple(require(raw, "addresses", where)), contraindications=tuple(raw.get("contraindications", ())),
            source=check_source(raw, sources, where), progression=raw.get("progression", ""),
            safety_source=check_source(raw, sources, where, "safety_source") if "safety_source" in raw else "",
        )
    return DrillCatalogue(doc["format_version"], sources, drills, tuple(doc.get("general_contraindications", ())))


def parse_drill_rules(doc: dict[str, Any], catalogue: DrillCatalogue, thresholds: ThresholdSet) -> DrillRules:
    """Validate the rules against the catalogue (drill ids) and the thresholds (finding codes)."""
    check_header(doc, "imugait.drill_rules", DRILL_RULES_FILE)
    sources = doc["sources"]
    known_findings = thresholds.finding_codes
    rules: dict[str, DrillRule] = {}
    for raw in require(doc, "rules", DRILL_RULES_FILE):
        code = require(raw, "finding", f"{DRILL_RULES_FILE} rule")
        where = f"{DRILL_RULES_FILE}: rule for {code}"
        if code not in known_findings:
            raise ValidationError(f"{where}: no threshold produces the finding {code!r}")
        unknown = [d for d in raw["drills"] if d not in catalogue.drills]
        if unknown:
            raise ValidationError(f"{where}: unknown drills {unknown}")
        rules[code] = DrillRule(code, tuple(raw["drills"]), require(raw, "rationale", where), check_source(raw, sources, where))
    programme = require(doc, "programme", DRILL_RULES_FILE)
    check_source(programme, sources, f"{DRILL_RULES_FILE}: programme")
    require(programme, "population", f"{DRILL_RULES_FILE}: programme")
    referral = require(doc, "referral", DRILL_RULES_FILE)
    check_source(referral, sources, f"{DRILL_RULES_FILE}: referral")
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
    disclaimer = require(doc, "disclaimer", DRILL_RULES_FILE)
    return DrillRules(
        format_version=doc["format_version"], sources=sources, rules=rules, programme=programme,
        triggers=tuple(triggers), refer_message=referral["refer_message"], consider_message=referral["consider_message"],
        disclaimer=require(disclaimer, "text", f"{DRILL_RULES_FILE}: disclaimer"),
        disclaimer_source=check_source(disclaimer, sources, f"{DRILL_RULES_FILE}: disclaimer"),
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
