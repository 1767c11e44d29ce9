"""Still-period detection: where a sensor lies (or is held) still.

A sample is *still* when, over a window of ``window_s`` around it, the mean gyroscope norm stays
below ``gyr_norm_max_radps`` and the accelerometer norm hardly varies (its SD stays below
``acc_norm_sd_max_mps2``). Runs of still samples shorter than ``min_duration_s`` are dropped.

The gyroscope test uses the *norm* so that it also works before the gyroscope bias is known: the
limit must sit above the largest bias expected (MEMS gyroscopes: up to a few °/s) and below slow
handling. The accelerometer test uses the norm's spread, which does not depend on orientation.

Two variants share the same test:

* :func:`still_mask` / :func:`detect_still` — offline, window centred on each sample.
* :class:`StillTracker` — causal (live): fed one sample at a time, judges the window that *ends* at
  the newest sample. Its answer at sample ``j`` equals the offline mask at
  ``j - (w - 1) + w // 2`` for a window of ``w`` samples (tested).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from imugait.conventions import GRAVITY_MPS2
from imugait.errors import ValidationError
from imugait.model import ImuStream, row_norms
from imugait.timebase import sample_period_s


@dataclass(frozen=True)
class StillConfig:
    """Thresholds of the still test."""

    window_s: float = 0.5
    """Length of the moving window, s."""
    gyr_norm_max_radps: float = 0.1
    """Limit of the window's mean gyroscope norm, rad/s (0.1 rad/s ≈ 6 °/s)."""
    acc_norm_sd_max_mps2: float = 0.08
    """Limit of the SD of the accelerometer norm within the window, m/s²."""
    min_duration_s: float = 1.0
    """Still runs shorter than this are not reported by :func:`detect_still`, s."""

    def window_samples(self, sample_rate_hz: float) -> int:
        """Window length in samples (at least 2) at ``sample_rate_hz``."""
        return max(2, int(round(self.window_s * sample_rate_hz)))


@dataclass(frozen=True)
class StillPeriod:
    """One run of still samples: indices ``start`` (first) to ``stop`` (one past the last)."""

    start: int
    stop: int
    t_start_s: float
    t_end_s: float
    """Time of the last still sample, s."""

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def n_samples(self) -> int:
        return self.stop - self.start

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)


@dataclass(frozen=True)
class WindowStats:
    """The two quantities the still test compares with its limits, for one window."""

    gyr_norm_mean_radps: float
    acc_norm_sd_mps2: float

    def is_still(self, config: StillConfig) -> bool:
        return (
            self.gyr_norm_mean_radps < config.gyr_norm_max_radps
            and self.acc_norm_sd_mps2 < config.acc_norm_sd_max_mps2
        )


def window_stats(
    t_s: np.ndarray, acc_mps2: np.ndarray, gyr_radps: np.ndarray, config: StillConfig = StillConfig(),
    rate_hz: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Centred moving-window statistics of the still test.

    Parameters
    ----------
    t_s : (N,) s, strictly increasing.
    acc_mps2 : (N, 3) m/s², sensor frame.
    gyr_radps : (N, 3) rad/s, sensor frame.
    rate_hz : the sample rate of ``t_s`` if known (a grid's); measured from ``t_s`` otherwise.

    Returns
    -------
    gyr_norm_mean_radps, acc_norm_sd_mps2 : (N,) each; NaN where the window does not fit.
    """
    t, acc, gyr = _check_inputs(t_s, acc_mps2, gyr_radps)
    n = t.size
    w = config.window_samples(1.0 / sample_period_s(t, rate_hz))
    gyr_mean = np.full(n, np.nan)
    acc_sd = np.full(n, np.nan)
    if n < w:
        return gyr_mean, acc_sd
    # Centred on g so that the running sums of squares do not lose the small variance.
    a = row_norms(acc) - GRAVITY_MPS2
    g = row_norms(gyr)
    cs = lambda x: np.concatenate([[0.0], np.cumsum(x)])  # noqa: E731
    sum_g, sum_a, sum_a2 = cs(g), cs(a), cs(a * a)
    mean_a = (sum_a[w:] - sum_a[:-w]) / w  # windows [lo, lo + w) for lo = 0 … n − w, as slices
    var_a = np.maximum((sum_a2[w:] - sum_a2[:-w]) / w - mean_a**2, 0.0)
    centre = slice(w // 2, w // 2 + n - w + 1)
    gyr_mean[centre] = (sum_g[w:] - sum_g[:-w]) / w
    acc_sd[centre] = np.sqrt(var_a)
    return gyr_mean, acc_sd


def still_mask(
    t_s: np.ndarray, acc_mps2: np.ndarray, gyr_radps: np.ndarray, config: StillConfig = StillConfig(),
    rate_hz: float | None = None,
) -> np.ndarray:
    """``(N,)`` bool: True where the sample is still (centred window; see :func:`window_stats`)."""
    gyr_mean, acc_sd = window_stats(t_s, acc_mps2, gyr_radps, config, rate_hz)
    with np.errstate(invalid="ignore"):
        return (gyr_mean < config.gyr_norm_max_radps) & (acc_sd < config.acc_norm_sd_max_mps2)


def detect_still(
    t_s: np.ndarray, acc_mps2: np.ndarray, gyr_radps: np.ndarray, config: StillConfig = StillConfig()
) -> list[StillPeriod]:
    """Still periods of at least ``config.min_duration_s``, in time order.

    Parameters
    ----------
    t_s : (N,) s, strictly increasing.
    acc_mps2 : (N, 3) m/s², sensor frame (raw or calibrated).
    gyr_radps : (N, 3) rad/s, sensor frame (raw or calibrated).

    Returns
    -------
    list of StillPeriod
        Index ranges into the arrays, with their times.
    """
    mask = still_mask(t_s, acc_mps2, gyr_radps, config)
    t = np.asarray(t_s, dtype=float)
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    periods = []
    for i0, i1 in zip(starts, stops, strict=True):
        period = StillPeriod(int(i0), int(i1), float(t[i0]), float(t[i1 - 1]))
        if period.duration_s >= config.min_duration_s:
            periods.append(period)
    return periods


def detect_still_stream(stream: ImuStream, config: StillConfig = StillConfig()) -> list[StillPeriod]:
    """:func:`detect_still` on one stream's raw accelerometer and gyroscope."""
    return detect_still(stream.t_s, stream.acc_mps2, stream.gyr_radps, config)


class StillTracker:
    """Causal still test, one sample at a time (for live use and the guided procedure).

    Parameters
    ----------
    sample_rate_hz : nominal rate; fixes the window length in samples.
    config : StillConfig
    """

    def __init__(self, sample_rate_hz: float, config: StillConfig = StillConfig()) -> None:
        if not (math.isfinite(sample_rate_hz) and sample_rate_hz > 0):
            raise ValidationError(f"sample_rate_hz must be positive, got {sample_rate_hz!r}")
        self.config = config
        self.sample_rate_hz = float(sample_rate_hz)
        self.window_samples = config.window_samples(sample_rate_hz)
        self._g: deque[float] = deque()
        self._a: deque[float] = deque()
        self._sum_g = self._sum_a = self._sum_a2 = 0.0
        self.stats: WindowStats | None = None
        """Statistics of the newest full window (None until one window has been seen)."""

    def update(self, acc_mps2, gyr_radps) -> bool:
        """Add one sample (``(3,)`` m/s² and rad/s); True when the newest window is still."""
        g = math.hypot(*(float(v) for v in gyr_radps))
        a = math.hypot(*(float(v) for v in acc_mps2)) - GRAVITY_MPS2
        self._g.append(g)
        self._a.append(a)
        self._sum_g += g
        self._sum_a += a
        self._sum_a2 += a * a
        if len(self._g) > self.window_samples:
            g0, a0 = self._g.popleft(), self._a.popleft()
            self._sum_g -= g0
            self._sum_a -= a0
            self._sum_a2 -= a0 * a0
        if len(self._g) < self.window_samples:
            return False
        w = self.window_samples
        mean_a = self._sum_a / w
        var_a = max(self._sum_a2 / w - mean_a * mean_a, 0.0)
        self.stats = WindowStats(self._sum_g / w, math.sqrt(var_a))
        return self.stats.is_still(self.config)

    def reset(self) -> None:
        """Forget all samples (e.g. after a gap in the data)."""
        self.__init__(self.sample_rate_hz, self.config)


def _check_inputs(t_s, acc_mps2, gyr_radps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.asarray(t_s, dtype=float)
    acc = np.asarray(acc_mps2, dtype=float)
    gyr = np.asarray(gyr_radps, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValidationError(f"t_s must have shape (N,) with N >= 2, got {t.shape}")
    for name, arr in (("acc_mps2", acc), ("gyr_radps", gyr)):
        if arr.shape != (t.size, 3):
            raise ValidationError(f"{name} must have shape ({t.size}, 3), got {arr.shape}")
    return t, acc, gyr
