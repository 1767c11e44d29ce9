"""A live leg's straight runs: their walking direction over all of each once it has ended, and
the hip rotation of its rows and strides against it.

A row is taken with the walking direction of the straight run so far
(:class:`~imugait.kinematics.progression.CausalProgression`). Once a run has ended and the rows
that decide where its bout ends offline have come, it is fitted again as ``analyze`` fits its bout
(:mod:`imugait.live.revision`: ``find_progression`` over it and a few seconds before; merged with
the next run where offline sees no turn between them) — or, a run longer than the history, with
its line over all of it from sums (:class:`~imugait.kinematics.run_direction.WholeRunFit`) — and
the hip rotation its strides' metrics read is computed again against it (:meth:`StraightRuns.redirect`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from imugait.conventions import Side
from imugait.kinematics.angles import legs_angles
from imugait.kinematics.progression import find_progression
from imugait.kinematics.run_direction import RunLine, WholeRunFit
from imugait.live.given_strides import GivenStrides, PendingStride
from imugait.live.history import History
from imugait.live.leg_rows import LegRows, stride_span
from imugait.live.leg_settings import LegSettings
from imugait.live.reference_backlog import ReferenceBacklog
from imugait.live.revision import bout_reach, context_s, one_bout, run_directions_rad, wait_s
from imugait.live.stride_measures import StrideMeasures
from imugait.quaternion import quat_rotate_each


class StraightRuns:
    """The straight runs of one leg (``side``, its ``rows``) from grid index ``start`` on; their
    strides are ``given``'s."""

    def __init__(self, side: Side, rows: LegRows, measures: StrideMeasures, given: GivenStrides,
                 settings: LegSettings, start: int, backlog: ReferenceBacklog | None = None) -> None:
        self.side, self.rows, self.measures, self.given, self.settings = side, rows, measures, given, settings
        self.backlog = backlog
        """Where the strides released before their run ended are kept with their thigh's rows
        (:mod:`imugait.live.reference_backlog`; None: not kept)."""
        dt = 1.0 / settings.rate_hz
        self.label = -1
        """The straight run of the newest settled row (-1: none)."""
        self.start = 0
        """The first row of that run."""
        self.ended: deque[tuple[int, int, int]] = deque()
        """(run, first row, row after) of the ended runs to be fitted again, in order."""
        self.done = -1
        """Runs up to this number are fitted again (or were given up)."""
        self.merged: dict[int, int] = {}
        """A run merged into the next (one bout offline): their labels."""
        self.fit = WholeRunFit(dt, settings.progression, side)
        """The current straight run's direction over all of it, from sums (a run longer than the history)."""
        self.fit_label = -1  # the run it is fed
        self._fed = start  # rows up to this are fed to it (in batches: its per-call cost)
        self._n_feed = max(int(round(1.0 / dt)), 1)
        self._lines: dict[int, RunLine] = {}  # ended runs' whole-run directions, until fitted again
        self.n_context = int(round(context_s(settings.progression) / dt))
        """Rows before a run that its refit takes too (:func:`~imugait.live.revision.context_s`)."""
        self._n_wait = int(round(wait_s(settings.progression) / dt))
        self.refitted: list[int] = []
        """First rows of the walk's runs fitted again before its end."""

    def awaited(self, run: int) -> int:
        """The run whose walking direction a stride in straight run ``run`` awaits (-1: none)."""
        return self.merged.get(run, run) if run > self.done else -1

    def note(self, grid: History, runs: np.ndarray, k0: int, k1: int) -> None:
        """The straight runs ``runs`` ((K,) labels, -1: none) of the settled rows ``k0 .. k1 - 1``:
        the whole-run fit fed, the runs that ended kept to be fitted again."""
        if runs[0] == runs[-1] == self.label and np.count_nonzero(runs != self.label) == 0:
            if k1 - self._fed >= self._n_feed:
                self.feed(grid, k1)
            return  # (the common case: the same run, or none, goes on)
        self.feed(grid, k1)
        previous = np.concatenate([[self.label], runs[:-1]])
        for i in np.flatnonzero(runs != previous):
            if previous[i] >= 0:
                self.ended.append((int(previous[i]), self.start, k0 + int(i)))
            if runs[i] >= 0:
                self.start = k0 + int(i)
        self.label = int(runs[-1])

    def feed(self, grid: History, k1: int) -> None:
        """Feed the whole-run fit the settled rows before grid row ``k1`` not fed yet that are in
        the current straight run; a run that ends leaves its line for its refit (:meth:`refit`)."""
        history = self.rows.history
        k0 = max(self._fed, history.first_index, grid.first_index)
        self._fed = max(self._fed, k1)
        if k1 <= k0 or not self.rows.alignment.measures_femur_rotation:
            return
        runs = history.since("run", k0)[:k1 - k0]
        if self.fit_label < 0 and not np.count_nonzero(runs >= 0):
            return  # (no run)
        t = history.since("t_s", k0)[:k1 - k0]
        q_thigh = self.rows.q_world_thigh(grid, k0, k1)
        long_axis, flexion_axis = quat_rotate_each(q_thigh, ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0]))
        edges = np.concatenate([[0], np.flatnonzero(np.diff(runs)) + 1, [runs.size]])
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            label = int(runs[a])
            if label != self.fit_label:
                self.end_fit()
                self.fit_label = label
            if label >= 0:
                self.fit.extend(t[a:b], long_axis[a:b], flexion_axis[a:b])

    def end_fit(self) -> None:
        """Keep the line of the run the whole-run fit was fed (if any) and start afresh."""
        if self.fit_label >= 0:
            line = self.fit.line()
            if line is not None:
                self._lines[self.fit_label] = line
            self.fit.reset()
        self.fit_label = -1

    def refit_ended(self, grid: History, settled: int, ending: bool = False) -> None:
        """Fit again (or merge with the next) the ended runs whose rows for it have come before
        ``settled``; ``ending``: every ended run, ``settled`` the walk's end."""
        while self.ended and (ending or self.ended[0][2] + self._n_wait <= settled):
            ended = self.ended.popleft()
            if not self.merge_with_next(grid, *ended, settled):
                self.refit(grid, *ended, settled, ending)

    def end_walk(self, grid: History, k: int) -> None:
        """The walk has ended at grid row ``k``: the run going on ends there, and every ended run
        is fitted again with the rows there are (as offline at a recording's end); the strides of
        the walk's runs longer than the history given final as their rows left it take the line
        of all of their run (:meth:`~imugait.live.reference_backlog.ReferenceBacklog.redirect_walk`)."""
        if self.label >= 0:
            self.ended.append((self.label, self.start, k))
            self.label = -1
        self.feed(grid, k)
        self.end_fit()
        self.refit_ended(grid, k, ending=True)
        if self.backlog is not None:  # (the strides of its runs longer than the history, given final before)
            self.given.give_measured_again(self.backlog.redirect_walk())

    def merge_with_next(self, grid: History, run: int, k_start: int, k_stop: int, settled: int) -> bool:
        """Whether the ended straight ``run`` (grid rows ``k_start .. k_stop - 1``) and the run
        after it, started before ``settled``, are one bout as ``analyze`` finds bouts
        (:func:`~imugait.live.revision.one_bout`: the causal detection ended the run on a wobble the
        centred one does not call a turn) — then they become one run, fitted again over both
        once the later one has ended, as ``analyze`` fits its bout (its strides wait for that)."""
        if self.ended:
            later, later_start = self.ended[0][:2]
        elif self.label >= 0:
            later, later_start = self.label, self.start
        else:
            return False
        history = self.rows.history
        first = max(history.first_index, grid.first_index)
        w0 = max(k_start - self.n_context, first)
        if not (self.rows.alignment.measures_femur_rotation and w0 < k_stop <= later_start < settled):
            return False
        q_thigh = self.rows.q_world_thigh(grid, w0, settled)
        if not one_bout(history.since("t_s", w0)[:settled - w0], q_thigh, history.since("motion", w0)[:settled - w0],
                        k_stop - 1 - w0, later_start - w0, self.settings.progression, self.side, self.settings.rate_hz):
            return False
        for p in (*self.given.awaiting_run, *self.given.untimed):
            if p.run == run:
                p.run = later
        self.merged = {old: (later if new == run else new) for old, new in self.merged.items() if new > self.done}
        self.merged[run] = later
        if self.ended:
            self.ended[0] = (later, k_start, self.ended[0][2])
        else:
            self.start = k_start
        return True

    def refit(self, grid: History, run: int, k_start: int, k_stop: int, settled: int, ending: bool = False) -> None:
        """Find the walking direction of the ended straight ``run`` (grid rows ``k_start ..
        k_stop - 1``) again, over all of it as offline (:mod:`imugait.live.revision`), from the
        rows before ``settled``; recompute the hip rotation of its rows and the metrics of its
        strides, and give those with their timing again — final if their heading windows have come.
        ``ending``: at the walk's end (the rows of its bout before it take the bout's direction too)."""
        history, given = self.rows.history, self.given
        self.done = run
        if not ending:
            self.refitted.append(k_start)  # (its bout's rows before it: at the walk's end, walk_end.judge_walk)
        first = max(history.first_index, grid.first_index)
        # A run longer than the history kept (not merged: its line is of this run alone) takes the
        # line of all of it (:class:`~imugait.kinematics.run_direction.WholeRunFit`), as offline.
        line = self._lines.get(run) if k_start < first and run not in self.merged.values() else None
        self._lines = {r: x for r, x in self._lines.items() if r > run}
        k_start = max(k_start, first)
        strides = [p for p in (*given.awaiting_run, *given.untimed) if p.run == run]  # (in time order)
        directions = None
        if k_stop > k_start and line is not None:
            directions = line.at(history.since("t_s", k_start)[:k_stop - k_start])
        elif k_stop > k_start and self.rows.alignment.measures_femur_rotation:
            w0 = max(k_start - self.n_context, first)
            in_run = np.zeros(settled - w0, dtype=bool)
            in_run[k_start - w0:k_stop - w0] = True
            q_thigh = self.rows.q_world_thigh(grid, w0, settled)
            # find_progression over a window around the ended run: its bouts, as offline
            progression = find_progression(history.since("t_s", w0)[:settled - w0], q_thigh,
                                           history.since("motion", w0)[:settled - w0],
                                           self.settings.progression, side=self.side, rate_hz=self.settings.rate_hz)
            if ending:  # (the bout's rows before the run too, as offline: its first strides may be used)
                k_start = w0 + bout_reach(progression, k_start - w0, history.since("run", w0)[:settled - w0] < 0)
                in_run[k_start - w0:k_stop - w0] = True
            directions = run_directions_rad(progression, in_run)
        if directions is not None:
            self.redirect(k_start, k_stop, directions, strides)
        if line is not None and self.backlog is not None:  # (its strides older than the history: at the walk's end)
            self.backlog.note_line(line)
        for p in strides:
            p.given = given.judged_again(p, final=p.timed and p.headed)
            if p.timed:
                given.give(p)
        given.awaiting_run = deque(p for p in given.awaiting_run if p.run != run)

    def redirect(self, k0: int, k1: int, directions: np.ndarray, strides: Sequence[PendingStride]) -> None:
        """The hip rotation the strides read of grid rows ``k0 .. k1 - 1`` against the walking
        directions (rad) found again, and the metrics of ``strides`` (theirs, in time order) from
        it. The rows' angles as shown stay as they were taken (whenever they are polled)."""
        self.rows.angles_until(k1)
        lost, (side, q_thigh, q_shank, _live) = self.rows.angle_input(k0, k1)
        hip_deg = np.rad2deg(legs_angles([(side, q_thigh, q_shank, directions)])[0].hip_rotation_progression_rad)
        hip_deg[lost] = np.nan
        self.rows.history.since("hip_rotation_run_deg", k0)[:k1 - k0] = hip_deg
        if strides:
            metrics = self.measures.metrics([p.stride for p in strides])
            for i, p in enumerate(strides):
                p.row.update({name: float(values[i]) for name, values in metrics.items()})

    def redirect_released(self, strides: list[PendingStride]) -> None:
        """Strides of the straight run still going on whose rows are about to leave the history:
        their hip rotation against the run's line over all of it so far (:class:`WholeRunFit`,
        closer to the whole bout's of ``analyze`` than the newest seconds' direction the rows were
        shown with) — unless the run continues an earlier one it was merged with (its line is of
        this run alone)."""
        line = self.fit.line() if strides and self.fit_label not in self.merged.values() else None
        if line is None:
            return
        history = self.rows.history
        t_all = history.tail("t_s")
        first = history.first_index
        i0, i1 = stride_span(t_all, strides[0].stride.t_initial_contact_s, strides[-1].stride.t_next_initial_contact_s)
        k0, k1 = first + i0, first + i1
        self.redirect(k0, k1, line.at(history.since("t_s", k0)[:k1 - k0]), strides)
        for p in strides:
            p.given = self.given.judged_again(p)
        if self.backlog is not None:
            self.backlog.keep_released(k0, k1, strides)
