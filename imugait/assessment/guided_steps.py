"""The guided battery step by step: what each step asks of the person and its quality check.

:class:`~imugait.assessment.guided.GuidedRun` walks through :data:`GUIDED_STEPS` (one recording
per step, named as the assessment reads it: ``posture``, ``walking:stand_start``,
``walking:walk``, ``walking:stand_end``, ``supine``, ``supine:left``, ``supine:right``, ``prone:rest``,
``prone:left``, ``prone:right``, ``squat``, ``single_leg_squat:left``, ``single_leg_squat:right``,
``balance:left``, ``balance:right``). After each
recording :func:`check_step` runs that protocol's own measurement on the session so far and
returns the issues that ask for *this* step to be repeated (e.g. the prone test's "knee not bent
near 90° — repeat").

Checks need what the assessment needs: the prone legs calibrate themselves from the prone test
(the rest step and the leg's bends); supine, squat and balance need the walking test's sensor
calibration (as do the supine legs and the single-leg squat), so they are checked once the walking
test is recorded (otherwise, and for steps that
have no check of their own — posture, prone rest — the step passes and is measured at the end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from imugait.assessment import balance, posture, prone, single_leg_squat, squat, supine, walking
from imugait.assessment.battery import AssessmentConfig, spec
from imugait.assessment.calibration import calibrate_battery, fuse
from imugait.assessment.result import ProtocolResult, QualityIssue
from imugait.assessment.steps import Protocol, parse_step, side_of
from imugait.errors import ImugaitError
from imugait.model import ProtocolStep, Session


@dataclass(frozen=True)
class GuidedStep:
    """One recording of the guided run (the fields :class:`GuidedRun` reads, and ``step``)."""

    step: str
    """The step name written to the session (``prone:left``)."""
    protocol: Protocol
    title: str
    instructions: tuple[str, ...]
    hold_s: float
    """Longest recording (s); the person may finish earlier."""


def _swap_sides(text: str) -> str:
    return text.replace("left", "\0").replace("right", "left").replace("\0", "right")


def _steps() -> tuple[GuidedStep, ...]:
    def one(protocol: Protocol, part: str, title: str, instructions: Sequence[str], hold_s: float) -> GuidedStep:
        name = protocol.value if not part else f"{protocol.value}:{part}"
        return GuidedStep(name, protocol, title, tuple(instructions), hold_s)

    prone_leg = prone.INSTRUCTIONS[1:6]
    supine_leg = supine.RANGE_INSTRUCTIONS[1:5]
    stand, lift_right, hold, _ = balance.INSTRUCTIONS
    sls_stand, sls_lift_right, sls_squat_left, _ = single_leg_squat.INSTRUCTIONS
    return (
        one(Protocol.POSTURE, "", spec(Protocol.POSTURE).title, posture.INSTRUCTIONS, 10.0),
        one(Protocol.WALKING, "stand_start", "Walking test: stand still", walking.INSTRUCTIONS[:1], 5.0),
        one(Protocol.WALKING, "walk", "Walking test: walk", walking.INSTRUCTIONS[1:3], 40.0),
        one(Protocol.WALKING, "stand_end", "Walking test: stand still", walking.INSTRUCTIONS[3:], 5.0),
        one(Protocol.SUPINE, "", "Lying on your back: rest", supine.INSTRUCTIONS, 12.0),
        one(Protocol.SUPINE, "left", "Lying on your back: left hip rotation",
            supine.RANGE_INSTRUCTIONS[:1] + supine_leg, 60.0),
        one(Protocol.SUPINE, "right", "Lying on your back: right hip rotation",
            [_swap_sides(s) for s in supine_leg], 60.0),
        one(Protocol.PRONE, "rest", "Lying face down: rest", prone.INSTRUCTIONS[:1], 5.0),
        one(Protocol.PRONE, "left", "Lying face down: left hip rotation", prone_leg, 45.0),
        one(Protocol.PRONE, "right", "Lying face down: right hip rotation", [_swap_sides(s) for s in prone_leg], 45.0),
        one(Protocol.SQUAT, "", spec(Protocol.SQUAT).title, squat.INSTRUCTIONS, 25.0),
        one(Protocol.SINGLE_LEG_SQUAT, "left", "Single-leg squat on the left leg",
            (sls_stand, sls_lift_right, sls_squat_left), 35.0),
        one(Protocol.SINGLE_LEG_SQUAT, "right", "Single-leg squat on the right leg",
            (sls_stand, _swap_sides(sls_lift_right), _swap_sides(sls_squat_left)), 35.0),
        one(Protocol.BALANCE, "left", "Single-leg balance on the left leg", (stand, lift_right, hold), 35.0),
        one(Protocol.BALANCE, "right", "Single-leg balance on the right leg", (stand, _swap_sides(lift_right), hold), 35.0),
    )


GUIDED_STEPS: tuple[GuidedStep, ...] = _steps()
"""The whole battery as the guided run records it, in order."""


def guided_steps(protocols: Sequence[str] | None = None) -> tuple[GuidedStep, ...]:
    """The guided steps of ``protocols`` (names, battery order kept); all when None."""
    if not protocols:
        return GUIDED_STEPS
    wanted = set()
    for name in protocols:
        protocol, _ = parse_step(name)
        if protocol is None:
            raise ImugaitError(f"unknown protocol {name!r}; the battery has {', '.join(p.value for p in Protocol)}")
        wanted.add(protocol)
    return tuple(s for s in GUIDED_STEPS if s.protocol in wanted)


def check_step(session: Session, step: ProtocolStep, accepted: Sequence[ProtocolStep],
               config: AssessmentConfig | None = None, cache: dict | None = None) -> ProtocolResult:
    """The quality check of a just-recorded ``step`` on the ``session`` so far.

    ``accepted`` are the steps already kept (earlier, passed steps); they give the walking test's
    calibration and the prone rest. ``cache``: a dict kept by the caller over one run; the legs'
    calibration on the walking test is stored there (keyed by the kept walking steps) and reused by
    later checks, so that each check does not fit it again (the recording before it does not
    change). Returns a :class:`ProtocolResult` whose ``passed`` says whether the step can be kept;
    its issues are the ones about this step (and its side).
    """
    config = config or AssessmentConfig()
    protocol, part = parse_step(step.name)
    try:
        if protocol is Protocol.WALKING and part == "walk":
            stand = [s for s in accepted if s.name == "walking:stand_start"][-1:]
            result = walking.measure(_with_steps(session, stand + [step]), config.analysis)[0]
            if not result.metrics:
                return _failed(step, "no_strides", "no walking strides found — walk at your usual pace for about "
                               "10 metres, turn, and walk back")
            return result
        if protocol is Protocol.PRONE and part in ("left", "right"):
            rest = [s for s in accepted if s.name == "prone:rest"][-1:]
            part_session = _with_steps(session, rest + [step])
            return _only_repeat(prone.measure(part_session, fuse(part_session, config.calibration), None, config.prone), step)
        module = {Protocol.SUPINE: supine, Protocol.SQUAT: squat, Protocol.SINGLE_LEG_SQUAT: single_leg_squat,
                  Protocol.BALANCE: balance}.get(protocol)
        walks = [s for s in accepted if parse_step(s.name)[0] is Protocol.WALKING]
        if module is None or not walks:
            return ProtocolResult(protocol or Protocol.POSTURE)  # no check of its own: measured at the end
        part_session = _with_steps(session, walks + [step])
        key = ("alignments", tuple((s.name, s.t_start_s, s.t_end_s) for s in walks))
        cache = cache if cache is not None else {}
        cal = calibrate_battery(part_session, None, config.calibration, cache.get(key))
        cache[key] = {side: leg.alignment for side, leg in cal.legs.items()}
        return _only_repeat(module.measure(cal, getattr(config, protocol.value)), step)
    except Exception as exc:  # noqa: BLE001 — a step that cannot be measured is done again
        return _failed(step, "check_failed", f"{step.name} could not be measured ({exc}) — repeat it")


def _failed(step: ProtocolStep, code: str, message: str) -> ProtocolResult:
    protocol = parse_step(step.name)[0] or Protocol.POSTURE
    return ProtocolResult(protocol, issues=(QualityIssue(protocol, code, message, side_of(step)),))


def _with_steps(session: Session, steps: Sequence[ProtocolStep]) -> Session:
    """``session`` cut to the span of ``steps`` (1 s margin), with only those steps."""
    t0 = min(s.t_start_s for s in steps) - 1.0
    t1 = max(s.t_end_s for s in steps) + 1.0
    streams = [s.slice_time(t0, t1) for s in session.streams]
    return Session(streams, replace(session.meta, steps=tuple(steps)))


def _only_repeat(result: ProtocolResult, step: ProtocolStep) -> ProtocolResult:
    """Keep the issues about ``step``'s side (all, for a step without a side)."""
    side = side_of(step)
    issues = tuple(i for i in result.issues if side is None or i.side in (None, side))
    metrics = tuple(m for m in result.metrics if side is None or m.side in (None, side))
    return ProtocolResult(result.protocol, metrics, issues, result.t_start_s, result.t_end_s, result.detection)
