"""Single-leg balance: how long, how steady, and whether the stance knee caves in.

Per stance leg: the hold time is how long the other knee stays lifted (bent past a set amount
over its standing angle), sway the RMS tilt of the stance shank about its mean direction while
lifted (less the lifting and lowering), knee valgus the stance knee's adduction change from the
standing start (+ = caves in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.assessment.calibration import BatteryCalibration
from imugait.assessment.measures import runs, tilt_rms_deg
from imugait.assessment.result import Confidence, Metric, ProtocolResult, QualityIssue
from imugait.assessment.steps import Protocol, protocol_steps, side_of, step_mask, unmarked_mask
from imugait.conventions import Segment, Side
from imugait.model import ProtocolStep

PROTOCOL = Protocol.BALANCE

INSTRUCTIONS: tuple[str, ...] = (
    "Stand on both feet, still, for 2 seconds.",
    "Lift your right foot off the floor by bending the right knee, and balance on your left leg.",
    "Hold as long as you can, up to 30 seconds, then put the foot down.",
    "Rest a moment, then balance on your right leg the same way.",
)


@dataclass(frozen=True)
class BalanceConfig:
    """Engineering limits of the balance test (not clinical thresholds)."""

    baseline_s: float = 1.0
    lift_knee_deg: float = 20.0
    """The lifted knee counts as lifted when bent this much over its standing angle."""
    sway_trim_s: float = 1.0
    """Sway ignores this much at each end of the lift (lifting and lowering the foot)."""
    min_hold_s: float = 2.0
    """Shorter lifts are not a single-leg stance."""
    stance_knee_max_deg: float = 30.0
    """Automatic detection: the stance knee stays straighter than this."""


def measure(cal: BatteryCalibration, config: BalanceConfig | None = None) -> ProtocolResult:
    config = config or BalanceConfig()
    t = cal.t_s
    steps = {side_of(s): s for s in protocol_steps(cal.session.meta.steps, PROTOCOL) if side_of(s)}
    detection = "steps" if steps else "automatic"
    if not steps:
        steps = _auto_steps(cal, config)
    if not steps:
        return ProtocolResult(PROTOCOL, issues=(QualityIssue(PROTOCOL, "not_found", "no single-leg stance found — lift one foot and balance"),), detection=detection)
    dt = 1.0 / cal.rate_hz
    metrics, issues = [], []
    for stance, step in steps.items():
        if stance not in cal.legs or stance.other not in cal.legs:
            issues.append(QualityIssue(PROTOCOL, "needs_both_legs", "single-leg balance needs both legs' sensors calibrated", stance))
            continue
        idx = np.flatnonzero(step_mask(t, step))
        base = idx[: max(int(round(config.baseline_s / dt)), 1)]
        lifted_knee = cal.frames(stance.other).knee_deg[:, 0]
        lifted = np.zeros(t.shape, dtype=bool)
        lifted[idx] = lifted_knee[idx] - lifted_knee[base].mean() > config.lift_knee_deg
        found = [(a, b) for a, b in runs(lifted) if (b - a) * dt >= config.min_hold_s]
        if not found:
            issues.append(QualityIssue(PROTOCOL, "no_single_leg_stance", f"no single-leg stance on the {stance.value} "
                                       f"leg detected — lift the {stance.other.value} foot off the floor and hold", stance))
            continue
        a, b = max(found, key=lambda r: r[1] - r[0])
        frames = cal.frames(stance)
        n_trim = int(round(config.sway_trim_s / dt))
        steady = slice(a + n_trim, max(b - n_trim, a + n_trim + 1))
        knee = frames.knee_deg
        n = b - a
        metrics += [
            Metric(PROTOCOL, "balance_hold_time_s", stance, float(n * dt), 1, Confidence.HIGH,
                   reference=f"{stance.other.value} knee lifted"),
            Metric(PROTOCOL, "balance_sway_rms_deg", stance, tilt_rms_deg(frames.axis(Segment.SHANK, 1)[steady]), n,
                   Confidence.HIGH, reference="stance shank tilt about its mean"),
            Metric(PROTOCOL, "balance_knee_valgus_deg", stance, float(-(knee[a:b, 1].mean() - knee[base, 1].mean())), n,
                   Confidence.MEDIUM, reference="standing at the start (+ = knee caves in)"),
        ]
    return ProtocolResult(PROTOCOL, tuple(metrics), tuple(issues), min(s.t_start_s for s in steps.values()),
                          max(s.t_end_s for s in steps.values()), detection)


def _auto_steps(cal: BatteryCalibration, config: BalanceConfig) -> dict[Side, ProtocolStep]:
    """Per stance leg, the longest run with the other knee bent and this one nearly straight."""
    t = cal.t_s
    if len(cal.legs) < 2:
        return {}
    out = {}
    free = unmarked_mask(t, cal.session.meta.steps)
    for stance in Side:
        up = free & (cal.frames(stance.other).knee_deg[:, 0] > config.stance_knee_max_deg + config.lift_knee_deg)
        straight = cal.frames(stance).knee_deg[:, 0] < config.stance_knee_max_deg
        found = [(a, b) for a, b in runs(up & straight) if t[b - 1] - t[a] >= config.min_hold_s]
        if found:
            a, b = max(found, key=lambda r: r[1] - r[0])
            out[stance] = ProtocolStep(f"balance:{stance.value}", float(max(t[a] - 3.0, t[0])), float(min(t[b - 1] + 3.0, t[-1])))
    return out
