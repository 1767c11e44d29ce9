"""The knee's hinge axis in each sensor frame from the two gyroscopes (Seel, Raisch & Schauer
2014, Sensors 14:6891), made to hold on real legs: low-passed rates, the thigh's axis about its
long axis, signs from walking's swing (:mod:`imugait.calibration.swing`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import least_squares

from imugait.calibration.knee_axes import angles_from_unit, unit_from_angles
from imugait.calibration.swing import (
    Swing,
    forward_backward_ratio,
    swing_correlation,
    swing_rates_at,
)

if TYPE_CHECKING:
    from imugait.calibration.segment import SegmentCalibrationConfig


def _principal_axis(gyr_radps: np.ndarray) -> np.ndarray:
    """Axis of largest angular-rate variance (the flexion axis dominates in gait)."""
    _, vecs = np.linalg.eigh(gyr_radps.T @ gyr_radps)
    return vecs[:, -1]


@dataclass(frozen=True)
class HingeFit:
    """The knee's hinge axis in each sensor frame (unit (3,), pointing to the subject's right by the
    sign rule of the module docstring), the fit's residual and the knee-flexion rate RMS (rad/s),
    and how the thigh swings with the shank (:mod:`imugait.calibration.swing`)."""

    axis_thigh: np.ndarray
    axis_shank: np.ndarray
    residual_rms_radps: float
    motion_rms_radps: float
    swing: Swing
    swing_peak_thigh_radps: float
    swing_peak_shank_radps: float
    """99th percentile of the thigh's and shank's low-passed |rate| about their axes (swap check)."""
    thigh_forward_ratio: float
    """:func:`~imugait.calibration.swing.forward_backward_ratio` of the thigh about its signed axis."""


def fit_hinge_axes(
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    rate_hz: float,
    mask: np.ndarray | None = None,
    config: SegmentCalibrationConfig | None = None,
    up_thigh: np.ndarray | None = None,
) -> HingeFit:
    """Knee flexion axis in both sensor frames from simultaneous gyroscope samples (M, 3), rad/s,
    sampled at ``rate_hz``, fitted on the ``mask`` (M,) samples (all when None).

    The rates are low-passed first (:func:`~imugait.calibration.swing.swing_rates`): the swing of walking is slow,
    while a sensor shaking on its strap (4–5 Hz on the qmt example recording) adds rates about
    every axis that would swamp the hinge cost. With ``up_thigh`` (3,), the thigh's long axis in
    its sensor frame (gravity while upright), the thigh's axis is fitted perpendicular to it: a
    real thigh sensor also turns about the femur on the soft tissue under the strap, which the
    free fit takes for flexion (on the qmt thighs it put the axis 76–83° from horizontal).
    """
    if config is None:
        from imugait.calibration.segment import (
            SegmentCalibrationConfig,  # the config lives with its users
        )

        config = SegmentCalibrationConfig()
    mask = np.ones(gyr_thigh_radps.shape[0], dtype=bool) if mask is None else mask
    gyr_thigh = swing_rates_at(gyr_thigh_radps, rate_hz, mask)
    gyr_shank = swing_rates_at(gyr_shank_radps, rate_hz, mask)
    n = gyr_thigh.shape[0]
    take = np.linspace(0, n - 1, min(n, config.max_fit_samples)).astype(int)
    w1, w2 = gyr_thigh[take], gyr_shank[take]

    # |ω × j| for a unit j is sqrt(|ω|² − (ω·j)²): one matrix-vector product per evaluation
    # instead of a cross product and a norm (the fit evaluates it ≈ 50 times per leg).
    sq1, sq2 = np.einsum("ij,ij->i", w1, w1), np.einsum("ij,ij->i", w2, w2)

    def residual(x: np.ndarray) -> np.ndarray:
        j1, j2 = unit_from_angles(x[0], x[1]), unit_from_angles(x[2], x[3])
        return np.sqrt(np.maximum(sq1 - (w1 @ j1) ** 2, 0.0)) - np.sqrt(np.maximum(sq2 - (w2 @ j2) ** 2, 0.0))

    # The flexion axis dominates both gyroscopes in gait: their principal axes start the fit
    # close to the optimum, which avoids the local minima of the hinge cost.
    x0 = np.r_[angles_from_unit(_principal_axis(w1)), angles_from_unit(_principal_axis(w2))]
    best = least_squares(residual, x0, method="lm")
    j1, j2 = unit_from_angles(*best.x[:2]), unit_from_angles(*best.x[2:])
    if up_thigh is not None:
        j1 = _axis_about_long_axis(w1, np.linalg.norm(np.cross(w2, j2), axis=1), up_thigh / np.linalg.norm(up_thigh))
    j1, j2, swing = sign_by_gait(j1, j2, gyr_thigh, gyr_shank, rate_hz)
    rate_thigh, rate_shank = gyr_thigh @ j1, gyr_shank @ j2
    fit_residual = np.linalg.norm(np.cross(w1, j1), axis=1) - np.linalg.norm(np.cross(w2, j2), axis=1)
    knee_rate = rate_shank - rate_thigh
    return HingeFit(
        axis_thigh=j1, axis_shank=j2, residual_rms_radps=float(np.sqrt(np.mean(fit_residual**2))),
        motion_rms_radps=float(np.sqrt(np.mean(knee_rate**2))), swing=swing,
        swing_peak_thigh_radps=float(np.percentile(np.abs(rate_thigh), 99)),
        swing_peak_shank_radps=float(np.percentile(np.abs(rate_shank), 99)),
        thigh_forward_ratio=forward_backward_ratio(rate_thigh),
    )


def sign_by_gait(
    axis_thigh: np.ndarray, axis_shank: np.ndarray, swing_thigh_radps: np.ndarray, swing_shank_radps: np.ndarray,
    rate_hz: float,
) -> tuple[np.ndarray, np.ndarray, Swing]:
    """The two flexion axes (3,) signed by walking: the shank swings forward faster than it
    returns, the thigh swings with the shank at the lag of best fit. The rates (N, 3) are the
    sensors' :func:`~imugait.calibration.swing.swing_rates`. Returns the signed axes and the swing
    (its correlation then positive)."""
    rate_shank = swing_shank_radps @ axis_shank
    if np.percentile(rate_shank, 99.5) < -np.percentile(rate_shank, 0.5):
        axis_shank, rate_shank = -axis_shank, -rate_shank
    swing = swing_correlation(swing_thigh_radps @ axis_thigh, rate_shank, rate_hz)
    if swing.correlation < 0:
        axis_thigh, swing = -axis_thigh, Swing(-swing.correlation, swing.lag_s)
    return axis_thigh, axis_shank, swing


def perpendicular_basis(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors (3,) perpendicular to the unit ``axis`` (3,) and to each other."""
    e1 = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(axis, e1)


def _axis_about_long_axis(gyr_thigh_radps: np.ndarray, shank_off_axis_radps: np.ndarray, up_thigh: np.ndarray) -> np.ndarray:
    """The thigh's hinge axis perpendicular to its long axis ``up_thigh``: the one angle about it
    that best matches the shank's off-axis rate (N,), a coarse scan (the cost has local minima)
    refined with a robust loss (a few strides of strap slip must not pull it)."""
    e1, e2 = perpendicular_basis(up_thigh)
    # |ω × (cos a e1 + sin a e2)|² = cos² a |ω×e1|² + 2 cos a sin a (ω×e1)·(ω×e2) + sin² a |ω×e2|²:
    # three products once, then any angle costs a few operations per sample (the 72-angle scan
    # took a cross product and a norm per angle).
    c1, c2 = np.cross(gyr_thigh_radps, e1), np.cross(gyr_thigh_radps, e2)
    p11, p12, p22 = np.einsum("ij,ij->i", c1, c1), np.einsum("ij,ij->i", c1, c2), np.einsum("ij,ij->i", c2, c2)

    def residual(angle_rad: np.ndarray) -> np.ndarray:
        """(K, N) residuals at the K angles (K,)."""
        c, s = np.cos(angle_rad)[:, None], np.sin(angle_rad)[:, None]
        return np.sqrt(np.maximum(c * c * p11 + 2.0 * c * s * p12 + s * s * p22, 0.0)) - shank_off_axis_radps

    scan = np.linspace(0.0, np.pi, 72, endpoint=False)  # an axis and its opposite fit alike
    start = scan[int(np.argmin(np.mean(np.abs(residual(scan)), axis=1)))]
    scale = max(float(np.median(np.abs(residual(np.array([start]))[0]))), 1e-3)
    fit = least_squares(lambda x: residual(x)[0], [start], loss="soft_l1", f_scale=scale)
    return np.cos(fit.x[0]) * e1 + np.sin(fit.x[0]) * e2
