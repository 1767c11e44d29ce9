"""The emulated person of ``imugait assess --emulate``: a simulated battery the guided run follows.

The battery is simulated in advance (:func:`~imugait.simulate.protocols.simulate_protocols`) and
played through emulated sensors; its step marks are the *windows* in which the simulated person
performs each guided step. The guided run is driven on the session clock by this script: the
person is ready ``countdown_s`` before their scripted movement starts (less when the script leaves
less time), recording starts exactly when the movement starts and ends when it ends. So each
step's emulated movement starts when the person is prompted and counted down, and the step marks
the guided run writes cover what the person did.

``fail_step``: the protocol holding that step is simulated twice; the first attempt of the step
is emulated badly — the person stops after ``FAILED_FRACTION`` of it (as a person who presses
"done" too early) — and the redo uses the second performance. The parts of that protocol before
the failed step come from the first performance, the ones after it from the second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from imugait.assessment.guided_steps import GuidedStep
from imugait.assessment.steps import Protocol, parse_step
from imugait.errors import ValidationError
from imugait.live.guided import SKIP, Cue
from imugait.model import Session
from imugait.simulate.postures import LegProtocolParams, ProtocolParams
from imugait.simulate.protocols import ProtocolSimConfig, ProtocolSimulation, simulate_protocols
from imugait.simulate.sensors import SensorErrors
from imugait.simulate.timeline import walking_test

FAILED_FRACTION = 0.3
"""How much of a step the emulated person does on a deliberately failed first attempt."""


def short_params() -> tuple[ProtocolParams, tuple]:
    """A shorter battery: shorter holds, one prone and one supine sweep each way, two squats and two
    single-leg squats, 6 s balance, two 8 m walking bouts — for tests and demonstrations."""
    leg = LegProtocolParams(balance_hold_s=6.0)
    # End-of-range pauses as long as the instructions ask (2 s; the check needs 1.2 s held): the
    # script's default 1.5 s left a live run on a loaded machine too little margin.
    pp = ProtocolParams(left=leg, right=leg, posture_hold_s=4.0, supine_hold_s=5.0, prone_sweeps=1, squat_reps=2,
                        supine_range_sweeps=1, single_leg_squat_reps=2, supine_range_end_hold_s=2.0,
                        prone_end_hold_s=2.0)
    return pp, walking_test(n_bouts=2, bout_s=8.0, stand_s=4.0)


@dataclass(frozen=True)
class Window:
    """When the simulated person performs a step (simulation time, s)."""

    name: str
    t_start_s: float
    t_end_s: float


class EmulatedPerson:
    """Who the guided run prompts in an emulation: answers 'when are you ready, when do you start
    and when do you stop' for each attempt from the simulated battery's windows."""

    def __init__(self, steps: Sequence[GuidedStep], fail_step: str | None = None, short: bool = False,
                 sample_rate_hz: float = 100.0, seed: int = 0, lead_in_s: float = 0.0) -> None:
        protocols = list(dict.fromkeys(s.protocol.value for s in steps))
        if fail_step is not None:
            if fail_step not in {s.step for s in steps}:
                raise ValidationError(f"--fail-step {fail_step!r} is not a step of this run; steps: "
                                      f"{', '.join(s.step for s in steps)}")
            protocol = parse_step(fail_step)[0]
            if protocol is Protocol.WALKING:
                raise ValidationError("--fail-step cannot be the walking test: the simulated person walks once")
            i = protocols.index(protocol.value)
            protocols.insert(i, protocol.value)
        kwargs: dict = {}
        if short:
            kwargs["protocol"], kwargs["walking"] = short_params()
        self.fail_step = fail_step
        self.simulation: ProtocolSimulation = simulate_protocols(ProtocolSimConfig(
            protocols=tuple(protocols), sample_rate_hz=sample_rate_hz, seed=seed, subject_id="emulated",
            errors=replace(SensorErrors(), loss_probability=0.0, clock_drift_ppm=30.0), **kwargs))
        self.lead_in_s = float(lead_in_s)
        """The sensors play the simulation this late (s of emulated time): connecting to them
        (a BLE scan) must not eat the start of the first step."""
        self.windows = [Window(w.name, w.t_start_s + self.lead_in_s, w.t_end_s + self.lead_in_s)
                        for w in windows_of(self.simulation)]
        self.offset_s = 0.0
        """Session time minus emulated time (set when the emulation starts)."""
        self._cursor_s = -1.0

    @property
    def duration_s(self) -> float:
        return float(self.simulation.body.timeline.duration_s) + self.lead_in_s

    def played(self) -> ProtocolSimulation:
        """The simulation as the emulated sensors play it (streams delayed by ``lead_in_s``)."""
        sim = self.simulation
        if not self.lead_in_s:
            return sim
        streams = [replace(s, t_s=s.t_s + self.lead_in_s) for s in sim.session.streams]
        return replace(sim, session=Session(streams, sim.session.meta))

    def attempt(self, step: str, attempt: int) -> Window | None:
        """The window (session time) of the next performance of ``step`` (None: the script has no
        further one, e.g. a redo nobody scripted); a deliberately failed attempt is cut short."""
        window = next((w for w in self.windows if w.name == step and w.t_start_s >= self._cursor_s), None)
        if window is None:
            return None
        self._cursor_s = window.t_end_s
        t1 = window.t_end_s
        if step == self.fail_step and attempt == 1:
            t1 = window.t_start_s + FAILED_FRACTION * (window.t_end_s - window.t_start_s)
        return Window(step, window.t_start_s + self.offset_s, t1 + self.offset_s)


def windows_of(simulation: ProtocolSimulation) -> list[Window]:
    """The simulated session's step marks as guided steps: the walking test's bouts and turns
    (``walking:walk_1``, ``walking:turn_1`` …) merged into one ``walking:walk`` window, the other
    marks as they are."""
    out: list[Window] = []
    walk = "walking:walk"
    for s in sorted(simulation.session.meta.steps, key=lambda s: s.t_start_s):
        protocol, part = parse_step(s.name)
        name = walk if protocol is Protocol.WALKING and part.startswith(("walk", "turn")) else s.name
        if out and out[-1].name == name == walk:
            out[-1] = Window(name, out[-1].t_start_s, s.t_end_s)
        else:
            out.append(Window(name, s.t_start_s, s.t_end_s))
    return out


class ScriptedPerson:
    """The emulated person as the guided driver (:class:`~imugait.live.guided.GuidedDriver`) asks it:
    each attempt's cue from the simulated battery (session clock)."""

    def __init__(self, emulated: EmulatedPerson, countdown_s: float) -> None:
        self.emulated = emulated
        self.countdown_s = countdown_s
        self._last_end_s = 0.0
        self._cue: tuple[str, int, Cue] | None = None

    def cue(self, step: str, attempt: int, t_s: float) -> Cue | None:
        """The cue of this attempt once it is due; ``SKIP`` when the script has no performance left."""
        cue = self._cue_of(step, attempt)
        return cue if cue is SKIP or t_s >= cue.ready_s else None

    def ready_s(self, step: str, attempt: int) -> float | None:
        """Session time the person will be ready for this attempt (None: never, a skip)."""
        cue = self._cue_of(step, attempt)
        return None if cue is SKIP else cue.ready_s

    def _cue_of(self, step: str, attempt: int) -> Cue:
        if self._cue is None or self._cue[:2] != (step, attempt):
            w = self.emulated.attempt(step, attempt)
            if w is None:
                self._cue = (step, attempt, SKIP)
                return SKIP
            ready = max(w.t_start_s - self.countdown_s, min(self._last_end_s, w.t_start_s))
            self._cue = (step, attempt, Cue(ready, w.t_start_s, w.t_end_s))
            self._last_end_s = w.t_end_s
        return self._cue[2]

    def command(self) -> str | None:
        return None


def scripted_person(emulated: EmulatedPerson, countdown_s: float):
    """``make_person`` of :func:`imugait.live.guided.run_guided` for an emulation: the script's
    times are moved onto the session clock the run records on."""
    def make(opened, t0_host_s: float) -> ScriptedPerson:
        emulated.offset_s = opened.emulator.world_t0_s - t0_host_s
        return ScriptedPerson(emulated, countdown_s)
    return make
