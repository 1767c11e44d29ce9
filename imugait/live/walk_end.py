"""At the end of a live walk: which of its strides are used, decided as ``analyze`` decides it at
a recording's end.

Live, a stride is judged over the causal straight runs with an open end; ``analyze`` judges the
strides of a recording over the bouts of :func:`~imugait.kinematics.progression.find_progression`
(the turn margins, the overhang rule) with the last bout ended. At a walk's end
(:meth:`~imugait.live.leg.LiveLeg.end_walk`) the leg judges its walk's strides once more that way
(:func:`judge_walk`), and the rows of a bout before its run take the bout's direction.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imugait.kinematics.progression import Progression, find_progression
from imugait.live.given_strides import GivenStrides, PendingStride
from imugait.live.history import History
from imugait.live.leg_rows import LegRows
from imugait.live.leg_settings import LegSettings
from imugait.live.revision import bout_reach, strides_in_bouts
from imugait.live.straight_runs import StraightRuns


def judge_walk(grid: History, k: int, walk_start: int, rows: LegRows, runs: StraightRuns, given: GivenStrides,
               settings: LegSettings) -> None:
    """At the end of the walk (grid row ``k``; it started at row ``walk_start``): which of its
    strides (``given``'s) still in the history (``rows``') are used, decided as ``analyze`` decides
    it at a recording's end (:func:`_bound_as_offline`) over the walk's rows and a turn's worth
    before them (``find_progression`` once over them: every bout of the walk, not only the run
    going on at its end — a run that ended at a stop was fitted again before the end, its strides
    judged over the causal runs); and the rows of such a run's bout before the run
    (:func:`~imugait.live.revision.bout_reach`) take the bout's direction, as
    :meth:`~imugait.live.straight_runs.StraightRuns.refit` gives them to the run going on at the
    end (a first stride now used has ``analyze``'s hip rotation). Those already given final that
    changed are given again."""
    history = rows.history
    first = max(history.first_index, grid.first_index)
    w0 = max(walk_start - runs.n_context, first)
    if k - w0 < 2:
        return
    t = history.since("t_s", w0)[:k - w0]
    t_walk_s = float(history.since("t_s", max(walk_start, first))[0])
    strides = [p for p in (*given.headed, *given.unheaded) if p.stride.t_initial_contact_s >= t_walk_s]
    if not strides:
        return
    q_thigh = rows.q_world_thigh(grid, w0, k)
    progression = find_progression(t, q_thigh, history.since("motion", w0)[:k - w0], settings.progression,
                                   side=rows.side, rate_hz=settings.rate_hz)
    changed = _bound_as_offline(progression, w0, k, strides, history, given, settings)
    free = history.since("run", w0)[:k - w0] < 0
    for k_run in runs.refitted if rows.alignment.measures_femur_rotation else ():
        i = k_run - w0
        j = bout_reach(progression, i, free) if 0 < i < free.size else i
        if j < i:
            reached = [p for p in strides if p.stride.t_initial_contact_s < t[i] and p.stride.t_next_initial_contact_s > t[j]]
            runs.redirect(w0 + j, k_run, progression.heading_rad[j:i], reached)
            changed += reached
    for p in dict.fromkeys(changed):  # (once each, in order of change)
        if p.headed:  # (the others are given with their heading: Reheading.head_strides)
            p.given = given.judged_again(p)
            given.give(p)


def _bound_as_offline(progression: Progression, k0: int, k1: int, strides: Sequence[PendingStride], history: History,
                      given: GivenStrides, settings: LegSettings) -> list[PendingStride]:
    """At the end of a walk: which of ``strides`` (in time order) are used, decided as
    ``analyze`` decides it at a recording's end — :func:`~imugait.gait.cycles.segment_strides`
    over grid rows ``k0 .. k1 - 1`` (of the leg's ``history``) with the bouts ``find_progression``
    found there (``progression``: the turn margins, the overhang rule) and the last bout ended (its
    last stride an edge), instead of the causal runs and the open end the strides were judged with
    (a stride into a final turn is in the run live, outside the bout offline). The edge strides of
    a short bout are judged against the strides of the window (``given``'s still pending), as
    offline against the leg's. Returns those whose decision changed."""
    if not strides:
        return []
    t = history.since("t_s", k0)[:k1 - k0]
    pool = {id(p): p.stride for p in (*given.headed, *given.unheaded, *strides) if p.stride.t_initial_contact_s >= t[0]}
    gap_lost = history.since("lost", k0)[:k1 - k0]
    lost = gap_lost | ~np.isfinite(history.since("heading_offset_rad", k0)[:k1 - k0])
    found = {s.t_initial_contact_s: s for s in strides_in_bouts(t, list(pool.values()), progression, lost,
                                                                history.since("clipped", k0)[:k1 - k0],
                                                                settings.strides, settings.rate_hz, gap_lost)}
    changed = []
    for p in strides:
        s = found.get(p.stride.t_initial_contact_s)
        if s is not None and s.exclusion is not p.stride.exclusion:
            p.stride = s
            p.row["used"] = s.used
            changed.append(p)
    return changed
