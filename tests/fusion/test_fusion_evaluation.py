"""Error split and alignment used by the accuracy tests and the BROAD benchmark."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic
from scipy.spatial.transform import Rotation

from imugait.errors import ValidationError
from imugait.fusion.evaluation import (
    WorldAlignment,
    align_to_reference,
    orientation_errors_rad,
    orientation_rmse,
)
from imugait.quaternion import (
    heading_inclination_split,
    orientation_from_acc_mag,
    quat_conj,
    quat_multiply,
)


def _q(r: Rotation) -> np.ndarray:
    return r.as_quat(scalar_first=True)


def test_quat_multiply_matches_scipy():
    rng = np.random.default_rng(0)
    a, b = Rotation.random(20, random_state=1), Rotation.random(20, random_state=2)
    product = quat_multiply(_q(a), _q(b))
    expected = _q(a * b)
    # q and -q are the same rotation: compare with matching signs.
    np.testing.assert_allclose(product * np.sign(product[:, :1]), expected * np.sign(expected[:, :1]), atol=1e-12)
    v = rng.normal(size=3)
    q = _q(a[0])
    rotated = quat_multiply(quat_multiply(q, np.r_[0.0, v]), quat_conj(q))[1:]
    np.testing.assert_allclose(rotated, a[0].apply(v), atol=1e-12)


def test_split_of_pure_heading_and_pure_tilt():
    heading, incl = heading_inclination_split(_q(Rotation.from_euler("z", 25, degrees=True)))
    assert np.degrees(heading) == pytest.approx(25) and np.degrees(incl) == pytest.approx(0, abs=1e-9)
    heading, incl = heading_inclination_split(_q(Rotation.from_euler("x", 10, degrees=True)))
    assert np.degrees(heading) == pytest.approx(0, abs=1e-9) and np.degrees(incl) == pytest.approx(10)
    # Heading then tilt: each part is recovered.
    heading, incl = heading_inclination_split(_q(Rotation.from_euler("zy", [-40, 15], degrees=True)))
    assert np.degrees(heading) == pytest.approx(40) and np.degrees(incl) == pytest.approx(15)


def test_errors_of_a_world_heading_offset():
    truth = Rotation.random(100, random_state=3)
    est = Rotation.from_euler("z", 30, degrees=True) * truth
    total, heading, incl = orientation_errors_rad(_q(est), _q(truth))
    np.testing.assert_allclose(np.degrees(total), 30, atol=1e-9)
    np.testing.assert_allclose(np.degrees(heading), 30, atol=1e-9)
    np.testing.assert_allclose(incl, 0, atol=1e-6)


def test_alignment_recovers_world_heading_and_marker_rotation():
    truth = Rotation.from_quat(make_synthetic(duration_s=20.0, seed=6).q_world_sensor, scalar_first=True)
    r_w = Rotation.from_euler("z", 70, degrees=True)
    r_s = Rotation.from_euler("xyz", [5, -8, 12], degrees=True)
    ref = r_w * truth * r_s
    ref_q = _q(ref)
    ref_q[100:200] = np.nan  # lost optical tracking
    alignment = align_to_reference(_q(truth), ref_q)
    assert np.degrees((Rotation.from_quat(alignment.q_refworld_world, scalar_first=True) * r_w.inv()).magnitude()) < 1e-4
    assert np.degrees((Rotation.from_quat(alignment.q_sensor_marker, scalar_first=True) * r_s.inv()).magnitude()) < 1e-4
    rmse, _ = orientation_rmse(_q(truth), ref_q)
    assert rmse.total_deg < 1e-6
    assert rmse.n_samples == len(truth) - 100


def test_heading_alignment_cannot_hide_a_tilt_error():
    truth = Rotation.random(500, random_state=7)
    tilted = Rotation.from_euler("x", 3, degrees=True) * truth  # constant world-frame tilt error
    rmse, _ = orientation_rmse(_q(tilted), _q(truth), world=WorldAlignment.HEADING, sensor_to_marker=False)
    assert rmse.inclination_deg == pytest.approx(3.0, abs=1e-6)
    rmse_full, _ = orientation_rmse(_q(tilted), _q(truth), world=WorldAlignment.FULL, sensor_to_marker=False)
    assert rmse_full.total_deg < 1e-6


def test_evaluation_input_errors():
    with pytest.raises(ValidationError, match=r"\(N, 4\)"):
        orientation_rmse(np.zeros((5, 4)), np.zeros((4, 4)))
    with pytest.raises(ValidationError, match="no sample has both"):
        orientation_rmse(np.tile([1.0, 0, 0, 0], (3, 1)), np.full((3, 4), np.nan))


@pytest.mark.parametrize("euler_deg", [[0, 0, 0], [0, 90, 0], [30, -50, 120], [0, 180, 0], [-100, 10, 179]])
def test_start_orientation_from_one_sample(euler_deg):
    r = Rotation.from_euler("zyx", euler_deg, degrees=True)
    field = np.array([0.0, 20.0, -40.0])
    q9 = orientation_from_acc_mag(r.inv().apply([0, 0, 9.81]), r.inv().apply(field))
    assert (Rotation.from_quat(q9, scalar_first=True) * r.inv()).magnitude() < 1e-9
    q6 = Rotation.from_quat(orientation_from_acc_mag(r.inv().apply([0, 0, 9.81])), scalar_first=True)
    np.testing.assert_allclose(q6.apply(r.inv().apply([0, 0, 1.0])), [0, 0, 1.0], atol=1e-9)
