"""Joint angles of one leg from calibrated sensor orientations (JCS, the shared sign table).

Everything is expressed in the thigh sensor's world frame: the shank's orientation is turned by
the tracked heading offset (:mod:`imugait.kinematics.heading`) and the line of progression is
found from the thigh itself (:mod:`imugait.kinematics.progression`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imugait.conventions import Joint, Side, joint_angles_each_rad, progression_quat
from imugait.quaternion import CHUNK_ROWS, quat_about_z, quat_multiply, row_chunks


@dataclass(frozen=True, eq=False)
class LegAngles:
    """Angles of one leg on the grid, rad (sign table).

    ``knee_rad`` (M, 3): flexion, adduction (varus +), internal rotation of the tibia.
    ``hip_rotation_progression_rad`` (M,): femur internal rotation relative to the line of
    progression (NaN where no straight bout gives one). ``q_world_thigh``, ``q_world_shank``
    (M, 4): anatomical frames in the thigh sensor's world frame.
    """

    knee_rad: np.ndarray
    hip_rotation_progression_rad: np.ndarray
    q_world_thigh: np.ndarray
    q_world_shank: np.ndarray


def segment_orientations(
    q_world_thigh_sensor: np.ndarray,
    q_world_shank_sensor: np.ndarray,
    q_thigh_sensor_segment: np.ndarray,
    q_shank_sensor_segment: np.ndarray,
    heading_offset_rad: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Anatomical thigh and shank frames (M, 4), both in the thigh sensor's world frame."""
    q_thigh = quat_multiply(q_world_thigh_sensor, q_thigh_sensor_segment)
    heading = heading_offset_rad
    if not (isinstance(heading, np.ndarray) and heading.shape == q_world_shank_sensor.shape[:1] and heading.dtype == float):
        # (the live polls pass one offset per row already: broadcast_to's per-call cost spared)
        heading = np.broadcast_to(np.asarray(heading_offset_rad, dtype=float), q_world_shank_sensor.shape[:1])
    if q_world_shank_sensor.shape[0] <= CHUNK_ROWS:  # (one block: the same products, less per-call work)
        return q_thigh, quat_multiply(quat_about_z(heading), quat_multiply(q_world_shank_sensor, q_shank_sensor_segment))
    q_shank = np.empty(q_world_shank_sensor.shape)
    for rows in row_chunks(q_shank.shape[0]):  # blocks: no full-length temporaries
        q_shank[rows] = quat_multiply(quat_about_z(heading[rows]),
                                      quat_multiply(q_world_shank_sensor[rows], q_shank_sensor_segment))
    return q_thigh, q_shank


def leg_angles(side: Side, q_thigh: np.ndarray, q_shank: np.ndarray, progression_heading_rad: np.ndarray) -> LegAngles:
    """Knee angles and hip rotation relative to the line of progression for one leg, from the
    anatomical frames (M, 4) in one world frame."""
    return legs_angles([(side, q_thigh, q_shank, progression_heading_rad)])[0]


def legs_angles(legs: Sequence[tuple[Side, np.ndarray, np.ndarray, np.ndarray]]) -> list[LegAngles]:
    """:func:`leg_angles` of several legs — (side, q_thigh (M_i, 4), q_shank (M_i, 4), progression
    heading (M_i,) rad) each — with one rotation conversion for all their joints (the same values:
    :func:`~imugait.conventions.joint_angles_each_rad`); the live pipeline's polls have a few rows
    per leg, where that conversion's per-call cost is most of the work."""
    joints, known = [], []
    for side, q_thigh, q_shank, heading in legs:
        joints.append((q_thigh, q_shank, Joint.KNEE, side))
        known.append(np.isfinite(heading))
        if np.count_nonzero(known[-1]):
            joints.append((progression_quat(heading[known[-1]]), q_thigh[known[-1]], Joint.HIP, side))
    angles = iter(joint_angles_each_rad(joints))
    out = []
    for (_side, q_thigh, q_shank, _heading), finite in zip(legs, known, strict=True):
        knee = next(angles)
        hip_rotation = np.full(q_thigh.shape[0], np.nan)
        if np.count_nonzero(finite):
            hip_rotation[finite] = next(angles)[:, 2]
        out.append(LegAngles(knee, hip_rotation, q_thigh, q_shank))
    return out
