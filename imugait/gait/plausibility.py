"""Per-stride plausibility: values no walking human produces never reach a result as valid.

A stride that passed the timing and data checks of :mod:`imugait.gait.cycles` is still excluded
when its angles are beyond what walking produces (limits with their sources in
``imugait/data/plausibility.json``): knee hyperextension or flexion far beyond walking, knee
ab/adduction that swings like flexion (a wrong knee axis), a mean femur rotation beyond the hip's
passive range, or a femur rotation far from the leg's other strides. Such values come from a
sensor that moved under its strap, a wrong calibration or a wrong label.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from imugait.data import load_json
from imugait.gait.cycles import Exclusion

PLAUSIBILITY_FILE = "plausibility.json"


@dataclass(frozen=True)
class PlausibilityLimits:
    """Limits of ``plausibility.json`` (degrees; sources there)."""

    knee_flexion_min_deg: float
    knee_flexion_max_deg: float
    knee_adduction_range_deg: float
    hip_rotation_mean_abs_deg: float
    hip_rotation_stride_deviation_deg: float
    max_implausible_fraction: float


@cache
def plausibility_limits() -> PlausibilityLimits:
    data = load_json(PLAUSIBILITY_FILE)
    values = {name: float(entry["value"]) for name, entry in data["limits"].items()}
    return PlausibilityLimits(**values, max_implausible_fraction=float(data["leg"]["max_implausible_fraction"]))


def implausible_strides(strides: pd.DataFrame, limits: PlausibilityLimits | None = None) -> pd.Series:
    """Why each stride is implausible (:class:`Exclusion`; ``NONE`` when plausible or not used).

    ``strides``: one leg's rows of the cycles table, with ``used``, ``knee_flexion_min_deg``,
    ``knee_flexion_max_deg``, ``knee_adduction_range_deg`` and ``hip_rotation_mean_deg``.
    """
    limits = limits or plausibility_limits()
    reasons = pd.Series(Exclusion.NONE, index=strides.index, dtype=object)
    used = strides["used"].to_numpy(dtype=bool)
    knee = (strides["knee_flexion_min_deg"] < limits.knee_flexion_min_deg) | (
        strides["knee_flexion_max_deg"] > limits.knee_flexion_max_deg)
    reasons[used & knee.to_numpy()] = Exclusion.IMPLAUSIBLE_KNEE_FLEXION
    adduction = strides["knee_adduction_range_deg"] > limits.knee_adduction_range_deg
    reasons[used & (reasons == Exclusion.NONE).to_numpy() & adduction.to_numpy()] = Exclusion.IMPLAUSIBLE_KNEE_ADDUCTION
    hip = strides["hip_rotation_mean_deg"].to_numpy(dtype=float)
    beyond_range = np.abs(hip) > limits.hip_rotation_mean_abs_deg
    reasons[used & (reasons == Exclusion.NONE).to_numpy() & beyond_range] = Exclusion.IMPLAUSIBLE_HIP_ROTATION
    candidates = used & (reasons == Exclusion.NONE).to_numpy() & np.isfinite(hip)
    if candidates.sum() >= 3:  # a median of fewer strides says nothing about which one is off
        deviation = np.abs(hip - np.median(hip[candidates]))
        reasons[candidates & (deviation > limits.hip_rotation_stride_deviation_deg)] = Exclusion.HIP_ROTATION_OUTLIER
    return reasons
