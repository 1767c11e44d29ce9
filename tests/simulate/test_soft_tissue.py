"""The soft-tissue artefact: sized by the sourced ranges, seen consistently by gyroscope and
accelerometer, and off by default without disturbing anything else."""

import dataclasses

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation, Slerp

from imugait.conventions import Placement, Segment
from imugait.errors import ValidationError
from imugait.simulate import SensorErrors, SimulationConfig, simulate, walking_test
from imugait.simulate.soft_tissue import AXES, draw_soft_tissue, scale_from_text, sta_ranges

LEGS = (Placement.LEFT_THIGH, Placement.RIGHT_SHANK)
STA_ON = dataclasses.replace(SensorErrors.ideal(), soft_tissue_scale=1.0)
TIMELINE = walking_test(n_bouts=1, bout_s=12.0, stand_s=2.0)


@pytest.fixture(scope="module")
def sta_walk():
    """Error-free sensors with the literature artefact, fine sampling for the integration."""
    return simulate(SimulationConfig(errors=STA_ON, timeline=TIMELINE, seed=4, sample_rate_hz=400.0))


def integrate_gyro(r0: Rotation, t_s: np.ndarray, gyr_radps: np.ndarray) -> Rotation:
    """Second-order (coning-corrected) integration of body rates: the artefact's 10–20 Hz
    vibration makes the rotation axis wander within a sample, which the plain midpoint rule
    misses by a few tenths of a degree over a walk."""
    dt = np.diff(t_s)[:, None]
    w0, w1 = gyr_radps[:-1], gyr_radps[1:]
    steps = Rotation.from_rotvec(0.5 * (w0 + w1) * dt + np.cross(w0, w1) * dt**2 / 12.0)
    out = [r0]
    for step in steps:
        out.append(out[-1] * step)
    return Rotation.concatenate(out)


def mounting(result, placement) -> Rotation:
    return Rotation.from_quat(result.sensors[placement].q_segment_sensor, scalar_first=True)


def segment_in_world(result, placement, t_s) -> Rotation:
    """The bone's orientation from the truth table (not the walker), on the sensor's clock."""
    series = result.truth.series
    slerp = Slerp(series["t_s"].to_numpy(), Rotation.from_quat(result.truth.q_world(placement), scalar_first=True))
    return slerp(np.clip(t_s, series["t_s"].iloc[0], series["t_s"].iloc[-1]))


def steady_strides(result, placement):
    cycles = result.truth.cycles
    c = cycles[(cycles["side"] == placement.side.value) & cycles["steady"]]
    return list(zip(c["t_initial_contact_s"], c["t_next_initial_contact_s"], strict=True))


def test_drawn_amplitudes_are_the_sourced_ranges_and_thigh_long_axis_dominates():
    """Over many draws, the peak-to-peak of every component over the normative cycle is the
    drawn amplitude, inside its sourced range; the thigh's long-axis rotation is its largest and
    the thigh moves more than the shank."""
    from imugait.simulate.soft_tissue import _cycle_flexion_rad

    knee, hip = _cycle_flexion_rad()
    drive = np.column_stack([knee, hip])
    rng = np.random.default_rng(0)
    ptp = {}
    for placement in LEGS:
        ranges = sta_ranges(placement.segment)
        rot, trans = [], []
        for _ in range(200):
            a = draw_soft_tissue(placement, 1.0, rng)
            rot.append(np.rad2deg(np.ptp(drive @ a.rotation_per_rad.T, axis=0)))
            trans.append(1e3 * np.ptp(drive @ a.translation_per_rad_m.T, axis=0))
        rot, trans = np.array(rot), np.array(trans)
        for i, axis in enumerate(AXES):
            lo, hi = ranges["rotation_ptp_deg"][axis]
            assert lo - 1e-9 <= rot[:, i].min() and rot[:, i].max() <= hi + 1e-9
            lo, hi = ranges["translation_ptp_mm"][axis]
            assert lo - 1e-9 <= trans[:, i].min() and trans[:, i].max() <= hi + 1e-9
        ptp[placement.segment] = (rot.mean(axis=0), np.linalg.norm(trans, axis=1).mean())
    thigh_rot, thigh_mm = ptp[Segment.THIGH]
    shank_rot, shank_mm = ptp[Segment.SHANK]
    assert np.argmax(thigh_rot) == AXES.index("y")
    assert np.all(thigh_rot > shank_rot) and thigh_mm > shank_mm
    assert 10.0 <= thigh_mm <= 30.0  # the thigh sensor slides 10–30 mm in all


@pytest.mark.parametrize("placement", LEGS)
def test_sensor_rotation_on_its_bone_measured_from_the_truth_is_in_range(sta_walk, placement):
    """Measured, not modelled: integrate the simulated gyroscope from the true initial pose and
    read the sensor's rotation relative to the true bone orientation; low-pass it below the
    heel-strike vibration and compare each stride's peak-to-peak with the sourced range (with 20 %
    for the stride-to-stride variability of the joint angles that drive it)."""
    stream = sta_walk.session[placement]
    t = stream.t_s
    r_seg = segment_in_world(sta_walk, placement, t)
    r_sensor = integrate_gyro(r_seg[0] * _sta_at(sta_walk, placement, t[:1]) * mounting(sta_walk, placement),
                              t, stream.gyr_radps)
    rotvec_deg = np.rad2deg((r_seg.inv() * r_sensor * mounting(sta_walk, placement).inv()).as_rotvec())
    slow = sosfiltfilt(butter(2, 5.0, fs=400.0, output="sos"), rotvec_deg, axis=0)
    ranges = sta_ranges(placement.segment)["rotation_ptp_deg"]
    strides = steady_strides(sta_walk, placement)
    assert len(strides) >= 6
    for i, axis in enumerate(AXES):
        lo, hi = ranges[axis]
        per_stride = [np.ptp(slow[(t >= a) & (t < b), i]) for a, b in strides]
        assert 0.8 * lo <= np.median(per_stride) <= 1.2 * hi, (axis, per_stride)
    # The vibration is there too: the unfiltered rotation moves more than the low-passed one.
    fast = rotvec_deg - slow
    assert np.abs(fast[t > strides[0][0]]).max() > 0.1


def _sta_at(result, placement, t_s) -> Rotation:
    artefact = result.sensors[placement].soft_tissue
    return artefact.evaluate(result.walker, result.walker.pose(t_s).angles_rad, t_s)[0]


@pytest.mark.parametrize("placement", LEGS)
def test_gyroscope_follows_the_perturbed_sensor(sta_walk, placement):
    stream = sta_walk.session[placement]
    t = stream.t_s
    pose = sta_walk.walker.pose(t)
    r_seg = pose.r_world[(placement.segment, placement.side)]
    r_sta, _ = sta_walk.sensors[placement].soft_tissue.evaluate(sta_walk.walker, pose.angles_rad, t)
    r_true = r_seg * r_sta * mounting(sta_walk, placement)
    r_int = integrate_gyro(r_true[0], t, stream.gyr_radps)
    error_deg = np.rad2deg((r_int.inv() * r_true).magnitude())
    assert error_deg.max() < 0.05, f"integration drifted {error_deg.max():.3f} deg"
    rigid_deg = np.rad2deg((r_int.inv() * r_seg * mounting(sta_walk, placement)).magnitude())
    assert rigid_deg.max() > 1.0  # and the artefact is really in the signal


@pytest.mark.parametrize("placement", LEGS)
def test_accelerometer_is_the_specific_force_of_the_perturbed_trajectory(sta_walk, placement):
    """The sensor's centre moves with the artefact: the accelerometer, rotated into the world,
    matches the second difference of the perturbed position (computed here from the truth with a
    different step) far better than that of the position without the artefact. Medians: at heel
    strike the two steps average the knee pulse's jump in acceleration differently."""
    stream = sta_walk.session[placement]
    walking = np.interp(stream.t_s, sta_walk.truth.series["t_s"], sta_walk.truth.series["walking_weight"]) > 0.999
    t = stream.t_s[walking][::4]
    acc = stream.acc_mps2[walking][::4]
    artefact = sta_walk.sensors[placement].soft_tissue
    p_mount = sta_walk.sensors[placement].position_segment_m
    h = 2.5e-4  # the simulator differentiates with 0.5 ms
    key = (placement.segment, placement.side)

    def positions(with_sta: bool) -> np.ndarray:
        out = []
        for tk in (t - h, t, t + h):
            pose = sta_walk.walker.pose(tk)
            shift = artefact.evaluate(sta_walk.walker, pose.angles_rad, tk)[1] if with_sta else 0.0
            out.append(pose.origin_m[key] + pose.r_world[key].apply(p_mount + shift))
        return np.array(out)

    pose = sta_walk.walker.pose(t)
    r_sta, _ = artefact.evaluate(sta_walk.walker, pose.angles_rad, t)
    r_world_sensor = pose.r_world[key] * r_sta * mounting(sta_walk, placement)
    specific_force_world = r_world_sensor.apply(acc)
    residual = {}
    for with_sta in (True, False):
        p = positions(with_sta)
        acc_world = (p[2] - 2 * p[1] + p[0]) / h**2
        residual[with_sta] = np.median(np.linalg.norm(specific_force_world - acc_world - [0, 0, 9.80665], axis=1))
    assert residual[True] < 0.01, residual  # m/s²: finite-difference error only
    assert residual[False] > 0.1 and residual[False] > 10 * residual[True], residual


def test_artefact_is_off_by_default_and_turning_it_on_changes_nothing_else():
    base = SimulationConfig(timeline=walking_test(n_bouts=1, bout_s=6.0, stand_s=2.0), seed=11)
    off = simulate(base)
    on = simulate(dataclasses.replace(base, errors=dataclasses.replace(base.errors, soft_tissue_scale=1.0)))
    assert SensorErrors().soft_tissue_scale == 0.0
    for placement in off.session:
        a, b = off.sensors[placement], on.sensors[placement]
        assert a.soft_tissue is None and b.soft_tissue is not None
        np.testing.assert_array_equal(a.gyr_bias_radps, b.gyr_bias_radps)
        np.testing.assert_array_equal(a.q_segment_sensor, b.q_segment_sensor)
        assert a.clock_offset_s == b.clock_offset_s
        # Standing still, the artefact is a constant offset: the gyroscope reads the same.
        still = off.session[placement].t_s < 1.0
        np.testing.assert_allclose(off.session[placement].gyr_radps[still], on.session[placement].gyr_radps[still],
                                   atol=2 * 2000 * np.pi / 180 / 32768)  # within a count or two
        assert not np.array_equal(off.session[placement].acc_mps2, on.session[placement].acc_mps2)


def test_scale_names_and_numbers():
    assert scale_from_text("literature") == 1.0 and scale_from_text("none") == 0.0
    assert scale_from_text("0.5") == 0.5
    for bad in ("-1", "lots"):
        with pytest.raises(ValidationError):
            scale_from_text(bad)
    assert draw_soft_tissue(Placement.PELVIS, 1.0, np.random.default_rng(0)) is None
    assert draw_soft_tissue(Placement.LEFT_THIGH, 0.0, np.random.default_rng(0)) is None
