"""Normative joint-angle curves over the gait cycle, as smooth periodic functions of phase.

The numbers come from ``imugait/data/normative_gait_kinematics.csv``; its JSON companion names
the source of every column. Angles follow the sign table of ``docs/conventions.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.interpolate import CubicSpline

from imugait.data import NORMATIVE_GAIT_CURVES, load_json, normative_gait_table
from imugait.data.normative_knee import closed_loop_deg, knee_adduction_bone_scaled_deg

SOURCES_FILE = "normative_gait_kinematics.json"

# (joint, component) pairs the walker needs; the CSV column is f"{joint}_{component}_mean_deg".
CURVE_NAMES = (
    ("pelvis", "tilt"),
    ("pelvis", "obliquity"),
    ("pelvis", "rotation"),
    ("hip", "flexion"),
    ("hip", "adduction"),
    ("hip", "rotation"),
    ("knee", "flexion"),
    ("knee", "adduction"),
    ("knee", "rotation"),
)


@dataclass(frozen=True)
class GaitCurves:
    """Periodic cubic splines of the normative curves, phase in cycles (0 = initial contact).

    ``toe_off_fraction`` is the mean toe-off time as a fraction of the cycle.
    """

    splines: dict[str, CubicSpline]
    toe_off_fraction: float

    def angles_rad(self, name: str, phase: np.ndarray) -> np.ndarray:
        """Curve ``name`` (e.g. ``"knee_flexion"``) at ``phase`` (any real, wrapped to [0, 1)), rad."""
        return np.deg2rad(self.splines[name](np.mod(phase, 1.0)))

    def mean_rad(self, name: str) -> float:
        """Mean of the curve over one cycle, rad."""
        return float(np.deg2rad(self.splines[name].integrate(0.0, 1.0)))


@cache
def normative_curves() -> GaitCurves:
    """The packaged normative curves (loaded once)."""
    table = normative_gait_table()
    meta = load_json(SOURCES_FILE)
    x = table["gait_cycle_pct"].to_numpy(dtype=float) / 100.0
    if not (np.isclose(x[0], 0.0) and np.isclose(x[-1], 1.0)):
        raise ValueError(f"{NORMATIVE_GAIT_CURVES}: gait_cycle_pct must run from 0 to 100")
    splines = {}
    for joint, component in CURVE_NAMES:
        # Close the loop exactly: the source's 0 % and 100 % differ by measurement noise.
        y = closed_loop_deg(table, f"{joint}_{component}_mean_deg")
        splines[f"{joint}_{component}"] = CubicSpline(x, y, bc_type="periodic")
    # Marker-based knee adduction swings ~7 deg in swing, mostly flexion crosstalk; a knee that
    # really moved like that would not be a hinge. Scale its excursion to the bone-measured range.
    splines["knee_adduction"] = CubicSpline(x, knee_adduction_bone_scaled_deg(table), bc_type="periodic")
    return GaitCurves(splines=splines, toe_off_fraction=float(meta["toe_off_pct"]["value"]) / 100.0)
