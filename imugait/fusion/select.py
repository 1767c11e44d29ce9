"""Choose a filter by :class:`FilterKind`, and orient a whole :class:`~imugait.model.ImuStream`."""

from __future__ import annotations

import warnings

import numpy as np

from imugait.errors import ValidationError
from imugait.fusion.ahrs_filters import EkfFilter, MadgwickFilter, MahonyFilter
from imugait.fusion.base import FusionResult, OrientationFilter
from imugait.fusion.settings import FilterKind, FilterTuning, FusionSettings
from imugait.fusion.vqf_filters import VqfOfflineFilter, VqfOnlineFilter
from imugait.model import ImuStream

FILTERS: dict[FilterKind, type[OrientationFilter]] = {
    FilterKind.VQF_ONLINE: VqfOnlineFilter,
    FilterKind.VQF_OFFLINE: VqfOfflineFilter,
    FilterKind.MADGWICK: MadgwickFilter,
    FilterKind.MAHONY: MahonyFilter,
    FilterKind.EKF: EkfFilter,
}

RATE_MISMATCH_WARN = 0.05
"""Relative difference between the rate in ``t_s`` and the nominal rate that earns a warning."""


def make_filter(kind: FilterKind, settings: FusionSettings) -> OrientationFilter:
    """A fresh filter of ``kind`` with ``settings``."""
    if not isinstance(kind, FilterKind):
        valid = ", ".join(f"FilterKind.{k.name}" for k in FilterKind)
        raise ValidationError(f"kind must be a FilterKind ({valid}), got {kind!r}")
    return FILTERS[kind](settings)


def stream_sample_period_s(stream: ImuStream) -> float:
    """Sample period of a stream, s: the median step of ``t_s`` (robust to jitter and gaps).

    Warns when it differs from the nominal ``sample_rate_hz`` by more than
    :data:`RATE_MISMATCH_WARN`: the device then does not run at the rate it was configured for
    (or its clock was mapped wrongly), and the measured period is the one that is used.
    """
    period_s = float(np.median(np.diff(stream.t_s)))
    nominal_s = 1.0 / stream.sample_rate_hz
    if abs(period_s - nominal_s) > RATE_MISMATCH_WARN * nominal_s:
        warnings.warn(
            f"{stream.placement.value}: t_s gives {1.0 / period_s:.2f} Hz but the nominal rate is "
            f"{stream.sample_rate_hz:g} Hz; fusing with the measured {1.0 / period_s:.2f} Hz",
            stacklevel=3,
        )
    return period_s


def orient_stream(
    stream: ImuStream,
    kind: FilterKind = FilterKind.VQF_OFFLINE,
    use_magnetometer: bool = False,
    tuning: FilterTuning | None = None,
) -> FusionResult:
    """Orientation of one sensor over a whole recording.

    Parameters
    ----------
    stream : ImuStream
        gyr rad/s, acc m/s², mag µT, sensor frame; the sample period comes from ``t_s``
        (see :func:`stream_sample_period_s`).
    kind : FilterKind
        Default offline VQF, the most accurate for recordings; use ``VQF_ONLINE`` to reproduce
        exactly what a live run gives.
    use_magnetometer : bool
        9-axis fusion; needs ``stream.mag_uT``. Off by default (indoor fields are disturbed).
    tuning : filter-specific tuning or None for the filter's defaults.

    Returns
    -------
    FusionResult with ``q_world_sensor`` (N, 4), one row per sample of ``stream.t_s``.

    Notes
    -----
    The filters assume uniform sampling. Samples lost in ``stream.gaps`` are not interpolated,
    so the rotation during a gap is missed; a warning says how many were lost.
    """
    if not isinstance(stream, ImuStream):
        raise ValidationError(f"orient_stream needs an ImuStream, got {type(stream).__name__}")
    if use_magnetometer and stream.mag_uT is None:
        raise ValidationError(
            f"{stream.placement.value}: use_magnetometer=True but the stream has no magnetometer data "
            "(mag_uT is None); use 6-axis fusion"
        )
    if stream.n_lost_total:
        warnings.warn(
            f"{stream.placement.value}: {stream.n_lost_total} samples were lost in {len(stream.gaps)} gaps; "
            "fusion treats the stream as uniformly sampled, so rotation during the gaps is missed",
            stacklevel=2,
        )
    settings = FusionSettings(
        sample_period_s=stream_sample_period_s(stream), use_magnetometer=use_magnetometer, tuning=tuning
    )
    return make_filter(kind, settings).estimate(stream.gyr_radps, stream.acc_mps2, stream.mag_uT)
