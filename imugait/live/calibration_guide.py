"""The guided intrinsic calibration fed by a live sensor: decoded messages in, what to show out.

:class:`LiveGuide` sits between live acquisition and :class:`IntrinsicProcedure`. Give
:meth:`LiveGuide.observe` to :class:`~imugait.live.acquisition.LiveAcquisition` as its
``observer``: it learns the device id and sample rate from the sensor's announcement, starts the
procedure with the first samples and feeds it every block as it arrives. :attr:`LiveGuide.state`
is a :class:`GuideState`: everything a user interface shows (instruction, seconds held still,
whether the sensor is still, whether the position is new, overall progress, what to do now),
independent of how it is drawn.

Sensors that never announce themselves (vendor protocols) need the device id from the caller;
their rate is estimated from the first second of sample times.

The procedure is fed on the sensor's *sample clock*: the session time of the first sample plus
the number of samples since (received and lost, from the sequence counter) over the rate. Holds
are thus timed by the sensor's crystal, and only lost samples count as gaps; the session clock's
causal mapping can step by tens of milliseconds when it is refitted (more with a jittery link or
an emulation played fast), which the procedure would take for a gap and restart the still count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.calibration.procedure import (
    IntrinsicProcedure,
    ProcedureConfig,
    ProcedureResult,
    Progress,
)
from imugait.calibration.steps import StepKind
from imugait.errors import CalibrationError, ImugaitError
from imugait.protocol.messages import DeviceAnnouncement

RATE_ESTIMATE_S = 1.0
"""Without an announced rate, samples are buffered this long (session s) to estimate it."""
ACCEPTED_SHOWN_S = 3.0
"""How long (session s) the prompt names the position just accepted."""


@dataclass(frozen=True)
class GuideState:
    """What the guided calibration shows at one moment.

    Attributes
    ----------
    phase : ``"waiting"`` (no samples yet), ``"running"``, ``"done"`` (all steps accepted) or
        ``"failed"`` (see ``problem``).
    device_id : the id the calibration will be written under ("" until known).
    step_number : 1-based number of the current step (``n_steps`` once done; 0 before start).
    title, instruction : of the current step ("" when none).
    is_hold : the current step is a still position (else the rotation).
    stillness : ``"still"``, ``"not still"`` or ``"no data"``.
    still_s : seconds the sensor has been still in the current position.
    hold_s : seconds a position must be held.
    position : the current position in words (``"z up"``), "" while moving.
    is_new : the current position differs from every accepted one.
    matches_step : the current position is the one the step asks for.
    rotation_s, coverage : progress of the rotation step (s, fraction of directions).
    overall : fraction of the whole procedure done (0–1).
    prompt : what the person should do now.
    accepted : one line per step accepted so far.
    t_s : session time of the newest sample (s).
    problem : why the guide stopped (phase ``"failed"``), else "".
    """

    phase: str
    device_id: str
    step_number: int
    n_steps: int
    title: str
    instruction: str
    is_hold: bool
    stillness: str
    still_s: float
    hold_s: float
    position: str
    is_new: bool
    matches_step: bool
    rotation_s: float
    coverage: float
    overall: float
    prompt: str
    accepted: tuple[str, ...]
    t_s: float
    problem: str


class LiveGuide:
    """The procedure of one live sensor, started and fed from decoded messages.

    Parameters
    ----------
    config : ProcedureConfig
    device_id : the id to write the calibration under; None: the one the sensor announces.
    """

    def __init__(self, config: ProcedureConfig | None = None, device_id: str | None = None) -> None:
        self.config = config or ProcedureConfig()
        self._device_id = device_id
        self._announcement: DeviceAnnouncement | None = None
        self.procedure: IntrinsicProcedure | None = None
        self._pending: list = []
        self._t0_s = 0.0
        """Session time of the first sample: the origin of the sample clock (s)."""
        self._k = 0
        """Samples (received or lost) since the first."""
        self._progress: Progress | None = None
        self._accepted: list[str] = []
        self._last_accept_t = -np.inf
        self._t_s = 0.0
        self.problem = ""
        self.n_samples = 0

    # ------------------------------------------------------------------ input
    def observe(self, placement, message, live) -> None:
        """``LiveAcquisition`` observer: announcements and sample blocks; never raises (an error
        stops the guide with :attr:`problem` set)."""
        if self.problem or self.done:
            return
        try:
            if isinstance(message, DeviceAnnouncement):
                self._announcement = message
            elif live is not None and live.t_s.size:
                self.feed(live.t_s, live.acc_mps2, live.gyr_radps, live.mag_uT, live.n_lost)
        except ImugaitError as exc:
            self.problem = str(exc)

    def feed(self, t_s, acc_mps2, gyr_radps, mag_uT=None, n_lost: int = 0) -> None:
        """Samples as they arrive: ``t_s`` (N,) s session time; (N, 3) m/s², rad/s, µT or None;
        ``n_lost`` samples lost just before them."""
        self.n_samples += int(np.size(t_s))
        self._t_s = float(np.asarray(t_s)[-1])
        if self.procedure is None:
            self._pending.append((t_s, acc_mps2, gyr_radps, mag_uT, n_lost))
            if not self._start():
                return
            pending, self._pending = self._pending, []
            self._t0_s = float(np.asarray(pending[0][0])[0])
            for chunk in pending:
                self._feed(*chunk)
            return
        self._feed(t_s, acc_mps2, gyr_radps, mag_uT, n_lost)

    # ------------------------------------------------------------------ output
    @property
    def device_id(self) -> str:
        if self._device_id:
            return self._device_id
        return "" if self._announcement is None else self._announcement.device_id

    @property
    def done(self) -> bool:
        return self.procedure is not None and self.procedure.done

    @property
    def failed(self) -> bool:
        return bool(self.problem)

    @property
    def state(self) -> GuideState:
        p, hold_s = self._progress, self.config.hold_s
        phase = "failed" if self.problem else "waiting" if p is None else "done" if p.done else "running"
        if p is None:
            return GuideState(phase, self.device_id, 0, 0, "", "", True, "no data", 0.0, hold_s, "", False, False,
                              0.0, 0.0, 0.0, self.problem or "waiting for the sensor's first samples",
                              (), self._t_s, self.problem)
        step = p.step
        prompt = p.hint
        if self._accepted and self._t_s - self._last_accept_t < ACCEPTED_SHOWN_S and not p.done:
            prompt = f"accepted — now {step.title}: {prompt}"
        return GuideState(
            phase=phase, device_id=self.device_id, step_number=min(p.step_index + 1, p.n_steps),
            n_steps=p.n_steps, title="" if step is None else step.title,
            instruction="" if step is None else step.instruction,
            is_hold=step is None or step.kind is StepKind.HOLD,
            stillness="still" if p.is_still else "not still", still_s=p.still_s, hold_s=hold_s,
            position=p.position, is_new=p.is_new, matches_step=p.matches_step, rotation_s=p.rotation_s,
            coverage=p.coverage, overall=overall_fraction(p, self.config), prompt=self.problem or prompt,
            accepted=tuple(self._accepted), t_s=self._t_s, problem=self.problem,
        )

    def finish(self, created_at: str | None = None) -> ProcedureResult:
        """The calibration (see :meth:`IntrinsicProcedure.finish`).

        Raises
        ------
        CalibrationError
            No samples arrived, the guide stopped on an error, or a step is not complete (the
            message says which and why).
        """
        if self.problem:
            raise CalibrationError(self.problem)
        if self.procedure is None:
            raise CalibrationError("no samples arrived from the sensor: is it on, and streaming?")
        return self.procedure.finish(created_at)

    # ------------------------------------------------------------------ internals
    def _start(self) -> bool:
        """Create the procedure once the device id and rate are known; False: not yet."""
        rate = self._announcement.sample_rate_hz if self._announcement is not None else None
        if rate is None:
            t = np.concatenate([np.atleast_1d(c[0]) for c in self._pending])
            if t.size < 10 or t[-1] - t[0] < RATE_ESTIMATE_S:
                return False
            rate = (t.size - 1) / float(t[-1] - t[0])
        if not self.device_id:
            raise CalibrationError(
                "the sensor did not announce its id (its protocol has no device information): give --device ID"
            )
        has_mag = self._pending[0][3] is not None
        if self._announcement is not None and not self._announcement.mag_range_uT:
            has_mag = False
        self.procedure = IntrinsicProcedure(self.device_id, rate, self.config, has_magnetometer=has_mag)
        self._progress = self.procedure.progress
        return True

    def _feed(self, t_s, acc, gyr, mag, n_lost: int) -> None:
        if self.procedure.done:
            return
        n = int(np.size(t_s))
        self._k += int(n_lost) if self._k else 0  # losses before the first sample do not count
        t_sample = self._t0_s + (self._k + np.arange(n)) / self.procedure.sample_rate_hz
        self._k += n
        self._progress = self.procedure.feed(t_sample, acc, gyr, mag)
        if self._progress.events:
            self._accepted.extend(self._progress.events)
            self._last_accept_t = self._t_s


def overall_fraction(progress: Progress, config: ProcedureConfig) -> float:
    """Fraction of the procedure done: whole steps plus the part of the current one."""
    if progress.done:
        return 1.0
    step = progress.step
    if step.kind is StepKind.HOLD:
        counts = progress.is_still and progress.matches_step and progress.is_new
        part = min(progress.still_s / config.hold_s, 1.0) if counts else 0.0
    else:
        part = min(progress.rotation_s / config.rotation_s, progress.coverage / config.rotation_min_coverage, 1.0)
    return (progress.step_index + part) / progress.n_steps


@dataclass(frozen=True)
class GuidedAcquisition:
    """How a guided calibration's acquisition ended.

    Attributes
    ----------
    interrupted : stopped by Ctrl-C (or ``stop``) before the procedure was done.
    sensor : the sensor's final live status.
    true_time_offset_s : emulation only: the emulator's time minus session time (s).
    """

    interrupted: bool
    sensor: object
    true_time_offset_s: float | None


async def guided_calibration(guide: LiveGuide, opener, stop=None, on_state=None, on_tick=None,
                             tick_s: float = 0.1) -> GuidedAcquisition:
    """Open one sensor (``opener``, see :mod:`imugait.live.run`), feed ``guide`` every block as it
    arrives until the procedure is done, the guide fails, the sensor or emulation ends, or Ctrl-C
    / ``stop`` (an ``asyncio.Event``). ``on_state(GuideState)`` after every decoded message;
    ``on_tick(sensor_status)`` every ``tick_s``."""
    import asyncio
    import contextlib

    from imugait.live.acquisition import LiveAcquisition
    from imugait.live.run import stop_on_sigint

    async with contextlib.AsyncExitStack() as stack:
        opened = await opener(stack)
        if len(opened.sources) != 1:
            raise ImugaitError(f"calibrate one sensor at a time: got {len(opened.sources)} (--port/--ble)")

        def observe(placement, message, live) -> None:
            guide.observe(placement, message, live)
            if on_state is not None:
                on_state(guide.state)

        acquisition = LiveAcquisition(opened.sources, opened.live_config(keep_samples=False), observer=observe)
        stop = stop or asyncio.Event()
        emulator = opened.emulator

        def over() -> bool:
            if guide.done or guide.failed:
                return True
            if emulator is None or not emulator.finished:
                return False
            return acquisition.status()[0].n_samples >= sum(emulator.finished_counts.values())

        with stop_on_sigint(stop):
            async with acquisition:
                tick = None if on_tick is None else (lambda status: on_tick(status[0]))
                await acquisition.run(stop=stop, until=over, tick_s=tick_s, on_tick=tick)
                if on_tick is not None:
                    on_tick(acquisition.status()[0])
        offset = None if emulator is None else acquisition.t0_host_s - emulator.world_t0_s
        return GuidedAcquisition(stop.is_set() and not guide.done, acquisition.status()[0], offset)
