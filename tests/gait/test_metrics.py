"""Small, exact checks of the gait building blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imugait.gait.cycles import N_NORMALISED, Exclusion, Stride, time_normalise
from imugait.gait.metrics import asymmetry, double_support_pct, stride_metrics


def test_time_normalise_maps_the_stride_to_101_points():
    t = np.linspace(0.0, 2.0, 201)
    curve = time_normalise(t, np.column_stack([t, 2 * t]), 0.5, 1.5)
    assert curve.shape == (N_NORMALISED, 2)
    np.testing.assert_allclose(curve[:, 0], np.linspace(0.5, 1.5, 101))
    np.testing.assert_allclose(curve[50, 1], 2.0)


def test_double_support_from_the_other_legs_events():
    this = Stride(0.0, 0.6, 1.0, Exclusion.NONE)
    # other toe-off at 0.1 (0.1 after this contact), other contact at 0.5 (0.1 before this toe-off)
    assert double_support_pct(this, np.array([0.1, 1.1]), np.array([-0.5, 0.5, 1.5])) == pytest.approx(20.0)
    assert np.isnan(double_support_pct(this, np.array([]), np.array([0.5])))


def test_stride_metrics_on_known_curves():
    t = np.arange(0.0, 1.0, 0.001)
    angles = {
        "knee_flexion_deg": 30.0 - 30.0 * np.cos(2 * np.pi * (t - 0.25)),  # peak at 75 %
        "knee_adduction_deg": np.where(t < 0.6, -4.0, 1.0),
        "knee_rotation_deg": np.full_like(t, 2.0),
        "hip_rotation_deg": np.where(t < 0.6, 10.0, 4.0),
    }
    m = stride_metrics(t, angles, Stride(0.0, 0.6, 1.0, Exclusion.NONE))
    assert m["stance_pct"] == pytest.approx(60.0)
    assert m["cadence_steps_per_min"] == pytest.approx(120.0)
    assert m["knee_flexion_swing_peak_deg"] == pytest.approx(60.0, abs=1e-3)
    assert m["knee_valgus_stance_peak_deg"] == pytest.approx(4.0)
    assert m["hip_rotation_stance_mean_deg"] == pytest.approx(10.0)
    assert m["hip_rotation_mean_deg"] == pytest.approx(7.6, abs=0.01)


def test_asymmetry_reports_difference_and_symmetry_index():
    agg = pd.DataFrame([
        {"side": "left", "metric": "stride_time_s", "mean": 1.0, "sd": 0.0, "n": 5},
        {"side": "right", "metric": "stride_time_s", "mean": 1.1, "sd": 0.0, "n": 5},
        {"side": "left", "metric": "hip_rotation_mean_deg", "mean": 2.0, "sd": 0.0, "n": 5},
        {"side": "right", "metric": "hip_rotation_mean_deg", "mean": 12.0, "sd": 0.0, "n": 5},
    ])
    a = asymmetry(agg).set_index("metric")
    assert a.loc["stride_time_s", "symmetry_index_pct"] == pytest.approx(100 * 0.1 / 1.05)
    assert a.loc["hip_rotation_mean_deg", "right_minus_left"] == pytest.approx(10.0)
    assert np.isnan(a.loc["hip_rotation_mean_deg", "symmetry_index_pct"])  # no index for signed angles


def test_aggregate_of_no_strides_is_empty():
    from imugait.gait.metrics import aggregate

    out = aggregate(pd.DataFrame(), ["stride_time_s"])
    assert out.empty and list(out.columns) == ["side", "metric", "mean", "sd", "n"]
    assert asymmetry(out).empty
