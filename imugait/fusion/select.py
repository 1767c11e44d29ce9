"""Choose a filter by :class:`FilterKind`, and orient a whole :class:`~imugait.model.ImuStream`."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from imugait.errors import ValidationError
from imugait.fusion.ahrs_filters import EkfFilter, MadgwickFilter, MahonyFilter
from imugait.fusion.base import FusionDiagnostics, FusionResult, OrientationFilter
from imugait.fusion.settings import FilterKind, FilterTuning, FusionSettings
from imugait.fusion.upsample import upsample_factor, upsampled_inputs
from imugait.fusion.vqf_filters import VqfOfflineFilter, VqfOnlineFilter
from imugait.model import GyroSampling, ImuStream
from imugait.timebase import sample_period_s

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
    period_s = sample_period_s(stream.t_s)
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
    gyr_bias_radps: np.ndarray | None = None,
    upsample_hz: float | None = None,
) -> FusionResult:
    """Orientation of one sensor over a whole recording.

    Parameters
    ----------
    stream : ImuStream
        gyr rad/s, acc m/s², mag µT, sensor frame; the sample period comes from ``t_s``
        (see :func:`stream_sample_period_s`), how a gyroscope sample is integrated from
        ``stream.device.gyr_sampling``.
    kind : FilterKind
        Default offline VQF, the most accurate for recordings; use ``VQF_ONLINE`` to reproduce
        exactly what a live run gives.
    use_magnetometer : bool
        9-axis fusion; needs ``stream.mag_uT``. Off by default (indoor fields are disturbed).
    tuning : filter-specific tuning or None for the filter's defaults.
    gyr_bias_radps : (3,) rad/s, sensor frame, or None
        Subtracted from the gyroscope before fusion (e.g. measured while standing still), without
        building and re-validating a second stream.
    upsample_hz : float or None
        Off (None, default): the filter steps once per sample. Else, below this rate (Hz), the
        filter is fed samples interpolated between the recorded ones up to at least this rate
        (:mod:`imugait.fusion.upsample`); the result still has one orientation per sample.

    Returns
    -------
    FusionResult with ``q_world_sensor`` (N, 4), one row per sample of ``stream.t_s``.

    Notes
    -----
    The filters assume uniform sampling. Across samples lost in ``stream.gaps`` the filter is fed
    linearly interpolated samples (so it integrates the rotation during the gap); the result has
    one orientation per *real* sample.
    """
    if not isinstance(stream, ImuStream):
        raise ValidationError(f"orient_stream needs an ImuStream, got {type(stream).__name__}")
    if use_magnetometer and stream.mag_uT is None:
        raise ValidationError(
            f"{stream.placement.value}: use_magnetometer=True but the stream has no magnetometer data "
            "(mag_uT is None); use 6-axis fusion"
        )
    settings = FusionSettings(
        sample_period_s=stream_sample_period_s(stream), use_magnetometer=use_magnetometer, tuning=tuning,
        gyr_sampling=stream.device.gyr_sampling,
    )
    gyr = stream.gyr_radps if gyr_bias_radps is None else stream.gyr_radps - np.asarray(gyr_bias_radps, dtype=float)
    factor = upsample_factor(settings.sample_period_s, upsample_hz)
    if not stream.gaps:
        return _estimate(kind, settings, factor, gyr, stream.acc_mps2, stream.mag_uT)
    # Bridge lost-sample gaps for the filter only: it integrates rotation sample by sample, so a
    # missing sample would make it miss that rotation. It is fed samples interpolated at the lost
    # instants; only the real samples' orientations are returned.
    real = _bridged_positions(stream)
    n = int(real[-1]) + 1
    t_full = np.interp(np.arange(n), real, stream.t_s)

    def bridge(x: np.ndarray | None) -> np.ndarray | None:
        return None if x is None else np.column_stack([np.interp(t_full, stream.t_s, x[:, k]) for k in range(3)])

    return _rows(_estimate(kind, settings, factor, bridge(gyr), bridge(stream.acc_mps2), bridge(stream.mag_uT)), real)


def _estimate(kind: FilterKind, settings: FusionSettings, factor: int, gyr, acc, mag) -> FusionResult:
    """The filter over (N, 3) samples, stepping ``factor`` times per sample (interpolated
    between them); one row per sample."""
    if factor == 1:
        return make_filter(kind, settings).estimate(gyr, acc, mag)
    fine = replace(settings, sample_period_s=settings.sample_period_s / factor, gyr_sampling=GyroSampling.INSTANT)
    full = make_filter(kind, fine).estimate(*upsampled_inputs(gyr, acc, mag, factor, settings.gyr_sampling))
    return replace(_rows(full, slice(None, None, factor)), settings=settings)


def _rows(result: FusionResult, rows) -> FusionResult:
    """``result`` at ``rows`` (an index array or a slice) only: orientations and diagnostics."""
    d = result.diagnostics
    pick = {f: (None if getattr(d, f) is None else getattr(d, f)[rows]) for f in
            ("rest_detected", "gyr_bias_radps", "gyr_bias_sigma_radps", "mag_disturbed")}
    return FusionResult(result.q_world_sensor[rows], FusionDiagnostics(**pick), result.kind, result.settings)


def _bridged_positions(stream: ImuStream) -> np.ndarray:
    """Index of each real sample in the stream with its lost samples put back (N,) int."""
    # The lost counts added at the sample after each gap and summed along (one pass, not one per
    # gap: a lossy hour-long stream has thousands of gaps).
    lost = np.zeros(stream.n_samples, dtype=np.int64)
    for gap in stream.gaps:
        lost[gap.after_index + 1] += gap.n_lost
    return np.arange(stream.n_samples) + np.cumsum(lost)
