"""The standing period with the sensors put on the grid only as far as needed: the still test over
the grid up to the end of the first named standing step gives the same mask as over the whole
grid (issue 12: an hour-long recording was put on the grid once more, whole, for a few seconds of
standing at its start)."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.calibration.periods import standing_mask
from imugait.errors import CalibrationError
from imugait.model import ProtocolStep

RATE_HZ = 200.0


def _sensors(still_spans_s: list[tuple[float, float]], duration_s: float = 120.0, seed: int = 0):
    """(t_s, [(acc, gyr)] of two sensors): still (noise only) in ``still_spans_s``, moving elsewhere."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / RATE_HZ)
    still = np.zeros(t.size, dtype=bool)
    for t0, t1 in still_spans_s:
        still |= (t >= t0) & (t < t1)
    pairs = []
    for _ in range(2):
        acc = np.array([0.0, 0.0, 9.81]) + 0.01 * rng.standard_normal((t.size, 3))
        gyr = 0.005 * rng.standard_normal((t.size, 3))
        acc[~still] += 2.0 * rng.standard_normal((int((~still).sum()), 3))
        gyr[~still] += 1.5 * rng.standard_normal((int((~still).sum()), 3))
        pairs.append((acc, gyr))
    return t, pairs


def _by_prefix(pairs, asked: list[int]):
    def sensors(n: int):
        asked.append(n)
        return ((acc[:n], gyr[:n]) for acc, gyr in pairs)
    return sensors


@pytest.mark.parametrize("steps, grid_asked", [
    # The named standing at the start: only its few seconds (and a window) are put on the grid.
    ([ProtocolStep("stand", 0.0, 6.0), ProtocolStep("walk", 6.0, 100.0), ProtocolStep("stand", 100.0, 110.0)], "prefix"),
    # The first named step is not still: the whole grid, and the next named step is chosen.
    ([ProtocolStep("stand_0", 20.0, 26.0), ProtocolStep("stand_1", 100.0, 110.0)], "prefix, then whole"),
    # Nothing named: the longest still run of the whole grid.
    ([ProtocolStep("walk", 6.0, 100.0)], "whole"),
])
def test_standing_mask_from_a_grid_prefix_is_the_whole_grid_mask(steps, grid_asked):
    t, pairs = _sensors([(0.0, 6.0), (100.0, 110.0)])
    whole = standing_mask(t, pairs, steps, None, RATE_HZ)
    asked: list[int] = []
    np.testing.assert_array_equal(standing_mask(t, _by_prefix(pairs, asked), steps, None, RATE_HZ), whole)
    assert whole.any()
    if grid_asked == "prefix":
        assert len(asked) == 1 and asked[0] < 8.0 * RATE_HZ  # 6 s of standing and a still-test window
    elif grid_asked == "prefix, then whole":
        assert len(asked) == 2 and asked[0] < 28.0 * RATE_HZ and asked[1] == t.size
        assert t[whole].min() >= 100.0
    else:
        assert asked == [t.size]


def test_standing_mask_from_a_grid_prefix_refuses_as_the_whole_grid_does():
    t, pairs = _sensors([])
    steps = [ProtocolStep("stand", 0.0, 6.0)]
    with pytest.raises(CalibrationError, match="no still standing period"):
        standing_mask(t, pairs, steps, None, RATE_HZ)
    with pytest.raises(CalibrationError, match="no still standing period"):
        standing_mask(t, _by_prefix(pairs, []), steps, None, RATE_HZ)
