"""The calibrated legs of a live run on its grid (:class:`GridLegs`): each takes the grid's new rows
(a leg whose calibration ran elsewhere catches up from the row it was decided at, a few rows per
call), ends its walks where :meth:`~imugait.live.kinematics.LiveKinematics.end_pass` said, and
gives a poll its new angles and strides."""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np

from imugait.calibration.segment import LegAlignment
from imugait.conventions import Side
from imugait.live.double_support import give_double_support
from imugait.live.history import History
from imugait.live.leg import LiveLeg
from imugait.live.leg_rows import angles_of_legs
from imugait.live.leg_settings import LegSettings
from imugait.live.leg_start import leg_on_grid
from imugait.live.updates import LegAngles, LiveStride


class GridLegs:
    """The legs on ``grid``, made with ``settings``; a leg catching up takes ``n_catch_up`` rows per call."""

    def __init__(self, grid: History, settings: LegSettings, n_catch_up: int,
                 expected: Callable[[], Collection[Side]]) -> None:
        self.grid, self.settings, self.n_catch_up = grid, settings, n_catch_up
        self._expected = expected  # the legs with sensors whose calibration has not failed
        self.legs: dict[Side, LiveLeg] = {}
        self.references: dict[Side, str] = {}
        """Per leg, what its angles are referred to (``standing`` / ``mid-stance``)."""
        self.catching_up: set[Side] = set()
        """Legs started from an earlier grid row, still behind the grid."""
        self.walk_ends: dict[Side, list[int]] = {}
        """Per leg, the grid rows its walks end at once it has taken them (``end_pass``)."""
        self.strides_before: dict[Side, int] = {}
        """Strides of legs dropped by a recalibration (the next leg numbers on)."""
        self._dropped_strides: list[LiveStride] = []  # strides of dropped legs not yet polled
        self._polled: dict[Side, int] = {}
        self._ticks_looked: list[int] = []  # the legs' ticks when double support was last looked for

    def add(self, side: Side, leg: LiveLeg, reference: str, catching_up: bool = False) -> None:
        """Go on with ``leg`` (``catching_up``: from an earlier grid row than the grid's newest)."""
        self.legs[side] = leg
        self.references[side] = reference
        if catching_up:
            self.catching_up.add(side)  # (the rows since its grid row: a few per call, take_rows)
            self.take_rows()

    def start(self, side: Side, alignment: LegAlignment, reference: str) -> LiveLeg:
        """A leg calibrated with ``alignment`` (reused) started on the grid's kept rows."""
        leg = leg_on_grid(side, alignment, self.settings, self.grid, self.strides_before.get(side, 0))
        self.add(side, leg, reference)
        return leg

    def take_rows(self, defer_tails: bool = False) -> None:
        """Every leg takes the grid's new rows — a leg that started from an earlier grid row (its
        calibration ran elsewhere) at most ``n_catch_up`` of them per feed or poll, so that no
        call takes long, unless its rows are about to leave the grid. ``defer_tails``: the legs'
        last ticks' tails are left pending (:meth:`finish_ticks`)."""
        ended_s = -np.inf
        for side, leg in self.legs.items():
            k_stop = None
            if side in self.catching_up:
                k_stop = leg.history.n_appended + self.n_catch_up
                if k_stop >= self.grid.n_appended or leg.history.n_appended < self.grid.first_index + 4 * self.n_catch_up:
                    self.catching_up.discard(side)
                    k_stop = None
            ends = self.walk_ends.get(side, [])
            while ends and (k_stop is None or ends[0] <= k_stop):
                leg.take(self.grid, ends.pop(0))  # (a walk ended by end_pass ends at its row: the rows after it are the next)
                leg.end_walk()
                if leg.history.n_appended > leg.history.first_index:
                    ended_s = max(ended_s, float(leg.history.tail("t_s")[-1]))
            if not ends:
                self.walk_ends.pop(side, None)
            leg.take(self.grid, k_stop, defer_tails)
        if self.walk_ends.keys() & self.legs.keys():
            ended_s = -np.inf  # (a walk's end that not every leg has reached)
        self._give_double_support(ended_s)

    def _give_double_support(self, ended_s: float = -np.inf) -> None:
        """Double support once the other leg's strides around a stride have settled; at a walk's
        end (``ended_s``) that every leg has reached, once the other leg has stopped long enough
        (:attr:`~imugait.live.leg.LiveLeg.strides_given_until_s`) and before a stride's rows leave
        the history (when its leg's strides there are released: :meth:`~imugait.live.leg.LiveLeg.finish_tick`),
        with the strides there are (:func:`~imugait.live.double_support.give_double_support`)."""
        legs = self.legs
        # (What decides it changes at the legs' ticks and walk ends only: looked at then, not at every take.)
        n_tick = self.settings.rows_per_tick
        ticks = [leg.history.n_appended // n_tick for leg in legs.values()]
        if ended_s == -np.inf and ticks == self._ticks_looked:
            return
        self._ticks_looked = ticks
        if not any(leg.given.unsupported for leg in legs.values()):
            return
        tick_s, max_stride_s = self.settings.tick_s, self.settings.strides.max_stride_s
        give_double_support({side: leg.given for side, leg in legs.items()}, self._expected(), ended_s,
                            lambda side: legs[side].oldest_t_s + 2 * tick_s,
                            lambda side: legs[side].strides_given_until_s - max_stride_s)

    def finish_ticks(self) -> None:
        for leg in self.legs.values():
            leg.finish_tick()

    def polled(self) -> tuple[list[LegAngles], list[LiveStride]]:
        """The angles of the rows computed since the last call (a leg catching up: none until it
        has caught up, then all of them) and the strides given since."""
        angles = []
        strides = []
        angles_of_legs([leg.rows for leg in self.legs.values()])  # (both legs' joints in one conversion)
        for side, leg in self.legs.items():
            h = leg.history
            start = max(self._polled.get(side, h.first_index), h.first_index)
            if side in self.catching_up:  # (given once it has caught up: see LiveKinematics.poll)
                strides += leg.new_strides
                leg.new_strides = []
                continue
            if h.n_appended > start:
                knee = h.since("knee_deg", start)
                angles.append(LegAngles(side, h.since("t_s", start).copy(), knee[:, 0].copy(), knee[:, 1].copy(),
                                        knee[:, 2].copy(), h.since("hip_rotation_deg", start).copy()))
            self._polled[side] = h.n_appended
            strides += leg.new_strides
            leg.new_strides = []
        strides = self._dropped_strides + strides
        self._dropped_strides = []
        return angles, strides

    def drop(self) -> None:
        """Drop every leg (a recalibration); their strides not yet polled come with the next poll."""
        self.finish_ticks()
        self._give_double_support(np.inf)  # (with the strides there are: the legs are dropped)
        for side, leg in self.legs.items():
            self.strides_before[side] = leg.n_strides
            self._dropped_strides += leg.new_strides
        self.legs = {}
        self.catching_up = set()
        self.walk_ends = {}
        self.references = {}
