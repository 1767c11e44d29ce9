"""Exact sensor signals of a periodic motion, for the flexion-axis tests on exact kinematics."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import quat


def midpoint_signals(r_world_sensor: Rotation, dt_s: float) -> tuple[np.ndarray, np.ndarray]:
    """A sensor's orientation (N, 4) scalar first and body rate (N, 3) rad/s at the midpoint of
    each step of the periodic sequence ``r_world_sensor`` (N rotations, ``dt_s`` apart; the last
    step wraps round to the first), exactly: the rate is constant over each step."""
    following = np.r_[1:len(r_world_sensor), 0]
    step = (r_world_sensor.inv() * r_world_sensor[following]).as_rotvec()
    return quat(r_world_sensor * Rotation.from_rotvec(0.5 * step)), step / dt_s
