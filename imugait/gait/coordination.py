"""Thigh–shank timing per stride: how far the shank's swing follows the thigh's.

In steady walking the shank's sagittal rotation follows the thigh's by a nearly constant time (the
knee's flexion is that difference). Two sensors that each keep their own sample clock can slip
against each other in the middle of a walk — a sensor that drops or repeats a burst of samples
without counting them shifts everything after it. Nothing in the data says so, but the knee's
angles change: on real MPU-9250 walks the knee flexion range steps from ~45° to ~85° mid-walk
while both segments' own rotation ranges stay the same (docs/validation.md). The per-stride lag
between the two segments' sagittal rates exposes it; :mod:`imugait.gait.plausibility` excludes the
strides whose lag is far from the leg's other strides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imugait.gait.cycles import Stride
from imugait.timebase import sample_period_s

MAX_LAG_S = 0.5
"""Largest thigh–shank lag searched (either way); walking's is about 0.1–0.3 s."""


def sagittal_rate_radps(t_s: np.ndarray, q_world_segment: np.ndarray) -> np.ndarray:
    """(M,) rotation rate of a segment about its own Z axis (the knee flexion axis, ISB), rad/s,
    from its orientations (M, 4) on ``t_s`` (M,) s. The last sample repeats the one before;
    NaN where an orientation is NaN."""
    # The w and z components of conj(q[k]) ⊗ q[k + 1], written out (the same operations as
    # quat_multiply, so the same values, without the x and y components and the copies).
    aw, ax, ay, az = (q_world_segment[:-1, k] for k in range(4))
    bw, bx, by, bz = (q_world_segment[1:, k] for k in range(4))
    dq_w = aw * bw + ax * bx + ay * by + az * bz
    dq_z = aw * bz - ax * by + ay * bx - az * bw
    sign = np.where(dq_w < 0.0, -1.0, 1.0)
    rate = 2.0 * sign * dq_z / np.diff(t_s)
    return np.append(rate, rate[-1:]) if rate.size else np.zeros(t_s.shape)


def stride_lags_s(t_s: np.ndarray, thigh_rate: np.ndarray, shank_rate: np.ndarray,
                  strides: Sequence[Stride], max_lag_s: float = MAX_LAG_S, rate_hz: float | None = None) -> np.ndarray:
    """(K,) per stride, how long the shank's sagittal rate follows the thigh's (s; negative: the
    shank leads): the shift that best correlates the two over the stride, refined between samples.

    NaN where the stride has a non-finite rate or too few samples, or the best shift is at the
    search's edge (no peak within ``max_lag_s``). ``rate_hz``: the grid's sample rate if known
    (measured from ``t_s`` otherwise).
    """
    dt_s = sample_period_s(t_s, rate_hz) if rate_hz is not None or t_s.size > 1 else np.nan
    n_lag = int(round(max_lag_s / dt_s)) if np.isfinite(dt_s) and dt_s > 0 else 0
    out = np.full(len(strides), np.nan)
    if n_lag == 0 or not strides:
        return out
    starts = np.searchsorted(t_s, [s.t_initial_contact_s for s in strides])
    stops = np.searchsorted(t_s, [s.t_next_initial_contact_s for s in strides])
    # Non-finite samples counted by running sums: a stride (and its shank segment) is usable when
    # it holds none.
    bad_thigh = np.r_[0, np.cumsum(~np.isfinite(thigh_rate))]
    bad_shank = np.r_[0, np.cumsum(~np.isfinite(shank_rate))]
    usable = np.flatnonzero((stops - starts >= 8) & (starts - n_lag >= 0) & (stops + n_lag <= t_s.size))
    usable = usable[(bad_thigh[stops[usable]] == bad_thigh[starts[usable]])
                    & (bad_shank[stops[usable] + n_lag] == bad_shank[starts[usable] - n_lag])]
    r = _normalised_correlations(thigh_rate, shank_rate, starts[usable], stops[usable], n_lag)
    best = np.argmax(r, axis=1)
    inside = (best > 0) & (best < 2 * n_lag)
    rows, best = np.flatnonzero(inside), best[inside]
    a, b, c = r[rows, best - 1], r[rows, best], r[rows, best + 1]
    curvature = a - 2.0 * b + c
    shift = np.where(curvature < 0, 0.5 * (a - c) / np.where(curvature < 0, curvature, 1.0), 0.0)
    out[usable[rows]] = (best - n_lag + shift) * dt_s
    return out


CHUNK_SAMPLES = 1 << 20
"""The strides' shank segments are handled in groups of at most this many samples (padded)."""


def _normalised_correlations(x: np.ndarray, y: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                             n_lag: int) -> np.ndarray:
    """(K, 2·n_lag + 1): per stride ``x[start:stop]`` (K strides), its Pearson correlation with
    every window of the same length of ``y[start − n_lag : stop + n_lag]``, in order of shift; 0
    where either has no variance.

    The windows' sums and sums of squares come from running sums over each stride's segment of
    ``y`` (all strides of a group at once, one row each) and the products from one
    ``np.correlate`` per stride (``x`` centred, so the windows need no centring), instead of a
    centred copy of every window: the same values within rounding (≈ 1e-13 relative).
    """
    lengths = stops - starts
    r = np.zeros((starts.size, 2 * n_lag + 1))
    products = np.empty_like(r)
    x_norm = np.empty(starts.size)
    for k, (i0, i1) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
        xc = x[i0:i1] - np.add.reduce(x[i0:i1]) / (i1 - i0)  # x.mean(), without its overhead
        products[k] = np.correlate(y[i0 - n_lag:i1 + n_lag], xc, mode="valid")
        x_norm[k] = np.sqrt(xc @ xc)
    # Groups of strides of similar length, so the padded rows stay short.
    order = np.argsort(lengths, kind="stable")
    shifts = np.arange(2 * n_lag + 1)
    first = 0
    while first < order.size:
        last = first + 1
        while last < order.size and (last + 1 - first) * (lengths[order[last]] + 2 * n_lag) <= CHUNK_SAMPLES:
            last += 1
        group = order[first:last]
        width = int(lengths[group[-1]]) + 2 * n_lag
        index = np.minimum(starts[group, None] - n_lag + np.arange(width), y.size - 1)
        segments = y[index]
        sums = np.zeros((group.size, width + 1))
        squares = np.zeros((group.size, width + 1))
        np.cumsum(segments, axis=1, out=sums[:, 1:])
        np.cumsum(segments * segments, axis=1, out=squares[:, 1:])
        n = lengths[group, None]
        ends = shifts + n
        window_sum = np.take_along_axis(sums, ends, axis=1) - sums[:, : shifts.size]
        window_squares = np.take_along_axis(squares, ends, axis=1) - squares[:, : shifts.size]
        spread = np.maximum(window_squares - window_sum * window_sum / n, 0.0)
        denom = x_norm[group, None] * np.sqrt(spread)
        r[group] = np.divide(products[group], denom, out=np.zeros(denom.shape), where=denom > 0)
        first = last
    return r
