"""A sensor back after a dropped link: the orientation its online filter continues from.

Lost samples are bridged for the filter as offline (interpolated rates and accelerations at the
lost instants). Over a long gap while walking that bridge is not data: the online VQF's
orientation came back 145° off in inclination and settled over seconds (its 3-s accelerometer time
constant; docs/live.md). Instead, after a gap longer than a threshold the filter is re-seeded from
the first ``window`` of samples after it:

* **inclination**: the accelerations of the window, each turned into the frame of the window's
  start by the gyroscope (integrated from there, bias removed), averaged. Over whole strides the
  leg's own acceleration averages out (its velocity comes back) and gravity remains — so the
  window is a whole number of the sensor's strides before the gap (:func:`stride_period_s`; on
  the simulated walk a window of 1.5 strides left the knee flexion 9° off, one or two strides
  0.2–1.4°);
* **heading** (6D: unobservable from the samples): the sensor's mean heading over the same length
  before the gap, carried over, plus how much the other sensor of the leg turned across the gap
  when it streamed on (the person may have turned). Heading here is the twist about world z
  (``q = q_z(ψ) ⊗ q_tilt``), which a flexion about a horizontal axis does not change, and it is
  averaged over a window, which evens out what the gait cycle adds.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from imugait.quaternion import quat_about_z, quat_multiply, quat_rotate
from imugait.timebase import sample_period_s


def gyro_rotations(gyr_radps: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
    """(N, 4) the rotation from the frame before the first sample to the frame after each sample,
    integrating ``gyr_radps`` (N, 3) over the steps ``dt_s`` (N,) as a strapdown filter does."""
    angle = np.linalg.norm(gyr_radps, axis=1) * dt_s
    axis = np.divide(gyr_radps, np.linalg.norm(gyr_radps, axis=1, keepdims=True),
                     out=np.zeros_like(gyr_radps), where=angle[:, None] > 0)
    steps = np.column_stack([np.cos(0.5 * angle), axis * np.sin(0.5 * angle)[:, None]])
    out = np.empty_like(steps)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    for i, step in enumerate(steps):
        q = quat_multiply(q, step)
        out[i] = q
    return out


def heading_rad(q_world_sensor: np.ndarray) -> np.ndarray:
    """The twist about world z of each orientation (N, 4) → (N,) rad (``q = q_z(ψ) ⊗ q_tilt``)."""
    q = np.asarray(q_world_sensor, dtype=np.float64)
    return 2.0 * np.arctan2(q[..., 3], q[..., 0])


def mean_heading_rad(q_world_sensor: np.ndarray) -> float:
    """Circular mean of :func:`heading_rad` (NaN for none)."""
    psi = heading_rad(q_world_sensor)
    psi = psi[np.isfinite(psi)]
    return float(np.angle(np.mean(np.exp(1j * psi)))) if psi.size else float("nan")


def stride_rhythm(t_s: np.ndarray, gyr_radps: np.ndarray, min_s: float = 0.6, max_s: float = 2.5,
                  smooth_s: float = 0.0) -> tuple[float, float] | None:
    """``(lag_s, correlation)``: the lag (s) in ``[min_s, max_s]`` of the highest autocorrelation of
    the gyroscope's magnitude over ``t_s`` (N,), ``gyr_radps`` (N, 3), and that autocorrelation;
    None when the rows are too few for a lag. ``smooth_s``: the magnitude is first averaged over a
    moving window this long (s; 0: not), which keeps a stride's swing and evens out the short spikes
    of each foot's impact that differ from stride to stride."""
    if t_s.size < 4:
        return None
    dt = sample_period_s(t_s)
    x = np.linalg.norm(gyr_radps, axis=1)
    if smooth_s > 0.0:
        x = uniform_filter1d(x, max(int(round(smooth_s / dt)), 1), mode="nearest")
    x = x - x.mean()
    lags = np.arange(max(int(round(min_s / dt)), 1), min(int(round(max_s / dt)), x.size // 2) + 1)
    if lags.size == 0:
        return None
    r = np.array([np.dot(x[:-lag], x[lag:]) / (np.linalg.norm(x[:-lag]) * np.linalg.norm(x[lag:]) + 1e-12)
                  for lag in lags])
    best = int(np.argmax(r))
    return float(lags[best] * dt), float(r[best])


def stride_period_s(t_s: np.ndarray, gyr_radps: np.ndarray, min_s: float = 0.6, max_s: float = 2.5,
                    min_correlation: float = 0.5, smooth_s: float = 0.0) -> float | None:
    """The period (s) of the gyroscope's magnitude over ``t_s`` (N,), ``gyr_radps`` (N, 3): the lag
    of :func:`stride_rhythm`, if its autocorrelation is at least ``min_correlation`` (walking); None
    otherwise (standing, turning, too short)."""
    found = stride_rhythm(t_s, gyr_radps, min_s, max_s, smooth_s)
    return found[0] if found is not None and found[1] >= min_correlation else None


def reseed_orientation(gyr_radps: np.ndarray, acc_mps2: np.ndarray, dt_s: np.ndarray,
                       heading_before_rad: float) -> np.ndarray:
    """(4,) ``q_world_sensor`` just before the first of the window's samples (gyroscope (N, 3)
    rad/s with the bias removed, accelerometer (N, 3) m/s², steps (N,) s: see the module
    docstring), whose orientations over the window have the mean heading ``heading_before_rad``
    (0 when NaN)."""
    rotations = gyro_rotations(gyr_radps, dt_s)
    up = np.mean(quat_rotate(rotations, acc_mps2), axis=0)  # specific force: up, frame of the start
    up /= np.linalg.norm(up)
    tilt = np.array([1.0 + up[2], up[1], -up[0], 0.0])  # shortest arc taking ``up`` onto world z
    tilt = tilt / np.linalg.norm(tilt) if np.linalg.norm(tilt) > 1e-9 else np.array([0.0, 1.0, 0.0, 0.0])
    psi = mean_heading_rad(quat_multiply(np.broadcast_to(tilt, rotations.shape), rotations))
    target = heading_before_rad if np.isfinite(heading_before_rad) else 0.0
    return quat_multiply(quat_about_z(target - psi), tilt)

