"""What the fusion stage holds: one sensor on the grid at a time while the standing period is
found, only orientations while the filters run — and the same numbers as with every sensor on
the grid at once (issue 12, peak memory; docs/benchmarks.md)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from imugait.analysis.legs import fuse_for_legs
from imugait.calibration.periods import standing_mask
from imugait.kinematics import prepare
from imugait.simulate import SimulationConfig, simulate, walking_test
from imugait.timebase import common_grid, grid_rate_hz, interp_vectors


@pytest.fixture(scope="module")
def session():
    return simulate(SimulationConfig(seed=21, timeline=walking_test(n_bouts=1, bout_s=8.0))).session


def test_standing_biases_and_grid_as_with_every_sensor_on_the_grid_at_once(session):
    rate_hz = grid_rate_hz(session.streams)
    t = common_grid(session.streams, rate_hz)
    on_grid = {p: (interp_vectors(s.t_s, s.acc_mps2, t), interp_vectors(s.t_s, s.gyr_radps, t)) for p, s in session.items()}
    standing = standing_mask(t, list(on_grid.values()), session.meta.steps, None, rate_hz)
    prepared = fuse_for_legs(session)
    np.testing.assert_array_equal(prepared.standing, standing)
    for placement, (acc, gyr) in on_grid.items():
        sensor = prepared.fused.sensors[placement]
        np.testing.assert_array_equal(sensor.acc_mps2, acc)
        np.testing.assert_array_equal(sensor.gyr_radps, gyr - np.mean(gyr[standing], axis=0))


def test_only_orientations_are_held_while_the_filters_run(session, monkeypatch):
    # Held (traced) memory at the start of each sensor's filter, above what was held before the
    # stage: the grid's instants and the standing mask, plus the orientations of the sensors
    # already fused — no sensor's accelerometer or gyroscope on the grid (48 bytes a sample each).
    held_at_filter = []
    orient_stream = prepare.orient_stream

    def recording(*args, **kwargs):
        held_at_filter.append(tracemalloc.get_traced_memory()[0])
        return orient_stream(*args, **kwargs)

    monkeypatch.setattr(prepare, "orient_stream", recording)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        prepared = fuse_for_legs(session)
    finally:
        tracemalloc.stop()
    n_grid = prepared.fused.t_s.size
    q_bytes = [s.n_samples * 4 * 8 for s in session.streams]
    assert len(held_at_filter) == len(q_bytes) == 4
    for k, held in enumerate(held_at_filter):
        allowed = n_grid * (8 + 1) + sum(q_bytes[:k]) + 64 * 1024  # t_s, standing; small objects
        assert held - before <= allowed, (k, held - before, allowed)  # the old order: + 4 × 48 bytes a sample
