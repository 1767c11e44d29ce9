"""The thigh sensor's turn about the femur with knee flexion, measured from the gyroscopes and
removed before the flexion-axis fit (``SegmentCalibrationConfig.compensate_thigh_turn``), on exact
kinematics: a knee that only flexes (normative curve) or also has its normative secondary motion,
the thigh bone as the world, the thigh sensor turned about the femur by k × flexion."""

from __future__ import annotations

import numpy as np
import pytest
from exact_rates import midpoint_signals
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from imugait.calibration.knee_axes import fit_flexion_axis
from imugait.calibration.secondary_motion import SAMPLES_PER_CYCLE, expected_flexion_axis_offset_rad
from imugait.calibration.thigh_soft_tissue import (
    knee_flexion_and_rate,
    remove_thigh_turn,
    thigh_turn_with_flexion,
)
from imugait.conventions import Joint, Side, relative_rotation_from_angles
from imugait.data.normative_knee import normative_knee_angles_deg

UP = np.array([0.0, 1.0, 0.0])
FLEXION_AXIS = np.array([0.0, 0.0, 1.0])
CYCLES = 3


def _gait(secondary_motion: bool) -> np.ndarray:
    """Normative knee angles (flexion, adduction, rotation) over CYCLES cycles, rad; only the
    flexion unless ``secondary_motion``."""
    x, angles_deg = normative_knee_angles_deg()
    spline = CubicSpline(x, np.deg2rad(angles_deg), axis=0, bc_type="periodic")
    angles = spline(np.arange(CYCLES * SAMPLES_PER_CYCLE) / SAMPLES_PER_CYCLE % 1.0)
    if not secondary_motion:
        angles[:, 1:] = 0.0
    return angles


def _signals(turn_per_flexion: float, secondary_motion: bool = False):
    """Orientations and body rates of the thigh and shank sensors (the thigh bone is the world;
    each step's rate at its midpoint) and the thigh sensor's true turn about the femur, rad."""
    angles = _gait(secondary_motion)
    r_thigh_shank = relative_rotation_from_angles(angles, Joint.KNEE, Side.RIGHT)
    r_bone_sensor = Rotation.from_rotvec(np.outer(turn_per_flexion * angles[:, 0], UP))
    (q_thigh, w_thigh), (q_shank, w_shank) = (midpoint_signals(r, 1.0 / SAMPLES_PER_CYCLE)
                                              for r in (r_bone_sensor, r_thigh_shank))
    following = np.r_[1:angles.shape[0], 0]
    mid_turn = turn_per_flexion * 0.5 * (angles[:, 0] + angles[following, 0])
    return q_thigh, q_shank, w_thigh, w_shank, mid_turn


def _turn_deg(axis: np.ndarray) -> float:
    """The axis's turn about the femur from the bone's flexion axis, deg (+ = Z towards X)."""
    assert abs(np.dot(axis, UP)) < 1e-6
    return float(np.rad2deg(np.arctan2(axis[0], axis[2])))


def _calibrated_axis(q1, q2, w1, w2, compensate: bool) -> tuple[np.ndarray, float]:
    """The flexion axis as the calibration finds it (the fit, with the turn removed first and the
    frame then set at the sensor's mean turn when ``compensate``); and the measured slope k."""
    heading = np.zeros(q1.shape[0])
    k = float("nan")
    if compensate:
        turn = thigh_turn_with_flexion(w1, UP, knee_flexion_and_rate(q1, q2, w1, w2, heading, UP, UP, FLEXION_AXIS))
        k = turn.turn_per_flexion
        q1, w1 = remove_thigh_turn(q1, w1, UP, turn)
    axis, _ = fit_flexion_axis(q1, q2, w1, w2, FLEXION_AXIS, UP, UP, heading, q1.shape[0])
    if compensate:
        axis = Rotation.from_rotvec(-turn.mean_turn_rad * UP).apply(axis)
    return axis, k


@pytest.mark.parametrize("turn_per_flexion", [-0.1, 0.05, 0.1])
def test_the_turn_is_measured_from_the_rates(turn_per_flexion):
    """The slope of the thigh's long-axis rate on the knee-flexion rate is the sensor's turn per
    flexion, and the modelled turn follows the true one sample by sample, whatever the sign
    convention of the flexion angle."""
    q1, q2, w1, w2, true_turn = _signals(turn_per_flexion)
    flexion = knee_flexion_and_rate(q1, q2, w1, w2, np.zeros(q1.shape[0]), UP, UP, FLEXION_AXIS)
    turn = thigh_turn_with_flexion(w1, UP, flexion)
    assert abs(turn.turn_per_flexion) == pytest.approx(abs(turn_per_flexion), rel=0.02)
    assert np.max(np.abs(turn.turn_rad - true_turn)) < 0.02 * np.ptp(true_turn)
    assert turn.mean_turn_rad == pytest.approx(np.mean(true_turn), rel=0.02)


def test_a_rigid_sensor_measures_no_turn_and_keeps_its_axis():
    q1, q2, w1, w2, _ = _signals(0.0, secondary_motion=True)
    compensated, k = _calibrated_axis(q1, q2, w1, w2, compensate=True)
    plain, _ = _calibrated_axis(q1, q2, w1, w2, compensate=False)
    assert abs(k) < 1e-6
    assert _turn_deg(compensated) == pytest.approx(_turn_deg(plain), abs=1e-3)


def test_compensated_the_axis_sits_where_the_sensor_is_on_average():
    """Uncompensated, the fit turns the axis against the sensor's turn by about its whole swing
    (5.5° of swing at k = 0.1: −5.7°, the measurement of test_flexion_axis_soft_tissue.py). With
    the turn removed, the axis is the bone's as the sensor sees it at its mean turn over the
    walking — the frame a sensor-fixed calibration is right in on average."""
    k = 0.1
    q1, q2, w1, w2, true_turn = _signals(k)
    plain, _ = _calibrated_axis(q1, q2, w1, w2, compensate=False)
    compensated, k_measured = _calibrated_axis(q1, q2, w1, w2, compensate=True)
    assert _turn_deg(plain) < -5.0
    # The bone's Z seen from the sensor turned by the mean turn θ̄ about Y: Z turns towards −X.
    expected_deg = -np.rad2deg(np.mean(true_turn))
    assert expected_deg < -1.5
    assert _turn_deg(compensated) == pytest.approx(expected_deg, abs=0.1)


def test_with_secondary_motion_the_compensation_leaves_the_normative_lean():
    """The knee's own flexion-coupled ab/adduction leans the fitted axis (the lean the calibration's
    secondary-motion correction removes, ±1.1°); the femur's rotation does not follow the knee
    flexion rate, so the compensation changes nothing of it: with the sensor's turn, the
    compensated axis is the normative lean plus the mean turn."""
    k = 0.08
    q1, q2, w1, w2, true_turn = _signals(k, secondary_motion=True)
    compensated, _ = _calibrated_axis(q1, q2, w1, w2, compensate=True)
    lean_deg = np.rad2deg(expected_flexion_axis_offset_rad(Side.RIGHT))
    assert _turn_deg(compensated) == pytest.approx(lean_deg - np.rad2deg(np.mean(true_turn)), abs=0.15)
