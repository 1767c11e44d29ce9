"""Small geometric measures shared by the protocols (all heading-free unless a heading is given).

Arrays are (M, 3) world directions on the session grid (z up) unless said otherwise; angles
returned in degrees with the sign table of docs/conventions.md.
"""

from __future__ import annotations

import numpy as np

from imugait.conventions import Joint, Side, joint_angles_rad, progression_quat

UP = np.array([0.0, 0.0, 1.0])


def rotation_about_long_axis_deg(
    flexion_axis_world: np.ndarray, long_axis_world: np.ndarray, side: Side, anterior_up: bool
) -> np.ndarray:
    """Femur internal rotation (+) lying down: the turn of the knee's flexion axis about the femur's
    long axis away from horizontal.

    Lying with the kneecap straight up (supine, ``anterior_up``) or straight down (prone), the
    flexion axis is horizontal; rotating the femur about its long axis tilts it by the rotation
    angle. In prone with the knee at 90° this equals the shank's inclination from vertical (the
    clinical measure: the shank falling *out* is internal rotation).

    Parameters
    ----------
    flexion_axis_world : (M, 3) the knee flexion axis (segment Z, pointing right), world frame.
    long_axis_world : (M, 3) the femur's long axis (thigh Y, towards the hip), world frame.
    side : the leg (signs mirrored so that + is internal on both legs).
    anterior_up : True lying supine, False prone.
    """
    a = _unit(long_axis_world)
    z0 = _unit(np.cross(UP, a))  # horizontal, perpendicular to the femur
    x0 = np.cross(a, z0)
    flip = np.sign(x0[:, 2]) != (1.0 if anterior_up else -1.0)
    z0[flip] *= -1.0
    z = _unit(flexion_axis_world)
    raw = np.arctan2(np.sum(np.cross(z0, z) * a, axis=1), np.sum(z0 * z, axis=1))
    return np.rad2deg(side.mirror * raw)


def facing_rotation_deg(q_world_thigh: np.ndarray, facing_heading_rad: float | np.ndarray, side: Side) -> np.ndarray:
    """(M,) femur internal rotation relative to a facing direction (about world z), degrees —
    the JCS of the thigh (``q_world_thigh`` (M, 4)) against a progression frame pointing that way."""
    heading = np.broadcast_to(np.asarray(facing_heading_rad, dtype=float), (q_world_thigh.shape[0],))
    q_facing = progression_quat(heading)
    return np.rad2deg(joint_angles_rad(q_facing, q_world_thigh, Joint.HIP, side)[:, 2])


def frontal_projection_angle_deg(
    thigh_up_world: np.ndarray, shank_up_world: np.ndarray, facing_heading_rad: float, side: Side
) -> np.ndarray:
    """(M,) the knee's frontal-plane projection angle (FPPA), degrees, + = valgus (knee medial).

    What a camera in front of the person sees: the thigh's and the shank's long axes (``(M, 3)``
    world directions pointing up the segment, thigh Y and shank Y) projected on the vertical plane
    across the facing direction, and the angle by which the two projected lines deviate from
    straight. It mixes knee abduction with hip adduction and femur rotation seen through a bent
    knee, as the 2-D video measure does.
    """
    facing = np.array([np.cos(facing_heading_rad), np.sin(facing_heading_rad), 0.0])
    right = np.cross(facing, UP)

    def lean(up: np.ndarray) -> np.ndarray:  # towards the subject's right, in the frontal plane
        return np.arctan2(up @ right, up @ UP)

    # Right leg: the knee medial (to the left) makes the thigh lean right and the shank lean left.
    return side.mirror * np.rad2deg(lean(thigh_up_world) - lean(shank_up_world))


def repetition_bottoms(depth_deg: np.ndarray, idx: np.ndarray, min_depth_deg: float, fraction: float) -> list[int]:
    """Grid index of the deepest sample of each repetition inside ``idx``: runs above ``fraction`` of
    the deepest ``depth_deg`` (knee flexion gained) that reach ``min_depth_deg``; [] when none does."""
    d = depth_deg[idx]
    if d.max() < min_depth_deg:
        return []
    out = []
    for a, b in runs(d > fraction * d.max()):
        if d[a:b].max() >= min_depth_deg:
            out.append(int(idx[a + int(np.argmax(d[a:b]))]))
    return out


def heading_rad(direction_world: np.ndarray) -> float:
    """Mean heading (about world z) of horizontal projections of (M, 3) directions."""
    d = np.mean(direction_world[:, :2] / np.maximum(np.linalg.norm(direction_world[:, :2], axis=1, keepdims=True), 1e-9), axis=0)
    return float(np.arctan2(d[1], d[0]))


def lateral_lean_deg(long_axis_world: np.ndarray, right_axis_world: np.ndarray) -> np.ndarray:
    """(M,) lean of a long axis towards the subject's right (+), degrees, in the frontal plane
    (``right_axis_world``: the segment's Z, projected on the horizontal)."""
    right = right_axis_world.copy()
    right[:, 2] = 0.0
    return np.rad2deg(np.arcsin(np.clip(np.sum(_unit(long_axis_world) * _unit(right), axis=1), -1.0, 1.0)))


def tilt_rms_deg(up_world: np.ndarray) -> float:
    """RMS angle (deg) of (M, 3) directions about their mean direction (sway of a long axis)."""
    u = _unit(up_world)
    mean = _unit(u.mean(axis=0, keepdims=True))[0]
    return float(np.rad2deg(np.sqrt(np.mean(np.arccos(np.clip(u @ mean, -1.0, 1.0)) ** 2))))


def elevation_deg(direction_world: np.ndarray) -> np.ndarray:
    """(M,) angle above the horizontal, degrees."""
    return np.rad2deg(np.arcsin(np.clip(_unit(direction_world)[:, 2], -1.0, 1.0)))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` index pairs of the runs of True in ``mask``."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
