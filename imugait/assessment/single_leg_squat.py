"""Single-leg squat: the knee's frontal-plane projection angle (valgus) and the femur's rotation at
depth, per stance leg.

Per stance leg (step ``single_leg_squat:<stance>``): standing on both feet at the start, then on
the stance leg with the other foot lifted, a few slow squats. At the deepest knee flexion of each
repetition, relative to standing on both feet at the start of the step:

* ``single_leg_squat_knee_valgus_peak_deg`` — the **frontal-plane projection angle** (FPPA), the
  2-D measure of the report's threshold source (Herrington & Munro 2010: a camera in front of the
  person, the angle between the thigh and shank lines): the thigh's and shank's long axes
  projected on the vertical plane across the facing direction
  (:func:`~imugait.assessment.measures.frontal_projection_angle_deg`). + = the knee moves inward.
* ``single_leg_squat_knee_valgus_3d_deg`` — the 3-D knee valgus (negative knee adduction, JCS).
  FPPA is not knee abduction: through a bent knee it also shows hip adduction and femur internal
  rotation, so it is typically several times the 3-D value.
* ``single_leg_squat_femur_rotation_deg`` (internal +, relative to the facing direction),
  ``single_leg_squat_knee_flexion_peak_deg`` (depth).

The thigh–shank heading offset is re-anchored on the standing at the start of the step
(:meth:`~imugait.assessment.calibration.BatteryCalibration.frames_anchored`: standing straight,
the knee's axial rotation is taken to be that of the reference standing). The facing direction is
the thigh's heading standing at the start less its standing rotation from the battery reference
(as the squat test); FPPA is sensitive to it (about 1.5–2° of FPPA per degree
of facing error at 60° of knee flexion), which is why its confidence is at most medium. The
standing alignment counts as zero (the battery calibration's reference: a static valgus is not
measured, docs/assessment.md).

Checks: depth reached, the other foot kept off the floor (balance kept), the other leg calibrated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import (
    facing_rotation_deg,
    frontal_projection_angle_deg,
    repetition_bottoms,
    runs,
)
from imugait.assessment.result import Confidence, Metric, ProtocolResult, QualityIssue
from imugait.assessment.steps import Protocol, protocol_steps, side_of, step_mask, unmarked_mask
from imugait.conventions import Segment, Side
from imugait.model import ProtocolStep

PROTOCOL = Protocol.SINGLE_LEG_SQUAT

INSTRUCTIONS: tuple[str, ...] = (
    "Stand on both feet facing forward, toes pointing forward, still for 2 seconds.",
    "Lift your right foot off the floor by bending the right knee, and stand on your left leg.",
    "Squat slowly down on the left leg as far as you can control (aim for about half-way, knee well "
    "bent), pause 1 second, and stand up again. Do 3 squats, keeping the right foot off the floor.",
    "Put the foot down, rest a moment, then do the same standing on your right leg.",
)


@dataclass(frozen=True)
class SingleLegSquatConfig:
    """Engineering limits of the single-leg squat (not clinical thresholds)."""

    baseline_s: float = 1.0
    """Standing on both feet at the start of the step, the reference of every angle."""
    min_depth_deg: float = 40.0
    """A repetition must bend the stance knee at least this much over standing."""
    rep_fraction: float = 0.5
    """A repetition is a run above this fraction of the deepest flexion."""
    lift_knee_deg: float = 20.0
    """The free foot counts as lifted while its knee is bent this much over standing (as balance)."""
    max_rep_sd_deg: float = 3.0
    """Repetitions agreeing within this (SD) give high confidence."""
    auto_margin_s: float = 3.0


def measure(cal: BatteryCalibration, config: SingleLegSquatConfig | None = None) -> ProtocolResult:
    config = config or SingleLegSquatConfig()
    steps = {side_of(s): s for s in protocol_steps(cal.session.meta.steps, PROTOCOL) if side_of(s)}
    detection = "steps" if steps else "automatic"
    if not steps:
        steps = _auto_steps(cal, config)
    if not steps:
        return ProtocolResult(PROTOCOL, issues=(QualityIssue(
            PROTOCOL, "not_found", "no single-leg squat found — stand on one leg and squat slowly 3 times"),),
            detection=detection)
    metrics, issues = [], []
    for stance, step in steps.items():
        m, i = _measure_leg(cal, stance, step, config)
        metrics += m
        issues += i
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), min(s.t_start_s for s in steps.values()),
                          max(s.t_end_s for s in steps.values()), detection)


def _measure_leg(cal: BatteryCalibration, stance: Side, step: ProtocolStep, config: SingleLegSquatConfig):
    t = cal.t_s
    if stance not in cal.legs:
        return [], [QualityIssue(PROTOCOL, "needs_calibration", f"{stance.value} leg not calibrated: the squat on it "
                                 "cannot be measured", stance)]
    idx = np.flatnonzero(step_mask(t, step))
    base = idx[: max(int(round(config.baseline_s * cal.fused.rate_hz)), 1)]
    frames = cal.frames_anchored(stance, base)  # the heading offset may be stale after lying down
    knee = frames.knee_deg
    depth = knee[:, 0] - knee[base, 0].mean()
    bottoms = repetition_bottoms(depth, idx, config.min_depth_deg, config.rep_fraction)
    if not bottoms:
        return [], [QualityIssue(PROTOCOL, "not_deep_enough", f"no single-leg squat deep enough on the {stance.value} "
                                 f"leg (deepest {depth[idx].max():.0f}°) — bend the {stance.value} knee to at least "
                                 f"{config.min_depth_deg:.0f}° and repeat", stance)]
    issues = _balance_issues(cal, stance, idx, base, depth, config)
    b = np.array(bottoms)
    facing, facing_known = cal.facing_heading_rad(stance, base)
    thigh_up, shank_up = frames.axis(Segment.THIGH, 1), frames.axis(Segment.SHANK, 1)
    fppa = frontal_projection_angle_deg(thigh_up[np.r_[base, b]], shank_up[np.r_[base, b]], facing, stance)
    femur = facing_rotation_deg(frames.q_world_thigh[np.r_[base, b]], facing, stance)
    n = len(base)
    values = {
        "single_leg_squat_knee_flexion_peak_deg": (depth[b], "standing on both feet at the start"),
        "single_leg_squat_knee_valgus_peak_deg": (fppa[n:] - fppa[:n].mean(), "frontal-plane projection angle, "
                                                  "standing at the start (+ = knee moves inward)"),
        "single_leg_squat_knee_valgus_3d_deg": (-(knee[b, 1] - knee[base, 1].mean()),
                                                "3-D knee angle, standing at the start (+ = knee caves in)"),
        "single_leg_squat_femur_rotation_deg": (femur[n:] - femur[:n].mean(), "standing at the start (internal +)"),
    }
    lost = any(i.repeat for i in issues)
    metrics = []
    for name, (v, reference) in values.items():
        sd = float(np.std(v, ddof=1)) if v.size > 1 else float("nan")
        confidence = Confidence.HIGH if v.size >= 2 and sd <= config.max_rep_sd_deg else Confidence.MEDIUM
        if name in ("single_leg_squat_knee_valgus_peak_deg", "single_leg_squat_femur_rotation_deg"):
            # rest on the facing direction: at most medium, low without one
            confidence = Confidence.MEDIUM if facing_known else Confidence.LOW
        if lost:
            confidence = Confidence.LOW
        metrics.append(Metric(PROTOCOL, name, stance, float(np.mean(v)), int(v.size), confidence, reference, sd))
    return metrics, issues


def _balance_issues(cal: BatteryCalibration, stance: Side, idx, base, depth, config: SingleLegSquatConfig):
    """The free foot must be up from the first repetition's start to the last one's end."""
    free = stance.other
    if free not in cal.legs:
        return [QualityIssue(PROTOCOL, "balance_not_checked", f"{free.value} leg not calibrated: whether the foot "
                             "stayed off the floor was not checked", stance, repeat=False)]
    free_knee = cal.frames(free).knee_deg[:, 0]
    lifted = free_knee[idx] - free_knee[base].mean() > config.lift_knee_deg
    if not lifted.any():
        return [QualityIssue(PROTOCOL, "no_single_leg_stance", f"the {free.value} foot stayed on the floor — lift it "
                             f"by bending the {free.value} knee and squat on the {stance.value} leg only", stance)]
    reps = runs(depth[idx] > config.rep_fraction * depth[idx].max())
    first, last = reps[0][0], reps[-1][1]
    if not lifted[first:last].all():
        return [QualityIssue(PROTOCOL, "balance_lost", f"balance lost: the {free.value} foot came down during the "
                             f"squats on the {stance.value} leg — keep it off the floor (squat less deep if "
                             "needed) and repeat", stance)]
    return []


def _auto_steps(cal: BatteryCalibration, config: SingleLegSquatConfig) -> dict[Side, ProtocolStep]:
    """Per stance leg, from the first to the last run with the other knee lifted and the stance knee
    bent past the minimum depth (the standing knee angle taken as ~0)."""
    t = cal.t_s
    if len(cal.legs) < 2:
        return {}
    out = {}
    free = unmarked_mask(t, cal.session.meta.steps)
    for stance in Side:
        deep = free & (cal.frames(stance).knee_deg[:, 0] >= config.min_depth_deg)
        up = cal.frames(stance.other).knee_deg[:, 0] >= config.min_depth_deg + config.lift_knee_deg
        found = runs(deep & up)
        if found:
            t0 = max(t[found[0][0]] - config.auto_margin_s, t[0])
            t1 = min(t[found[-1][1] - 1] + config.auto_margin_s, t[-1])
            out[stance] = ProtocolStep(f"single_leg_squat:{stance.value}", float(t0), float(t1))
    return out
