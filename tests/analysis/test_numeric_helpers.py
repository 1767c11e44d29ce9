"""Numeric helpers of the analysis: resampling onto the grid (imugait.timebase) and rotating vectors
by quaternions (imugait.quaternion), against scipy."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from imugait.quaternion import quat_multiply, quat_rotate
from imugait.timebase import grid_position, interp_vectors, slerp_quats


def _times(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.cumsum(rng.uniform(0.004, 0.006, n))  # jittered 200 Hz


def test_interp_vectors_matches_numpy_interp_and_clamps():
    rng = np.random.default_rng(1)
    t_src = _times(rng, 500)
    values = rng.normal(size=(500, 3))
    t_dst = np.linspace(t_src[0] - 0.05, t_src[-1] + 0.05, 777)  # beyond both ends
    expected = np.column_stack([np.interp(t_dst, t_src, values[:, k]) for k in range(3)])
    np.testing.assert_allclose(interp_vectors(t_src, values, t_dst), expected, atol=1e-12)
    position = grid_position(t_src, t_dst)
    np.testing.assert_allclose(interp_vectors(t_src, values, t_dst, position), expected, atol=1e-12)


def test_slerp_quats_close_to_slerp_and_exact_at_samples():
    rng = np.random.default_rng(2)
    t_src = _times(rng, 400)
    # A body-like rotation: up to ~6 rad/s, so a few degrees between samples.
    rotvec = np.cumsum(rng.normal(scale=0.02, size=(400, 3)), axis=0)
    r_src = Rotation.from_rotvec(rotvec)
    q_src = r_src.as_quat(scalar_first=True)
    q_src[::3] *= -1.0  # the sign of a quaternion must not matter
    t_dst = np.sort(rng.uniform(t_src[0], t_src[-1], 1000))
    got = Rotation.from_quat(slerp_quats(t_src, q_src, t_dst), scalar_first=True)
    truth = Slerp(t_src, r_src)(t_dst)
    assert np.max(np.rad2deg((truth.inv() * got).magnitude())) < 0.01
    at_samples = slerp_quats(t_src, q_src, t_src[5:50])
    np.testing.assert_allclose(np.abs(np.sum(at_samples * q_src[5:50], axis=1)), 1.0, atol=1e-12)


def test_quat_rotate_matches_scipy():
    r = Rotation.random(200, random_state=3)
    q = r.as_quat(scalar_first=True)
    v = np.random.default_rng(3).normal(size=(200, 3))
    np.testing.assert_allclose(quat_rotate(q, v), r.apply(v), atol=1e-12)
    np.testing.assert_allclose(quat_rotate(-q, [0.0, 1.0, 0.0]), r.apply([0.0, 1.0, 0.0]), atol=1e-12)
    np.testing.assert_allclose(quat_rotate(q[7], v[7]), r[7].apply(v[7]), atol=1e-12)


def test_quat_multiply_with_a_constant_matches_scipy():
    a = Rotation.random(300, random_state=4)
    b = Rotation.random(300, random_state=5)
    qa, qb = a.as_quat(scalar_first=True), b.as_quat(scalar_first=True)

    def same(q: np.ndarray, r: Rotation) -> None:
        np.testing.assert_allclose(np.abs(np.sum(q * r.as_quat(scalar_first=True), axis=-1)), 1.0, atol=1e-12)

    same(quat_multiply(qa[0], qb), a[0] * b)  # constant on the left
    same(quat_multiply(qa, qb[0]), a * b[0])  # … on the right
    same(quat_multiply(qa, qb), a * b)


def test_long_arrays_in_blocks_give_what_one_block_gives():
    """quat_rotate, quat_multiply, joint_angles_rad and segment_orientations work on recordings
    longer than CHUNK_ROWS in blocks: the same numbers as scipy on the whole array at once."""
    from imugait.conventions import Joint, Side, joint_angles_rad
    from imugait.kinematics.angles import segment_orientations
    from imugait.quaternion import CHUNK_ROWS, quat_about_z

    n = 2 * CHUNK_ROWS + 123  # three blocks, the last one short
    a, b = Rotation.random(n, random_state=6), Rotation.random(n, random_state=7)
    qa, qb = a.as_quat(scalar_first=True), b.as_quat(scalar_first=True)
    v = np.random.default_rng(8).normal(size=(n, 3))
    np.testing.assert_allclose(quat_rotate(qa, v), a.apply(v), atol=1e-12)
    np.testing.assert_allclose(quat_rotate(qa, [0.0, 0.0, 1.0]), a.apply([0.0, 0.0, 1.0]), atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(quat_multiply(qa, qb) * (a * b).as_quat(scalar_first=True), axis=1)), 1.0,
                               atol=1e-12)
    expected = (a.inv() * b).as_euler("ZXY") * [-1.0, -1.0, -1.0]  # knee flexion sign; left: adduction, rotation mirrored
    angles = joint_angles_rad(qa, qb, Joint.KNEE, Side.LEFT)
    np.testing.assert_allclose(np.angle(np.exp(1j * (angles - expected))), 0.0, atol=1e-9)
    heading = np.linspace(-1.0, 2.0, n)
    c_thigh, c_shank = Rotation.random(2, random_state=9).as_quat(scalar_first=True)
    q_thigh, q_shank = segment_orientations(qa, qb, c_thigh, c_shank, heading)
    whole = quat_multiply(quat_about_z(heading)[:CHUNK_ROWS], quat_multiply(qb[:CHUNK_ROWS], c_shank))
    np.testing.assert_allclose(q_shank[:CHUNK_ROWS], whole, atol=1e-15)
    np.testing.assert_allclose(np.abs(np.sum(q_shank * (Rotation.from_rotvec(np.outer(heading, [0, 0, 1])) * b
                                                          * Rotation.from_quat(c_shank, scalar_first=True))
                                             .as_quat(scalar_first=True), axis=1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(q_thigh, quat_multiply(qa, c_thigh))
