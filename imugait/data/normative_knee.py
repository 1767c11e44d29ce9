"""The packaged normative knee curves as numbers over the gait cycle — the pure data part shared
by the simulator (:mod:`imugait.simulate.curves`) and the calibration's secondary-motion model
(:mod:`imugait.calibration.secondary_motion`).

``normative_gait_kinematics.csv`` is marker-based; its knee adduction swings ~7° in swing, mostly
flexion crosstalk. ``knee_secondary_motion.json`` gives the bone-measured range (biplane
radiography, J Biomech Eng 2020, doi:10.1115/1.4047419): the adduction curve's excursion is scaled
to it about its mean. Its rotation range agrees with the CSV's, which is kept unscaled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from imugait.data import load_json, normative_gait_table

KNEE_SECONDARY_FILE = "knee_secondary_motion.json"


def closed_loop_deg(table: pd.DataFrame, column: str) -> np.ndarray:
    """Column ``column`` of the curves table, deg, with its 0 % and 100 % set to their mean (the
    source's two ends differ by measurement noise; a periodic curve needs them equal)."""
    y = table[column].to_numpy(dtype=float).copy()
    y[0] = y[-1] = 0.5 * (y[0] + y[-1])
    return y


def knee_adduction_bone_scaled_deg(table: pd.DataFrame) -> np.ndarray:
    """The table's knee adduction (closed loop), deg, its excursion scaled about its mean to the
    bone-measured range of ``knee_secondary_motion.json``."""
    bone_range_deg = load_json(KNEE_SECONDARY_FILE)["adduction_range_deg"]["value"]
    add = closed_loop_deg(table, "knee_adduction_mean_deg")
    return add.mean() + (add - add.mean()) * bone_range_deg / np.ptp(add)


def normative_knee_angles_deg() -> tuple[np.ndarray, np.ndarray]:
    """``(gait_cycle_fraction (K,), angles_deg (K, 3))``: the normative knee flexion, adduction
    (bone-scaled) and internal rotation over one cycle (0 = initial contact, closed loop), sign
    table of ``docs/conventions.md``."""
    table = normative_gait_table()
    x = table["gait_cycle_pct"].to_numpy(dtype=float) / 100.0
    angles = np.column_stack(
        [
            closed_loop_deg(table, "knee_flexion_mean_deg"),
            knee_adduction_bone_scaled_deg(table),
            closed_loop_deg(table, "knee_rotation_mean_deg"),
        ]
    )
    return x, angles
