"""The thigh sensor's frontal-plane tilt with knee flexion, measured from the gyroscopes (less the
femur's own frontal rate on normative gait) and removed before the flexion-axis fit
(``SegmentCalibrationConfig.compensate_thigh_tilt``), on exact kinematics of the normative right
leg (pelvis, hip and knee curves, :func:`~imugait.calibration.thigh_tilt_norm.normative_right_leg`):
the thigh sensor tilted about the femur's anterior axis by k × knee flexion."""

from __future__ import annotations

import numpy as np
import pytest
from exact_rates import midpoint_signals
from scipy.spatial.transform import Rotation

from imugait.calibration.knee_axes import fit_flexion_axis
from imugait.calibration.thigh_soft_tissue import (
    knee_flexion_and_rate,
    remove_thigh_turn,
    thigh_tilt_with_flexion,
)
from imugait.calibration.thigh_tilt_norm import (
    SAMPLES_PER_CYCLE,
    normative_right_leg,
    normative_thigh_tilt_per_flexion,
)
from imugait.conventions import Joint, Side, joint_angles_rad, quat

UP = np.array([0.0, 1.0, 0.0])
FLEXION_AXIS = np.array([0.0, 0.0, 1.0])
ANTERIOR = np.array([1.0, 0.0, 0.0])
CYCLES = 3


def _signals(tilt_per_flexion: float):
    """Thigh and shank sensors' orientations and body rates over CYCLES normative cycles (the
    shank sensor rigid on the tibia, the thigh sensor tilted about the femur's X by k × flexion),
    and the thigh sensor's true tilt at each step's midpoint, rad."""
    r_femur, r_knee = normative_right_leg()
    # The progression frame (ISB: Y up) in a z-up world, as the sensors' 6-axis frames are.
    r_femur = Rotation.from_rotvec([np.pi / 2, 0.0, 0.0]) * r_femur
    r_femur = Rotation.concatenate([r_femur] * CYCLES)
    r_knee = Rotation.concatenate([r_knee] * CYCLES)
    r_tibia = r_femur * r_knee
    flexion = joint_angles_rad(quat(r_femur), quat(r_tibia), Joint.KNEE, Side.RIGHT)[:, 0]
    r_thigh_sensor = r_femur * Rotation.from_rotvec(np.outer(tilt_per_flexion * flexion, ANTERIOR))
    dt_s = 1.0 / SAMPLES_PER_CYCLE
    (q1, w1), (q2, w2) = (midpoint_signals(r, dt_s) for r in (r_thigh_sensor, r_tibia))
    following = np.r_[1:flexion.size, 0]
    return q1, q2, w1, w2, tilt_per_flexion * 0.5 * (flexion + flexion[following])


def _tilt(q1, q2, w1, w2, axis):
    """The measured tilt of the right thigh sensor about ``up × axis`` (no heading offset)."""
    flexion = knee_flexion_and_rate(q1, q2, w1, w2, np.zeros(q1.shape[0]), UP, UP, axis)
    return thigh_tilt_with_flexion(q1, w1, UP, axis, flexion, Side.RIGHT)


def _axis_turn_deg(axis: np.ndarray) -> float:
    """The axis's turn about the femur from the bone's flexion axis, deg."""
    return float(np.rad2deg(np.arctan2(axis[0], axis[2])))


def _fitted_axis(q1, q2, w1, w2, compensate: bool) -> np.ndarray:
    heading = np.zeros(q1.shape[0])
    if compensate:
        tilt, anterior = _tilt(q1, q2, w1, w2, FLEXION_AXIS)
        q1, w1 = remove_thigh_turn(q1, w1, anterior, tilt)
    axis, _ = fit_flexion_axis(q1, q2, w1, w2, FLEXION_AXIS, UP, UP, heading, q1.shape[0])
    return axis


def test_the_femur_own_frontal_rate_follows_the_knee_and_is_mirrored():
    """On normative gait the femur's anterior-axis rate does follow the knee-flexion rate (the hip
    ab/adducts with the swing), about 0.05 rad/rad — which is why it is subtracted; a smaller
    knee swing gives a larger slope."""
    right = normative_thigh_tilt_per_flexion(Side.RIGHT)
    assert 0.03 < abs(right) < 0.08
    assert normative_thigh_tilt_per_flexion(Side.LEFT) == -right
    assert abs(normative_thigh_tilt_per_flexion(Side.RIGHT, 0.8)) > abs(right)


def test_a_rigid_sensor_on_a_moving_femur_measures_no_tilt():
    q1, q2, w1, w2, _ = _signals(0.0)
    tilt, _ = _tilt(q1, q2, w1, w2, FLEXION_AXIS)
    assert abs(tilt.turn_per_flexion) < 0.003


@pytest.mark.parametrize("tilt_per_flexion", [-0.08, 0.04, 0.08])
@pytest.mark.parametrize("axis_error_deg", [0.0, 6.0])
def test_the_tilt_is_measured_from_the_rates(tilt_per_flexion, axis_error_deg):
    """The measured slope is the sensor's tilt per flexion, and the modelled tilt follows the true
    one sample by sample — also when the flexion axis it is measured about is a few degrees off
    (the thigh's sagittal rate then leaks into its anterior rate; the second regressor takes it)."""
    q1, q2, w1, w2, true_tilt = _signals(tilt_per_flexion)
    axis = Rotation.from_rotvec(np.deg2rad(axis_error_deg) * UP).apply(FLEXION_AXIS)
    tilt, anterior = _tilt(q1, q2, w1, w2, axis)
    sign = np.sign(np.dot(anterior, ANTERIOR))
    # k's sign follows the flexion angle's about the axis used; the tilt itself is compared signed.
    assert abs(tilt.turn_per_flexion) == pytest.approx(abs(tilt_per_flexion), abs=0.006)
    assert np.max(np.abs(sign * tilt.turn_rad - true_tilt)) < 0.1 * np.ptp(true_tilt)


@pytest.mark.parametrize("tilt_per_flexion", [-0.08, 0.08])
def test_removing_the_tilt_keeps_the_fit_on_the_bone(tilt_per_flexion):
    """Uncompensated, the fit reads a frontal tilt of k rad per rad of flexion as a turn of the
    axis about the femur of about k rad (here 3°); with the tilt removed, the axis is within
    0.5° of the one a rigid sensor gives (which keeps the knee's normative secondary-motion lean)."""
    rigid = _axis_turn_deg(_fitted_axis(*_signals(0.0)[:4], compensate=False))
    q1, q2, w1, w2, _ = _signals(tilt_per_flexion)
    plain = _axis_turn_deg(_fitted_axis(q1, q2, w1, w2, compensate=False))
    compensated = _axis_turn_deg(_fitted_axis(q1, q2, w1, w2, compensate=True))
    assert abs(plain - rigid) > 2.5
    assert compensated == pytest.approx(rigid, abs=0.5)


def test_normative_leg_is_the_same_for_every_call_and_not_shared():
    r_femur, r_knee = normative_right_leg(0.8)
    again, knee_again = normative_right_leg(0.8)
    assert np.array_equal(r_femur.as_quat(canonical=False), again.as_quat(canonical=False))
    assert np.array_equal(r_knee.as_quat(canonical=False), knee_again.as_quat(canonical=False))
    slope = normative_thigh_tilt_per_flexion(Side.RIGHT, 0.8)
    r_femur[0] = Rotation.identity()  # a caller changing its copy changes nothing cached
    assert np.array_equal(normative_right_leg(0.8)[0].as_quat(canonical=False), again.as_quat(canonical=False))
    assert normative_thigh_tilt_per_flexion(Side.RIGHT, 0.8) == slope
    assert normative_thigh_tilt_per_flexion(Side.LEFT, 0.8) == -slope
