"""The minimum-latency envelope: the line below all (device time, arrival time) points.

A block's arrival time is the host time its last sample was taken plus a transport latency that
is never negative (radio, USB, OS scheduling). So every point ``(x_i, y_i)`` with ``x`` the
device time of a block's last sample and ``y`` its host arrival lies *on or above* the line
``y = a + b·x`` that maps device to host time (plus the smallest latency). The line is the
solution of the linear programme

    maximise  Σ (a + b·x_i)   subject to   a + b·x_i ≤ y_i  for all i,

i.e. the lowest-latency line that still has every point above it (Moon, Skelly & Towsley 1999,
"Estimation and removal of clock skew from network delay measurements"). Latency spikes only
lift points, so they cannot pull the line; its optimum is the edge of the lower convex hull of
the points that spans the mean ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LineFit:
    """``y = offset + slope·(x - x_ref)``; ``x`` and ``y`` in seconds."""

    x_ref: float
    offset: float
    slope: float

    def __call__(self, x: np.ndarray | float) -> np.ndarray | float:
        return self.offset + self.slope * (np.asarray(x, dtype=float) - self.x_ref)


def envelope_fit(
    x_s: np.ndarray, y_s: np.ndarray, min_slope: float, max_slope: float, x_eval: float | None = None
) -> LineFit:
    """The line below every point with the least total gap to them, slope bounded.

    For a fixed slope ``b`` the best line is as high as the lowest point allows,
    ``f(b) = min_i (y_i - b·(x_i - x_c))``; maximising ``a + b·(x̄ - x_c)`` with ``x_c = x̄``
    is maximising ``f``, which is concave and piecewise linear in ``b``. Its supergradient at
    ``b`` is ``-(x_k - x_c)`` for the point ``k`` holding the line down, so bisection on the slope
    finds the optimum (a vertex of the lower convex hull) to float precision in ~50 vectorised
    passes, whatever the number of points.

    Parameters
    ----------
    x_s : (n,) float, s (device time of each block's last sample).
    y_s : (n,) float, s (host arrival time of each block).
    min_slope, max_slope : bounds of the slope (1 ± the largest credible drift).
    x_eval : float, optional
        Where the line is evaluated and referenced; default the mean of ``x_s``.

    Returns
    -------
    LineFit with ``x_ref = x_eval`` and ``offset`` = the line's value there.
    """
    x = np.asarray(x_s, dtype=float)
    y = np.asarray(y_s, dtype=float)
    if x.size == 0 or x.shape != y.shape:
        raise ValueError(f"envelope_fit needs matching non-empty arrays, got {x.shape} and {y.shape}")
    x_mean = float(np.mean(x))
    d = x - x_mean
    lo, hi = float(min_slope), float(max_slope)
    if hi > lo and np.ptp(x) > 0:
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            k = int(np.argmin(y - mid * d))
            if d[k] < 0:
                lo = mid  # held down left of the centre: a steeper line can rise
            else:
                hi = mid
    slope = 0.5 * (lo + hi)
    offset = float(np.min(y - slope * d))
    x_ref = x_mean if x_eval is None else float(x_eval)
    return LineFit(x_ref=x_ref, offset=offset + slope * (x_ref - x_mean), slope=slope)


_BISECTION_STEPS = 60
"""Halves a slope interval of width 2e-3 (±1000 ppm) down to ~1e-21: below float resolution."""
