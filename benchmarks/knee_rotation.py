"""Per-stride knee axial rotation on the real walks and on the simulated cohort: what a plausibility limit would do.

For every stride that the timing and data checks let through (used, or excluded only as implausible:
the strides :mod:`imugait.gait.plausibility` judges), the knee rotation's stance mean and its range
(largest minus smallest over the stride), with the simulator's true range over the same stride for
the cohort. Prints the distribution per dataset and the legs with a stride beyond the stance-mean
limits of ``imugait/data/plausibility.json`` or a candidate range limit (``--range``); ``--csv``
writes one row per stride. docs/validation.md, "Knee rotation held to the knee's passive range".

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/knee_rotation.py --real --jobs 1
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/knee_rotation.py --cohort --sta literature [--ten-metre] --jobs 2
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from _cohort import CohortVariant, WalkerSpec, analysis_config, draw_cohort
from _common import machine
from _real_walks import WalkSource, _load, walk_sources

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.analysis.result import AnalysisResult
from imugait.errors import ImugaitError
from imugait.gait.cycles import Exclusion
from imugait.gait.plausibility import PlausibilityLimits, plausibility_limits
from imugait.simulate import simulate
from imugait.simulate.soft_tissue import scale_from_text

QUANTILES = (0.5, 0.95, 0.99, 1.0)


def stride_rows(result: AnalysisResult, truth: pd.DataFrame | None = None) -> list[dict]:
    """One row per judged stride: side, exclusion, knee rotation stance mean and range (deg), and
    the true range over the same stride when ``truth`` (the simulator's series) is given."""
    rows = []
    c = result.cycles
    judged = c[c["used"] | c["exclusion"].map(lambda e: Exclusion(e).implausible)]
    for _, s in judged.iterrows():
        angle = result.legs[_side(result, s["side"])].angles_deg["knee_rotation_deg"]
        inside = (result.t_s >= s["t_initial_contact_s"]) & (result.t_s < s["t_next_initial_contact_s"])
        row = {"side": s["side"], "used": bool(s["used"]), "exclusion": Exclusion(s["exclusion"]).name,
               "knee_rotation_stance_mean_deg": s["knee_rotation_stance_mean_deg"],
               "knee_rotation_range_deg": float(np.nanmax(angle[inside]) - np.nanmin(angle[inside]))}
        if truth is not None:
            t = truth["t_s"].to_numpy()
            true = truth[f"{s['side']}_knee_rotation_deg"].to_numpy()
            inside = (t >= s["t_initial_contact_s"]) & (t < s["t_next_initial_contact_s"])
            row["true_knee_rotation_range_deg"] = float(np.ptp(true[inside])) if inside.any() else np.nan
        rows.append(row)
    return rows


def _side(result: AnalysisResult, name: str):
    return next(side for side in result.legs if side.value == name)


def real_walk(source: WalkSource) -> list[dict]:
    if source.kind == "skip":
        return []
    try:
        result = analyze_session(_load(source), AnalysisConfig())
    except ImugaitError:
        return []
    return [{"dataset": source.dataset, "recording": source.name, "counted": source.counted, **r}
            for r in stride_rows(result)]


def cohort_walker(spec: WalkerSpec) -> list[dict]:
    sim = simulate(spec.config)
    try:
        result = analyze_session(sim.session, analysis_config(spec))
    except ImugaitError:
        return []
    return [{"dataset": "cohort", "recording": spec.label, "counted": True, **r}
            for r in stride_rows(result, sim.truth.series)]


def _beyond_mean(strides: pd.DataFrame, limits: PlausibilityLimits) -> pd.Series:
    mean = strides["knee_rotation_stance_mean_deg"]
    return (mean > limits.knee_rotation_stance_mean_internal_deg) | (mean < -limits.knee_rotation_stance_mean_external_deg)


def summary(strides: pd.DataFrame, range_limit: float, limits: PlausibilityLimits) -> str:
    lines = ["| data | legs | strides | stance mean: median, 95 %, 99 %, max of abs | range: median, 95 %, 99 %, max | "
             f"strides with range > {range_limit:g}° | with stance mean > +{limits.knee_rotation_stance_mean_internal_deg:g}° "
             f"or < −{limits.knee_rotation_stance_mean_external_deg:g}° |",
             "|---|---|---|---|---|---|---|"]
    for name, g in strides.groupby("dataset", sort=False):
        q_mean = np.abs(g["knee_rotation_stance_mean_deg"]).quantile(QUANTILES).to_numpy()
        q_range = g["knee_rotation_range_deg"].quantile(QUANTILES).to_numpy()
        legs = g.groupby(["recording", "side"]).ngroups
        lines.append(f"| {name} | {legs} | {len(g)} | " + ", ".join(f"{v:.1f}" for v in q_mean) + " | "
                     + ", ".join(f"{v:.1f}" for v in q_range) + " | "
                     f"{int((g['knee_rotation_range_deg'] > range_limit).sum())} | "
                     f"{int(_beyond_mean(g, limits).sum())} |")
    return "\n".join(lines)


def beyond(strides: pd.DataFrame, range_limit: float, limits: PlausibilityLimits) -> str:
    hit = (strides["knee_rotation_range_deg"] > range_limit) | _beyond_mean(strides, limits)
    legs = strides.assign(hit=hit).groupby(["dataset", "recording", "side"], sort=False).agg(
        strides=("hit", "size"), beyond=("hit", "sum"), range_median=("knee_rotation_range_deg", "median"),
        range_max=("knee_rotation_range_deg", "max"), stance_mean_median=("knee_rotation_stance_mean_deg", "median"))
    return legs[legs["beyond"] > 0].round(1).to_string()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--real", action="store_true", help="every real walk (benchmarks/_real_walks.py)")
    which.add_argument("--cohort", action="store_true", help="the simulated cohort")
    parser.add_argument("--walkers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sta", type=scale_from_text, default=0.0, metavar="literature|SCALE")
    parser.add_argument("--ten-metre", action="store_true")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--range", type=float, default=35.0, help="a candidate limit on the range (deg)")
    parser.add_argument("--csv", help="write one row per stride here")
    args = parser.parse_args()
    if args.real:
        work, items = real_walk, walk_sources()
    else:
        variant = CohortVariant(sta_scale=args.sta, ten_metre_passes=2 if args.ten_metre else 0)
        work, items = cohort_walker, draw_cohort(args.walkers, args.seed, variant)
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = [r for rs in pool.map(work, items) for r in rs]
    else:
        rows = [r for item in items for r in work(item)]
    strides = pd.DataFrame(rows)
    counted = strides[strides["counted"]]
    print(f"Knee rotation per judged stride; {machine()}\n")
    print(summary(counted, args.range, plausibility_limits()))
    if "true_knee_rotation_range_deg" in strides:
        print("\nTrue range (simulator) per stride: median, 95 %, 99 %, max = "
              + ", ".join(f"{v:.1f}" for v in strides["true_knee_rotation_range_deg"].quantile(QUANTILES)))
    print("\nLegs with a stride beyond a candidate limit (counted legs):\n")
    print(beyond(counted, args.range, plausibility_limits()))
    if args.csv:
        strides.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
