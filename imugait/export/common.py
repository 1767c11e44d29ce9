"""What every export takes from an analysis: segment orientations in one ground frame, the angle
channels with their meaning, and the gait events.

**Ground frame.** Each leg's orientations come out of the analysis in that leg's thigh-sensor
world frame (z up, heading arbitrary and different per leg). Exports turn every segment into the
leg's **progression frame** (:func:`imugait.conventions.progression_rotation`: X along the line of
progression, Y up, Z to the subject's right) at each instant, so both legs share one frame whose X
is the walking direction. This is also OpenSim's ground convention (X forward, Y up, Z right), so
segment frames (ISB: X anterior, Y proximal, Z right on both legs) equal OpenSim body frames in the
neutral standing pose. Across a turn the frame switches to the next bout's line of progression at
mid-turn (the nearest bout), so the segments' heading jumps there; joint angles do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.analysis.result import AnalysisResult, LegReport
from imugait.atomic import write_text_atomic as write_text  # noqa: F401 (the exporters' writer)
from imugait.conventions import Placement, Segment, Side, progression_quat
from imugait.errors import ValidationError
from imugait.quaternion import quat_conj, quat_multiply

ANGLE_DESCRIPTIONS = {
    "knee_flexion_deg": "knee flexion (+) / extension (-), JCS (Grood & Suntay 1983)",
    "knee_adduction_deg": "knee adduction = varus (+) / abduction = valgus (-), JCS",
    "knee_rotation_deg": "tibia internal (+) / external (-) rotation relative to the femur, JCS",
    "hip_rotation_deg": "femur internal (+) / external (-) rotation relative to the line of progression "
                        "(averages to hip rotation over a gait cycle); empty outside straight walking",
    "hip_flexion_deg": "hip flexion (+), femur relative to the pelvis sensor's frame, JCS",
    "hip_adduction_deg": "hip adduction (+), femur relative to the pelvis sensor's frame, JCS",
    "hip_rotation_pelvis_deg": "hip internal rotation (+), femur relative to the pelvis sensor's frame, JCS",
}
"""Meaning of each per-sample angle the analysis gives (degrees, the project's sign table: the
same anatomical meaning on both legs)."""

EVENT_LABELS = {"initial_contact": "Foot Strike", "toe_off": "Foot Off"}
"""imugait event -> the name gait tools use (C3D EVENT:LABELS, Vicon/Visual3D convention)."""


@dataclass(frozen=True)
class AngleChannel:
    """One per-sample angle of one leg: ``values_deg`` (M,) on the result's grid, NaN = unknown."""

    side: Side
    name: str
    values_deg: np.ndarray

    @property
    def label(self) -> str:
        return f"{self.side.value}_{self.name}"

    @property
    def description(self) -> str:
        return f"{self.side.value} {ANGLE_DESCRIPTIONS.get(self.name, self.name)}"


@dataclass(frozen=True)
class GaitEvent:
    side: Side
    kind: str
    """``initial_contact`` or ``toe_off``."""
    t_s: float

    @property
    def label(self) -> str:
        return EVENT_LABELS[self.kind]


def require_legs(result: AnalysisResult) -> list[Side]:
    if not result.legs:
        raise ValidationError("the analysis has no calibrated leg: nothing to export")
    return [s for s in Side if s in result.legs]


def ground_orientations(result: AnalysisResult) -> dict[Placement, np.ndarray]:
    """``q_ground_segment`` (M, 4), scalar first, for every thigh and shank of the result.

    Ground = the leg's progression frame (module docstring). Where a leg has no line of
    progression yet (before its first straight bout) the nearest known one is used.
    """
    out: dict[Placement, np.ndarray] = {}
    for side in require_legs(result):
        leg = result.legs[side]
        if leg.q_world_thigh is None or leg.q_world_shank is None or leg.progression is None:
            raise ValidationError(f"{side.value} leg: the analysis kept no segment orientations to export")
        q_ground_world = quat_conj(progression_quat(_filled_heading(leg)))
        out[Placement.of(Segment.THIGH, side)] = quat_multiply(q_ground_world, leg.q_world_thigh)
        out[Placement.of(Segment.SHANK, side)] = quat_multiply(q_ground_world, leg.q_world_shank)
    return out


def _filled_heading(leg: LegReport) -> np.ndarray:
    h = np.asarray(leg.progression.heading_rad, dtype=float)
    known = np.flatnonzero(np.isfinite(h))
    if known.size == 0:
        raise ValidationError(f"{leg.side.value} leg: no line of progression was found (no straight walking)")
    if known.size == h.size:
        return h
    idx = np.arange(h.size)
    nearest = known[np.clip(np.searchsorted(known, idx), 0, known.size - 1)]
    before = known[np.clip(np.searchsorted(known, idx) - 1, 0, known.size - 1)]
    pick = np.where(np.abs(before - idx) < np.abs(nearest - idx), before, nearest)
    return h[pick]


def angle_channels(result: AnalysisResult) -> list[AngleChannel]:
    """Every per-sample angle of every leg, in a stable order (left first, then the analysis's)."""
    return [AngleChannel(side, name, np.asarray(values, dtype=float))
            for side in require_legs(result) for name, values in result.legs[side].angles_deg.items()]


def gait_events(result: AnalysisResult) -> list[GaitEvent]:
    """Initial contacts and toe-offs of every leg, sorted by time."""
    events = []
    for side in require_legs(result):
        ev = result.legs[side].events
        for kind, times in (("initial_contact", ev.initial_contact_s), ("toe_off", ev.toe_off_s)):
            events += [GaitEvent(side, kind, float(t)) for t in np.asarray(times, dtype=float) if np.isfinite(t)]
    return sorted(events, key=lambda e: (e.t_s, e.side.value, e.kind))


def sample_rate_hz(result: AnalysisResult) -> float:
    """The analysis grid's rate (it is uniform)."""
    t = result.t_s
    return float((t.size - 1) / (t[-1] - t[0]))


