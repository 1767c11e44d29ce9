"""Walking's swing signs the thigh's knee axis: thigh and shank flexion rates agree at a lag.

On real 10-m walks the thigh leads the shank by 0.08–0.28 s, and at zero lag their rates can be
uncorrelated or even anti-correlated; the sign rule must compare them at the lag of best fit.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imugait.calibration import swing
from imugait.calibration.segment import fit_hinge_axes
from imugait.calibration.swing import (
    MAX_SWING_LAG_S,
    SPAN_MARGIN_S,
    swing_correlation,
    swing_rates,
    swing_rates_at,
)

RATE_HZ = 100.0


def _gait_like_rates(lag_s: float, stride_s: float = 1.0, duration_s: float = 12.0, seed: int = 0):
    """Flexion rates (N,) of a thigh and a shank: a stride-periodic swing with harmonics, the
    shank's ``lag_s`` behind the thigh's, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / RATE_HZ)

    def swing(t_s: np.ndarray) -> np.ndarray:
        phase = 2.0 * np.pi * t_s / stride_s
        return np.sin(phase) + 0.4 * np.sin(2.0 * phase + 0.7) + 0.2 * np.sin(3.0 * phase + 1.9)

    thigh = 2.0 * swing(t) + 0.1 * rng.standard_normal(t.size)
    shank = 4.0 * swing(t - lag_s) + 0.2 * rng.standard_normal(t.size)
    return t, thigh, shank


@pytest.mark.parametrize("lag_s", [0.08, 0.16, 0.28])
def test_swing_correlation_finds_the_lag_even_where_zero_lag_disagrees(lag_s):
    _, thigh, shank = _gait_like_rates(lag_s)
    swing = swing_correlation(swing_rates(thigh, RATE_HZ), swing_rates(shank, RATE_HZ), RATE_HZ)
    assert swing.correlation > 0.8
    assert swing.lag_s == pytest.approx(-lag_s, abs=0.02)  # the thigh leads
    opposite = swing_correlation(swing_rates(-thigh, RATE_HZ), swing_rates(shank, RATE_HZ), RATE_HZ)
    assert opposite.correlation < -0.8


def test_zero_lag_sign_would_fail_on_this_walk():
    """The case behind the rule: at 0.3 s lag on a 1-s stride the zero-lag correlation is negative."""
    _, thigh, shank = _gait_like_rates(0.29)
    assert np.corrcoef(thigh, shank)[0, 1] < 0.0
    assert swing_correlation(swing_rates(thigh, RATE_HZ), swing_rates(shank, RATE_HZ), RATE_HZ).correlation > 0.8
    assert MAX_SWING_LAG_S >= 0.29


def test_hinge_axes_signed_by_the_lagged_swing():
    """A hinge whose thigh leads its shank by 0.29 s: both axes come back pointing one way (which
    way is the shank's forward-swing rule, not tested here)."""
    rng = np.random.default_rng(4)
    _, thigh, shank = _gait_like_rates(0.29, seed=4)
    axis_thigh, axis_shank = np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0])
    r_thigh = Rotation.random(random_state=rng)  # sensor frames: axis_sensor = r⁻¹ · axis
    r_shank = Rotation.random(random_state=rng)
    # Small off-axis rates (turning about the long axis) so that the fit has something to fit.
    off = 0.3 * rng.standard_normal((thigh.size, 3)) * np.array([1.0, 1.0, 0.0])
    gyr_thigh = r_thigh.inv().apply(np.outer(thigh, axis_thigh) + off)
    gyr_shank = r_shank.inv().apply(np.outer(shank, axis_shank) + off)
    fit = fit_hinge_axes(gyr_thigh, gyr_shank, RATE_HZ)
    along_thigh, along_shank = r_thigh.apply(fit.axis_thigh) @ axis_thigh, r_shank.apply(fit.axis_shank) @ axis_shank
    assert abs(along_thigh) > 0.99 and abs(along_shank) > 0.99
    assert along_thigh * along_shank > 0.98
    assert fit.swing.correlation > 0.8


def _long_rates(duration_s: float, seed: int) -> np.ndarray:
    """(N, 3) gait-like rates sampled at RATE_HZ with noise: something for the low-pass to chew."""
    _, thigh, shank = _gait_like_rates(0.16, duration_s=duration_s, seed=seed)
    rng = np.random.default_rng(seed)
    return np.column_stack([thigh, shank, rng.standard_normal(thigh.size)])


def test_swing_rates_at_is_the_whole_filter_bit_for_bit_when_the_margin_reaches_both_ends():
    """A recording that ends within SPAN_MARGIN_S of the masked minute is low-passed whole: its
    results stay bit-identical to filtering everything (the short recordings of the tests, the
    cohort and the real walks)."""
    rates = _long_rates(SPAN_MARGIN_S + 100.0, seed=5)
    mask = np.zeros(rates.shape[0], dtype=bool)
    mask[int(20 * RATE_HZ):int(80 * RATE_HZ):3] = True  # a minute of it, thinned
    np.testing.assert_array_equal(swing_rates_at(rates, RATE_HZ, mask), swing_rates(rates, RATE_HZ)[mask])
    assert swing_rates_at(rates, RATE_HZ, np.zeros_like(mask)).shape == (0, 3)


def test_swing_rates_at_agrees_with_the_whole_filter_on_a_long_recording(monkeypatch):
    """Where the margin cuts the recording (an hour: it is filtered over a tenth of its length),
    the filter's start is forgotten to rounding (the margin is 4000 time constants)."""
    rates = _long_rates(900.0, seed=6)
    mask = np.zeros(rates.shape[0], dtype=bool)
    mask[int(400 * RATE_HZ):int(460 * RATE_HZ)] = True
    filtered = []
    monkeypatch.setattr(swing, "swing_rates", lambda x, rate_hz: filtered.append(x.shape[0]) or swing_rates(x, rate_hz))
    bounded = swing_rates_at(rates, RATE_HZ, mask)
    assert filtered == [int((60.0 + 2 * SPAN_MARGIN_S) * RATE_HZ)]  # not the 15 minutes
    np.testing.assert_allclose(bounded, swing_rates(rates, RATE_HZ)[mask], rtol=0.0, atol=1e-12)
