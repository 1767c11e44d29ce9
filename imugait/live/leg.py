"""One calibrated leg while the sensors stream: angles per sample, events and strides as they complete.

The offline analysis of a leg (:func:`imugait.analysis.pipeline.analyze_session`) with its stages'
causal variants, over the leg's bounded history:

* angles of every grid row as soon as it is ready, with the stage functions of offline
  (:func:`~imugait.kinematics.angles.segment_orientations`, :func:`~imugait.kinematics.angles.legs_angles`),
  the thigh-shank heading offset and the walking direction held at their latest estimates;
* every ``tick_s`` of grid time (so that the results do not depend on how the samples were
  chunked): the motion mask of the rows its centred window no longer reaches, the walking
  direction (:class:`~imugait.kinematics.progression.CausalProgression`), the heading-offset window
  that has just completed (the offline track's windows and more between them, every
  ``HeadingConfig.live_step_s``, estimated by :func:`~imugait.calibration.segment.retrack_heading`;
  offline interpolates between its windows, the angles live hold the latest), the gait events (:func:`~imugait.gait.events.trailing_events`: settled, and
  early ones) and, per new initial contact, the stride (:func:`~imugait.gait.cycles.segment_strides`
  with an open end), its metrics (:func:`~imugait.gait.metrics.strides_metrics`) and plausibility
  (:func:`~imugait.gait.plausibility.implausible_reasons`, against the leg's recent strides) — given
  at once from the early initial contact, checked once it settles, given again with its
  thigh–shank timing (:func:`~imugait.gait.coordination.stride_lags_s`) half a second later,
  and final once the offline track's heading window centred after it has come, its knee metrics
  from the heading offset interpolated between the windows around it as offline
  (:meth:`LiveLeg._head_strides`: its rows recomputed once) — and, if its hip rotation was
  measured against a straight run's walking direction, once that run has ended and been fitted
  again over all of it (:mod:`imugait.live.revision`), as offline.
  Rows are known to be moving as soon as the part of their motion window that has come says so
  (:meth:`LiveLeg._moving_until`), so none of this waits for the window's second half.

A walk ends at :meth:`LiveLeg.end_walk` — the stream's end, or "walk done" while it goes on —
where everything that waited for later rows is decided as offline at a recording's end; the rows
after it are a new walk (its own events and straight runs; the calibration and the heading
tracking go on).

Not done live: the clipping check (the live samples carry no device range), double support (needs
the other leg's events as they settle) and the pelvis-relative hip angles.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from imugait.assessment.measures import runs
from imugait.calibration.heading import HeadingConfig, drift_rate_radps, interpolated_track
from imugait.calibration.periods import PeriodConfig, motion_mask
from imugait.calibration.recording import LegRecording
from imugait.calibration.segment import LegAlignment, retrack_heading
from imugait.conventions import Placement, Segment, Side
from imugait.gait.coordination import MAX_LAG_S, sagittal_rate_radps, stride_lags_s
from imugait.gait.cycles import Exclusion, Stride, StrideConfig, segment_strides
from imugait.gait.events import (
    EARLY_MID_SWING_S,
    EventConfig,
    LegEvents,
    no_trailing_events,
    settle_time_s,
    trailing_events,
)
from imugait.gait.metrics import strides_metrics
from imugait.gait.plausibility import implausible_reasons, stride_columns
from imugait.kinematics.angles import LegAngles, legs_angles, segment_orientations
from imugait.kinematics.progression import (
    CausalProgression,
    Progression,
    ProgressionConfig,
    find_progression,
)
from imugait.kinematics.run_direction import RunLine, WholeRunFit
from imugait.live.history import History
from imugait.live.midstance import MidstanceReference
from imugait.live.revision import (
    bout_reach,
    context_s,
    one_bout,
    run_directions_rad,
    strides_in_bouts,
    wait_s,
)
from imugait.live.updates import LiveStride
from imugait.quaternion import quat_multiply, quat_rotate_each
from imugait.timebase import lowpass_band, sample_period_s

LEG_COLUMNS = {"t_s": (), "knee_deg": (3,), "hip_rotation_deg": (), "hip_rotation_run_deg": (), "motion": (), "run": (),
               "lost": (), "heading_offset_rad": (), "direction_rad": ()}
"""Per grid row: angles, motion, straight run, lost, and the held state the angles are computed with.
``hip_rotation_run_deg``, which the strides' metrics read, is ``hip_rotation_deg`` (what the angles
show) until the row's straight run has ended and been fitted again (:meth:`LiveLeg._refit_run`)."""
RECENT_STRIDES = 50
"""Strides kept for the plausibility check against the leg's other strides."""
EVENTS_KEPT = 12
"""Settled events kept to segment strides (a stride needs two; the bout's median a few more)."""
NO_EVENTS = LegEvents(np.empty(0), np.empty(0), np.empty(0), np.empty(0))
WITHDRAWN = "withdrawn: given early, its events settled into no stride"
"""The exclusion of a stride given early whose events did not settle into one."""


@dataclass(eq=False)
class _Pending:
    """A stride given, not yet final: its thigh–shank timing or its run's walking direction to come."""

    stride: Stride
    given: LiveStride
    """The version given last (or to be given: see :meth:`LiveLeg._refit_run`)."""
    row: dict
    """Its row in the leg's recent strides."""
    k_lag: int
    """The grid row from which its thigh–shank timing can be computed."""
    run: int
    """The straight run whose walking direction its hip rotation awaits (-1: none)."""
    timed: bool = field(default=False)
    """Its thigh–shank timing is known."""
    headed: bool = field(default=False)
    """Its knee metrics are computed with the heading offset interpolated between the offline
    track's windows around it (:meth:`LiveLeg._head_strides`)."""


@dataclass(frozen=True)
class LegSettings:
    """What a live leg needs of the live configuration (see :class:`imugait.live.kinematics.LiveConfig`)."""

    rate_hz: float
    tick_s: float
    event_every_s: float
    event_window_s: float
    periods: PeriodConfig
    heading: HeadingConfig
    progression: ProgressionConfig
    events: EventConfig
    strides: StrideConfig
    max_bridge_s: float = 0.1
    """Lost stretches of a sensor longer than this leave the leg without angles (see :class:`LiveLeg`)."""
    reseeded: bool = False
    """The sensors' filters are re-seeded after such a stretch (:mod:`imugait.live.reseed`): the
    angles go on with the held heading offset from its end. False: it is void until a heading
    window after the stretch has been estimated."""

    @property
    def rows_per_tick(self) -> int:
        """Grid rows between two ticks (at least one)."""
        return max(int(round(self.tick_s * self.rate_hz)), 1)


class LiveLeg:
    """One leg from grid index ``start`` on (see the module docstring). ``known_heading_rad``: the
    thigh-shank heading offset (rad) of the rows from ``start`` on that are already known when the leg
    starts — the calibration's own track over the rows it was fitted on (interpolated between its
    windows, as offline) — used for those rows instead of the held latest window.
    ``known_interpolated_rows``: how many of those rows lie up to the centre of the track's last
    window (all when None): after it the track holds the last window's estimate, where a stride's
    final version interpolates towards the windows after it, as offline (:meth:`_final_offsets`).
    ``midstance``: the leg is referred to mid-stance and its calibration was fitted here — each
    stride's final version takes the segment frames from the mid-stances of the walk so far, at
    the stream's end from the whole walk's (:mod:`imugait.live.midstance`)."""

    def __init__(self, side: Side, alignment: LegAlignment, settings: LegSettings, start: int, capacity: int,
                 known_heading_rad: np.ndarray | None = None, known_interpolated_rows: int | None = None,
                 midstance: bool = False) -> None:
        self.side, self.alignment, self.settings = side, alignment, settings
        self._midstance = MidstanceReference(side, alignment) if midstance and alignment.reference is not None else None
        """The mid-stance reference over the walk so far (None: the calibration's frames throughout)."""
        self._known_heading = (start, known_heading_rad) if known_heading_rad is not None and known_heading_rad.size \
            else None
        self.thigh, self.shank = (Placement.of(seg, side).value for seg in (Segment.THIGH, Segment.SHANK))
        dt = 1.0 / settings.rate_hz
        self.history = History(capacity, LEG_COLUMNS, {"motion": np.bool_, "run": np.int64, "lost": np.bool_})
        self.history.skip_to(start)
        self._n_tick = settings.rows_per_tick
        # What a taken row holds until its tick and its angles fill it in (a tick's rows at most;
        # copied by the append, so one set serves every take).
        self._blank = {"knee_deg": np.full((self._n_tick, 3), np.nan), "hip_rotation_deg": np.full(self._n_tick, np.nan),
                       "motion": np.zeros(self._n_tick, bool), "run": np.full(self._n_tick, -1)}
        self._n_motion_settle = int(np.ceil(0.5 * settings.periods.motion_window_s / dt)) + 1
        self._n_motion_window = max(int(round(settings.periods.motion_window_s / dt)), 1)  # as motion_mask
        self._n_lag = int(np.ceil(MAX_LAG_S * settings.rate_hz)) + 2
        self._n_event_window = int(round(settings.event_window_s / dt))
        self._n_event_every = max(int(round(settings.event_every_s / settings.tick_s)), 1) * self._n_tick
        # The low-pass band of the look before the detection (no_trailing_events) is made now, with
        # the leg (a calibration or a fusion start is a long call already), not in the middle of the
        # walk when the event window first fills (about 0.1 s of CPU once; the rate as that look
        # has it, so that it is the same cached band).
        lowpass_band(self._n_event_window, 1.0 / sample_period_s(None, settings.rate_hz), settings.events.lowpass_hz)
        from_centre = alignment.quality.heading_from_joint_centre or not alignment.measures_femur_rotation
        win_s, step_s = ((settings.heading.centre_window_s, settings.heading.centre_step_s) if from_centre
                         else (settings.heading.window_s, settings.heading.step_s))
        self._n_win = int(round(win_s / dt))
        # Live windows every live_step_s (offline's every step_s are among them: its multiple).
        n_offline_step = max(int(round(step_s / dt)), 1)
        every = max(int(round(step_s / settings.heading.live_step_s)), 1)
        while n_offline_step % every:
            every -= 1
        self._drift_every = every  # live windows between the drift fit's points
        self._n_step = n_offline_step // every
        self._offline_windows: deque[tuple[float, float]] = deque(maxlen=capacity // n_offline_step + 2)
        """The offline track's windows estimated so far (centre s, estimate rad), while their rows
        can be in the history: a stride's final version interpolates between them (:meth:`_head_strides`)."""
        self._offline_unestimated = -1
        """The middle row of the newest offline window looked at if it gave no estimate (too little
        knee motion: the leg stopped), else -1."""
        self._walk_ending = False  # (end_walk: what waited for later rows is decided with the rows there are)
        self._walk_ended_at = -1  # the grid row at which the latest walk was ended (end_walk)
        self._walk_start = start  # the grid row from which the walk going on counts
        self._runs_refitted: list[int] = []  # first rows of the walk's runs fitted again before its end
        self._walk_from_s = -np.inf  # the events of the walk going on have their mid-swing after this (s)
        self._grid: History | None = None  # the grid of the latest take (end reads it)
        self._stride_knee = History(capacity, {"knee_deg": (3,)})
        """The knee angles (deg) of the rows up to the newest stride given with its heading offset
        interpolated (:meth:`_head_strides`) — those of the strides recomputed, the others' as
        shown — which the strides' metrics read (:meth:`_metrics`) instead of those shown."""
        self._stride_knee.skip_to(start)
        n_known = known_heading_rad.size if self._known_heading is not None else 0
        self._known_until = start + (n_known if known_interpolated_rows is None else min(known_interpolated_rows, n_known))
        """Rows before this took the calibration's own track interpolated between its windows
        (as a stride's final version would: not recomputed)."""
        track = alignment.heading
        self.heading_offset_rad = float(track.window_offset_rad[0] if track.window_offset_rad.size
                                        else alignment.axes.heading_offset_rad)
        """The latest window's estimate of the thigh-shank heading offset (held until the next, or
        extrapolated by its drift: :meth:`_held_offsets`)."""
        self._estimates: deque[tuple[int, float, float]] = deque(
            maxlen=max(settings.heading.drift_points - 1, 0) * self._drift_every + 1)
        """The latest windows' (index, centre time s, estimate rad)."""
        self._drift_radps = 0.0  # the drift extrapolated past the newest window (0: held)
        self._drift_from_s = 0.0  # from the newest window's centre …
        self._drift_until_s = 0.0  # … to where the next window is due (then held)
        self._drift_horizon_s = 0.5 * win_s + step_s
        self._next_window = -(-start // self._n_step)  # first window starting in the history
        self._n_bridge = max(int(np.floor(settings.max_bridge_s / dt)), 1)
        self._in_long_lost = False  # the last row taken is inside a long lost stretch
        self._settled = start  # rows whose motion, walking direction are final
        self._n_angled = start  # rows whose angles are computed
        self._progression = CausalProgression(settings.rate_hz, settings.progression, side)
        self._events: deque[tuple[float, float, float, float]] = deque(maxlen=EVENTS_KEPT)
        self._recent: deque[dict] = deque(maxlen=RECENT_STRIDES)
        self.n_strides = 0
        self.new_strides: list[LiveStride] = []
        self._early: tuple[float, LiveStride, dict, Stride] | None = None
        """The stride given early (its mid-swing, as given, its row in the recent strides, the stride)."""
        self._untimed: deque[_Pending] = deque()
        """Strides given without their thigh–shank timing, in order."""
        self._awaiting_run: deque[_Pending] = deque()
        """Strides with their timing whose run has not been fitted again yet (bounded by the
        history: :meth:`_release_old`), in order."""
        self._unheaded: deque[_Pending] = deque()
        """Strides whose heading windows around them have not all come yet (:meth:`_head_strides`), in order."""
        self._headed: deque[_Pending] = deque()
        """Strides given with their heading interpolated whose rows are still in the history, in
        order (with a mid-stance reference: revised at the stream's end, :meth:`_revise_reference`)."""
        self._run_label = -1  # the straight run of the newest settled row (-1: none)
        self._run_start = 0  # the first row of that run
        self._ended_runs: deque[tuple[int, int, int]] = deque()  # (run, first row, row after) to be fitted again
        self._runs_done = -1  # runs up to this number are fitted again (or were given up)
        self._merged: dict[int, int] = {}  # a run merged into the next (one bout offline): their labels
        self._run_fit = WholeRunFit(dt, settings.progression, side)
        """The current straight run's direction over all of it, from sums (a run longer than the history)."""
        self._run_fit_label = -1  # the run it is fed
        self._run_fed = start  # rows up to this are fed to it (in batches: its per-call cost)
        self._n_run_feed = max(int(round(1.0 / dt)), 1)
        self._run_lines: dict[int, RunLine] = {}  # ended runs' whole-run directions, until fitted again
        self._n_context = int(round(context_s(settings.progression) / dt))
        self._n_wait = int(round(wait_s(settings.progression) / dt))
        self._tail_due: tuple[History, int, float] | None = None
        """The latest tick's tail still to run (:meth:`finish_tick`): the grid, its settled row,
        the time before which strides are released (:meth:`_release_old`)."""

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
        self._grid = grid
        k_stop = grid.n_appended if k_stop is None else min(k_stop, grid.n_appended)
        while self.history.n_appended < k_stop:
            k = self.history.n_appended
            stop = min(k_stop, (k // self._n_tick + 1) * self._n_tick)
            n = stop - k
            t = self._rows(grid, "t_s", k, stop)
            lost = self._rows(grid, f"{self.thigh}/lost", k, stop) | self._rows(grid, f"{self.shank}/lost", k, stop)
            long_lost = np.maximum(self._rows(grid, f"{self.thigh}/lost_s", k, stop),
                                   self._rows(grid, f"{self.shank}/lost_s", k, stop)) > self.settings.max_bridge_s
            blank = self._blank
            self.history.append({"t_s": t, "knee_deg": blank["knee_deg"][:n], "hip_rotation_deg": blank["hip_rotation_deg"][:n],
                                 "hip_rotation_run_deg": blank["hip_rotation_deg"][:n],
                                 "motion": blank["motion"][:n], "run": blank["run"][:n], "lost": lost,
                                 "heading_offset_rad": self._held_offsets(k, t, long_lost),
                                 "direction_rad": self._progression.direction_at(t)})
            if stop % self._n_tick == 0:
                self.finish_tick()  # (the tick before's, if it was left pending)
                self._tick(grid, stop)
                if not defer_tail:
                    self.finish_tick()

    def _held_offsets(self, k: int, t: np.ndarray, long_lost: np.ndarray) -> np.ndarray:
        """The heading offset each of the rows ``k ..`` (times ``t``) is computed with (NaN: no angles).

        The newest window's estimate (windows every ``heading.live_step_s``: a held estimate lags
        a steady drift by half a window and up to a step more) — with ``heading.drift_points`` set
        (off by default), extrapolated by the drift fitted to the latest windows when it is
        significant (:func:`~imugait.calibration.heading.drift_rate_radps`; offline
        interpolates between windows, a held estimate lags a steady drift by half a window and
        more) up to where the window after the newest is due (half a window and an offline step
        past its centre: if it does not come — too little knee motion — the value there is held).

        A sensor's lost samples are bridged in fusion (as offline). Over a long stretch (more than
        ``max_bridge_s``) the bridged orientations are not data, and they come back far off — in
        walking, tens of degrees of inclination and any heading, settling over seconds (VQF's
        accelerometer time constant) — so the offset held from before no longer applies: from the
        start of such a stretch it is NaN (the leg's angles are NaN, never invented) — until a
        heading window that starts after the stretch has been estimated, or, when the sensors'
        filters are re-seeded after it (``settings.reseeded``), only to its end. Rows whose offset was
        known when the leg started (``known_heading_rad``) take it instead of the held one."""
        if self._drift_radps:
            offsets = self.heading_offset_rad + self._drift_radps * (np.minimum(t, self._drift_until_s) - self._drift_from_s)
        else:
            offsets = np.full(long_lost.size, self.heading_offset_rad)
        if self._known_heading is not None:
            start, known = self._known_heading
            offsets[:max(start + known.size - k, 0)] = known[k - start:k - start + offsets.size]
            if k + offsets.size >= start + known.size:
                self._known_heading = None
        if not (self._in_long_lost or np.count_nonzero(long_lost)):
            return offsets  # (the common case: nothing lost for long, nothing ends)
        offsets[long_lost] = np.nan
        ends = np.flatnonzero(np.diff(np.concatenate([[self._in_long_lost], long_lost]).astype(np.int8)) == -1)
        if ends.size:
            # Windows before the stretch do not continue into it (nor past it: a carry-over).
            self._drift_radps = 0.0
            self._estimates.clear()
        if ends.size and not self.settings.reseeded:
            end = int(ends[-1])
            self.heading_offset_rad = np.nan
            offsets[end:] = np.nan
            # (The first window after it one of offline's, as with offline's steps: one that starts
            # at once would take the orientations while they settle, tested in tests/live/test_live_gap.py.)
            self._next_window = max(self._next_window, -(-(k + end) // (self._n_step * self._drift_every)) * self._drift_every)
        if long_lost.size:
            self._in_long_lost = bool(long_lost[-1])
        return offsets

    def _rows(self, grid: History, name: str, k0: int, k1: int) -> np.ndarray:
        return grid.since(name, k0)[:k1 - max(k0, grid.first_index)]

    def angles_until(self, k1: int | None = None) -> None:
        """Compute the angles of the rows before grid index ``k1`` (all taken rows when None) that
        have none yet — from their sensors' orientations and the state they were taken with, so
        when this happens does not change them."""
        angles_of_legs([self], k1)

    def _angle_rows(self, k1: int | None) -> tuple[int, int, np.ndarray, tuple] | None:
        """The rows ``k0 .. k1 - 1`` without angles yet: (k0, k1, rows voided by a long lost
        stretch, the input of :func:`~imugait.kinematics.angles.legs_angles`), or None if none."""
        grid = self._grid
        k1 = self.history.n_appended if k1 is None else k1
        k0 = max(self._n_angled, grid.first_index, self.history.first_index)
        if k1 <= k0:
            return None
        return (k0, k1, *self._angle_input(k0, k1))

    def _angle_input(self, k0: int, k1: int, heading_offset_rad: np.ndarray | None = None,
                     alignment: LegAlignment | None = None) -> tuple[np.ndarray, tuple]:
        """(rows voided by a long lost stretch, the input of :func:`~imugait.kinematics.angles.legs_angles`)
        of the rows ``k0 .. k1 - 1``, with the state they were taken with (``heading_offset_rad``:
        these heading offsets instead of the held ones, NaN where those are; ``alignment``: these
        segment frames instead of the calibration's)."""
        alignment = alignment or self.alignment
        grid = self._grid
        state = {name: self.history.since(name, k0)[:k1 - k0] for name in ("heading_offset_rad", "direction_rad")}
        if heading_offset_rad is not None:
            state["heading_offset_rad"] = np.where(np.isfinite(state["heading_offset_rad"]), heading_offset_rad, np.nan)
        # NaN inside a long lost stretch of a sensor and until the heading offset is known again
        # after it (see _held_offsets).
        lost = ~np.isfinite(state["heading_offset_rad"])
        q_thigh, q_shank = segment_orientations(
            self._rows(grid, f"{self.thigh}/q_world_sensor", k0, k1), self._rows(grid, f"{self.shank}/q_world_sensor", k0, k1),
            alignment.thigh.q_sensor_segment, alignment.shank.q_sensor_segment,
            np.where(lost, 0.0, state["heading_offset_rad"]))  # (those rows come out NaN below)
        return lost, (self.side, q_thigh, q_shank, state["direction_rad"])

    def _store_angles(self, k0: int, k1: int, lost: np.ndarray, angles: LegAngles) -> None:
        knee_deg = np.rad2deg(angles.knee_rad)
        knee_deg[lost] = np.nan
        self.history.since("knee_deg", k0)[:k1 - k0] = knee_deg
        if self.alignment.measures_femur_rotation:
            hip_deg = np.rad2deg(angles.hip_rotation_progression_rad)
            hip_deg[lost] = np.nan
            self.history.since("hip_rotation_deg", k0)[:k1 - k0] = hip_deg
            self.history.since("hip_rotation_run_deg", k0)[:k1 - k0] = hip_deg
        self._n_angled = k1

    # --- ticks -------------------------------------------------------------------------------

    def _tick(self, grid: History, k: int) -> None:
        """The tick at grid row ``k``: what the rows after it are taken with (motion, walking
        direction, heading windows) and the strides' first versions and timing; the rest of it, the
        tail (:meth:`finish_tick`), is left pending."""
        settled = self._moving_until(grid, max(k - self._n_motion_settle, self._settled), k)
        if settled > self._settled:
            self._settle(grid, self._settled, settled, k)
            self._settled = settled
        self._heading_windows(grid, settled)
        self._find_strides(grid, settled, k)
        self._finish_strides(grid, k)
        # (The history's oldest row now: rows taken before the tail runs may move it.)
        self._tail_due = (grid, settled, float(self.history.tail("t_s")[0]) + 2 * self.settings.tick_s)

    def finish_tick(self) -> None:
        """The tail of the latest tick, if still pending (:meth:`take` ``defer_tail``): the
        strides' final versions (:meth:`_head_strides`), the ended straight runs' refits
        (:meth:`_refit_run`) and the strides about to leave the history (:meth:`_release_old`).
        No row is taken with anything it changes, so a view may run it after pushing the rows'
        angles (the versions it gives come with the next poll). It runs before the next tick and
        before :meth:`end_walk`, so the leg's steps come in the same order as without the wait. What
        can differ: up to a tick's rows more have been taken, so the history's oldest row may have
        moved on by as many. The tail reads rows near it only for the strides it releases, two
        ticks before they would leave (the time taken at the tick); and the grid's batches
        already move its oldest row on by more than that before a tick. The same results to the
        bit: tests/live/test_live_deferred_tails.py (a history shorter than a run too)."""
        if self._tail_due is None:
            return
        grid, settled, t_old = self._tail_due
        self._tail_due = None
        self._head_strides()
        while self._ended_runs and self._ended_runs[0][2] + self._n_wait <= settled:
            ended = self._ended_runs.popleft()
            if not self._merge_with_next(grid, *ended, settled):
                self._refit_run(grid, *ended, settled)
        self._release_old(t_old)

    def _moving_until(self, grid: History, k0: int, k: int) -> int:
        """The first row from ``k0`` on whose motion the rows before ``k`` do not decide yet.

        A row's motion (:func:`~imugait.calibration.periods.motion_mask`) is the mean square of
        the shank's rate over a centred window above the threshold's square; the window's rows
        not yet come can only add to it, so a row is already known to be moving when the rows
        that have come alone bring the mean over the whole window above it. In walking that holds
        up to the newest rows (a window always holds a swing), so motion, the walking direction
        and the events need not wait for the window's second half."""
        if k <= k0:
            return k0
        n, half = self._n_motion_window, self._n_motion_window // 2
        lo = max(k0 - half, grid.first_index)
        square = np.sum(self._rows(grid, f"{self.shank}/gyr_radps", lo, k) ** 2, axis=1)
        total = np.concatenate([[0.0], np.cumsum(square)])
        rows = np.arange(k0, k)
        sums = total[np.minimum(rows - half + n, k) - lo] - total[np.maximum(rows - half, lo) - lo]
        # A relative margin far above the sums' rounding: the final mask decides these rows alike.
        moving = sums / n > self.settings.periods.motion_rms_min_radps ** 2 * (1.0 + 1e-6)
        return k0 + (int(np.argmin(moving)) if np.count_nonzero(moving) < moving.size else moving.size)

    def _settle(self, grid: History, k0: int, k1: int, k: int, ended: bool = False) -> None:
        """Motion and walking direction of rows ``k0 .. k1 - 1`` (their motion window is complete),
        from the rows before ``k`` only (the grid may hold more: a tick never looks past itself).
        ``ended``: ``k`` is the stream's end, the motion windows cut there as offline at a
        recording's end (else the rows whose window reaches past ``k`` are the moving ones found
        early, :meth:`_moving_until`)."""
        n_w = 2 * self._n_motion_settle
        lo = max(k0 - n_w, grid.first_index)
        hi = min(k1 + n_w, k)
        moving = motion_mask(self._rows(grid, "t_s", lo, hi), self._rows(grid, f"{self.shank}/gyr_radps", lo, hi),
                             self.settings.periods, self.settings.rate_hz)[k0 - lo:k1 - lo]
        if not ended:
            # Rows whose window reaches past ``k`` were found moving from its first part (_moving_until).
            moving[max(k - self._n_motion_settle - k0, 0):] = True
        q_thigh = quat_multiply(self._rows(grid, f"{self.thigh}/q_world_sensor", k0, k1),
                                self.alignment.thigh.q_sensor_segment)
        runs = self._progression.update(self._rows(grid, "t_s", k0, k1), q_thigh, moving)
        n = self.history.n_appended
        self.history.tail("motion", n - k0)[:k1 - k0] = moving
        self.history.tail("run", n - k0)[:k1 - k0] = runs
        if runs[0] == runs[-1] == self._run_label and np.count_nonzero(runs != self._run_label) == 0:
            if k1 - self._run_fed >= self._n_run_feed:
                self._feed_run_fit(grid, k1)
            return  # (the common case: the same run, or none, goes on)
        self._feed_run_fit(grid, k1)
        previous = np.concatenate([[self._run_label], runs[:-1]])
        for i in np.flatnonzero(runs != previous):
            if previous[i] >= 0:
                self._ended_runs.append((int(previous[i]), self._run_start, k0 + int(i)))
            if runs[i] >= 0:
                self._run_start = k0 + int(i)
        self._run_label = int(runs[-1])

    def _feed_run_fit(self, grid: History, k1: int) -> None:
        """Feed the whole-run fit the settled rows before grid row ``k1`` not fed yet that are in
        the current straight run; a run that ends leaves its line for its refit (:meth:`_refit_run`)."""
        k0 = max(self._run_fed, self.history.first_index, grid.first_index)
        self._run_fed = max(self._run_fed, k1)
        if k1 <= k0 or not self.alignment.measures_femur_rotation:
            return
        runs = self.history.since("run", k0)[:k1 - k0]
        if self._run_fit_label < 0 and not np.count_nonzero(runs >= 0):
            return  # (no run)
        t = self.history.since("t_s", k0)[:k1 - k0]
        q_thigh = quat_multiply(self._rows(grid, f"{self.thigh}/q_world_sensor", k0, k1), self.alignment.thigh.q_sensor_segment)
        long_axis, flexion_axis = quat_rotate_each(q_thigh, ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0]))
        edges = np.concatenate([[0], np.flatnonzero(np.diff(runs)) + 1, [runs.size]])
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            label = int(runs[a])
            if label != self._run_fit_label:
                self._end_run_fit()
                self._run_fit_label = label
            if label >= 0:
                self._run_fit.extend(t[a:b], long_axis[a:b], flexion_axis[a:b])

    def _end_run_fit(self) -> None:
        """Keep the line of the run the whole-run fit was fed (if any) and start afresh."""
        if self._run_fit_label >= 0:
            line = self._run_fit.line()
            if line is not None:
                self._run_lines[self._run_fit_label] = line
            self._run_fit.reset()
        self._run_fit_label = -1

    def _heading_windows(self, grid: History, settled: int) -> None:
        """The heading offset of every window of the offline track that has completed."""
        while self._next_window * self._n_step + self._n_win <= settled:
            w0 = self._next_window * self._n_step
            self._next_window += 1
            if (self._next_window - 1) % self._drift_every == 0:  # one of offline's windows
                self._offline_unestimated = w0 + self._n_win // 2  # (until it gives an estimate)
            if w0 < grid.first_index:
                continue
            w1 = w0 + self._n_win
            lost = self.history.since("lost", w0)[:self._n_win]
            if any(stop - start > self._n_bridge for start, stop in runs(lost)):
                continue  # the window spans a long lost stretch: before and after do not match
            motion = self.history.since("motion", w0)[:self._n_win]
            rec = LegRecording(
                self._rows(grid, "t_s", w0, w1),
                self._rows(grid, f"{self.thigh}/q_world_sensor", w0, w1), self._rows(grid, f"{self.shank}/q_world_sensor", w0, w1),
                self._rows(grid, f"{self.thigh}/gyr_radps", w0, w1), self._rows(grid, f"{self.shank}/gyr_radps", w0, w1),
                self._rows(grid, f"{self.thigh}/acc_mps2", w0, w1), self._rows(grid, f"{self.shank}/acc_mps2", w0, w1),
                self.settings.rate_hz)
            track = retrack_heading(self.alignment, rec, motion, self.settings.heading)
            if track.window_offset_rad.size:
                estimate = float(track.window_offset_rad[-1])
                # Unwrapped onto the previous value (the offline track unwraps its windows too).
                if np.isfinite(self.heading_offset_rad):
                    estimate = self.heading_offset_rad + float(np.angle(np.exp(1j * (estimate - self.heading_offset_rad))))
                # Offline interpolates between the windows' centres; live holds the latest window's
                # estimate (or extrapolates a significant drift, off by default: _held_offsets,
                # docs/live.md "The heading offset after the calibration").
                self.heading_offset_rad = estimate
                self._drift(self._next_window - 1, float(track.window_t_s[-1]), estimate)
                if (self._next_window - 1) % self._drift_every == 0:
                    self._offline_windows.append((float(track.window_t_s[-1]), estimate))
                    self._offline_unestimated = -1

    def _drift(self, window: int, centre_s: float, estimate_rad: float) -> None:
        """The drift to extrapolate past window ``window`` (centre ``centre_s``): fitted to it and
        the windows ``drift_every``, ``2 drift_every``, … before it (offline's spacing), when all
        of them were estimated; otherwise none (held)."""
        self._drift_from_s, self._drift_until_s = centre_s, centre_s + self._drift_horizon_s
        if self.settings.heading.drift_points < 3:
            return  # held (the default)
        self._estimates.append((window, centre_s, estimate_rad))
        points = [e for e in self._estimates if (window - e[0]) % self._drift_every == 0][-self.settings.heading.drift_points:]
        complete = (len(points) == self.settings.heading.drift_points
                    and window - points[0][0] == (len(points) - 1) * self._drift_every)
        self._drift_radps = drift_rate_radps(np.array([e[1] for e in points]), np.array([e[2] for e in points])) \
            if complete else 0.0

    def _find_strides(self, grid: History, settled: int, k: int, ended: bool = False) -> None:
        """The events of the trailing window before ``settled`` and the strides they close (at the
        tick of grid row ``k``); ``ended``: ``settled`` is the stream's end (:meth:`end`) — every
        event there is settled, as at a recording's end offline."""
        lo = max(settled - self._n_event_window, self.history.first_index, grid.first_index)
        if settled - lo < 2 * self._n_tick:
            return
        t = self.history.since("t_s", lo)[:settled - lo]
        after = self._events[-1][0] + 0.5 * self.settings.events.min_stride_s if self._events else self._walk_from_s
        walking = self.history.since("motion", lo)[:settled - lo]
        settle_s = settle_time_s(self.settings.events, self.settings.rate_hz)
        if ended:
            look = True
        elif self._early is not None:  # nothing before it can settle before it does (it was the first)
            look = t[-1] - settle_s >= self._early[0]
        else:  # every ``event_every_s``, and at every tick once a swing has ended in a dip (early)
            look = t[-1] - EARLY_MID_SWING_S > after
        if not (look and (np.count_nonzero(walking) or self._early is not None)):
            return
        # (made only when looked at: the same rows, the same product)
        shank_rate = self._rows(grid, f"{self.shank}/gyr_radps", lo, settled) @ self.alignment.hinge_axis_shank
        if self._early is None and not (ended or k % self._n_event_every == 0 or self._swing_ended(t, shank_rate, after)):
            return
        started = lo == 0  # (the grid's first row is the recording's first: as offline at its start)
        if not ended and settled - lo == self._n_event_window and no_trailing_events(t, shank_rate, walking, after, self.settings.events,
                                                                       self.settings.rate_hz, started):
            # No new mid-swing can be in the window yet (most looks between strides): the same
            # outcome as the detection, at a fraction of its cost. (Only at the full window's
            # size: the low-pass's matrix is made once for it.)
            events = early = NO_EVENTS
        else:
            # The rates about the calibrated axes, as offline (detect_leg_events' inputs).
            thigh_rate = self._rows(grid, f"{self.thigh}/gyr_radps", lo, settled) @ self.alignment.axes.flexion_axis_thigh
            events, early = trailing_events(t, shank_rate, walking, after, self.settings.events, thigh_rate,
                                            self.settings.rate_hz, ended, started)
        for event in zip(events.mid_swing_s, events.toe_off_s, events.initial_contact_s, events.mid_swing_peak_radps,
                         strict=True):
            self._events.append(tuple(float(x) for x in event))
            if len(self._events) >= 2:
                self._stride_settled(grid, self._events[-1], k)
        if self._early is not None and (ended or self._early[0] <= t[-1] - settle_s):
            self._withdraw()  # its mid-swing settled as none (or the leg stopped before it)
        for event in zip(early.mid_swing_s, early.toe_off_s, early.initial_contact_s, early.mid_swing_peak_radps,
                         strict=True):
            if self._events and self._early is None:
                self._stride_early(tuple(float(x) for x in event))

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

    def _stride_early(self, event: tuple[float, float, float, float]) -> None:
        """Give at once the stride that ends at an early initial contact (see
        :func:`~imugait.gait.events.trailing_events`); it is checked once its events settle."""
        found = self._stride_at([*self._events, event][-EVENTS_KEPT:], event[2])
        if found is None:
            return
        stride, metrics = found
        row = {"used": stride.used, **metrics}
        self._recent.append(row)
        given = self._judged(stride, self._live_stride(stride, metrics, self.n_strides), row)
        self.n_strides += 1
        self.new_strides.append(given)
        self._early = (event[0], given, row, stride)

    def _stride_settled(self, grid: History, event: tuple[float, float, float, float], k: int) -> None:
        """The stride that ends at the settled initial contact just found, if it is one (at the
        tick of grid row ``k``: no row from ``k`` on is read) — given, or, if it was given early,
        given again only where it changed."""
        early = None
        if self._early is not None:
            if abs(self._early[0] - event[0]) < 0.5 * self.settings.events.min_stride_s:
                early, self._early = self._early, None
            elif self._early[0] < event[0]:
                self._withdraw()
        found = self._stride_at(list(self._events), event[2])
        if found is None:
            if early is not None:
                self._early = early
                self._withdraw()
            return
        stride, metrics = found
        if early is None:
            row = {"used": stride.used, **metrics}
            self._recent.append(row)
            index = self.n_strides
            self.n_strides += 1
        else:
            _mid, first, row, _stride = early
            row.clear()
            row.update({"used": stride.used, **metrics})
            index = first.index
        if early is not None and early[3] == stride and np.array_equal(list(early[1].metrics.values()),
                                                                     list(metrics.values()), equal_nan=True):
            given = early[1]  # the same stride, judged against the same strides: as given early
        else:
            given = self._judged(stride, self._live_stride(stride, metrics, index), row)
            if early is None or not _same_stride(given, early[1]):
                self.new_strides.append(given)
        t_all = self.history.tail("t_s")
        i0, i1 = np.searchsorted(t_all, (stride.t_initial_contact_s, stride.t_next_initial_contact_s))
        # The newest straight run its rows are in: its walking direction is fitted again once it has ended.
        run = int(self.history.tail("run")[i0:i1].max(initial=-1)) if self.alignment.measures_femur_rotation else -1
        pending = _Pending(stride, given, row, self.history.first_index + int(i1) + self._n_lag,
                           self._merged.get(run, run) if run > self._runs_done else -1)
        self._untimed.append(pending)
        self._unheaded.append(pending)
        self._finish_strides(grid, k)

    def _withdraw(self) -> None:
        """The stride given early whose events did not settle into one: given again as withdrawn."""
        _mid, given, row, _stride = self._early
        self._early = None
        self._recent = deque((r for r in self._recent if r is not row), maxlen=RECENT_STRIDES)
        self.new_strides.append(replace(given, used=False, exclusion=WITHDRAWN, final=True))

    def _live_stride(self, stride: Stride, metrics: dict[str, float], index: int) -> LiveStride:
        return LiveStride(side=self.side, index=index, t_initial_contact_s=stride.t_initial_contact_s,
                          t_toe_off_s=stride.t_toe_off_s, t_next_initial_contact_s=stride.t_next_initial_contact_s,
                          metrics=metrics, used=stride.used, final=False)

    def _thigh_shank_lag_s(self, grid: History, stride, k: int, final: bool = False) -> float:
        """The stride's thigh–shank timing (:func:`~imugait.gait.coordination.stride_lags_s`, as
        offline) from the anatomical frames of its rows and ``MAX_LAG_S`` around them (those before
        grid row ``k``) — with the held heading offset, or (``final``) the offset of the stride's
        final version (:meth:`_final_offsets`), as ``analyze`` turns the shank."""
        t_all = self.history.tail("t_s")
        n_lag = int(np.ceil(MAX_LAG_S * self.settings.rate_hz)) + 2
        first = self.history.first_index
        g0 = max(first + int(np.searchsorted(t_all, stride.t_initial_contact_s)) - n_lag, first, grid.first_index)
        g1 = min(first + int(np.searchsorted(t_all, stride.t_next_initial_contact_s)) + n_lag, k)
        q_thigh, q_shank = segment_orientations(
            self._rows(grid, f"{self.thigh}/q_world_sensor", g0, g1), self._rows(grid, f"{self.shank}/q_world_sensor", g0, g1),
            self.alignment.thigh.q_sensor_segment, self.alignment.shank.q_sensor_segment,
            self._final_offsets(g0, g1) if final else self.history.since("heading_offset_rad", g0)[:g1 - g0])
        t = self._rows(grid, "t_s", g0, g1)
        return float(stride_lags_s(t, sagittal_rate_radps(t, q_thigh), sagittal_rate_radps(t, q_shank), [stride],
                                   rate_hz=self.settings.rate_hz)[0])

    def _stride_at(self, events_kept: list[tuple[float, float, float, float]], t_ic_s: float
                   ) -> tuple[Stride, dict[str, float]] | None:
        """The stride that ends at the initial contact ``t_ic_s`` of the newest of ``events_kept``,
        if it is one, and its metrics (the thigh–shank timing NaN: it searches MAX_LAG_S past the
        stride, so it is added once those rows have come, :meth:`_finish_strides`)."""
        self.angles_until(self._settled)  # (only when a stride needs them: a poll computes the rest)
        ev = np.array(events_kept)
        events = LegEvents(ev[:, 0], ev[:, 1], ev[:, 2], ev[:, 3])
        first_t = ev[0, 2] if np.isfinite(ev[0, 2]) else ev[0, 0]
        t_all = self.history.tail("t_s")
        lo = max(int(np.searchsorted(t_all, first_t)) - 1, 0)
        hi = int(np.searchsorted(t_all, t_ic_s)) + 2
        t = t_all[lo:hi]
        # Rows without angles (a long lost stretch and after it) exclude their strides as lost ones do.
        lost = self.history.tail("lost")[lo:hi] | ~np.isfinite(self.history.tail("heading_offset_rad")[lo:hi])
        strides = segment_strides(t, events, self.history.tail("run")[lo:hi], lost, np.zeros_like(lost),
                                  self.settings.strides, open_end=True, rate_hz=self.settings.rate_hz)
        if not strides or strides[-1].t_next_initial_contact_s != t_ic_s:
            return None
        stride = strides[-1]
        metrics = {name: float(v[0]) for name, v in self._metrics([stride]).items()}
        metrics["thigh_shank_lag_s"] = np.nan
        return stride, metrics

    def _metrics(self, strides: Sequence[Stride]) -> dict[str, np.ndarray]:
        """:func:`~imugait.gait.metrics.strides_metrics` of ``strides`` (in time order, their rows
        in the history) from the angles the history holds."""
        t_all = self.history.tail("t_s")
        lo = max(int(np.searchsorted(t_all, strides[0].t_initial_contact_s)) - 1, 0)
        hi = int(np.searchsorted(t_all, strides[-1].t_next_initial_contact_s)) + 2
        knee = self.history.tail("knee_deg")[lo:hi]
        n_done = min(self._stride_knee.n_appended - (self.history.first_index + lo), knee.shape[0])
        if n_done > 0:  # (rows of strides given with the heading interpolated: _head_strides)
            knee = np.concatenate([self._stride_knee.since("knee_deg", self.history.first_index + lo)[:n_done], knee[n_done:]])
        angles = {"knee_flexion_deg": knee[:, 0], "knee_adduction_deg": knee[:, 1], "knee_rotation_deg": knee[:, 2],
                  "hip_rotation_deg": self.history.tail("hip_rotation_run_deg")[lo:hi]}
        return strides_metrics(t_all[lo:hi], angles, strides)

    def _judged(self, stride: Stride, given: LiveStride, row: dict) -> LiveStride:
        """``given`` with its plausibility against the leg's strides until it (as offline)."""
        recent = list(self._recent)
        until = next((i for i, r in enumerate(recent) if r is row), len(recent) - 1)
        reason = implausible_reasons(stride_columns(recent[:until + 1]))[-1]
        exclusion = stride.exclusion if reason is Exclusion.NONE else reason
        return replace(given, used=exclusion is Exclusion.NONE,
                       exclusion=None if exclusion is Exclusion.NONE else exclusion.value)

    def _finish_strides(self, grid: History, k: int, ended: bool = False) -> None:
        """Give again, with their thigh–shank timing, the strides whose rows for it have come
        (at the tick of grid row ``k``; ``ended``: every stride, with the rows there are, as
        offline at a recording's end): final if their heading windows have come too
        (:meth:`_head_strides`) and their run is not still to be fitted again."""
        while self._untimed and (ended or self._untimed[0].k_lag <= k):
            p = self._untimed.popleft()
            p.row["thigh_shank_lag_s"] = self._thigh_shank_lag_s(grid, p.stride, k, final=p.headed)
            p.timed = True
            final = p.run <= self._runs_done and p.headed
            metrics = {**p.given.metrics, "thigh_shank_lag_s": p.row["thigh_shank_lag_s"]}
            p.given = self._judged(p.stride, replace(p.given, metrics=metrics, final=final), p.row)
            self.new_strides.append(p.given)
            if p.run > self._runs_done:
                self._awaiting_run.append(p)

    def _merge_with_next(self, grid: History, run: int, k_start: int, k_stop: int, settled: int) -> bool:
        """Whether the ended straight ``run`` (grid rows ``k_start .. k_stop - 1``) and the run
        after it, started before ``settled``, are one bout as ``analyze`` finds bouts
        (:func:`~imugait.live.revision.one_bout`: the causal detection ended the run on a wobble the
        centred one does not call a turn) — then they become one run, fitted again over both
        once the later one has ended, as ``analyze`` fits its bout (its strides wait for that)."""
        if self._ended_runs:
            later, later_start = self._ended_runs[0][:2]
        elif self._run_label >= 0:
            later, later_start = self._run_label, self._run_start
        else:
            return False
        first = max(self.history.first_index, grid.first_index)
        w0 = max(k_start - self._n_context, first)
        if not (self.alignment.measures_femur_rotation and w0 < k_stop <= later_start < settled):
            return False
        q_thigh = quat_multiply(self._rows(grid, f"{self.thigh}/q_world_sensor", w0, settled),
                                self.alignment.thigh.q_sensor_segment)
        if not one_bout(self.history.since("t_s", w0)[:settled - w0], q_thigh, self.history.since("motion", w0)[:settled - w0],
                        k_stop - 1 - w0, later_start - w0, self.settings.progression, self.side, self.settings.rate_hz):
            return False
        for p in (*self._awaiting_run, *self._untimed):
            if p.run == run:
                p.run = later
        self._merged = {old: (later if new == run else new) for old, new in self._merged.items() if new > self._runs_done}
        self._merged[run] = later
        if self._ended_runs:
            self._ended_runs[0] = (later, k_start, self._ended_runs[0][2])
        else:
            self._run_start = k_start
        return True

    def _refit_run(self, grid: History, run: int, k_start: int, k_stop: int, settled: int) -> None:
        """Find the walking direction of the ended straight ``run`` (grid rows ``k_start ..
        k_stop - 1``) again, over all of it as offline (:mod:`imugait.live.revision`), from the
        rows before ``settled``; recompute the hip rotation of its rows and the metrics of its
        strides, and give those with their timing again — final if their heading windows have come."""
        self._runs_done = run
        if not self._walk_ending:
            self._runs_refitted.append(k_start)  # (its bout's rows before it: at the walk's end, _judge_walk)
        first = max(self.history.first_index, grid.first_index)
        # A run longer than the history kept (not merged: its line is of this run alone) takes the
        # line of all of it (:class:`~imugait.kinematics.run_direction.WholeRunFit`), as offline.
        line = self._run_lines.get(run) if k_start < first and run not in self._merged.values() else None
        self._run_lines = {r: x for r, x in self._run_lines.items() if r > run}
        k_start = max(k_start, first)
        strides = [p for p in (*self._awaiting_run, *self._untimed) if p.run == run]  # (in time order)
        directions = None
        if k_stop > k_start and line is not None:
            directions = line.at(self.history.since("t_s", k_start)[:k_stop - k_start])
        elif k_stop > k_start and self.alignment.measures_femur_rotation:
            w0 = max(k_start - self._n_context, first)
            in_run = np.zeros(settled - w0, dtype=bool)
            in_run[k_start - w0:k_stop - w0] = True
            q_thigh = quat_multiply(self._rows(grid, f"{self.thigh}/q_world_sensor", w0, settled),
                                    self.alignment.thigh.q_sensor_segment)
            # find_progression over a window around the ended run: its bouts, as offline
            progression = find_progression(self.history.since("t_s", w0)[:settled - w0], q_thigh,
                                           self.history.since("motion", w0)[:settled - w0],
                                           self.settings.progression, side=self.side, rate_hz=self.settings.rate_hz)
            if self._walk_ending:  # (the bout's rows before the run too, as offline: its first strides may be used)
                k_start = w0 + bout_reach(progression, k_start - w0, self.history.since("run", w0)[:settled - w0] < 0)
                in_run[k_start - w0:k_stop - w0] = True
            directions = run_directions_rad(progression, in_run)
        if directions is not None:
            self._redirect(k_start, k_stop, directions, strides)
        for p in strides:
            p.given = self._judged(p.stride, replace(p.given, metrics={name: p.row[name] for name in p.given.metrics},
                                                     final=p.timed and p.headed), p.row)
            if p.timed:
                self.new_strides.append(p.given)
        self._awaiting_run = deque(p for p in self._awaiting_run if p.run != run)

    def _judge_walk(self, grid: History, k: int) -> None:
        """At the end of the walk (grid row ``k``): which of its strides still in the history are
        used, decided as ``analyze`` decides it at a recording's end (:meth:`_bound_as_offline`)
        over the walk's rows and a turn's worth before them (``find_progression`` once over them:
        every bout of the walk, not only the run going on at its end — a run that ended at a stop
        was fitted again before the end, its strides judged over the causal runs); and the rows of
        such a run's bout before the run (:func:`~imugait.live.revision.bout_reach`) take the bout's
        direction, as :meth:`_refit_run` gives them to the run going on at the end (a first stride
        now used has ``analyze``'s hip rotation). Those already given final that changed are
        given again."""
        first = max(self.history.first_index, grid.first_index)
        w0 = max(self._walk_start - self._n_context, first)
        if k - w0 < 2:
            return
        t = self.history.since("t_s", w0)[:k - w0]
        t_walk_s = float(self.history.since("t_s", max(self._walk_start, first))[0])
        strides = [p for p in (*self._headed, *self._unheaded) if p.stride.t_initial_contact_s >= t_walk_s]
        if not strides:
            return
        q_thigh = quat_multiply(self._rows(grid, f"{self.thigh}/q_world_sensor", w0, k), self.alignment.thigh.q_sensor_segment)
        progression = find_progression(t, q_thigh, self.history.since("motion", w0)[:k - w0], self.settings.progression,
                                       side=self.side, rate_hz=self.settings.rate_hz)
        changed = self._bound_as_offline(progression, w0, k, strides)
        free = self.history.since("run", w0)[:k - w0] < 0
        for k_run in self._runs_refitted if self.alignment.measures_femur_rotation else ():
            i = k_run - w0
            j = bout_reach(progression, i, free) if 0 < i < free.size else i
            if j < i:
                reached = [p for p in strides if p.stride.t_initial_contact_s < t[i] and p.stride.t_next_initial_contact_s > t[j]]
                self._redirect(w0 + j, k_run, progression.heading_rad[j:i], reached)
                changed += reached
        for p in dict.fromkeys(changed):  # (once each, in order of change)
            if p.headed:  # (the others are given with their heading: _head_strides)
                p.given = self._judged(p.stride, replace(p.given, metrics={name: p.row[name] for name in p.given.metrics}),
                                       p.row)
                self.new_strides.append(p.given)

    def _bound_as_offline(self, progression: Progression, k0: int, k1: int, strides: Sequence[_Pending]
                          ) -> list[_Pending]:
        """At the end of a walk: which of ``strides`` (in time order) are used, decided as
        ``analyze`` decides it at a recording's end — :func:`~imugait.gait.cycles.segment_strides`
        over grid rows ``k0 .. k1 - 1`` with the bouts ``find_progression`` found there
        (``progression``: the turn margins, the overhang rule) and the last bout ended (its last
        stride an edge), instead of the causal runs and the open end the strides were judged with
        (a stride into a final turn is in the run live, outside the bout offline). The edge
        strides of a short bout are judged against the strides of the window, as offline against
        the leg's. Returns those whose decision changed."""
        if not strides:
            return []
        t = self.history.since("t_s", k0)[:k1 - k0]
        pool = {id(p): p.stride for p in (*self._headed, *self._unheaded, *strides) if p.stride.t_initial_contact_s >= t[0]}
        lost = self.history.since("lost", k0)[:k1 - k0] | ~np.isfinite(self.history.since("heading_offset_rad", k0)[:k1 - k0])
        found = {s.t_initial_contact_s: s for s in strides_in_bouts(t, list(pool.values()), progression, lost,
                                                                    self.settings.strides, self.settings.rate_hz)}
        changed = []
        for p in strides:
            s = found.get(p.stride.t_initial_contact_s)
            if s is not None and s.exclusion is not p.stride.exclusion:
                p.stride = s
                p.row["used"] = s.used
                changed.append(p)
        return changed

    def _redirect(self, k0: int, k1: int, directions: np.ndarray, strides: Sequence[_Pending]) -> None:
        """The hip rotation the strides read of grid rows ``k0 .. k1 - 1`` against the walking
        directions (rad) found again, and the metrics of ``strides`` (theirs, in time order) from
        it. The rows' angles as shown stay as they were taken (whenever they are polled)."""
        self.angles_until(k1)
        lost, (side, q_thigh, q_shank, _live) = self._angle_input(k0, k1)
        hip_deg = np.rad2deg(legs_angles([(side, q_thigh, q_shank, directions)])[0].hip_rotation_progression_rad)
        hip_deg[lost] = np.nan
        self.history.since("hip_rotation_run_deg", k0)[:k1 - k0] = hip_deg
        if strides:
            metrics = self._metrics([p.stride for p in strides])
            for i, p in enumerate(strides):
                p.row.update({name: float(values[i]) for name, values in metrics.items()})

    def _release_old(self, t_old: float) -> None:
        """Give final, as they are, the strides whose rows are about to leave the history before
        their run has ended (a straight run longer than the history) or their heading windows
        have come (a history shorter than those few seconds): those that begin by ``t_old`` (s;
        two ticks after the history's oldest row at the tick)."""
        while self._headed and self._headed[0].stride.t_initial_contact_s <= t_old:
            self._headed.popleft()
        if not (self._awaiting_run or self._unheaded):
            return
        released = []
        while self._awaiting_run and self._awaiting_run[0].stride.t_initial_contact_s <= t_old:
            released.append(self._awaiting_run.popleft())
        self._redirect_released([p for p in released if p.run == self._run_fit_label >= 0])
        for p in released:
            p.run = -1  # (given up)
        while self._unheaded and self._unheaded[0].stride.t_initial_contact_s <= t_old:
            released.append(self._unheaded.popleft())
            released[-1].headed = True  # (given up)
        for p in dict.fromkeys(released):  # (once each, in order)
            if p.timed and p.headed and p.run <= self._runs_done:
                p.given = replace(p.given, final=True)
                self.new_strides.append(p.given)

    def _redirect_released(self, strides: list[_Pending]) -> None:
        """Strides of the straight run still going on whose rows are about to leave the history:
        their hip rotation against the run's line over all of it so far (:class:`WholeRunFit`,
        closer to the whole bout's of ``analyze`` than the newest seconds' direction the rows were
        shown with) — unless the run continues an earlier one it was merged with (its line is of
        this run alone)."""
        line = self._run_fit.line() if strides and self._run_fit_label not in self._merged.values() else None
        if line is None:
            return
        t_all = self.history.tail("t_s")
        first = self.history.first_index
        k0 = first + max(int(np.searchsorted(t_all, strides[0].stride.t_initial_contact_s)) - 1, 0)
        k1 = first + min(int(np.searchsorted(t_all, strides[-1].stride.t_next_initial_contact_s)) + 2, t_all.size)
        self._redirect(k0, k1, line.at(self.history.since("t_s", k0)[:k1 - k0]), strides)
        for p in strides:
            p.given = self._judged(p.stride, replace(p.given, metrics={name: p.row[name] for name in p.given.metrics}),
                                   p.row)

    def end_walk(self) -> None:
        """The walk has ended at the newest row taken — the stream ended, or a clinician's "walk
        done" while it goes on (:meth:`~imugait.live.kinematics.LiveKinematics.end_pass`): what
        waited for rows after the newest is decided with the rows there are, as offline at a
        recording's end — the motion of the rows after the last tick (its windows cut at the end),
        the events once more with the end as the recording's
        (:func:`~imugait.gait.events.trailing_events` ``ended``: the last stride of a walk that
        did not stop is given), the thigh–shank timing of the strides still without it, the
        walking direction of a straight run still going on (it ends here: fitted again over all of
        it, :meth:`_refit_run`) and of the runs ended less than the margin before; the strides
        waiting for a heading window are given with the windows there are (the last held after
        its centre; :meth:`_head_strides`); with a mid-stance reference, the strides still in the
        history with the reference over every walk so far (:meth:`_revise_reference`). Every
        stride of the walk is then final.

        The rows that come after are a new walk (:meth:`_new_walk`). Called again with no row
        taken since, it does nothing."""
        self.finish_tick()
        k = self.history.n_appended
        if k == self._walk_ended_at:
            return
        self._walk_ending = True
        grid = self._grid
        if grid is not None and k > max(self.history.first_index, grid.first_index):
            if k > self._settled:
                self._settle(grid, self._settled, k, k, ended=True)
                self._settled = k
            self._heading_windows(grid, k)
            self._find_strides(grid, k, k, ended=True)
            self._finish_strides(grid, k, ended=True)
            if self._run_label >= 0:
                self._ended_runs.append((self._run_label, self._run_start, k))
                self._run_label = -1
            self._feed_run_fit(grid, k)
            self._end_run_fit()
            while self._ended_runs:
                ended = self._ended_runs.popleft()
                if not self._merge_with_next(grid, *ended, k):
                    self._refit_run(grid, *ended, k)
            self._judge_walk(grid, k)
        self._head_strides()
        self._revise_reference()
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
        against (``analyze``: all the leg's strides); the strides' numbering; the history."""
        self._walk_ending = False
        self._walk_ended_at = self._walk_start = k
        self._runs_refitted = []
        self._events.clear()
        if self._early is not None:
            self._withdraw()  # (the end's detection settles every mid-swing: left only if it looked at none)
        if k > self.history.first_index:
            self._walk_from_s = float(self.history.tail("t_s")[-1])
        self._progression.end_run()

    def _head_strides(self) -> None:
        """Give again the strides whose heading windows have come with their knee metrics
        computed as ``analyze`` computes them: the thigh–shank heading offset of their rows
        interpolated between the centres of the offline track's windows before and after them
        (:func:`~imugait.calibration.heading.interpolated_track`, offline's own) instead of the
        latest window held (:meth:`_held_offsets`; docs/live.md, "The heading offset after the
        calibration"). A stride waits for the first offline window centred after its last row
        (about 2–4.5 s of data after its end with 4-s windows every 2 s; each is complete half a
        window after its centre), or until an offline window whose middle is after its last row
        has given no estimate (too little knee motion: the leg stopped; the last window before is
        held, as offline where no window follows). Only its rows are recomputed, once (rows shared
        with the stride before are not again; rows of the calibration's own track stay as they
        were); final unless its timing or its run's walking direction is still to come."""
        while self._unheaded:
            p = self._unheaded[0]
            if not (self._walk_ending or self._offline_unestimated >= 0 or self._offline_windows
                    and self._offline_windows[-1][0] >= p.stride.t_next_initial_contact_s):
                return  # (most ticks: nothing to look at)
            t_all = self.history.tail("t_s")
            first = self.history.first_index
            i0 = max(int(np.searchsorted(t_all, p.stride.t_initial_contact_s)) - 1, 0)  # (the rows _metrics reads)
            i1 = min(int(np.searchsorted(t_all, p.stride.t_next_initial_contact_s)) + 2, t_all.size)
            if not (self._walk_ending or self._offline_windows and self._offline_windows[-1][0] >= t_all[i1 - 1]
                    or self._offline_unestimated >= first + i1 - 1):
                return
            self._unheaded.popleft()
            if self._midstance is not None:
                self._midstance.add_stride(t_all, p.stride.t_initial_contact_s, p.stride.t_next_initial_contact_s,
                                           lambda j0, j1, k=first: self._reference_rows(k + j0, k + j1))
            self._reheaded_rows(first + i0, first + i1)
            p.headed = True
            self._headed.append(p)
            metrics = self._metrics([p.stride])
            p.row.update({name: float(values[0]) for name, values in metrics.items()})
            if p.timed:  # (its timing again with the offset of its final version, as offline)
                p.row["thigh_shank_lag_s"] = self._thigh_shank_lag_s(self._grid, p.stride, self.history.n_appended, final=True)
            final = p.timed and p.run <= self._runs_done
            p.given = self._judged(p.stride, replace(p.given, metrics={name: p.row[name] for name in p.given.metrics},
                                                     final=final), p.row)
            if p.timed:
                self.new_strides.append(p.given)

    def _reheaded_rows(self, k0: int, k1: int) -> None:
        """Extend the strides' knee angles (``_stride_knee``) to grid row ``k1``: the rows from
        ``k0`` on recomputed with the heading offset interpolated between the offline windows
        estimated so far, those before as shown (between strides, or the calibration's own track)."""
        done = self._stride_knee
        if done.n_appended < self.history.first_index:
            done.skip_to(self.history.first_index)
        revised = self._midstance.alignment if self._midstance is not None and self._midstance.n_strides else None
        # (Rows of the calibration's own track are as shown — unless the frames were revised.)
        k_new = min(max(k0, done.n_appended, self._known_until if revised is None else k0), k1)
        self.angles_until(k1)
        if k_new > done.n_appended:
            done.append({"knee_deg": self.history.since("knee_deg", done.n_appended)[:k_new - done.n_appended]})
        if k1 <= k_new:
            return
        if not self._offline_windows and revised is None:
            done.append({"knee_deg": self.history.since("knee_deg", k_new)[:k1 - k_new]})
            return
        lost, rows = self._angle_input(k_new, k1, self._final_offsets(k_new, k1), revised)
        knee_deg = np.rad2deg(legs_angles([rows])[0].knee_rad)
        knee_deg[lost] = np.nan
        done.append({"knee_deg": knee_deg})


    def _reference_rows(self, k0: int, k1: int) -> tuple[np.ndarray, ...]:
        """The thigh's and shank's orientations (K, 4) and accelerations (K, 3) of grid rows
        ``k0 .. k1 - 1`` and their final heading offset (K,; NaN: lost)."""
        grid = self._grid
        lost = self._rows(grid, f"{self.thigh}/lost", k0, k1) | self._rows(grid, f"{self.shank}/lost", k0, k1)
        return (self._rows(grid, f"{self.thigh}/q_world_sensor", k0, k1), self._rows(grid, f"{self.shank}/q_world_sensor", k0, k1),
                self._rows(grid, f"{self.thigh}/acc_mps2", k0, k1), self._rows(grid, f"{self.shank}/acc_mps2", k0, k1),
                np.where(lost, np.nan, self._final_offsets(k0, k1)))

    def _revise_reference(self) -> None:
        """At the stream's end, with the mid-stance reference over the whole walk (as ``analyze``
        has it): the knee angles of the strides still in the history computed again with its
        frames, and those whose metrics changed given again (their final flag as it was)."""
        if self._midstance is None or not self._midstance.n_strides or not self._headed:
            return
        done = self._stride_knee
        k0 = max(self.history.first_index, self._grid.first_index, done.first_index)
        k1 = done.n_appended
        if k1 <= k0:
            return
        lost, rows = self._angle_input(k0, k1, self._final_offsets(k0, k1), self._midstance.alignment)
        knee_deg = np.rad2deg(legs_angles([rows])[0].knee_rad)
        knee_deg[lost] = np.nan
        done.since("knee_deg", k0)[:k1 - k0] = knee_deg
        for p in self._headed:
            metrics = self._metrics([p.stride])
            p.row.update({name: float(values[0]) for name, values in metrics.items()})
            given = self._judged(p.stride, replace(p.given, metrics={name: p.row[name] for name in p.given.metrics}),
                                 p.row)
            if not _same_stride(given, p.given):
                p.given = given
                if p.timed:
                    self.new_strides.append(given)

    def _final_offsets(self, k0: int, k1: int) -> np.ndarray:
        """The thigh–shank heading offset (rad) of grid rows ``k0 .. k1 - 1`` as a stride's final
        version takes it: interpolated between the centres of the offline track's windows
        estimated so far (:func:`~imugait.calibration.heading.interpolated_track`, offline's own;
        the latest held when there are none), the calibration's own track on the rows it was
        fitted on (held already), NaN where the held one is (no angles)."""
        held = self.history.since("heading_offset_rad", k0)[:k1 - k0]
        k_new = min(max(k0, self._known_until), k1)
        if k_new >= k1 or not self._offline_windows:
            return held
        centres, estimates = zip(*self._offline_windows, strict=True)
        t = self.history.since("t_s", k_new)[:k1 - k_new]
        interpolated = interpolated_track(t, list(centres), list(estimates), self.heading_offset_rad)[0]
        return np.concatenate([held[:k_new - k0], np.where(np.isfinite(held[k_new - k0:]), interpolated, np.nan)])


def angles_of_legs(legs: Sequence[LiveLeg], k1: int | None = None) -> None:
    """:meth:`LiveLeg.angles_until` of every leg of ``legs``, their joints in one rotation
    conversion (:func:`~imugait.kinematics.angles.legs_angles`: the same values as leg by leg)."""
    pending = [(leg, rows) for leg in legs if (rows := leg._angle_rows(k1)) is not None]
    if not pending:
        return
    for (leg, (k0, k1_leg, lost, _)), angles in zip(pending, legs_angles([rows[3] for _, rows in pending]), strict=True):
        leg._store_angles(k0, k1_leg, lost, angles)


def _same_stride(a: LiveStride, b: LiveStride) -> bool:
    """The same stride, judgement, and events and metrics to within what no view shows (0.1 ms,
    0.001 of a metric's unit; NaN equal to NaN): a settled stride is not given again for the
    last bits its low-passes' transients still moved (its final version carries them)."""
    if (a.side, a.index, a.used, a.exclusion) != (b.side, b.index, b.used, b.exclusion) or a.metrics.keys() != b.metrics.keys():
        return False
    events = [[s.t_initial_contact_s, s.t_toe_off_s, s.t_next_initial_contact_s] for s in (a, b)]
    return (np.allclose(*events, rtol=0, atol=1e-4, equal_nan=True)
            and np.allclose(list(a.metrics.values()), list(b.metrics.values()), rtol=0, atol=1e-3, equal_nan=True))
