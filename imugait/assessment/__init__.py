"""Guided assessment protocols: standing posture, walking, supine and prone hip rotation, squat,
single-leg balance — detection, quality checks and measured metrics (docs/assessment.md).

>>> from imugait.assessment import assess_session
>>> result = assess_session(session)          # doctest: +SKIP
>>> [(m.name, m.side, m.value) for m in result.metrics]  # doctest: +SKIP
"""

from imugait.assessment.battery import BATTERY, AssessmentConfig, ProtocolSpec, assess_session
from imugait.assessment.calibration import BatteryCalibration, calibrate_battery
from imugait.assessment.result import (
    AssessmentResult,
    Confidence,
    Metric,
    ProtocolResult,
    QualityIssue,
)
from imugait.assessment.steps import BATTERY_ORDER, Protocol

__all__ = [
    "BATTERY", "BATTERY_ORDER", "AssessmentConfig", "AssessmentResult", "BatteryCalibration", "Confidence",
    "Metric", "Protocol", "ProtocolResult", "ProtocolSpec", "QualityIssue", "assess_session", "calibrate_battery",
]
