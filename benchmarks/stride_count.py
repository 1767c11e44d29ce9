"""How many strides make a walk's mean trustworthy: the stride-to-stride spread on real walks.

Reproduce (from the repository root; reads ``../shared/datasets``; ≈ 2–4 min CPU; prints Markdown)::

    .venv/bin/python benchmarks/stride_count.py --jobs 1
    .venv/bin/python benchmarks/stride_count.py --jobs 1 --write imugait/data/thresholds.json  # and store the rule

Every walk of the MPU-9250 healthy adults (gait_rehab_mpu9250, 10-m walks) and every HuGaDB leg
(left and right exchanged, as ``benchmarks/real_data.py`` counts them; long walks of many strides)
goes through ``analyze_session`` as ``real_data.py`` part (b) runs it; kept are the legs with
plausible results (calibrated, trusted, ≥ 3 used strides). What the report shows for a measurement
is the mean over the used strides; its error from the number of strides alone is the standard error
``SE(n) = SD_w / √n``, with ``SD_w`` the within-walk stride-to-stride SD pooled over the walks
(``sqrt(Σ (n_i − 1)·s_i² / Σ (n_i − 1))``). Also printed: the 95 % interval's half-width
``t(0.975, n − 1) · SD_w / √n`` (what a mean of n strides can say about the leg's own value, the
t factor being large for few strides), and, measured rather than assumed, the RMS difference between
the mean of n consecutive strides and the mean of all of the leg's strides on the HuGaDB legs with
at least 2·n strides (consecutive strides are not independent draws; this shows whether that matters).

They are compared with the walk-to-walk SD of the same measurement
(``imugait/data/walk_repeatability.json``: the same leg walking 10 m again minutes later) — the
spread the report already shows as the smallest real change — and with the reference band the
report compares the measurement with (``thresholds.json``). The rule in
``thresholds.json`` → ``confidence_rules.min_strides`` comes from this table (docs/report.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import pickle
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, markdown_table
from _real_walks import analyse_all, plausible
from scipy import stats

from imugait.data import load_json

METRICS = ("hip_rotation_mean_deg", "knee_flexion_swing_peak_deg", "knee_valgus_stance_peak_deg", "stance_pct")
N_STRIDES = tuple(range(2, 21))


def stride_values(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per plausible leg-walk and metric: dataset, leg id, the used strides' values (in time order)."""
    keep = plausible(rows) & rows["counted"].astype(bool) & rows["dataset"].isin(["gait_rehab_mpu9250", "hugadb_walking"])
    out = []
    for r in rows[keep].itertuples(index=False):
        for metric, values in r.strides.items():
            values = values[np.isfinite(values)]
            if values.size >= 2:
                out.append({"dataset": r.dataset, "walk": f"{r.recording}/{r.leg}", "metric": metric, "values": values})
    return pd.DataFrame(out)


def pooled_sd(groups: pd.Series) -> tuple[float, int, int]:
    """Within-walk SD pooled over walks, number of walks, number of strides."""
    dof = np.array([v.size - 1 for v in groups])
    var = np.array([np.var(v, ddof=1) for v in groups])
    return math.sqrt(float((dof * var).sum() / dof.sum())), len(groups), int(sum(v.size for v in groups))


def consecutive_rms(groups: pd.Series, n: int) -> tuple[float, int]:
    """RMS of (mean of n consecutive strides − mean of all the leg's strides) over non-overlapping
    windows of the legs with at least 2·n strides; and how many legs."""
    diffs, legs = [], 0
    for v in groups:
        if v.size < 2 * n:
            continue
        legs += 1
        whole = v.mean()
        diffs += [v[i:i + n].mean() - whole for i in range(0, v.size - n + 1, n)]
    return (math.sqrt(float(np.mean(np.square(diffs)))) if diffs else math.nan), legs


def strides_needed(sd_within: float, sd_walks: float, fraction: float) -> int:
    """Fewest strides n whose mean's 95 % half-width ``t(0.975, n − 1)·sd_within/√n`` is at most
    ``fraction`` of the walk-to-walk SD (the half-width shrinks with n, so the first n is the answer)."""
    for n in range(2, 200):
        if stats.t.ppf(0.975, n - 1) * sd_within / math.sqrt(n) <= fraction * sd_walks:
            return n
    return 200


def stride_rule(values: pd.DataFrame, repeat: dict) -> pd.DataFrame:
    """Per measurement with a walk-to-walk SD: medium confidence from the n whose mean's 95 %
    half-width is within the walk-to-walk SD (the strides add no more uncertainty than walking again
    does), high from the n whose half-width is within half of it; with the larger of the two
    datasets' within-walk SDs, so that the rule holds on both."""
    rows = []
    for metric, group in values.groupby("metric"):
        if metric not in repeat:
            continue
        sd_within = max(pooled_sd(g)[0] for _, g in group.groupby("dataset")["values"])
        sd_walks = repeat[metric]["sd"]
        rows.append({"metric": metric, "sd_within": sd_within, "sd_walks": sd_walks,
                     "medium": strides_needed(sd_within, sd_walks, 1.0), "high": strides_needed(sd_within, sd_walks, 0.5)})
    return pd.DataFrame(rows)


def write_rule(path: Path, rules: pd.DataFrame, when: str) -> None:
    """Store the rule in a thresholds file: ``confidence_rules.min_strides`` (per measurement, and the
    largest as the default) and the date in its source's citation; everything else is kept as it is."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    by_metric = {r.metric: {"medium": int(r.medium), "high": int(r.high)} for r in rules.itertuples(index=False)}
    doc["confidence_rules"]["min_strides"] = {
        "default": {"medium": int(rules["medium"].max()), "high": int(rules["high"].max())}, "by_metric": by_metric}
    source = doc["sources"][doc["confidence_rules"]["min_strides_source"]]
    source["citation"] = re.sub(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2} UTC)?", when, source["citation"], count=1)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def references() -> dict[str, str]:
    """What the report compares each measurement with, in words and numbers."""
    doc = load_json("thresholds.json")
    out = {}
    for t in doc["thresholds"]:
        if t["metric"] in METRICS and t["metric"] not in out and t.get("comparison") != "not_available":
            levels = t.get("levels") or next(iter(t.get("levels_by_population", {}).values()), [])
            first = levels[0] if levels else {}
            out[t["metric"]] = ", ".join(f"{k} {first[k]}" for k in ("low", "high", "limit") if k in first) + f" ({t['id']})"
    return out


def analysed_rows(jobs: int, cache: Path | None) -> pd.DataFrame:
    """The MPU-9250 and HuGaDB rows (:func:`_real_walks.analyse_all`); ``cache``: a pickle of them,
    read when it exists, else written (to re-print the tables without analysing again)."""
    if cache and cache.is_file():
        return pickle.loads(cache.read_bytes())
    rows = pd.concat([analyse_all(jobs, dataset=d) for d in ("gait_rehab_mpu9250", "hugadb_walking")])
    if cache:
        cache.write_bytes(pickle.dumps(rows))
    return rows


def main() -> None:
    t0, c0 = time.perf_counter(), time.process_time()
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--rows", type=Path, help="pickle of the analysed rows: read when it exists, else written")
    ap.add_argument("--write", type=Path, metavar="THRESHOLDS_JSON",
                    help="store the rule in this thresholds file (confidence_rules.min_strides)")
    args = ap.parse_args()
    rows = analysed_rows(args.jobs, args.rows)
    values = stride_values(rows)
    if values.empty:
        raise SystemExit("no plausible walks: is ../shared/datasets there?")
    repeat = load_json("walk_repeatability.json")["measurements"]
    refs = references()
    print(f"Stride-to-stride spread on real walks; {when}; {machine()}\n")
    summary = []
    for metric in METRICS:
        m = values[values["metric"] == metric]
        mpu, hug = (m.loc[m["dataset"] == d, "values"] for d in ("gait_rehab_mpu9250", "hugadb_walking"))
        sd_mpu, walks_mpu, strides_mpu = pooled_sd(mpu)
        sd_hug, walks_hug, strides_hug = pooled_sd(hug)
        w2w = repeat[metric]["sd"]
        per_walk = np.array([v.size for v in mpu])
        # The walk-to-walk SD holds the stride sampling of its walks (SD_w² / n per walk) and the rest:
        # what changes between walks however many strides are taken.
        beyond = math.sqrt(max(w2w ** 2 - sd_mpu ** 2 * float(np.mean(1.0 / per_walk)), 0.0))
        summary.append([metric, f"{sd_mpu:.2f} ({walks_mpu} walks, {strides_mpu} strides; median {np.median(per_walk):.0f}/walk)",
                        f"{sd_hug:.2f} ({walks_hug} legs, {strides_hug} strides)", f"{w2w:.2f}", f"{beyond:.2f}",
                        refs.get(metric, "none (shown without a comparison)")])
        table = []
        for n in N_STRIDES:
            se = sd_mpu / math.sqrt(n)
            half = stats.t.ppf(0.975, n - 1) * se
            rms, legs = consecutive_rms(hug, n)
            table.append([n, f"{se:.2f}", f"{half:.2f}", f"{se / w2w:.2f}", f"{half / w2w:.2f}",
                          f"{sd_hug / math.sqrt(n):.2f}", f"{rms:.2f} ({legs})" if legs else "—"])
        print(f"#### {metric}\n")
        print(markdown_table(["n strides", "SE, MPU-9250", "95 % half-width, MPU-9250", "SE / walk-to-walk SD",
                              "half-width / walk-to-walk SD", "SE, HuGaDB", "consecutive n vs all, HuGaDB RMS (legs)"],
                             table))
        print()
    print("#### Summary\n")
    print(markdown_table(["measurement", "SD within walk, MPU-9250", "SD within walk, HuGaDB", "walk-to-walk SD",
                          "walk-to-walk SD beyond stride sampling", "reference band (first level)"],
                         summary, align="llllll"))
    print("\n#### The rule: strides for medium and high confidence\n")
    rules = stride_rule(values, repeat)
    print(markdown_table(["measurement", "SD within walk (larger of the two)", "walk-to-walk SD", "medium from",
                          "high from"],
                         [[r.metric, f"{r.sd_within:.3g}", f"{r.sd_walks:.3g}", r.medium, r.high]
                          for r in rules.itertuples(index=False)], align="lrrrr"))
    print(f"\nlargest: medium from {rules['medium'].max()}, high from {rules['high'].max()} strides")
    if args.write:
        write_rule(args.write, rules, when)
        print(f"\nwritten to {args.write}")
    print(f"\n{time.perf_counter() - t0:.0f} s wall, {time.process_time() - c0:.0f} s CPU in this process")


if __name__ == "__main__":
    main()
