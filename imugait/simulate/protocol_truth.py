"""What a perfect measurement of each simulated protocol reports (the truth the assessment is
tested against), computed from the simulated body itself — not copied from the parameters.

Names are those of the assessment's metrics (``docs/assessment.md``); ``tests/assessment`` checks
that the two agree. "Relative to standing" means relative to the standing pose at the start of the
protocol's step (the assessment's calibration reference is quiet standing too).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from imugait.conventions import Joint, Side, joint_angles_rad, progression_quat
from imugait.timebase import sample_period_s

QUIET_BEFORE_POSTURE_S = 3.5
"""The posture step starts this long after the quiet standing it is compared with."""

LIFTED_ANKLE_M = 0.02
"""The lifted foot counts as off the floor above this height over its standing height."""
SWAY_TRIM_S = 1.0
"""Sway is taken over the single-leg stance less this much at each end (lifting and lowering the
foot are not sway); the assessment's ``BalanceConfig.sway_trim_s`` is the same."""


@dataclass(frozen=True)
class TruthValue:
    """What a perfect measurement reports: metric ``name`` (unit in the name) for ``side``."""

    protocol: str
    name: str
    side: Side | None
    value: float


def expected_values(series: pd.DataFrame, marks, config, rate_hz: float | None = None) -> tuple[TruthValue, ...]:
    """Truth values of every marked protocol step (``marks``: ``(name, t_start_s, t_end_s)``);
    ``rate_hz``: the rate of ``series["t_s"]`` if known (measured from it otherwise)."""
    t = series["t_s"].to_numpy()
    out: list[TruthValue] = []
    for name, t0, t1 in marks:
        inside = (t >= t0) & (t <= t1)
        protocol, _, part = name.partition(":")
        if protocol == "posture":
            out += _posture(series, inside)
        elif protocol == "supine" and part in ("left", "right"):
            out += _rotation_range(series, inside, "supine", Side(part))
        elif protocol == "supine":
            for side in Side:
                out.append(TruthValue("supine", "supine_hip_rotation_rest_deg", side, float(_col(series, side, "hip_rotation_deg")[inside].mean())))
        elif protocol == "prone" and part in ("left", "right"):
            out += _rotation_range(series, inside, "prone", Side(part))
        elif protocol == "squat":
            out += _squat(series, inside)
        elif protocol == "single_leg_squat":
            out += _single_leg_squat(series, inside, Side(part))
        elif protocol == "balance":
            out += _balance(series, inside, Side(part), sample_period_s(t, rate_hz))
    return tuple(out)


def _rotation_range(series: pd.DataFrame, inside: np.ndarray, protocol: str, side: Side) -> list[TruthValue]:
    """The ends of the femur's rotation (relative to the pelvis) reached in a range test's step."""
    rot = _col(series, side, "hip_rotation_deg")[inside]
    return [
        TruthValue(protocol, f"{protocol}_internal_rotation_range_deg", side, float(rot.max())),
        TruthValue(protocol, f"{protocol}_external_rotation_range_deg", side, float(-rot.min())),
        TruthValue(protocol, f"{protocol}_internal_minus_external_rotation_deg", side, float(rot.max() + rot.min())),
    ]


def _single_leg_squat(series: pd.DataFrame, inside: np.ndarray, stance: Side) -> list[TruthValue]:
    """At the deepest knee flexion of each repetition, relative to standing at the start of the step.
    The frontal-plane projection angle is the 2-D video measure: the hip, knee and ankle joint
    centres seen from the front (a camera facing the pelvis as it stood at the start of the step),
    the angle by which the hip–knee and knee–ankle lines deviate from straight, + when the knee is
    medial."""
    idx = np.flatnonzero(inside)
    flexion = _col(series, stance, "knee_flexion_deg")
    bottoms = _rep_bottoms(flexion, idx)
    i0 = idx[0]
    fppa = _fppa_deg(series, stance, i0)
    adduction = _col(series, stance, "knee_adduction_deg")
    rotation = _col(series, stance, "hip_rotation_deg")
    name = "single_leg_squat"
    return [
        TruthValue(name, "single_leg_squat_knee_flexion_peak_deg", stance, float(np.mean(flexion[bottoms] - flexion[i0]))),
        TruthValue(name, "single_leg_squat_knee_valgus_peak_deg", stance, float(np.mean(fppa[bottoms] - fppa[i0]))),
        TruthValue(name, "single_leg_squat_knee_valgus_3d_deg", stance, float(np.mean(-(adduction[bottoms] - adduction[i0])))),
        TruthValue(name, "single_leg_squat_femur_rotation_deg", stance, float(np.mean(rotation[bottoms] - rotation[i0]))),
    ]


def _fppa_deg(series: pd.DataFrame, side: Side, i_front: int) -> np.ndarray:
    """(N,) frontal-plane projection angle from the joint centres, seen from in front of the pelvis
    at sample ``i_front`` (see :func:`_single_leg_squat`)."""
    from scipy.spatial.transform import Rotation

    right = Rotation.from_quat(_q(series, "pelvis")[i_front], scalar_first=True).apply([0.0, 0.0, 1.0])
    right[2] = 0.0
    right /= np.linalg.norm(right)
    seen = {j: np.column_stack([np.column_stack([_col(series, side, f"{j}_{a}_m") for a in "xyz"]) @ right,
                                _col(series, side, f"{j}_z_m")]) for j in ("hip", "knee", "ankle")}
    up_thigh, up_shank = seen["hip"] - seen["knee"], seen["knee"] - seen["ankle"]
    lean = lambda v: np.arctan2(v[:, 0], v[:, 1])  # noqa: E731 — towards the subject's right
    # Right leg: the knee medial (to the left) makes the thigh lean right and the shank lean left.
    return side.mirror * np.rad2deg(lean(up_thigh) - lean(up_shank))


def _col(series: pd.DataFrame, side: Side, name: str) -> np.ndarray:
    return series[f"{side.value}_{name}"].to_numpy()


def _q(series: pd.DataFrame, placement: str) -> np.ndarray:
    return series[[f"q_world_{placement}_{c}" for c in "wxyz"]].to_numpy()


def _posture(series: pd.DataFrame, inside: np.ndarray) -> list[TruthValue]:
    from scipy.spatial.transform import Rotation

    out = []
    leans = []
    # Quiet standing before the step (script_posture: 2 s still, 2 s into the relaxed posture).
    t = series["t_s"].to_numpy()
    reference = int(np.searchsorted(t, t[inside][0] - QUIET_BEFORE_POSTURE_S))
    r_pelvis = Rotation.from_quat(_q(series, "pelvis")[inside], scalar_first=True)
    right = r_pelvis.apply([0.0, 0.0, 1.0])
    right[:, 2] = 0.0
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    for side in Side:
        q_thigh = _q(series, f"{side.value}_thigh")[inside]
        up = Rotation.from_quat(q_thigh, scalar_first=True).apply([0.0, 1.0, 0.0])
        leans.append(np.rad2deg(np.arcsin(np.sum(up * right, axis=1))).mean())
        # The facing direction is world +x in the simulator (the walking test walks along it).
        facing = progression_quat(np.zeros(q_thigh.shape[0]))
        rotation = np.rad2deg(joint_angles_rad(facing, q_thigh, Joint.HIP, side)[:, 2]).mean()
        out.append(TruthValue("posture", "posture_thigh_rotation_deg", side, float(rotation)))
        adduction = _col(series, side, "knee_adduction_deg")
        out.append(TruthValue("posture", "posture_knee_adduction_deg", side, float(adduction[inside].mean() - adduction[reference])))
    out.append(TruthValue("posture", "posture_weight_shift_lean_deg", None, float(np.mean(leans))))
    return out


def _squat(series: pd.DataFrame, inside: np.ndarray) -> list[TruthValue]:
    out = []
    idx = np.flatnonzero(inside)
    for side in Side:
        flexion = _col(series, side, "knee_flexion_deg")
        adduction = _col(series, side, "knee_adduction_deg")
        rotation = _col(series, side, "hip_rotation_deg")
        i0 = idx[0]
        bottoms = _rep_bottoms(flexion, idx)
        out += [
            TruthValue("squat", "squat_knee_flexion_peak_deg", side, float(np.mean(flexion[bottoms] - flexion[i0]))),
            TruthValue("squat", "squat_knee_valgus_deg", side, float(np.mean(-(adduction[bottoms] - adduction[i0])))),
            TruthValue("squat", "squat_femur_rotation_deg", side, float(np.mean(rotation[bottoms] - rotation[i0]))),
        ]
    return out


def _rep_bottoms(flexion: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Index of the deepest sample of each repetition (runs above half the peak flexion)."""
    f = flexion[idx] - flexion[idx[0]]
    deep = f > 0.5 * f.max()
    edges = np.diff(np.r_[0, deep.astype(np.int8), 0])
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return np.array([idx[a + int(np.argmax(f[a:b]))] for a, b in zip(starts, stops, strict=True)])


def _balance(series: pd.DataFrame, inside: np.ndarray, stance: Side, period_s: float) -> list[TruthValue]:
    lifted = stance.other
    height = _col(series, lifted, "ankle_height_m")
    idx = np.flatnonzero(inside)
    off = inside & (height > height[idx[0]] + LIFTED_ANKLE_M)
    n_trim = int(round(SWAY_TRIM_S / period_s))
    steady = np.flatnonzero(off)[n_trim:-n_trim]
    up = np.column_stack([_col(series, stance, f"shank_up_{a}") for a in "xyz"])[steady]
    mean = up.mean(axis=0)
    mean /= np.linalg.norm(mean)
    tilt = np.arccos(np.clip(up @ mean, -1.0, 1.0))
    adduction = _col(series, stance, "knee_adduction_deg")
    return [
        TruthValue("balance", "balance_hold_time_s", stance, float(off.sum() * period_s)),
        TruthValue("balance", "balance_sway_rms_deg", stance, float(np.rad2deg(np.sqrt(np.mean(tilt**2))))),
        TruthValue("balance", "balance_knee_valgus_deg", stance, float(-(adduction[off].mean() - adduction[idx[0]]))),
    ]
