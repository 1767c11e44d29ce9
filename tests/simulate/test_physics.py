"""Physical consistency of the simulator: the sensors see exactly what the body does."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imugait.conventions import GRAVITY_MPS2, Joint, Placement, Side, joint_angles_rad, quat
from imugait.simulate import (
    SensorErrors,
    SideParams,
    SimulationConfig,
    WalkerParams,
    simulate,
    walking_test,
)


@pytest.fixture(scope="module")
def ideal():
    config = SimulationConfig(
        errors=SensorErrors.ideal(), timeline=walking_test(n_bouts=2, bout_s=8.0, stand_s=3.0), seed=3,
        sample_rate_hz=400.0,  # fine enough to integrate the heel-strike pulse
    )
    return simulate(config)


def sensor_rotation(result, placement, t_s):
    pose = result.walker.pose(t_s)
    r_seg = pose.r_world[(placement.segment, placement.side)]
    return r_seg * Rotation.from_quat(result.sensors[placement].q_segment_sensor, scalar_first=True)


@pytest.mark.parametrize("placement", [Placement.LEFT_THIGH, Placement.RIGHT_SHANK])
def test_integrated_gyro_reproduces_orientation(ideal, placement):
    stream = ideal.session[placement]
    r_true = sensor_rotation(ideal, placement, stream.t_s)
    dt = np.diff(stream.t_s)
    omega_mid = 0.5 * (stream.gyr_radps[1:] + stream.gyr_radps[:-1])
    steps = Rotation.from_rotvec(omega_mid * dt[:, None])
    r = r_true[0]
    out = [r]
    for step in steps:
        r = r * step
        out.append(r)
    r_int = Rotation.concatenate(out)
    error_deg = np.rad2deg((r_int.inv() * r_true).magnitude())
    assert stream.duration_s > 20.0
    assert error_deg.max() < 0.25, f"integration drifted {error_deg.max():.3f} deg"


def test_accelerometer_reads_one_g_up_at_rest(ideal):
    for placement, stream in ideal.session.items():
        still = stream.t_s < 2.5  # standing, before the walk ramps up
        norm = np.linalg.norm(stream.acc_mps2[still], axis=1)
        np.testing.assert_allclose(norm, GRAVITY_MPS2, atol=1e-5)
        # Pointing up: the reading rotated into the world is +z.
        world = sensor_rotation(ideal, placement, stream.t_s[still]).apply(stream.acc_mps2[still])
        np.testing.assert_allclose(world, np.tile([0, 0, GRAVITY_MPS2], (still.sum(), 1)), atol=1e-5)


def test_magnetometer_sees_a_constant_earth_field(ideal):
    stream = ideal.session[Placement.RIGHT_THIGH]
    np.testing.assert_allclose(np.linalg.norm(stream.mag_uT, axis=1), 48.0, atol=1e-9)


def test_joint_angles_from_true_orientations_match_driving_curves(ideal):
    truth = ideal.truth
    t = truth.series["t_s"].to_numpy()
    for side in Side:
        for joint in Joint:
            driving = np.rad2deg(ideal.walker.joint_angles_rad(t, joint, side))
            if joint is Joint.KNEE:
                names = ["knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg"]
            else:
                names = ["hip_flexion_deg", "hip_adduction_deg", "hip_rotation_pelvis_deg"]
            recomputed = np.column_stack([truth.angle(side, n) for n in names])
            np.testing.assert_allclose(recomputed, driving, atol=1e-8)
    # And the stored segment orientations give those angles through the public JCS function.
    q_thigh = truth.q_world(Placement.LEFT_THIGH)
    q_shank = truth.q_world(Placement.LEFT_SHANK)
    knee = np.rad2deg(joint_angles_rad(q_thigh, q_shank, Joint.KNEE, Side.LEFT))
    np.testing.assert_allclose(knee[:, 0], truth.angle(Side.LEFT, "knee_flexion_deg"), atol=1e-8)


@pytest.mark.parametrize("side", list(Side))
def test_internal_rotation_and_valgus_mean_the_same_on_both_legs(side):
    offsets = {side.value: SideParams(hip_rotation_offset_deg=15.0, knee_valgus_deg=10.0)}
    config = SimulationConfig(
        walker=WalkerParams(angle_variability_deg=0.0, **offsets),
        errors=SensorErrors.ideal(),
        timeline=walking_test(n_bouts=1, bout_s=6.0, stand_s=2.0),
        seed=5,
    )
    result = simulate(config)
    pose = result.walker.pose(np.array([1.0]))  # standing
    prog = pose.r_world_progression
    towards_other_leg = prog.apply([0.0, 0.0, -side.mirror])[0]  # medial, in the world
    thigh = pose.r_world[(Placement.of(Placement.LEFT_THIGH.segment, side).segment, side)]
    anterior = thigh.apply([1.0, 0.0, 0.0])[0]
    # Internally rotated femur: its anterior axis turns medially by the offset.
    assert np.rad2deg(np.arcsin(np.dot(anterior, towards_other_leg))) == pytest.approx(15.0, abs=0.5)
    # Valgus: the ankle sits lateral of the knee (knee caves in).
    shank = pose.r_world[(Placement.RIGHT_SHANK.segment, side)]
    knee_to_ankle = shank.apply([0.0, -1.0, 0.0])[0]
    assert np.rad2deg(np.arcsin(np.dot(knee_to_ankle, -towards_other_leg))) == pytest.approx(10.0, abs=0.5)
    # The truth says the same with the shared sign table, and the other leg is unaffected.
    standing = result.truth.series["t_s"] < 1.5
    s, o = side.value, side.other.value
    assert result.truth.series.loc[standing, f"{s}_hip_rotation_progression_deg"].mean() == pytest.approx(15.0, abs=0.1)
    assert result.truth.series.loc[standing, f"{s}_knee_adduction_deg"].mean() == pytest.approx(-10.0, abs=0.1)
    assert abs(result.truth.series.loc[standing, f"{o}_hip_rotation_progression_deg"].mean()) < 0.1


def test_hip_rotation_offset_shifts_the_walking_mean():
    config = SimulationConfig(
        walker=WalkerParams(right=SideParams(hip_rotation_offset_deg=12.0)),
        timeline=walking_test(n_bouts=1, bout_s=10.0, stand_s=2.0),
        seed=8,
    )
    cycles = simulate(config).truth.cycles
    steady = cycles[cycles["steady"]]
    by_side = steady.groupby("side")["hip_rotation_progression_mean_deg"].mean()
    assert by_side["right"] - by_side["left"] == pytest.approx(12.0, abs=1.5)


def test_events_and_cycles_follow_the_cadence(ideal):
    cycles = ideal.truth.cycles
    steady = cycles[cycles["steady"]]
    assert len(steady) >= 8
    expected = ideal.config.walker.stride_time_s
    assert steady["stride_time_s"].mean() == pytest.approx(expected, rel=0.03)
    assert steady["stance_pct"].mean() == pytest.approx(100 * ideal.walker.curves.toe_off_fraction, abs=1.0)
    # No initial contact while standing.
    ic = ideal.truth.events.query("event == 'initial_contact'")["t_s"]
    assert ic.min() > 3.0 and ic.max() < ideal.truth.series["t_s"].iloc[-1] - 3.0


def test_knee_flexes_in_swing_and_hip_extends_late_in_stance(ideal):
    steady = ideal.truth.cycles.query("steady")
    assert steady["knee_flexion_max_deg"].between(45.0, 75.0).all()
    assert steady["knee_flexion_min_deg"].between(-5.0, 12.0).all()


def test_quat_of_truth_is_unit(ideal):
    q = ideal.truth.q_world(Placement.RIGHT_THIGH)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-12)
    assert np.all(quat(Rotation.from_quat(q, scalar_first=True))[:, 0] >= 0)
