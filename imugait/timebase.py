"""One time grid for several sensors: each samples at its own instants, angles need common ones.

Vectors are interpolated linearly and orientations by spherical linear interpolation. Samples of
the grid that fall inside a stream's lost-sample gap are marked (``gap_mask``) so that later
stages can drop what was made up, instead of trusting it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import butter, firwin, resample_poly, sosfilt, sosfilt_zi, sosfiltfilt

from imugait.errors import ValidationError
from imugait.model import ImuStream

try:  # sosfilt's compiled core (what it calls after its checks): see lowpass
    from scipy.signal._sosfilt import _sosfilt
except ImportError:  # (a scipy that moved it: the public path)
    _sosfilt = None


def grid_rate_hz(streams: Sequence[ImuStream], rate_hz: float | None = None) -> float:
    """The rate (Hz) of :func:`common_grid` over ``streams``: ``rate_hz``, or by default the
    highest nominal rate among them."""
    if not streams:
        raise ValidationError("common_grid needs at least one stream")
    return float(rate_hz or max(s.sample_rate_hz for s in streams))


def common_grid(streams: Sequence[ImuStream], rate_hz: float | None = None) -> np.ndarray:
    """A uniform grid (M,), s, over the time all ``streams`` overlap, at ``rate_hz``
    (default: the highest nominal rate among them, :func:`grid_rate_hz`)."""
    rate_hz = grid_rate_hz(streams, rate_hz)
    t0 = max(float(s.t_s[0]) for s in streams)
    t1 = min(float(s.t_s[-1]) for s in streams)
    if t1 - t0 < 1.0 / rate_hz:
        names = ", ".join(s.placement.value for s in streams)
        raise ValidationError(f"streams {names} do not overlap in time ({t0:.3f} s .. {t1:.3f} s)")
    n = int(np.floor((t1 - t0) * rate_hz)) + 1
    return t0 + np.arange(n) / rate_hz


def sample_period_s(t_s: np.ndarray, rate_hz: float | None = None) -> float:
    """The sample period (s) of the instants ``t_s`` (N,): ``1 / rate_hz`` when the rate is known
    (a grid made here carries it: ``FusedSession.rate_hz``, ``LegRecording.rate_hz``), otherwise
    measured once here as the median step of ``t_s`` — robust to clock jitter and to lost samples,
    so also right for a device's own timestamps.

    Raises :class:`ValidationError` when the period has to be measured and ``t_s`` has fewer than
    two instants or does not strictly increase."""
    if rate_hz is not None:
        if not (np.isfinite(rate_hz) and rate_hz > 0):
            raise ValidationError(f"a sample rate must be positive and finite, got {rate_hz!r} Hz")
        return 1.0 / float(rate_hz)
    t_s = np.asarray(t_s, dtype=float)
    if t_s.ndim != 1 or t_s.size < 2:
        raise ValidationError(f"a sample period needs at least two sample instants (N,), got shape {t_s.shape}")
    step_s = np.diff(t_s)
    if not np.all(step_s > 0):
        i = int(np.argmin(step_s > 0))
        raise ValidationError(f"sample instants must strictly increase: t_s[{i + 1}] = {t_s[i + 1]!r} s "
                              f"after t_s[{i}] = {t_s[i]!r} s")
    return float(np.median(step_s))


def grid_position(t_src_s: np.ndarray, t_dst_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each instant of ``t_dst_s`` (M,) falls among the samples ``t_src_s`` (N,): the index
    ``i`` (M,) of the sample before it and the fraction (M,) of the way to sample ``i + 1``
    (clamped to the ends). Compute once per stream and grid, and pass to the resamplers."""
    # (np.minimum/np.maximum: the same as np.clip, without its per-call overhead on short arrays)
    t_dst = np.minimum(np.maximum(t_dst_s, t_src_s[0]), t_src_s[-1])
    # (the method, not np.searchsorted: no Python wrapper per call on the live grid's few rows)
    i = np.minimum(np.maximum(t_src_s.searchsorted(t_dst, side="right") - 1, 0), len(t_src_s) - 2)
    t_before = t_src_s[i]
    return i, (t_dst - t_before) / (t_src_s[i + 1] - t_before)


def interp_vectors(
    t_src_s: np.ndarray, values: np.ndarray, t_dst_s: np.ndarray,
    position: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Linear interpolation of ``values`` (N, K) sampled at ``t_src_s`` onto ``t_dst_s`` (M,)
    (clamped at the ends); ``position`` from :func:`grid_position` if already known."""
    values = np.asarray(values, dtype=float)
    i, frac = grid_position(t_src_s, t_dst_s) if position is None else position
    # ``take`` gathers rows about twice as fast as fancy indexing (same values); the method, not
    # ``np.take``, spares a Python wrapper per call (the live grid interpolates a few rows at a time).
    return lerp_rows(values.take(i, axis=0), values.take(i + 1, axis=0), frac)


def lerp_rows(before: np.ndarray, after: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Row by row ``before + frac (after - before)`` of (M, K) rows and fractions (M,), written
    into ``after``: the arithmetic of :func:`interp_vectors` once the neighbouring samples are
    gathered (rows of several streams may be stacked and interpolated at once)."""
    after -= before
    after *= frac[:, None]
    after += before
    return after


def slerp_quats(
    t_src_s: np.ndarray, q_src: np.ndarray, t_dst_s: np.ndarray,
    position: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Orientations (N, 4) scalar first at ``t_src_s`` → (M, 4) at ``t_dst_s`` (clamped at the ends);
    ``position`` from :func:`grid_position` if already known.

    Normalised linear interpolation between neighbouring samples (sign-aligned): between samples
    of a body-worn IMU the rotation is a few degrees at most, where it differs from true slerp by
    well under 0.01° — and it is several times faster on long recordings.
    """
    q_src = np.asarray(q_src, dtype=float)
    i, frac = grid_position(t_src_s, t_dst_s) if position is None else position
    return nlerp_rows(q_src.take(i, axis=0), q_src.take(i + 1, axis=0), frac)


def nlerp_rows(q0: np.ndarray, q: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """Row by row the normalised linear interpolation (sign-aligned) from ``q0`` to ``q`` (M, 4)
    by ``frac`` (M,), written into ``q``: the arithmetic of :func:`slerp_quats` once the
    neighbouring samples are gathered (rows of several streams may be stacked)."""
    flip = np.einsum("ij,ij->i", q0, q) < 0.0  # the shorter way round
    if np.count_nonzero(flip):
        q[flip] *= -1.0
    q -= q0
    q *= frac[:, None]
    q += q0
    q /= np.sqrt(np.einsum("ij,ij->i", q, q))[:, None]
    return q


def gap_mask(stream: ImuStream, t_dst_s: np.ndarray) -> np.ndarray:
    """(M,) bool: True where ``t_dst_s`` (M,), non-decreasing (a grid), falls strictly between
    the samples before and after one of ``stream``'s lost-sample gaps."""
    if not stream.gaps:
        return np.zeros(np.shape(t_dst_s), dtype=bool)
    after = np.fromiter((gap.after_index for gap in stream.gaps), dtype=np.intp, count=len(stream.gaps))
    # Each gap's grid samples are one run of the sorted grid, found by bisection: a comparison
    # with the whole grid per gap took seconds for a lossy hour-long stream (thousands of gaps).
    return spans_mask(np.size(t_dst_s), np.searchsorted(t_dst_s, stream.t_s[after], side="right"),
                      np.searchsorted(t_dst_s, stream.t_s[after + 1], side="left"))


def spans_mask(n: int, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """(n,) bool: True inside any of the index spans ``[start, stop)`` ((K,) each, clipped to
    ``[0, n]``; empty or reversed spans mark nothing) — as setting ``mask[start:stop] = True`` span
    by span, at once."""
    starts, stops = np.asarray(starts, dtype=np.intp), np.asarray(stops, dtype=np.intp)
    keep = starts < stops
    depth = np.zeros(n + 1, dtype=np.int64)
    np.add.at(depth, np.clip(starts[keep], 0, n), 1)
    np.add.at(depth, np.clip(stops[keep], 0, n), -1)
    return np.cumsum(depth[:n]) > 0


def lowpass(x: np.ndarray, rate_hz: float, cutoff_hz: float) -> np.ndarray:
    """Zero-phase 2nd-order Butterworth low-pass of ``x`` (along the first axis) sampled at
    ``rate_hz``; the cutoff is clamped below Nyquist.

    scipy's ``sosfiltfilt`` (odd extension of 3 × 3 samples, forward and backward ``sosfilt``
    started from the steady state of the edge values), without its per-call checks and design of
    the initial state: the same arithmetic, the same result, several times cheaper on the short
    windows the live pipeline filters many times a second."""
    sos, zi = _butter_sos(float(min(cutoff_hz, 0.45 * rate_hz) / (0.5 * rate_hz)))
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] <= _PADLEN:  # too short to extend: scipy's checks and message
        return sosfiltfilt(sos, x, axis=0)
    ext = np.concatenate([2 * x[:1] - x[_PADLEN:0:-1], x, 2 * x[-1:] - x[-2:-_PADLEN - 2:-1]])
    if x.ndim <= 2 and _sosfilt is not None:
        # scipy's sosfilt does this (each column a C-contiguous row, its state (1, 2)) around its
        # compiled filter: the same filter on the same numbers, without its checks and moves
        # per call (several of them a second per leg live, on a few seconds of rows).
        rows = ext.reshape(ext.shape[0], -1).T.copy()
        state = np.ascontiguousarray((zi[:, :, None] * rows[:, 0]).transpose(2, 0, 1))
        _sosfilt(sos, rows, state)
        state = np.ascontiguousarray((zi[:, :, None] * rows[:, -1]).transpose(2, 0, 1))
        rows = rows[:, ::-1].copy()
        _sosfilt(sos, rows, state)
        return rows[:, ::-1].T.reshape(ext.shape)[_PADLEN:-_PADLEN]
    zi = zi.reshape(zi.shape + (1,) * (x.ndim - 1))
    y, _ = sosfilt(sos, ext, axis=0, zi=zi * ext[:1])
    y, _ = sosfilt(sos, y[::-1], axis=0, zi=zi * y[-1:])
    return y[::-1][_PADLEN:-_PADLEN]


def upsample(x: np.ndarray, factor: int, reach_samples: int) -> np.ndarray:
    """The series ``x`` (n,) sampled ``factor`` times as often, (n · factor,): the band-limited
    interpolation between its samples (what the samples of a signal below their Nyquist frequency
    say it did between them), sample ``i · factor`` at sample ``i``. A Kaiser-windowed sinc
    (β 5) over ``reach_samples`` samples either side — each output depends on those only — through
    scipy's ``resample_poly`` (symmetric: no delay; the ends extended along a line fitted to
    the series)."""
    if factor == 1:
        return np.asarray(x, dtype=np.float64)
    return resample_poly(np.asarray(x, dtype=np.float64), factor, 1, window=_interpolator(factor, reach_samples),
                         padtype="line")


@cache
def _interpolator(factor: int, reach_samples: int) -> np.ndarray:
    taps = firwin(2 * reach_samples * factor + 1, 1.0 / factor, window=("kaiser", 5.0))  # (resample_poly scales by factor)
    taps.flags.writeable = False
    return taps


def lowpass_rows(x: np.ndarray, lo: int, hi: int, rate_hz: float, cutoff_hz: float) -> tuple[np.ndarray, float]:
    """Outputs ``lo .. hi - 1`` of :func:`lowpass` of the series ``x`` (n,), without filtering all
    of it, and a bound on how far they may be from it.

    The filter, its odd extension and its initial states are linear in the samples, so the low-pass
    is a matrix; its rows decay fast away from the diagonal, so only the band of three cutoff
    periods about each row asked for is applied (:func:`lowpass_band`), and the rest of the series
    adds at most the rest of those rows' absolute sums times the largest sample (about 2e-6 of it
    at 6 Hz, 200 Hz; rounding, about 1e-14 of it, comes on top)."""
    if hi <= lo:
        return np.empty(0), 0.0
    band, outside = lowpass_band(x.shape[0], rate_hz, cutoff_hz)
    width = band.shape[1] // 2
    padded = np.zeros(x.shape[0] + 2 * width)
    padded[width:width + x.shape[0]] = x
    near = sliding_window_view(padded, band.shape[1])[lo:hi]  # row i: samples i - width .. i + width
    return np.einsum("ij,ij->i", band[lo:hi], near), float(outside[lo:hi].max()) * float(np.abs(x).max())


@lru_cache(maxsize=4)
def lowpass_band(n: int, rate_hz: float, cutoff_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`lowpass` of every series of ``n`` samples as the (n, n) matrix ``M`` it applies
    (``M @ x`` equals ``lowpass(x)`` to rounding), kept as its band: (n, 2w + 1) with row i the
    entries ``M[i, i - w .. i + w]`` (0 off the matrix; w: three cutoff periods of samples), and per
    row the absolute sum of its entries outside the band, (n,). Made once per size and cutoff
    (read only; 1.9 MB at n = 1200, 200 Hz, 6 Hz)."""
    width = int(np.ceil(3.0 * rate_hz / cutoff_hz))
    matrix = lowpass(np.eye(n), rate_hz, cutoff_hz)
    columns = np.arange(n)[:, None] + np.arange(-width, width + 1)
    on = (columns >= 0) & (columns < n)
    band = np.where(on, np.take_along_axis(matrix, np.clip(columns, 0, n - 1), axis=1), 0.0)
    outside = np.abs(matrix).sum(axis=1) - np.abs(band).sum(axis=1)
    outside = np.maximum(outside, 0.0) + 1e-12 * np.abs(matrix).sum(axis=1)  # (the two sums round apart)
    for a in (band, outside):
        a.flags.writeable = False
    return band, outside


_PADLEN = 9
"""scipy's default padding of ``sosfiltfilt`` for one second-order section: 3 × (2 × 1 + 1)."""


@cache
def _butter_sos(cutoff_nyquist: float) -> tuple[np.ndarray, np.ndarray]:
    """The filter's design and its steady-state initial condition, made once per cutoff
    (designing costs more than filtering a few seconds)."""
    sos = butter(2, cutoff_nyquist, output="sos")
    zi = sosfilt_zi(sos)
    zi.flags.writeable = False  # (scipy's filter wants a writable design: private, never written)
    return sos, zi
