"""The knee's two functional axes and the thigh-shank heading offset, from fused orientations.

A knee flexes about an axis fixed in the thigh (JCS e1 = thigh Z) and rotates about an axis fixed
in the shank (e3 = shank Y); varus/valgus about the floating axis ``e2 = e3 × e1`` is small. So
the relative angular velocity has almost no component along ``e2``:

    (ω_shank − ω_thigh) · (j_thigh × j_shank) / |j_thigh × j_shank| ≈ 0     (all in one frame)

With 6-axis fusion each sensor has its own arbitrary heading, so "one frame" needs the heading
offset ``δ`` (about world z) between the two sensors' world frames; it is estimated alongside the
axes (the idea of Laidig, Schauer & Seel 2017 for magnetometer-free joint heading). A pure hinge
fit (Seel 2014) absorbs the tibia's rotation coupled with flexion (screw-home) into the flexion
axis and turns it by ~10° about the femur — a direct hip-rotation error; the two-axis model does
not, because that rotation has its own axis.

Adduction is kept small by a soft penalty on ``j_thigh · j_shank`` (= −sin(adduction)); without it
the shank axis can collapse onto the flexion axis, where the constraint is blind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from imugait.errors import CalibrationError
from imugait.quaternion import compose_rotations

MIN_LOW_FLEXION_SHARE = 0.3
"""With ``max_flexion_rad``, :func:`fit_flexion_axis` keeps at least this share of the samples
(the least flexed), whatever the limit."""
ADDUCTION_PENALTY_RADPS = 1.0
"""Weight of the ``j_thigh · j_shank`` penalty, in units of angular rate (same scale as the residual)."""


@dataclass(frozen=True)
class KneeAxes:
    """Functional knee axes in the sensor frames and the heading offset of the two sensors.

    ``flexion_axis_thigh`` (3,): flexion axis in the thigh sensor frame, pointing right.
    ``rotation_axis_shank`` (3,): tibial rotation axis in the shank sensor frame, pointing up.
    ``heading_offset_rad``: rotation about world z taking the shank sensor's world frame into the
    thigh sensor's world frame (over the data used).
    ``residual_rms_radps``: RMS of the constraint over the data used.
    """

    flexion_axis_thigh: np.ndarray
    rotation_axis_shank: np.ndarray
    heading_offset_rad: float
    residual_rms_radps: float


def unit_from_angles(elevation_rad: float, azimuth_rad: float) -> np.ndarray:
    """Unit vector (3,) from elevation above the x-y plane and azimuth about z."""
    ce = np.cos(elevation_rad)
    return np.array([ce * np.cos(azimuth_rad), ce * np.sin(azimuth_rad), np.sin(elevation_rad)])


def angles_from_unit(v: np.ndarray) -> tuple[float, float]:
    """Inverse of :func:`unit_from_angles`."""
    return float(np.arcsin(np.clip(v[2], -1.0, 1.0))), float(np.arctan2(v[1], v[0]))


def heading_offset_from_axes(axis_world_thigh: np.ndarray, axis_world_shank: np.ndarray) -> float:
    """Mean heading angle (rad) turning the horizontal part of ``axis_world_shank`` (N, 3) onto
    that of ``axis_world_thigh`` (N, 3) — a circular mean, weighted by horizontal length."""
    a = np.arctan2(axis_world_thigh[:, 1], axis_world_thigh[:, 0])
    b = np.arctan2(axis_world_shank[:, 1], axis_world_shank[:, 0])
    w = np.hypot(axis_world_thigh[:, 0], axis_world_thigh[:, 1]) * np.hypot(axis_world_shank[:, 0], axis_world_shank[:, 1])
    return float(np.angle(np.sum(w * np.exp(1j * (a - b)))))


def constraint_residual_radps(
    r_world_thigh_sensor: Rotation,
    r_world_shank_sensor: Rotation,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    flexion_axis_thigh: np.ndarray,
    rotation_axis_shank: np.ndarray,
    heading_offset_rad: float | np.ndarray,
) -> np.ndarray:
    """The two-axis constraint (N,), rad/s — relative angular rate along the floating axis."""
    b, rel = _shank_terms(r_world_thigh_sensor, r_world_shank_sensor, gyr_thigh_radps, gyr_shank_radps,
                          rotation_axis_shank, heading_offset_rad)
    return _floating_rate(r_world_thigh_sensor.apply(flexion_axis_thigh), b, rel)


def _shank_terms(
    r_world_thigh_sensor: Rotation,
    r_world_shank_sensor: Rotation,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    rotation_axis_shank: np.ndarray,
    heading_offset_rad: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The parts of :func:`constraint_residual_radps` that do not depend on the flexion axis: the
    shank's rotation axis and the relative angular rate (N, 3), both in the thigh sensor's world."""
    r_offset = Rotation.from_rotvec(np.outer(np.atleast_1d(heading_offset_rad), [0.0, 0.0, 1.0]))
    if len(r_offset) == 1:
        r_offset = r_offset[0]
    b = r_offset.apply(r_world_shank_sensor.apply(rotation_axis_shank))
    rel = r_offset.apply(r_world_shank_sensor.apply(gyr_shank_radps)) - r_world_thigh_sensor.apply(gyr_thigh_radps)
    return b, rel


def _floating_rate(axis_world_thigh: np.ndarray, b: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """The relative rate ``rel`` (N, 3) along the floating axis ``b × a`` (a: ``axis_world_thigh``)."""
    floating = np.cross(b, axis_world_thigh)
    floating /= np.maximum(np.linalg.norm(floating, axis=1, keepdims=True), 1e-9)
    return np.sum(rel * floating, axis=1)


def fit_knee_axes(
    q_world_thigh_sensor: np.ndarray,
    q_world_shank_sensor: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    flexion_axis_guess: np.ndarray,
    shank_flexion_axis_guess: np.ndarray,
    rotation_axis_guess: np.ndarray,
    max_samples: int = 3000,
    t_s: np.ndarray | None = None,
) -> KneeAxes:
    """Fit both knee axes and the heading offset to samples of motion.

    Parameters
    ----------
    q_world_thigh_sensor, q_world_shank_sensor : (N, 4) scalar-first 6-axis orientations of the
        two sensors at the same instants.
    gyr_thigh_radps, gyr_shank_radps : (N, 3) rad/s, sensor frames, the same instants.
    flexion_axis_guess, shank_flexion_axis_guess : (3,) the knee's flexion axis in the thigh and
        the shank sensor frames from a hinge fit (they set the sign, right, and the initial heading
        offset).
    rotation_axis_guess : (3,) shank sensor frame, e.g. gravity while standing (sets the sign: up).
    max_samples : evenly spread subset used for the fit.
    t_s : (N,) s, the instants: when given, the heading offset may drift linearly over them (a
        6-axis heading drifts with the gyroscope bias; without a standing period to measure the
        bias first it can drift tens of degrees a minute). ``heading_offset_rad`` is then the
        value at the middle of the data.
    """
    n = q_world_thigh_sensor.shape[0]
    take = np.linspace(0, n - 1, min(n, max_samples)).astype(int)
    r1 = Rotation.from_quat(q_world_thigh_sensor[take], scalar_first=True)
    r2 = Rotation.from_quat(q_world_shank_sensor[take], scalar_first=True)
    w1, w2 = gyr_thigh_radps[take], gyr_shank_radps[take]
    dt_s = np.zeros(take.size) if t_s is None else t_s[take] - 0.5 * (t_s[take][0] + t_s[take][-1])
    delta0 = heading_offset_from_axes(r1.apply(flexion_axis_guess), r2.apply(shank_flexion_axis_guess))

    def residual(x: np.ndarray) -> np.ndarray:
        j1, j2 = unit_from_angles(x[0], x[1]), unit_from_angles(x[2], x[3])
        delta = x[4] + x[5] * dt_s
        constraint = constraint_residual_radps(r1, r2, w1, w2, j1, j2, delta)
        a = r1.apply(j1)
        b = Rotation.from_rotvec(np.outer(delta, [0.0, 0.0, 1.0])).apply(r2.apply(j2))
        return np.r_[constraint, ADDUCTION_PENALTY_RADPS * np.sum(a * b, axis=1)]

    x0 = np.r_[angles_from_unit(flexion_axis_guess), angles_from_unit(rotation_axis_guess), delta0, 0.0]
    fit = least_squares(residual, x0, method="trf", x_scale="jac")
    if not fit.success:
        raise CalibrationError(f"knee axis fit did not converge ({fit.message})")
    j1, j2 = unit_from_angles(fit.x[0], fit.x[1]), unit_from_angles(fit.x[2], fit.x[3])
    j1 = j1 if np.dot(j1, flexion_axis_guess) >= 0 else -j1
    j2 = j2 if np.dot(j2, rotation_axis_guess) >= 0 else -j2
    rms = float(np.sqrt(np.mean(fit.fun[: take.size] ** 2)))
    return KneeAxes(j1, j2, float(np.angle(np.exp(1j * fit.x[4]))), rms)


def fit_flexion_axis(
    q_world_thigh_sensor: np.ndarray,
    q_world_shank_sensor: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    flexion_axis_guess: np.ndarray,
    up_thigh: np.ndarray,
    rotation_axis_shank: np.ndarray,
    heading_offset_rad: np.ndarray,
    max_samples: int = 3000,
    max_flexion_rad: float | None = None,
) -> tuple[np.ndarray, float]:
    """The flexion axis in the thigh sensor frame, with the heading offset and the tibial rotation
    axis already known: only its direction about the thigh's long axis is fitted.

    Parameters
    ----------
    q_world_thigh_sensor, q_world_shank_sensor : (N, 4) scalar-first 6-axis orientations.
    gyr_thigh_radps, gyr_shank_radps : (N, 3) rad/s, sensor frames, the same instants.
    flexion_axis_guess : (3,) thigh sensor frame (a hinge fit); sets the start and the sign.
    up_thigh : (3,) unit, the thigh's long axis (superior) in its sensor frame, from standing.
    rotation_axis_shank : (3,) unit, the shank's long axis in its sensor frame, from standing.
    heading_offset_rad : (N,) heading offset of the shank sensor's world frame (e.g. from the
        joint centre, :mod:`imugait.calibration.joint_centre`).
    max_flexion_rad : when given, only the samples whose knee flexion (from the standing pose,
        :func:`knee_flexion_rad` about the guess) is at most this are fitted — at least the
        :data:`MIN_LOW_FLEXION_SHARE` least flexed.

    Returns
    -------
    (flexion_axis_thigh (3,) unit, perpendicular to ``up_thigh``, on the side of the guess;
    RMS of the constraint, rad/s).

    Why one degree of freedom: the JCS flexion axis is by definition perpendicular to the thigh's
    long axis, which standing gravity gives to a fraction of a degree, and the tibial rotation
    axis is the shank's long axis. With the axes free the fit tilts the flexion axis in the frontal
    plane and about the femur together to absorb the knee's flexion-coupled varus/valgus (a
    3.7° range in the simulator's bone-measured curve): 3–4° off on exact data, against 1° with
    only the angle about the femur left free — a lean the normative secondary motion predicts,
    which :mod:`imugait.calibration.secondary_motion` evaluates with this function and the
    calibration removes.
    """
    up = up_thigh / np.linalg.norm(up_thigh)
    z0 = flexion_axis_guess - np.dot(flexion_axis_guess, up) * up
    z0 /= np.linalg.norm(z0)
    x0 = np.cross(up, z0)
    heading_offset_rad = np.asarray(heading_offset_rad)
    rows = np.arange(q_world_thigh_sensor.shape[0])
    if max_flexion_rad is not None:
        flexion = np.abs(knee_flexion_rad(q_world_thigh_sensor, q_world_shank_sensor, heading_offset_rad, up,
                                          rotation_axis_shank, z0))
        limit = max(max_flexion_rad, float(np.quantile(flexion, MIN_LOW_FLEXION_SHARE)))
        rows = rows[flexion <= limit]
    take = rows[np.linspace(0, rows.size - 1, min(rows.size, max_samples)).astype(int)]
    r1 = Rotation.from_quat(q_world_thigh_sensor[take], scalar_first=True)
    r2 = Rotation.from_quat(q_world_shank_sensor[take], scalar_first=True)
    w1, w2, delta = gyr_thigh_radps[take], gyr_shank_radps[take], heading_offset_rad[take]

    def axis(angle_rad: float) -> np.ndarray:
        return np.cos(angle_rad) * z0 + np.sin(angle_rad) * x0

    # Only the thigh's axis moves with the angle, and it is linear in (cos, sin): the rest of the
    # constraint once, not at every evaluation.
    b, rel = _shank_terms(r1, r2, w1, w2, rotation_axis_shank, delta)
    z0_world, x0_world = r1.apply(z0), r1.apply(x0)

    def residual(x: np.ndarray) -> np.ndarray:
        return _floating_rate(np.cos(x[0]) * z0_world + np.sin(x[0]) * x0_world, b, rel)

    fit = least_squares(residual, [0.0], method="lm")
    return axis(float(fit.x[0])), float(np.sqrt(np.mean(fit.fun**2)))


def hinge_rate_mismatch_radps(
    r_world_thigh_sensor: Rotation,
    r_world_shank_sensor: Rotation,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    hinge_axis_thigh: np.ndarray,
    heading_offset_rad: float,
) -> float:
    """RMS (rad/s) of the relative angular rate perpendicular to a hinge axis, in the thigh sensor's
    world frame with the shank's turned by ``heading_offset_rad`` (N samples, sensor frames): near
    zero for the right heading, whatever the motion."""
    turn = Rotation.from_rotvec([0.0, 0.0, heading_offset_rad])
    rel = compose_rotations(turn, r_world_shank_sensor).apply(gyr_shank_radps) - r_world_thigh_sensor.apply(gyr_thigh_radps)
    axis = r_world_thigh_sensor.apply(hinge_axis_thigh)
    return float(np.sqrt(np.mean(np.sum(np.cross(rel, axis) ** 2, axis=1))))


def knee_flexion_rad(
    q_world_thigh_sensor: np.ndarray,
    q_world_shank_sensor: np.ndarray,
    heading_offset_rad: np.ndarray,
    up_thigh: np.ndarray,
    up_shank: np.ndarray,
    flexion_axis_thigh: np.ndarray,
) -> np.ndarray:
    """Knee flexion (N,), rad, up to sign and a constant: the angle from the thigh's long axis to
    the shank's about the flexion axis, in the thigh sensor's world frame with the shank's turned
    by ``heading_offset_rad`` (N,). Orientations (N, 4) scalar first; axes (3,) in the sensor
    frames. Enough for a range, or to tell flexed from straight with the long axes from standing."""
    r1 = Rotation.from_quat(q_world_thigh_sensor, scalar_first=True)
    r2 = compose_rotations(Rotation.from_rotvec(np.outer(heading_offset_rad, [0.0, 0.0, 1.0])),
                           Rotation.from_quat(q_world_shank_sensor, scalar_first=True))
    a, b, e = r1.apply(up_thigh), r2.apply(up_shank), r1.apply(flexion_axis_thigh)
    return np.arctan2(np.sum(np.cross(a, b) * e, axis=1), np.sum(a * b, axis=1))
