"""Device clock → session (host) clock: offset and drift from the minimum-latency envelope.

Each sensor stamps its samples with its own crystal (µs, unwrapped by the decoder); the host
stamps each block's arrival on its monotonic clock. Per sensor we fit ``host = a + b·device`` to
the lower envelope of the (device time of a block's last sample, arrival) points over a sliding
window (:mod:`imugait.acquisition.envelope`). Two variants share that fit:

* :class:`OnlineClockMapper` — causal, updated as blocks arrive (live views, health);
* :func:`fit_offline` — for a finished recording: a window centred on each knot (every
  ``knot_interval_s`` of device time), knots joined piecewise linearly, so the start of a
  recording is as good as its middle.

What the mapping gives is the host time at which a sample *would have arrived with the smallest
latency seen*: the constant part of the transport latency cannot be observed from arrival times
alone, so it stays in the session clock (the same for sensors on the same kind of link).

A device clock step (reboot, clock restart) shows as points far below the line (impossible for a
latency) or persistently far above it; either starts a new clock segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.acquisition.envelope import LineFit, envelope_fit
from imugait.errors import ValidationError

_FEW_SAMPLES = 64
"""Up to this many device times are mapped in plain floats (numpy's cost per call would dominate)."""


@dataclass(frozen=True)
class ClockSyncConfig:
    """Settings of the device-to-host clock mapping (all times in seconds of device time)."""

    window_s: float = 60.0
    """Length of the sliding window the envelope is fitted over."""
    refit_interval_s: float = 0.5
    """Online: refit at most this often (the line in between is reused)."""
    min_span_s: float = 2.0
    """Below this window span the drift is not estimated (slope kept at its last value, or 1)."""
    max_drift_ppm: float = 1000.0
    """Bound of the crystal error; quartz is ±20–50 ppm, cheap RC oscillators up to ~1000."""
    step_threshold_s: float = 0.5
    """A residual beyond this (below the line, or above it for ``step_confirm_s``) is a clock step."""
    step_confirm_s: float = 3.0
    """How long residuals must stay above ``step_threshold_s`` before they count as a clock step
    rather than a transport stall (BLE stalls with a backlog last up to a few seconds)."""
    knot_interval_s: float = 2.0
    """Offline: spacing of the knots of the piecewise-linear mapping."""
    slew_fraction: float = 0.1
    """Live: when a refit moves the mapping back, the live times run this fraction slower than
    device time until the fit catches up (0.1: a 0.5-s correction is absorbed in 5 s)."""

    def __post_init__(self) -> None:
        if not (np.isfinite(self.slew_fraction) and 0 < self.slew_fraction < 1):
            raise ValidationError(f"ClockSyncConfig.slew_fraction must be in (0, 1), got {self.slew_fraction!r}")
        for name in ("window_s", "refit_interval_s", "min_span_s", "max_drift_ppm",
                     "step_threshold_s", "step_confirm_s", "knot_interval_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValidationError(f"ClockSyncConfig.{name} must be a positive number, got {value!r}")
        if self.min_span_s > self.window_s:
            raise ValidationError(
                f"ClockSyncConfig.min_span_s ({self.min_span_s} s) must not exceed window_s ({self.window_s} s)"
            )

    @property
    def slope_bounds(self) -> tuple[float, float]:
        return 1.0 - self.max_drift_ppm * 1e-6, 1.0 + self.max_drift_ppm * 1e-6


class OnlineClockMapper:
    """Causal device→host mapping of one sensor, refitted as blocks arrive.

    Call :meth:`update` once per block with the device time of its last sample and its arrival
    time; map any device times with :meth:`to_host_s`.

    Attributes
    ----------
    n_points : int — points (blocks) seen.
    segment_starts : list[int] — point indices where a clock segment began (``[0, …]``).
    """

    def __init__(self, config: ClockSyncConfig | None = None) -> None:
        self.config = config or ClockSyncConfig()
        self._origin_us: int | None = None
        self._points = _Window()
        self._fit: LineFit | None = None
        self._last_refit_x = -np.inf
        self._high_run = 0
        self._high_since_x = 0.0
        self.n_points = 0
        self.segment_starts: list[int] = []

    @property
    def ready(self) -> bool:
        return self._fit is not None

    @property
    def drift_ppm(self) -> float:
        """Estimated rate error of the device clock relative to the host clock (+ = device slow)."""
        return 0.0 if self._fit is None else (self._fit.slope - 1.0) * 1e6

    @property
    def window_span_s(self) -> float:
        points = self._points
        return 0.0 if len(points) < 2 else float(points.x[-1] - points.x[0])

    def update(self, t_device_us: int, arrival_s: float, new_segment: bool = False) -> bool:
        """Add one block's point; returns True when the point showed a clock step and started a
        new clock segment. ``new_segment``: the caller knows the device clock does not continue
        from the last point (the device restarted) — a new segment starts here, whatever the point
        looks like, and False is returned (no step was detected)."""
        if self._origin_us is None:
            self._origin_us = int(t_device_us)
            self.segment_starts.append(0)
        x = (int(t_device_us) - self._origin_us) * 1e-6
        y = float(arrival_s)
        index = self.n_points
        self.n_points += 1
        cfg = self.config
        stepped = False
        restarted = new_segment and index > 0
        if restarted:
            self._restart(keep_last=0, first_index=index)  # the drift estimate is kept as the prior
        elif self._fit is not None:
            residual_s = y - self._fit.at(x)
            if residual_s < -cfg.step_threshold_s:
                self._restart(keep_last=0, first_index=index)
                stepped = True
            elif residual_s > cfg.step_threshold_s:
                if self._high_run == 0:
                    self._high_since_x = x
                self._high_run += 1
                if x - self._high_since_x >= cfg.step_confirm_s:
                    self._restart(keep_last=self._high_run - 1, first_index=index - (self._high_run - 1))
                    stepped = True
            else:
                self._high_run = 0
        self._points.append(x, y)
        self._points.drop_older(x, cfg.window_s)
        if self._fit is None or stepped or restarted or x - self._last_refit_x >= cfg.refit_interval_s:
            self._refit()
        return stepped

    def to_host_s(self, t_device_us: np.ndarray | int) -> np.ndarray:
        """Host times (s, monotonic host clock) of device times (µs); needs one update first."""
        if self._fit is None or self._origin_us is None:
            raise ValidationError("the clock mapper has no data yet: call update() with a block first")
        t_us = np.asarray(t_device_us, dtype=np.int64)
        if t_us.ndim == 1 and t_us.size <= _FEW_SAMPLES:  # a block: plain floats, the same arithmetic
            return np.array(self.to_host_list(t_us.tolist()), dtype=float)
        return np.asarray(self._fit((t_us - self._origin_us) * 1e-6), dtype=float)

    def to_host_list(self, t_device_us: list[int]) -> list[float]:
        """:meth:`to_host_s` of a block's device times (µs) given as a list of ints, in plain
        floats: the same values, without arrays (a block of a few samples)."""
        if self._fit is None or self._origin_us is None:
            raise ValidationError("the clock mapper has no data yet: call update() with a block first")
        fit, origin_us = self._fit, self._origin_us
        offset, slope, x_ref = fit.offset, fit.slope, fit.x_ref
        # LineFit.at's arithmetic, written out: offset + slope * (x - x_ref).
        return [offset + slope * ((t - origin_us) * 1e-6 - x_ref) for t in t_device_us]

    def _restart(self, keep_last: int, first_index: int) -> None:
        self._points.keep_last(keep_last)
        self._high_run = 0
        self.segment_starts.append(first_index)

    def _refit(self) -> None:
        xs, ys = self._points.x, self._points.y
        prior = 1.0 if self._fit is None else self._fit.slope
        self._fit = _window_fit(xs, ys, self.config, prior)
        self._last_refit_x = xs[-1]


class _Window:
    """The (x, y) points of the mapper's sliding window, oldest first, in one buffer: appending and
    dropping the oldest never copy the window, and the fit reads it without conversion."""

    def __init__(self) -> None:
        self._xy = np.empty((2, 256))
        self._start = 0
        self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    @property
    def x(self) -> np.ndarray:
        return self._xy[0, self._start:self._end]

    @property
    def y(self) -> np.ndarray:
        return self._xy[1, self._start:self._end]

    def append(self, x: float, y: float) -> None:
        if self._end == self._xy.shape[1]:  # full: move the window to the front, twice as large if need be
            n = len(self)
            xy = np.empty((2, max(256, 2 * n))) if 2 * n > self._xy.shape[1] else self._xy
            xy[:, :n] = self._xy[:, self._start:self._end]
            self._xy, self._start, self._end = xy, 0, n
        self._xy[0, self._end] = x
        self._xy[1, self._end] = y
        self._end += 1

    def drop_older(self, newest_x: float, span: float) -> None:
        """Drop the oldest points while they are more than ``span`` before ``newest_x``."""
        xs = self._xy[0]
        while newest_x - xs[self._start] > span:
            self._start += 1

    def keep_last(self, n: int) -> None:
        self._start = max(self._start, self._end - n)


class MonotonicLiveTimes:
    """Live host times of one sensor that never step back when the causal fit is corrected.

    :class:`OnlineClockMapper` refits its line as blocks arrive; a refit that lowers the line (a
    new minimum-latency point early in a stream, or the end of a transport stall taken for a clock
    step) would map the next block before the end of the previous one. Each sample's time here is
    the fit's, but at least the previous sample's time plus ``1 - slew_fraction`` of the device
    time between them: a backward correction is slewed away at that rate instead of stepped, and
    once the fit has caught up the times are the fit's again (long-run accuracy unchanged).
    Forward corrections are applied at once (a forward step leaves a gap in time, no lost sample).
    After a device clock step (device time going back) the device spacing is counted from the
    block's first sample plus one nominal period.
    """

    def __init__(self, slew_fraction: float) -> None:
        if not (0 < slew_fraction < 1):
            raise ValidationError(f"slew_fraction must be in (0, 1), got {slew_fraction!r}")
        self.slew_fraction = float(slew_fraction)
        self._last_device_us: int | None = None
        self._last_host_s = -np.inf
        self.n_slewed = 0
        """Samples whose time was set later than the fit's."""

    def __call__(self, t_device_us: np.ndarray, fit_host_s: np.ndarray, period_s: float | None) -> np.ndarray:
        """Host times (s) of one block's ascending device times (µs), given the fit's times for them.

        ``period_s`` (the nominal sample period, None if not known yet: 1 µs) only spaces the first
        sample after a device clock step from the previous one.
        """
        t_us = np.asarray(t_device_us, dtype=np.int64)
        host = np.asarray(fit_host_s, dtype=float)
        if t_us.size == 0:
            return host.copy()
        if self._last_device_us is None:
            out = host.copy()
            self._last_device_us = int(t_us[-1])
            self._last_host_s = float(out[-1])
            return out
        return np.array(self.of_lists(t_us.tolist(), host.tolist(), period_s), dtype=float)

    def of_lists(self, t_list: list[int], fit_list: list[float], period_s: float | None) -> list[float]:
        """:meth:`__call__` with the block's device times (µs) and the fit's times (s) as plain
        lists (not empty), the host times returned as a list: the same values, no arrays."""
        if self._last_device_us is None:
            self._last_device_us = t_list[-1]
            self._last_host_s = fit_list[-1]
            return list(fit_list)
        # Plain floats: a block holds a few samples, and numpy's cost per call would dominate.
        since_us, since_s = self._last_device_us, 0.0
        if t_list[0] <= since_us:  # the device clock went back (a new clock segment)
            since_us, since_s = t_list[0], (period_s if period_s else 1e-6)
        slow = 1.0 - self.slew_fraction
        last_s = self._last_host_s
        times = []
        for t, fit_s in zip(t_list, fit_list, strict=True):
            dx_s = (t - since_us) * 1e-6 + since_s
            floor_s = last_s + slow * dx_s
            if floor_s > fit_s:
                self.n_slewed += 1
            # np.maximum's rule, NaN included: the fit's time unless the floor is later.
            times.append(fit_s if fit_s >= floor_s or fit_s != fit_s else floor_s)
        self._last_device_us = t_list[-1]
        self._last_host_s = times[-1]
        return times


@dataclass(frozen=True, eq=False)
class ClockMapping:
    """A finished recording's mapping of one clock segment: knots joined linearly.

    Attributes
    ----------
    knots_device_us : (k,) int64, µs device time.
    knots_host_s : (k,) float64, s host time at the knots.
    slope_first, slope_last : slopes used to extrapolate before the first / after the last knot.
    """

    knots_device_us: np.ndarray
    knots_host_s: np.ndarray
    slope_first: float
    slope_last: float

    def __call__(self, t_device_us: np.ndarray) -> np.ndarray:
        """Host times (s) of device times (µs), shape preserved."""
        origin = int(self.knots_device_us[0])
        x = (np.asarray(t_device_us, dtype=np.int64) - origin) * 1e-6
        kx = (self.knots_device_us - origin) * 1e-6
        ky = self.knots_host_s
        out = np.interp(x, kx, ky)
        before, after = x < kx[0], x > kx[-1]
        out[before] = ky[0] + self.slope_first * (x[before] - kx[0])
        out[after] = ky[-1] + self.slope_last * (x[after] - kx[-1])
        return out

    @property
    def drift_ppm(self) -> float:
        """Mean rate error of the device clock over the segment (+ = device clock slow)."""
        if self.knots_device_us.size < 2:
            return (self.slope_first - 1.0) * 1e6
        span_s = (int(self.knots_device_us[-1]) - int(self.knots_device_us[0])) * 1e-6
        return ((self.knots_host_s[-1] - self.knots_host_s[0]) / span_s - 1.0) * 1e6


def fit_offline(t_device_us: np.ndarray, arrival_s: np.ndarray, config: ClockSyncConfig | None = None) -> ClockMapping:
    """Mapping of one clock segment from all its points, windows centred on each knot.

    Parameters
    ----------
    t_device_us : (n,) int64, µs, device time of each block's last sample (ascending).
    arrival_s : (n,) float64, s, host arrival time of each block.
    config : ClockSyncConfig

    Returns
    -------
    ClockMapping
    """
    cfg = config or ClockSyncConfig()
    t_us = np.asarray(t_device_us, dtype=np.int64)
    y = np.asarray(arrival_s, dtype=float)
    if t_us.size == 0 or t_us.shape != y.shape:
        raise ValidationError(f"fit_offline needs matching non-empty point arrays, got {t_us.shape} and {y.shape}")
    order = np.argsort(t_us, kind="stable")
    t_us, y = t_us[order], y[order]
    origin = int(t_us[0])
    x = (t_us - origin) * 1e-6
    span_s = float(x[-1])
    # More knots than points carry no information (a knot's line is its window's points); the cap
    # never binds at real block rates, but keeps a damaged log's timestamps from asking for
    # billions of knots (found by fuzzing recover).
    n_knots = max(2, min(int(np.ceil(span_s / cfg.knot_interval_s)) + 1, t_us.size + 1))
    knots_x = np.linspace(0.0, span_s, n_knots) if span_s > 0 else np.zeros(1)
    fits: dict[tuple[int, int], LineFit] = {}
    knot_fits = []
    prior = 1.0
    for kx in knots_x:
        start = min(max(kx - cfg.window_s / 2, 0.0), max(span_s - cfg.window_s, 0.0))
        i0 = int(np.searchsorted(x, start, side="left"))
        i1 = max(int(np.searchsorted(x, start + cfg.window_s, side="right")), i0 + 1)
        key = (i0, i1)
        if key not in fits:
            fits[key] = _window_fit(x[i0:i1], y[i0:i1], cfg, prior)
            prior = fits[key].slope
        knot_fits.append(fits[key])
    knots_host = np.array([float(f(kx)) for f, kx in zip(knot_fits, knots_x, strict=True)])
    knots_us = origin + np.round(knots_x * 1e6).astype(np.int64)
    if knots_us.size == 1:
        knots_us = np.array([origin, origin + 1], dtype=np.int64)
        knots_host = np.array([knots_host[0], knots_host[0] + knot_fits[0].slope * 1e-6])
    return ClockMapping(knots_us, knots_host, knot_fits[0].slope, knot_fits[-1].slope)


def _window_fit(x: np.ndarray, y: np.ndarray, cfg: ClockSyncConfig, prior_slope: float) -> LineFit:
    lo, hi = cfg.slope_bounds
    if x.size < 2 or x[-1] - x[0] < cfg.min_span_s:
        # Too short to see drift: keep the slope we had and fit the offset only.
        return envelope_fit(x, y, prior_slope, prior_slope)
    return envelope_fit(x, y, lo, hi)
