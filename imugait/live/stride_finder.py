"""A live leg's gait events as they settle, and the strides they close.

At a tick, the events of the trailing window before the settled rows
(:func:`~imugait.gait.events.trailing_events`: the settled ones, and early ones): each settled
initial contact closes a stride (:meth:`~imugait.live.stride_measures.StrideMeasures.stride_at`),
given (:class:`~imugait.live.given_strides.GivenStrides`) — at once from an early initial contact,
checked once it settles. Looks are cheap between strides: every ``event_every_s``, and at every
tick once a swing has ended in a dip; a window where no new mid-swing can be yet is told apart
before the detection (:func:`~imugait.gait.events.no_trailing_events`).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from imugait.gait.coordination import MAX_LAG_S
from imugait.gait.events import (
    EARLY_MID_SWING_S,
    LegEvents,
    no_trailing_events,
    settle_time_s,
    trailing_events,
)
from imugait.live.given_strides import GivenStrides, PendingStride
from imugait.live.history import History
from imugait.live.leg_rows import LegRows, grid_rows
from imugait.live.leg_settings import LegSettings
from imugait.live.straight_runs import StraightRuns
from imugait.live.stride_measures import StrideMeasures
from imugait.timebase import lowpass_band, sample_period_s

EVENTS_KEPT = 12
"""Settled events kept to segment strides (a stride needs two; the bout's median a few more)."""
NO_EVENTS = LegEvents(np.empty(0), np.empty(0), np.empty(0), np.empty(0))


class StrideFinder:
    """The events and strides of one leg (its ``rows``), given to ``given``; ``runs``: its
    straight runs (the run a stride's hip rotation awaits)."""

    def __init__(self, rows: LegRows, measures: StrideMeasures, given: GivenStrides, runs: StraightRuns,
                 settings: LegSettings) -> None:
        self.rows, self.measures, self.given, self.runs, self.settings = rows, measures, given, runs, settings
        dt = 1.0 / settings.rate_hz
        self._n_tick = settings.rows_per_tick
        self._n_lag = int(np.ceil(MAX_LAG_S * settings.rate_hz)) + 2
        self._n_event_window = int(round(settings.event_window_s / dt))
        self._n_event_every = max(int(round(settings.event_every_s / settings.tick_s)), 1) * self._n_tick
        # The low-pass band of the look before the detection (no_trailing_events) is made now, with
        # the leg (a calibration or a fusion start is a long call already), not in the middle of the
        # walk when the event window first fills (about 0.1 s of CPU once; the rate as that look
        # has it, so that it is the same cached band).
        lowpass_band(self._n_event_window, 1.0 / sample_period_s(None, settings.rate_hz), settings.events.lowpass_hz)
        self.events: deque[tuple[float, float, float, float]] = deque(maxlen=EVENTS_KEPT)
        """The latest settled events (mid-swing, toe-off, initial contact s, mid-swing peak rad/s)."""
        self.walk_from_s = -np.inf
        """The events of the walk going on have their mid-swing after this (s)."""

    def find(self, grid: History, settled: int, k: int, ended: bool = False) -> None:
        """The events of the trailing window before ``settled`` and the strides they close (at the
        tick of grid row ``k``); ``ended``: ``settled`` is the walk's end
        (:meth:`~imugait.live.leg.LiveLeg.end_walk`) — every event there is settled, as at a
        recording's end offline."""
        rows, history, settings, given = self.rows, self.rows.history, self.settings, self.given
        lo = max(settled - self._n_event_window, history.first_index, grid.first_index)
        if settled - lo < 2 * self._n_tick:
            return
        t = history.since("t_s", lo)[:settled - lo]
        after = self.events[-1][0] + 0.5 * settings.events.min_stride_s if self.events else self.walk_from_s
        walking = history.since("motion", lo)[:settled - lo]
        settle_s = settle_time_s(settings.events, settings.rate_hz)
        if ended:
            look = True
        elif given.early is not None:  # nothing before it can settle before it does (it was the first)
            look = t[-1] - settle_s >= given.early.mid_swing_s
        else:  # every ``event_every_s``, and at every tick once a swing has ended in a dip (early)
            look = t[-1] - EARLY_MID_SWING_S > after
        if not (look and (np.count_nonzero(walking) or given.early is not None)):
            return
        # (made only when looked at: the same rows, the same product)
        shank_rate = grid_rows(grid, f"{rows.shank}/gyr_radps", lo, settled) @ rows.alignment.hinge_axis_shank
        if given.early is None and not (ended or k % self._n_event_every == 0 or self._swing_ended(t, shank_rate, after)):
            return
        started = lo == 0  # (the grid's first row is the recording's first: as offline at its start)
        if not ended and settled - lo == self._n_event_window and no_trailing_events(t, shank_rate, walking, after, settings.events,
                                                                       settings.rate_hz, started):
            # No new mid-swing can be in the window yet (most looks between strides): the same
            # outcome as the detection, at a fraction of its cost. (Only at the full window's
            # size: the low-pass's matrix is made once for it.)
            events = early = NO_EVENTS
        else:
            # The rates about the calibrated axes, as offline (detect_leg_events' inputs).
            thigh_rate = grid_rows(grid, f"{rows.thigh}/gyr_radps", lo, settled) @ rows.alignment.axes.flexion_axis_thigh
            events, early = trailing_events(t, shank_rate, walking, after, settings.events, thigh_rate,
                                            settings.rate_hz, ended, started)
        for event in zip(events.mid_swing_s, events.toe_off_s, events.initial_contact_s, events.mid_swing_peak_radps,
                         strict=True):
            self.events.append(tuple(float(x) for x in event))
            if len(self.events) >= 2:
                self._stride_settled(grid, self.events[-1], settled, k)
        if given.early is not None and (ended or given.early.mid_swing_s <= t[-1] - settle_s):
            given.withdraw()  # its mid-swing settled as none (or the leg stopped before it)
        for event in zip(early.mid_swing_s, early.toe_off_s, early.initial_contact_s, early.mid_swing_peak_radps,
                         strict=True):
            if self.events and given.early is None:
                self._stride_early(tuple(float(x) for x in event), settled)

    def _swing_ended(self, t: np.ndarray, shank_rate: np.ndarray, after_s: float) -> bool:
        """Whether the shank's rate since ``after_s`` rose above a mid-swing's least peak and then
        fell below zero (the heel-strike dip) early enough for an early initial contact: a cheap
        look before the event detection (which runs anyway every ``event_every_s``)."""
        since = t > after_s
        if not np.count_nonzero(since):
            return False
        rate = shank_rate[since]
        top = int(np.argmax(rate))
        n_contact = int(np.ceil(0.05 * self.settings.rate_hz))
        return bool(rate[top] >= self.settings.events.min_swing_peak_radps and np.count_nonzero(rate[top:rate.size - n_contact] < 0))

    def _stride_early(self, event: tuple[float, float, float, float], settled: int) -> None:
        """Give at once the stride that ends at an early initial contact (see
        :func:`~imugait.gait.events.trailing_events`; rows before ``settled`` settled); it is
        checked once its events settle."""
        found = self.measures.stride_at([*self.events, event][-EVENTS_KEPT:], event[2], settled)
        if found is not None:
            self.given.give_early(event[0], *found)

    def _stride_settled(self, grid: History, event: tuple[float, float, float, float], settled: int, k: int) -> None:
        """The stride that ends at the settled initial contact just found, if it is one (at the
        tick of grid row ``k``, rows before ``settled`` settled: no row from ``k`` on is read) —
        given, or, if it was given early, given again only where it changed."""
        given = self.given
        early = None
        if given.early is not None:
            if abs(given.early.mid_swing_s - event[0]) < 0.5 * self.settings.events.min_stride_s:
                early, given.early = given.early, None
            elif given.early.mid_swing_s < event[0]:
                given.withdraw()
        found = self.measures.stride_at(list(self.events), event[2], settled)
        if found is None:
            if early is not None:
                given.early = early
                given.withdraw()
            return
        stride, metrics = found
        version, row = given.give_settled(stride, metrics, early)
        history = self.rows.history
        t_all = history.tail("t_s")
        i0, i1 = np.searchsorted(t_all, (stride.t_initial_contact_s, stride.t_next_initial_contact_s))
        # The newest straight run its rows are in: its walking direction is fitted again once it has ended.
        run = int(history.tail("run")[i0:i1].max(initial=-1)) if self.rows.alignment.measures_femur_rotation else -1
        pending = PendingStride(stride, version, row, history.first_index + int(i1) + self._n_lag, self.runs.awaited(run))
        given.untimed.append(pending)
        given.unheaded.append(pending)
        given.note_settled(pending)
        given.give_timed(grid, k, self.runs.done)

    def new_walk(self, t_from_s: float | None) -> None:
        """A new walk: its events start afresh, none with a mid-swing at or before ``t_from_s``
        (None: the leg has no row yet); a stride given early and left is withdrawn."""
        self.events.clear()
        if self.given.early is not None:
            self.given.withdraw()  # (the end's detection settles every mid-swing: left only if it looked at none)
        if t_from_s is not None:
            self.walk_from_s = t_from_s
