"""Plausibility of strides (imugait.gait.plausibility): the live pipeline's judgement of its
strides as rows (dicts, over plain columns) is the table's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from imugait.gait.cycles import Exclusion
from imugait.gait.plausibility import (
    implausible_reasons,
    implausible_strides,
    plausibility_limits,
    stride_columns,
)


def _strides(n: int, seed: int) -> pd.DataFrame:
    """Strides with every reason in reach: values around and beyond each limit, NaNs, unused rows."""
    limits = plausibility_limits()
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({
        "used": rng.random(n) < 0.8,
        "knee_flexion_min_deg": rng.normal(limits.knee_flexion_min_deg + 5.0, 5.0, n),
        "knee_flexion_max_deg": rng.normal(limits.knee_flexion_max_deg - 5.0, 5.0, n),
        "knee_adduction_range_deg": rng.normal(limits.knee_adduction_range_deg - 3.0, 3.0, n),
        "hip_rotation_mean_deg": rng.normal(0.0, 0.6 * limits.hip_rotation_mean_abs_deg, n),
        "hip_rotation_stance_mean_deg": rng.normal(0.0, 0.6 * limits.hip_rotation_mean_abs_deg, n),
        "hip_rotation_swing_mean_deg": rng.normal(0.0, 0.6 * limits.hip_rotation_mean_abs_deg, n),
        "knee_rotation_stance_mean_deg": rng.normal(0.0, 0.6 * limits.knee_rotation_stance_mean_external_deg, n),
        "thigh_shank_lag_s": rng.normal(0.1, limits.thigh_shank_lag_deviation_s, n),
    }, index=np.arange(10, 10 + n))
    for column in table.columns[1:]:
        table.loc[rng.random(n) < 0.1, column] = np.nan
    return table


def test_strides_as_rows_are_judged_as_the_table_of_them():
    reasons_seen = set()
    for seed in range(20):
        table = _strides(30, seed)
        rows = [{k: v for k, v in row.items() if k != "thigh_shank_lag_s" or i % 3}  # some rows without it
                for i, row in enumerate(table.to_dict("records"))]
        for some in (rows, [{k: v for k, v in r.items() if k != "thigh_shank_lag_s"} for r in rows]):
            expected = implausible_strides(pd.DataFrame(some))  # as the live pipeline judged before
            got = implausible_reasons(stride_columns(some))
            assert list(got) == list(expected)
            reasons_seen |= set(got)
        # The table's own index is kept.
        assert list(implausible_strides(table).index) == list(table.index)
    assert reasons_seen == {Exclusion.NONE, Exclusion.IMPLAUSIBLE_KNEE_FLEXION, Exclusion.IMPLAUSIBLE_KNEE_ADDUCTION,
                            Exclusion.IMPLAUSIBLE_HIP_ROTATION, Exclusion.IMPLAUSIBLE_KNEE_ROTATION,
                            Exclusion.HIP_ROTATION_OUTLIER, Exclusion.KNEE_TIMING_OUTLIER}


def test_a_femur_rotation_that_wraps_round_within_a_stride_is_beyond_the_hip_s_range():
    # HuGaDB 06_00 (right, left/right exchanged), the stride at 34.9 s as analyze --filter
    # vqf_online gave it before: mean over the stride +3.5 deg (within the range), stance mean
    # -100.2 deg and swing mean +169.4 deg (the angle wrapped through +/-180 deg).
    limits = plausibility_limits()
    table = pd.DataFrame({"used": [True] * 4, "knee_flexion_min_deg": [2.0] * 4, "knee_flexion_max_deg": [60.0] * 4,
                          "knee_adduction_range_deg": [6.0] * 4, "hip_rotation_mean_deg": [3.5, 7.0, 6.0, 5.0],
                          "hip_rotation_stance_mean_deg": [-100.2, 9.0, 8.0, 7.0],
                          "hip_rotation_swing_mean_deg": [169.4, 4.0, 3.0, 2.0],
                          "knee_rotation_stance_mean_deg": [3.0] * 4})
    assert list(implausible_strides(table)) == [Exclusion.IMPLAUSIBLE_HIP_ROTATION] + [Exclusion.NONE] * 3
    # Each phase on its own, just past the limit and just inside it.
    for name in ("hip_rotation_stance_mean_deg", "hip_rotation_swing_mean_deg"):
        for value, expected in ((limits.hip_rotation_mean_abs_deg + 0.1, Exclusion.IMPLAUSIBLE_HIP_ROTATION),
                                (-limits.hip_rotation_mean_abs_deg - 0.1, Exclusion.IMPLAUSIBLE_HIP_ROTATION),
                                (limits.hip_rotation_mean_abs_deg - 0.1, Exclusion.NONE)):
            one = table.iloc[1:].copy()
            one.loc[one.index[0], name] = value
            assert implausible_strides(one).iloc[0] == expected


def test_a_knee_rotation_in_stance_beyond_the_knee_s_passive_range_is_excluded():
    # qmt full body, left knee (2026-12-07): +20.7 ... +31.6 deg internal in stance on every stride,
    # the right -7.9 deg; the knee's passive internal rotation ends near 25 deg even at 30-90 deg of
    # flexion (data/plausibility.json). External rotation goes about twice as far.
    limits = plausibility_limits()
    inside_internal = limits.knee_rotation_stance_mean_internal_deg - 0.1
    inside_external = -limits.knee_rotation_stance_mean_external_deg + 0.1
    table = pd.DataFrame({"used": [True] * 6, "knee_flexion_min_deg": [2.0] * 6, "knee_flexion_max_deg": [60.0] * 6,
                          "knee_adduction_range_deg": [6.0] * 6, "hip_rotation_mean_deg": [5.0] * 6,
                          "hip_rotation_stance_mean_deg": [5.0] * 6, "hip_rotation_swing_mean_deg": [5.0] * 6,
                          "knee_rotation_stance_mean_deg": [28.5, limits.knee_rotation_stance_mean_internal_deg + 0.1,
                                                            -limits.knee_rotation_stance_mean_external_deg - 0.1,
                                                            inside_internal, inside_external, -7.9]})
    assert list(implausible_strides(table)) == [Exclusion.IMPLAUSIBLE_KNEE_ROTATION] * 3 + [Exclusion.NONE] * 3
    # An asymmetric limit: as far external as the internal limit is within the range.
    assert limits.knee_rotation_stance_mean_external_deg > limits.knee_rotation_stance_mean_internal_deg
    one = table.iloc[3:].copy()
    one.loc[one.index[0], "knee_rotation_stance_mean_deg"] = -limits.knee_rotation_stance_mean_internal_deg - 0.1
    assert implausible_strides(one).iloc[0] == Exclusion.NONE
    # A stride not used keeps no plausibility verdict.
    table.loc[table.index[0], "used"] = False
    assert implausible_strides(table).iloc[0] == Exclusion.NONE
