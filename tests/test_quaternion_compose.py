"""``compose_rotations`` is scipy's ``*`` of rotations, bit for bit (and ``quat_conj`` the negated
vector part, bit for bit)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imugait.quaternion import compose_rotations, quat_conj


def _same(a: Rotation, b: Rotation) -> bool:
    qa, qb = a.as_quat(canonical=False), b.as_quat(canonical=False)
    return a.single == b.single and qa.shape == qb.shape and np.array_equal(qa, qb)


@pytest.mark.parametrize("n", [1, 7, 5000])
def test_compose_is_scipys_product_to_the_bit(n):
    rng = np.random.default_rng(n)
    a = Rotation.from_quat(rng.normal(size=(n, 4)))
    b = Rotation.from_quat(rng.normal(size=(n, 4)))
    about_z = Rotation.from_rotvec(np.outer(rng.normal(size=n), [0.0, 0.0, 1.0]))
    for first, second in ((a, b), (b, a), (a.inv(), b), (about_z, b), (a, b.inv())):
        assert _same(compose_rotations(first, second), first * second)
    # One rotation with many, either side, and two single ones.
    assert _same(compose_rotations(a[0], b), a[0] * b)
    assert _same(compose_rotations(a, b[0]), a * b[0])
    assert _same(compose_rotations(a[0], b[0]), a[0] * b[0])


def test_compose_of_near_identity_and_opposite_signs():
    q = np.array([[1.0, 1e-12, 0.0, 0.0], [-1.0, 0.0, 0.0, 1e-9], [0.0, 0.0, 0.0, 1.0], [0.5, 0.5, 0.5, 0.5]])
    a = Rotation.from_quat(q, scalar_first=True)
    b = Rotation.from_quat(-q[::-1], scalar_first=True)
    assert _same(compose_rotations(a, b), a * b)


def test_conjugate_is_the_negated_vector_part_to_the_bit():
    """``quat_conj`` as one product with (1, -1, -1, -1): the bits of negating a copy's vector
    part, signed zeros and NaN included, for one quaternion and for rows."""
    rng = np.random.default_rng(7)
    for shape in [(4,), (1, 4), (5, 4), (300, 4)]:
        q = rng.normal(size=shape)
        q.flat[0], q.flat[1], q.flat[2] = np.nan, -0.0, 0.0
        expected = np.array(q, copy=True)
        expected[..., 1:] *= -1.0
        assert quat_conj(q).tobytes() == expected.tobytes()
    assert quat_conj([1, 2, 3, 4]).tolist() == [1.0, -2.0, -3.0, -4.0]
