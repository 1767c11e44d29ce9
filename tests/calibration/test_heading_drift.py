"""The live heading offset's drift fit (:func:`imugait.calibration.heading.drift_rate_radps`):
a steady drift well above the windows' scatter is found, one within it is not extrapolated."""

from __future__ import annotations

import numpy as np
from scipy import stats

from imugait.calibration.heading import DRIFT_SIGNIFICANCE, drift_rate_radps

CENTRES_S = np.array([10.0, 12.0, 14.0, 16.0])


def test_a_steady_drift_above_the_scatter_is_the_least_squares_slope():
    rng = np.random.default_rng(1)
    offsets = np.deg2rad(2.0 * CENTRES_S + rng.normal(0.0, 0.3, CENTRES_S.size))  # 2°/s, 0.3° scatter
    rate = drift_rate_radps(CENTRES_S, offsets)
    assert np.isclose(rate, stats.linregress(CENTRES_S, offsets).slope, rtol=1e-9, atol=0.0)
    assert abs(np.rad2deg(rate) - 2.0) < 0.2


def test_a_drift_within_the_scatter_is_held():
    rng = np.random.default_rng(2)
    offsets = np.deg2rad(0.1 * CENTRES_S + rng.normal(0.0, 1.5, CENTRES_S.size))
    assert drift_rate_radps(CENTRES_S, offsets) == 0.0


def test_the_gate_is_the_slopes_t_test():
    # Many random sets: extrapolated exactly when linregress's two-sided p-value is below the level.
    rng = np.random.default_rng(3)
    decided = 0
    for _ in range(300):
        offsets = rng.normal(0.0, 0.02, CENTRES_S.size) + rng.normal(0.0, 0.01) * CENTRES_S
        fit = stats.linregress(CENTRES_S, offsets)
        if abs(fit.pvalue - DRIFT_SIGNIFICANCE) < 1e-6:
            continue
        decided += 1
        assert (drift_rate_radps(CENTRES_S, offsets) != 0.0) == (fit.pvalue < DRIFT_SIGNIFICANCE)
    assert decided > 250


def test_too_few_windows_hold():
    assert drift_rate_radps(CENTRES_S[:2], np.array([0.0, 1.0])) == 0.0
