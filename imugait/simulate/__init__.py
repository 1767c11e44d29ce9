"""Synthetic walkers with ground truth: a :class:`~imugait.model.Session` plus what really happened.

>>> from imugait.simulate import SimulationConfig, simulate
>>> result = simulate(SimulationConfig(seed=1))
>>> result.session, result.truth.cycles  # doctest: +SKIP

Everything is seeded: the same config gives the same bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.model import ProtocolStep, Session, SessionMeta
from imugait.simulate.sensors import (
    AntiAlias,
    Mounting,
    SensorErrors,
    SensorTruth,
    simulate_worn_sensors,
)
from imugait.simulate.timeline import (
    PhaseKind,
    TimelinePhase,
    build_timeline,
    corridor_walk,
    ten_metre_walk,
    walking_test,
)
from imugait.simulate.truth import GroundTruth, build_truth
from imugait.simulate.walker import SideParams, Walker, WalkerParams

__all__ = [
    "AntiAlias",
    "GroundTruth",
    "Mounting",
    "PhaseKind",
    "SensorErrors",
    "SensorTruth",
    "SideParams",
    "SimulationConfig",
    "SimulationResult",
    "TimelinePhase",
    "WalkerParams",
    "corridor_walk",
    "simulate",
    "ten_metre_walk",
    "walking_test",
]

MAX_SAMPLE_RATE_HZ = 10_000.0
"""Highest sample rate a simulation accepts (Hz)."""

LOWER_LIMBS = (Placement.LEFT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_THIGH, Placement.RIGHT_SHANK)


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that defines one simulated recording."""

    walker: WalkerParams = field(default_factory=WalkerParams)
    timeline: tuple[TimelinePhase, ...] = field(default_factory=walking_test)
    errors: SensorErrors = field(default_factory=SensorErrors)
    placements: tuple[Placement, ...] = LOWER_LIMBS
    sample_rate_hz: float = 100.0
    random_mounting: bool = True
    """Strap every sensor on at an arbitrary rotation (the realistic, hard case)."""
    mountings: dict[Placement, Mounting] | None = None
    """Explicit mountings (override ``random_mounting`` for the placements given)."""
    initial_heading_deg: float = 0.0
    seed: int = 0
    subject_id: str = "sim-0000"
    recorded_at: str = "2026-01-01T09:00:00+00:00"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sample_rate_hz) and 1.0 <= self.sample_rate_hz <= MAX_SAMPLE_RATE_HZ):
            raise ValidationError(f"simulation: sample_rate_hz must be in 1..{MAX_SAMPLE_RATE_HZ:g}, "
                                  f"got {self.sample_rate_hz!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ValidationError(f"simulation: seed must be an integer >= 0, got {self.seed!r}")


@dataclass(frozen=True, eq=False)
class SimulationResult:
    session: Session
    truth: GroundTruth
    sensors: dict[Placement, SensorTruth]
    config: SimulationConfig
    walker: Walker


def simulate(config: SimulationConfig | None = None) -> SimulationResult:
    """Simulate a walker following ``config.timeline`` and the sensors worn on it."""
    config = config or SimulationConfig()
    seeds = np.random.SeedSequence(config.seed).spawn(2 + len(config.placements))
    rng_timeline, rng_walker = (np.random.default_rng(s) for s in seeds[:2])
    timeline = build_timeline(
        config.timeline,
        stride_time_s=config.walker.stride_time_s,
        speed_mps=config.walker.speed_mps,
        stride_time_cv=config.walker.stride_time_cv,
        rng=rng_timeline,
        initial_heading_rad=np.deg2rad(config.initial_heading_deg),
    )
    walker = Walker(config.walker, timeline, rng_walker)
    streams, sensors = simulate_worn_sensors(
        config.placements, walker, seeds[2:], config.errors, config.sample_rate_hz, config.random_mounting,
        config.mountings,
    )
    steps = tuple(ProtocolStep(p.name, t0, t1) for p, t0, t1 in timeline.phase_intervals)
    meta = SessionMeta(
        subject_id=config.subject_id, recorded_at=config.recorded_at, steps=steps, source="simulate",
        notes=f"imugait simulator, seed {config.seed}",
    )
    return SimulationResult(
        session=Session(streams, meta),
        truth=build_truth(walker, config.sample_rate_hz),
        sensors=sensors,
        config=config,
        walker=walker,
    )
