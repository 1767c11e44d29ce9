"""Per-stride errors against the simulator's truth: the whole-recording analysis and the chunked
one (``analyze_in_chunks``) on the same simulated walk, whose only standing periods are its
first and last seconds — so the middle windows have none and rest on the carried calibration.

Reproduce (from the repository root; ≈ 2 min)::

    .venv/bin/python benchmarks/chunked_accuracy.py
    .venv/bin/python benchmarks/chunked_accuracy.py --bouts 12 --chunk-s 180 --overlap-s 60
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
from _common import markdown_table

from imugait.analysis import analyze_session
from imugait.analysis.chunked import SessionInMemory, analyze_in_chunks
from imugait.simulate import SimulationConfig, simulate, walking_test

COLUMNS = (  # analysis column → truth column
    ("knee_flexion_max_deg", "knee_flexion_max_deg"),
    ("knee_flexion_min_deg", "knee_flexion_min_deg"),
    ("knee_rotation_stance_mean_deg", "knee_rotation_stance_mean_deg"),
    ("hip_rotation_mean_deg", "hip_rotation_progression_mean_deg"),
    ("hip_rotation_stance_mean_deg", "hip_rotation_progression_stance_mean_deg"),
    ("stride_time_s", "stride_time_s"),
    ("stance_pct", "stance_pct"),
)


def errors(cycles: pd.DataFrame, truth: pd.DataFrame, column: str, truth_column: str) -> np.ndarray:
    """Analysis − truth over the used strides, matched by side and initial contact (≤ 50 ms)."""
    out = []
    for side in truth["side"].unique():
        a, b = cycles[(cycles["side"] == side) & cycles["used"]], truth[truth["side"] == side]
        ta, tb = a["t_initial_contact_s"].to_numpy(), b["t_initial_contact_s"].to_numpy()
        if not ta.size or tb.size < 2:
            continue
        j = np.clip(np.searchsorted(tb, ta), 1, len(tb) - 1)
        j = np.where(np.abs(tb[j - 1] - ta) < np.abs(tb[j] - ta), j - 1, j)
        ok = np.abs(tb[j] - ta) < 0.05
        out.append(a[column].to_numpy()[ok] - b[truth_column].to_numpy()[j[ok]])
    e = np.concatenate(out) if out else np.empty(0)
    return e[np.isfinite(e)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bouts", type=int, default=12, help="40-s straight bouts (default 12: ≈ 8.6 min)")
    parser.add_argument("--chunk-s", type=float, default=180.0)
    parser.add_argument("--overlap-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    sim = simulate(SimulationConfig(seed=args.seed, sample_rate_hz=100.0, timeline=walking_test(n_bouts=args.bouts, bout_s=40.0)))
    whole = analyze_session(sim.session).cycles
    chunked = analyze_in_chunks(SessionInMemory(sim.session), chunk_s=args.chunk_s, overlap_s=args.overlap_s)
    print(f"Simulated walk, seed {args.seed}: {sim.session.t_end_s / 60:.1f} min, standing only in its first and last 5 s; "
          f"{len(chunked.windows)} windows ({args.chunk_s:g}-s cores, {args.overlap_s:g} s either side); load average "
          f"{os.getloadavg()[0]:.1f}\n")
    rows = []
    for column, truth_column in COLUMNS:
        for name, cycles in (("whole", whole), ("chunked", chunked.cycles)):
            e = errors(cycles, sim.truth.cycles, column, truth_column)
            rows.append([column, name, str(e.size), f"{e.mean():+.3f}", f"{np.sqrt(np.mean(e**2)):.3f}",
                         f"{np.abs(e).max():.3f}"])
    print(markdown_table(["metric", "analysis", "strides", "mean error", "RMS error", "largest |error|"], rows))


if __name__ == "__main__":
    main()
