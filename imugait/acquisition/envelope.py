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

    def at(self, x: float) -> float:
        """The line at one ``x`` (s), in plain floats: the same value as ``self(x)``."""
        return self.offset + self.slope * (x - self.x_ref)


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
        lo, hi, y, d = _bisect(y, d, lo, hi)
    slope = 0.5 * (lo + hi)
    offset = float(np.min(y - slope * d))
    x_ref = x_mean if x_eval is None else float(x_eval)
    return LineFit(x_ref=x_ref, offset=offset + slope * (x_ref - x_mean), slope=slope)


_BISECTION_STEPS = 60
"""Halves a slope interval of width 2e-3 (±1000 ppm) down to ~1e-21: below float resolution."""
_PRUNE_EVERY = 4
"""Bisection steps between two prunings of the points that can no longer hold the line down."""
_FEW_POINTS = 32
"""At most this many points left: the bisection goes on in plain floats."""


def _bisect(y: np.ndarray, d: np.ndarray, lo: float, hi: float) -> tuple[float, float, np.ndarray, np.ndarray]:
    """:data:`_BISECTION_STEPS` halvings of the slope interval [lo, hi] towards the optimum.

    Returns the final interval and the points (a subset of ``y``, ``d``, in their order) that may
    hold the line down inside it. Each step only looks at the lowest point for a slope inside
    the interval, and the interval halves: every :data:`_PRUNE_EVERY` steps the points that cannot
    be the lowest for any slope left are dropped (:func:`_prune`), and once a handful are left the
    steps go on in plain floats — the same arithmetic, without numpy's cost per call. The
    choices, and so the result, are those of the steps over every point.
    """
    margin = _margin(y, d, max(abs(lo), abs(hi)))
    few: tuple[list[float], list[float]] | None = None
    for step in range(1, _BISECTION_STEPS + 1):
        mid = 0.5 * (lo + hi)
        if few is None:
            k = int((y - mid * d).argmin())
            below_centre = d[k] < 0
        else:
            k = _lowest(*few, mid)
            below_centre = few[1][k] < 0
        if below_centre:
            lo = mid  # held down left of the centre: a steeper line can rise
        else:
            hi = mid
        if margin is None or step % _PRUNE_EVERY or (few is not None and len(few[0]) <= 2):
            continue  # two points left: usually the two that meet at the optimum
        if few is None:
            ref = int((y - 0.5 * (lo + hi) * d).argmin())
            keep = ~_above(y, d, y[ref], d[ref], lo, hi, margin)
            y, d = y[keep], d[keep]
            if y.size <= _FEW_POINTS:
                few = y.tolist(), d.tolist()
        else:
            ys, ds = few
            ref = _lowest(ys, ds, 0.5 * (lo + hi))
            kept = [i for i in range(len(ys)) if not _above(ys[i], ds[i], ys[ref], ds[ref], lo, hi, margin)]
            few = [ys[i] for i in kept], [ds[i] for i in kept]
    if few is not None:
        y, d = np.array(few[0]), np.array(few[1])
    return lo, hi, y, d


def _lowest(y: list[float], d: list[float], slope: float) -> int:
    """Index of the lowest ``y - slope·d`` (the first of equal ones, as ``argmin``)."""
    k, lowest = 0, y[0] - slope * d[0]
    for i in range(1, len(y)):
        value = y[i] - slope * d[i]
        if value < lowest:
            k, lowest = i, value
    return k


def _above(y, d, y_ref, d_ref, lo: float, hi: float, margin: float):
    """Whether points (arrays or floats) are higher than the reference point by more than
    ``margin`` at both ends of [lo, hi]: ``y - b·d`` is linear in ``b``, so such a point is higher
    all through the interval — never the lowest nor tied with it, for any slope left."""
    return ((y - lo * d) - (y_ref - lo * d_ref) > margin) & ((y - hi * d) - (y_ref - hi * d_ref) > margin)


def _margin(y: np.ndarray, d: np.ndarray, max_abs_slope: float) -> float | None:
    """How much higher than another point (s) a point must be, at both ends of a slope interval,
    to be dropped despite rounding.

    ``y - b·d`` is computed with an error of about a unit in the last place of ``|y| + |b·d|``;
    the margin is 2⁻⁴⁰ of that (thousands of units in the last place; ~0.1 µs for a host clock
    at 10⁵ s). None when a value is not finite: then nothing is dropped.
    """
    scale = float(np.max(np.abs(y))) + max_abs_slope * float(np.max(np.abs(d)))
    return scale * 2.0**-40 if np.isfinite(scale) else None
