import numpy as np
import pytest
from calibration_helpers import procedure_stream
from scipy.spatial.transform import Rotation

from imugait.calibration import MagFitConfig, direction_coverage, fit_magnetometer
from imugait.errors import CalibrationError
from imugait.simulate.sensors import EARTH_FIELD_WORLD_UT


def _rotation_samples(stream, truth):
    return stream.mag_uT[stream.t_s >= truth.rotation_interval_s[0]]


@pytest.mark.parametrize("seed", range(5))
def test_hard_iron_and_sphere(seed):
    stream, truth = procedure_stream(seed=seed)
    fit = fit_magnetometer(_rotation_samples(stream, truth))
    np.testing.assert_allclose(fit.hard_iron_uT, truth.mag_hard_iron_uT, atol=0.5)
    # The correction undoes the soft iron up to a rotation and a scale: A S is a scaled rotation.
    a_s = fit.soft_iron @ truth.mag_soft_iron
    k = np.cbrt(np.linalg.det(a_s))
    np.testing.assert_allclose(a_s @ a_s.T / k**2, np.eye(3), atol=2e-3)
    assert fit.residual_rms_uT < 0.5  # noise 0.3 µT per axis
    assert fit.coverage > 0.9
    corrected = (stream.mag_uT - fit.hard_iron_uT) @ fit.soft_iron.T
    assert np.std(np.linalg.norm(corrected, axis=1)) < 0.5


def _synthetic(rotations: Rotation, seed=0):
    rng = np.random.default_rng(seed)
    soft = np.eye(3) + rng.normal(0, 0.03, (3, 3))
    hard = np.array([12.0, -7.0, 20.0])
    true = rotations.inv().apply(EARTH_FIELD_WORLD_UT)
    return true @ soft.T + hard + rng.normal(0, 0.3, true.shape)


def test_refuses_rotation_about_one_axis():
    angles = np.linspace(0, 4 * np.pi, 2000)
    mag = _synthetic(Rotation.from_euler("z", angles[:, None]))
    with pytest.raises(CalibrationError, match="coverage too poor: the readings lie almost in a plane"):
        fit_magnetometer(mag)


def test_refuses_small_patch():
    rng = np.random.default_rng(1)
    # Wobbling within ±35° of one orientation: 3-D spread, but a small part of the sphere.
    rotvecs = rng.uniform(-1, 1, (2000, 3)) * np.radians(35)
    with pytest.raises(CalibrationError, match="coverage too poor"):
        fit_magnetometer(_synthetic(Rotation.from_rotvec(rotvecs)))


def test_refuses_too_few_samples():
    with pytest.raises(CalibrationError, match="at least 100 readings"):
        fit_magnetometer(np.ones((10, 3)), MagFitConfig())


def test_refuses_a_field_that_changes():
    stream, truth = procedure_stream(seed=0)
    mag = _rotation_samples(stream, truth).copy()
    mag[len(mag) // 2:] += 8.0  # a magnet came close half-way through
    with pytest.raises(CalibrationError):
        fit_magnetometer(mag)


def test_direction_coverage():
    assert direction_coverage(np.array([[0, 0, 1.0]])) == pytest.approx(1 / 26)
    rng = np.random.default_rng(0)
    assert direction_coverage(rng.normal(size=(5000, 3))) == 1.0
    assert direction_coverage(np.zeros((3, 3))) == 0.0
