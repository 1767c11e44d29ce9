"""One calibrated leg while the sensors stream: angles per sample, events and strides as they complete.

The offline analysis of a leg (:func:`imugait.analysis.pipeline.analyze_session`) with its stages'
causal variants, over the leg's bounded history. This module is the leg's flow — which part runs
when — and its parts each do one job:

* :mod:`~imugait.live.leg_rows` — the history of grid rows and their angles, computed when needed
  with the offline stage functions (:func:`~imugait.kinematics.angles.segment_orientations`,
  :func:`~imugait.kinematics.angles.legs_angles`) and the state each row was taken with;
* :mod:`~imugait.live.leg_motion` — the motion mask and the walking direction
  (:class:`~imugait.kinematics.progression.CausalProgression`) of the rows as they settle;
* :mod:`~imugait.live.heading_track` — the thigh–shank heading offset: the offline track's windows
  estimated as they complete, the latest held for the rows taken, interpolated for a stride's
  final version;
* :mod:`~imugait.live.stride_finder` — the gait events (:func:`~imugait.gait.events.trailing_events`:
  settled, and early ones) and the strides they close;
* :mod:`~imugait.live.stride_measures` — a stride (:func:`~imugait.gait.cycles.segment_strides`
  with an open end), its metrics (:func:`~imugait.gait.metrics.strides_metrics`) and thigh–shank
  timing (:func:`~imugait.gait.coordination.stride_lags_s`);
* :mod:`~imugait.live.given_strides` — the versions given and the plausibility check
  (:func:`~imugait.gait.plausibility.implausible_reasons`, against the leg's recent strides);
* :mod:`~imugait.live.reheading` — a stride's final version: its knee angles with the heading
  offset interpolated between the offline windows around it and, referred to mid-stance, the
  frames of the walk so far (:mod:`imugait.live.midstance`), and at a walk's end of the whole
  walk — for the final strides older than the history too, whose knee inputs are kept
  (:mod:`imugait.live.reference_backlog`, bounded; there too the thigh's rows of the strides
  released before their run ended, which take the run's whole line at the walk's end);
* :mod:`~imugait.live.straight_runs` — the straight runs fitted again once they have ended
  (:mod:`imugait.live.revision`) and the hip rotation against them;
* :mod:`~imugait.live.walk_end` — the walk's strides used or not, judged at its end as offline.

Every ``tick_s`` of grid time (so that the results do not depend on how the samples were
chunked) a tick settles the motion and walking direction of the rows its motion windows decide,
estimates the heading windows that have completed, finds the events and gives the strides — at
once from the early initial contact, checked once it settles, given again with its thigh–shank
timing half a second later; then its tail (:meth:`LiveLeg.finish_tick`) gives the final versions
whose heading windows have come, fits the ended runs again, and releases the strides whose rows
are about to leave the history.

A walk ends at :meth:`LiveLeg.end_walk` — the stream's end, or "walk done" while it goes on —
where everything that waited for later rows is decided as offline at a recording's end; the rows
after it are a new walk (its own events and straight runs; the calibration and the heading
tracking go on).

The clipping check reads the rows the grid flagged (the gyroscope at the range its device declared,
:mod:`imugait.analysis.clipping`); double support needs the other leg and is added across the legs
(:mod:`imugait.live.double_support`). Not done live: the pelvis-relative hip angles.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imugait.calibration.segment import LegAlignment
from imugait.conventions import Side
from imugait.gait.events import settle_time_s
from imugait.live.given_strides import GivenStrides
from imugait.live.heading_track import HeadingTrack
from imugait.live.history import History
from imugait.live.leg_motion import LegMotion
from imugait.live.leg_rows import LegRows, grid_rows
from imugait.live.leg_settings import LegSettings
from imugait.live.midstance import MidstanceReference
from imugait.live.reference_backlog import ReferenceBacklog
from imugait.live.reheading import Reheading
from imugait.live.straight_runs import StraightRuns
from imugait.live.stride_finder import StrideFinder
from imugait.live.stride_measures import StrideMeasures
from imugait.live.updates import LiveStride
from imugait.live.walk_end import judge_walk

__all__ = ["RELEASE_TICKS", "LegSettings", "LiveLeg"]

RELEASE_TICKS = 2
"""A tick's tail releases the strides that begin by this many ticks after the oldest row of the
leg's history at the tick (:meth:`LiveLeg._release_old`). Not released at the tick before, their
rows begin no earlier than a row before ``RELEASE_TICKS - 1`` ticks past that row (the row before
an initial contact, and the rounding of times), so they are still on the grid if, when the tail
runs, the grid has taken fewer rows than that past the leg's tick: what
:meth:`~imugait.live.flow.LiveFlow._advance` keeps to (a larger batch is taken a tick at a time)."""


class LiveLeg:
    """One leg from grid index ``start`` on (see the module docstring). ``known_heading_rad``: the
    thigh-shank heading offset (rad) of the rows from ``start`` on that are already known when the leg
    starts — the calibration's own track over the rows it was fitted on (interpolated between its
    windows, as offline) — used for those rows instead of the held latest window.
    ``known_interpolated_rows``: how many of those rows lie up to the centre of the track's last
    window (all when None): after it the track holds the last window's estimate, where a stride's
    final version interpolates towards the windows after it, as offline
    (:meth:`~imugait.live.heading_track.HeadingTrack.final_offsets`).
    ``midstance``: the leg is referred to mid-stance and its calibration was fitted here — each
    stride's final version takes the segment frames from the mid-stances of the walk so far, at
    the stream's end from the whole walk's (:mod:`imugait.live.midstance`)."""

    def __init__(self, side: Side, alignment: LegAlignment, settings: LegSettings, start: int, capacity: int,
                 known_heading_rad: np.ndarray | None = None, known_interpolated_rows: int | None = None,
                 midstance: bool = False) -> None:
        self.side, self.alignment, self.settings = side, alignment, settings
        self.rows = LegRows(side, alignment, start, capacity)
        self.history = self.rows.history
        self._n_tick = settings.rows_per_tick
        # What a taken row holds until its tick and its angles fill it in (a tick's rows at most;
        # copied by the append, so one set serves every take).
        self._blank = {"knee_deg": np.full((self._n_tick, 3), np.nan), "hip_rotation_deg": np.full(self._n_tick, np.nan),
                       "motion": np.zeros(self._n_tick, bool), "run": np.full(self._n_tick, -1)}
        self.motion = LegMotion(side, self.rows, settings)
        self.heading = HeadingTrack(alignment, settings, start, capacity, known_heading_rad, known_interpolated_rows)
        self.measures = StrideMeasures(self.rows, self.heading, settings, start, capacity)
        self.given = GivenStrides(side, self.measures, settings.reference_backlog_s)
        referred = MidstanceReference(side, alignment) if midstance and alignment.reference is not None else None
        n_backlog = int(round(settings.reference_backlog_s * settings.rate_hz))
        self.backlog = ReferenceBacklog(self.rows, n_backlog, referred is not None, alignment.measures_femur_rotation) \
            if n_backlog > 0 and (referred is not None or alignment.measures_femur_rotation) else None
        """The final strides older than the history kept for the walk's end (:mod:`imugait.live.reference_backlog`)."""
        self.runs = StraightRuns(side, self.rows, self.measures, self.given, settings, start, self.backlog)
        self.finder = StrideFinder(self.rows, self.measures, self.given, self.runs, settings)
        self.reheading = Reheading(self.rows, self.heading, self.measures, self.given, referred, self.backlog)
        self._walk_ended_at = -1  # the grid row at which the latest walk was ended (end_walk)
        self._walk_start = start  # the grid row from which the walk going on counts
        self._settled = start  # rows whose motion, walking direction are final
        self._events_lag_s = settle_time_s(settings.events, settings.rate_hz) + settings.event_every_s + settings.tick_s
        """How long after a row an event before it may still be found (:attr:`strides_given_until_s`)."""
        self._tail_due: tuple[History, int, float] | None = None
        """The latest tick's tail still to run (:meth:`finish_tick`): the grid, its settled row,
        the time before which strides are released (:meth:`_release_old`)."""

    @property
    def new_strides(self) -> list[LiveStride]:
        """The stride versions given since the list was last emptied (the caller empties it)."""
        return self.given.new

    @new_strides.setter
    def new_strides(self, strides: list[LiveStride]) -> None:
        self.given.new = strides

    @property
    def n_strides(self) -> int:
        """Strides numbered so far (a recalibrated leg goes on numbering)."""
        return self.given.n_strides

    @n_strides.setter
    def n_strides(self, n: int) -> None:
        self.given.n_strides = n

    @property
    def strides_given_until_s(self) -> float:
        """Time (s) after which every stride the leg gives from now on ends: its settled rows' newest
        time less the time its events take to settle and between its looks for them
        (:meth:`~imugait.live.stride_finder.StrideFinder.find`); -inf before its first settled row."""
        k = self._settled - 1
        if k < self.history.first_index:
            return -np.inf
        return float(self.history.since("t_s", k)[0]) - self._events_lag_s

    @property
    def oldest_t_s(self) -> float:
        """Time (s) of the oldest row the history holds (-inf when it holds none)."""
        return float(self.history.tail("t_s")[0]) if len(self.history) else -np.inf

    # --- rows --------------------------------------------------------------------------------

    def take(self, grid: History, k_stop: int | None = None, defer_tail: bool = False) -> None:
        """Take the grid rows not yet seen (those before ``k_stop`` when given), each with the held
        state of the latest tick boundary (their angles are computed when needed:
        :meth:`angles_until`); at each tick boundary the rest is updated. ``defer_tail``: each
        tick's tail (:meth:`finish_tick`) is left pending until the next tick, the end of the
        walk or a take that does not defer — the rows after the tick, fewer than a tick's, are
        taken before it (see :meth:`finish_tick`)."""
        if not defer_tail:
            self.finish_tick()
        self.rows.grid = grid
        rows = self.rows
        k_stop = grid.n_appended if k_stop is None else min(k_stop, grid.n_appended)
        while self.history.n_appended < k_stop:
            k = self.history.n_appended
            stop = min(k_stop, (k // self._n_tick + 1) * self._n_tick)
            n = stop - k
            t = grid_rows(grid, "t_s", k, stop)
            lost = rows.lost(grid, k, stop)
            long_lost = np.maximum(grid_rows(grid, f"{rows.thigh}/lost_s", k, stop),
                                   grid_rows(grid, f"{rows.shank}/lost_s", k, stop)) > self.settings.max_bridge_s
            blank = self._blank
            self.history.append({"t_s": t, "knee_deg": blank["knee_deg"][:n], "hip_rotation_deg": blank["hip_rotation_deg"][:n],
                                 "hip_rotation_run_deg": blank["hip_rotation_deg"][:n],
                                 "motion": blank["motion"][:n], "run": blank["run"][:n], "lost": lost,
                                 "clipped": rows.clipped(grid, k, stop),
                                 "heading_offset_rad": self.heading.held_offsets(k, t, long_lost),
                                 "direction_rad": self.motion.progression.direction_at(t)})
            if stop % self._n_tick == 0:
                self.finish_tick()  # (the tick before's, if it was left pending)
                self._tick(grid, stop)
                if not defer_tail:
                    self.finish_tick()

    def angles_until(self, k1: int | None = None) -> None:
        """Compute the angles of the rows before grid index ``k1`` (all taken rows when None) that
        have none yet (:meth:`~imugait.live.leg_rows.LegRows.angles_until`)."""
        self.rows.angles_until(k1)

    # --- ticks -------------------------------------------------------------------------------

    def _tick(self, grid: History, k: int) -> None:
        """The tick at grid row ``k``: what the rows after it are taken with (motion, walking
        direction, heading windows) and the strides' first versions and timing; the rest of it, the
        tail (:meth:`finish_tick`), is left pending."""
        settled = self.motion.moving_until(grid, max(k - self.motion.n_settle, self._settled), k)
        if settled > self._settled:
            self._settle(grid, self._settled, settled, k)
            self._settled = settled
        self.heading.estimate_windows(grid, self.rows, settled)
        self.finder.find(grid, settled, k)
        self.given.give_timed(grid, k, self.runs.done)
        # (The history's oldest row now: rows taken before the tail runs may move it.)
        self._tail_due = (grid, settled, float(self.history.tail("t_s")[0]) + RELEASE_TICKS * self.settings.tick_s)

    def finish_tick(self) -> None:
        """The tail of the latest tick, if still pending (:meth:`take` ``defer_tail``): the
        strides' final versions (:meth:`~imugait.live.reheading.Reheading.head_strides`), the
        ended straight runs' refits (:meth:`~imugait.live.straight_runs.StraightRuns.refit`) and
        the strides about to leave the history (:meth:`_release_old`).
        No row is taken with anything it changes, so a view may run it after pushing the rows'
        angles (the versions it gives come with the next poll). It runs before the next tick and
        before :meth:`end_walk`, so the leg's steps come in the same order as without the wait. What
        can differ: up to a tick's rows more have been taken, so the history's oldest row may have
        moved on by as many. The tail reads rows near it only for the strides it releases,
        :data:`RELEASE_TICKS` before they would leave (the time taken at the tick), and the grid
        is then less than a tick past the tick, deferred or not (:meth:`~imugait.live.flow.LiveFlow._advance`
        takes a larger batch a tick at a time, and runs the tails before each such tick's rows).
        The same results to the bit: tests/live/test_live_deferred_tails.py (a history shorter
        than a run too)."""
        if self._tail_due is None:
            return
        grid, settled, t_old = self._tail_due
        self._tail_due = None
        self.reheading.head_strides(self.runs.done)
        self.runs.refit_ended(grid, settled)
        self._release_old(t_old)

    def _settle(self, grid: History, k0: int, k1: int, k: int, ended: bool = False) -> None:
        """Motion and walking direction of rows ``k0 .. k1 - 1`` (:meth:`~imugait.live.leg_motion.LegMotion.settle`)
        and their straight runs noted (:meth:`~imugait.live.straight_runs.StraightRuns.note`)."""
        self.runs.note(grid, self.motion.settle(grid, k0, k1, k, ended), k0, k1)

    def _release_old(self, t_old: float) -> None:
        """Give final, as they are, the strides whose rows are about to leave the history before
        their run has ended (a straight run longer than the history) or their heading windows
        have come (a history shorter than those few seconds): those that begin by ``t_old`` (s;
        two ticks after the history's oldest row at the tick). Those given final with their
        heading leave for the reference backlog, if the leg keeps one; all of them are kept for the
        judgement at the walk's end (:meth:`~imugait.live.given_strides.GivenStrides.keep_older`)."""
        given, runs = self.given, self.runs
        leaving = []
        while given.headed and given.headed[0].stride.t_initial_contact_s <= t_old:
            leaving.append(given.headed.popleft())
            if self.backlog is not None:
                self.backlog.keep_knee(leaving[-1])
        if not (given.awaiting_run or given.unheaded):
            given.keep_older(leaving)
            return
        released = []
        while given.awaiting_run and given.awaiting_run[0].stride.t_initial_contact_s <= t_old:
            released.append(given.awaiting_run.popleft())
        runs.redirect_released([p for p in released if p.run == runs.fit_label >= 0])
        for p in released:
            p.run = -1  # (given up)
        while given.unheaded and given.unheaded[0].stride.t_initial_contact_s <= t_old:
            released.append(given.unheaded.popleft())
            released[-1].headed = True  # (given up)
        for p in dict.fromkeys(released):  # (once each, in order)
            if p.timed and p.headed and p.run <= runs.done:
                p.given = replace(p.given, final=True)
                given.give(p)
        given.keep_older(sorted(dict.fromkeys((*leaving, *released)), key=lambda p: p.stride.t_initial_contact_s))

    # --- the walk's end ------------------------------------------------------------------------

    def end_walk(self) -> None:
        """The walk has ended at the newest row taken — the stream ended, or a clinician's "walk
        done" while it goes on (:meth:`~imugait.live.kinematics.LiveKinematics.end_pass`): what
        waited for rows after the newest is decided with the rows there are, as offline at a
        recording's end — the motion of the rows after the last tick (its windows cut at the end),
        the events once more with the end as the recording's
        (:func:`~imugait.gait.events.trailing_events` ``ended``: the last stride of a walk that
        did not stop is given), the thigh–shank timing of the strides still without it, the
        walking direction of a straight run still going on (it ends here: fitted again over all of
        it) and of the runs ended less than the margin before
        (:meth:`~imugait.live.straight_runs.StraightRuns.end_walk`); which strides of the walk are
        used (:func:`~imugait.live.walk_end.judge_walk`); the strides waiting for a heading window
        are given with the windows there are (the last held after its centre;
        :meth:`~imugait.live.reheading.Reheading.head_strides`); with a mid-stance reference, the
        strides still in the history — and the final strides older than it that the backlog
        keeps — with the reference over every walk so far
        (:meth:`~imugait.live.reheading.Reheading.revise_reference`); last, every stride of the walk
        the leg holds — the final strides older than the history too — judged used or not against
        all its strides kept, with the values they have then, as ``analyze`` judges them
        (:meth:`~imugait.live.given_strides.GivenStrides.judge_walk`). Every stride of the walk is
        then final.

        The rows that come after are a new walk (:meth:`_new_walk`). Called again with no row
        taken since, it does nothing."""
        self.finish_tick()
        k = self.history.n_appended
        if k == self._walk_ended_at:
            return
        grid = self.rows.grid
        if grid is not None and k > max(self.history.first_index, grid.first_index):
            if k > self._settled:
                self._settle(grid, self._settled, k, k, ended=True)
                self._settled = k
            self.heading.estimate_windows(grid, self.rows, k)
            self.finder.find(grid, k, k, ended=True)
            self.given.give_timed(grid, k, self.runs.done, ended=True)
            self.runs.end_walk(grid, k)
            judge_walk(grid, k, self._walk_start, self.rows, self.runs, self.given, self.settings)
        self.reheading.head_strides(self.runs.done, ending=True)
        self.reheading.revise_reference()
        self.given.judge_walk()
        self._new_walk(k)

    def _new_walk(self, k: int) -> None:
        """After :meth:`end_walk` at grid row ``k``: the rows from ``k`` on are a new walk. Its
        events start afresh — a stride needs two initial contacts of the new walk (none spans the
        end: offline a pause is longer than any stride, ``StrideConfig.max_stride_s``; a walk
        declared ended while the person walked on splits there), and no mid-swing at or before the
        end is found again — and its straight runs too: the causal direction ends its run
        (:meth:`~imugait.kinematics.progression.CausalProgression.end_run`), so the next straight
        walking is a new run, fitted again over itself once it has ended.

        What goes on: the calibration; the heading-offset windows (the thigh–shank offset belongs
        to the sensors on the leg, not to a walk: ``analyze`` keeps one track through a pause, its
        windows without knee motion giving no estimate, and the first strides of the next walk
        interpolate between the windows around them as there); the mid-stance sums (``analyze``
        averages every stride of the recording); the recent strides the plausibility check judges
        against, and the older ones kept for the walk's end (``analyze``: all the leg's strides);
        the strides' numbering; the history."""
        self._walk_ended_at = self._walk_start = k
        self.given.new_walk()
        self.runs.refitted = []
        self.finder.new_walk(float(self.history.tail("t_s")[-1]) if k > self.history.first_index else None)
        self.motion.progression.end_run()
