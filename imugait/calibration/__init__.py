"""Calibration: intrinsic (per sensor: biases, scale, magnetometer) and sensor-to-segment.

Intrinsic calibration (``docs/calibration.md``):

>>> from imugait.calibration import CalibrationStore, calibrate_recording
>>> cal = calibrate_recording(stream)                      # doctest: +SKIP
>>> CalibrationStore("calibration").save(cal)              # doctest: +SKIP
>>> CalibrationStore("calibration").apply_to_session(session).session  # doctest: +SKIP

The guided, step-by-step version is :class:`~imugait.calibration.procedure.IntrinsicProcedure`.
"""

from imugait.calibration.imu_calibration import (
    CALIBRATION_FORMAT_VERSION,
    ImuCalibration,
    assemble_calibration,
    calibrate_recording,
)
from imugait.calibration.intrinsic import (
    AccCalibration,
    AccFitConfig,
    AccModel,
    GyroBias,
    StillSummary,
    estimate_gyro_bias,
    fit_accelerometer,
    group_positions,
    summarise_still,
)
from imugait.calibration.magnetometer import (
    MagCalibration,
    MagFitConfig,
    direction_coverage,
    fit_magnetometer,
)
from imugait.calibration.procedure import (
    IntrinsicProcedure,
    ProcedureConfig,
    ProcedureResult,
    Progress,
)
from imugait.calibration.steps import ProcedureStep, StepKind
from imugait.calibration.still import (
    StillConfig,
    StillPeriod,
    StillTracker,
    detect_still,
    detect_still_stream,
)
from imugait.calibration.store import (
    CalibratedSession,
    CalibrationStore,
    calibration_filename,
    read_calibration,
    write_calibration,
)

__all__ = [
    "CALIBRATION_FORMAT_VERSION",
    "AccCalibration",
    "AccFitConfig",
    "AccModel",
    "CalibratedSession",
    "CalibrationStore",
    "GyroBias",
    "ImuCalibration",
    "IntrinsicProcedure",
    "MagCalibration",
    "MagFitConfig",
    "ProcedureConfig",
    "ProcedureResult",
    "ProcedureStep",
    "Progress",
    "StepKind",
    "StillConfig",
    "StillPeriod",
    "StillSummary",
    "StillTracker",
    "assemble_calibration",
    "calibrate_recording",
    "calibration_filename",
    "detect_still",
    "detect_still_stream",
    "direction_coverage",
    "estimate_gyro_bias",
    "fit_accelerometer",
    "fit_magnetometer",
    "group_positions",
    "read_calibration",
    "summarise_still",
    "write_calibration",
]
