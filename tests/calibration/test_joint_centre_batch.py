"""The joint centre's vectorised helpers against their one-at-a-time definitions."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.calibration.joint_centre import (
    _centre_terms,
    angular_acceleration_radps2,
    centre_force_world_mps2,
    heading_between,
    headings_between,
)


def _signals(n: int = 500, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.004, 0.006, n))  # not quite uniform, like a resampled clock
    gyr = np.column_stack([np.sin(3.0 * t + k) * (k + 1) for k in range(3)]) + rng.normal(0, 0.01, (n, 3))
    acc = rng.normal(0, 2.0, (n, 3)) + [0.0, 0.0, 9.81]
    q = Rotation.random(n, random_state=seed).as_quat(scalar_first=True)
    return t, q, gyr, acc


def test_angular_acceleration_at_samples_is_numpy_gradient_there():
    t, _, gyr, _ = _signals()
    idx = np.array([0, 1, 7, 250, 498, 499])
    np.testing.assert_allclose(angular_acceleration_radps2(t, gyr, idx), np.gradient(gyr, t, axis=0)[idx],
                               rtol=1e-12, atol=1e-9)


def test_centre_force_at_samples_matches_the_lever_matrices():
    t, q, gyr, acc = _signals()
    r = np.array([0.02, -0.15, 0.04])
    idx = np.arange(0, 500, 3)
    f_world, lever_world = _centre_terms(t, q, gyr, acc, idx)
    expected = f_world + np.einsum("nij,j->ni", lever_world, r)
    np.testing.assert_allclose(centre_force_world_mps2(t, q, gyr, acc, r, idx), expected, atol=1e-10)
    np.testing.assert_allclose(centre_force_world_mps2(t, q, gyr, acc, r)[idx], expected, atol=1e-10)


def test_headings_of_padded_windows_equal_each_window_alone():
    rng = np.random.default_rng(3)
    sizes, true_deg = [40, 25, 33], [10.0, -120.0, 170.0]
    windows = []
    for n, deg in zip(sizes, true_deg, strict=True):
        f_shank = rng.normal(0, 3.0, (n, 3))
        turn = Rotation.from_euler("z", deg, degrees=True)
        f_thigh = turn.apply(f_shank) + rng.normal(0, 0.2, (n, 3))
        f_thigh[::7] += 8.0  # impacts the robust weights discount
        windows.append((f_thigh, f_shank))
    n_max = max(sizes)
    valid = np.arange(n_max) < np.array(sizes)[:, None]
    pad = lambda a: np.vstack([a, np.full((n_max - a.shape[0], 3), 99.0)])  # noqa: E731 — padding must not count
    deltas, rms = headings_between(np.stack([pad(a) for a, _ in windows]), np.stack([pad(b) for _, b in windows]), valid)
    for k, (a, b) in enumerate(windows):
        one_delta, one_rms = heading_between(a, b)
        assert abs(deltas[k] - one_delta) < 1e-12
        assert abs(rms[k] - one_rms) < 1e-12
        assert abs(np.rad2deg(np.angle(np.exp(1j * (one_delta - np.deg2rad(true_deg[k])))))) < 1.0
