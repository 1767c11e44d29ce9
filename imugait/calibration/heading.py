"""Magnetometer-free heading: keep the shank's world frame turned onto the thigh's.

With 6-axis fusion each sensor's heading drifts on its own, so knee rotation and varus/valgus
would drift too. Whenever the knee moves, the heading offset between thigh and shank is fixed by
the knee: it is re-estimated over sliding windows of motion and interpolated in between (it
changes only as slowly as the gyroscope biases drift). Two estimators share the windows:

* :func:`track_heading_offset_from_centre` — the joint centre's acceleration seen from both
  sensors (:mod:`imugait.calibration.joint_centre`); unbiased by the knee's secondary motion and
  free of sign ambiguities, used whenever the accelerations determine the heading;
* :func:`track_heading_offset` — the two-axis rotation constraint of
  :mod:`imugait.calibration.knee_axes` (needs the knee axes; biased by about 1° by the tibia's
  rotation and varus/valgus that come with flexion);
* :func:`track_heading_offset_from_axes` — the two flexion axes lined up in the horizontal plane
  (no knee model at all; the pose-only fallback, :mod:`imugait.calibration.pose`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation
from scipy.special import stdtrit

from imugait.calibration.joint_centre import RESIDUAL_SCALE_MPS2, JointCentre, headings_between
from imugait.calibration.knee_axes import (
    KneeAxes,
    constraint_residual_radps,
    heading_offset_from_axes,
)
from imugait.calibration.recording import LegRecording


@dataclass(frozen=True)
class HeadingConfig:
    window_s: float = 8.0
    step_s: float = 8.0
    """Windows of the rotation constraint (it needs several strides to be well conditioned)."""
    centre_window_s: float = 4.0
    centre_step_s: float = 2.0
    """Windows of the joint-centre estimate: a few strides fix the heading to a fraction of a
    degree, and short windows follow the gyroscopes' heading drift closely and put the first
    estimate next to the standing reference (where the shank frame is defined)."""
    centre_residual_scale_mps2: float = RESIDUAL_SCALE_MPS2
    """Scale (m/s²) of the Cauchy loss of each knee-centre window's heading
    (:func:`~imugait.calibration.joint_centre.headings_between`): residuals well above it are
    discounted. Wider (3) is measured to lower the Geneva walks' knee heading error and leave
    the simulator's about as it was, slightly worse with soft tissue (``docs/validation.md``,
    *The knee-centre heading: other weightings*); not the default."""
    centre_window_offset: bool = False
    """Fit a constant horizontal vector per knee-centre window with the heading
    (:func:`~imugait.calibration.joint_centre.headings_between` ``with_offset``): the gravity that a
    slowly varying inclination error of either fusion leaks into the horizontal. Measured in
    ``docs/validation.md``, *The knee-centre heading: other weightings*; not the default."""
    min_motion_fraction: float = 0.5
    """A window is used when at least this fraction of it is knee motion."""
    max_samples_per_window: int = 200
    live_step_s: float = 2.0
    """Live (:mod:`imugait.live.heading_track`): windows of the same length every this many seconds (the
    offline windows among them), so the newest estimate the angles hold is at most this much
    older than a window can be. A stride's final version interpolates between the offline
    windows (every ``centre_step_s``) whatever this is; shorter steps (0.5 s) bring the angles
    shown and the strides as first shown closer to ``analyze`` on drifting real sensors (HuGaDB
    knee rotation, median row 4.05 → 3.42°) for about 2 ms of CPU per second of data a leg
    (docs/live-history.md, "The heading offset after the calibration")."""
    drift_points: int = 0
    """Live: windows (one offline step apart, the newest last) a drift of the offset is fitted to
    before it is extrapolated past the newest (:func:`drift_rate_radps`); 0 (the default): held.
    Measured (docs/live-history.md, "The heading offset after the calibration"): 4 points lower
    the median and 95th-percentile differences on the real recordings but raise the largest ones,
    and take the simulator's knee rotation and valgus peak over the 1° contract."""


@dataclass(frozen=True, eq=False)
class HeadingTrack:
    """``heading_offset_rad`` (M,) over the grid; ``window_t_s``/``window_offset_rad`` the
    estimates it was interpolated from; their residuals are ``window_residual_radps`` (rotation
    constraint) or ``window_residual_mps2`` (joint centre), the other one empty."""

    heading_offset_rad: np.ndarray
    window_t_s: np.ndarray
    window_offset_rad: np.ndarray
    window_residual_radps: np.ndarray
    window_residual_mps2: np.ndarray = field(default_factory=lambda: np.array([]))


def track_heading_offset(
    rec: LegRecording, motion: np.ndarray, axes: KneeAxes, config: HeadingConfig | None = None
) -> HeadingTrack:
    """Heading offset (rad, about world z) of the shank sensor's world frame relative to the
    thigh sensor's, at every instant of ``rec.t_s`` (M,); ``motion`` (M,) bool marks knee motion."""
    config = config or HeadingConfig()
    t_s = rec.t_s
    centres, offsets, residuals = [], [], []
    previous = axes.heading_offset_rad
    for idx in _windows(t_s, rec.rate_hz, motion, config.window_s, config.step_s, config, rec.first_row):
        r1 = Rotation.from_quat(rec.q_world_thigh_sensor[idx], scalar_first=True)
        r2 = Rotation.from_quat(rec.q_world_shank_sensor[idx], scalar_first=True)
        w1, w2 = rec.gyr_thigh_radps[idx], rec.gyr_shank_radps[idx]

        def residual(x: np.ndarray, r1=r1, r2=r2, w1=w1, w2=w2) -> np.ndarray:
            return constraint_residual_radps(r1, r2, w1, w2, axes.flexion_axis_thigh, axes.rotation_axis_shank, x[0])

        fit = least_squares(residual, [previous], method="lm")
        previous = float(fit.x[0])
        centres.append(float(np.mean(t_s[idx])))
        offsets.append(previous)
        residuals.append(float(np.sqrt(np.mean(fit.fun**2))))
    track = interpolated_track(t_s, centres, offsets, axes.heading_offset_rad)
    return HeadingTrack(*track, window_residual_radps=np.array(residuals))


def track_heading_offset_from_centre(
    rec: LegRecording, motion: np.ndarray, centre: JointCentre, config: HeadingConfig | None = None
) -> HeadingTrack:
    """Heading offset (rad, about world z) of the shank sensor's world frame relative to the
    thigh sensor's at every instant of ``rec.t_s`` (M,), from the joint centre's acceleration seen
    from both sensors (``centre`` gives where it is); ``motion`` (M,) bool marks knee motion."""
    config = config or HeadingConfig()
    t_s = rec.t_s
    windows = _windows(t_s, rec.rate_hz, motion, config.centre_window_s, config.centre_step_s, config, rec.first_row)
    if not windows:
        track = interpolated_track(t_s, [], [], centre.heading_offset_rad)
        return HeadingTrack(*track, window_residual_radps=np.array([]), window_residual_mps2=np.array([]))
    # The centre's force only where a window samples it, all windows' estimates at once.
    sampled = np.zeros(t_s.size, dtype=bool)
    sampled[np.concatenate(windows)] = True
    used = np.flatnonzero(sampled)
    f1, f2 = centre.forces_world_mps2(rec, used)
    n_max = max(idx.size for idx in windows)
    rows = np.zeros((len(windows), n_max), dtype=np.intp)
    valid = np.arange(n_max) < np.array([idx.size for idx in windows])[:, None]
    rows[valid] = (np.cumsum(sampled) - 1)[np.concatenate(windows)]  # where each sample is in `used`
    deltas, residuals = headings_between(f1[rows], f2[rows], valid, config.centre_residual_scale_mps2,
                                         with_offset=config.centre_window_offset)
    centres = _window_centres(t_s, windows)
    track = interpolated_track(t_s, centres, list(deltas), centre.heading_offset_rad)
    return HeadingTrack(*track, window_residual_radps=np.array([]), window_residual_mps2=residuals)


def track_heading_offset_from_axes(
    rec: LegRecording,
    motion: np.ndarray,
    flexion_axis_thigh: np.ndarray,
    flexion_axis_shank: np.ndarray,
    fallback_rad: float,
    config: HeadingConfig | None = None,
) -> HeadingTrack:
    """Heading offset (rad, about world z) of the shank sensor's world frame relative to the
    thigh sensor's at every instant of ``rec.t_s`` (M,): over windows of knee motion (``motion``
    (M,) bool), the heading that lines the shank's flexion axis (3,, its sensor frame) up with the
    thigh's in the horizontal plane; ``fallback_rad`` where no window has enough motion."""
    config = config or HeadingConfig()
    t_s = rec.t_s
    centres, offsets = [], []
    for idx in _windows(t_s, rec.rate_hz, motion, config.centre_window_s, config.centre_step_s, config,
                        rec.first_row):
        r1 = Rotation.from_quat(rec.q_world_thigh_sensor[idx], scalar_first=True)
        r2 = Rotation.from_quat(rec.q_world_shank_sensor[idx], scalar_first=True)
        centres.append(float(np.mean(t_s[idx])))
        offsets.append(heading_offset_from_axes(r1.apply(flexion_axis_thigh), r2.apply(flexion_axis_shank)))
    track = interpolated_track(t_s, centres, offsets, fallback_rad)
    return HeadingTrack(*track, window_residual_radps=np.array([]))


def _windows(
    t_s: np.ndarray, rate_hz: float, motion: np.ndarray, window_s: float, step_s: float, config: HeadingConfig,
    first_row: int = 0,
) -> list[np.ndarray]:
    """Sample indices (evenly thinned) of each window with enough knee motion (``t_s`` sampled at
    ``rate_hz``), in time order. All windows at once: each window's knee-motion samples are a run
    of the motion samples (found by bisection), and windows with as many of them share one
    thinning pattern (``np.linspace`` as before: the same indices). Windows start at multiples of
    the step from row ``-first_row`` (the first row of the grid ``t_s`` was cut from, whose
    windows these are: :attr:`~imugait.calibration.recording.LegRecording.first_row`)."""
    dt = 1.0 / rate_hz
    n_win, n_step = int(round(window_s / dt)), max(int(round(step_s / dt)), 1)
    starts = np.arange((-first_row) % n_step, max(t_s.size - n_win, 0) + 1, n_step)
    moving = np.flatnonzero(motion)
    first = np.searchsorted(moving, starts)
    sizes = np.searchsorted(moving, np.minimum(starts + n_win, t_s.size)) - first
    keep = sizes >= config.min_motion_fraction * n_win
    first, sizes = first[keep], sizes[keep]
    windows: list[np.ndarray] = [np.empty(0, dtype=np.intp)] * sizes.size
    for size in np.unique(sizes):
        of_size = np.flatnonzero(sizes == size)
        picks = np.linspace(0, size - 1, min(size, config.max_samples_per_window)).astype(int)
        rows = moving[first[of_size, None] + picks]
        for k, row in zip(of_size, rows, strict=True):
            windows[k] = row
    return windows


def _window_centres(t_s: np.ndarray, windows: list[np.ndarray]) -> list[float]:
    """Mean time (s) of each window's samples — windows with as many samples at once (a row's
    mean is the same sum as the mean of the row alone)."""
    sizes = np.array([idx.size for idx in windows])
    centres = np.empty(sizes.size)
    for size in np.unique(sizes):
        of_size = np.flatnonzero(sizes == size)
        centres[of_size] = t_s[np.stack([windows[k] for k in of_size])].mean(axis=1)
    return centres.tolist()


def interpolated_track(
    t_s: np.ndarray, centres: list[float], offsets: list[float], fallback_rad: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(track over ``t_s``, window centres, unwrapped window offsets): the window estimates
    ``offsets`` (rad) unwrapped and interpolated linearly between their ``centres`` (s), held
    before the first and after the last — offline's track, and the final version of a live
    stride (:mod:`imugait.live.heading_track`); ``fallback_rad`` everywhere when there is no window."""
    if not centres:
        # No window with enough motion: keep the calibration's offset.
        return np.full(t_s.shape, fallback_rad), np.array([]), np.array([])
    offsets_arr = np.unwrap(np.array(offsets))
    return np.interp(t_s, np.array(centres), offsets_arr), np.array(centres), offsets_arr


DRIFT_SIGNIFICANCE = 0.05
"""Two-sided level of the t test a fitted drift must pass to be extrapolated (the usual 5 %)."""


def drift_rate_radps(centres_s: np.ndarray, offsets_rad: np.ndarray) -> float:
    """The rate (rad/s) of the heading offset's drift through the window estimates ``offsets_rad``
    (K,) at ``centres_s`` (K,) (least squares), or 0 when it is not significant against their
    scatter about the line (slope's t statistic below Student's two-sided
    ``DRIFT_SIGNIFICANCE`` quantile with K - 2 degrees of freedom) or K < 3.

    The causal counterpart of the offline track's interpolation (:func:`interpolated_track`) after
    the newest window: with 6-axis fusion each sensor's heading drifts with its residual gyroscope
    bias (on real sensors about 2°/s, steadily over tens of seconds), and a held estimate lags it
    by half a window and more; where the drift is within the windows' scatter (the simulator)
    holding is better than extrapolating noise."""
    k = centres_s.size
    if k < 3:
        return 0.0
    dt = centres_s - centres_s.mean()
    sxx = float(dt @ dt)
    if sxx <= 0.0:
        return 0.0
    rate = float(dt @ (offsets_rad - offsets_rad.mean())) / sxx
    residual = offsets_rad - offsets_rad.mean() - rate * dt
    se = np.sqrt(float(residual @ residual) / (k - 2) / sxx)
    return rate if abs(rate) > stdtrit(k - 2, 1.0 - 0.5 * DRIFT_SIGNIFICANCE) * se else 0.0
