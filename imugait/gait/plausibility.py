"""Per-stride plausibility: values no walking human produces never reach a result as valid.

A stride that passed the timing and data checks of :mod:`imugait.gait.cycles` is still excluded
when its angles are beyond what walking produces (limits with their sources in
``imugait/data/plausibility.json``): knee hyperextension or flexion far beyond walking, knee
ab/adduction that swings like flexion (a wrong knee axis), a mean femur rotation — over the stride,
its stance or its swing — beyond the hip's passive range, a mean knee rotation in stance beyond the
knee's passive range, a femur rotation far from the leg's other strides, or a thigh–shank timing
far from the leg's other strides (:mod:`imugait.gait.coordination`). Such values come from a sensor
that moved under its strap, a wrong calibration, a wrong label or sensor clocks that slipped apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    knee_rotation_stance_mean_internal_deg: float
    knee_rotation_stance_mean_external_deg: float
    hip_rotation_mean_abs_deg: float
    hip_rotation_stride_deviation_deg: float
    thigh_shank_lag_deviation_s: float
    max_implausible_fraction: float


@cache
def plausibility_limits() -> PlausibilityLimits:
    data = load_json(PLAUSIBILITY_FILE)
    values = {name: float(entry["value"]) for name, entry in data["limits"].items()}
    return PlausibilityLimits(**values, max_implausible_fraction=float(data["leg"]["max_implausible_fraction"]))


HIP_ROTATION_MEAN_COLUMNS = ("hip_rotation_mean_deg", "hip_rotation_stance_mean_deg", "hip_rotation_swing_mean_deg")
"""The femur rotation's means held to the hip's passive range: over the stride, and over each phase
(an angle that wraps through ±180° within a stride — a walking direction turned round — can
average near zero over the stride while each phase's mean is far out: HuGaDB 06_00, stance
−100°, swing +169°, stride +3.5°)."""
PLAUSIBILITY_COLUMNS = ("used", "knee_flexion_min_deg", "knee_flexion_max_deg", "knee_adduction_range_deg",
                        *HIP_ROTATION_MEAN_COLUMNS, "knee_rotation_stance_mean_deg")
"""The columns :func:`implausible_reasons` needs."""
OUTLIER_COLUMNS = ("thigh_shank_lag_s",)
"""The columns it uses when they are there."""


def implausible_strides(strides: pd.DataFrame, limits: PlausibilityLimits | None = None) -> pd.Series:
    """Why each stride is implausible (:class:`Exclusion`; ``NONE`` when plausible or not used).

    ``strides``: one leg's rows of the cycles table, with the columns of :data:`PLAUSIBILITY_COLUMNS`
    (and ``thigh_shank_lag_s`` when known).
    """
    columns = {name: strides[name].to_numpy() for name in (*PLAUSIBILITY_COLUMNS, *OUTLIER_COLUMNS)
               if name in strides or name in PLAUSIBILITY_COLUMNS}
    return pd.Series(implausible_reasons(columns, limits), index=strides.index, dtype=object)


def implausible_reasons(strides: Mapping[str, np.ndarray], limits: PlausibilityLimits | None = None) -> np.ndarray:
    """:func:`implausible_strides` over plain columns (name → (N,) array; ``used`` bool, the others
    float): (N,) object array of :class:`Exclusion` — no table to build, for the live pipeline,
    which judges each stride as it comes."""
    limits = limits or plausibility_limits()
    used = np.asarray(strides["used"], dtype=bool)
    reasons = np.full(used.shape, Exclusion.NONE, dtype=object)
    knee = (np.asarray(strides["knee_flexion_min_deg"], dtype=float) < limits.knee_flexion_min_deg) | (
        np.asarray(strides["knee_flexion_max_deg"], dtype=float) > limits.knee_flexion_max_deg)
    reasons[used & knee] = Exclusion.IMPLAUSIBLE_KNEE_FLEXION
    adduction = np.asarray(strides["knee_adduction_range_deg"], dtype=float) > limits.knee_adduction_range_deg
    reasons[used & (reasons == Exclusion.NONE) & adduction] = Exclusion.IMPLAUSIBLE_KNEE_ADDUCTION
    beyond_range = np.zeros(used.shape, dtype=bool)
    for name in HIP_ROTATION_MEAN_COLUMNS:
        beyond_range |= np.abs(np.asarray(strides[name], dtype=float)) > limits.hip_rotation_mean_abs_deg
    reasons[used & (reasons == Exclusion.NONE) & beyond_range] = Exclusion.IMPLAUSIBLE_HIP_ROTATION
    knee_rotation = np.asarray(strides["knee_rotation_stance_mean_deg"], dtype=float)  # + internal
    beyond_knee = (knee_rotation > limits.knee_rotation_stance_mean_internal_deg) | (
        knee_rotation < -limits.knee_rotation_stance_mean_external_deg)
    reasons[used & (reasons == Exclusion.NONE) & beyond_knee] = Exclusion.IMPLAUSIBLE_KNEE_ROTATION
    _exclude_outliers(reasons, used, strides, "hip_rotation_mean_deg", limits.hip_rotation_stride_deviation_deg,
                      Exclusion.HIP_ROTATION_OUTLIER)
    _exclude_outliers(reasons, used, strides, "thigh_shank_lag_s", limits.thigh_shank_lag_deviation_s,
                      Exclusion.KNEE_TIMING_OUTLIER)
    return reasons


def stride_columns(rows: Sequence[Mapping[str, object]]) -> dict[str, np.ndarray]:
    """The columns :func:`implausible_reasons` reads, from strides as rows (dicts with ``used`` and
    the metrics), as ``pd.DataFrame(rows)`` would hold them: a column where any row has a value, a
    value missing from a row NaN."""
    columns = {"used": np.array([r["used"] for r in rows], dtype=bool)}
    for name in (*PLAUSIBILITY_COLUMNS[1:], *OUTLIER_COLUMNS):
        if any(name in r for r in rows):
            columns[name] = np.array([r.get(name, np.nan) for r in rows], dtype=float)
    return columns


def _exclude_outliers(reasons: np.ndarray, used: np.ndarray, strides: Mapping[str, np.ndarray], column: str,
                      limit: float, reason: Exclusion) -> None:
    """Mark (in place) the still-plausible used strides whose ``column`` is further than ``limit``
    from the median over them — only when at least 3 have a value (a median of fewer says nothing
    about which one is off)."""
    if column not in strides:
        return
    values = np.asarray(strides[column], dtype=float)
    candidates = used & (reasons == Exclusion.NONE) & np.isfinite(values)
    if candidates.sum() >= 3:
        deviation = np.abs(values - np.median(values[candidates]))
        reasons[candidates & (deviation > limit)] = reason
