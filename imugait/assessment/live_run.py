"""The guided run on live acquisition: prompts, countdowns, recording, checks, redo.

:class:`GuidedDriver` advances a :class:`~imugait.assessment.guided.GuidedRun` on the session
clock of a :class:`~imugait.acquisition.recorder.Recorder`; a *person* says when they are ready,
when the movement starts and when it ends:

* :class:`KeyboardPerson` — a real person (Enter: ready / done early, ``s`` Enter: skip the step,
  ``q`` Enter: stop); recording starts after the countdown and stops after the step's ``hold_s``;
* :class:`ScriptedPerson` — the emulated person (:mod:`imugait.assessment.emulated_run`), whose
  times come from the simulated battery.

After each recording the step's quality check (:func:`~imugait.assessment.guided_steps.check_step`)
runs in a worker thread while acquisition continues. The step goes into the session under its
name when it passed (or after the last allowed attempt); a failed attempt is kept in the log and
the session as ``failed:<step>:<attempt>``, a name the assessment ignores.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from imugait.assessment.emulated_run import EmulatedPerson
from imugait.assessment.guided import GuidedRun, GuidedState, StepMark
from imugait.assessment.guided_steps import check_step
from imugait.assessment.result import ProtocolResult
from imugait.model import ProtocolStep

CHECK_MARGIN_S = 0.5
"""Samples of every sensor must have arrived this far past a step's end before it is checked."""
CHECK_WAIT_S = 10.0
"""Session time after which a step is checked even when a sensor has not delivered (link lost)."""
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


class ScriptedPerson:
    """The emulated person: each attempt's times from the simulated battery (session clock)."""

    def __init__(self, emulated: EmulatedPerson, countdown_s: float) -> None:
        self.emulated = emulated
        self.countdown_s = countdown_s
        self._last_end_s = 0.0
        self._cue: tuple[str, int, Cue] | None = None

    def cue(self, step: str, attempt: int, t_s: float) -> Cue | None:
        """The cue of this attempt once it is due; ``SKIP`` when the script has no performance left."""
        if self._cue is None or self._cue[:2] != (step, attempt):
            w = self.emulated.attempt(step, attempt)
            if w is None:
                return SKIP
            ready = max(w.t_start_s - self.countdown_s, min(self._last_end_s, w.t_start_s))
            self._cue = (step, attempt, Cue(ready, w.t_start_s, w.t_end_s))
            self._last_end_s = w.t_end_s
        cue = self._cue[2]
        return cue if t_s >= cue.ready_s else None

    def command(self) -> str | None:
        return None


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


class GuidedDriver:
    """Advance ``run`` with ``person`` on the session clock ``now()``; write the steps to ``recorder``."""

    def __init__(self, run: GuidedRun, recorder, now: Callable[[], float], person, config=None) -> None:
        self.run, self.recorder, self.now, self.person, self.config = run, recorder, now, person, config
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
            on_tick()
            self.recorder.sync_if_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_s)
        if self._check is not None:
            with contextlib.suppress(Exception):
                await self._check

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
            if self._data_until_s() < mark.t_end_s + CHECK_MARGIN_S and t < mark.t_end_s + CHECK_WAIT_S:
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
