"""Measurements → findings → drills and referrals, on simulated walkers and hand-made measurements."""

from __future__ import annotations

from imugait.conventions import Side
from imugait.report.drill_data import load_report_data
from imugait.report.findings import Status
from imugait.report.measurements import Measurement, leg_confidence
from imugait.report.report import build_report
from imugait.report.thresholds import Confidence, Population, Severity

HIP = "hip_internal_rotation_gait"


def _codes(report, side=None):
    return {f.code for f in report.findings if side is None or f.side is side}


def test_internally_rotated_right_hip_gets_a_right_side_finding_and_drills(rotated_report):
    hip = [f for f in rotated_report.findings if f.metric == "hip_rotation_mean_deg"]
    assert [f.side for f in hip] == [Side.RIGHT]
    finding = hip[0]
    assert finding.code == HIP and finding.direction == "above"
    # the stride-count rule of the measurement (thresholds.json), the calibration being good
    rule = load_report_data().thresholds.confidence.stride_rule("hip_rotation_mean_deg")
    n = rotated_report.measurement("hip_rotation_mean_deg", Side.RIGHT).n
    assert finding.value > 10.0 and finding.confidence is rule.level(n)
    assert "schwartz" in finding.source and finding.citation.startswith("Schwartz")
    catalogue = load_report_data().drills.drills
    drills = rotated_report.programme.drills
    assert drills and all(d.drill.id in catalogue for d in drills)
    assert {"banded_clamshell", "glute_bridge", "gait_awareness"} <= {d.drill.id for d in drills}
    per_side = [d for d in drills if d.drill.per_side]
    assert per_side and all(d.emphasis_side is Side.RIGHT for d in per_side)
    assert "right side first with 3 sets" in per_side[0].dose_text
    assert rotated_report.programme.sessions_per_week == 3 and len(rotated_report.programme.schedule) == 3
    assert not rotated_report.programme.on_hold and not rotated_report.programme.referrals


def test_symmetric_normal_walker_has_no_hip_finding(normal_report):
    assert HIP not in _codes(normal_report)
    assert not [f for f in normal_report.findings if f.metric.startswith("hip_rotation")]
    hip = [c for c in normal_report.comparisons if c.threshold_id == "gait_hip_rotation_mean"]
    assert {c.side for c in hip} == {Side.LEFT, Side.RIGHT} and all(c.status is Status.WITHIN for c in hip)


def test_every_finding_gets_drills_or_a_referral(rotated_report):
    programme = rotated_report.programme
    assert not programme.unaddressed
    drilled = {code for d in programme.drills for code in d.findings}
    referred = {code for r in programme.referrals for code in r.findings}
    for f in rotated_report.findings:
        assert f.code in drilled or f.code in referred


def test_side_difference_is_shown_without_a_normative_comparison(rotated_report):
    diff = next(c for c in rotated_report.comparisons if c.threshold_id == "gait_hip_rotation_side_difference")
    assert diff.status is Status.NOT_AVAILABLE and diff.quantity == "right_minus_left"
    assert diff.value > 10.0 and "without a normative comparison" in diff.reference_text


def test_confidence_is_lowered_by_poor_calibration_or_few_strides():
    rules = load_report_data().thresholds.confidence
    assert leg_confidence("good", 30, rules)[0] is Confidence.HIGH
    assert leg_confidence("fair", 30, rules)[0] is Confidence.MEDIUM
    assert leg_confidence("poor", 30, rules)[0] is Confidence.LOW
    confidence, reason = leg_confidence("good", 6, rules)  # the default rule: medium from 10 strides
    assert confidence is Confidence.LOW and "6 strides" in reason


def test_few_strides_give_a_low_confidence_finding():
    m = Measurement("hip_rotation_mean_deg", Side.LEFT, 20.0, "deg", n=4, confidence=Confidence.LOW,
                    confidence_reason="only 4 strides used")
    report = build_report(measurements=[m], subject_id="s1")
    (finding,) = report.findings
    assert finding.severity is Severity.MARKED and finding.confidence is Confidence.LOW
    assert "4 strides" in finding.confidence_reason
    assert any(r.kind == "consider" for r in report.programme.referrals)  # well outside: check for a bony cause


def test_structural_sign_refers_and_adds_no_drills_for_it():
    ms = [Measurement("prone_internal_rotation_range_deg", Side.LEFT, 70.0, "deg", protocol="prone_hip_rotation"),
          Measurement("prone_external_rotation_range_deg", Side.LEFT, 20.0, "deg", protocol="prone_hip_rotation")]
    report = build_report(measurements=ms, subject_id="s2")
    derived = report.measurement("prone_internal_minus_external_rotation_deg", Side.LEFT)
    assert derived is not None and derived.value == 50.0
    (finding,) = report.findings
    assert finding.code == "hip_structural_rotation_sign" and finding.refer
    assert report.programme.must_refer and not report.programme.drills
    reference = [c for c in report.comparisons if c.status is Status.REFERENCE]
    assert {c.metric for c in reference} == {"prone_internal_rotation_range_deg",
                                             "prone_external_rotation_range_deg"}


def test_internal_rotation_dominance_below_the_structural_sign_gets_drills():
    ms = [Measurement("prone_internal_rotation_range_deg", Side.RIGHT, 50.0, "deg"),
          Measurement("prone_external_rotation_range_deg", Side.RIGHT, 30.0, "deg")]
    report = build_report(measurements=ms, subject_id="s3")
    assert _codes(report, Side.RIGHT) == {"hip_internal_rotation_dominant"}
    assert report.programme.drills and not report.programme.must_refer


def test_reported_pain_puts_the_programme_on_hold(rotated_analysis):
    report = build_report(rotated_analysis, pain_reported=True)
    assert "pain_reported" in _codes(report)
    assert report.programme.must_refer and report.programme.on_hold
    assert report.findings[0].code == "pain_reported"  # most severe first


def test_knee_valgus_reference_depends_on_the_population():
    m = Measurement("knee_valgus_stance_peak_deg", Side.LEFT, 10.5, "deg", n=12)
    assert not build_report(measurements=[m], subject_id="s4").findings  # unknown: wider range, up to 12°
    male = build_report(measurements=[m], subject_id="s4", population=Population.MALE)
    (finding,) = male.findings
    assert finding.code == "knee_valgus_dynamic" and "approximate" in " ".join(finding.caveats).lower()


def test_stance_asymmetry_uses_the_symmetry_index_convention():
    ms = [Measurement("stance_pct", Side.LEFT, 54.0, "%", n=12), Measurement("stance_pct", Side.RIGHT, 66.0, "%", n=12)]
    report = build_report(measurements=ms, subject_id="s5")
    (finding,) = report.findings
    assert finding.code == "gait_timing_asymmetry" and finding.side is None and finding.value > 10.0
    assert "convention" in finding.reference_text


def test_assessment_metrics_plug_in_by_name():
    from types import SimpleNamespace

    from imugait.report.measurements import measurements_from_metrics

    metric = SimpleNamespace(protocol=SimpleNamespace(value="single_leg_squat"), name="single_leg_squat_knee_valgus_peak_deg",
                             side=Side.RIGHT, value=15.0, n=5, confidence=SimpleNamespace(value="medium"), sd=2.0)
    (m,) = measurements_from_metrics([metric])
    assert m.unit == "deg" and m.confidence is Confidence.MEDIUM and m.protocol == "single_leg_squat"
    report = build_report(measurements=[m], subject_id="s6")
    assert _codes(report, Side.RIGHT) == {"knee_valgus_dynamic"} and report.programme.drills
