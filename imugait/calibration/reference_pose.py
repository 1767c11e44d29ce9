"""The reference pose's share of a leg's segment frames, as sums over its samples.

A leg's sensor-to-segment frames (:func:`imugait.calibration.segment.calibrate_leg`) take from
the reference samples — standing still, or the mid-stances of the walk — the segments' upward
directions (the accelerometers' mean direction) and the thigh's flexion axis as the shank sensor
sees it (the knee's pose there); the knee axes come from the walking. Those are means, so they can
be kept as sums and added to as more reference samples come: the live pipeline, calibrated on
the mid-stances of its first seconds of walking, adds the mid-stances of every later stride in
bounded memory, where ``analyze`` averages over the whole recording's (docs/live-history.md, "The
mid-stance reference over the walk").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.quaternion import quat_conj, quat_rotate


@dataclass(frozen=True, eq=False)
class ReferenceSums:
    """Sums over reference samples, sensor frames (one leg)."""

    acc_thigh_mps2: np.ndarray
    """(3,) sum of the thigh sensor's accelerations (m/s²)."""
    acc_shank_mps2: np.ndarray
    """(3,) sum of the shank sensor's accelerations (m/s²)."""
    flexion_in_shank: np.ndarray
    """(3,) sum of the thigh's flexion axis (unit) as the shank sensor sees it, the shank in the
    thigh's world (the thigh–shank heading offset of each sample applied)."""
    n_samples: int
    t_last_s: float
    """The latest reference sample's time (s; -inf when none)."""

    def __add__(self, other: ReferenceSums) -> ReferenceSums:
        return ReferenceSums(self.acc_thigh_mps2 + other.acc_thigh_mps2, self.acc_shank_mps2 + other.acc_shank_mps2,
                             self.flexion_in_shank + other.flexion_in_shank, self.n_samples + other.n_samples,
                             max(self.t_last_s, other.t_last_s))


def reference_sums(t_s: np.ndarray, q_world_thigh_sensor: np.ndarray, q_world_shank_sensor: np.ndarray,
                   acc_thigh_mps2: np.ndarray, acc_shank_mps2: np.ndarray, heading_offset_rad: np.ndarray,
                   flexion_axis_thigh: np.ndarray) -> ReferenceSums:
    """The sums over the K reference samples given: times ``t_s`` (K,), the sensors' orientations
    (K, 4) and accelerations (K, 3), the shank's world turned by ``heading_offset_rad`` (K,) into
    the thigh's, ``flexion_axis_thigh`` (3,) in the thigh sensor's frame."""
    if not t_s.size:
        zero = np.zeros(3)
        return ReferenceSums(zero, zero, zero, 0, -np.inf)
    # The axis in the thigh's world, turned back by the offset into the shank's, then into the shank
    # sensor: (offset * shank)⁻¹ applied to thigh · axis (numpy quaternions: the per-stride cost live).
    in_world = quat_rotate(q_world_thigh_sensor, flexion_axis_thigh)
    c, s = np.cos(heading_offset_rad), np.sin(heading_offset_rad)
    in_shank_world = np.column_stack([c * in_world[:, 0] + s * in_world[:, 1], -s * in_world[:, 0] + c * in_world[:, 1],
                                      in_world[:, 2]])
    seen = quat_rotate(quat_conj(q_world_shank_sensor), in_shank_world)
    return ReferenceSums(np.sum(acc_thigh_mps2, axis=0), np.sum(acc_shank_mps2, axis=0), np.sum(seen, axis=0),
                         int(t_s.size), float(t_s[-1]))


@dataclass(frozen=True, eq=False)
class KneeInclination:
    """Where the knee's reference inclination is taken from (``SegmentCalibrationConfig.knee_inclination_from_orientation``):
    over the reference samples of the calibration walk, each sensor's upward direction from its
    accelerometer (mean) and from its orientations (the mean of the world's up in the sensor
    frame), unit or not, (3,) sensor frames."""

    up_thigh: np.ndarray
    up_shank: np.ndarray
    fused_up_thigh: np.ndarray
    fused_up_shank: np.ndarray

    def turn_rad(self, flexion_axis_thigh: np.ndarray, flexion_in_shank: np.ndarray) -> float:
        """The shank's up turned about its flexion axis by how much more the filter than the
        accelerometer inclines it, relative to the thigh (rad)."""
        return (inclination_to_fused_rad(self.up_shank, self.fused_up_shank, flexion_in_shank)
                - inclination_to_fused_rad(self.up_thigh, self.fused_up_thigh, flexion_axis_thigh))


def knee_inclination(acc_thigh_mps2: np.ndarray, acc_shank_mps2: np.ndarray, q_world_thigh_sensor: np.ndarray,
                     q_world_shank_sensor: np.ndarray) -> KneeInclination:
    """:class:`KneeInclination` over K reference samples: accelerations (K, 3), orientations (K, 4)."""
    up = np.array([0.0, 0.0, 1.0])
    return KneeInclination(_unit(np.mean(acc_thigh_mps2, axis=0)), _unit(np.mean(acc_shank_mps2, axis=0)),
                           np.mean(quat_rotate(quat_conj(q_world_thigh_sensor), up), axis=0),
                           np.mean(quat_rotate(quat_conj(q_world_shank_sensor), up), axis=0))


@dataclass(frozen=True, eq=False)
class ReferencePose:
    """What a leg's segment frames took from its reference samples: their sums, and where the
    knee's reference inclination came from (None: the accelerometers' own)."""

    sums: ReferenceSums
    inclination: KneeInclination | None = None


def up_directions(sums: ReferenceSums) -> tuple[np.ndarray, np.ndarray]:
    """The thigh's and shank's upward directions (3,) unit, sensor frames: the accelerometers' mean."""
    return _unit(sums.acc_thigh_mps2), _unit(sums.acc_shank_mps2)


def segment_quaternions(pose: ReferencePose, flexion_axis_thigh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(q_thigh_sensor_segment, q_shank_sensor_segment)`` (4,) each, scalar first: the thigh's Y
    up, Z along ``flexion_axis_thigh`` (3, thigh sensor frame); the shank's Y up turned by the
    knee's inclination turn, Z along the thigh's flexion axis seen from the shank."""
    up_thigh, up_shank = up_directions(pose.sums)
    flexion_in_shank = _unit(pose.sums.flexion_in_shank)
    if pose.inclination is not None:
        turn_rad = pose.inclination.turn_rad(flexion_axis_thigh, flexion_in_shank)
        up_shank = Rotation.from_rotvec(turn_rad * flexion_in_shank).apply(up_shank)
    return (segment_frame(up_thigh, flexion_axis_thigh).as_quat(scalar_first=True),
            segment_frame(up_shank, flexion_in_shank).as_quat(scalar_first=True))


def segment_frame(up_sensor: np.ndarray, axis_sensor: np.ndarray) -> Rotation:
    """``r_sensor_segment`` from the upward direction (→ Y) and the flexion axis (→ Z), sensor frame."""
    y = up_sensor / np.linalg.norm(up_sensor)
    z = axis_sensor - np.dot(axis_sensor, y) * y
    z /= np.linalg.norm(z)
    x = np.cross(y, z)
    return Rotation.from_matrix(np.column_stack([x, y, z]))


def inclination_to_fused_rad(up_sensor: np.ndarray, fused: np.ndarray, axis_sensor: np.ndarray) -> float:
    """Signed angle (rad) about ``axis_sensor`` (3,) from ``up_sensor`` (3,) to the filter's gravity
    direction ``fused`` (3,; :func:`knee_inclination`), both projected across the axis; sensor frame."""
    axis = _unit(axis_sensor)
    u, v = up_sensor - np.dot(up_sensor, axis) * axis, fused - np.dot(fused, axis) * axis
    return float(np.arctan2(np.dot(axis, np.cross(u, v)), np.dot(u, v)))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
