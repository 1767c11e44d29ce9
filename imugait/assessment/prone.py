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

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d
from scipy.spatial.transform import Rotation

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import rotation_about_long_axis_deg, runs
from imugait.assessment.result import Confidence, Metric, ProtocolResult, QualityIssue
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


@dataclass(frozen=True)
class ProneConfig:
    """Engineering limits of the prone test (not clinical thresholds)."""

    knee_target_deg: float = 90.0
    knee_tolerance_deg: float = 20.0
    """The knee counts as 'near 90°' within this."""
    min_sweep_knee_deg: float = 45.0
    """Samples with less knee flexion are not part of the sweep."""
    min_excursion_deg: float = 5.0
    """An excursion must go beyond this to count as a sweep to one side."""
    end_band_deg: float = 1.0
    end_hold_min_s: float = 1.2
    """The end of the range counts as reached when the shin stays within ``end_band_deg`` of its
    furthest point for this long (it stopped there)."""
    smoothing_s: float = 0.2
    max_sweep_sd_deg: float = 4.0
    """Repetitions agreeing within this (SD) give high confidence."""
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
        m, i = _analyse_sweep(t, rotation, knee, window, side, mode, config)
        metrics += m
        issues += i
    starts = [s.t_start_s for s in leg_steps.values()]
    ends = [s.t_end_s for s in leg_steps.values()]
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), min(starts), max(ends), detection)


def _analyse_sweep(t, rotation, knee, window, side: Side, mode: str, config: ProneConfig):
    dt = float(np.median(np.diff(t)))
    rotation = uniform_filter1d(rotation, max(int(round(config.smoothing_s / dt)), 1), mode="nearest")
    active = window & (knee >= config.min_sweep_knee_deg)
    if not active.any():
        return [], [QualityIssue(PROTOCOL, "knee_not_bent", f"{side.value} knee not bent — bend it until the shin "
                                 "points straight up, then repeat", side)]
    issues = []
    upright = active & (np.abs(rotation) < 10.0)
    knee_upright = float(np.median(knee[upright if upright.any() else active]))
    if abs(knee_upright - config.knee_target_deg) > config.knee_tolerance_deg:
        issues.append(QualityIssue(PROTOCOL, "knee_not_90", f"{side.value} knee not bent near 90° (it was "
                                   f"{knee_upright:.0f}°) — bend it until the shin points straight up, and repeat", side))
    metrics = []
    ranges = {}
    for direction, sign in (("internal", 1.0), ("external", -1.0)):
        peaks, held = [], []
        for a, b in runs(active & (sign * rotation > config.min_excursion_deg)):
            r = sign * rotation[a:b]
            peak = float(r.max())
            peaks.append(peak)
            held.append((r >= peak - config.end_band_deg).sum() * dt >= config.end_hold_min_s)
        word = "outward" if direction == "internal" else "inward"
        if not peaks:
            issues.append(QualityIssue(PROTOCOL, f"no_{direction}_sweep", f"{side.value} leg: no sweep to the end of "
                                       f"range detected ({word}) — let the shin fall slowly {word} as far as it goes",
                                       side))
            continue
        if not any(held):
            issues.append(QualityIssue(PROTOCOL, f"{direction}_end_not_held", f"{side.value} leg: the end of the "
                                       f"{word} range was not held — move slowly until the leg stops, pause 2 s there",
                                       side))
        use = [p for p, h in zip(peaks, held, strict=True) if h] or peaks
        sd = float(np.std(use, ddof=1)) if len(use) > 1 else float("nan")
        confidence = Confidence.HIGH if (any(held) and len(use) > 1 and sd <= config.max_sweep_sd_deg) else (
            Confidence.MEDIUM if any(held) else Confidence.LOW)
        if mode == "thigh" and confidence is Confidence.HIGH:
            confidence = Confidence.MEDIUM  # carries the thigh calibration's rotation error
        ranges[direction] = (float(np.mean(use)), len(use), confidence)
        metrics.append(Metric(PROTOCOL, f"prone_{direction}_rotation_range_deg", side, float(np.mean(use)), len(use),
                              confidence, reference=f"shin vertical (from the {mode} sensor)", sd=sd))
    if len(ranges) == 2:
        (vi, ni, ci), (ve, ne, ce) = ranges["internal"], ranges["external"]
        lowest = max((ci, ce), key=lambda c: list(Confidence).index(c))
        metrics.append(Metric(PROTOCOL, "prone_internal_minus_external_rotation_deg", side, vi - ve, min(ni, ne), lowest,
                              reference="internal range minus external range"))
    return metrics, issues


def _standalone_signals(fused: FusedSession, side: Side, window: np.ndarray, rest: np.ndarray, config: ProneConfig):
    """Knee flexion and hip rotation (deg, (M,)) from the shank sensor alone (module docstring)."""
    t = fused.t_s
    s = fused.sensors[Placement.of(Segment.SHANK, side)]
    still = still_mask(t, s.acc_mps2, s.gyr_radps, StillConfig())
    rest = rest & still
    if not rest.any():  # lying still before the first bend of this leg's step
        first = np.flatnonzero(window & still)
        rest = np.zeros_like(window)
        if first.size:
            rest[first[0] : first[0] + int(1.0 / np.median(np.diff(t)))] = True
        rest &= still
    bends = window & motion_mask(t, s.gyr_radps, PeriodConfig(motion_rms_min_radps=0.5))
    if not rest.any() or bends.sum() < 10:
        return QualityIssue(PROTOCOL, "no_bends", f"{side.value} leg: lie still with straight legs first, then bend "
                            "and straighten the knee slowly three times", side)
    _, vecs = np.linalg.eigh(s.gyr_radps[bends].T @ s.gyr_radps[bends])
    axis = vecs[:, -1]
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
