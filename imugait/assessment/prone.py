"""Prone test: internal and external hip rotation range, lying face down with the knee at 90°.

The shin starts vertical; it is let fall slowly *out* (the foot moves away from the other leg:
hip **internal** rotation) to the end of the range, back, then *in* (external rotation) to the
end. The rotation is the turn of the knee's flexion axis about the femur's long axis away from
horizontal (:func:`~imugait.assessment.measures.rotation_about_long_axis_deg`), which with the
knee at 90° is the shin's inclination from vertical — the clinical measure.

The prone test calibrates itself from the **shank** sensor: the knee bends give the flexion axis
(the shank's principal rotation axis), lying still with straight legs gives "anterior = down",
the bend's direction gives the axis's sign, and the femur is taken to lie where the shin lay at
rest (along the table). This is gravity-referenced like the clinician's inclinometer and measured
more accurately on the simulator than the alternative — the thigh's flexion axis and long axis
from the :class:`~imugait.assessment.calibration.BatteryCalibration` (walking test), whose
femur-rotation calibration error (about 2°) enters both ranges — which is the fallback when the
bends or the rest are missing. With a battery calibration the knee-at-90° check uses the
calibrated knee angle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import rotation_about_long_axis_deg
from imugait.assessment.result import ProtocolResult, QualityIssue
from imugait.assessment.rotation_range import (
    SweepConfig,
    SweepWords,
    analyse_sweeps,
    principal_axis,
)
from imugait.assessment.steps import Protocol, parse_step, protocol_steps, side_of, step_mask
from imugait.calibration.periods import PeriodConfig, motion_mask
from imugait.calibration.still import StillConfig, still_mask
from imugait.conventions import Placement, Segment, Side
from imugait.kinematics.prepare import FusedSession
from imugait.model import Session

PROTOCOL = Protocol.PRONE

INSTRUCTIONS: tuple[str, ...] = (
    "Lie face down on a firm surface, legs straight, kneecaps pointing down; relax for 5 seconds.",
    "Bend your left knee and straighten it again, slowly, three times.",
    "Bend the left knee to a right angle so the shin points straight up. Hold it there for 2 seconds.",
    "Keeping the knee bent and the thighs on the surface, let the shin fall slowly OUTWARD as far as it "
    "goes. Pause there 2 seconds, then bring it back up.",
    "Now let it fall slowly INWARD (across) as far as it goes. Pause 2 seconds, then back up.",
    "Do the outward and inward movement once more, then lower the leg.",
    "Repeat everything with the right leg.",
)


WORDS = SweepWords(shin_at_90="points straight up", move="let the shin fall slowly")


@dataclass(frozen=True)
class ProneConfig:
    """Engineering limits of the prone test (not clinical thresholds)."""

    sweep: SweepConfig = field(default_factory=SweepConfig)
    rest_trim_s: float = 0.5


def measure(session: Session, fused: FusedSession, cal: BatteryCalibration | None = None,
            config: ProneConfig | None = None) -> ProtocolResult:
    """Both legs' rotation ranges. ``cal`` None (or without the leg) → standalone calibration."""
    config = config or ProneConfig()
    t = fused.t_s
    steps = protocol_steps(session.meta.steps, PROTOCOL)
    leg_steps = {side_of(s): s for s in steps if side_of(s) is not None}
    detection = "steps" if leg_steps else "automatic"
    if not leg_steps:
        leg_steps = _auto_leg_windows(session, fused, config)
    if not leg_steps:
        issue = QualityIssue(PROTOCOL, "not_found", "no prone test found — lie face down and follow the prone test steps")
        return ProtocolResult(PROTOCOL, issues=(issue,), detection="automatic")
    rest_steps = [s for s in steps if parse_step(s.name)[1] == "rest"]
    metrics, issues = [], []
    for side, step in leg_steps.items():
        window = step_mask(t, step)
        rest = step_mask(t, rest_steps[0], config.rest_trim_s) if rest_steps else np.zeros(t.shape, dtype=bool)
        found = _standalone_signals(fused, side, window, rest, config)
        battery = cal is not None and side in cal.legs
        if not isinstance(found, QualityIssue):
            knee, rotation = found
            mode = "shank"
            if battery:  # the calibrated knee angle is the better check of 90°
                knee = cal.frames(side).knee_deg[:, 0]
        elif battery:
            frames = cal.frames(side)
            knee = frames.knee_deg[:, 0]
            rotation = rotation_about_long_axis_deg(
                frames.axis(Segment.THIGH, 2), frames.axis(Segment.THIGH, 1), side, anterior_up=False)
            mode = "thigh"
        else:
            issues.append(found)
            continue
        m, i = analyse_sweeps(PROTOCOL, t, rotation, knee, window, side, mode, config.sweep, WORDS,
                              capped=mode == "thigh", rate_hz=fused.rate_hz)  # the thigh frames carry the calibration's rotation error
        metrics += m
        issues += i
    starts = [s.t_start_s for s in leg_steps.values()]
    ends = [s.t_end_s for s in leg_steps.values()]
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), min(starts), max(ends), detection)


def _standalone_signals(fused: FusedSession, side: Side, window: np.ndarray, rest: np.ndarray, config: ProneConfig):
    """Knee flexion and hip rotation (deg, (M,)) from the shank sensor alone (module docstring)."""
    t = fused.t_s
    s = fused.sensors[Placement.of(Segment.SHANK, side)]
    still = still_mask(t, s.acc_mps2, s.gyr_radps, StillConfig(), fused.rate_hz)
    rest = rest & still
    if not rest.any():  # lying still before the first bend of this leg's step
        first = np.flatnonzero(window & still)
        rest = np.zeros_like(window)
        if first.size:
            rest[first[0] : first[0] + int(round(fused.rate_hz))] = True  # one second
        rest &= still
    bends = window & motion_mask(t, s.gyr_radps, PeriodConfig(motion_rms_min_radps=0.5), fused.rate_hz)
    if not rest.any() or bends.sum() < 10:
        return QualityIssue(PROTOCOL, "no_bends", f"{side.value} leg: lie still with straight legs first, then bend "
                            "and straighten the knee slowly three times", side)
    axis = principal_axis(s.gyr_radps[bends])
    up_rest = np.mean(s.acc_mps2[rest], axis=0)
    r_sensor = Rotation.from_quat(s.q_world_sensor, scalar_first=True)
    i_rest = int(np.flatnonzero(rest)[len(np.flatnonzero(rest)) // 2])
    turn = (r_sensor[i_rest].inv() * r_sensor).as_rotvec() @ axis
    # Knee flexion turns the shank negatively about its flexion axis pointing right (sign table).
    extreme = turn[window][np.argmax(np.abs(turn[window]))]
    z = axis if extreme < 0 else -axis
    x = -(up_rest - np.dot(up_rest, z) * z)
    x /= np.linalg.norm(x)
    r_sensor_segment = Rotation.from_matrix(np.column_stack([x, np.cross(z, x), z]))
    r_world_shank = r_sensor * r_sensor_segment
    femur = np.tile(r_world_shank[i_rest].apply([0.0, 1.0, 0.0]), (t.size, 1))
    long_axis = r_world_shank.apply([0.0, 1.0, 0.0])
    knee = np.rad2deg(np.arccos(np.clip(long_axis @ femur[0], -1.0, 1.0)))
    rotation = rotation_about_long_axis_deg(r_world_shank.apply([0.0, 0.0, 1.0]), femur, side, anterior_up=False)
    return knee, rotation


def _auto_leg_windows(session: Session, fused: FusedSession, config: ProneConfig) -> dict:
    """Without step marks: each leg's longest run of shank motion-or-bend in a lying posture is
    not reliably separable from other protocols, so automatic detection covers a session that is
    *only* a prone test: the whole recording for each leg with a shank sensor."""
    from imugait.model import ProtocolStep

    t = fused.t_s
    out = {}
    for side in Side:
        if Placement.of(Segment.SHANK, side) in session:
            out[side] = ProtocolStep(f"prone:{side.value}", float(t[0]), float(t[-1]))
    return out
