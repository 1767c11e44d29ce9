"""Output frame: z-up world (ENU with a magnetometer), scalar-first ``q_world_sensor``.

A sensor lying still with its x axis pointing down (y towards magnetic north) is rotated +90°
about the world y axis: ``q_world_sensor = [cos 45°, 0, sin 45°, 0]``, which maps sensor x onto
world -z. Its accelerometer reads +9.81 m/s² along the sensor axis pointing up, i.e. -x.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FIELD_WORLD_UT
from scipy.spatial.transform import Rotation

from imugait.fusion import FilterKind, FusionSettings, make_filter

RATE_HZ = 100.0
Q_X_DOWN = np.array([np.cos(np.pi / 4), 0.0, np.sin(np.pi / 4), 0.0])


def _still(q_world_sensor: np.ndarray, n: int = 1000, seed: int = 4):
    rng = np.random.default_rng(seed)
    r = Rotation.from_quat(q_world_sensor, scalar_first=True)
    acc = np.tile(r.inv().apply([0.0, 0.0, 9.81]), (n, 1)) + rng.normal(0, 0.02, (n, 3))
    mag = np.tile(r.inv().apply(FIELD_WORLD_UT), (n, 1)) + rng.normal(0, 0.2, (n, 3))
    gyr = rng.normal(0, 0.002, (n, 3))
    return gyr, acc, mag


def _angle_deg(q1: np.ndarray, q2: np.ndarray) -> float:
    return float(np.degrees(2 * np.arccos(min(1.0, abs(float(np.dot(q1, q2)))))))


def test_accelerometer_of_x_down_reads_minus_x():
    _, acc, _ = _still(Q_X_DOWN)
    np.testing.assert_allclose(acc.mean(axis=0), [-9.81, 0.0, 0.0], atol=0.01)


@pytest.mark.parametrize("kind", list(FilterKind))
def test_static_tilt_x_down_6d(kind):
    gyr, acc, mag = _still(Q_X_DOWN)
    q = make_filter(kind, FusionSettings.from_rate(RATE_HZ)).estimate(gyr, acc).q_world_sensor[-1]
    # 6-axis: heading is free, so check where the sensor's x axis points: straight down.
    x_world = Rotation.from_quat(q, scalar_first=True).apply([1.0, 0.0, 0.0])
    np.testing.assert_allclose(x_world, [0.0, 0.0, -1.0], atol=np.radians(0.5))
    assert np.isclose(np.linalg.norm(q), 1.0)


@pytest.mark.parametrize("kind", list(FilterKind))
def test_static_tilt_x_down_9d_is_enu(kind):
    gyr, acc, mag = _still(Q_X_DOWN)
    settings = FusionSettings.from_rate(RATE_HZ, use_magnetometer=True)
    q = make_filter(kind, settings).estimate(gyr, acc, mag).q_world_sensor[-1]
    assert _angle_deg(q, Q_X_DOWN) < 1.0


@pytest.mark.parametrize("kind", list(FilterKind))
def test_9d_heading_follows_a_turn_about_vertical(kind):
    # Sensor level, x pointing north (world +y): q = rotation of +90° about z.
    q_true = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    gyr, acc, mag = _still(q_true)
    settings = FusionSettings.from_rate(RATE_HZ, use_magnetometer=True)
    q = make_filter(kind, settings).estimate(gyr, acc, mag).q_world_sensor[-1]
    assert _angle_deg(q, q_true) < 1.0
