"""Thigh–shank timing per stride (imugait.gait.coordination) and the strides it excludes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from imugait.gait.coordination import sagittal_rate_radps, stride_lags_s
from imugait.gait.cycles import Exclusion, Stride
from imugait.gait.plausibility import implausible_strides, plausibility_limits
from imugait.quaternion import quat_about_z, quat_multiply

RATE_HZ = 100.0
STRIDE_S = 1.1


def _strides(t_end_s: float) -> list[Stride]:
    starts = np.arange(1.0, t_end_s - 1.0 - STRIDE_S, STRIDE_S)
    return [Stride(float(a), float(a + 0.6 * STRIDE_S), float(a + STRIDE_S), Exclusion.NONE) for a in starts]


def _swing(t_s: np.ndarray) -> np.ndarray:
    """A stride-periodic sagittal rate with a harmonic, like a segment's swing (rad/s)."""
    phase = 2 * np.pi * t_s / STRIDE_S
    return 3.0 * np.sin(phase) + 1.2 * np.sin(2 * phase + 0.7)


def test_the_rate_about_the_segment_z_axis_is_recovered():
    t = np.arange(0.0, 2.0, 1 / RATE_HZ)
    angle = 0.4 * np.sin(2 * np.pi * t)  # rad, about the segment's own Z
    tilt = np.array([np.cos(0.3), np.sin(0.3), 0.0, 0.0])  # any fixed world orientation before it
    q = quat_multiply(np.broadcast_to(tilt, (t.size, 4)), quat_about_z(angle))
    rate = sagittal_rate_radps(t, q)
    expected = 0.4 * 2 * np.pi * np.cos(2 * np.pi * (t + 0.5 / RATE_HZ))  # mid-interval derivative
    np.testing.assert_allclose(rate[:-1], expected[:-1], atol=2e-3)


def test_a_constant_lag_is_measured_between_samples():
    t = np.arange(0.0, 20.0, 1 / RATE_HZ)
    lags = stride_lags_s(t, _swing(t), _swing(t - 0.1537), _strides(20.0))
    assert lags.size > 10
    np.testing.assert_allclose(lags, 0.1537, atol=0.003)


def test_a_clock_slip_mid_walk_shows_in_the_strides_after_it():
    t = np.arange(0.0, 24.0, 1 / RATE_HZ)
    shank_clock = np.where(t < 12.0, t - 0.12, t - 0.30)  # the shank's samples slip 180 ms at 12 s
    strides = _strides(24.0)
    lags = stride_lags_s(t, _swing(t), _swing(shank_clock), strides)
    before = np.array([s.t_next_initial_contact_s < 11.9 for s in strides])
    after = np.array([s.t_initial_contact_s > 12.1 for s in strides])
    np.testing.assert_allclose(lags[before], 0.12, atol=0.003)
    np.testing.assert_allclose(lags[after], 0.30, atol=0.003)


def test_no_lag_where_a_rate_is_missing_or_the_peak_is_beyond_the_search():
    t = np.arange(0.0, 10.0, 1 / RATE_HZ)
    thigh = _swing(t)
    thigh[300:320] = np.nan
    strides = _strides(10.0)
    lags = stride_lags_s(t, thigh, _swing(t - 0.1), strides)
    hit = np.array([s.t_initial_contact_s <= 3.1 < s.t_next_initial_contact_s for s in strides])
    assert np.isnan(lags[hit]).all() and np.isfinite(lags[~hit]).all()
    assert np.isnan(stride_lags_s(t, _swing(t), _swing(t - 0.1), strides, max_lag_s=0.05)).all()


def _leg(lags_s) -> pd.DataFrame:
    n = len(lags_s)
    return pd.DataFrame({"used": [True] * n, "knee_flexion_min_deg": [2.0] * n, "knee_flexion_max_deg": [60.0] * n,
                         "knee_adduction_range_deg": [6.0] * n, "hip_rotation_mean_deg": [3.0] * n,
                         "hip_rotation_stance_mean_deg": [3.0] * n, "hip_rotation_swing_mean_deg": [3.0] * n,
                         "knee_rotation_stance_mean_deg": [4.0] * n, "thigh_shank_lag_s": lags_s})


def test_strides_out_of_step_with_the_leg_are_excluded_as_implausible():
    limit = plausibility_limits().thigh_shank_lag_deviation_s
    reasons = implausible_strides(_leg([0.12, 0.13, 0.11, 0.12, 0.12 + 2 * limit, 0.12 + 3 * limit, np.nan]))
    assert list(reasons) == [Exclusion.NONE] * 4 + [Exclusion.KNEE_TIMING_OUTLIER] * 2 + [Exclusion.NONE]
    assert Exclusion.KNEE_TIMING_OUTLIER.implausible
    # Within the limit, nothing is excluded; with fewer than 3 known lags the median says nothing.
    assert (implausible_strides(_leg([0.12, 0.12 + 0.9 * limit, 0.12 - 0.9 * limit])) == Exclusion.NONE).all()
    assert (implausible_strides(_leg([0.1, 0.5, np.nan])) == Exclusion.NONE).all()
