"""Standing posture: how the thighs are turned, the knees aligned and the weight carried at rest.

Measured against the battery's quiet-standing reference (the walking test's first standing): the
femur's rotation relative to the facing direction (the walking direction of the first bout —
so the person stands where the walk starts, facing the way they will walk), the knee's
frontal-plane angle and the lean of the legs (weight over one foot) relative to that reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import elevation_deg, facing_rotation_deg, lateral_lean_deg, runs
from imugait.assessment.result import Confidence, Metric, ProtocolResult, QualityIssue
from imugait.assessment.steps import Protocol, protocol_steps, step_mask
from imugait.conventions import Segment
from imugait.errors import CalibrationError

PROTOCOL = Protocol.POSTURE

INSTRUCTIONS: tuple[str, ...] = (
    "Stand where the walk will start, facing the way you will walk.",
    "Stand the way you usually stand — don't correct yourself.",
    "Keep still, arms relaxed, for the count of ten.",
)


@dataclass(frozen=True)
class PostureConfig:
    trim_s: float = 0.5
    """Trimmed from both ends of the step (settling in, moving off)."""
    min_still_fraction: float = 0.8
    """Engineering limit: at least this fraction of the step must be still."""
    min_upright_elevation_deg: float = 60.0
    """Engineering limit: the thighs' long axes must be at least this far above horizontal."""
    min_auto_s: float = 3.0
    """Automatic detection: shortest still upright period accepted."""
    reference_trim_s: float = field(default=0.5)


def measure(cal: BatteryCalibration, config: PostureConfig | None = None) -> ProtocolResult:
    config = config or PostureConfig()
    t = cal.t_s
    steps = protocol_steps(cal.session.meta.steps, PROTOCOL)
    still = np.logical_and.reduce([cal.still(side) for side in cal.legs])
    if steps:
        window, detection = step_mask(t, steps[0], config.trim_s), "steps"
    else:
        window, detection = _auto_window(cal, still, config), "automatic"
    if not window.any():
        return ProtocolResult(PROTOCOL, issues=(QualityIssue(PROTOCOL, "not_found", "no standing posture found — stand still for 10 s"),), detection=detection)
    issues = []
    if still[window].mean() < config.min_still_fraction:
        issues.append(QualityIssue(PROTOCOL, "not_still", "not held still — stand still for the whole count, then repeat"))
    use = window & still if (window & still).any() else window
    reference = _reference_mask(cal, config)
    metrics, leans = [], []
    for side, leg in cal.legs.items():
        frames = cal.frames(side)
        thigh_up = frames.axis(Segment.THIGH, 1)
        if np.median(elevation_deg(thigh_up[use])) < config.min_upright_elevation_deg:
            issues.append(QualityIssue(PROTOCOL, "not_upright", "not standing upright — stand tall and repeat", side))
            continue
        # The thigh's lean: the pelvis carried over one foot tilts the femurs sideways.
        leans.append(lateral_lean_deg(thigh_up[use], frames.axis(Segment.THIGH, 2)[use]).mean())
        adduction = frames.knee_deg[:, 1]
        reference_adduction = adduction[reference].mean() if reference.any() else 0.0
        n = int(use.sum())
        metrics.append(Metric(PROTOCOL, "posture_knee_adduction_deg", side, float(adduction[use].mean() - reference_adduction), n,
                              Confidence.MEDIUM, reference="quiet standing of the walking test (varus +, valgus −)"))
        if leg.facing_heading_rad is not None:
            rotation = facing_rotation_deg(frames.q_world_thigh[use], leg.facing_heading_rad, side)
            metrics.append(Metric(PROTOCOL, "posture_thigh_rotation_deg", side, float(rotation.mean()), n, Confidence.MEDIUM,
                                  reference="facing direction = walking direction of the first bout (internal +)"))
    if leans:
        metrics.append(Metric(PROTOCOL, "posture_weight_shift_lean_deg", None, float(np.mean(leans)), int(use.sum()),
                              Confidence.MEDIUM, reference="quiet standing of the walking test (thighs lean right +: weight over the right foot)"))
    idx = np.flatnonzero(window)
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), float(t[idx[0]]), float(t[idx[-1]]), detection)


def _reference_mask(cal: BatteryCalibration, config: PostureConfig) -> np.ndarray:
    t = cal.t_s
    for step in protocol_steps(cal.session.meta.steps, Protocol.WALKING):
        if step.name.endswith(":stand_start"):
            return step_mask(t, step, config.reference_trim_s)
    raise CalibrationError("the posture test needs the walking test's standing (walking:stand_start) as its reference")


def _auto_window(cal: BatteryCalibration, still: np.ndarray, config: PostureConfig) -> np.ndarray:
    """The longest still, upright period before the walking test."""
    t = cal.t_s
    upright = np.ones(t.shape, dtype=bool)
    for side in cal.legs:
        upright &= elevation_deg(cal.frames(side).axis(Segment.THIGH, 1)) >= config.min_upright_elevation_deg
    walking = protocol_steps(cal.session.meta.steps, Protocol.WALKING)
    before = t < (walking[0].t_start_s if walking else np.inf)
    best = np.zeros(t.shape, dtype=bool)
    for a, b in runs(still & upright & before):
        if (t[b - 1] - t[a]) >= config.min_auto_s and (b - a) > best.sum():
            best[:] = False
            best[a:b] = True
    return best


