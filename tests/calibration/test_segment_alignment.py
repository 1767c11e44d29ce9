"""Sensor-to-segment calibration against the simulator's truth, and on a non-gait hinge.

Truth compared with (``docs/calibration.md``): the simulator straps each sensor on at
``q_segment_sensor`` (its frame in the segment's ISB frame), so the true ``r_sensor_segment`` is
its inverse. The flexion axis is the thigh's Z — the JCS's e1, the axis knee flexion is about
(``docs/conventions.md``). The shank's Z is, by the calibration's definition, the thigh's flexion
axis as the shank sees it while standing; the walkers here stand with zero knee adduction and
rotation, so that is the shank's own true Z. Per sensor we score (a) the angle between the found
and the true Z (flexion axis) and (b) the larger angle error of X and Y.

Issue target: (a) within 2°, (b) within 3°, with random mountings, noise and gyroscope bias.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hinge_helpers import hinge_recording
from scipy.spatial.transform import Rotation

from imugait.analysis import analyze_session
from imugait.calibration.recording import LegRecording
from imugait.calibration.segment import SegmentCalibrationConfig, calibrate_leg, retrack_heading
from imugait.conventions import Placement, Segment
from imugait.errors import CalibrationError
from imugait.simulate import SideParams, SimulationConfig, WalkerParams, simulate, walking_test

WALKERS = [
    SimulationConfig(seed=301, walker=WalkerParams(height_m=1.62, speed_mps=1.05, cadence_spm=104.0,
                                                   left=SideParams(hip_rotation_offset_deg=-8.0)),
                     timeline=walking_test(n_bouts=2, bout_s=12.0)),
    SimulationConfig(seed=302, walker=WalkerParams(height_m=1.84, speed_mps=1.45, cadence_spm=118.0,
                                                   right=SideParams(hip_rotation_offset_deg=15.0)),
                     timeline=walking_test(n_bouts=2, bout_s=12.0)),
    SimulationConfig(seed=303, walker=WalkerParams(height_m=1.72, speed_mps=1.25, cadence_spm=110.0,
                                                   right=SideParams(knee_dynamic_valgus_deg=5.0)),
                     timeline=walking_test(n_bouts=2, bout_s=12.0)),
]
"""Default sensor errors (noise, random gyroscope bias and bias walk, scale, misalignment,
soft-tissue wobble, clock drift) and sensors strapped on at uniformly random rotations."""


def _axis_errors_deg(estimated: Rotation, q_segment_sensor: np.ndarray) -> np.ndarray:
    """Angles (3,) between the found and the true segment X, Y, Z axes, in the sensor frame."""
    true = Rotation.from_quat(q_segment_sensor, scalar_first=True).inv()
    cosines = np.sum(estimated.apply(np.eye(3)) * true.apply(np.eye(3)), axis=1)
    return np.rad2deg(np.arccos(np.clip(cosines, -1.0, 1.0)))


@pytest.fixture(scope="module")
def errors_deg():
    """{(seed, placement): (3,) X, Y, Z axis errors, deg} of every sensor of every walker."""
    out = {}
    for config in WALKERS:
        sim = simulate(config)
        result = analyze_session(sim.session)
        for leg in result.legs.values():
            for alignment in (leg.alignment.thigh, leg.alignment.shank):
                truth = sim.sensors[alignment.placement].q_segment_sensor
                out[(config.seed, alignment.placement)] = _axis_errors_deg(alignment.r_sensor_segment, truth)
    return out


def _worst(errors_deg, segment: Segment, axes: slice) -> tuple[float, tuple]:
    chosen = {k: v[axes].max() for k, v in errors_deg.items() if k[1].segment is segment}
    key = max(chosen, key=chosen.get)
    return float(chosen[key]), key


def test_flexion_axis_within_two_degrees(errors_deg):
    """The thigh's Z, the JCS flexion axis: the issue's 2° target. Measured worst 1.48° (median
    0.78°) with the normative secondary motion's expected lean removed
    (``SegmentCalibrationConfig.correct_secondary_motion``), the thigh sensor's turn with knee
    flexion compensated (``compensate_thigh_turn``; without it 1.28°, median 0.82°) and its
    frontal tilt (``compensate_thigh_tilt``; without it 1.39°, median 0.78°); 1.85° without the
    lean's removal (measured before the tilt compensation); asserted at 1.5°."""
    assert len(errors_deg) == 4 * len(WALKERS)
    worst, key = _worst(errors_deg, Segment.THIGH, slice(2, 3))
    assert worst < 1.5, f"flexion axis {worst:.2f}° off for {key}"


def test_other_axes_within_three_degrees(errors_deg):
    """Every other axis within 3°, the shank's Z included: it is the thigh's flexion axis carried
    into the shank through the heading offset at standing, so it adds that offset's error (up to
    about 1° from the accelerometers' scale and axis errors) to the thigh's — measured up to
    1.46° (2.5° before the secondary-motion correction; ``docs/calibration.md``), asserted at 2°."""
    for segment, axes in ((Segment.THIGH, slice(0, 2)), (Segment.SHANK, slice(0, 3))):
        worst, key = _worst(errors_deg, segment, axes)
        assert worst < 2.0, f"{segment.value} axis {worst:.2f}° off for {key}"


# --- a mechanical hinge moved by hand (not gait) -----------------------------------------------


MECHANICAL = SegmentCalibrationConfig(correct_secondary_motion=False, compensate_thigh_tilt=False)
"""A mechanical hinge has no knee secondary motion to correct for (``correct_secondary_motion``
would turn its exact axis by the normative knee's ~1°), and its link does not ab/adduct like a
femur in gait (``compensate_thigh_tilt`` subtracts that normative slope: 1.2° on this hinge)."""


def _calibrate(hinge, config=MECHANICAL):
    return calibrate_leg(Placement.LEFT_THIGH, Placement.LEFT_SHANK, hinge.rec, hinge.still, hinge.moving, config)


def _check_hinge(hinge, alignment) -> None:
    """Heading offset between the two sensors' world frames, and the flexion axis in both sensors."""
    w1, w2 = hinge.r_true_world_own_world
    true_offset_rad = (w1.inv() * w2).as_rotvec()[2]
    error_deg = np.rad2deg(np.angle(np.exp(1j * (alignment.heading.heading_offset_rad - true_offset_rad))))
    assert np.max(np.abs(error_deg[hinge.still | hinge.moving])) < 1.0
    # One physical axis: the two sensors' Z axes are the hinge axis, pointing the same way.
    z_thigh = hinge.r_link_sensor[0].apply(alignment.thigh.r_sensor_segment.apply([0.0, 0.0, 1.0]))
    z_shank = hinge.r_link_sensor[1].apply(alignment.shank.r_sensor_segment.apply([0.0, 0.0, 1.0]))
    assert abs(z_thigh[2]) > np.cos(np.deg2rad(1.0))
    assert np.dot(z_thigh, z_shank) > np.cos(np.deg2rad(1.0))


def test_hinge_with_opposed_links_keeps_one_axis_direction():
    """The links turn against each other about the hinge (gait's sign rule fails); the joint centre
    moves, so its acceleration gives the heading offset without any axis sign."""
    hinge = hinge_recording(seed=3, duration_s=12.0)
    alignment = _calibrate(hinge)
    assert alignment.quality.heading_contrast > 10.0 and alignment.quality.heading_from_joint_centre
    _check_hinge(hinge, alignment)
    # The joint centre seen from each sensor (the part along the hinge axis is not determined).
    for k, found in enumerate((alignment.joint_centre.centre_thigh_sensor_m, alignment.joint_centre.centre_shank_sensor_m)):
        error_m = hinge.r_link_sensor[k].apply(found) + hinge.sensor_link_m[k]  # link frame
        assert np.hypot(error_m[0], error_m[1]) < 0.005
    # Re-tracking over the same motion (as the assessment battery does over its protocols) agrees.
    again = retrack_heading(alignment, hinge.rec, hinge.moving)
    np.testing.assert_allclose(again.heading_offset_rad, alignment.heading.heading_offset_rad, atol=1e-9)


def test_hinge_fallback_signs_axes_by_the_common_frame():
    """The joint centre stays put (no heading from accelerations), so the rates decide; with the
    two-axis refinement refused (a 0° allowance) the plain hinge axes are kept — the fallback that
    used to come out 180° off on this hinge."""
    hinge = hinge_recording(seed=3, duration_s=12.0, centre_moves=False)
    alignment = _calibrate(hinge, SegmentCalibrationConfig(max_axis_refinement_deg=0.0, correct_secondary_motion=False))
    assert alignment.quality.heading_contrast < SegmentCalibrationConfig().min_heading_contrast
    assert not alignment.quality.two_axis_refined
    _check_hinge(hinge, alignment)


def test_hinge_that_cannot_tell_the_heading_is_refused():
    """One link still, the other swinging about a horizontal axis through a fixed centre: the
    data fit the shank sensor facing either way, so the calibration refuses."""
    hinge = hinge_recording(seed=3, duration_s=12.0, centre_moves=False, link1_moves=False)
    with pytest.raises(CalibrationError, match="do not move like one knee"):
        _calibrate(hinge)


# --- the shank's hinge axis as a second estimate of the thigh's flexion axis --------------------


def test_on_a_hinge_the_shank_axis_carried_into_the_thigh_agrees_with_the_fitted_one():
    hinge = hinge_recording(seed=3, duration_s=12.0)
    alignment = _calibrate(hinge)
    assert abs(alignment.quality.thigh_axis_cross_check_deg) < 1.0
    half = _calibrate(hinge, SegmentCalibrationConfig(correct_secondary_motion=False, compensate_thigh_tilt=False,
                                                      shank_axis_weight=0.5))
    _check_hinge(hinge, half)
    assert half.quality.thigh_axis_cross_check_deg == pytest.approx(alignment.quality.thigh_axis_cross_check_deg)


def test_shank_axis_weight_blends_the_two_estimates_about_the_long_axis():
    from imugait.calibration.knee_axes import KneeAxes
    from imugait.calibration.segment import _with_shank_axis

    up = np.array([0.0, 1.0, 0.0])
    fitted = np.array([0.0, 0.0, 1.0])
    turn = Rotation.from_rotvec(np.deg2rad(10.0) * up)
    # The shank's axis, seen from a shank sensor turned 30° about the vertical against the thigh's.
    r_thigh, r_shank = Rotation.identity(5), Rotation.from_rotvec(np.tile([0.0, np.deg2rad(30.0), 0.0], (5, 1)))
    h_shank = r_shank[0].inv().apply(turn.apply(fitted))
    axes = KneeAxes(fitted, up, 0.0, 0.0)
    for weight, expected_deg in ((0.0, 0.0), (0.5, 5.0), (1.0, 10.0)):
        out, cross_deg = _with_shank_axis(axes, r_thigh, r_shank, -h_shank, up, weight)  # sign: either
        assert cross_deg == pytest.approx(10.0)
        got_deg = np.rad2deg(np.arctan2(np.dot(np.cross(fitted, out.flexion_axis_thigh), up), out.flexion_axis_thigh @ fitted))
        assert got_deg == pytest.approx(expected_deg, abs=1e-9)
        assert abs(out.flexion_axis_thigh @ up) < 1e-12


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan")])
def test_shank_axis_weight_outside_zero_to_one_is_refused(weight):
    from imugait.errors import ValidationError

    with pytest.raises(ValidationError, match="shank_axis_weight"):
        SegmentCalibrationConfig(shank_axis_weight=weight)


def _rows(rec: LegRecording, n: int, q_shank: np.ndarray | None = None) -> LegRecording:
    """``rec``'s first ``n`` rows, the shank's orientations replaced by ``q_shank`` (n, 4) if given."""
    return LegRecording(rec.t_s[:n], rec.q_world_thigh_sensor[:n],
                        rec.q_world_shank_sensor[:n] if q_shank is None else q_shank, rec.gyr_thigh_radps[:n],
                        rec.gyr_shank_radps[:n], rec.acc_thigh_mps2[:n], rec.acc_shank_mps2[:n], rec.rate_hz)


def test_the_knee_inclination_comes_from_the_given_orientations_over_their_reference_samples():
    """``calibrate_leg(…, inclination=…)`` (a causal filter's calibration walk fused again,
    ``analysis/legs.py``): the recording's own orientations give what None gives; rows without a
    reference sample fall back to them; other orientations turn the shank's frame about its flexion
    axis only, and leave the thigh's frame as it was."""
    hinge = hinge_recording(seed=3, duration_s=12.0)
    config = replace(MECHANICAL, knee_inclination_from_orientation=True)
    rec = hinge.rec

    def calibrate(inclination=None):
        return calibrate_leg(Placement.LEFT_THIGH, Placement.LEFT_SHANK, rec, hinge.still, hinge.moving, config,
                             inclination=inclination)

    own = calibrate()
    before_reference = int(np.argmax(hinge.still))
    for same in (calibrate(rec), calibrate(_rows(rec, before_reference))):
        np.testing.assert_allclose(same.shank.q_sensor_segment, own.shank.q_sensor_segment, atol=1e-12)
    n = int(np.flatnonzero(hinge.still)[-1]) + 1
    tilt = Rotation.from_rotvec([np.deg2rad(4.0), 0.0, 0.0])
    tilted = (tilt * Rotation.from_quat(rec.q_world_shank_sensor[:n], scalar_first=True)).as_quat(scalar_first=True)
    other = calibrate(_rows(rec, n, tilted))
    np.testing.assert_allclose(other.thigh.q_sensor_segment, own.thigh.q_sensor_segment, atol=1e-12)
    turn = (own.shank.r_sensor_segment.inv() * other.shank.r_sensor_segment).as_rotvec()
    assert 0.5 < np.rad2deg(np.linalg.norm(turn)) < 4.5
    assert abs(turn[2]) / np.linalg.norm(turn) > 0.999  # about the segment's Z, the flexion axis
