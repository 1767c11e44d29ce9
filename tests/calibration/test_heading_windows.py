"""The heading track's windows, found all at once, against the window-by-window definition; the
knee centre's force in blocks against the same rows computed in other pieces."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imugait.calibration.heading import HeadingConfig, _window_centres, _windows
from imugait.calibration.joint_centre import centre_force_world_mps2
from imugait.quaternion import CHUNK_ROWS


def _windows_one_by_one(t_s, rate_hz, motion, window_s, step_s, config, first_start=0):
    """The windows starting every step from row 0, those from ``first_start`` on."""
    dt = 1.0 / rate_hz
    n_win, n_step = int(round(window_s / dt)), max(int(round(step_s / dt)), 1)
    out = []
    for start in range(-(-first_start // n_step) * n_step, max(t_s.size - n_win, 0) + 1, n_step):
        idx = np.arange(start, min(start + n_win, t_s.size))
        idx = idx[motion[idx]]
        if idx.size >= config.min_motion_fraction * n_win:
            out.append(idx[np.linspace(0, idx.size - 1, min(idx.size, config.max_samples_per_window)).astype(int)])
    return out


@pytest.mark.parametrize("seed", range(40))
def test_windows_at_once_are_the_windows_one_by_one(seed):
    rng = np.random.default_rng(seed)
    rate_hz = float(rng.choice([50.0, 60.0, 100.0, 200.0]))
    n = int(rng.integers(1, 4000))
    t = 2.0 + np.arange(n) / rate_hz + rng.normal(0.0, 1e-4, n)
    if seed % 2:  # knee motion in runs (walking and standing), or scattered
        motion = np.repeat(rng.uniform(size=n // 37 + 1) < 0.7, 37)[:n]
    else:
        motion = rng.uniform(size=n) < rng.uniform(0.2, 1.0)
    config = HeadingConfig(max_samples_per_window=int(rng.choice([3, 40, 200])),
                           min_motion_fraction=float(rng.choice([0.1, 0.5, 0.9])))
    window_s, step_s = float(rng.choice([0.5, 4.0])), float(rng.choice([0.02, 2.0]))
    expected = _windows_one_by_one(t, rate_hz, motion, window_s, step_s, config)
    got = _windows(t, rate_hz, motion, window_s, step_s, config)
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)
    if expected:
        assert _window_centres(t, got) == [float(np.mean(t[idx])) for idx in expected]


def test_centre_force_in_blocks_is_the_same_as_in_other_pieces():
    rng = np.random.default_rng(3)
    n = CHUNK_ROWS * 2 + 1234
    t = np.cumsum(rng.uniform(0.004, 0.006, n))
    gyr = rng.normal(0.0, 2.0, (n, 3))
    acc = rng.normal(0.0, 3.0, (n, 3))
    q = Rotation.random(n, random_state=3).as_quat(scalar_first=True)
    r = np.array([0.01, -0.2, 0.03])
    idx = np.flatnonzero(rng.uniform(size=n) < 0.8)  # more than a block; the first and last sample too
    idx = np.r_[0, idx[(idx > 0) & (idx < n - 1)], n - 1]
    whole = centre_force_world_mps2(t, q, gyr, acc, r, idx)
    pieces = np.concatenate([centre_force_world_mps2(t, q, gyr, acc, r, part) for part in np.array_split(idx, 7)])
    np.testing.assert_array_equal(whole, pieces)
    np.testing.assert_array_equal(centre_force_world_mps2(t, q, gyr, acc, r)[idx], whole)


@pytest.mark.parametrize("first_row", [0, 1, 37, 400, 401, 999])
def test_a_recording_cut_from_a_longer_grid_has_the_windows_of_the_whole_grid(first_row):
    """The live calibration fits the rows its history still keeps (cut from the grid at
    ``first_row``): its heading windows are the whole grid's windows that lie in them — the same
    rows, so the same estimates — not windows shifted to start at the cut (on the qmt recording the
    shift moved the right knee's rotation by 1.0° against ``analyze``, docs/live.md)."""
    rng = np.random.default_rng(first_row)
    rate_hz, n = 100.0, 3000
    t = np.arange(n) / rate_hz
    motion = np.repeat(rng.uniform(size=n // 50 + 1) < 0.8, 50)[:n]
    config = HeadingConfig()
    expected = _windows_one_by_one(t, rate_hz, motion, config.centre_window_s, config.centre_step_s, config, first_row)
    cut = _windows(t[first_row:], rate_hz, motion[first_row:], config.centre_window_s, config.centre_step_s, config,
                   first_row)
    assert len(cut) == len(expected) > 0
    for a, b in zip(cut, expected, strict=True):
        np.testing.assert_array_equal(a + first_row, b)
