"""One sensor's intrinsic calibration (:class:`ImuCalibration`) and how it corrects a stream.

Corrections, all in the sensor frame::

    gyr = gyr_raw - gyr_bias_radps
    acc = acc_correction @ (acc_raw - acc_bias_mps2)
    mag = mag_soft_iron @ (mag_raw - mag_hard_iron_uT)

:func:`calibrate_recording` computes one offline from any recording of the procedure (still
positions, then a rotation); :mod:`imugait.calibration.procedure` does the same step by step.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace

import numpy as np

from imugait import __version__
from imugait.calibration.intrinsic import (
    AccCalibration,
    AccFitConfig,
    GyroBias,
    estimate_gyro_bias,
    fit_accelerometer,
    summarise_still,
)
from imugait.calibration.magnetometer import MagCalibration, MagFitConfig, fit_magnetometer
from imugait.calibration.still import StillConfig, detect_still
from imugait.errors import CalibrationError, ValidationError
from imugait.model import ImuStream

CALIBRATION_FORMAT_VERSION = 1
"""Version of :class:`ImuCalibration`'s fields and their JSON form (``store.py``)."""

_UNKNOWN_DEVICE = "unknown"


@dataclass(frozen=True, eq=False)
class ImuCalibration:
    """Intrinsic calibration of one device (gyroscope bias, accelerometer, magnetometer).

    Attributes
    ----------
    device_id : the ``DeviceInfo.device_id`` it belongs to.
    created_at : ISO 8601 date-time of the calibration.
    gyr_bias_radps : (3,) rad/s, sensor frame.
    acc_bias_mps2 : (3,) m/s², sensor frame.
    acc_correction : (3, 3) raw → corrected (scale and misalignment), dimensionless.
    acc_model : ``"scale"`` or ``"scale_misalignment"`` (see ``AccModel``).
    acc_residual_rms_mps2 : RMS over positions of ``|corrected| - g``, m/s².
    n_positions : distinct still positions used for the accelerometer.
    still_s : seconds of still data used for the gyroscope bias.
    mag_hard_iron_uT : (3,) µT (zeros when the magnetometer was not calibrated).
    mag_soft_iron : (3, 3) raw → corrected (identity when not calibrated).
    mag_field_uT, mag_residual_rms_uT, mag_coverage : fit diagnostics, None when not calibrated.
    software_version : imugait version that computed it.
    format_version : :data:`CALIBRATION_FORMAT_VERSION`.
    """

    device_id: str
    created_at: str
    gyr_bias_radps: np.ndarray
    acc_bias_mps2: np.ndarray
    acc_correction: np.ndarray
    acc_model: str
    acc_residual_rms_mps2: float
    n_positions: int
    still_s: float
    mag_hard_iron_uT: np.ndarray = field(default_factory=lambda: np.zeros(3))
    mag_soft_iron: np.ndarray = field(default_factory=lambda: np.eye(3))
    mag_field_uT: float | None = None
    mag_residual_rms_uT: float | None = None
    mag_coverage: float | None = None
    software_version: str = __version__
    format_version: int = CALIBRATION_FORMAT_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.device_id, str) or not self.device_id.strip():
            raise ValidationError("an ImuCalibration needs a non-empty device_id")
        try:
            _dt.datetime.fromisoformat(self.created_at)
        except (TypeError, ValueError):
            raise ValidationError(f"created_at must be an ISO 8601 date-time, got {self.created_at!r}") from None
        for name, shape in (
            ("gyr_bias_radps", (3,)), ("acc_bias_mps2", (3,)), ("acc_correction", (3, 3)),
            ("mag_hard_iron_uT", (3,)), ("mag_soft_iron", (3, 3)),
        ):
            arr = np.array(getattr(self, name), dtype=float)
            if arr.shape != shape or not np.all(np.isfinite(arr)):
                raise ValidationError(f"ImuCalibration.{name} must be finite with shape {shape}, got {arr.shape}")
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        for name in ("acc_correction", "mag_soft_iron"):
            if abs(np.linalg.det(getattr(self, name))) < 1e-6:
                raise ValidationError(f"ImuCalibration.{name} is singular")

    @property
    def mag_calibrated(self) -> bool:
        return self.mag_residual_rms_uT is not None

    def apply(self, stream: ImuStream, check_device: bool = True) -> ImuStream:
        """The stream with corrected accelerometer, gyroscope and magnetometer; same times.

        Parameters
        ----------
        stream : raw stream of this device.
        check_device : refuse a stream whose ``device.device_id`` is known and differs.

        Raises
        ------
        CalibrationError
            The stream comes from another device.
        """
        other = stream.device.device_id
        if check_device and other not in (_UNKNOWN_DEVICE, self.device_id):
            raise CalibrationError(
                f"{stream.placement.value}: the calibration of device {self.device_id!r} cannot be "
                f"applied to data from device {other!r}"
            )
        mag = stream.mag_uT
        if mag is not None and self.mag_calibrated:
            mag = (mag - self.mag_hard_iron_uT) @ self.mag_soft_iron.T
        return replace(
            stream,
            acc_mps2=(stream.acc_mps2 - self.acc_bias_mps2) @ self.acc_correction.T,
            gyr_radps=stream.gyr_radps - self.gyr_bias_radps,
            mag_uT=mag,
        )


def assemble_calibration(
    device_id: str,
    gyro: GyroBias,
    acc: AccCalibration,
    mag: MagCalibration | None,
    created_at: str | None = None,
) -> ImuCalibration:
    """Put the three fits together (``created_at`` defaults to now, UTC)."""
    created = created_at or _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    extra = {}
    if mag is not None:
        extra = dict(
            mag_hard_iron_uT=mag.hard_iron_uT, mag_soft_iron=mag.soft_iron, mag_field_uT=mag.field_uT,
            mag_residual_rms_uT=mag.residual_rms_uT, mag_coverage=mag.coverage,
        )
    return ImuCalibration(
        device_id=device_id, created_at=created, gyr_bias_radps=gyro.gyr_bias_radps,
        acc_bias_mps2=acc.acc_bias_mps2, acc_correction=acc.acc_correction, acc_model=acc.model.value,
        acc_residual_rms_mps2=acc.residual_rms_mps2, n_positions=acc.n_positions, still_s=gyro.still_s,
        **extra,
    )


def calibrate_recording(
    stream: ImuStream,
    still: StillConfig | None = None,
    acc: AccFitConfig | None = None,
    mag: MagFitConfig | None = None,
    with_mag: bool = True,
    device_id: str | None = None,
    created_at: str | None = None,
) -> ImuCalibration:
    """Offline intrinsic calibration from a recording of still positions plus a rotation.

    Still periods give the gyroscope bias and the accelerometer positions; the magnetometer is fitted
    to the samples between and after them (where the sensor moves). ``with_mag=False`` or a stream
    without magnetometer leaves it uncalibrated. Configs default to their defaults; ``device_id``
    to the stream's.
    """
    still, acc, mag = still or StillConfig(), acc or AccFitConfig(), mag or MagFitConfig()
    periods = detect_still(stream.t_s, stream.acc_mps2, stream.gyr_radps, still)
    summaries = summarise_still(stream.t_s, stream.acc_mps2, stream.gyr_radps, periods)
    gyro = estimate_gyro_bias(summaries)
    acc_fit = fit_accelerometer(summaries, acc)
    mag_fit = None
    if with_mag and stream.mag_uT is not None:
        moving = np.ones(stream.n_samples, dtype=bool)
        for p in periods:
            moving[p.slice] = False
        mag_fit = fit_magnetometer(stream.mag_uT[moving], mag)
    return assemble_calibration(device_id or stream.device.device_id, gyro, acc_fit, mag_fit, created_at)
