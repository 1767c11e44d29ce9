"""One Confidence and one calibration-quality → confidence mapping for the assessment and the report."""

from imugait.analysis.confidence import Confidence, calibration_confidence
from imugait.assessment.result import Confidence as AssessmentConfidence
from imugait.report.drill_data import load_report_data
from imugait.report.thresholds import Confidence as ReportConfidence


def test_one_enum_everywhere():
    assert AssessmentConfidence is Confidence and ReportConfidence is Confidence


def test_the_packaged_mapping_is_the_reports():
    rules = load_report_data().thresholds.confidence
    for quality in ("good", "fair", "poor", "unknown"):
        assert calibration_confidence(quality) is calibration_confidence(quality, rules.calibration_quality_to_confidence)
    assert [calibration_confidence(q) for q in ("good", "fair", "poor", "unknown")] == [
        Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW, Confidence.LOW]
