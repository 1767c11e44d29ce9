"""Mindful squat: knee valgus, femur rotation and depth at the bottom of each repetition.

Each repetition's bottom is its deepest knee flexion. Valgus is the change of knee adduction from
the standing start (+ = the knee caves in), femur rotation the change of the thigh's rotation
relative to the direction it faced at the start (+ = internal), depth the knee flexion gained.
The thigh–shank heading offset is re-anchored on that standing
(:meth:`~imugait.assessment.calibration.BatteryCalibration.frames_anchored`): after lying down and
getting up it can be several degrees stale, which a bent knee shows as varus/valgus.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import elevation_deg, facing_rotation_deg, repetition_bottoms, runs
from imugait.assessment.result import Confidence, Metric, ProtocolResult, QualityIssue
from imugait.assessment.steps import Protocol, protocol_steps, step_mask, unmarked_mask
from imugait.conventions import Segment
from imugait.model import ProtocolStep

PROTOCOL = Protocol.SQUAT

INSTRUCTIONS: tuple[str, ...] = (
    "Stand with your feet hip-width apart, toes pointing forward. Stand still for 2 seconds.",
    "Squat slowly down as far as is comfortable, as if sitting on a chair behind you.",
    "Pause at the bottom for 1 second, then stand up slowly.",
    "Do 3 squats, pausing standing for 1 second between them.",
)


@dataclass(frozen=True)
class SquatConfig:
    """Engineering limits of the squat test (not clinical thresholds)."""

    baseline_s: float = 1.0
    """Standing at the start of the step that the bottom is compared with."""
    min_depth_deg: float = 45.0
    """A repetition must bend the knee at least this much to count as a squat."""
    rep_fraction: float = 0.5
    """A repetition is a run above this fraction of the deepest flexion."""
    max_rep_sd_deg: float = 3.0
    """Repetitions agreeing within this (SD) give high confidence."""
    auto_margin_s: float = 2.0
    min_auto_thigh_elevation_deg: float = 15.0
    """Automatic detection: the thighs point at least this far above horizontal (not lying)."""
    auto_standing_knee_max_deg: float = 20.0
    """Automatic detection: a squat starts from standing, knees (and thighs from vertical) within this."""


def measure(cal: BatteryCalibration, config: SquatConfig | None = None) -> ProtocolResult:
    config = config or SquatConfig()
    t = cal.t_s
    steps = protocol_steps(cal.session.meta.steps, PROTOCOL)
    step, detection = (steps[0], "steps") if steps else (_auto_step(cal, config), "automatic")
    if step is None:
        return ProtocolResult(PROTOCOL, issues=(QualityIssue(PROTOCOL, "not_found", "no squat found — squat slowly down and up 3 times"),), detection=detection)
    window = step_mask(t, step)
    idx = np.flatnonzero(window)
    n_base = max(int(round(config.baseline_s * cal.fused.rate_hz)), 1)
    base = idx[:n_base]
    metrics, issues = [], []
    for side in cal.legs:
        frames = cal.frames_anchored(side, base)  # the heading offset may be stale after lying down
        knee = frames.knee_deg
        depth = knee[:, 0] - knee[base, 0].mean()
        bottoms = repetition_bottoms(depth, idx, config.min_depth_deg, config.rep_fraction)
        if not bottoms:
            issues.append(QualityIssue(PROTOCOL, "no_squat", f"no squat detected on the {side.value} knee — bend the "
                                       f"knees well (at least {config.min_depth_deg:.0f}°) and repeat", side))
            continue
        b = np.array(bottoms)
        facing, facing_known = cal.facing_heading_rad(side, base)
        femur = facing_rotation_deg(frames.q_world_thigh[np.r_[base, b]], facing, side)
        values = {
            "squat_knee_flexion_peak_deg": depth[b],
            "squat_knee_valgus_deg": -(knee[b, 1] - knee[base, 1].mean()),
            "squat_femur_rotation_deg": femur[len(base):] - femur[: len(base)].mean(),
        }
        references = {
            "squat_knee_flexion_peak_deg": "standing at the start",
            "squat_knee_valgus_deg": "standing at the start (+ = knee caves in)",
            "squat_femur_rotation_deg": "standing at the start (internal +)",
        }
        for name, v in values.items():
            sd = float(np.std(v, ddof=1)) if v.size > 1 else float("nan")
            confidence = Confidence.HIGH if v.size >= 2 and sd <= config.max_rep_sd_deg else Confidence.MEDIUM
            if name == "squat_femur_rotation_deg" and not facing_known:
                confidence = Confidence.LOW
            metrics.append(Metric(PROTOCOL, name, side, float(np.mean(v)), int(v.size), confidence, references[name], sd))
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), float(t[idx[0]]), float(t[idx[-1]]), detection)


def _auto_step(cal: BatteryCalibration, config: SquatConfig) -> ProtocolStep | None:
    """From the first to the last run in which every knee bends past the minimum depth together,
    on the feet (thighs above horizontal) and coming from standing straight (getting up from lying
    is not a squat)."""
    t = cal.t_s
    free = unmarked_mask(t, cal.session.meta.steps)
    bent, straight = free.copy(), free.copy()
    for side in cal.legs:
        frames = cal.frames(side)
        knee, thigh_elevation = frames.knee_deg[:, 0], elevation_deg(frames.axis(Segment.THIGH, 1))
        bent &= (knee >= config.min_depth_deg) & (thigh_elevation >= config.min_auto_thigh_elevation_deg)
        straight &= (knee < config.auto_standing_knee_max_deg) & (thigh_elevation >= 90.0 - config.auto_standing_knee_max_deg)
    dt = 1.0 / cal.rate_hz
    n_margin = int(round(config.auto_margin_s / dt))
    found = [(a, b) for a, b in runs(bent) if straight[max(a - n_margin, 0) : a].any()]
    if not found:
        return None
    t0 = max(t[found[0][0]] - config.auto_margin_s, t[0])
    t1 = min(t[found[-1][1] - 1] + config.auto_margin_s, t[-1])
    return ProtocolStep("squat", float(t0), float(t1))
