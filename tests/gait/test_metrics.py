"""Small, exact checks of the gait building blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imugait.gait.cycles import N_NORMALISED, Exclusion, Stride, time_normalise
from imugait.gait.metrics import asymmetry, double_support_pcts, mean_n, mean_sd_n, stride_metrics


def test_time_normalise_maps_the_stride_to_101_points():
    t = np.linspace(0.0, 2.0, 201)
    curve = time_normalise(t, np.column_stack([t, 2 * t]), 0.5, 1.5)
    assert curve.shape == (N_NORMALISED, 2)
    np.testing.assert_allclose(curve[:, 0], np.linspace(0.5, 1.5, 101))
    np.testing.assert_allclose(curve[50, 1], 2.0)


def test_double_support_from_the_other_legs_events():
    this = Stride(0.0, 0.6, 1.0, Exclusion.NONE)
    # other toe-off at 0.1 (0.1 after this contact), other contact at 0.5 (0.1 before this toe-off)
    assert double_support_pcts([this], np.array([0.1, 1.1]), np.array([-0.5, 0.5, 1.5]))[0] == pytest.approx(20.0)
    assert np.isnan(double_support_pcts([this], np.array([]), np.array([0.5]))[0])


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


def test_all_strides_at_once_equal_each_stride_alone():
    """strides_metrics groups every stride's samples in one pass; check it against plain per-stride
    numpy on rough curves with NaN gaps, a stride without hip values and a stride without toe-off."""
    from imugait.gait.metrics import strides_metrics

    rng = np.random.default_rng(3)
    t = np.arange(0.0, 30.0, 0.01)
    names = ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg", "hip_rotation_deg",
             "hip_flexion_deg", "hip_adduction_deg", "hip_rotation_pelvis_deg")
    angles = {n: np.cumsum(rng.normal(size=t.size)) for n in names}
    angles["hip_rotation_deg"][rng.random(t.size) < 0.2] = np.nan
    angles["hip_rotation_deg"][1000:1300] = np.nan
    starts = np.cumsum(rng.uniform(0.9, 1.3, 25)) - 0.5
    strides = [Stride(a, a + 0.6 * (b - a) if k != 7 else np.nan, b, Exclusion.NONE)
               for k, (a, b) in enumerate(zip(starts[:-1], starts[1:], strict=True))]
    got = strides_metrics(t, angles, strides)
    for k, s in enumerate(strides):
        inside = (t >= s.t_initial_contact_s) & (t < s.t_next_initial_contact_s)
        stance, swing = inside & (t < s.t_toe_off_s), inside & ~(t < s.t_toe_off_s)

        def pick(name, mask):
            x = angles[name][mask]
            return x[np.isfinite(x)]

        hip_stance = pick("hip_rotation_deg", stance)
        expected = {
            "hip_rotation_stance_mean_deg": hip_stance.mean() if hip_stance.size else np.nan,
            "knee_flexion_swing_peak_deg": pick("knee_flexion_deg", swing).max() if swing.any() else np.nan,
            "knee_flexion_range_deg": np.ptp(pick("knee_flexion_deg", inside)),
            "knee_valgus_stance_peak_deg": -pick("knee_adduction_deg", stance).min() if stance.any() else np.nan,
            "hip_rotation_pelvis_mean_deg": pick("hip_rotation_pelvis_deg", inside).mean(),
            "stance_pct": 100.0 * (s.t_toe_off_s - s.t_initial_contact_s) / s.stride_time_s,
        }
        for name, value in expected.items():
            np.testing.assert_allclose(got[name][k], value, rtol=1e-12, atol=1e-12, equal_nan=True,
                                       err_msg=f"stride {k} {name}")
    assert np.isnan(got["hip_rotation_stance_mean_deg"]).any()  # the stride without hip values


def test_an_open_end_judges_the_last_stride_of_the_last_bout_as_an_inner_one():
    # Live, the data end while the person still walks: the newest stride is not the bout's last.
    from imugait.gait.cycles import segment_strides
    from imugait.gait.events import LegEvents

    t = np.arange(0.0, 12.0, 0.01)
    ic = np.arange(1.0, 11.0, 1.1)  # ten contacts: nine strides of 1.1 s in one bout
    events = LegEvents(ic - 0.3, ic - 0.45, ic, np.full(ic.size, 4.0))
    bout = np.zeros(t.size, dtype=int)
    none = np.zeros(t.size, dtype=bool)
    closed = segment_strides(t, events, bout, none, none)
    opened = segment_strides(t, events, bout, none, none, open_end=True)
    assert [s.exclusion for s in closed] == [s.exclusion for s in opened] == [Exclusion.NONE] * 9
    # Both ends are steady here, so both are used either way; make the last one slower than the
    # bout's median by 20 %: an edge stride is then excluded, an inner one (within 30 %) is not.
    ic_slow = ic.copy()
    ic_slow[-1] += 0.22
    events_slow = LegEvents(ic_slow - 0.3, ic_slow - 0.45, ic_slow, np.full(ic.size, 4.0))
    assert segment_strides(t, events_slow, bout, none, none)[-1].exclusion is Exclusion.BOUT_EDGE
    assert segment_strides(t, events_slow, bout, none, none, open_end=True)[-1].exclusion is Exclusion.NONE


def test_mean_n_is_mean_sd_n_without_the_sd():
    rng = np.random.default_rng(5)
    for values in (rng.normal(40.0, 7.0, 37), np.array([1.5, np.nan, 2.25, np.nan]), np.array([np.nan, 3.0]),
                   np.array([np.nan, np.nan]), np.array([]), rng.normal(0.0, 1e-3, 1000)):
        mean, sd, n = mean_sd_n(values.copy())
        got_mean, got_n = mean_n(values.copy())
        assert got_n == n == np.count_nonzero(~np.isnan(values))
        assert (np.isnan(got_mean) and np.isnan(mean)) or got_mean == mean  # the same bits, NaN when empty
        assert np.isnan(sd) == (n < 2)
