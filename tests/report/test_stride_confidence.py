"""The stride-count rule of a measurement's confidence is data (thresholds.json
``confidence_rules.min_strides``, measured by benchmarks/stride_count.py) and the report follows it."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from imugait.data import load_json
from imugait.errors import ValidationError
from imugait.report.drill_data import load_report_data
from imugait.report.measurements import leg_confidence, measurements_from_analysis
from imugait.report.report import build_report
from imugait.report.thresholds import Confidence, StrideRule, parse_thresholds

HIP = "hip_rotation_mean_deg"


def _rules(by_metric: dict, default: dict | None = None):
    doc = copy.deepcopy(load_json("thresholds.json"))
    doc["confidence_rules"]["min_strides"]["by_metric"] = by_metric
    if default is not None:
        doc["confidence_rules"]["min_strides"]["default"] = default
    return parse_thresholds(doc).confidence


def test_the_packaged_rule_is_per_measurement_and_sourced():
    rules = load_report_data().thresholds.confidence
    doc = load_json("thresholds.json")
    assert rules.min_strides_source == "imugait_stride_count"
    assert "benchmarks/stride_count.py" in doc["sources"]["imugait_stride_count"]["citation"]
    assert rules.stride_rule(HIP) == StrideRule(**doc["confidence_rules"]["min_strides"]["by_metric"][HIP])
    # a measurement without its own rule takes the default, the strictest of the measured ones
    assert rules.stride_rule("double_support_pct") == rules.min_strides_default
    assert rules.min_strides_default.medium == max(r.medium for r in rules.min_strides_by_metric.values())
    assert rules.min_strides_default.high == max(r.high for r in rules.min_strides_by_metric.values())


@pytest.mark.parametrize(("medium", "high", "expected"), [
    (13, 20, Confidence.LOW), (12, 20, Confidence.MEDIUM), (3, 12, Confidence.HIGH)])
def test_the_levels_come_from_the_data(medium, high, expected):
    rules = _rules({HIP: {"medium": medium, "high": high}}, default={"medium": 1, "high": 1})
    confidence, reason = leg_confidence("good", 12, rules, metric=HIP)
    assert confidence is expected
    assert (reason == "") is (expected is Confidence.HIGH)
    assert leg_confidence("good", 12, rules, metric="stance_pct")[0] is Confidence.HIGH  # the default: 1 stride


def test_a_fair_calibration_caps_at_medium_and_keeps_both_reasons():
    rules = _rules({HIP: {"medium": 4, "high": 10}})
    confidence, reason = leg_confidence("fair", 6, rules, metric=HIP)
    assert confidence is Confidence.MEDIUM
    assert reason.startswith("sensor calibration fair; 6 strides used, 10 give high confidence: record about 1 more")
    assert leg_confidence("poor", 30, rules, metric=HIP)[0] is Confidence.LOW


def test_the_reason_says_how_much_more_to_record():
    rules = _rules({HIP: {"medium": 7, "high": 19}})
    low = leg_confidence("good", 3, rules, metric=HIP)[1]
    assert low.startswith("only 3 strides used, fewer than 7: ") and "about 1 more 10-m pass (≈ 6" in low
    medium = leg_confidence("good", 7, rules, metric=HIP)[1]
    assert medium.startswith("7 strides used, 19 give high confidence: record about 2 more 10-m passes")


def test_an_inconsistent_rule_is_refused():
    with pytest.raises(ValidationError, match="medium <= high"):
        _rules({HIP: {"medium": 9, "high": 4}})
    doc = copy.deepcopy(load_json("thresholds.json"))
    doc["confidence_rules"]["min_strides_source"] = "nowhere"
    with pytest.raises(ValidationError, match="not one of the file's sources"):
        parse_thresholds(doc)


def test_the_report_follows_the_rule(normal_analysis):
    """The same analysis reads low, medium or high on a metric as its rule in the data changes."""
    data = load_report_data()
    n = int(normal_analysis.aggregates.query("metric == @HIP and side == 'left'")["n"].iloc[0])
    left_leg = next(leg for side, leg in normal_analysis.legs.items() if side.value == "left")
    assert n >= 3 and left_leg.calibration_quality == "good" and left_leg.trusted
    for medium, high, expected in ((n + 1, n + 2, "low"), (n, n + 1, "medium"), (1, n, "high")):
        rules = _rules({HIP: {"medium": medium, "high": high}}, default={"medium": 1, "high": 1})
        hip = [m for m in measurements_from_analysis(normal_analysis, rules) if m.name == HIP]
        left = next(m for m in hip if m.side.value == "left")
        assert left.confidence.value == expected, (medium, high)
        thresholds = replace(data.thresholds, confidence=rules)
        report = build_report(normal_analysis, data=replace(data, thresholds=thresholds),
                              generated_at="2026-01-02T10:00:00+00:00")
        shown = {(m.name, m.side): m.confidence for m in report.measurements}
        assert shown[(HIP, left.side)] is left.confidence
