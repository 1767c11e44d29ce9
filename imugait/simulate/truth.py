"""Ground truth of a simulation: segment orientations, joint angles, gait events, cycles.

Angle columns are named like the analysis output (``left_knee_flexion_deg``); hip rotation is
given in both meanings of ``docs/conventions.md``: ``*_hip_rotation_pelvis_deg`` (femur vs
pelvis) and ``*_hip_rotation_progression_deg`` (femur vs the line of progression).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from imugait.conventions import Joint, Placement, Segment, Side, joint_angles_rad, quat
from imugait.simulate.walker import Walker

STEADY_WEIGHT = 0.999
"""A stride is steady when the walking weight stays above this and no turn overlaps it."""


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """What really happened in a simulation.

    Attributes
    ----------
    series : DataFrame, one row per instant on a regular grid: ``t_s``, ``walking_weight``,
        ``turn_weight``, ``heading_rad``, ``q_world_<placement>_<w|x|y|z>`` for the anatomical
        frame of every segment, and the angle columns (degrees, sign table).
    events : DataFrame ``side, event ('initial_contact' | 'toe_off'), t_s, steady``.
    cycles : DataFrame, one row per stride (initial contact to the next) and side with its
        timing and per-cycle truth values; ``steady`` marks strides fully inside straight walking.
    """

    series: pd.DataFrame
    events: pd.DataFrame
    cycles: pd.DataFrame

    def angle(self, side: Side, name: str) -> np.ndarray:
        """Column ``<side>_<name>`` of :attr:`series`, e.g. ``angle(Side.LEFT, "knee_flexion_deg")``."""
        return self.series[f"{side.value}_{name}"].to_numpy()

    def q_world(self, placement: Placement) -> np.ndarray:
        cols = [f"q_world_{placement.value}_{c}" for c in "wxyz"]
        return self.series[cols].to_numpy()


def build_truth(walker: Walker, rate_hz: float) -> GroundTruth:
    """Sample the walker on a regular ``rate_hz`` grid and derive events and cycles."""
    t = np.arange(0.0, walker.timeline.duration_s, 1.0 / rate_hz)
    pose = walker.pose(t)
    tl = walker.timeline
    cols: dict[str, np.ndarray] = {
        "t_s": t,
        "walking_weight": np.clip(tl.walking_weight(t), 0.0, 1.0),
        "turn_weight": np.clip(tl.turn_weight(t), 0.0, 1.0),
        "heading_rad": tl.heading_rad(t),
    }
    for (segment, side), r in pose.r_world.items():
        q = quat(r)
        name = Placement.of(segment, side).value
        for i, c in enumerate("wxyz"):
            cols[f"q_world_{name}_{c}"] = q[:, i]
    q_pelvis = quat(pose.r_world[(Segment.PELVIS, None)])
    q_prog = quat(pose.r_world_progression)
    for side in Side:
        q_thigh = quat(pose.r_world[(Segment.THIGH, side)])
        q_shank = quat(pose.r_world[(Segment.SHANK, side)])
        knee = np.rad2deg(joint_angles_rad(q_thigh, q_shank, Joint.KNEE, side))
        hip = np.rad2deg(joint_angles_rad(q_pelvis, q_thigh, Joint.HIP, side))
        hip_prog = np.rad2deg(joint_angles_rad(q_prog, q_thigh, Joint.HIP, side))
        s = side.value
        cols[f"{s}_knee_flexion_deg"], cols[f"{s}_knee_adduction_deg"], cols[f"{s}_knee_rotation_deg"] = knee.T
        cols[f"{s}_hip_flexion_deg"], cols[f"{s}_hip_adduction_deg"] = hip[:, 0], hip[:, 1]
        cols[f"{s}_hip_rotation_pelvis_deg"] = hip[:, 2]
        cols[f"{s}_hip_rotation_progression_deg"] = hip_prog[:, 2]
    series = pd.DataFrame(cols)
    events = _events(walker)
    return GroundTruth(series=series, events=events, cycles=_cycles(series, events))


def _events(walker: Walker) -> pd.DataFrame:
    tl = walker.timeline
    grid_t = tl.stride_phase.x
    weight = tl.walking_weight(grid_t)
    turn = tl.turn_weight(grid_t)
    rows = []
    for side in Side:
        phase = walker.leg_phase(grid_t, side)
        first, last = int(np.floor(phase[0])) + 1, int(np.floor(phase[-1]))
        # Invert the (non-decreasing) phase; strictly increasing wherever an event falls.
        for k in range(first, last + 1):
            for event, target in (("initial_contact", k), ("toe_off", k + walker.stance_fraction)):
                if target > phase[-1]:
                    continue
                i = int(np.searchsorted(phase, target))
                if i == 0 or i >= phase.size:
                    continue
                frac = (target - phase[i - 1]) / (phase[i] - phase[i - 1])
                t_event = grid_t[i - 1] + frac * (grid_t[i] - grid_t[i - 1])
                steady = bool(weight[i] >= STEADY_WEIGHT and turn[i] <= 1.0 - STEADY_WEIGHT)
                rows.append((side.value, event, float(t_event), steady))
    events = pd.DataFrame(rows, columns=["side", "event", "t_s", "steady"])
    return events.sort_values(["side", "t_s"], ignore_index=True)


def _cycles(series: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    t = series["t_s"].to_numpy()
    weight = series["walking_weight"].to_numpy()
    turn = series["turn_weight"].to_numpy()
    rows = []
    for side in Side:
        s = side.value
        ev = events[events["side"] == s]
        ic = ev.loc[ev["event"] == "initial_contact", "t_s"].to_numpy()
        to = ev.loc[ev["event"] == "toe_off", "t_s"].to_numpy()
        for t0, t1 in zip(ic[:-1], ic[1:], strict=True):
            inside = (t >= t0) & (t < t1)
            if inside.sum() < 10:
                continue
            t_to = to[(to > t0) & (to < t1)]
            stance = (t >= t0) & (t < (t_to[0] if t_to.size else t1))
            steady = bool(weight[inside].min() >= STEADY_WEIGHT and turn[inside].max() <= 1.0 - STEADY_WEIGHT)

            def col(name: str, s: str = s) -> np.ndarray:
                return series[f"{s}_{name}"].to_numpy()

            rows.append(
                {
                    "side": s,
                    "t_initial_contact_s": t0,
                    "t_toe_off_s": float(t_to[0]) if t_to.size else np.nan,
                    "t_next_initial_contact_s": t1,
                    "stride_time_s": t1 - t0,
                    "stance_pct": 100.0 * (t_to[0] - t0) / (t1 - t0) if t_to.size else np.nan,
                    "steady": steady,
                    "in_turn": bool(turn[inside].max() > 1.0 - STEADY_WEIGHT),
                    "hip_rotation_progression_mean_deg": col("hip_rotation_progression_deg")[inside].mean(),
                    "hip_rotation_pelvis_mean_deg": col("hip_rotation_pelvis_deg")[inside].mean(),
                    "hip_rotation_progression_stance_mean_deg": col("hip_rotation_progression_deg")[stance].mean(),
                    "knee_flexion_max_deg": col("knee_flexion_deg")[inside].max(),
                    "knee_flexion_min_deg": col("knee_flexion_deg")[inside].min(),
                    "knee_adduction_mean_deg": col("knee_adduction_deg")[inside].mean(),
                    "knee_adduction_stance_min_deg": col("knee_adduction_deg")[stance].min(),
                    "knee_rotation_stance_mean_deg": col("knee_rotation_deg")[stance].mean(),
                }
            )
    return pd.DataFrame(rows)
