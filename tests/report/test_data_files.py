"""The data files: every entry sourced, cross-references valid, derived numbers reproducible."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from imugait.data import load_csv, load_json
from imugait.errors import ValidationError
from imugait.report.drill_data import load_report_data, parse_drill_rules, parse_drills
from imugait.report.thresholds import ComparisonKind, parse_thresholds


def test_every_threshold_has_a_known_source_and_population():
    doc = load_json("thresholds.json")
    for t in doc["thresholds"]:
        assert t["source"] in doc["sources"], t["id"]
        assert t["population"], t["id"]
    for key, source in doc["sources"].items():
        assert source["citation"] and source["population"], key
    data = load_report_data()
    assert len(data.thresholds.thresholds) == len(doc["thresholds"])


def test_every_drill_has_a_source_dose_and_contraindication_advice():
    doc = load_json("drills.json")
    ids = {d["id"] for d in doc["drills"]}
    required = {"kneeling_hip_flexor_stretch", "adductor_stretch", "tfl_it_band_lean", "figure_4_stretch",
                "banded_clamshell", "side_lying_leg_raise", "banded_lateral_walk", "glute_bridge", "bird_dog",
                "mindful_squat_band", "gait_awareness", "single_leg_balance", "posture_ergonomics"}
    assert required <= ids
    for d in doc["drills"]:
        assert d["source"] in doc["sources"], d["id"]
        assert d["purpose"] and d["steps"] and d["dose"]["text"] and d["addresses"], d["id"]
    assert doc["general_contraindications"]


def test_rules_and_programme_are_sourced():
    doc = load_json("drill_rules.json")
    for rule in doc["rules"]:
        assert rule["source"] in doc["sources"]
    for part in ("programme", "referral", "disclaimer"):
        assert doc[part]["source"] in doc["sources"]
        assert doc[part]["population"]
    assert doc["programme"]["sessions_per_week"] == [3, 5]


def test_every_finding_maps_to_a_drill_or_a_referral():
    data = load_report_data()
    referred = {code for t in data.rules.triggers if t.kind == "refer" for code in t.findings}
    for code in data.thresholds.finding_codes:
        assert code in data.rules.rules or code in referred, code
    for code, rule in data.rules.rules.items():
        assert rule.drills, code
        for drill_id in rule.drills:
            assert code in data.drills.drills[drill_id].addresses, (code, drill_id)


def test_structural_sign_leads_to_a_professional_not_to_drills():
    data = load_report_data()
    refer_codes = {t.finding_code("above", lv.severity) for t in data.thresholds.thresholds
                   for lv in t.levels() if lv.severity.value == "refer" and t.findings.get("above")}
    assert "hip_structural_rotation_sign" in refer_codes
    assert "hip_structural_rotation_sign" not in data.rules.rules


def test_derived_hip_rotation_band_is_reproducible_from_the_normative_file():
    t = next(t for t in load_report_data().thresholds.thresholds if t.id == "gait_hip_rotation_mean")
    curves = load_csv("normative_gait_kinematics.csv")
    cycle = curves[curves["gait_cycle_pct"] < 100]
    centre, spread = cycle["hip_rotation_mean_deg"].mean(), cycle["hip_rotation_sd_deg"].mean()
    for k, level in enumerate(t.levels(), start=1):
        assert level.low == pytest.approx(round(centre - k * spread, 1), abs=0.051)
        assert level.high == pytest.approx(round(centre + k * spread, 1), abs=0.051)
    assert t.derived and "DERIVED" in " ".join(t.caveats)
    assert np.isfinite(centre)


def test_unverified_norms_are_marked_not_available_with_a_reason():
    data = load_report_data()
    na = [t for t in data.thresholds.thresholds if t.comparison is ComparisonKind.NOT_AVAILABLE]
    assert na and all("without a normative comparison" in t.reason for t in na)


def test_entry_without_a_source_is_refused():
    doc = copy.deepcopy(load_json("thresholds.json"))
    del doc["thresholds"][0]["source"]
    with pytest.raises(ValidationError, match="missing 'source'"):
        parse_thresholds(doc)
    doc = copy.deepcopy(load_json("drills.json"))
    doc["drills"][0]["source"] = "nowhere"
    with pytest.raises(ValidationError, match="not one of the file's sources"):
        parse_drills(doc)


def test_rule_naming_an_unknown_drill_is_refused():
    data = load_report_data()
    doc = copy.deepcopy(load_json("drill_rules.json"))
    doc["rules"][0]["drills"].append("handstand")
    with pytest.raises(ValidationError, match="unknown drills"):
        parse_drill_rules(doc, data.drills, data.thresholds)
