"""The protocols of the battery and how their parts are named in a session's protocol steps.

A step is named ``<protocol>`` or ``<protocol>:<part>`` (``posture``, ``walking:walk_1``,
``supine:left``, ``prone:left``, ``single_leg_squat:left``, ``balance:right`` — for balance and the
single-leg squat the part names the *stance* leg). The guided run
writes these names; the simulator (:mod:`imugait.simulate.postures`) uses the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np

from imugait.conventions import Side
from imugait.model import ProtocolStep


class Protocol(Enum):
    """The assessment's protocol tests, in battery order."""

    POSTURE = "posture"
    WALKING = "walking"
    SUPINE = "supine"
    PRONE = "prone"
    SQUAT = "squat"
    SINGLE_LEG_SQUAT = "single_leg_squat"
    BALANCE = "balance"


BATTERY_ORDER: tuple[Protocol, ...] = tuple(Protocol)


def step_name(protocol: Protocol, part: str | None = None) -> str:
    return protocol.value if not part else f"{protocol.value}:{part}"


def parse_step(name: str) -> tuple[Protocol | None, str]:
    """``(protocol, part)`` of a step name; protocol None for names outside the battery."""
    head, _, part = name.partition(":")
    try:
        return Protocol(head.strip().lower()), part
    except ValueError:
        return None, part


def protocol_steps(steps: Sequence[ProtocolStep], protocol: Protocol) -> list[ProtocolStep]:
    """The steps of one protocol, in time order."""
    return sorted((s for s in steps if parse_step(s.name)[0] is protocol), key=lambda s: s.t_start_s)


def protocols_in(steps: Sequence[ProtocolStep]) -> list[Protocol]:
    """Protocols with at least one step, in battery order."""
    found = {parse_step(s.name)[0] for s in steps}
    return [p for p in BATTERY_ORDER if p in found]


def side_of(step: ProtocolStep) -> Side | None:
    """The side a step's part names (``prone:left`` → left), else None."""
    part = parse_step(step.name)[1].split(":")[0]
    return Side(part) if part in ("left", "right") else None


def step_mask(t_s: np.ndarray, step: ProtocolStep, trim_s: float = 0.0) -> np.ndarray:
    """(M,) bool: grid samples inside ``step`` less ``trim_s`` at each end."""
    return (t_s >= step.t_start_s + trim_s) & (t_s <= step.t_end_s - trim_s)


def unmarked_mask(t_s: np.ndarray, steps: Sequence[ProtocolStep]) -> np.ndarray:
    """(M,) bool: grid samples outside every step — where a protocol without marks of its own may be
    searched for (a marked single-leg squat is not a balance test, nor a squat)."""
    out = np.ones(t_s.shape, dtype=bool)
    for s in steps:
        out &= ~step_mask(t_s, s)
    return out
