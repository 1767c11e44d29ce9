"""Per-stride metrics, per-leg aggregates and left/right asymmetry.

Angles in degrees with the sign table of docs/conventions.md; times in seconds; percentages of
the stride. Metric names carry their unit. ``knee_valgus_stance_peak_deg`` is the size of the
largest valgus in stance (= minus the smallest knee adduction), positive when the knee caves in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from imugait.gait.cycles import Stride

LOADING_RESPONSE_END_PCT = 25.0
"""Loading-response peak of knee flexion is searched in the first quarter of the stride."""

ANGLE_COLUMNS = ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg", "hip_rotation_deg")


def stride_metrics(t_s: np.ndarray, angles_deg: dict[str, np.ndarray], stride: Stride) -> dict[str, float]:
    """Metrics of one stride from the leg's angle series (each (M,), degrees, on ``t_s``)."""
    t0, t_to, t1 = stride.t_initial_contact_s, stride.t_toe_off_s, stride.t_next_initial_contact_s
    # Work on the stride's slice only: linear in the recording's length, not quadratic.
    i0, i1 = np.searchsorted(t_s, [t0, t1])
    t = t_s[i0:i1]
    stance = t < t_to
    swing = ~stance
    inside = np.ones(t.shape, dtype=bool)
    pct = 100.0 * (t - t0) / (t1 - t0)
    flex = angles_deg["knee_flexion_deg"][i0:i1]
    add = angles_deg["knee_adduction_deg"][i0:i1]
    rot = angles_deg["knee_rotation_deg"][i0:i1]
    hip = angles_deg["hip_rotation_deg"][i0:i1]
    loading = pct <= LOADING_RESPONSE_END_PCT
    stance_pct = 100.0 * (t_to - t0) / (t1 - t0)

    def stat(fn, x: np.ndarray, mask: np.ndarray) -> float:
        values = x[mask]
        values = values[np.isfinite(values)]
        return float(fn(values)) if values.size else np.nan

    metrics = {
        "stride_time_s": t1 - t0,
        "cadence_steps_per_min": 120.0 / (t1 - t0),
        "stance_pct": stance_pct,
        "swing_pct": 100.0 - stance_pct,
        "hip_rotation_mean_deg": stat(np.mean, hip, inside),
        "hip_rotation_stance_mean_deg": stat(np.mean, hip, stance),
        "hip_rotation_swing_mean_deg": stat(np.mean, hip, swing),
        "hip_rotation_stance_peak_deg": stat(np.max, hip, stance),
        "hip_rotation_swing_peak_deg": stat(np.max, hip, swing),
        "knee_flexion_initial_contact_deg": float(np.interp(t0, t_s, angles_deg["knee_flexion_deg"])),
        "knee_flexion_loading_peak_deg": stat(np.max, flex, loading),
        "knee_flexion_swing_peak_deg": stat(np.max, flex, swing),
        "knee_flexion_range_deg": stat(np.ptp, flex, inside),
        "knee_flexion_min_deg": stat(np.min, flex, inside),
        "knee_flexion_max_deg": stat(np.max, flex, inside),
        "knee_adduction_range_deg": stat(np.ptp, add, inside),
        "knee_adduction_stance_mean_deg": stat(np.mean, add, stance),
        "knee_valgus_stance_peak_deg": -stat(np.min, add, stance),
        "knee_rotation_stance_mean_deg": stat(np.mean, rot, stance),
    }
    if "hip_rotation_pelvis_deg" in angles_deg:  # a pelvis sensor was worn
        hip_flex = angles_deg["hip_flexion_deg"][i0:i1]
        metrics.update(
            hip_flexion_peak_deg=stat(np.max, hip_flex, inside),
            hip_extension_peak_deg=-stat(np.min, hip_flex, inside),
            hip_flexion_range_deg=stat(np.ptp, hip_flex, inside),
            hip_adduction_stance_peak_deg=stat(np.max, angles_deg["hip_adduction_deg"][i0:i1], stance),
            hip_rotation_pelvis_mean_deg=stat(np.mean, angles_deg["hip_rotation_pelvis_deg"][i0:i1], inside),
        )
    return metrics


def double_support_pct(stride: Stride, other_toe_off_s: np.ndarray, other_contact_s: np.ndarray) -> float:
    """Double support (both feet down) as % of ``stride``, from the other leg's sorted toe-off
    and initial-contact times: from this leg's contact to the other's toe-off, and from the
    other's contact to this toe-off."""
    t0, t_to, t1 = stride.t_initial_contact_s, stride.t_toe_off_s, stride.t_next_initial_contact_s
    i = np.searchsorted(other_toe_off_s, t0, side="right")
    j = np.searchsorted(other_contact_s, t_to, side="left") - 1
    if i >= other_toe_off_s.size or j < 0:
        return np.nan
    initial, terminal = other_toe_off_s[i] - t0, t_to - other_contact_s[j]
    if not (0.0 < initial < t_to - t0 and 0.0 < terminal < t_to - t0):
        return np.nan
    return 100.0 * (initial + terminal) / (t1 - t0)


def aggregate(cycles: pd.DataFrame, metric_columns: list[str]) -> pd.DataFrame:
    """Mean, SD and count of each metric per side, over used strides only."""
    if cycles.empty:
        return pd.DataFrame(columns=["side", "metric", "mean", "sd", "n"])
    used = cycles[cycles["used"]]
    rows = []
    for side, group in used.groupby("side"):
        for col in metric_columns:
            values = group[col].dropna()
            rows.append(
                {"side": side, "metric": col, "mean": float(values.mean()) if len(values) else np.nan,
                 "sd": float(values.std(ddof=1)) if len(values) > 1 else np.nan, "n": int(len(values))}
            )
    return pd.DataFrame(rows, columns=["side", "metric", "mean", "sd", "n"])


def asymmetry(aggregates: pd.DataFrame) -> pd.DataFrame:
    """Right minus left for every metric, and for positive quantities the symmetry index
    ``100 (R − L) / ((R + L) / 2)`` (a 10 % cut-off is a convention, not a norm)."""
    wide = aggregates.pivot(index="metric", columns="side", values="mean")
    if not {"left", "right"} <= set(wide.columns):
        return pd.DataFrame(columns=["metric", "right_minus_left", "symmetry_index_pct"])
    diff = wide["right"] - wide["left"]
    positive = (wide["left"] > 0) & (wide["right"] > 0) & ~wide.index.str.endswith("_deg")
    si = np.where(positive, 100.0 * diff / (0.5 * (wide["left"] + wide["right"])), np.nan)
    return pd.DataFrame({"metric": wide.index, "right_minus_left": diff.to_numpy(), "symmetry_index_pct": si})
