"""What a fusion filter is told: which filter, the sample period, 6- or 9-axis, and its tuning.

Settings are frozen dataclasses; nothing here holds state. Every number carries its unit in its
name and is SI (s, rad/s, m/s²), whatever unit the wrapped library wants internally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from imugait.errors import ValidationError
from imugait.model import GyroSampling


def _require_positive(owner: object, *names: str) -> None:
    """Raise if a tuning field is not a positive finite number (the libraries divide by them)."""
    for name in names:
        value = getattr(owner, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
            raise ValidationError(f"{type(owner).__name__}.{name} must be a positive number, got {value!r}")


class FilterKind(Enum):
    """The orientation filters imugait can run (see ``docs/fusion.md`` for which to pick)."""

    VQF_ONLINE = "vqf_online"
    """VQF (Laidig & Seel 2023), causal: per-sample ``update`` and a batch call over one state."""
    VQF_OFFLINE = "vqf_offline"
    """VQF run forwards and backwards over a whole recording; batch only, most accurate."""
    MADGWICK = "madgwick"
    """Madgwick gradient-descent filter from the ``ahrs`` package (no gyro-bias estimation)."""
    MAHONY = "mahony"
    """Mahony explicit complementary filter from ``ahrs`` (integral term estimates gyro bias)."""
    EKF = "ekf"
    """Quaternion extended Kalman filter from ``ahrs``."""

    @property
    def causal(self) -> bool:
        """True when the filter can run sample by sample (everything but offline VQF)."""
        return self is not FilterKind.VQF_OFFLINE


@dataclass(frozen=True)
class VqfTuning:
    """Tuning of VQF (online and offline). Defaults are VQF's own (Laidig & Seel 2023)."""

    tau_acc_s: float = 3.0
    """Time constant of the accelerometer (inclination) correction."""
    tau_mag_s: float = 9.0
    """Time constant of the magnetometer (heading) correction; 9-axis only."""
    motion_bias_estimation: bool = True
    """Estimate the gyro bias while moving (6-axis: horizontal axes only)."""
    rest_bias_estimation: bool = True
    """Estimate the gyro bias during detected rest."""
    mag_disturbance_rejection: bool = True
    """Ignore the magnetometer while its norm or dip differs from the learned reference."""
    rest_threshold_gyr_radps: float = math.radians(2.0)
    """Gyro deviation below which the sensor may be at rest."""
    rest_threshold_acc_mps2: float = 0.5
    """Accelerometer deviation below which the sensor may be at rest."""

    def __post_init__(self) -> None:
        _require_positive(self, "tau_acc_s", "tau_mag_s", "rest_threshold_gyr_radps", "rest_threshold_acc_mps2")


@dataclass(frozen=True)
class MadgwickTuning:
    """Tuning of the ``ahrs`` Madgwick filter."""

    gain: float | None = None
    """Gradient-descent step β (rad/s). None: ahrs' defaults, 0.033 (6-axis) or 0.041 (9-axis)."""

    def __post_init__(self) -> None:
        _require_positive(self, "gain")


@dataclass(frozen=True)
class MahonyTuning:
    """Tuning of the ``ahrs`` Mahony filter (defaults: ahrs', from Mahony et al. 2008)."""

    k_p: float = 1.0
    """Proportional gain (1/s)."""
    k_i: float = 0.3
    """Integral gain (1/s²) of the gyro-bias estimate. ahrs requires > 0. Its default 0.3 lets the
    bias estimate wander during fast motion (docs/fusion.md); 0.01 is far more robust."""

    def __post_init__(self) -> None:
        _require_positive(self, "k_p", "k_i")


@dataclass(frozen=True)
class EkfTuning:
    """Tuning of the ``ahrs`` EKF. Measurement variances apply to *normalised* vectors."""

    var_gyr_radps2: float = 0.3**2
    """Gyro noise variance, (rad/s)²."""
    var_acc: float = 0.5**2
    """Variance of the normalised accelerometer direction (unitless)."""
    var_mag: float = 0.8**2
    """Variance of the normalised magnetometer direction (unitless)."""
    mag_dip_deg: float | None = None
    """Dip (inclination) of the earth's field, + downwards. None: estimated from the first sample."""

    def __post_init__(self) -> None:
        _require_positive(self, "var_gyr_radps2", "var_acc", "var_mag")
        dip = self.mag_dip_deg
        if dip is not None and not (isinstance(dip, int | float) and -90.0 <= dip <= 90.0):
            raise ValidationError(f"EkfTuning.mag_dip_deg must be in [-90, 90] degrees, got {dip!r}")


FilterTuning = VqfTuning | MadgwickTuning | MahonyTuning | EkfTuning

TUNING_TYPE: dict[FilterKind, type] = {
    FilterKind.VQF_ONLINE: VqfTuning,
    FilterKind.VQF_OFFLINE: VqfTuning,
    FilterKind.MADGWICK: MadgwickTuning,
    FilterKind.MAHONY: MahonyTuning,
    FilterKind.EKF: EkfTuning,
}
"""The tuning dataclass each filter accepts."""

MAX_SAMPLE_PERIOD_S = 1.0
"""Orientation filters need ≥ 1 Hz; slower data cannot track body motion."""


@dataclass(frozen=True)
class FusionSettings:
    """Settings shared by every filter.

    Attributes
    ----------
    sample_period_s : float
        Time between samples, s (the filters assume uniform sampling).
    use_magnetometer : bool
        False (default): 6-axis, heading is relative to the start and drifts slowly. True:
        9-axis, heading refers to magnetic north — only where the field is undisturbed
        (indoors, steel and electronics bend it; see ``docs/fusion.md``).
    tuning : FilterTuning or None
        Filter-specific tuning; None uses the filter's defaults. Must match the filter kind.
    gyr_sampling : GyroSampling
        What a gyroscope sample stands for in time (the device's, ``DeviceInfo.gyr_sampling``).
        ``INSTANT`` (default): the rate at the sample's instant; every filter is then fed the
        trapezoid ``(ω_{k-1} + ω_k) / 2`` as the mean rate over ``[t_{k-1}, t_k]``, so that its
        orientation at ``t_k`` does not lead by half a sample. ``INTERVAL_MEAN``: fed as it comes.
    """

    sample_period_s: float
    use_magnetometer: bool = False
    tuning: FilterTuning | None = None
    gyr_sampling: GyroSampling = GyroSampling.INSTANT

    def __post_init__(self) -> None:
        ts = self.sample_period_s
        if not isinstance(ts, int | float) or not (math.isfinite(ts) and 0 < ts <= MAX_SAMPLE_PERIOD_S):
            raise ValidationError(
                f"sample_period_s must be in (0, {MAX_SAMPLE_PERIOD_S}] s, got {ts!r} "
                f"(pass seconds, e.g. 1/200 for 200 Hz — not the rate in Hz)"
            )
        if not isinstance(self.use_magnetometer, bool):
            raise ValidationError(f"use_magnetometer must be True or False, got {self.use_magnetometer!r}")
        if not isinstance(self.gyr_sampling, GyroSampling):
            raise ValidationError(f"gyr_sampling must be a GyroSampling, got {self.gyr_sampling!r}")
        if self.tuning is not None and not isinstance(self.tuning, tuple(TUNING_TYPE.values())):
            raise ValidationError(f"tuning must be one of VqfTuning, MadgwickTuning, MahonyTuning, EkfTuning or None, got {type(self.tuning).__name__}")

    @classmethod
    def from_rate(cls, sample_rate_hz: float, **kwargs) -> FusionSettings:
        """Settings for data sampled at ``sample_rate_hz`` (Hz)."""
        if not (isinstance(sample_rate_hz, int | float) and math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise ValidationError(f"sample_rate_hz must be a positive number, got {sample_rate_hz!r}")
        return cls(sample_period_s=1.0 / sample_rate_hz, **kwargs)

    def tuning_for(self, kind: FilterKind) -> FilterTuning:
        """The tuning to use for ``kind``: the given one (checked) or that filter's defaults."""
        want = TUNING_TYPE[kind]
        if self.tuning is None:
            return want()
        if not isinstance(self.tuning, want):
            raise ValidationError(
                f"{type(self.tuning).__name__} cannot tune the {kind.value} filter; pass {want.__name__} or None"
            )
        return self.tuning
