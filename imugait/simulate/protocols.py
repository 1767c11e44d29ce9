"""Simulated assessment sessions: the battery (or any part of it) with sensors and ground truth.

>>> from imugait.simulate.protocols import ProtocolSimConfig, simulate_protocols
>>> sim = simulate_protocols(ProtocolSimConfig(seed=3))
>>> sim.session.meta.steps, sim.truth.value("prone_internal_rotation_range_deg", Side.LEFT)  # doctest: +SKIP

The session has thigh and shank sensors (arbitrary mounting rotations and the sensor error model
of :mod:`imugait.simulate.sensors`) and one :class:`~imugait.model.ProtocolStep` per annotated
part. The truth holds the segment orientations and joint angles on a regular grid and, per
protocol, the values a perfect measurement would report, under the names of the assessment's
metrics (``docs/assessment.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from imugait.conventions import Joint, Placement, Segment, Side, joint_angles_rad, quat
from imugait.model import ProtocolStep, Session, SessionMeta
from imugait.simulate import LOWER_LIMBS
from imugait.simulate.body import ScriptBuilder, ScriptedBody
from imugait.simulate.postures import (
    ProtocolParams,
    script_balance,
    script_posture,
    script_prone,
    script_single_leg_squat,
    script_squat,
    script_stand_up,
    script_supine,
    script_supine_range,
    script_walking,
    standing_state,
    walker_over,
)
from imugait.simulate.protocol_truth import TruthValue, expected_values
from imugait.simulate.sensors import (
    Mounting,
    SensorErrors,
    SensorTruth,
    simulate_worn_sensors,
)
from imugait.simulate.timeline import TimelinePhase, walking_test
from imugait.simulate.walker import WalkerParams

BATTERY = ("posture", "walking", "supine", "prone", "squat", "single_leg_squat", "balance")
"""The battery's protocols in order (the names the assessment reads from the step marks)."""


@dataclass(frozen=True)
class ProtocolSimConfig:
    """One simulated assessment session."""

    walker: WalkerParams = field(default_factory=WalkerParams)
    protocol: ProtocolParams = field(default_factory=ProtocolParams)
    protocols: tuple[str, ...] = BATTERY
    """Which protocols, in order (a subset of :data:`BATTERY`)."""
    walking: tuple[TimelinePhase, ...] = field(default_factory=lambda: walking_test(n_bouts=2, bout_s=10.0))
    errors: SensorErrors = field(default_factory=SensorErrors)
    placements: tuple[Placement, ...] = LOWER_LIMBS
    sample_rate_hz: float = 100.0
    random_mounting: bool = True
    mountings: dict[Placement, Mounting] | None = None
    seed: int = 0
    subject_id: str = "sim-0000"
    recorded_at: str = "2026-01-01T09:00:00+00:00"


@dataclass(frozen=True, eq=False)
class ProtocolTruth:
    """``series``: ``t_s``, ``q_world_<placement>_<wxyz>`` of the anatomical frames, and per side
    ``<side>_knee_{flexion,adduction,rotation}_deg``, ``<side>_hip_{flexion,adduction,rotation}_deg``
    (femur relative to the pelvis), ``<side>_{hip,knee,ankle}_{x,y,z}_m`` (joint centres, world) and
    ``<side>_shank_up_{x,y,z}``. ``values``: the expected metrics."""

    series: pd.DataFrame
    values: tuple[TruthValue, ...]

    def value(self, name: str, side: Side | None = None) -> float:
        for v in self.values:
            if v.name == name and v.side is side:
                return v.value
        raise KeyError(f"no truth value {name!r} for {side}")


@dataclass(frozen=True, eq=False)
class ProtocolSimulation:
    session: Session
    truth: ProtocolTruth
    sensors: dict[Placement, SensorTruth]
    config: ProtocolSimConfig
    body: ScriptedBody


def build_body(config: ProtocolSimConfig, rng: np.random.Generator) -> ScriptedBody:
    """The scripted body performing ``config.protocols`` in order."""
    unknown = set(config.protocols) - set(BATTERY)
    if unknown:
        raise ValueError(f"unknown protocol(s) {sorted(unknown)}; expected some of {BATTERY}")
    params, pp = config.walker, config.protocol
    standing = standing_state(params, rng)
    b = ScriptBuilder(params, standing, rng)
    b.hold(2.0)
    for i, name in enumerate(config.protocols):
        if name == "posture":
            script_posture(b, pp)
        elif name == "walking":
            if not np.allclose(b.state.pelvis_origin_m, standing.pelvis_origin_m):
                raise ValueError("the simulated walking test must start where the session started (walk once)")
            script_walking(b, walker_over(params, config.walking, rng, heading_rad=0.0))
            standing = b.state
        elif name == "supine":
            script_supine(b, pp)
            script_supine_range(b, pp)
            script_stand_up(b, standing)
        elif name == "prone":
            script_prone(b, pp, standing)
            script_stand_up(b, standing)
        elif name == "squat":
            script_squat(b, pp)
        elif name == "single_leg_squat":
            script_single_leg_squat(b, pp)
        elif name == "balance":
            script_balance(b, pp)
        if i == len(config.protocols) - 1:
            b.hold(2.0)
    return b.build()


def simulate_protocols(config: ProtocolSimConfig | None = None) -> ProtocolSimulation:
    """Simulate the body performing the protocols and the sensors worn on it (seeded)."""
    config = config or ProtocolSimConfig()
    seeds = np.random.SeedSequence(config.seed).spawn(1 + len(config.placements))
    body = build_body(config, np.random.default_rng(seeds[0]))
    streams, sensors = simulate_worn_sensors(
        config.placements, body, seeds[1:], config.errors, config.sample_rate_hz, config.random_mounting,
        config.mountings,
    )
    steps = tuple(ProtocolStep(name, t0, t1) for name, t0, t1 in body.marks)
    meta = SessionMeta(
        subject_id=config.subject_id, recorded_at=config.recorded_at, steps=steps, source="simulate",
        notes=f"imugait simulator, assessment protocols {', '.join(config.protocols)}, seed {config.seed}",
    )
    return ProtocolSimulation(Session(streams, meta), build_protocol_truth(body, config), sensors, config, body)


def build_protocol_truth(body: ScriptedBody, config: ProtocolSimConfig, rate_hz: float = 100.0) -> ProtocolTruth:
    t = np.arange(0.0, body.timeline.duration_s, 1.0 / rate_hz)
    pose = body.pose(t)
    cols: dict[str, np.ndarray] = {"t_s": t}
    for (segment, side), r in pose.r_world.items():
        q = quat(r)
        for i, c in enumerate("wxyz"):
            cols[f"q_world_{Placement.of(segment, side).value}_{c}"] = q[:, i]
    q_pelvis = quat(pose.r_world[(Segment.PELVIS, None)])
    for side in Side:
        q_thigh, q_shank = quat(pose.r_world[(Segment.THIGH, side)]), quat(pose.r_world[(Segment.SHANK, side)])
        for joint, (a, b) in ((Joint.KNEE, (q_thigh, q_shank)), (Joint.HIP, (q_pelvis, q_thigh))):
            angles = np.rad2deg(joint_angles_rad(a, b, joint, side))
            for k, comp in enumerate(("flexion", "adduction", "rotation")):
                cols[f"{side.value}_{joint.value}_{comp}_deg"] = angles[:, k]
        ankle = pose.origin_m[(Segment.SHANK, side)] + pose.r_world[(Segment.SHANK, side)].apply(
            [0.0, -config.walker.segment_length_m(Segment.SHANK), 0.0])
        cols[f"{side.value}_ankle_height_m"] = ankle[:, 2]
        joints = {"hip": pose.origin_m[(Segment.THIGH, side)], "knee": pose.origin_m[(Segment.SHANK, side)], "ankle": ankle}
        for joint, position in joints.items():
            for k, axis in enumerate("xyz"):
                cols[f"{side.value}_{joint}_{axis}_m"] = position[:, k]
        shank_up = pose.r_world[(Segment.SHANK, side)].apply([0.0, 1.0, 0.0])
        for k, axis in enumerate("xyz"):
            cols[f"{side.value}_shank_up_{axis}"] = shank_up[:, k]
    series = pd.DataFrame(cols)
    return ProtocolTruth(series, expected_values(series, body.marks, config, rate_hz))


def write_protocol_simulation(sim: ProtocolSimulation, folder) -> Path:
    """Write ``DIR/session.parquet`` and the truth (``truth/series.parquet``, ``truth/values.csv``,
    ``truth/sensors.json``); returns the session file's path."""
    import dataclasses
    import json

    from imugait.atomic import write_text_atomic
    from imugait.io.native import write_session
    from imugait.simulate.output import _jsonable, write_frame

    folder = Path(folder)
    truth_dir = folder / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    path = write_session(sim.session, folder / "session.parquet")
    write_frame(sim.truth.series, truth_dir / "series.parquet")
    write_frame(pd.DataFrame(
        [{"protocol": v.protocol, "name": v.name, "side": v.side.value if v.side else "", "value": v.value}
         for v in sim.truth.values]
    ), truth_dir / "values.csv")
    sensors = {p.value: _jsonable(dataclasses.asdict(s)) for p, s in sim.sensors.items()}
    write_text_atomic(truth_dir / "sensors.json", json.dumps(sensors, indent=2))
    return path
