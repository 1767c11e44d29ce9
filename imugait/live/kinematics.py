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

This module holds the calls (:class:`LiveKinematics`) and their lock; the flow behind them is
:class:`~imugait.live.flow.LiveFlow` with its parts (:mod:`imugait.live.reference_search`,
:mod:`imugait.live.calibration_jobs`, :mod:`imugait.live.calibration_states`,
:mod:`imugait.live.grid_legs`), the settings :mod:`imugait.live.config`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from imugait.acquisition.assembler import LiveSamples
from imugait.analysis.expected_error import STANDING
from imugait.conventions import Placement, Side
from imugait.errors import ValidationError
from imugait.live.config import LiveCalibration, LiveConfig
from imugait.live.flow import LiveFlow
from imugait.live.updates import LegCalibrationState, LiveUpdate
from imugait.model import ProtocolStep, Session

POLLED_GRID_STEP_S = 0.25
"""``grid_step_s`` of :meth:`LiveKinematics.for_dashboard`: a feed advances the grid only once this
much is ready (a view that stops polling still keeps the buffers bounded); the polls take the rest."""


class LiveKinematics(LiveFlow):
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
        results are the same (to the last bits of an angle: see :mod:`imugait.live.leg_start`).
        The leg waits without holding ``feed`` or ``poll`` up: its job is waited for only once it
        is :data:`~imugait.live.flow.MAX_LAG_SHARE` of the history behind (or
        ``max_calibration_lag_s``); a retry that its failure would decide meanwhile is prepared at
        its own grid row and run if it fails (:mod:`imugait.live.calibration_jobs`). None: each
        calibration runs inside the ``feed`` or ``poll`` that decides it.
    max_calibration_lag_s : None: :data:`~imugait.live.flow.MAX_LAG_SHARE` of the history (see
        ``calibrate_with``); a number: this much grid time (at most that).
    deferred_tails : a poll leaves the tail of each leg's last tick — the strides' final versions,
        the ended runs' refits (:meth:`~imugait.live.leg.LiveLeg.finish_tick`) — for
        :meth:`finish_ticks`, which a view calls once it has pushed what the poll gave (they come
        with the next poll); any other call runs them first. Every step of every leg comes in the
        same order as without, on the same state but for the rows the poll took after the tick
        (fewer than a tick's; see :meth:`~imugait.live.leg.LiveLeg.finish_tick`): the same results
        (tests/live/test_live_deferred_tails.py); only the poll that gives a stride's final
        version can be the next one.
    """

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
            self._take(samples)

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
            return self._end()

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
        docs/live-history.md "Single late angles".)"""
        with self._lock:
            return self._poll()

    def finish_ticks(self) -> None:
        """Run the legs' ticks' tails a poll left pending (``deferred_tails``): the strides' final
        versions they give come with the next poll. A view calls it once it has pushed the poll's
        update; if it does not, the next call of the pipeline runs them first."""
        with self._lock:
            self._legs.finish_ticks()

    def calibration_states(self) -> tuple[LegCalibrationState, ...]:
        """Every leg's calibration state now (``poll`` gives them only when they change)."""
        return tuple(self._states.states.values())

    @property
    def calibration(self) -> LiveCalibration | None:
        """This run's calibration (to reuse later), once every leg is calibrated."""
        if not self.legs or len(self.legs) < len(self.sides):
            return None
        return LiveCalibration({s: leg.alignment for s, leg in self.legs.items()}, dict(self.gyr_bias_radps),
                               self._search.standing_step, {s: self._legs.references.get(s, STANDING) for s in self.legs})

    def recalibrate(self) -> None:
        """Drop the calibration (this run's, or an earlier one reused) and calibrate again from the
        next standing and walking (or against mid-stance after ``standing_wait_s`` of walking
        without standing). The sensors' filters go on; the legs' angles stop until then; the
        strides go on being numbered where they were."""
        with self._lock:
            self._recalibrate()


def session_with_standing(session: Session, step: ProtocolStep) -> Session:
    """``session`` whose only protocol step is the standing the live pipeline found: analysed
    offline, it is calibrated against the same standing as live (for comparisons)."""
    return Session(session.streams, replace(session.meta, steps=(step,)))
