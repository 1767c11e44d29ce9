"""The walk-to-walk spread of every walking measurement the report trends, on real repeated walks.

Reproduce (from the repository root; reads ``../shared/datasets``; ≈ 1 min CPU; prints Markdown)::

    .venv/bin/python benchmarks/walk_repeatability.py --jobs 1
    .venv/bin/python benchmarks/walk_repeatability.py --jobs 1 --write imugait/data/walk_repeatability.json

The MPU-9250 subjects (gait_rehab_mpu9250) walked 10 m two to four times with the sensors left on
between walks. Each walk goes through ``analyze_session`` as ``benchmarks/real_data.py`` part (b)
runs it; the walks kept are those with plausible results (calibrated, trusted, ≥ 3 used strides) of
legs walked two or more times (:func:`_real_walks.walks_of_one_leg`, the walks of real_data.py's
repeatability line). A walk's value of a measurement is what the report shows: the mean over the
walk's used strides (the analysis' aggregate).

Per measurement: the within-leg SD across walks, pooled over the legs
(``sqrt(Σ (n_i − 1)·s_i² / Σ (n_i − 1))``, the standard error of measurement of a single walk when
the same leg walks again), the median of the legs' SDs (real_data.py's repeatability statistic,
to compare), and the minimal detectable change at 95 % ``MDC95 = 1.96 · √2 · SD_pooled``: a
change between two walks smaller than it is within the walk-to-walk spread.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, markdown_table
from _real_walks import analyse_all, walks_of_one_leg

from imugait.report.measurements import unit_of

Z95 = 1.96
DATASET = "gait_rehab_mpu9250"


def spread(walks: pd.DataFrame) -> pd.DataFrame:
    """One row per measurement: legs and walks with a value, pooled and median within-leg SD, MDC95."""
    values = pd.DataFrame([{"subject_leg": leg, "metric": metric, "value": value}
                           for leg, means in zip(walks["subject_leg"], walks["means"], strict=True)
                           for metric, value in means.items() if np.isfinite(value)])
    rows = []
    for metric, group in values.groupby("metric"):
        per_leg = group.groupby("subject_leg")["value"].agg(["size", "var"])
        per_leg = per_leg[per_leg["size"] >= 2]
        if per_leg.empty:
            continue
        dof = per_leg["size"] - 1
        pooled = math.sqrt(float((dof * per_leg["var"]).sum() / dof.sum()))
        rows.append({"metric": metric, "unit": unit_of(metric), "legs": len(per_leg), "walks": int(per_leg["size"].sum()),
                     "sd_pooled": pooled, "sd_median": float(np.sqrt(per_leg["var"]).median()),
                     "sd_largest": float(np.sqrt(per_leg["var"]).max()), "mdc95": Z95 * math.sqrt(2.0) * pooled})
    return pd.DataFrame(rows)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def data_document(table: pd.DataFrame, n_legs: int, n_walks: int, when: str) -> dict:
    """The packaged data file (imugait/data/walk_repeatability.json)."""
    return {
        "format_version": 1,
        "description": (
            "Walk-to-walk spread of the walking measurements: how much one leg's value (the mean over a walk's "
            "used strides) differs between walks minutes apart with the sensors left on. sd (in the unit) is the "
            "within-leg SD across walks pooled over the legs (the standard error of measurement of one walk); "
            "smallest_real_change is the minimal detectable change at 95 %, 1.96 * sqrt(2) * SD: a change "
            "between two walks smaller than it is within the walk-to-walk spread. Measured on healthy adults' "
            "10-m walks, sensors not re-strapped between walks: between sessions days apart, with the sensors "
            "strapped on again, the spread is larger (not measured here)."),
        "source": (
            f"measured {when} on the development container (main-based branch at {_commit()}): "
            f"`.venv/bin/python benchmarks/walk_repeatability.py --jobs 1 --write "
            f"imugait/data/walk_repeatability.json` on the gait_rehab_mpu9250 dataset (../shared/datasets; "
            f"Healthy_Adults-gait_activity.zip, MPU-9250 thigh and shank sensors): {n_walks} walks of {n_legs} legs "
            f"walked 2-4 times, each walk with plausible results (calibrated, trusted, >= 3 used strides); "
            f"the walks of benchmarks/real_data.py's repeatability line."),
        "n_legs": n_legs,
        "n_walks": n_walks,
        "measurements": {
            r.metric: {"unit": r.unit, "sd": round(r.sd_pooled, 4), "smallest_real_change": round(r.mdc95, 3),
                       "n_legs": int(r.legs), "n_walks": int(r.walks), "median_leg_sd": round(r.sd_median, 3)}
            for r in table.itertuples(index=False)
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--write", type=Path, help="write the data file (imugait/data/walk_repeatability.json)")
    args = ap.parse_args()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    t0, c0 = time.perf_counter(), time.process_time()
    rows = analyse_all(args.jobs, dataset=DATASET)
    walks = walks_of_one_leg(rows)
    if walks.empty:
        raise SystemExit(f"no repeated walks: is ../shared/datasets/{DATASET} there?")
    table = spread(walks)
    n_legs, n_walks = walks["subject_leg"].nunique(), len(walks)
    print(f"Walk-to-walk spread, {DATASET}: {n_walks} walks of {n_legs} legs (2–4 walks each, sensors left on); "
          f"{when}; {machine()}\n")
    print(markdown_table(
        ["measurement", "unit", "legs", "walks", "SD pooled", "SD median (largest)", "MDC95 = 1.96·√2·SD"],
        [[r.metric, r.unit, r.legs, r.walks, f"{r.sd_pooled:.{d + 1}f}", f"{r.sd_median:.{d + 1}f} ({r.sd_largest:.{d + 1}f})",
          f"{r.mdc95:.{d}f}"] for r in table.itertuples(index=False) for d in [3 if r.unit == "s" else 1]],
        align="llrrrrr"))
    print(f"\n{time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU in this process")
    if args.write:
        text = json.dumps(data_document(table, n_legs, n_walks, when), indent=2, ensure_ascii=False)
        args.write.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
