"""The flexion-axis fit against a thigh sensor that turns about the femur with knee flexion (the
soft-tissue artefact's largest part, ``imugait/data/soft_tissue_artefact.json``), on exact
kinematics: what ``fit_flexion_axis(max_flexion_rad=...)`` is for."""

from __future__ import annotations

import numpy as np
import pytest
from exact_rates import midpoint_signals
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from imugait.calibration.knee_axes import MIN_LOW_FLEXION_SHARE, fit_flexion_axis
from imugait.calibration.secondary_motion import SAMPLES_PER_CYCLE
from imugait.conventions import Joint, Side, relative_rotation_from_angles
from imugait.data.normative_knee import normative_knee_angles_deg

UP = np.array([0.0, 1.0, 0.0])
FLEXION_AXIS = np.array([0.0, 0.0, 1.0])


def _pure_flexion_gait() -> np.ndarray:
    """Normative knee flexion over one cycle (SAMPLES_PER_CYCLE,), rad — the bone's only motion
    here, so that the knee's own secondary motion does not enter."""
    x, angles_deg = normative_knee_angles_deg()
    spline = CubicSpline(x, np.deg2rad(angles_deg[:, 0]), bc_type="periodic")
    return spline(np.arange(SAMPLES_PER_CYCLE) / SAMPLES_PER_CYCLE)


def _axis_turn_deg(turn_per_flexion: float, max_flexion_rad: float | None) -> float:
    """Fit the flexion axis to a knee that only flexes, its thigh sensor turned about the femur's
    long axis by ``turn_per_flexion`` × flexion (zero standing); the fitted axis's turn about the
    long axis from the bone's, deg (+ = Z towards X)."""
    flexion = _pure_flexion_gait()
    angles = np.column_stack([flexion, np.zeros_like(flexion), np.zeros_like(flexion)])
    r_thigh_shank = relative_rotation_from_angles(angles, Joint.KNEE, Side.RIGHT)
    r_bone_sensor = Rotation.from_rotvec(np.outer(turn_per_flexion * flexion, UP))
    # The thigh bone is the world; each sensor's body rate over a step, at the step's midpoint.
    (q_thigh, w_thigh), (q_shank, w_shank) = (midpoint_signals(r, 1.0 / SAMPLES_PER_CYCLE)
                                              for r in (r_bone_sensor, r_thigh_shank))
    axis, _ = fit_flexion_axis(q_thigh, q_shank, w_thigh, w_shank, FLEXION_AXIS, UP, UP,
                               np.zeros(SAMPLES_PER_CYCLE), SAMPLES_PER_CYCLE, max_flexion_rad)
    assert abs(np.dot(axis, UP)) < 1e-9
    return float(np.rad2deg(np.arctan2(axis[0], axis[2])))


def test_a_rigid_sensor_gives_the_bone_axis_with_or_without_the_limit():
    assert _axis_turn_deg(0.0, None) == pytest.approx(0.0, abs=0.01)
    assert _axis_turn_deg(0.0, np.deg2rad(20.0)) == pytest.approx(0.0, abs=0.01)


def test_fitting_near_the_standing_pose_halves_what_the_turning_sensor_costs():
    """The sensor turns 0.1 rad per rad of flexion (5.5° over the normative swing: inside the
    literature's 2–8° peak-to-peak of the thigh). Over the whole cycle the fit turns the axis the
    other way by about the artefact's whole swing (measured −5.7°): the constraint reads the
    sensor's turn in swing, where the knee is flexed most, as the axis. Up to 20° of flexion the
    sensor is at most 2° from where it stood; measured −2.6° (the rest: its turning rate, which the
    floating axis still sees)."""
    whole = _axis_turn_deg(0.1, None)
    near_standing = _axis_turn_deg(0.1, np.deg2rad(20.0))
    assert whole < -5.0, whole
    assert -3.0 < near_standing < 0.0, near_standing
    assert abs(near_standing) < 0.5 * abs(whole)


def test_a_limit_below_every_sample_keeps_the_least_flexed_share():
    """A knee never as straight as the limit (a crouched walk, a mid-stance reference) still gets
    an axis, from the least flexed :data:`MIN_LOW_FLEXION_SHARE` of the samples: nearly the same
    as with a limit at that share's flexion."""
    flexion = _pure_flexion_gait()
    share_limit = float(np.quantile(np.abs(flexion), MIN_LOW_FLEXION_SHARE))
    assert _axis_turn_deg(0.1, 0.0) == pytest.approx(_axis_turn_deg(0.1, share_limit), abs=0.05)
