"""Joint angles of one leg from calibrated sensor orientations (JCS, the shared sign table).

Everything is expressed in the thigh sensor's world frame: the shank's orientation is turned by
the tracked heading offset (:mod:`imugait.kinematics.heading`) and the line of progression is
found from the thigh itself (:mod:`imugait.kinematics.progression`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import Joint, Side, joint_angles_rad, progression_rotation, quat


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
) -> tuple[Rotation, Rotation]:
    """Anatomical thigh and shank frames, both in the thigh sensor's world frame."""
    r_thigh = Rotation.from_quat(q_world_thigh_sensor, scalar_first=True) * Rotation.from_quat(
        q_thigh_sensor_segment, scalar_first=True
    )
    r_offset = Rotation.from_rotvec(np.outer(heading_offset_rad, [0.0, 0.0, 1.0]))
    r_shank = (
        r_offset
        * Rotation.from_quat(q_world_shank_sensor, scalar_first=True)
        * Rotation.from_quat(q_shank_sensor_segment, scalar_first=True)
    )
    return r_thigh, r_shank


def leg_angles(side: Side, r_world_thigh: Rotation, r_world_shank: Rotation, progression_heading_rad: np.ndarray) -> LegAngles:
    """Knee angles and hip rotation relative to the line of progression for one leg."""
    q_thigh, q_shank = quat(r_world_thigh), quat(r_world_shank)
    knee = joint_angles_rad(q_thigh, q_shank, Joint.KNEE, side)
    hip_rotation = np.full(q_thigh.shape[0], np.nan)
    known = np.isfinite(progression_heading_rad)
    if known.any():
        q_prog = quat(progression_rotation(progression_heading_rad[known]))
        hip_rotation[known] = joint_angles_rad(q_prog, q_thigh[known], Joint.HIP, side)[:, 2]
    return LegAngles(knee, hip_rotation, q_thigh, q_shank)
