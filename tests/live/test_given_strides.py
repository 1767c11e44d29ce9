"""A live leg's strides are judged against its recent strides up to each one; a stride older than
the strides it can still be judged against keeps its judgement."""

from __future__ import annotations

from dataclasses import replace

from imugait.conventions import Side
from imugait.gait.cycles import Exclusion, Stride
from imugait.live.given_strides import RECENT_STRIDES, GivenStrides
from imugait.live.updates import LiveStride

PLAUSIBLE = {"knee_flexion_min_deg": 2.0, "knee_flexion_max_deg": 62.0, "knee_adduction_range_deg": 6.0,
             "hip_rotation_mean_deg": 3.0, "hip_rotation_stance_mean_deg": 2.0, "hip_rotation_swing_mean_deg": 4.0,
             "knee_rotation_stance_mean_deg": 4.0}


def _stride(k: int) -> Stride:
    return Stride(t_initial_contact_s=1.1 * k, t_toe_off_s=1.1 * k + 0.7, t_next_initial_contact_s=1.1 * (k + 1),
                  exclusion=Exclusion.NONE)


def _given(k: int, row: dict) -> LiveStride:
    s = _stride(k)
    return LiveStride(side=Side.LEFT, index=k, t_initial_contact_s=s.t_initial_contact_s, t_toe_off_s=s.t_toe_off_s,
                      t_next_initial_contact_s=s.t_next_initial_contact_s,
                      metrics={n: v for n, v in row.items() if n != "used"}, used=True)


def test_a_stride_is_judged_against_the_strides_until_it_and_an_old_one_keeps_its_judgement():
    strides = GivenStrides(Side.LEFT, measures=None)
    rows = [{"used": True, **PLAUSIBLE} for _ in range(RECENT_STRIDES + 5)]
    rows[-1]["knee_flexion_max_deg"] = 175.0  # the newest stride: no walking knee
    for row in rows:
        strides.recent.append(row)
    oldest_kept, newest = rows[5], rows[-1]
    assert strides.judged(_stride(5), _given(5, oldest_kept), oldest_kept).used
    judged_newest = strides.judged(_stride(len(rows) - 1), _given(len(rows) - 1, newest), newest)
    assert not judged_newest.used and judged_newest.exclusion == Exclusion.IMPLAUSIBLE_KNEE_FLEXION.value
    # the first strides' rows have left the recent strides: judged again (e.g. at a walk's end) they
    # keep what they were given — not the newest stride's verdict
    gone = rows[0]
    assert all(r is not gone for r in strides.recent)
    assert strides.judged(_stride(0), _given(0, gone), gone).used
    excluded = replace(_given(0, gone), used=False, exclusion=Exclusion.HIP_ROTATION_OUTLIER.value)
    assert strides.judged(_stride(0), excluded, gone) == excluded
