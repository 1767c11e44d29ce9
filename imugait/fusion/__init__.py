"""Fusion: sensor orientation ``q_world_sensor`` from gyroscope, accelerometer and (optionally)
magnetometer, with one interface over several filters (VQF online/offline, ahrs Madgwick,
Mahony, EKF). See ``docs/fusion.md`` for which filter to pick and when to trust the magnetometer.

>>> settings = FusionSettings.from_rate(200.0)              # 6-axis, filter defaults
>>> f = make_filter(FilterKind.VQF_ONLINE, settings)
>>> q = f.update(gyr_radps, acc_mps2)                       # live: (4,) per sample  # doctest: +SKIP
>>> result = orient_stream(stream)                          # recording: FusionResult  # doctest: +SKIP
"""

from imugait.fusion.ahrs_filters import EkfFilter, MadgwickFilter, MahonyFilter
from imugait.fusion.base import (
    BatchOnlyError,
    FilterStatus,
    FusionDiagnostics,
    FusionResult,
    OrientationFilter,
)
from imugait.fusion.select import FILTERS, make_filter, orient_stream, stream_sample_period_s
from imugait.fusion.settings import (
    EkfTuning,
    FilterKind,
    FilterTuning,
    FusionSettings,
    MadgwickTuning,
    MahonyTuning,
    VqfTuning,
)
from imugait.fusion.vqf_filters import VqfOfflineFilter, VqfOnlineFilter

__all__ = [
    "FILTERS",
    "BatchOnlyError",
    "EkfFilter",
    "EkfTuning",
    "FilterKind",
    "FilterStatus",
    "FilterTuning",
    "FusionDiagnostics",
    "FusionResult",
    "FusionSettings",
    "MadgwickFilter",
    "MadgwickTuning",
    "MahonyFilter",
    "MahonyTuning",
    "OrientationFilter",
    "VqfOfflineFilter",
    "VqfOnlineFilter",
    "VqfTuning",
    "make_filter",
    "orient_stream",
    "stream_sample_period_s",
]
