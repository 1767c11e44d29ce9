"""The line of progression: straight walking bouts, turns, and the walking direction of each bout.

Without a pelvis sensor, hip rotation is the femur's rotation relative to the line of progression
(docs/conventions.md). The walking direction must not come from the femur's own pointing (an
internally rotated femur would then look straight), so it comes from how the thigh swings: in
straight walking the knee travels forwards and backwards about the hip, so the principal
horizontal direction of the thigh's long axis over a bout is the walking direction (the sign
from the femur's flexion axis, which points to the right). Second moments of the swing *rate*
would do too, but they are more biased by the pelvis rotating with each step (measured on the
simulator: about 4° against about 2.4°; docs/accuracy.md). Even the long axis's swing leans about
2.5° towards the leg's lateral side in normal gait (pelvic obliquity and rotation, hip adduction
in time with flexion): when the side is known, that lean is removed with the normative model of
:mod:`imugait.kinematics.swing_tilt`, scaled to the swing measured in the bout.

Turns are found from the thigh's heading smoothed over about a stride (which removes the
stride-periodic hip rotation): where it turns faster than a threshold.

Within a bout the walking direction is fitted as a straight line in time, not a constant: the
person walks straight, but without a standing period the gyroscope's bias is not measured and a
6-axis heading drifts — on the MPU-9250 10-m walks the femur's rotation against a constant
direction crept by up to 11° over one 6-stride pass. Both the thigh's pointing and its swing
drift together, so the swing direction in short windows, fitted by a line over the bout, carries
the drift out of the hip rotation. A bout shorter than two windows keeps a constant direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import uniform_filter1d

from imugait.conventions import Side
from imugait.kinematics.swing_tilt import (
    heading_correction_rad,
    mean_of_rows,
    principal_horizontal_direction,
    swing_extent,
)
from imugait.quaternion import quat_rotate_each
from imugait.timebase import sample_period_s

SWING_RATE_HZ = 100.0
"""A bout's swing direction and extent are found from samples at least this often: a grid at
twice the rate or more is thinned to every k-th sample for them (the swing is ≈ 1 Hz; at 200 Hz
this halves the work, ≈ 0.3 s of CPU per hour of two legs, and moved hip rotation by ≤ 0.004° on
the simulated cohort, docs/benchmarks.md, sixth round)."""


@dataclass(frozen=True)
class ProgressionConfig:
    smoothing_s: float = 1.2
    turn_rate_min_degps: float = 25.0
    turn_margin_s: float = 0.6
    """Added before and after each turn: the steps into and out of a turn are not straight."""
    min_bout_s: float = 3.0
    correct_swing_lean: bool = True
    """Remove the normative lateral lean of the swing direction (needs the side)."""
    drift_window_s: float = 2.5
    """Windows (half-overlapping) in which the swing direction is found for the drift line: about
    two strides, so that each window holds whole swings."""
    follow_drift: bool = True
    """Fit the walking direction as a line in time within each bout (heading drift, see above)."""


@dataclass(frozen=True)
class Bout:
    """A straight walking bout: grid indices ``[start, stop)`` and its walking direction."""

    start: int
    stop: int
    heading_rad: float
    """Walking direction about world z (of the thigh sensor's world frame), at the bout's middle."""
    drift_radps: float = 0.0
    """How fast that direction drifts over the bout (the sensor's heading drift), rad/s."""


@dataclass(frozen=True, eq=False)
class Progression:
    bouts: tuple[Bout, ...]
    turning: np.ndarray
    """(M,) bool: inside a turn (with margins)."""
    heading_rad: np.ndarray
    """(M,) walking direction of the nearest bout at every instant (NaN if there is no bout)."""
    in_bout: np.ndarray
    """(M,) bool: inside a straight bout."""

    def bout_id(self) -> np.ndarray:
        """(M,) int: the index of the bout each instant is in, -1 outside bouts (what
        :func:`~imugait.gait.cycles.segment_strides` takes)."""
        out = np.full(self.in_bout.shape, -1)
        for i, bout in enumerate(self.bouts):
            out[bout.start : bout.stop] = i
        return out


_ZERO_ROW = np.zeros((1, 2))


def _smoothed_heading(x_world: np.ndarray, n: int) -> np.ndarray:
    hx = uniform_filter1d(x_world[:, 0], n, mode="nearest")
    hy = uniform_filter1d(x_world[:, 1], n, mode="nearest")
    return _unwrap(np.arctan2(hy, hx))


def _unwrap(p: np.ndarray) -> np.ndarray:
    """``np.unwrap(p)`` of angles (N,), rad — the same values, with the 2π corrections worked out
    only at the steps that are not below π (a smoothed heading wraps rarely; ``np.unwrap``'s
    ``mod`` over every step was most of its cost)."""
    dd = np.diff(p)
    jumps = np.flatnonzero(~(np.abs(dd) < np.pi))  # NaN steps too, as np.unwrap treats them
    correction = np.zeros(dd.shape)
    if jumps.size:
        d = dd[jumps]
        dmod = np.mod(d - -np.pi, 2 * np.pi) + -np.pi
        dmod[(dmod == -np.pi) & (d > 0)] = np.pi
        correction[jumps] = dmod - d
    up = np.array(p, dtype=float)
    up[1:] = p[1:] + correction.cumsum()
    return up


def find_progression(
    t_s: np.ndarray,
    q_world_thigh: np.ndarray,
    walking: np.ndarray,
    config: ProgressionConfig | None = None,
    side: Side | None = None,
    rate_hz: float | None = None,
) -> Progression:
    """Bouts, turns and walking direction from one thigh.

    Parameters
    ----------
    t_s : (M,) s. q_world_thigh : (M, 4) anatomical thigh frame in the thigh sensor's world.
    walking : (M,) bool, the leg is in motion.
    side : the thigh's side; without it the swing direction is used uncorrected.
    rate_hz : the grid's sample rate if known (measured from ``t_s`` otherwise).
    """
    config = config or ProgressionConfig()
    dt = sample_period_s(t_s, rate_hz)
    forward_world, axis_world, long_axis_world = quat_rotate_each(q_world_thigh, ([1.0, 0.0, 0.0], [0.0, 0.0, 1.0],
                                                                                 [0.0, 1.0, 0.0]))
    heading = _smoothed_heading(forward_world, max(int(round(config.smoothing_s / dt)), 1))
    del forward_world
    rate_degps = np.rad2deg(np.gradient(heading, dt))
    turning = _dilate(np.abs(rate_degps) > config.turn_rate_min_degps, int(round(config.turn_margin_s / dt)))
    straight = walking & ~turning
    edges = np.diff(np.r_[0, straight.astype(np.int8), 0])
    thin = max(int(1.0 / (dt * SWING_RATE_HZ) + 1e-6), 1)  # every thin-th sample: still ≥ SWING_RATE_HZ
    bout_side = side if config.correct_swing_lean else None
    spans = [slice(start, stop, thin) for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
             if (stop - start) * dt >= config.min_bout_s]
    headings = [_bout_heading(long_axis_world[span], axis_world[span], bout_side) for span in spans]
    drifts = _heading_drifts_radps(t_s, dt * thin, long_axis_world, axis_world, spans, bout_side, headings, config) \
        if config.follow_drift else [0.0] * len(spans)
    bouts = [Bout(int(span.start), int(span.stop), heading, drift) for span, heading, drift in zip(spans, headings, drifts, strict=True)]
    in_bout = np.zeros(t_s.shape, dtype=bool)
    for b in bouts:
        in_bout[b.start : b.stop] = True
    return Progression(tuple(bouts), turning, _nearest_bout_heading(t_s, bouts), in_bout)


def _bout_heading(long_axis_world: np.ndarray, flexion_axis_world: np.ndarray, side: Side | None) -> float:
    """Walking direction of a bout: the principal horizontal direction of the long-axis swing,
    less its normative lateral lean when ``side`` is given; axes (N, 3) world."""
    return float(_window_headings(long_axis_world[None], flexion_axis_world[None], side)[0])


def _window_headings(long_axis_world: np.ndarray, flexion_axis_world: np.ndarray, side: Side | None) -> np.ndarray:
    """:func:`_bout_heading` of K windows at once: axes (K, N, 3) world → headings (K,) rad."""
    ap = principal_horizontal_direction(long_axis_world[..., :2])
    heading = forward_heading_rad(ap, mean_of_rows(flexion_axis_world[..., :2]))
    if side is not None:
        heading += heading_correction_rad(side, swing_extent(np.einsum("knj,kj->kn", long_axis_world[..., :2], ap)))
    return heading


def forward_heading_rad(ap: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The heading (rad, about world z) of the principal directions ``ap`` (K, 2) (sign arbitrary;
    turned in place to point forward), forward being a quarter turn anticlockwise (seen from
    above) from ``right`` (K, 2), the flexion axis's horizontal part (any length)."""
    backwards = ap[:, 0] * -right[:, 1] + ap[:, 1] * right[:, 0] < 0
    ap[backwards] *= -1.0
    return np.arctan2(ap[:, 1], ap[:, 0])


def _heading_drifts_radps(
    t_s: np.ndarray, period_s: float, long_axis_world: np.ndarray, flexion_axis_world: np.ndarray, spans: list[slice],
    side: Side | None, bout_headings_rad: list[float], config: ProgressionConfig,
) -> list[float]:
    """Slope (rad/s) of a line through the swing direction of half-overlapping windows of each bout
    (``spans`` of ``t_s`` (M,) and the axes (M, 3) world, each sampled every ``period_s``); 0 for a
    bout with fewer than three windows. The windows of all bouts are one batch (each window's
    heading is its own, :func:`_window_headings`)."""
    n = max(int(round(config.drift_window_s / period_s)), 2)
    step = max(n // 2, 1)
    # (K, N, …) views of each bout's windows (no copies), gathered into one batch.
    window = lambda a: sliding_window_view(a, n, axis=0)[::step]  # noqa: E731
    fitted = [k for k, span in enumerate(spans) if len(range(0, t_s[span].size - n + 1, step)) >= 3]
    if not fitted:
        return [0.0] * len(spans)
    headings = _window_headings(*(np.concatenate([np.moveaxis(window(a[spans[k]]), -1, 1) for k in fitted])
                                  for a in (long_axis_world, flexion_axis_world)), side)
    drifts, first = [0.0] * len(spans), 0
    for k in fitted:
        centres = window(t_s[spans[k]]).mean(axis=1)
        deviations = np.angle(np.exp(1j * (headings[first:first + centres.size] - bout_headings_rad[k])))
        drifts[k] = float(np.polyfit(centres - centres.mean(), deviations, 1)[0])
        first += centres.size
    return drifts


def _nearest_bout_heading(t_s: np.ndarray, bouts: list[Bout]) -> np.ndarray:
    """Walking direction at every instant: inside a bout its drifting line, elsewhere the nearest
    bout's value at its nearest end."""
    out = np.full(t_s.size, np.nan)
    if not bouts:
        return out
    # Boundaries half-way across the gap between consecutive bouts split the grid among them, so
    # every sample of a bout is its own (half-way between bout centres gave a long bout's last
    # seconds to a shorter next one, walking the other way: a 180° error in hip rotation).
    gaps = np.array([(a.stop + b.start) / 2 for a, b in zip(bouts[:-1], bouts[1:], strict=True)])
    owner = np.searchsorted(gaps, np.arange(t_s.size), side="right")  # non-decreasing: each bout's samples are a run
    bounds = np.searchsorted(owner, np.arange(len(bouts) + 1))
    for k, b in enumerate(bouts):
        idx = np.arange(bounds[k], bounds[k + 1])
        t_mid = 0.5 * (t_s[b.start] + t_s[b.stop - 1])
        t_clamped = np.clip(t_s[idx], t_s[b.start], t_s[b.stop - 1])
        out[idx] = b.heading_rad + b.drift_radps * (t_clamped - t_mid)
    return out


def _dilate(mask: np.ndarray, n: int) -> np.ndarray:
    if n <= 0 or not mask.any():
        return mask
    return uniform_filter1d(mask.astype(float), 2 * n + 1, mode="constant") > 0


class CausalProgression:
    """The walking direction as the walk goes on: the causal (live) variant of :func:`find_progression`.

    Fed the thigh's anatomical orientation block after block, it keeps the same quantities from the
    past only:

    * turns from the thigh's heading smoothed over the *trailing* ``smoothing_s`` (offline: centred),
      marked for ``turn_margin_s`` after the turn rate last exceeded the threshold (offline: also
      before, which needs the future);
    * a straight run is walking outside a turn; its walking direction is found as offline but over
      the run so far (at most ``max_run_s`` of the newest samples): the swing's direction
      (:func:`_bout_heading`) and, with ``follow_drift``, the line in time that follows the heading
      drift (:func:`_heading_drifts_radps`), extrapolated to the newest samples
      (:meth:`direction_at`) — once the run is ``min_drift_run_s`` long (a slope from fewer
      windows is mostly noise: on the simulator, up to 3° off the offline line). Before the run is ``drift_window_s`` long there is no direction
      (hip rotation is withheld).

    Runs are numbered (0, 1, …) as they start; ``update`` returns each sample's run (-1 outside).
    The direction is fitted again once the run has grown by ``refit_s`` (and at every new run), not
    at every update: the fits span the run (up to ``max_run_s``) and cost most of an update.
    """

    def __init__(self, rate_hz: float, config: ProgressionConfig | None = None, side: Side | None = None,
                 max_run_s: float = 10.0, min_drift_run_s: float = 8.0, refit_s: float = 0.1) -> None:
        self.config = config or ProgressionConfig()
        self.side = side if self.config.correct_swing_lean else None
        self.dt_s = 1.0 / float(rate_hz)
        self._n_smooth = max(int(round(self.config.smoothing_s / self.dt_s)), 1)
        self._n_margin = int(round(self.config.turn_margin_s / self.dt_s))
        self._n_min_run = max(int(round(self.config.drift_window_s / self.dt_s)), 2)
        self._n_max_run = max(int(round(max_run_s / self.dt_s)), self._n_min_run)
        self._n_min_drift_run = int(round(min_drift_run_s / self.dt_s))
        self._n_refit = max(int(round(refit_s / self.dt_s)), 1)
        self._fitted = (-1, -1.0)  # (run, time of its newest sample) the direction was last fitted at
        self._x_tail = np.empty((0, 2))  # the thigh's forward axis, horizontal, the last n_smooth samples
        self._last_heading: float | None = None
        self._since_turn = self._n_margin + 1  # samples since the turn rate last exceeded the threshold
        # The current run's newest samples (at most n_max_run): times, long and flexion axes, in
        # buffers of twice that, so that a block is written in place (no copy of the whole run
        # per update) and the newest rows stay one contiguous slice ``[_r0, _r1)``.
        self._buf_t = np.empty(2 * self._n_max_run)
        self._buf_long = np.empty((2 * self._n_max_run, 3))
        self._buf_axis = np.empty((2 * self._n_max_run, 3))
        self._r0 = self._r1 = 0
        self._run_id = -1
        self.heading_rad = float("nan")
        """The walking direction of the current straight run at its middle ``t_mid_s`` (NaN outside
        a run or while it is short)."""
        self.drift_radps = 0.0
        self.t_mid_s = float("nan")

    def _extend_run(self, t_s: np.ndarray, long_axis: np.ndarray, flexion_axis: np.ndarray) -> None:
        """Add samples to the current run, keeping its newest ``n_max_run``."""
        n_max, m = self._n_max_run, t_s.shape[0]
        if m >= n_max:
            self._r0, self._r1, t_s, long_axis, flexion_axis = 0, 0, t_s[-n_max:], long_axis[-n_max:], flexion_axis[-n_max:]
            m = n_max
        elif self._r1 + m > self._buf_t.shape[0]:
            keep = min(self._r1 - self._r0, n_max - m)
            for b in (self._buf_t, self._buf_long, self._buf_axis):
                b[:keep] = b[self._r1 - keep:self._r1]
            self._r0, self._r1 = 0, keep
        for b, x in ((self._buf_t, t_s), (self._buf_long, long_axis), (self._buf_axis, flexion_axis)):
            b[self._r1:self._r1 + m] = x
        self._r1 += m
        self._r0 = max(self._r0, self._r1 - n_max)

    def end_run(self) -> None:
        """End the current straight run now (a walk declared ended while the person may still be
        walking): the next straight sample starts a new run; no direction until it is
        ``drift_window_s`` long. The turn detection's trailing heading goes on."""
        self._r0 = self._r1 = 0
        self._fitted = (-1, -1.0)
        self.heading_rad, self.drift_radps, self.t_mid_s = float("nan"), 0.0, float("nan")

    def direction_at(self, t_s: np.ndarray) -> np.ndarray:
        """The current run's walking direction (rad) at the instants ``t_s`` (its drift line)."""
        return self.heading_rad + self.drift_radps * (np.asarray(t_s, dtype=float) - self.t_mid_s)

    def update(self, t_s: np.ndarray, q_world_thigh: np.ndarray, walking: np.ndarray) -> np.ndarray:
        """Take the next samples: ``t_s`` (n,), ``q_world_thigh`` (n, 4) anatomical thigh frame in
        the thigh sensor's world, ``walking`` (n,) bool. Returns each sample's straight run (n,)
        int, -1 outside one; :meth:`direction_at` then gives the direction."""
        n = q_world_thigh.shape[0]
        if n == 0:
            return np.empty(0, dtype=int)
        forward, long_axis, flexion_axis = quat_rotate_each(q_world_thigh, ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]))
        # Trailing mean over n_smooth samples (fewer at the very start), from the cumulative sum
        # over the kept tail and the new samples (x: those rows).
        m = self._x_tail.shape[0]
        x = np.concatenate([_ZERO_ROW, self._x_tail, forward[:, :2]])  # (a zero row first)
        c = np.cumsum(x, axis=0)
        hi = np.arange(m + 1, m + n + 1)
        lo = np.maximum(hi - self._n_smooth, 0)
        mean = (c[hi] - c[lo]) / (hi - lo)[:, None]
        heading = np.arctan2(mean[:, 1], mean[:, 0])
        previous = heading[0] if self._last_heading is None else self._last_heading
        # (np.diff with prepend: this subtraction)
        step = np.angle(np.exp(1j * (heading - np.concatenate([[previous], heading[:-1]]))))
        fast = np.abs(np.rad2deg(step / self.dt_s)) > self.config.turn_rate_min_degps
        self._last_heading = float(heading[-1])
        self._x_tail = x[max(x.shape[0] - self._n_smooth, 1):]
        if np.count_nonzero(fast):
            idx = np.arange(n)
            last_fast = np.maximum.accumulate(np.where(fast, idx, -1))
            since_turn = np.where(last_fast >= 0, idx - last_fast, self._since_turn + idx + 1)
        else:  # (the common case: the same counts)
            since_turn = np.arange(self._since_turn + 1, self._since_turn + n + 1)
        self._since_turn = int(since_turn[-1])
        straight = np.asarray(walking, dtype=bool) & (since_turn > self._n_margin)
        if self._r1 > self._r0 and np.count_nonzero(straight) == n:
            runs = np.full(n, self._run_id)  # (the common case: the run goes on, no new one starts)
        else:
            runs = np.full(n, -1)
            # A run continues from the previous block while straight; each new start is a new run.
            starts = np.flatnonzero(straight & ~np.concatenate([[self._r1 > self._r0], straight[:-1]]))
            is_start = np.zeros(n, dtype=bool)
            is_start[starts] = True  # (np.isin(idx, starts): the same mask, without its search)
            number = np.cumsum(is_start) + self._run_id
            runs[straight] = number[straight]
            self._run_id = int(number[-1])
        if not straight[-1]:
            self._r0 = self._r1 = 0
        else:
            breaks = np.flatnonzero(~straight)
            first = int(breaks[-1]) + 1 if breaks.size else 0
            if first:
                self._r0 = self._r1 = 0  # a new run
            self._extend_run(t_s[first:], long_axis[first:], flexion_axis[first:])
        run_t, run_long, run_axis = (b[self._r0:self._r1] for b in (self._buf_t, self._buf_long, self._buf_axis))
        if run_long.shape[0] and self._fitted[0] == self._run_id \
                and run_t[-1] - self._fitted[1] < (self._n_refit - 0.5) * self.dt_s:
            return runs  # the same run, grown by less than ``refit_s``: the direction is kept
        self.heading_rad, self.drift_radps, self.t_mid_s = float("nan"), 0.0, float("nan")
        self._fitted = (self._run_id, float(run_t[-1]) if run_t.size else -1.0)
        if run_long.shape[0] >= self._n_min_run:
            self.heading_rad = _bout_heading(run_long, run_axis, self.side)
            self.t_mid_s = 0.5 * float(run_t[0] + run_t[-1])
            if self.config.follow_drift and run_long.shape[0] >= self._n_min_drift_run:
                self.drift_radps = _heading_drifts_radps(run_t, self.dt_s, run_long, run_axis, [slice(0, run_t.size)],
                                                         self.side, [self.heading_rad], self.config)[0]
        return runs
