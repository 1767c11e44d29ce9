"""The guided run on live acquisition: prompts, countdowns, recording, checks, redo.

:class:`GuidedDriver` advances a :class:`~imugait.assessment.guided.GuidedRun` on the session
clock of a :class:`~imugait.acquisition.recorder.Recorder`; a *person* says when they are ready,
when the movement starts and when it ends:

* :class:`KeyboardPerson` — a real person (Enter: ready / done early, ``s`` Enter: skip the step,
  ``q`` Enter: stop); recording starts after the countdown and stops after the step's ``hold_s``;
* :class:`~imugait.emulate.person.ScriptedPerson` — the emulated person, whose times come
  from the simulated battery (``imugait.emulate`` supplies it; this module does not import it).

After each recording the step's quality check (:func:`~imugait.assessment.guided_steps.check_step`)
runs in a worker thread while acquisition continues. The step goes into the session under its
name when it passed (or after the last allowed attempt); a failed attempt is kept in the log and
the session as ``failed:<step>:<attempt>``, a name the assessment ignores.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imugait.assessment.guided import GuidedRun, GuidedState, StepMark
from imugait.assessment.guided_steps import check_step
from imugait.assessment.result import ProtocolResult
from imugait.model import EventKind, ProtocolStep

CHECK_MARGIN_S = 0.5
"""Samples of every sensor must have arrived this far past a step's end before it is checked."""
CHECK_WAIT_S = 10.0
"""Session time after which a step is checked even when a sensor has not delivered (link lost)."""
CHECK_AT_S = 1.0
"""On a paced (virtual) clock, a step is checked exactly this long after its end, with everything
sent up to then handled: the check sees the same data however busy the machine is."""
HOLD_PAST_S = 1e-6
"""A paced clock is held this far past a decision time, so rounding cannot leave it short."""
FAILED_PREFIX = "failed"


@dataclass(frozen=True)
class Cue:
    """What the person does next: ready at ``ready_s``; the movement starts at ``start_s`` (None:
    after the run's countdown) and ends at ``end_s`` (None: when they say so or at ``hold_s``)."""

    ready_s: float
    start_s: float | None = None
    end_s: float | None = None


SKIP = Cue(float("nan"))
"""The person cannot do the step (an emulated script without a further performance of it)."""


class KeyboardPerson:
    """A real person answering on the terminal (one line per answer, read in a thread)."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True, name="imugait-assess-keys").start()

    def _read(self) -> None:
        for line in sys.stdin:
            with self._lock:
                self._lines.append(line.strip().lower())

    def command(self) -> str | None:
        """``next`` (Enter), ``skip`` (s), ``quit`` (q), or None."""
        with self._lock:
            if not self._lines:
                return None
            line = self._lines.pop(0)
        return {"": "next", "s": "skip", "q": "quit"}.get(line[:1], "next")

    def cue(self, step: str, attempt: int, t_s: float) -> Cue | None:
        return None

    def ready_s(self, step: str, attempt: int) -> float | None:
        return None  # a person says when


@dataclass(frozen=True)
class Pacing:
    """How a guided run holds a virtual clock (an emulation's,
    :class:`~imugait.emulate.clock.VirtualClock`): ``hold(t_s)`` keeps it from passing session
    time ``t_s`` (None: let it run); ``settled()`` is True when the host has handled every byte
    sent so far. With pacing, every decision (a cue, a recording's end, a check) happens at its
    own session time, not at whatever time the driver's loop happened to look."""

    hold: Callable[[float | None], None]
    settled: Callable[[], bool]


def pacing_of(clock, t0_host_s: float) -> Pacing | None:
    """The :class:`Pacing` of ``clock`` (host clock, session time 0 at ``t0_host_s``), None for a
    clock that cannot be held (real time)."""
    if not hasattr(clock, "hold"):
        return None

    def hold(t_s: float | None) -> None:
        if t_s is None or not math.isfinite(t_s):
            clock.release("guided")
        else:
            clock.hold("guided", t0_host_s + t_s + HOLD_PAST_S)

    return Pacing(hold, lambda: not clock.busy())


class GuidedDriver:
    """Advance ``run`` with ``person`` on the session clock ``now()``; write the steps to ``recorder``.
    ``pacing``: hold a virtual clock at each decision (emulations; None: real time)."""

    def __init__(self, run: GuidedRun, recorder, now: Callable[[], float], person, config=None,
                 pacing: Pacing | None = None) -> None:
        self.run, self.recorder, self.now, self.person, self.config = run, recorder, now, person, config
        self.pacing = pacing
        self.accepted: list[ProtocolStep] = []
        self.results: list[tuple[StepMark, ProtocolResult]] = []
        self.quit = False
        self._cue: Cue | None = None
        self._check: asyncio.Task | None = None
        self._check_cache: dict = {}
        """Shared by the steps' checks (the legs' calibration on the walking test)."""

    @property
    def checking(self) -> bool:
        return self.run.state is GuidedState.CHECKING

    async def drive(self, stop: asyncio.Event, on_tick: Callable[[], None] = lambda: None,
                    until: Callable[[], bool] = lambda: False, tick_s: float = 0.05) -> None:
        """Until the run finishes, ``stop`` is set or ``until()`` (e.g. the emulation ended)."""
        while self.run.state is not GuidedState.FINISHED and not stop.is_set() and not self.quit:
            if until() and self.run.state is not GuidedState.CHECKING:
                break
            self.advance()
            if self.pacing is not None:
                self.pacing.hold(self._next_decision_s())
            on_tick()
            self.recorder.sync_if_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_s)
        if self._check is not None:
            with contextlib.suppress(Exception):
                await self._check
        if self.pacing is not None:
            self.pacing.hold(None)

    def _next_decision_s(self) -> float | None:
        """Session time of the run's next decision (None: none scheduled, e.g. a person presses Enter)."""
        state = self.run.state
        if state in (GuidedState.PROMPT, GuidedState.REDO):
            return self.person.ready_s(self.run.step_name, self.run.attempt)
        if state is GuidedState.COUNTDOWN:
            return self._cue.start_s
        if state is GuidedState.RECORDING:
            return self._cue.end_s
        if state is GuidedState.CHECKING:
            return self.now() if self._check is not None else self.run.marks[-1].t_end_s + CHECK_AT_S
        return None

    def advance(self) -> None:
        run, t = self.run, self.now()
        command = self.person.command()
        if command == "quit":
            self.quit = True
            return
        state = run.state
        if state in (GuidedState.PROMPT, GuidedState.REDO):
            if command == "skip":
                run.skip(t)
                return
            cue = self.person.cue(run.step_name, run.attempt, t) or (Cue(t) if command == "next" else None)
            if cue is SKIP:
                run.skip(t)
            elif cue is not None:
                self._cue = cue
                if cue.start_s is not None:
                    run.countdown_s = cue.start_s - cue.ready_s
                run.ready(cue.ready_s)
        elif state is GuidedState.COUNTDOWN:
            start = self._cue.start_s
            if start is None:
                run.tick(t)
            elif t >= start:
                run.tick(start)
        elif state is GuidedState.RECORDING:
            end = self._cue.end_s
            if end is not None:
                if t >= end:
                    run.done(end)
            elif command == "next":
                run.done(t)
            else:
                run.tick(t)
        elif state is GuidedState.CHECKING:
            self._advance_check(t)

    def _data_until_s(self) -> float:
        """Session time up to which every sensor's samples have arrived (-inf before the first)."""
        assembler = self.recorder.assembler
        newest = []
        for p in assembler.placements():
            window = assembler.live_window(p)
            newest.append(float(window.t_s[-1]) if window is not None and window.t_s.size
                          else assembler.health(p).last_arrival_s - assembler.t0_host_s)
        return min(newest, default=float("-inf"))

    def _advance_check(self, t: float) -> None:
        mark = self.run.marks[-1]
        if self._check is None:
            if self.pacing is not None:
                if t < mark.t_end_s + CHECK_AT_S or not self.pacing.settled():
                    return
            elif self._data_until_s() < mark.t_end_s + CHECK_MARGIN_S and t < mark.t_end_s + CHECK_WAIT_S:
                return
            session = self.recorder.assemble().session
            step = ProtocolStep(mark.name, mark.t_start_s, mark.t_end_s)
            self._check = asyncio.ensure_future(asyncio.to_thread(check_step, session, step, list(self.accepted), self.config,
                                                                  self._check_cache))
        elif self._check.done():
            result = self._check.result()
            self._check = None
            keep = result.passed or mark.attempt >= self.run.max_attempts
            name = mark.name if keep else f"{FAILED_PREFIX}:{mark.name}:{mark.attempt}"
            t0_host = self.recorder.assembler.t0_host_s
            self.recorder.begin_step(name, t0_host + mark.t_start_s)
            self.recorder.end_step(name, t0_host + mark.t_end_s)
            if keep:
                self.accepted.append(ProtocolStep(mark.name, mark.t_start_s, mark.t_end_s))
            self.results.append((mark, result))
            self.run.checked(result, t)


async def run_guided(run: GuidedRun, opener, make_recorder: Callable[[float], Any],
                     make_person: Callable[[Any, float], Any],
                     on_tick: Callable[[float, tuple], None] = lambda t_s, status: None) -> GuidedDriver:
    """Open the sensors (``opener``, see :mod:`imugait.live.run`), record to
    ``make_recorder(t0_host_s)`` and drive ``run`` with ``make_person(opened, t0_host_s)`` until it
    finishes or Ctrl-C; ``on_tick(t_session_s, sensor_status)`` as it goes. Returns the driver
    (its recorder is not finalised)."""
    from imugait.live.acquisition import LiveAcquisition
    from imugait.live.run import stop_on_sigint

    async with contextlib.AsyncExitStack() as stack:
        opened = await opener(stack)
        clock = opened.clock
        recorder = make_recorder(clock())
        t0 = recorder.assembler.t0_host_s
        person = make_person(opened, t0)
        live = LiveAcquisition(opened.sources, opened.live_config(), recorder=recorder)
        driver = GuidedDriver(run, recorder, lambda: clock() - t0, person, pacing=pacing_of(clock, t0))
        stop = asyncio.Event()
        with stop_on_sigint(stop):
            async with live:
                await driver.drive(stop, on_tick=lambda: on_tick(clock() - t0, live.status()))
                if stop.is_set():
                    live.add_event(EventKind.INTERRUPTED, detail="stopped with Ctrl-C during the guided run")
        return driver
