"""Magnetometer-free heading: keep the shank's world frame turned onto the thigh's.

With 6-axis fusion each sensor's heading drifts on its own, so knee rotation and varus/valgus
would drift too. The knee constraint of :mod:`imugait.calibration.knee_axes` fixes the heading
offset between thigh and shank whenever the knee moves: it is re-estimated over sliding windows of
motion and interpolated in between (it changes only as slowly as the gyroscope biases drift).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from imugait.calibration.knee_axes import KneeAxes, constraint_residual_radps


@dataclass(frozen=True)
class HeadingConfig:
    window_s: float = 8.0
    step_s: float = 8.0
    min_motion_fraction: float = 0.5
    """A window is used when at least this fraction of it is knee motion."""
    max_samples_per_window: int = 200


@dataclass(frozen=True, eq=False)
class HeadingTrack:
    """``heading_offset_rad`` (M,) over the grid; ``window_t_s``/``window_offset_rad`` the
    estimates it was interpolated from; ``window_residual_radps`` their constraint residuals."""

    heading_offset_rad: np.ndarray
    window_t_s: np.ndarray
    window_offset_rad: np.ndarray
    window_residual_radps: np.ndarray


def track_heading_offset(
    t_s: np.ndarray,
    q_world_thigh_sensor: np.ndarray,
    q_world_shank_sensor: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    motion: np.ndarray,
    axes: KneeAxes,
    config: HeadingConfig | None = None,
) -> HeadingTrack:
    """Heading offset (rad, about world z) of the shank sensor's world frame relative to the
    thigh sensor's, at every instant of ``t_s`` (M,). Inputs are (M, 4) / (M, 3) on that grid;
    ``motion`` (M,) bool marks knee motion."""
    config = config or HeadingConfig()
    dt = float(np.median(np.diff(t_s)))
    n_win, n_step = int(round(config.window_s / dt)), max(int(round(config.step_s / dt)), 1)
    centres, offsets, residuals = [], [], []
    previous = axes.heading_offset_rad
    for start in range(0, max(t_s.size - n_win, 0) + 1, n_step):
        idx = np.arange(start, min(start + n_win, t_s.size))
        idx = idx[motion[idx]]
        if idx.size < config.min_motion_fraction * n_win:
            continue
        idx = idx[np.linspace(0, idx.size - 1, min(idx.size, config.max_samples_per_window)).astype(int)]
        r1 = Rotation.from_quat(q_world_thigh_sensor[idx], scalar_first=True)
        r2 = Rotation.from_quat(q_world_shank_sensor[idx], scalar_first=True)
        w1, w2 = gyr_thigh_radps[idx], gyr_shank_radps[idx]

        def residual(x: np.ndarray, r1=r1, r2=r2, w1=w1, w2=w2) -> np.ndarray:
            return constraint_residual_radps(r1, r2, w1, w2, axes.flexion_axis_thigh, axes.rotation_axis_shank, x[0])

        fit = least_squares(residual, [previous], method="lm")
        previous = float(fit.x[0])
        centres.append(float(np.mean(t_s[idx])))
        offsets.append(previous)
        residuals.append(float(np.sqrt(np.mean(fit.fun**2))))
    if not centres:
        # No window with enough motion: keep the calibration's offset.
        track = np.full(t_s.shape, axes.heading_offset_rad)
        return HeadingTrack(track, np.array([]), np.array([]), np.array([]))
    offsets_arr = np.unwrap(np.array(offsets))
    track = np.interp(t_s, np.array(centres), offsets_arr)
    return HeadingTrack(track, np.array(centres), offsets_arr, np.array(residuals))
