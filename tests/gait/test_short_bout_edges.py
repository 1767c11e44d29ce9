"""The edge strides of a bout too short for its own median (a short clinical walk) are judged
against the leg's other strides (``StrideConfig.min_bout_strides_for_edges``)."""

from __future__ import annotations

import numpy as np

from imugait.gait.cycles import Exclusion, segment_strides
from imugait.gait.events import LegEvents

T = np.arange(0.0, 8.0, 0.01)
NONE = np.zeros(T.size, dtype=bool)


def _events(ic: np.ndarray, peaks: np.ndarray | None = None) -> LegEvents:
    return LegEvents(ic - 0.3, ic - 0.45, ic, np.full(ic.size, 4.0) if peaks is None else peaks)


def _bout(t_start_s: float, t_stop_s: float) -> np.ndarray:
    """(M,) bout ids: one straight bout between the two times, -1 elsewhere (start, turn)."""
    return np.where((T >= t_start_s) & (T < t_stop_s), 0, -1)


def test_steady_edge_strides_of_a_two_stride_bout_are_used_when_the_leg_has_enough_strides():
    # Four strides of 1.0 s; only the middle two lie in the straight bout (the walk turns after).
    ic = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    strides = segment_strides(T, _events(ic), _bout(2.0, 4.0), NONE, NONE)
    assert [s.exclusion for s in strides] == [Exclusion.NOT_IN_BOUT, Exclusion.NONE, Exclusion.NONE,
                                              Exclusion.NOT_IN_BOUT]


def test_an_unsteady_edge_stride_of_a_short_bout_is_still_left_out():
    # The bout's first stride 20 % longer than the leg's others: not yet steady.
    ic = np.array([1.0, 2.0, 3.2, 4.2, 5.2])
    strides = segment_strides(T, _events(ic), _bout(2.0, 4.2), NONE, NONE)
    assert strides[1].exclusion is Exclusion.BOUT_EDGE and strides[2].exclusion is Exclusion.NONE
    # … and one whose swing is 20 % weaker than the leg's others, likewise.
    peaks = np.array([4.0, 4.0, 4.0, 3.2, 4.0])
    strides = segment_strides(T, _events(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), peaks), _bout(2.0, 4.0), NONE, NONE)
    assert strides[1].exclusion is Exclusion.NONE and strides[2].exclusion is Exclusion.BOUT_EDGE


def test_a_leg_with_too_few_strides_for_a_median_uses_no_edge_stride():
    # Three strides in all (fewer than min_bout_strides_for_edges): nothing to judge the edges against.
    ic = np.array([1.0, 2.0, 3.0, 4.0])
    strides = segment_strides(T, _events(ic), _bout(1.0, 3.0), NONE, NONE)
    assert [s.exclusion for s in strides] == [Exclusion.BOUT_EDGE, Exclusion.BOUT_EDGE, Exclusion.NOT_IN_BOUT]
