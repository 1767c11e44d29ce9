"""The live pipeline: samples as they stream → angles per sample, strides as they complete.

``feed`` takes the accepted samples of one block of one sensor (what
:class:`~imugait.live.acquisition.LiveAcquisition` hands its observer); ``poll`` returns a
:class:`~imugait.live.updates.LiveUpdate` with everything new since the previous poll. The stages
are those of the offline analysis (:mod:`imugait.analysis.pipeline`), run as the data come:

1. fusion and the common grid (:mod:`imugait.live.grid`): online VQF per sensor, rows of the
   offline grid once every sensor has passed them;
2. standing: every ``check_s`` of grid time, the first still period of all sensors that has ended
   (the person started to move) is the standing reference — handed to
   :func:`~imugait.calibration.periods.standing_mask` as a ``stand`` step, as offline with a named
   step. Its mean gyroscope rates are the biases removed before fusion (as
   :func:`~imugait.analysis.legs.fuse_for_legs`); fusion starts then, over the samples kept since
   the start;
3. calibration of each leg with :func:`~imugait.analysis.legs.calibrate_fused_leg` (the one path of
   offline analysis) once ``calibration.max_motion_s`` of knee motion is final in the history —
   or an earlier calibration is reused (:class:`LiveCalibration`);
4. each leg (:class:`~imugait.live.leg.LiveLeg`): angles, events, strides, metrics, plausibility.

Everything that decides (standing, calibration, the legs' ticks) happens at fixed instants of the
grid, never at a feed or a poll, so the results do not depend on how the samples were chunked.
Memory is bounded: every buffer keeps at most ``history_s`` (see :class:`LiveConfig`).

Without a still standing period (the person starts walking at once), after ``standing_wait_s``
of walking the legs are calibrated against mid-stance instead, as offline
(:func:`~imugait.analysis.legs.calibrate_fused_leg_upright`). A walk too short for that — a 10-m
walk test — is calibrated when it ends: once the person has stopped (``end_of_pass_s``) after at
least ``calibration.min_motion_s`` of walking, on the walk buffered — or when told the walk has ended
(:meth:`LiveKinematics.end_pass`: "walk done", a take stopped; :meth:`LiveKinematics.end`: the
stream ended), on the walk buffered so far. A leg whose calibration fails is
tried again on the next ``calibration.max_motion_s`` of walking. :meth:`LiveKinematics.recalibrate`
drops the calibration and calibrates again from the next standing and walking. A calibration is
saved between runs by :mod:`imugait.live.calibration_file`. The magnetometer is not used.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from imugait.acquisition.assembler import LiveSamples
from imugait.analysis.expected_error import STANDING
from imugait.analysis.result import calibration_rating
from imugait.calibration.heading import HeadingConfig
from imugait.calibration.periods import PeriodConfig, motion_mask
from imugait.calibration.segment import LegAlignment, SegmentCalibrationConfig
from imugait.conventions import Placement, Segment, Side
from imugait.errors import ValidationError
from imugait.gait.cycles import StrideConfig
from imugait.gait.events import EventConfig
from imugait.kinematics.progression import ProgressionConfig
from imugait.live.double_support import give_double_support
from imugait.live.grid import LiveGrid, LiveSensor, grid_history
from imugait.live.leg import LiveLeg
from imugait.live.leg_rows import angles_of_legs
from imugait.live.leg_settings import LegSettings
from imugait.live.leg_start import LegJob, LegStart, grid_rows_of_leg, leg_on_grid, start_leg
from imugait.live.standing import final_rows, find_standing, pass_ended, passes_ended, walked_s
from imugait.live.updates import CalibrationPhase, LegAngles, LegCalibrationState, LiveUpdate
from imugait.model import ProtocolStep, Session

CATCH_UP_S = 0.25
"""Grid rows (s) a leg whose calibration ran elsewhere takes per feed or poll until it has caught up
with the grid (:meth:`LiveKinematics._take_rows`)."""
WALK_ENDED = "the walk ended at "
"""How the message of a leg that :meth:`LiveKinematics.end_pass` left waiting begins."""
POLLED_GRID_STEP_S = 0.25
"""``grid_step_s`` of :meth:`LiveKinematics.for_dashboard`: a feed advances the grid only once this
much is ready (a view that stops polling still keeps the buffers bounded); the polls take the rest."""


@dataclass(frozen=True)
class LiveConfig:
    """Settings of the live pipeline (the stage configurations are those of offline analysis)."""

    rate_hz: float = 200.0
    """The common grid's rate (offline: the highest nominal sensor rate)."""
    history_s: float = 60.0
    """Longest history kept (per sensor and on the grid); standing and the calibration walk must fit."""
    reference_backlog_s: float = 360.0
    """A leg keeps what this much of its final strides need (s; more than ``history_s`` to
    matter) so that a walk's end gives the strides older than the history the walk's final
    reference too: their knee metrics on a leg referred to mid-stance (the whole walk's mid-stance),
    their hip rotation on a leg that measures it (a long straight run's whole line)
    (:mod:`imugait.live.reference_backlog`: 24 bytes a row and store, stored twice). 0: none kept;
    older strides keep what their final version had."""
    tick_s: float = 0.05
    """Grid time between updates of the walking direction, events and strides."""
    check_s: float = 0.5
    """Grid time between looks for standing and for enough motion to calibrate."""
    event_every_s: float = 0.2
    """Grid time between looks for settled gait events (a multiple of ``tick_s``); a leg also looks
    at every tick once its shank's swing has ended in a dip (an early initial contact may be there)
    and when its early stride's events settle."""
    event_window_s: float = 6.0
    """Trailing window in which events are detected (a few strides)."""
    grid_step_s: float = 0.02
    """The grid advances by at least this much at a time (s): rows are interpolated in batches,
    which costs less than row by row as blocks trickle in; a row's angles may wait this long."""
    stall_s: float | None = None
    """None: the grid waits for every sensor (results then never depend on how the samples were
    chunked). A number: a sensor whose newest sample is this much older (s, session clock) than
    the newest of all no longer holds the grid back — its rows are marked lost — so a sensor that
    drops out does not freeze the live view; the results then depend on the order in which the
    sensors' blocks arrived when one lags by more than this."""
    max_bridge_s: float = 0.1
    """A sensor's lost stretch longer than this (s) is bridged in fusion as offline, but its legs'
    angles are NaN from its start until a heading window wholly after it has been estimated (the
    bridged orientation comes back far off: ``LiveLeg``). Shorter losses are bridged as offline."""
    standing_wait_s: float | None = 10.0
    """Seconds of walking (every leg's shank moving, motion mask) without a still standing period
    after which the legs are calibrated against mid-stance (as offline when there is none); None:
    they wait for standing."""
    end_of_pass_s: float | None = 0.5
    """A leg not yet calibrated that has walked at least ``calibration.min_motion_s`` and then not
    moved for this long (s of its shank's final motion mask: the person stopped — the end of a pass,
    as of a 10-m walk test) is calibrated at once on the walk buffered, against the standing found
    before it or, without one, mid-stance (fusion starts then if it has not: the walk is fused from
    its start, as ``analyze`` does); its strides follow from the rows kept. None: wait for
    ``standing_wait_s`` and ``calibration.max_motion_s`` of walking."""
    reseed_window_s: float | None = 1.0
    """After a sensor's gap longer than ``max_bridge_s`` its filter is re-seeded from this much of
    the samples after it (inclination from gravity over the window, heading carried over:
    :mod:`imugait.live.reseed`) and the leg's angles go on with the held heading offset from the
    end of the gap. None: the gap is bridged as offline and the angles are NaN until a heading
    window after it has been estimated (about 6 s)."""
    periods: PeriodConfig = field(default_factory=PeriodConfig)
    calibration: SegmentCalibrationConfig = field(default_factory=lambda: SegmentCalibrationConfig(max_motion_s=10.0))
    """``max_motion_s``: the knee motion (s) the calibration waits for and fits the axes to."""
    heading: HeadingConfig = field(default_factory=HeadingConfig)
    progression: ProgressionConfig = field(default_factory=ProgressionConfig)
    events: EventConfig = field(default_factory=EventConfig)
    strides: StrideConfig = field(default_factory=StrideConfig)

    def __post_init__(self) -> None:
        for name in ("rate_hz", "history_s", "tick_s", "check_s", "event_every_s", "event_window_s", "grid_step_s",
                     "stall_s", "max_bridge_s", "reseed_window_s", "standing_wait_s", "end_of_pass_s"):
            value = getattr(self, name)
            if value is None and name in ("stall_s", "reseed_window_s", "standing_wait_s", "end_of_pass_s"):
                continue
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ValidationError(f"live config: {name} must be a positive number, got {value!r}")
        if not (isinstance(self.reference_backlog_s, int | float) and 0 <= self.reference_backlog_s < np.inf):
            raise ValidationError(f"live config: reference_backlog_s must be 0 or a positive number (s), "
                                  f"got {self.reference_backlog_s!r}")


@dataclass(frozen=True, eq=False)
class LiveCalibration:
    """A live run's calibration, to reuse with the same sensors on the same person."""

    alignments: Mapping[Side, LegAlignment]
    gyr_bias_radps: Mapping[Placement, np.ndarray] = field(default_factory=dict)
    """(3,) rad/s per sensor, measured while standing; empty: the filter learns the biases."""
    standing_step: ProtocolStep | None = None
    """Where the standing reference was (session clock of the run that calibrated)."""
    references: Mapping[Side, str] = field(default_factory=dict)
    """Per leg, what its angles are referred to: ``standing`` or ``mid-stance`` (missing: standing)."""


class LiveKinematics:
    """The live pipeline for the sensors ``placements`` (see the module docstring).

    Parameters
    ----------
    placements : the sensors that will stream (legs need a thigh and a shank on the same side).
    config : :class:`LiveConfig`.
    calibration : an earlier :class:`LiveCalibration` of the same sensors to reuse: fusion starts
        after the first second, each leg is calibrated at once (its thigh-shank heading offset is
        re-tracked from the first window of knee motion on).
    calibrate_with : an executor (a one-thread ``ThreadPoolExecutor``, say) that runs each leg's
        live calibration — the fit and the leg's catch-up over the history, about a second of CPU
        — while ``feed`` and ``poll`` go on (a dashboard's event loop keeps serving). The leg then
        starts from the grid row at which its calibration was decided, as without it, so the
        results are the same (to the last bits of an angle: see :mod:`imugait.live.leg_start`);
        a calibration that would fall more than ``max_calibration_lag_s`` of grid time behind is
        waited for. None: each calibration runs inside the ``feed`` or ``poll`` that decides it.
    max_calibration_lag_s : see ``calibrate_with`` (at most ``calibration.max_motion_s`` and the history).
    deferred_tails : a poll leaves the tail of each leg's last tick — the strides' final versions,
        the ended runs' refits (:meth:`~imugait.live.leg.LiveLeg.finish_tick`) — for
        :meth:`finish_ticks`, which a view calls once it has pushed what the poll gave (they come
        with the next poll); any other call runs them first. Every step of every leg comes in the
        same order as without, on the same state but for the rows the poll took after the tick
        (fewer than a tick's; see :meth:`~imugait.live.leg.LiveLeg.finish_tick`): the same results
        (tests/live/test_live_deferred_tails.py); only the poll that gives a stride's final
        version can be the next one.
    """

    def __init__(self, placements: Collection[Placement], config: LiveConfig | None = None,
                 calibration: LiveCalibration | None = None, calibrate_with: Executor | None = None,
                 max_calibration_lag_s: float = 5.0, deferred_tails: bool = False) -> None:
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
        self.standing_step: ProtocolStep | None = None
        self._standing_k: tuple[int, int] | None = None  # grid rows [k0, k1) of the standing step
        self._midstance = False  # no standing: the legs calibrate against mid-stance
        self._search_from = 0  # grid row from which standing is looked for again (recalibrate)
        self._calibrate_from: dict[Side, int] = {}  # grid row from which a leg's calibration walk counts
        self._references: dict[Side, str] = {}
        self._strides_before: dict[Side, int] = {}  # strides of legs dropped by a recalibration
        self._dropped_strides: list = []  # strides of dropped legs not yet polled
        self.gyr_bias_radps: dict[Placement, np.ndarray] = {}
        self.legs: dict[Side, LiveLeg] = {}
        self._calibrate_with = calibrate_with
        self._calibrating: dict[Side, tuple[int, Future]] = {}  # the legs being calibrated elsewhere: (grid row, job)
        self._catching_up: set[Side] = set()  # legs started from an earlier grid row, still behind the grid
        self._walk_ends: dict[Side, list[int]] = {}  # per leg, the grid rows its walks end at once it has taken them (end_pass)
        self._n_catch_up = max(int(CATCH_UP_S * rate), 1)
        # (a failed leg's next attempt must not be decided before its result, nor row k leave the grid)
        lag_s = min(max_calibration_lag_s, self.config.calibration.max_motion_s, self.config.history_s)
        self._n_calibration_lag = max(int(lag_s * rate), 1)
        self._states = {s: LegCalibrationState(s, CalibrationPhase.WAITING_FOR_STANDING,
                                               message="stand upright and still for a few seconds") for s in self.sides}
        self._states_changed = True
        self._lock = threading.Lock()  # feed (acquisition thread) and poll (a view's thread)
        self._polled: dict[Side, int] = {}
        self._t_newest_s = float("nan")
        self._settings = LegSettings(rate, self.config.tick_s, self.config.event_every_s, self.config.event_window_s,
                                     self.config.periods,
                                     self.config.heading, self.config.progression, self.config.events,
                                     self.config.strides, self.config.max_bridge_s,
                                     reference_backlog_s=self.config.reference_backlog_s,
                                     reseeded=self.config.reseed_window_s is not None)
        self._n_tick = self._settings.rows_per_tick  # (the legs' ticks)
        self._ticks_looked: list[int] = []  # the legs' ticks when double support was last looked for

    @classmethod
    def for_dashboard(cls, placements: Collection[Placement], calibration: LiveCalibration | None = None,
                      config: LiveConfig | None = None) -> LiveKinematics:
        """The live pipeline as a view that polls it often uses it (``imugait live``: a poll every
        25 ms). The legs' calibrations run in one worker thread (one after the other: the second
        leg's waits for the first's), so the view's event loop keeps receiving and pushing while a
        leg calibrates; and ``grid_step_s`` is
        :data:`POLLED_GRID_STEP_S`, so the grid advances at the polls (which take every ready
        row) rather than at every sensor's block — fewer, larger batches for the same rows, and
        the same results (to the last bits of an angle, as any chunking); and a poll leaves the
        legs' ticks' tails for :meth:`finish_ticks`, which the view calls after its push
        (``deferred_tails``), so that the strides' final versions do not hold up the angles."""
        config = replace(config or LiveConfig(), grid_step_s=POLLED_GRID_STEP_S)
        worker = ThreadPoolExecutor(1, thread_name_prefix="imugait-live-calibration")
        return cls(placements, config, calibration, calibrate_with=worker, deferred_tails=True)

    # --- input -------------------------------------------------------------------------------

    def feed(self, samples: LiveSamples) -> None:
        """Take the accepted samples of one block of one sensor (time order per sensor)."""
        if samples.placement not in self._sensors:
            raise ValidationError(f"live kinematics got samples of {samples.placement.value}, which it was not set up "
                                  f"for ({', '.join(p.value for p in self.placements)})")
        with self._lock:
            self._sensors[samples.placement].add(samples)
            for sensor in self._sensors.values():
                sensor.retry()  # a re-seeding may have waited for these samples
            if samples.t_s.size:
                self._t_newest_s = max(float(samples.t_s[-1]), self._t_newest_s) if np.isfinite(self._t_newest_s) \
                    else float(samples.t_s[-1])
            self._advance()

    def observe(self, placement: Placement, message: object, samples: LiveSamples | None) -> None:
        """:meth:`feed`, in the shape of :class:`~imugait.live.acquisition.LiveAcquisition`'s
        ``observer`` (called after every decoded message; ``samples`` is None for messages without
        samples)."""
        if samples is not None:
            self.feed(samples)

    def feed_session(self, session: Session, chunk_s: float | Iterator[float] = 0.05) -> None:
        """Feed a recorded session as if it streamed: blocks of ``chunk_s`` seconds of each sensor
        (or the next value of an iterator per block), the sensors' blocks in time order. Lost
        samples (the stream's gaps) are passed as ``n_lost`` of the block after them."""
        lengths = iter(chunk_s) if isinstance(chunk_s, Iterator) else None
        cursors = {p: 0 for p in session}
        lost_after = {p: {g.after_index: g.n_lost for g in s.gaps} for p, s in session.items()}
        # A block ends at a gap: lost samples are reported before a block (as a device loses whole
        # packets), so the next block starts after the gap.
        gap_ends = {p: np.array(sorted(i + 1 for i in lost)) for p, lost in lost_after.items()}
        while True:
            pending = [p for p, i in cursors.items() if i < session[p].n_samples]
            if not pending:
                return
            p = min(pending, key=lambda q: session[q].t_s[cursors[q]])
            s, i = session[p], cursors[p]
            length = next(lengths) if lengths is not None else chunk_s
            j = max(int(np.searchsorted(s.t_s, s.t_s[i] + length)), i + 1)
            later_gaps = gap_ends[p][gap_ends[p] > i]
            j = min(j, int(later_gaps[0])) if later_gaps.size else j
            self.feed(LiveSamples(p, s.t_s[i:j], s.acc_mps2[i:j], s.gyr_radps[i:j], None, None,
                                  lost_after[p].get(i - 1, 0), s.device.gyr_sampling, s.device.gyr_range_radps))
            cursors[p] = j

    def end_pass(self) -> tuple[Side, ...]:
        """The walk has ended now — a clinician's "walk done", a take stopped — possibly before the
        person stopped (a walk that ends turning, a take stopped at the last step). Every ready row
        is taken, and a leg still waiting for its calibration is calibrated on the walk buffered if
        that is a walk (:func:`~imugait.live.standing.pass_ended` without the stillness after it;
        the motion windows cut at the newest row, as offline at a recording's end), as the end of a
        pass would once the person had stopped — against the standing found before it or, without
        one, mid-stance (fusion starts then if it has not). Legs already calibrated, being
        calibrated or reused keep their calibration.

        Then every calibrated leg's walk ends at the newest row
        (:meth:`~imugait.live.leg.LiveLeg.end_walk`, as at the stream's end, :meth:`end`): its last
        strides are given, and every stride of the walk final, as ``analyze`` of the recording cut
        here would have them. A leg whose calibration runs in ``calibrate_with`` (or that is still
        catching up with the grid) ends its walk at the same row once it has taken it, at a later
        ``feed`` or ``poll``. The stream goes on: the rows that come are a new walk (the person can
        walk again; no stride spans the end). Unlike every other decision this one is made at the
        newest row, not at a fixed instant of the grid, so what follows depends on when it was
        called.

        Returns the legs whose calibration was decided now; a leg left waiting says why in its
        calibration state (poll)."""
        with self._lock:
            return self._end_pass()

    def end(self) -> tuple[Side, ...]:
        """The stream has ended — the sensors switched off, the run's duration reached, a replay
        played out: :meth:`end_pass`, and every calibration job is waited for and every leg has
        taken every row and ended its walk there. Poll afterwards. Returns :meth:`end_pass`'s legs."""
        with self._lock:
            started = self._end_pass()
            self._collect(self.grid.n_appended + self._n_calibration_lag + 1)  # (waits for every job)
            while self._catching_up or self._walk_ends.keys() & self.legs.keys():
                self._take_rows()
            return started

    def _end_pass(self) -> tuple[Side, ...]:
        self._advance(flush=True)
        if not self._grid.start(self._sensors):
            return ()
        before = set(self.legs) | set(self._calibrating)
        fusing = next(iter(self._sensors.values())).fusing
        if not fusing and self._try_start_fusion(self._grid.n_ready(self._sensors), ended=True):
            fusing = True
            self._advance(flush=True)  # (the rows until then, decided as they would have been)
        if fusing:
            self._calibrate_legs(self.grid.n_appended, ended=True)
        now = set(self.legs) | set(self._calibrating)
        for side in self.sides:
            if side not in now and self._states[side].phase is not CalibrationPhase.FAILED:
                state = self._states[side]
                told = state.message.split("; ", 1)[-1] if state.message.startswith(WALK_ENDED) else state.message
                self._set(side, state.phase, f"{WALK_ENDED}{self._t_newest_s:.1f} s without "
                                             f"{self.config.calibration.min_motion_s:g} s of walking to calibrate "
                                             f"on; {told}")
        for side in now:
            self._walk_ends.setdefault(side, []).append(self.grid.n_appended)
        self._take_rows()  # (the legs that have taken every row end their walk now)
        return tuple(s for s in self.sides if s in now - before)

    # --- output ------------------------------------------------------------------------------

    def poll(self) -> LiveUpdate:
        """Everything new since the previous poll (angles of rows computed since, strides
        completed since, the calibration states when they changed). Safe to call from another
        thread than ``feed``.

        A leg whose calibration ran elsewhere (``calibrate_with``) takes the rows since its job's
        grid row a few at a time (``CATCH_UP_S`` per feed or poll); its angles are given once it
        has caught up with the grid — all of them, the newest as new as the other leg's. (Given as
        it went, the first polls after the fit had the leg's newest angle up to the fit's
        duration old: a view measuring the latency of the newest angle saw a single late one,
        docs/live.md "Single late angles".)"""
        with self._lock:
            return self._poll()

    def finish_ticks(self) -> None:
        """Run the legs' ticks' tails a poll left pending (``deferred_tails``): the strides' final
        versions they give come with the next poll. A view calls it once it has pushed the poll's
        update; if it does not, the next call of the pipeline runs them first."""
        with self._lock:
            self._finish_ticks()

    def _poll(self) -> LiveUpdate:
        self._advance(flush=True, defer_tails=self._deferred_tails)
        angles = []
        strides = []
        angles_of_legs([leg.rows for leg in self.legs.values()])  # (both legs' joints in one conversion)
        for side, leg in self.legs.items():
            h = leg.history
            start = max(self._polled.get(side, h.first_index), h.first_index)
            if side in self._catching_up:  # (given once it has caught up: see poll)
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
        calibration = tuple(self._states.values()) if self._states_changed else ()
        self._states_changed = False
        return LiveUpdate(t_s=self._t_newest_s, angles=tuple(angles), strides=tuple(strides), calibration=calibration,
                          n_strides={side: leg.n_strides for side, leg in self.legs.items()})

    def calibration_states(self) -> tuple[LegCalibrationState, ...]:
        """Every leg's calibration state now (``poll`` gives them only when they change)."""
        return tuple(self._states.values())

    @property
    def calibration(self) -> LiveCalibration | None:
        """This run's calibration (to reuse later), once every leg is calibrated."""
        if not self.legs or len(self.legs) < len(self.sides):
            return None
        return LiveCalibration({s: leg.alignment for s, leg in self.legs.items()}, dict(self.gyr_bias_radps),
                               self.standing_step, {s: self._references.get(s, STANDING) for s in self.legs})

    def recalibrate(self) -> None:
        """Drop the calibration (this run's, or an earlier one reused) and calibrate again from the
        next standing and walking (or against mid-stance after ``standing_wait_s`` of walking
        without standing). The sensors' filters go on; the legs' angles stop until then; the
        strides go on being numbered where they were."""
        with self._lock:
            self._finish_ticks()
            self._give_double_support(np.inf)  # (with the strides there are: the legs are dropped)
            for side, leg in self.legs.items():
                self._strides_before[side] = leg.n_strides
                self._dropped_strides += leg.new_strides
            self.legs = {}
            self._calibrating = {}  # (what they return is dropped)
            self._catching_up = set()
            self._walk_ends = {}
            self._reused = None
            self.standing_step, self._standing_k, self._midstance = None, None, False
            self._references = {}
            self._search_from = self.grid.n_appended
            self._calibrate_from = dict.fromkeys(self.sides, self.grid.n_appended)
            self._set_all(CalibrationPhase.WAITING_FOR_STANDING, "recalibrating: stand upright and still for a few "
                                                                 "seconds, then walk")

    # --- the flow ----------------------------------------------------------------------------

    def _advance(self, flush: bool = False, defer_tails: bool = False) -> None:
        """Take in what the sensors sent: grid rows, and everything due at their grid instants;
        ``flush``: every ready row, even fewer than ``grid_step_s``; ``defer_tails``: the legs'
        last ticks' tails are left pending (:meth:`finish_ticks`)."""
        self._finish_ticks()
        self._collect(self.grid.n_appended)
        if self._catching_up:
            self._take_rows(defer_tails)
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
            if not defer_tails or k1 - k0 >= self._n_tick:
                self._finish_ticks()  # (a tail left pending sees at most a tick's rows more: LiveLeg.finish_tick)
            self._collect(k1)
            self.grid.append(self._grid.rows(self._sensors, k0, k1))
            self._take_rows(defer_tails)
            if k1 % self._n_check == 0:
                self._calibrate_legs(k1)

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
        bias = self._find_standing(rows, k0)
        if bias is not None:
            self._start_fusion(bias, k)
            return True
        if self._walked_without_standing(rows) or self._passes_ended(rows, ended):
            self._midstance = True
            self._start_fusion({}, k)  # as offline without standing: the filters learn the biases
            return True
        if k - k0 > 0.9 * self.grid.capacity:
            self._set_all(CalibrationPhase.WAITING_FOR_STANDING, "no still standing found yet: stand upright and still "
                                                                 "for a few seconds")
        return False

    def _find_standing(self, rows: Mapping[str, np.ndarray], k0: int) -> dict[Placement, np.ndarray] | None:
        """Keep the standing reference found in ``rows`` (from grid row ``k0``); its gyroscope
        biases, or None when there is none yet."""
        found = find_standing(rows, k0, self.placements, self._grid.rate_hz, self.config.periods)
        if found is None:
            return None
        self.standing_step, self._standing_k, self._standing_mask = found.step, found.k, found.mask
        return found.gyr_bias_radps

    def _walked_without_standing(self, rows: Mapping[str, np.ndarray]) -> bool:
        wait = self.config.standing_wait_s
        return wait is not None and walked_s(rows, self.sides, self._grid.rate_hz, self.config.periods) >= wait

    def _passes_ended(self, rows: Mapping[str, np.ndarray], ended: bool = False) -> bool:
        """Whether every leg has walked and stopped in ``rows`` (``end_of_pass_s``) — or, the stream
        having ``ended``, walked."""
        still = self.config.end_of_pass_s
        return still is not None and passes_ended(rows, self.sides, self._grid.rate_hz, self.config.periods,
                                                  self.config.calibration.min_motion_s, still, ended)

    def _search_again(self, k: int, ended: bool = False) -> bool:
        """After :meth:`recalibrate`, at grid row ``k``: whether the standing reference (or, after
        ``standing_wait_s`` of walking without it or a walk that has ended, mid-stance) has been
        found in the rows since (``ended``: the walk ended at row ``k``, :meth:`end_pass`)."""
        k0 = max(self._search_from, self.grid.first_index)
        if k - k0 < 2:
            return False
        names = ["t_s", *(f"{p.value}/{c}" for p in self.placements for c in ("acc_mps2", "gyr_radps"))]
        rows = {name: self.grid.since(name, k0)[:k - k0] for name in names}
        if self._find_standing(rows, k0) is None:  # (the filters go on with the biases they have)
            if not (self._walked_without_standing(rows) or self._passes_ended(rows, ended)):
                return False
            self._midstance = True
        self._waiting_for_walking()
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
                    self._start_leg(side, self._reused.alignments[side], CalibrationPhase.REUSED,
                                    self._reused.references.get(side, STANDING))
        else:
            self._waiting_for_walking()

    def _waiting_for_walking(self) -> None:
        walk_s = self.config.calibration.max_motion_s
        # A shorter walk (a 10-m walk test) calibrates when the person stops (end_of_pass_s).
        shorter = "" if self.config.end_of_pass_s is None else \
            f" (a shorter walk of at least {self.config.calibration.min_motion_s:g} s, once you stop)"
        if self._midstance:
            self._set_all(CalibrationPhase.WAITING_FOR_WALKING,
                          f"no still standing found: the knees are calibrated against mid-stance of {walk_s:g} s of "
                          f"walking{shorter} (stand upright and still for a few seconds before walking next time)")
        else:
            self._set_all(CalibrationPhase.WAITING_FOR_WALKING,
                          f"walk: {walk_s:g} s of walking calibrate the knees{shorter}")

    def _calibrate_legs(self, k: int, ended: bool = False) -> None:
        """At grid row ``k``: calibrate each leg whose calibration walk is complete and final — a
        leg whose calibration failed with the next one (after a recalibration: once the standing
        reference has been found again)."""
        if self._reused is not None or (self._standing_k is None and not self._midstance and not self._search_again(k, ended)):
            return
        waiting = [s for s in self.sides if s not in self.legs and s not in self._calibrating]
        if not waiting or (self._standing_k is not None and self._standing_k[1] > k):
            return
        k0 = self.grid.first_index
        t = self.grid.tail("t_s")
        dt = 1.0 / self._grid.rate_hz
        walk_s = self.config.calibration.max_motion_s
        # Final motion and heading windows reach this far back from the newest row.
        n_settle = int(np.ceil((self.config.heading.centre_window_s + self.config.periods.motion_window_s) / dt))
        n_final = t.size if ended else max(final_rows(t.size, self._grid.rate_hz, self.config.periods), 0)
        still = self.config.end_of_pass_s if not ended or self.config.end_of_pass_s is None else 0.0
        standing = None  # mid-stance: no standing, or it has left the history
        if self._standing_k is not None and self._standing_k[0] >= k0:
            standing = np.zeros(t.size, dtype=bool)
            standing[self._standing_k[0] - k0:self._standing_k[1] - k0] = self._standing_mask
        for side in waiting:
            shank = Placement.of(Segment.SHANK, side)
            gyr_shank = self.grid.tail(f"{shank.value}/gyr_radps")
            moving = motion_mask(t, gyr_shank, self.config.periods, self._grid.rate_hz)
            moving[:max(self._calibrate_from.get(side, 0) - k0, 0)] = False
            # Enough walking final, or a short walk that has ended (the person stopped).
            if moving[:max(t.size - n_settle, 0)].sum() * dt < walk_s and not (
                    still is not None and pass_ended(t, gyr_shank, moving[:n_final], self._grid.rate_hz,
                                                     self.config.calibration.min_motion_s, still)):
                continue
            background = self._calibrate_with is not None
            job = LegJob(side, k, grid_rows_of_leg(self.grid, side) if background else self.grid, standing, moving,
                         self.config.calibration, self.config.events, self.config.heading, self._settings,
                         self._strides_before.get(side, 0), backlog_angles=background,
                         gyr_sampling={p: self._sensors[p].gyr_sampling for p in (Placement.of(Segment.THIGH, side),
                                                                                  Placement.of(Segment.SHANK, side))})
            if background:
                self._calibrating[side] = (k, self._calibrate_with.submit(start_leg, job))
            else:
                self._begin_leg(start_leg(job))

    def _collect(self, k_next: int) -> None:
        """Start the legs whose calibration, run by ``calibrate_with``, has returned (in the order
        they were decided) — waiting for one that would otherwise fall more than
        ``max_calibration_lag_s`` behind: before the grid holds row ``k_next``."""
        while self._calibrating:
            side, (k, future) = next(iter(self._calibrating.items()))
            if not future.done() and k_next - k <= self._n_calibration_lag:
                return
            del self._calibrating[side]
            self._begin_leg(future.result())

    def _begin_leg(self, start: LegStart) -> None:
        """Go on with a leg's calibration job: its leg takes the rows since the job's grid row."""
        walk_s = self.config.calibration.max_motion_s
        if start.leg is None:
            self._calibrate_from[start.side] = start.k  # tried again on the walking after this
            self._walk_ends.pop(start.side, None)
            self._set(start.side, CalibrationPhase.FAILED,
                      f"{start.error} (trying again with the next {walk_s:g} s of walking)")
            return
        self._add_leg(start.side, start.leg, CalibrationPhase.CALIBRATED, start.reference)
        self._catching_up.add(start.side)  # (the rows since its grid row: a few per call, _take_rows)
        self._take_rows()

    def _take_rows(self, defer_tails: bool = False) -> None:
        """Every leg takes the grid's new rows — a leg that started from an earlier grid row (its
        calibration ran elsewhere) at most ``CATCH_UP_S`` of them per feed or poll, so that no
        call takes long, unless its rows are about to leave the grid. ``defer_tails``: see
        :meth:`_advance`."""
        ended_s = -np.inf
        for side, leg in self.legs.items():
            k_stop = None
            if side in self._catching_up:
                k_stop = leg.history.n_appended + self._n_catch_up
                if k_stop >= self.grid.n_appended or leg.history.n_appended < self.grid.first_index + 4 * self._n_catch_up:
                    self._catching_up.discard(side)
                    k_stop = None
            ends = self._walk_ends.get(side, [])
            while ends and (k_stop is None or ends[0] <= k_stop):
                leg.take(self.grid, ends.pop(0))  # (a walk ended by end_pass ends at its row: the rows after it are the next)
                leg.end_walk()
                if leg.history.n_appended > leg.history.first_index:
                    ended_s = max(ended_s, float(leg.history.tail("t_s")[-1]))
            if not ends:
                self._walk_ends.pop(side, None)
            leg.take(self.grid, k_stop, defer_tails)
        if self._walk_ends.keys() & self.legs.keys():
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
        ticks = [leg.history.n_appended // self._n_tick for leg in legs.values()]
        if ended_s == -np.inf and ticks == self._ticks_looked:
            return
        self._ticks_looked = ticks
        if not any(leg.given.unsupported for leg in legs.values()):
            return
        expected = [side for side in self.sides if self._states[side].phase is not CalibrationPhase.FAILED]
        give_double_support({side: leg.given for side, leg in legs.items()}, expected, ended_s,
                            lambda side: legs[side].oldest_t_s + 2 * self.config.tick_s,
                            lambda side: legs[side].strides_given_until_s - self.config.strides.max_stride_s)

    def _finish_ticks(self) -> None:
        for leg in self.legs.values():
            leg.finish_tick()

    def _start_leg(self, side: Side, alignment: LegAlignment, phase: CalibrationPhase, reference: str) -> None:
        leg = leg_on_grid(side, alignment, self._settings, self.grid, self._strides_before.get(side, 0))
        self._add_leg(side, leg, phase, reference)

    def _add_leg(self, side: Side, leg: LiveLeg, phase: CalibrationPhase, reference: str) -> None:
        self.legs[side] = leg
        self._references[side] = reference
        self._set(side, phase, "", calibration_rating(leg.alignment), reference)

    def _set(self, side: Side, phase: CalibrationPhase, message: str, quality: str | None = None,
             reference: str | None = None) -> None:
        self._states[side] = LegCalibrationState(side, phase, quality, message, reference)
        self._states_changed = True

    def _set_all(self, phase: CalibrationPhase, message: str) -> None:
        for side in self.sides:
            if side not in self.legs and (self._states[side].phase, self._states[side].message) != (phase, message):
                self._set(side, phase, message)


def session_with_standing(session: Session, step: ProtocolStep) -> Session:
    """``session`` whose only protocol step is the standing the live pipeline found: analysed
    offline, it is calibrated against the same standing as live (for comparisons)."""
    return Session(session.streams, replace(session.meta, steps=(step,)))
