"""The live pipeline's flow (:class:`LiveFlow`, which :class:`~imugait.live.kinematics.LiveKinematics`
runs behind its lock): the sensors' samples into grid rows, and everything due at the grid's fixed
instants — the reference looked for (:mod:`imugait.live.reference_search`), fusion started, each
leg's calibration decided (run here or by ``calibrate_with``: :mod:`imugait.live.calibration_jobs`)
and the calibrated legs handed the rows (:mod:`imugait.live.grid_legs`) — and what a poll gives."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from concurrent.futures import Executor

import numpy as np

from imugait.acquisition.assembler import LiveSamples
from imugait.analysis.expected_error import STANDING
from imugait.analysis.result import calibration_method, calibration_rating
from imugait.calibration.periods import motion_mask
from imugait.conventions import Placement, Segment, Side
from imugait.errors import ValidationError
from imugait.live.calibration_jobs import CalibrationJobs
from imugait.live.calibration_states import CalibrationStates
from imugait.live.config import LiveCalibration, LiveConfig
from imugait.live.grid import LiveGrid, LiveSensor, grid_history
from imugait.live.grid_legs import GridLegs
from imugait.live.leg import RELEASE_TICKS, LiveLeg
from imugait.live.leg_settings import LegSettings
from imugait.live.leg_start import LegJob, LegStart, grid_rows_of_leg, start_leg
from imugait.live.reference_search import ReferenceSearch
from imugait.live.standing import final_rows, pass_ended, walked_s
from imugait.live.updates import CalibrationPhase, LiveUpdate
from imugait.model import ProtocolStep

CATCH_UP_S = 0.25
"""Grid rows (s) a leg whose calibration ran elsewhere takes per feed or poll until it has caught up
with the grid (:meth:`~imugait.live.grid_legs.GridLegs.take_rows`)."""
MAX_LAG_SHARE = 0.5
"""A leg's calibration run elsewhere is waited for once it is this share of ``history_s`` behind
(30 s at 60 s): the leg, started at the grid row its calibration was decided at, then catches up
with the grid, and every row it reads back from the row it takes (event and heading windows, the
strides awaiting their final version) must still be on the grid — a leg that far behind the grid
reads rows the grid no longer holds (found with a 20-s history and 19 s behind: a heading window
missed, the leg's final rows overran its own history)."""


class LiveFlow:
    """The state and the flow of the live pipeline; its parameters are
    :class:`~imugait.live.kinematics.LiveKinematics`'s, which adds the calls (and their lock)."""

    def __init__(self, placements: Collection[Placement], config: LiveConfig | None = None,
                 calibration: LiveCalibration | None = None, calibrate_with: Executor | None = None,
                 max_calibration_lag_s: float | None = None, deferred_tails: bool = False) -> None:
        self.config = config or LiveConfig()
        self._deferred_tails = deferred_tails
        self.placements = tuple(placements)
        self.sides = [s for s in Side if {Placement.of(Segment.THIGH, s), Placement.of(Segment.SHANK, s)} <= set(self.placements)]
        if not self.sides:
            have = ", ".join(p.value for p in self.placements) or "none"
            raise ValidationError(f"live kinematics needs a thigh and a shank sensor on at least one leg; got: {have}")
        rate = self.config.rate_hz
        capacity = int(np.ceil(self.config.history_s * rate))
        reseed = self.config.reseed_window_s
        self._sensors = {p: LiveSensor(p, int(capacity * 1.25) + 64, reseed_after_s=None if reseed is None
                                       else self.config.max_bridge_s, reseed_window_s=reseed or 1.0)
                         for p in self.placements}
        for side in self.sides:
            thigh, shank = (self._sensors[Placement.of(seg, side)] for seg in (Segment.THIGH, Segment.SHANK))
            thigh.partner, shank.partner = shank, thigh
        self._grid = LiveGrid(self.placements, rate, self.config.stall_s)
        self.grid = grid_history(self.placements, capacity)
        self._n_check = max(int(round(self.config.check_s * rate)), 1)
        self._n_grid_step = max(int(round(self.config.grid_step_s * rate)), 1)
        self._next_check = self._n_check
        self._reused = calibration
        self._search = ReferenceSearch(self.placements, self.sides, rate, self.config)
        self._calibrate_from: dict[Side, int] = {}  # grid row from which a leg's calibration walk counts
        self.gyr_bias_radps: dict[Placement, np.ndarray] = {}
        # (a failed leg's next attempt is decided while its job runs, _calibrate_legs; the leg catching
        # up reads the grid back from its newest row, MAX_LAG_SHARE)
        lag_s = self.config.history_s * MAX_LAG_SHARE
        self._jobs = CalibrationJobs(calibrate_with, self.sides, max(int(min(lag_s, max_calibration_lag_s or lag_s) * rate), 1))
        self._states = CalibrationStates(self.sides, self.config)
        self._lock = threading.Lock()  # feed (acquisition thread) and poll (a view's thread)
        self._t_newest_s = float("nan")
        self._settings = LegSettings(rate, self.config.tick_s, self.config.event_every_s, self.config.event_window_s,
                                     self.config.periods,
                                     self.config.heading, self.config.progression, self.config.events,
                                     self.config.strides, self.config.max_bridge_s,
                                     reference_backlog_s=self.config.reference_backlog_s,
                                     reseeded=self.config.reseed_window_s is not None)
        self._n_tick = self._settings.rows_per_tick  # (the legs' ticks)
        self._legs = GridLegs(self.grid, self._settings, max(int(CATCH_UP_S * rate), 1), lambda: [
            side for side in self.sides if self._states.states[side].phase is not CalibrationPhase.FAILED])

    def _poll(self) -> LiveUpdate:
        self._advance(flush=True, defer_tails=self._deferred_tails)
        angles, strides = self._legs.polled()
        return LiveUpdate(t_s=self._t_newest_s, angles=tuple(angles), strides=tuple(strides),
                          calibration=self._states.polled(),
                          n_strides={side: leg.n_strides for side, leg in self.legs.items()})

    @property
    def legs(self) -> dict[Side, LiveLeg]:
        """The calibrated legs."""
        return self._legs.legs

    @property
    def standing_step(self) -> ProtocolStep | None:
        """Where the standing reference was found (session clock), None: not (yet), or mid-stance."""
        return self._search.standing_step

    def _take(self, samples: LiveSamples) -> None:
        """Take the samples of one block (:meth:`~imugait.live.kinematics.LiveKinematics.feed`)."""
        self._sensors[samples.placement].add(samples)
        for sensor in self._sensors.values():
            sensor.retry()  # a re-seeding may have waited for these samples
        if samples.t_s.size:
            self._t_newest_s = max(float(samples.t_s[-1]), self._t_newest_s) if np.isfinite(self._t_newest_s) \
                else float(samples.t_s[-1])
        self._advance()

    def _end_pass(self) -> tuple[Side, ...]:
        self._advance(flush=True)
        if not self._grid.start(self._sensors):
            return ()
        before = set(self.legs) | set(self._jobs.running)
        retries_before = {side: len(jobs) for side, jobs in self._jobs.retries.items()}
        fusing = next(iter(self._sensors.values())).fusing
        if not fusing and self._try_start_fusion(self._grid.n_ready(self._sensors), ended=True):
            fusing = True
            self._advance(flush=True)  # (the rows until then, decided as they would have been)
        if fusing:
            self._calibrate_legs(self.grid.n_appended, ended=True)
        now = set(self.legs) | set(self._jobs.running)
        for side in self.sides:
            if side not in now and self._states.states[side].phase is not CalibrationPhase.FAILED:
                self._states.walk_ended(side, self._t_newest_s, self._not_a_walk(side, fusing))
        for side in now:
            self._legs.walk_ends.setdefault(side, []).append(self.grid.n_appended)
        self._legs.take_rows()  # (the legs that have taken every row end their walk now)
        retried = {side for side, jobs in self._jobs.retries.items() if len(jobs) > retries_before.get(side, 0)}
        return tuple(s for s in self.sides if s in (now - before) | retried)

    def _not_a_walk(self, side: Side, fusing: bool) -> str:
        """Why the walk that ended leaves ``side`` waiting: too little knee motion, or motion without
        a stride rhythm (:func:`~imugait.live.standing.pass_ended`: sitting down, fidgeting)."""
        walk_s = self.config.calibration.min_motion_s
        if fusing:
            k0 = max(self._calibrate_from.get(side, 0), self.grid.first_index)
            rows = {name: self.grid.since(name, k0) for name in ("t_s", f"{Placement.of(Segment.SHANK, side).value}/gyr_radps")}
        else:
            rows = self._grid.rows(self._sensors, self._covered_from(), self._grid.n_ready(self._sensors),
                                   with_orientation=False)
        moved_s = walked_s(rows, (side,), self._grid.rate_hz, self.config.periods, ended=True) if rows["t_s"].size > 1 else 0.0
        if moved_s < walk_s:
            return f"without {walk_s:g} s of walking to calibrate on"
        return (f"after {moved_s:.1f} s of knee motion with no stride repeating in it (sitting down, moving about: "
                f"not a walk to calibrate on)")

    def _end(self) -> tuple[Side, ...]:
        started = self._end_pass()
        self._collect(None)  # (waits for every job)
        while self._legs.catching_up or self._legs.walk_ends.keys() & self.legs.keys():
            self._legs.take_rows()
        return started

    def _recalibrate(self) -> None:
        self._legs.drop()
        self._jobs.clear()
        self._reused = None
        self._search.restart(self.grid.n_appended)
        self._calibrate_from = dict.fromkeys(self.sides, self.grid.n_appended)
        self._states.set_all(CalibrationPhase.WAITING_FOR_STANDING, "recalibrating: stand upright and still for a "
                                                                    "few seconds, then walk", self.legs)

    def _advance(self, flush: bool = False, defer_tails: bool = False) -> None:
        """Take in what the sensors sent: grid rows, and everything due at their grid instants;
        ``flush``: every ready row, even fewer than ``grid_step_s``; ``defer_tails``: the legs'
        last ticks' tails are left pending (:meth:`~imugait.live.kinematics.LiveKinematics.finish_ticks`)."""
        self._legs.finish_ticks()
        self._collect(self.grid.n_appended)
        if self._legs.catching_up:
            self._legs.take_rows(defer_tails)
        if not self._grid.start(self._sensors):
            return
        n_ready = self._grid.n_ready(self._sensors)
        fusing = next(iter(self._sensors.values())).fusing
        while not fusing and self._next_check <= n_ready:
            k = self._next_check
            self._next_check += self._n_check
            fusing = self._try_start_fusion(k)
        if not fusing or n_ready - self.grid.n_appended < (1 if flush else self._n_grid_step):
            return
        while self.grid.n_appended < n_ready:
            k0 = self.grid.n_appended
            k1 = min(n_ready, k0 + self.grid.capacity, (k0 // self._n_check + 1) * self._n_check)
            pieces = self._pieces(k0, k1)
            rows = None
            for a, b in pieces:
                if not defer_tails or b - a >= self._n_tick:
                    self._legs.finish_ticks()  # (a tail left pending sees at most a tick's rows more: LiveLeg.finish_tick)
                if rows is None:  # (the batch's rows interpolated at once: one call)
                    self._collect(k1)
                    rows = self._grid.rows(self._sensors, k0, k1)
                self.grid.append(rows if len(pieces) == 1 else {name: values[a - k0:b - k0] for name, values in rows.items()})
                self._legs.take_rows(defer_tails)
            if k1 % self._n_check == 0:
                self._calibrate_legs(k1)

    def _pieces(self, k0: int, k1: int) -> list[tuple[int, int]]:
        """The grid rows ``k0 .. k1 - 1`` (interpolated at once) in the pieces the legs take them in:
        all at once, or — more than ``RELEASE_TICKS - 1`` ticks of rows (a link's backlog of
        seconds, a view that stopped polling) — up to each tick boundary. Appended at once, such a
        batch would move the grid's oldest row past the rows of the strides a leg releases at its
        first tick in it (:data:`~imugait.live.leg.RELEASE_TICKS`); a tick at a time, the grid is
        less than a tick past a leg's tick when its tail runs."""
        n = self._n_tick
        if k1 - k0 <= (RELEASE_TICKS - 1) * n:
            return [(k0, k1)]
        edges = [k0, *range((k0 // n + 1) * n, k1, n), k1]
        return list(zip(edges[:-1], edges[1:], strict=True))

    def _covered_from(self) -> int:
        """First grid row that every sensor's kept samples still cover."""
        t_first = max(s.first_t_s for s in self._sensors.values())
        return max(int(np.ceil((t_first - self._grid.t0_s) * self._grid.rate_hz - 1e-9)), 0)

    def _try_start_fusion(self, k: int, ended: bool = False) -> bool:
        """At grid row ``k``: start fusion when standing was found (or a calibration is reused, or
        the person walked ``standing_wait_s`` without standing)."""
        if self._reused is not None:
            if k * 1.0 / self._grid.rate_hz < 1.0:
                return False
            self._start_fusion(dict(self._reused.gyr_bias_radps), k)
            return True
        k0 = self._covered_from()
        if k - k0 < 2:
            return False
        rows = self._grid.rows(self._sensors, k0, k, with_orientation=False)
        bias = self._search.reference_in(rows, k0, ended)  # (mid-stance: none, the filters learn them, as offline)
        if bias is not None:
            self._start_fusion(bias, k)
            return True
        if k - k0 > 0.9 * self.grid.capacity:
            self._states.set_all(CalibrationPhase.WAITING_FOR_STANDING, "no still standing found yet: stand upright and "
                                                                        "still for a few seconds", self.legs)
        return False

    def _search_again(self, k: int, ended: bool = False) -> bool:
        """After :meth:`~imugait.live.kinematics.LiveKinematics.recalibrate`, at grid row ``k``: whether the reference has been found again
        (``ended``: the walk ended at row ``k``, :meth:`~imugait.live.kinematics.LiveKinematics.end_pass`); the legs then wait for walking."""
        if not self._search.search_again(self.grid, k, ended):
            return False
        self._states.waiting_for_walking(self._search.midstance, self.legs)
        return True

    def _start_fusion(self, bias: Mapping[Placement, np.ndarray], k: int) -> None:
        """Start every sensor's filter (at grid row ``k``: the rate from the samples until then)."""
        self.gyr_bias_radps = dict(bias)
        t_k = float(self._grid.t_s(k, k + 1)[0])
        for p, sensor in self._sensors.items():
            sensor.start_fusion(bias.get(p), t_k)
        self.grid.skip_to(self._covered_from())
        if self._reused is not None:
            for side in self.sides:
                if side in self._reused.alignments:
                    reference = self._reused.references.get(side, STANDING)
                    leg = self._legs.start(side, self._reused.alignments[side], reference)
                    self._states.set(side, CalibrationPhase.REUSED, "", calibration_rating(leg.alignment), reference,
                                     calibration_method(leg.alignment, reference, self._grid.rate_hz))
        else:
            self._states.waiting_for_walking(self._search.midstance, self.legs)

    def _calibrate_legs(self, k: int, ended: bool = False) -> None:
        """At grid row ``k``: calibrate each leg whose calibration walk is complete and final — a
        leg whose calibration failed with the next one (after a recalibration: once the standing
        reference has been found again). A leg being calibrated elsewhere is looked at as if its
        calibration failed: the job it would then get here is kept, and run if it fails, so the
        outcome never waits for it (:class:`CalibrationJobs`)."""
        search = self._search
        if self._reused is not None or (search.standing_k is None and not search.midstance and not self._search_again(k, ended)):
            return
        waiting = [s for s in self.sides if s not in self.legs]  # (with the legs being calibrated: see below)
        if not waiting or (search.standing_k is not None and search.standing_k[1] > k):
            return
        k0 = self.grid.first_index
        t = self.grid.tail("t_s")
        dt = 1.0 / self._grid.rate_hz
        walk_s = self.config.calibration.max_motion_s
        # Final motion and heading windows reach this far back from the newest row.
        n_settle = int(np.ceil((self.config.heading.centre_window_s + self.config.periods.motion_window_s) / dt))
        n_final = t.size if ended else max(final_rows(t.size, self._grid.rate_hz, self.config.periods), 0)
        still = self.config.end_of_pass_s if not ended or self.config.end_of_pass_s is None else 0.0
        standing = search.standing_on(k0, t.size)
        for side in waiting:
            shank = Placement.of(Segment.SHANK, side)
            gyr_shank = self.grid.tail(f"{shank.value}/gyr_radps")
            moving = motion_mask(t, gyr_shank, self.config.periods, self._grid.rate_hz)
            moving[:max(self._jobs.counts_from(side, self._calibrate_from.get(side, 0)) - k0, 0)] = False
            # Enough walking final, or a short walk that has ended (the person stopped).
            if moving[:max(t.size - n_settle, 0)].sum() * dt < walk_s and not (
                    still is not None and pass_ended(t, gyr_shank, moving[:n_final], self._grid.rate_hz,
                                                     self.config.calibration.min_motion_s, still)):
                continue
            background = self._jobs.executor is not None
            job = LegJob(side, k, grid_rows_of_leg(self.grid, side) if background else self.grid, standing, moving,
                         self.config.calibration, self.config.events, self.config.heading, self._settings,
                         self._legs.strides_before.get(side, 0), backlog_angles=background,
                         gyr_sampling={p: self._sensors[p].gyr_sampling for p in (Placement.of(Segment.THIGH, side),
                                                                                  Placement.of(Segment.SHANK, side))})
            if background:
                self._jobs.decide(job)
            else:
                self._begin_leg(start_leg(job))

    def _collect(self, k_next: int | None) -> None:
        """Start the legs whose calibration, run by ``calibrate_with``, has returned (in the order
        they were decided) — waiting for one that would otherwise fall too far behind before the
        grid holds row ``k_next`` (None: for every one; :class:`CalibrationJobs`). A failed leg's
        retry is run then: the walks ended since its grid row are its."""
        for start, retry_k in self._jobs.returned(k_next):
            ends = [row for row in self._legs.walk_ends.get(start.side, []) if retry_k is not None and row >= retry_k]
            self._begin_leg(start)
            if ends:
                self._legs.walk_ends[start.side] = ends

    def _begin_leg(self, start: LegStart) -> None:
        """Go on with a leg's calibration job: its leg takes the rows since the job's grid row."""
        walk_s = self.config.calibration.max_motion_s
        if start.leg is None:
            self._calibrate_from[start.side] = start.k  # tried again on the walking after this
            self._legs.walk_ends.pop(start.side, None)
            self._states.set(start.side, CalibrationPhase.FAILED,
                             f"{start.error} (trying again with the next {walk_s:g} s of walking)")
            return
        self._states.set(start.side, CalibrationPhase.CALIBRATED, "", calibration_rating(start.leg.alignment),
                         start.reference, calibration_method(start.leg.alignment, start.reference, self._grid.rate_hz))
        self._legs.add(start.side, start.leg, start.reference, catching_up=True)
