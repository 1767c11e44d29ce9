"""A mechanical hinge moved by hand, with exact signals: the non-gait case of the knee calibration.

Two rigid links share a joint centre and a hinge axis (link 1's Z). Link 1 is turned about the
vertical and tilted, and turns back against the hinge's flexion (so the gait rule "thigh and shank
swing together" is false); the joint centre may move around. Sensors sit at fixed offsets and
arbitrary rotations; each sensor's orientation is given in its own world frame (arbitrary heading,
as from 6-axis fusion), exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.calibration.segment import LegRecording
from imugait.simulate.sensors import ideal_signals

RATE_HZ = 100.0
STILL_S = 3.0
H_S = 5e-4


@dataclass(frozen=True, eq=False)
class HingeRecording:
    rec: LegRecording
    still: np.ndarray
    """(M,) bool: both links at rest with the hinge axis horizontal (the reference pose)."""
    moving: np.ndarray
    r_link_sensor: tuple[Rotation, Rotation]
    """Each sensor's frame in its link's frame (link frames coincide at zero flexion)."""
    sensor_link_m: tuple[np.ndarray, np.ndarray]
    """Each sensor's position from the joint centre, in its link's frame, m."""
    r_true_world_own_world: tuple[Rotation, Rotation]
    """Each sensor's own world frame in the true world frame (a rotation about z)."""


def hinge_recording(
    seed: int, duration_s: float = 25.0, centre_moves: bool = True, link1_moves: bool = True
) -> HingeRecording:
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_s, 1.0 / RATE_HZ)
    n = t.size
    t3 = np.concatenate([t - H_S, t, t + H_S])
    # Motion fades in after the still reference period.
    ramp = np.clip((t3 - STILL_S) / 2.0, 0.0, 1.0) ** 2
    flexion = ramp * np.deg2rad(35.0) * (1.0 - np.cos(2 * np.pi * 0.7 * t3))
    r_link1 = Rotation.identity(t3.size)
    if link1_moves:
        yaw = ramp * np.deg2rad(40.0) * np.sin(2 * np.pi * 0.23 * t3)
        tilt_x = ramp * np.deg2rad(20.0) * np.sin(2 * np.pi * 0.37 * t3 + 1.0)
        # Link 1 turns by +0.3 × flexion about the hinge (world −y at rest) while link 2 turns by
        # −0.7 ×: their rates about the hinge are opposed, unlike a thigh and shank in gait.
        back = 0.3 * flexion
        r_link1 = (
            Rotation.from_rotvec(np.outer(yaw, [0, 0, 1]))
            * Rotation.from_rotvec(np.outer(tilt_x, [1, 0, 0]))
            * Rotation.from_rotvec(np.outer(back, [0, -1, 0]))
        )
    # Link frames: X forward, Y up (along the link at zero flexion... link 1 above, link 2 below),
    # Z the hinge axis, horizontal at rest. World z up: map link Y to world z.
    r_world_link_rest = Rotation.from_matrix([[1, 0, 0], [0, 0, -1], [0, 1, 0]])
    r_world_link1 = r_link1 * r_world_link_rest
    r_world_link2 = r_world_link1 * Rotation.from_rotvec(np.outer(-flexion, [0, 0, 1]))
    centre = np.zeros((t3.size, 3))
    if centre_moves:
        centre = ramp[:, None] * np.column_stack(
            [0.12 * np.sin(2 * np.pi * 0.9 * t3), 0.08 * np.sin(2 * np.pi * 0.6 * t3 + 0.5), 0.05 * np.sin(2 * np.pi * 1.1 * t3)]
        )
    offsets = (np.array([0.03, 0.20, 0.05]), np.array([-0.02, -0.18, 0.04]))  # sensor from centre, link frame
    mountings = (Rotation.random(random_state=rng), Rotation.random(random_state=rng))
    own_world = (Rotation.from_rotvec([0, 0, 0.7]), Rotation.from_rotvec([0, 0, -1.9]))
    signals = []
    for r_world_link, offset, mounting, world in zip(
        (r_world_link1, r_world_link2), offsets, mountings, own_world, strict=True
    ):
        p = centre + r_world_link.apply(offset)
        acc_world = (p[2 * n :] - 2 * p[n : 2 * n] + p[:n]) / H_S**2
        r_world_sensor = r_world_link * mounting
        acc, gyr, _ = ideal_signals(r_world_sensor, acc_world, np.zeros(3), H_S)
        q_own = (world.inv() * r_world_sensor[n : 2 * n]).as_quat(scalar_first=True)
        signals.append((q_own, gyr, acc))
    (q1, g1, a1), (q2, g2, a2) = signals
    rec = LegRecording.on_grid(t, q1, q2, g1, g2, a1, a2)
    still = t < STILL_S - 0.5
    moving = t > STILL_S + 2.0
    return HingeRecording(rec, still, moving, mountings, offsets, own_world)
