"""Per-stride metrics, per-leg aggregates and left/right asymmetry.

Angles in degrees with the sign table of docs/conventions.md; times in seconds; percentages of
the stride. Metric names carry their unit. ``knee_valgus_stance_peak_deg`` is the size of the
largest valgus in stance (= minus the smallest knee adduction), positive when the knee caves in.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from imugait.gait.cycles import Stride

LOADING_RESPONSE_END_PCT = 25.0
"""Loading-response peak of knee flexion is searched in the first quarter of the stride."""

ANGLE_COLUMNS = ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg", "hip_rotation_deg")


def stride_metrics(t_s: np.ndarray, angles_deg: dict[str, np.ndarray], stride: Stride) -> dict[str, float]:
    """Metrics of one stride from the leg's angle series (each (M,), degrees, on ``t_s``)."""
    return {name: float(values[0]) for name, values in strides_metrics(t_s, angles_deg, [stride]).items()}


def strides_metrics(
    t_s: np.ndarray, angles_deg: dict[str, np.ndarray], strides: Sequence[Stride]
) -> dict[str, np.ndarray]:
    """Metrics of every stride of a leg: name -> (K,) array, one value per stride, in order.

    ``angles_deg``: the leg's angle series, each (M,) in degrees on ``t_s`` (M,) s. A stride covers
    the samples ``t0 <= t < t1``; stance is ``t < t_toe_off``. A statistic over a part with no
    finite sample is NaN. All strides are computed together over one flat index of their samples
    (no Python loop per stride: an hour has thousands).
    """
    t0 = np.array([s.t_initial_contact_s for s in strides], dtype=float)
    t_to = np.array([s.t_toe_off_s for s in strides], dtype=float)
    t1 = np.array([s.t_next_initial_contact_s for s in strides], dtype=float)
    k = t0.size
    i0, i1 = np.searchsorted(t_s, t0), np.searchsorted(t_s, t1)
    lengths = np.maximum(i1 - i0, 0)
    seg = np.repeat(np.arange(k), lengths)  # which stride each flat sample belongs to
    idx = np.arange(seg.size) - np.repeat(np.cumsum(lengths) - lengths - i0, lengths)
    t = t_s[idx]
    duration = t1 - t0
    stance = t < t_to[seg]
    swing = ~stance
    inside = np.ones(t.shape, dtype=bool)
    loading = 100.0 * (t - t0[seg]) / duration[seg] <= LOADING_RESPONSE_END_PCT
    stance_pct = 100.0 * (t_to - t0) / duration

    gathered: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # name -> its samples of every stride, finite

    def stat(kind: str, name: str, mask: np.ndarray) -> np.ndarray:
        if name not in gathered:
            x = np.take(angles_deg[name], idx)
            gathered[name] = x, np.isfinite(x)
        x, finite = gathered[name]
        ok = mask & finite
        which, values = seg[ok], x[ok]
        n = np.bincount(which, minlength=k)
        if kind == "mean":
            out = np.bincount(which, weights=values, minlength=k) / np.maximum(n, 1)
        elif kind == "ptp":
            out = _extreme(np.maximum, which, values, k) - _extreme(np.minimum, which, values, k)
        else:
            out = _extreme(np.maximum if kind == "max" else np.minimum, which, values, k)
        return np.where(n > 0, out, np.nan)

    metrics = {
        "stride_time_s": duration,
        "cadence_steps_per_min": 120.0 / duration,
        "stance_pct": stance_pct,
        "swing_pct": 100.0 - stance_pct,
        "hip_rotation_mean_deg": stat("mean", "hip_rotation_deg", inside),
        "hip_rotation_stance_mean_deg": stat("mean", "hip_rotation_deg", stance),
        "hip_rotation_swing_mean_deg": stat("mean", "hip_rotation_deg", swing),
        "hip_rotation_stance_peak_deg": stat("max", "hip_rotation_deg", stance),
        "hip_rotation_swing_peak_deg": stat("max", "hip_rotation_deg", swing),
        "knee_flexion_initial_contact_deg": np.interp(t0, t_s, angles_deg["knee_flexion_deg"]),
        "knee_flexion_loading_peak_deg": stat("max", "knee_flexion_deg", loading),
        "knee_flexion_swing_peak_deg": stat("max", "knee_flexion_deg", swing),
        "knee_flexion_range_deg": stat("ptp", "knee_flexion_deg", inside),
        "knee_flexion_min_deg": stat("min", "knee_flexion_deg", inside),
        "knee_flexion_max_deg": stat("max", "knee_flexion_deg", inside),
        "knee_adduction_range_deg": stat("ptp", "knee_adduction_deg", inside),
        "knee_adduction_stance_mean_deg": stat("mean", "knee_adduction_deg", stance),
        "knee_valgus_stance_peak_deg": -stat("min", "knee_adduction_deg", stance),
        "knee_rotation_stance_mean_deg": stat("mean", "knee_rotation_deg", stance),
    }
    if "hip_rotation_pelvis_deg" in angles_deg:  # a pelvis sensor was worn
        metrics.update(
            hip_flexion_peak_deg=stat("max", "hip_flexion_deg", inside),
            hip_extension_peak_deg=-stat("min", "hip_flexion_deg", inside),
            hip_flexion_range_deg=stat("ptp", "hip_flexion_deg", inside),
            hip_adduction_stance_peak_deg=stat("max", "hip_adduction_deg", stance),
            hip_rotation_pelvis_mean_deg=stat("mean", "hip_rotation_pelvis_deg", inside),
        )
    return metrics


def _extreme(ufunc: np.ufunc, which: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Per-group maximum or minimum of ``values`` grouped by ``which`` (0..k-1, non-decreasing:
    each group is a run); ±inf when empty."""
    out = np.full(k, -np.inf if ufunc is np.maximum else np.inf)
    starts = np.searchsorted(which, np.arange(k))
    present = np.flatnonzero(np.diff(np.r_[starts, which.size]) > 0)
    if present.size:
        out[present] = ufunc.reduceat(values, starts[present])
    return out


def double_support_pcts(strides: Sequence[Stride], other_toe_off_s: np.ndarray, other_contact_s: np.ndarray) -> np.ndarray:
    """Double support (both feet down) as % of each stride (K,), from the other leg's sorted
    toe-off and initial-contact times: from this leg's contact to the other's toe-off, and from
    the other's contact to this toe-off; NaN where it is not defined."""
    t0 = np.array([s.t_initial_contact_s for s in strides], dtype=float)
    t_to = np.array([s.t_toe_off_s for s in strides], dtype=float)
    t1 = np.array([s.t_next_initial_contact_s for s in strides], dtype=float)
    other_toe_off_s, other_contact_s = np.asarray(other_toe_off_s, dtype=float), np.asarray(other_contact_s, dtype=float)
    i = np.searchsorted(other_toe_off_s, t0, side="right")
    j = np.searchsorted(other_contact_s, t_to, side="left") - 1
    out = np.full(t0.size, np.nan)
    known = np.flatnonzero((i < other_toe_off_s.size) & (j >= 0))
    initial = other_toe_off_s[i[known]] - t0[known]
    terminal = t_to[known] - other_contact_s[j[known]]
    stance = t_to[known] - t0[known]
    # (NaN times compare false: such strides stay NaN, as one by one.)
    ok = (0.0 < initial) & (initial < stance) & (0.0 < terminal) & (terminal < stance)
    out[known[ok]] = 100.0 * (initial[ok] + terminal[ok]) / (t1[known[ok]] - t0[known[ok]])
    return out


def aggregate(cycles: pd.DataFrame, metric_columns: list[str]) -> pd.DataFrame:
    """Mean, SD and count of each metric per side, over used strides only."""
    if cycles.empty:
        return pd.DataFrame(columns=["side", "metric", "mean", "sd", "n"])
    used = cycles[cycles["used"]]
    rows = []
    for side, group in used.groupby("side"):
        for col in metric_columns:
            mean, sd, n = mean_sd_n(group[col].to_numpy(dtype=float, na_value=np.nan))
            rows.append({"side": side, "metric": col, "mean": mean, "sd": sd, "n": n})
    return pd.DataFrame(rows, columns=["side", "metric", "mean", "sd", "n"])


def mean_sd_n(values: np.ndarray) -> tuple[float, float, int]:
    """Mean, SD (ddof 1) and count of one metric's values (N,) — of one side's used strides in
    :func:`aggregate` — leaving NaN out: the mean NaN without values, the SD with fewer than two."""
    values = values[~np.isnan(values)]
    mean, n = _mean_n(values)
    return mean, float(values.std(ddof=1)) if n > 1 else np.nan, n


def mean_n(values: np.ndarray) -> tuple[float, int]:
    """:func:`mean_sd_n` without the SD (the same mean): the live dashboard's stride table shows
    means and counts only, and computes them at every new stride."""
    return _mean_n(values[~np.isnan(values)])


def _mean_n(finite: np.ndarray) -> tuple[float, int]:
    n = int(finite.size)
    return float(finite.mean()) if n else np.nan, n


def asymmetry(aggregates: pd.DataFrame) -> pd.DataFrame:
    """Right minus left for every metric, and for positive quantities the symmetry index
    ``100 (R − L) / ((R + L) / 2)`` (a 10 % cut-off is a convention, not a norm)."""
    wide = aggregates.pivot(index="metric", columns="side", values="mean")
    if not {"left", "right"} <= set(wide.columns):
        return pd.DataFrame(columns=["metric", "right_minus_left", "symmetry_index_pct"])
    diff, si = right_minus_left(wide.index.to_numpy(dtype=str), wide["left"].to_numpy(dtype=float),
                                wide["right"].to_numpy(dtype=float))
    return pd.DataFrame({"metric": wide.index, "right_minus_left": diff, "symmetry_index_pct": si})


def right_minus_left(metrics: np.ndarray, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of the metrics named ``metrics`` (K,) with per-side means ``left``, ``right`` (K,): right
    minus left (K,), and the symmetry index (K,) %, NaN for angles (``_deg``, signed) and for
    quantities not positive on both sides (see :func:`asymmetry`)."""
    diff = right - left
    positive = (left > 0) & (right > 0) & ~np.char.endswith(metrics, "_deg")
    with np.errstate(divide="ignore", invalid="ignore"):
        si = np.where(positive, 100.0 * diff / (0.5 * (left + right)), np.nan)
    return diff, si
