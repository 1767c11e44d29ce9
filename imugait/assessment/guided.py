"""The guided run of the battery as a UI-independent state machine.

It knows nothing of terminals, sensors or clocks: a front end feeds it the time and what the
person or the recorder did, and shows what it asks for. For each protocol:

    PROMPT (show the instructions) ──ready──▶ COUNTDOWN ──(countdown_s elapsed)──▶ RECORDING
    RECORDING ──(hold_s elapsed, or done)──▶ CHECKING ──check passed──▶ next protocol's PROMPT
                                                     └─check failed──▶ REDO (show the feedback)
    REDO ──ready──▶ COUNTDOWN (same protocol)     REDO ──skip──▶ next protocol
    … after the last protocol: FINISHED

``RECORDING`` begins and ends a step mark (``protocol`` name) on the session clock: the front end
passes those to the recorder, so the session carries the same step names as the simulator
produces and :func:`~imugait.assessment.assess_session` reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from imugait.assessment.battery import BATTERY, ProtocolSpec
from imugait.assessment.result import ProtocolResult
from imugait.errors import ValidationError


class GuidedState(Enum):
    PROMPT = "prompt"
    COUNTDOWN = "countdown"
    RECORDING = "recording"
    CHECKING = "checking"
    REDO = "redo"
    FINISHED = "finished"


@dataclass(frozen=True)
class StepMark:
    """A recorded attempt: step name and its start and end on the session clock."""

    name: str
    t_start_s: float
    t_end_s: float
    attempt: int


@dataclass
class GuidedRun:
    """Walks a person through ``protocols`` (default: the whole battery, one recording per protocol;
    :data:`~imugait.assessment.guided_steps.GUIDED_STEPS` records it part by part)."""

    protocols: tuple[ProtocolSpec, ...] = BATTERY
    countdown_s: float = 3.0
    max_attempts: int = 3
    state: GuidedState = GuidedState.PROMPT
    index: int = 0
    attempt: int = 1
    marks: list[StepMark] = field(default_factory=list)
    feedback: tuple[str, ...] = ()
    _t_state_s: float = 0.0

    @property
    def current(self) -> ProtocolSpec | None:
        return self.protocols[self.index] if self.index < len(self.protocols) else None

    @property
    def step_name(self) -> str:
        """The current step's name in the session: the item's ``step`` when it has one (a part such
        as ``prone:left``, :mod:`imugait.assessment.guided_steps`), else the protocol's name."""
        return getattr(self.current, "step", None) or self.current.protocol.value

    def instructions(self) -> tuple[str, ...]:
        return self.current.instructions if self.current else ()

    def ready(self, t_s: float) -> None:
        """The person is ready: start the countdown (from PROMPT or REDO)."""
        self._expect(GuidedState.PROMPT, GuidedState.REDO)
        self._enter(GuidedState.COUNTDOWN, t_s)

    def countdown_remaining_s(self, t_s: float) -> float:
        return max(self.countdown_s - (t_s - self._t_state_s), 0.0) if self.state is GuidedState.COUNTDOWN else 0.0

    def elapsed_s(self, t_s: float) -> float:
        """Time spent in the current state (e.g. recording so far)."""
        return max(t_s - self._t_state_s, 0.0)

    def tick(self, t_s: float) -> GuidedState:
        """Advance with time: countdown → recording → checking."""
        if self.state is GuidedState.COUNTDOWN and t_s - self._t_state_s >= self.countdown_s:
            self._enter(GuidedState.RECORDING, t_s)
        elif self.state is GuidedState.RECORDING and t_s - self._t_state_s >= self.current.hold_s:
            self.done(t_s)
        return self.state

    def done(self, t_s: float) -> StepMark:
        """The person finished early (or the time is up): close the step mark, wait for the check."""
        self._expect(GuidedState.RECORDING)
        mark = StepMark(self.step_name, self._t_state_s, t_s, self.attempt)
        self.marks.append(mark)
        self._enter(GuidedState.CHECKING, t_s)
        return mark

    def checked(self, result: ProtocolResult, t_s: float) -> GuidedState:
        """The step's quality check: passed → next protocol; failed → REDO with its feedback (or,
        after ``max_attempts``, move on keeping the feedback)."""
        self._expect(GuidedState.CHECKING)
        self.feedback = tuple(i.message for i in result.issues)
        if result.passed or self.attempt >= self.max_attempts:
            self._next(t_s)
        else:
            self.attempt += 1
            self._enter(GuidedState.REDO, t_s)
        return self.state

    def skip(self, t_s: float) -> None:
        self._expect(GuidedState.PROMPT, GuidedState.REDO)
        self._next(t_s)

    def accepted_marks(self) -> list[StepMark]:
        """The last attempt of every protocol (earlier, failed attempts are superseded)."""
        last: dict[str, StepMark] = {}
        for m in self.marks:
            last[m.name] = m
        return list(last.values())

    def _next(self, t_s: float) -> None:
        self.index += 1
        self.attempt = 1
        self._enter(GuidedState.PROMPT if self.current else GuidedState.FINISHED, t_s)

    def _enter(self, state: GuidedState, t_s: float) -> None:
        self.state, self._t_state_s = state, t_s

    def _expect(self, *states: GuidedState) -> None:
        if self.state not in states:
            want = " or ".join(s.value for s in states)
            raise ValidationError(f"guided run: this needs the {want} state, but it is {self.state.value}")
