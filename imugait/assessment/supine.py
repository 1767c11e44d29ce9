"""Supine test: lying on the back — do the feet fall inward at rest, and how far does each hip turn?

**Rest** (step ``supine``): legs straight and relaxed. The femur's rotation at rest about its long
axis, from the knee's flexion axis: with the kneecap pointing straight up the flexion axis is
horizontal; feet falling inward (internal rotation, +) tip it one way, falling outward
(external, −) the other (:func:`~imugait.assessment.measures.rotation_about_long_axis_deg`).

**Range** (steps ``supine:left``, ``supine:right``): the position of the source of the report's
supine thresholds (Kouyoumdjian et al. 2012: supine with the hip extended; the hip-flexed
measurement is their separate seated position) — lying on the back with the lower legs hanging
over the end of a bed or table, knee at 90°, the thigh flat. The person turns the shin *out*
(hip internal rotation) to the end of the range, pauses, back, then *in* (external). The rotation
is the turn of the knee's flexion axis about the femur's long axis away from horizontal, which
with the knee at 90° is the shin's inclination from vertical. The flexion axis is taken from the
shank sensor's turning during the leg's knee bends (straightening the hanging knee), as the prone
test does, its sign and the femur's long axis from the battery calibration; without bends the
calibrated thigh frames are the fallback. The sweeps are analysed as in the prone test
(:mod:`imugait.assessment.rotation_range`).

Both need the battery's calibration (the femur's frame comes from the walking test).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import elevation_deg, rotation_about_long_axis_deg, runs
from imugait.assessment.result import Confidence, Metric, ProtocolResult, QualityIssue
from imugait.assessment.rotation_range import (
    SweepConfig,
    SweepWords,
    analyse_sweeps,
    principal_axis,
)
from imugait.assessment.steps import (
    Protocol,
    parse_step,
    protocol_steps,
    side_of,
    step_mask,
    unmarked_mask,
)
from imugait.calibration.periods import PeriodConfig, motion_mask
from imugait.conventions import Placement, Segment, Side

PROTOCOL = Protocol.SUPINE

INSTRUCTIONS: tuple[str, ...] = (
    "Lie on your back on a firm surface, legs straight and hip-width apart.",
    "Let your legs and feet relax completely — don't hold them in any position.",
    "Stay still for the count of ten.",
)

RANGE_INSTRUCTIONS: tuple[str, ...] = (
    "Lie on your back on a bed or firm table and slide down until the backs of your knees are at the "
    "edge, lower legs hanging straight down (knees at a right angle), thighs flat. Relax 2 seconds.",
    "Straighten your left knee and let the lower leg hang down again, slowly, three times.",
    "Keeping the left thigh flat and the knee bent, turn the shin slowly OUTWARD (foot away from the "
    "other leg) as far as it goes. Pause there 2 seconds, then back to hanging straight.",
    "Now turn it slowly INWARD (foot towards the other leg) as far as it goes. Pause 2 seconds, then back.",
    "Do the outward and inward movement once more, then let the leg hang still.",
    "Repeat everything with the right leg.",
)

WORDS = SweepWords(shin_at_90="hangs straight down over the edge", move="turn the shin slowly")


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
    sweep: SweepConfig = field(default_factory=SweepConfig)
    """The range part's limits (as the prone test's)."""
    bend_rate_min_radps: float = 0.5
    """Shank motion faster than this (RMS) in the leg's step is taken as the knee bends."""
    min_bend_samples: int = 10
    max_axis_disagreement_deg: float = 20.0
    """The bends' axis must lie within this of the calibrated knee axis, else the thigh frames are used."""


def measure(cal: BatteryCalibration, config: SupineConfig | None = None) -> ProtocolResult:
    """The rest and the range parts found in the session (either may be missing: a step recorded on
    its own is measured alone)."""
    config = config or SupineConfig()
    t = cal.t_s
    steps = protocol_steps(cal.session.meta.steps, PROTOCOL)
    rest_steps = [s for s in steps if parse_step(s.name)[1] in ("", "rest")]
    leg_steps = {side_of(s): s for s in steps if side_of(s) is not None}
    metrics, issues, spans = [], [], []
    detection = "steps" if steps else "automatic"
    if rest_steps or not leg_steps:
        window = step_mask(t, rest_steps[0], config.trim_s) if rest_steps else _auto_window(cal, config)
        if not window.any():
            issues.append(QualityIssue(PROTOCOL, "not_found", "no supine rest found — lie on your back, still, for 10 s"))
        else:
            m, i = _measure_rest(cal, window, config)
            metrics += m
            issues += i
            idx = np.flatnonzero(window)
            spans.append((float(t[idx[0]]), float(t[idx[-1]])))
    for side, step in leg_steps.items():
        if side not in cal.legs:
            issues.append(QualityIssue(PROTOCOL, "needs_calibration", f"{side.value} leg not calibrated: its rotation "
                                       "range cannot be measured", side))
            continue
        m, i = _measure_range(cal, side, step_mask(t, step), config)
        metrics += m
        issues += i
        spans.append((step.t_start_s, step.t_end_s))
    if not spans:
        return ProtocolResult(PROTOCOL, issues=tuple(issues), detection=detection)
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), min(a for a, _ in spans), max(b for _, b in spans),
                          detection)


def _measure_rest(cal: BatteryCalibration, window: np.ndarray, config: SupineConfig):
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
    return metrics, issues


def _measure_range(cal: BatteryCalibration, side: Side, window: np.ndarray, config: SupineConfig):
    """One leg's rotation range lying supine with the lower leg hanging (module docstring)."""
    frames = cal.frames(side)
    knee = frames.knee_deg[:, 0]
    femur = frames.axis(Segment.THIGH, 1)
    anterior = frames.axis(Segment.THIGH, 0)[window]
    if np.median(np.abs(elevation_deg(femur[window]))) > config.max_femur_elevation_deg or np.median(anterior[:, 2]) < 0:
        return [], [QualityIssue(PROTOCOL, "not_supine", f"{side.value} thigh not flat — lie on your back with the "
                                 "thighs flat on the bed and the lower legs hanging over the edge, and repeat", side)]
    flexion_axis = _bend_axis_world(cal, side, window, config)
    source = "shank"
    if flexion_axis is None:
        flexion_axis, source = frames.axis(Segment.THIGH, 2), "thigh"
    rotation = rotation_about_long_axis_deg(flexion_axis, femur, side, anterior_up=True)
    return analyse_sweeps(PROTOCOL, cal.t_s, rotation, knee, window, side, source, config.sweep, WORDS,
                          capped=source == "thigh", rate_hz=cal.rate_hz)


def _bend_axis_world(cal: BatteryCalibration, side: Side, window: np.ndarray, config: SupineConfig):
    """(M, 3) the knee flexion axis turning with the shank, in the leg's frames' world, from the
    shank sensor's principal axis of turning during the knee bends of ``window``; None when there
    are too few bends or their axis disagrees with the calibrated knee axis (the bends were not
    bends)."""
    s = cal.fused.sensors[Placement.of(Segment.SHANK, side)]
    bends = window & motion_mask(cal.t_s, s.gyr_radps, PeriodConfig(motion_rms_min_radps=config.bend_rate_min_radps),
                                 cal.rate_hz)
    if bends.sum() < config.min_bend_samples:
        return None
    axis_sensor = principal_axis(s.gyr_radps[bends])
    r_sensor_segment = Rotation.from_quat(cal.legs[side].alignment.shank.q_sensor_segment, scalar_first=True)
    axis_segment = r_sensor_segment.inv().apply(axis_sensor)  # calibrated knee axis = segment Z
    if axis_segment[2] < 0:
        axis_segment = -axis_segment
    if np.rad2deg(np.arccos(np.clip(axis_segment[2], -1.0, 1.0))) > config.max_axis_disagreement_deg:
        return None
    return cal.frames(side).r_world_shank.apply(axis_segment)


def _auto_window(cal: BatteryCalibration, config: SupineConfig) -> np.ndarray:
    """The longest period in which every leg lies still with the kneecap up."""
    t = cal.t_s
    ok = unmarked_mask(t, cal.session.meta.steps)
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
