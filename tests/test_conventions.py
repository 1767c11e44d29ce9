import warnings

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imugait.conventions import (
    JCS_SEQUENCE,
    Joint,
    Placement,
    Segment,
    Side,
    jcs_euler_rad,
    joint_angles_each_rad,
    joint_angles_rad,
    quat,
    relative_rotation_from_angles,
)

ISB_X, ISB_Y, ISB_Z = np.eye(3)  # anterior, superior, right


@pytest.mark.parametrize("joint", list(Joint))
@pytest.mark.parametrize("side", list(Side))
def test_angles_round_trip(joint, side):
    rng = np.random.default_rng(1)
    angles = rng.uniform(-0.6, 0.6, size=(50, 3))
    r = relative_rotation_from_angles(angles, joint, side)
    back = joint_angles_rad(np.tile([1.0, 0, 0, 0], (50, 1)), quat(r), joint, side)
    np.testing.assert_allclose(back, angles, atol=1e-12)


@pytest.mark.parametrize("sizes", [(1, 1), (5, 3), (7, 0), (40, 40, 2)])
def test_joint_angles_at_once_are_those_of_one_call_each_to_the_bit(sizes):
    """One rotation conversion for several joints: each row's angles depend on its own rows only
    (the live pipeline relies on it to compute knee and hip in one call)."""
    rng = np.random.default_rng(7)
    joints = []
    for k, n in enumerate(sizes):
        q = rng.normal(size=(2, n, 4))
        q[:, ::3, 1:3] *= 1e-9  # near the sequence's singularity too
        joints.append((q[0], q[1], list(Joint)[k % 2], list(Side)[k % 2]))
    for (p, d, joint, side), angles in zip(joints, joint_angles_each_rad(joints), strict=True):
        assert angles.shape == (p.shape[0], 3)
        np.testing.assert_array_equal(angles, joint_angles_rad(p, d, joint, side), strict=True)


def test_jcs_angles_in_numpy_are_scipys_to_rounding_row_by_row():
    """The few-row conversion (live polls) against scipy's ``as_euler("ZXY")``: random rotations,
    quaternions of any norm, near the sequence's singularity (b = ±90°) and at rotations about
    one axis; and each row's angles do not depend on the rows that come with it."""
    rng = np.random.default_rng(5)
    q = rng.normal(size=(600, 4)) * rng.uniform(0.3, 3.0, size=(600, 1))
    b = rng.uniform(-1.0, 1.0, 100) * 1e-6 + np.where(rng.random(100) < 0.5, np.pi / 2, -np.pi / 2)
    near_lock = Rotation.from_euler(JCS_SEQUENCE, np.c_[rng.uniform(-3, 3, 100), b, rng.uniform(-3, 3, 100)])
    one_axis = Rotation.from_rotvec(np.repeat(np.eye(3), 20, axis=0) * rng.uniform(-3, 3, (60, 1)))
    q = np.concatenate([q, near_lock.as_quat(scalar_first=True), one_axis.as_quat(scalar_first=True)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy's "gimbal lock detected" for those rows
        expected = Rotation.from_quat(q, scalar_first=True).as_euler(JCS_SEQUENCE)
    got = jcs_euler_rad(q)
    away = np.abs(np.abs(expected[:, 1]) - np.pi / 2) > 1e-3  # where a and c are unique
    assert away.sum() == 660
    np.testing.assert_allclose(np.angle(np.exp(1j * (got[away] - expected[away]))), 0.0, atol=1e-12)
    # At the singularity only a + c (b = +90°) or a - c (b = -90°) is defined: the same rotation.
    np.testing.assert_allclose(Rotation.from_euler(JCS_SEQUENCE, got).as_matrix(),
                               Rotation.from_quat(q, scalar_first=True).as_matrix(), atol=1e-9)
    np.testing.assert_array_equal(jcs_euler_rad(q[0]), got[0])
    for start in range(0, 60, 7):
        for stop in (start + 1, start + 5, start + 33):
            np.testing.assert_array_equal(jcs_euler_rad(q[start:stop]), got[start:stop], strict=True)


def test_hip_flexion_moves_knee_forward():
    r = relative_rotation_from_angles(np.deg2rad([30.0, 0, 0]), Joint.HIP, Side.RIGHT)
    knee_direction = r.apply(-ISB_Y)  # from hip to knee, in the pelvis frame
    assert knee_direction[0] > 0.45  # anterior


def test_knee_flexion_moves_ankle_backward():
    r = relative_rotation_from_angles(np.deg2rad([60.0, 0, 0]), Joint.KNEE, Side.LEFT)
    ankle_direction = r.apply(-ISB_Y)
    assert ankle_direction[0] < -0.8  # posterior


@pytest.mark.parametrize("side", list(Side))
def test_adduction_and_internal_rotation_mean_the_same_on_both_legs(side):
    medial = -ISB_Z if side is Side.RIGHT else ISB_Z
    # Adduction: the distal end moves medially.
    r = relative_rotation_from_angles(np.deg2rad([0.0, 10.0, 0]), Joint.HIP, side)
    assert np.dot(r.apply(-ISB_Y), medial) > 0.15
    # Knee varus (+ adduction): the ankle moves medially relative to the thigh.
    r = relative_rotation_from_angles(np.deg2rad([0.0, 10.0, 0]), Joint.KNEE, side)
    assert np.dot(r.apply(-ISB_Y), medial) > 0.15
    # Internal rotation: the anterior axis turns medially.
    r = relative_rotation_from_angles(np.deg2rad([0.0, 0, 20.0]), Joint.HIP, side)
    assert np.dot(r.apply(ISB_X), medial) > 0.3


def test_placements():
    assert Placement.of(Segment.THIGH, Side.LEFT) is Placement.LEFT_THIGH
    assert Placement.parse("Right-Shank") is Placement.RIGHT_SHANK
    assert Placement.PELVIS.side is None and Placement.RIGHT_FOOT.segment is Segment.FOOT
    with pytest.raises(ValueError, match="unknown placement"):
        Placement.parse("left_arm")
    with pytest.raises(ValueError):
        Placement.of(Segment.PELVIS, Side.LEFT)


def test_quat_is_scalar_first_and_positive():
    q = quat(Rotation.from_rotvec([[0, 0, np.deg2rad(190.0)]]))
    assert q.shape == (1, 4) and q[0, 0] >= 0
    np.testing.assert_allclose(np.abs(q[0, 3]), np.sin(np.deg2rad(95)), atol=1e-12)
