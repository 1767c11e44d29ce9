"""True hip angles (femur relative to the pelvis) when a pelvis sensor is worn.

The pelvis frame in its sensor, without trusting how the sensor was strapped on:

* Y (superior): gravity while standing upright (so hip flexion is zero in the standing pose; the
  pelvis's anatomical tilt of about 10° is not seen by an IMU);
* X (anterior): in walking the pelvis rolls (obliquity, about ±4°) far more than it tilts (about
  ±1°), so the principal axis of its angular rate in the horizontal plane is its antero-posterior
  axis. Its sign comes from gait: right after a foot's initial contact the pelvis rises on that
  side (the other side drops), a rotation about +X that is negative after a right contact and
  positive after a left one;
* Z = X × Y (to the right).

The hip has three degrees of freedom, so no kinematic constraint ties the pelvis sensor's heading
to the thigh sensor's. Per straight bout the pelvis faces the walking direction on average, so
the heading offset between the two world frames is the difference between the pelvis's mean
forward heading and the thigh's bout direction (kinematics.progression); it is interpolated
between bouts. Over a bout, mean hip rotation against the pelvis therefore equals the rotation
against the line of progression; within the cycle it follows the pelvis.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import Joint, Side, joint_angles_rad
from imugait.errors import CalibrationError
from imugait.kinematics.progression import Progression
from imugait.quaternion import quat_about_z, quat_multiply

CONTACT_WINDOW_S = 0.12
"""Window after initial contact in which the pelvis rises on the contact side."""


def pelvis_frame(
    t_s: np.ndarray,
    gyr_pelvis_radps: np.ndarray,
    acc_pelvis_mps2: np.ndarray,
    standing: np.ndarray,
    walking: np.ndarray,
    contacts_s: dict[Side, np.ndarray],
) -> np.ndarray:
    """``q_sensor_segment`` (4,) of the pelvis: its ISB frame in the pelvis sensor's frame.

    Parameters
    ----------
    t_s : (M,) grid; gyr_pelvis_radps, acc_pelvis_mps2 : (M, 3) sensor frame on it.
    standing, walking : (M,) bool.
    contacts_s : initial-contact times per side (at least one side).
    """
    up = np.mean(acc_pelvis_mps2[standing], axis=0)
    up /= np.linalg.norm(up)
    basis = np.linalg.svd(np.eye(3) - np.outer(up, up))[0][:, :2]  # two unit vectors ⟂ up
    rates = gyr_pelvis_radps[walking] @ basis
    rates -= rates.mean(axis=0)
    _, vecs = np.linalg.eigh(rates.T @ rates)
    forward = basis @ vecs[:, -1]
    roll = gyr_pelvis_radps @ forward
    score = 0.0
    for side, times in contacts_s.items():
        for t0 in times[np.isfinite(times)]:
            i0, i1 = np.searchsorted(t_s, [t0, t0 + CONTACT_WINDOW_S])
            if i1 > i0 and walking[i0]:
                # + when the pelvis rises on the contact side about the candidate +X.
                score -= side.mirror * float(np.mean(roll[i0:i1]))
    if score == 0.0:
        raise CalibrationError("pelvis: no gait events to orient the pelvis sensor (walk for 10 s)")
    if score < 0:
        forward = -forward
    right = np.cross(forward, up)
    return Rotation.from_matrix(np.column_stack([forward, up, right])).as_quat(scalar_first=True)


def hip_angles_rad(
    q_world_pelvis: np.ndarray,
    q_world_thigh: np.ndarray,
    progression: Progression,
    side: Side,
) -> np.ndarray:
    """Hip flexion, adduction, internal rotation (M, 3), rad, femur relative to the pelvis.

    ``q_world_pelvis`` is the pelvis's ISB frame in the pelvis sensor's world, ``q_world_thigh``
    the thigh's in the thigh sensor's world; ``progression`` (of that thigh) aligns the two.
    NaN where there is no bout to align with.
    """
    if not progression.bouts:
        return np.full((q_world_thigh.shape[0], 3), np.nan)
    forward = Rotation.from_quat(q_world_pelvis, scalar_first=True).apply([1.0, 0.0, 0.0])
    pelvis_heading = np.arctan2(forward[:, 1], forward[:, 0])
    centres, offsets = [], []
    for bout in progression.bouts:
        mean_heading = np.angle(np.mean(np.exp(1j * pelvis_heading[bout.start : bout.stop])))
        centres.append(0.5 * (bout.start + bout.stop))
        offsets.append(bout.heading_rad - mean_heading)
    offset = np.interp(np.arange(q_world_thigh.shape[0]), centres, np.unwrap(offsets))
    q_pelvis_in_thigh_world = quat_multiply(quat_about_z(offset), q_world_pelvis)
    return joint_angles_rad(q_pelvis_in_thigh_world, q_world_thigh, Joint.HIP, side)
