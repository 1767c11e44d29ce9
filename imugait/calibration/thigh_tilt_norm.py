"""How much the femur's own frontal-plane rate follows the knee-flexion rate in normal gait.

:func:`~imugait.calibration.thigh_soft_tissue.thigh_tilt_with_flexion` measures the slope of the
thigh gyroscope's rate about the thigh's anterior axis on the knee-flexion rate. On a sensor rigid
on its femur that slope is not zero: the hip ab/adducts and the pelvis drops in step with the
knee's swing, so part of it is the femur's own motion and only the rest is the sensor tilting on
the soft tissue. This module computes the femur's part the same way, on noise-free normative gait
(pelvis tilt, obliquity and rotation, hip and knee angles of the packaged curves,
``imugait/data/normative_gait_kinematics.json`` names their source): the calibration subtracts it.

What it cannot know: a person whose hip ab/adduction or pelvic obliquity differs from the norm
keeps the difference as a tilt of the sensor (``docs/accuracy.md``).
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from imugait.conventions import (
    Joint,
    Side,
    pelvis_rotation_from_angles,
    relative_rotation_from_angles,
)
from imugait.data import normative_gait_table
from imugait.data.normative_knee import closed_loop_deg, normative_knee_angles_deg
from imugait.quaternion import compose_rotations

SAMPLES_PER_CYCLE = 1000
"""Samples of the modelled gait cycle."""


def _body_rate(r: Rotation) -> np.ndarray:
    """Body-frame angular rate (N, 3) of a periodic rotation series over one cycle of 1 s."""
    n = len(r)
    return compose_rotations(r.inv(), r[np.r_[1:n, 0]]).as_rotvec() * n


def normative_right_leg(flexion_scale: float = 1.0) -> tuple[Rotation, Rotation]:
    """The right femur in the progression frame and the tibia in the femur's (ISB frames), each
    SAMPLES_PER_CYCLE rotations uniformly over one normative cycle (0 = initial contact); the knee
    flexion scaled about its mean by ``flexion_scale``, the knee's secondary motion bone-scaled
    (:func:`imugait.data.normative_knee.normative_knee_angles_deg`)."""
    r_femur, _, _, knee = _normative_cycle()
    knee = knee.copy()
    knee[:, 0] = knee[:, 0].mean() + flexion_scale * (knee[:, 0] - knee[:, 0].mean())
    # A copy of the cached femur: a caller may assign into a Rotation.
    return copy.deepcopy(r_femur), relative_rotation_from_angles(knee, Joint.KNEE, Side.RIGHT)


@cache
def _normative_cycle() -> tuple[Rotation, np.ndarray, np.ndarray, np.ndarray]:
    """What of :func:`normative_right_leg` and :func:`_normative_slope` does not depend on the
    flexion scale, once per process: the femur's rotations, its body rate (N, 3), the progression
    frame's up in the femur's frame (N, 3), and the knee's angles (N, 3) rad, unscaled."""
    table = normative_gait_table()
    x = table["gait_cycle_pct"].to_numpy(dtype=float) / 100.0
    names = ("pelvis_tilt", "pelvis_obliquity", "pelvis_rotation", "hip_flexion", "hip_adduction", "hip_rotation")
    curves = np.deg2rad(np.column_stack([closed_loop_deg(table, f"{n}_mean_deg") for n in names]))
    xk, knee_deg = normative_knee_angles_deg()
    phase = np.arange(SAMPLES_PER_CYCLE) / SAMPLES_PER_CYCLE
    curves = CubicSpline(x, curves, axis=0, bc_type="periodic")(phase)
    knee = CubicSpline(xk, np.deg2rad(knee_deg), axis=0, bc_type="periodic")(phase)
    r_femur = compose_rotations(pelvis_rotation_from_angles(curves[:, :3]),
                                relative_rotation_from_angles(curves[:, 3:], Joint.HIP, Side.RIGHT))
    w_thigh, vertical = _body_rate(r_femur), r_femur.inv().apply([0.0, 1.0, 0.0])
    for shared in (w_thigh, vertical, knee):  # cached: read-only
        shared.flags.writeable = False
    return r_femur, w_thigh, vertical, knee


@cache
def _normative_slope(flexion_scale: float) -> float:
    """The slope for the right leg, knee flexion scaled about its mean by ``flexion_scale``."""
    r_femur, w_thigh, vertical, _ = _normative_cycle()
    _, r_knee = normative_right_leg(flexion_scale)
    w_shank_in_thigh = r_knee.apply(_body_rate(compose_rotations(r_femur, r_knee)))
    # ISB femur frame: X anterior, Y up, Z the flexion axis; the same regression as the measurement.
    # ``vertical``: the progression frame's up, in the femur's.
    return tilt_slope(w_thigh[:, 0], w_shank_in_thigh[:, 2] - w_thigh[:, 2], w_thigh[:, 2],
                      np.sum(w_thigh * vertical, axis=1) * vertical[:, 0])


def tilt_slope(anterior_rate_radps: np.ndarray, flexion_rate_radps: np.ndarray, sagittal_rate_radps: np.ndarray,
               vertical_rate_radps: np.ndarray) -> float:
    """Coefficient of the knee-flexion rate (N,) in the least-squares fit of the thigh's rate about
    its anterior axis (N,) on it, the thigh's own rate about the flexion axis (N,) and the part of
    the anterior rate that the thigh's rate about the vertical gives (N,; turning), all centred
    (nan when they do not determine it)."""
    regressors = np.column_stack([flexion_rate_radps, sagittal_rate_radps, vertical_rate_radps])
    regressors = regressors - regressors.mean(axis=0)
    target = anterior_rate_radps - anterior_rate_radps.mean()
    coefficients, _, rank, _ = np.linalg.lstsq(regressors, target, rcond=None)
    return float(coefficients[0]) if rank == 3 and np.all(np.isfinite(coefficients)) else float("nan")


def normative_thigh_tilt_per_flexion(side: Side, flexion_scale: float = 1.0) -> float:
    """The slope (rad of the femur's rate about its anterior axis per rad of knee-flexion rate)
    that :func:`~imugait.calibration.thigh_soft_tissue.thigh_tilt_with_flexion` finds on a sensor
    rigid on the femur in normative gait of ``side`` (a mirror image: the left's is the right's
    negated); ``flexion_scale``: the person's knee-flexion range over the normative one."""
    slope = _normative_slope(round(float(flexion_scale), 3))
    return slope if side is Side.RIGHT else -slope
