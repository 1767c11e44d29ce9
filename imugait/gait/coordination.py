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
    lags = np.arange(-n_lag, n_lag + 1)
    out = np.full(len(strides), np.nan)
    starts = np.searchsorted(t_s, [s.t_initial_contact_s for s in strides]).tolist()
    stops = np.searchsorted(t_s, [s.t_next_initial_contact_s for s in strides]).tolist()
    for k, (i0, i1) in enumerate(zip(starts, stops, strict=True)):
        if n_lag == 0 or i1 - i0 < 8 or i0 - n_lag < 0 or i1 + n_lag > t_s.size:
            continue
        x, seg = thigh_rate[i0:i1], shank_rate[i0 - n_lag:i1 + n_lag]
        if not (np.isfinite(x).all() and np.isfinite(seg).all()):
            continue
        r = _normalised_correlation(x, seg)
        best = int(np.argmax(r))
        if best in (0, lags.size - 1):
            continue
        a, b, c = r[best - 1], r[best], r[best + 1]
        curvature = a - 2.0 * b + c
        shift = 0.5 * (a - c) / curvature if curvature < 0 else 0.0
        out[k] = (lags[best] + shift) * dt_s
    return out


def _normalised_correlation(x: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Pearson correlation of ``x`` (L,) with every window of length L of ``seg`` (L + 2n,), in
    order of shift (2n + 1,); 0 where either has no variance.

    The windows' sums and sums of squares come from running sums over ``seg`` and the products
    from one ``np.correlate`` (``x`` centred, so the windows need no centring), instead of a
    centred copy of every window: the same values within rounding (≈ 1e-13 relative), several
    times faster for the thousands of strides of an hour.
    """
    n = x.size
    xc = x - x.mean()
    products = np.correlate(seg, xc, mode="valid")
    sums = np.cumsum(np.concatenate(([0.0], seg)))
    squares = np.cumsum(np.concatenate(([0.0], seg * seg)))
    window_sum = sums[n:] - sums[:-n]
    spread = np.maximum(squares[n:] - squares[:-n] - window_sum * window_sum / n, 0.0)
    denom = np.sqrt(xc @ xc) * np.sqrt(spread)
    return np.divide(products, denom, out=np.zeros(products.size), where=denom > 0)
