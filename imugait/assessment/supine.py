"""Supine test: lying on the back, legs straight and relaxed — do the feet fall inward?

The femur's rotation at rest about its long axis, from the knee's flexion axis: with the kneecap
pointing straight up the flexion axis is horizontal; feet falling inward (internal rotation, +)
tip it one way, falling outward (external, −) the other
(:func:`~imugait.assessment.measures.rotation_about_long_axis_deg`). Needs the battery's
calibration (the femur's frame comes from the walking test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import elevation_deg, rotation_about_long_axis_deg, runs
from imugait.assessment.result import Confidence, Metric, ProtocolResult, QualityIssue
from imugait.assessment.steps import Protocol, protocol_steps, step_mask
from imugait.conventions import Segment

PROTOCOL = Protocol.SUPINE

INSTRUCTIONS: tuple[str, ...] = (
    "Lie on your back on a firm surface, legs straight and hip-width apart.",
    "Let your legs and feet relax completely — don't hold them in any position.",
    "Stay still for the count of ten.",
)


@dataclass(frozen=True)
class SupineConfig:
    trim_s: float = 1.0
    """Trimmed from both ends of the step (settling)."""
    min_still_fraction: float = 0.8
    """Engineering limit: at least this fraction of the step must be still."""
    max_femur_elevation_deg: float = 30.0
    """Engineering limit: lying means the femurs within this of horizontal."""
    max_rotation_sd_deg: float = 2.0
    """Engineering limit: the rotation may wander this much (SD) while 'at rest'."""
    min_auto_s: float = 4.0


def measure(cal: BatteryCalibration, config: SupineConfig | None = None) -> ProtocolResult:
    config = config or SupineConfig()
    t = cal.t_s
    steps = protocol_steps(cal.session.meta.steps, PROTOCOL)
    if steps:
        window, detection = step_mask(t, steps[0], config.trim_s), "steps"
    else:
        window, detection = _auto_window(cal, config), "automatic"
    if not window.any():
        return ProtocolResult(PROTOCOL, issues=(QualityIssue(PROTOCOL, "not_found", "no supine rest found — lie on your back, still, for 10 s"),), detection=detection)
    metrics, issues = [], []
    for side in cal.legs:
        frames = cal.frames(side)
        still = cal.still(side)[window]
        femur = frames.axis(Segment.THIGH, 1)[window]
        anterior = frames.axis(Segment.THIGH, 0)[window]
        if np.median(np.abs(elevation_deg(femur))) > config.max_femur_elevation_deg or np.median(anterior[:, 2]) < 0:
            issues.append(QualityIssue(PROTOCOL, "not_supine", "not lying on the back with straight legs — repeat", side))
            continue
        rotation = rotation_about_long_axis_deg(frames.axis(Segment.THIGH, 2)[window], femur, side, anterior_up=True)
        not_still = still.mean() < config.min_still_fraction or np.std(rotation) > config.max_rotation_sd_deg
        if not_still:
            issues.append(QualityIssue(PROTOCOL, "not_still", "leg not held still — let it relax completely and repeat", side))
        use = still if still.any() else np.ones_like(still)
        metrics.append(Metric(
            PROTOCOL, "supine_hip_rotation_rest_deg", side, float(rotation[use].mean()), int(use.sum()),
            Confidence.LOW if not_still else Confidence.HIGH,
            reference="kneecap pointing straight up (internal + = feet fall inward)", sd=float(np.std(rotation[use])),
        ))
    idx = np.flatnonzero(window)
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), float(t[idx[0]]), float(t[idx[-1]]), detection)


def _auto_window(cal: BatteryCalibration, config: SupineConfig) -> np.ndarray:
    """The longest period in which every leg lies still with the kneecap up."""
    t = cal.t_s
    ok = np.ones(t.shape, dtype=bool)
    for side in cal.legs:
        frames = cal.frames(side)
        ok &= cal.still(side)
        ok &= np.abs(elevation_deg(frames.axis(Segment.THIGH, 1))) <= config.max_femur_elevation_deg
        ok &= frames.axis(Segment.THIGH, 0)[:, 2] > 0.5
    best = np.zeros(t.shape, dtype=bool)
    for a, b in runs(ok):
        if t[b - 1] - t[a] >= config.min_auto_s and b - a > best.sum():
            best[:] = False
            best[a:b] = True
    return best
