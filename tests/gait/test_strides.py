"""Stride exclusions for lost and clipped samples (counted per stride from running sums)."""

from __future__ import annotations

import numpy as np

from imugait.gait.cycles import Exclusion, StrideConfig, _stride_bouts, segment_strides
from imugait.gait.events import LegEvents
from imugait.timebase import spans_mask


def _one_bout(duration_s: float):
    """A 100-Hz grid of ``duration_s`` in one bout, strides of 1 s from 1 s to 1 s before its end
    (stride k: k + 1 … k + 2 s), nothing lost or clipped: t, events, bout_id, lost, clipped."""
    t = np.arange(0.0, duration_s, 0.01)
    ic = np.arange(1.0, duration_s - 1.0, 1.0)
    events = LegEvents(mid_swing_s=ic - 0.3, toe_off_s=ic - 0.4, initial_contact_s=ic, mid_swing_peak_radps=np.full(ic.size, 4.0))
    return t, events, np.zeros(t.size, dtype=int), np.zeros(t.size, bool), np.zeros(t.size, bool)


def test_lost_and_clipped_samples_exclude_exactly_their_strides():
    t, events, bout_id, lost, clipped = _one_bout(20.0)  # 17 strides
    def at(s):
        return int(np.searchsorted(t, s))
    lost[at(3.2):at(3.2) + 12] = True  # stride 2: 12 % of it lost → LOST_SAMPLES (fraction)
    lost[at(5.5):at(5.5) + 7] = True   # stride 4: one 70-ms gap (7 %) → LOST_SAMPLES (gap)
    lost[at(7.5):at(7.5) + 3] = True   # stride 6: 30 ms lost, 3 % → kept
    lost[at(8.1)] = lost[at(8.6)] = True
    clipped[at(10.4)] = True           # stride 9: one clipped sample → CLIPPED
    # (Stride 2's 120-ms gap also excludes the strides near it: the next test; here only its own.)
    strides = segment_strides(t, events, bout_id, lost, clipped, StrideConfig(gap_margin_factor=0.0))
    reasons = {k: s.exclusion for k, s in enumerate(strides)}
    assert reasons[2] is Exclusion.LOST_SAMPLES and reasons[4] is Exclusion.LOST_SAMPLES
    assert reasons[9] is Exclusion.CLIPPED
    assert reasons[6] is Exclusion.NONE and reasons[7] is Exclusion.NONE
    assert [k for k, r in reasons.items() if r in (Exclusion.LOST_SAMPLES, Exclusion.CLIPPED)] == [2, 4, 9]


def test_strides_near_a_long_gap_are_excluded_within_the_margin():
    t, events, bout_id, lost, clipped = _one_bout(30.0)  # 27 strides
    lost[1450:1461] = True  # 14.50–14.60 s: a 100-ms gap (11 rows) in stride 13 (stride k: k + 1 … k + 2 s); margin 4 s
    lost[2300:2310] = True  # 90 ms: not longer than long_gap_s, no margin (its own stride 22 excluded: > 60 ms)
    strides = segment_strides(t, events, bout_id, lost, clipped)
    reasons = [s.exclusion for s in strides]
    assert reasons[13] is Exclusion.LOST_SAMPLES
    # Strides reaching into 10.5–18.6 s: 9 (10–11 s) to 17 (18–19 s); 8 (9–10 s) and 18 (19–20 s) not.
    near = [k for k, r in enumerate(reasons) if r is Exclusion.NEAR_LONG_GAP]
    assert near == [9, 10, 11, 12, 14, 15, 16, 17]
    assert reasons[22] is Exclusion.LOST_SAMPLES
    assert all(r is Exclusion.NONE for k, r in enumerate(reasons) if k not in near + [13, 22, 0, len(reasons) - 1])
    # The margin's longest: a 2-s gap excludes the strides within 12 s, not 80 s.
    lost[:] = False
    lost[1000:1200] = True  # 10.00–11.99 s
    reasons = [s.exclusion for s in segment_strides(t, events, bout_id, lost, clipped)]
    assert reasons[22] is Exclusion.NEAR_LONG_GAP and reasons[23] is Exclusion.NONE  # 23–24 s and 24–25 s


def test_spans_mark_what_setting_them_one_by_one_marks():
    rng = np.random.default_rng(5)
    starts = rng.integers(-5, 300, 60)
    stops = starts + rng.integers(-20, 40, 60)  # some empty or reversed, some past either end
    expected = np.zeros(300, dtype=bool)
    for a, b in zip(starts, stops, strict=True):
        expected[max(a, 0):max(b, 0)] = True
    assert np.array_equal(spans_mask(300, starts, stops), expected)
    assert not spans_mask(10, np.array([], dtype=int), np.array([], dtype=int)).any()


def _stride_bout_by_definition(ids: np.ndarray, max_overhang: float) -> int:
    inside = ids[ids >= 0]
    if inside.size == 0 or inside.min() != inside.max() or 1.0 - inside.size / ids.size > max_overhang:
        return -1
    return int(inside[0])


def test_the_strides_bouts_at_once_match_the_per_stride_definition():
    rng = np.random.default_rng(12)
    for _ in range(200):
        m = int(rng.integers(1, 400))
        bout_id, start, bout = np.full(m, -1), 0, 0
        while start < m:  # bouts and gaps of random lengths
            length = int(rng.integers(1, 60))
            if rng.random() < 0.6:
                bout_id[start:start + length] = bout
                bout += 1
            start += length
        i0 = np.sort(rng.integers(0, m + 1, int(rng.integers(1, 50))))
        i1 = i0.copy() if rng.random() < 0.2 else np.minimum(i0 + rng.integers(0, 80, i0.size), m)  # empty spans too
        expected = [_stride_bout_by_definition(bout_id[a:b], 0.2) for a, b in zip(i0, i1, strict=True)]
        assert _stride_bouts(bout_id, i0, i1, 0.2).tolist() == expected
