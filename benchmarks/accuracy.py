"""Walking accuracy on a simulated cohort: joint angles, hip rotation, gait events and strides,
each walker analysed end to end from raw sensor data, against the simulator's ground truth.

Reproduce (from the repository root; prints Markdown tables)::

    .venv/bin/python benchmarks/accuracy.py                      # 40 walkers + 10 with Madgwick
    .venv/bin/python benchmarks/accuracy.py --quick              # 8 walkers, 3 with Madgwick
    .venv/bin/python benchmarks/accuracy.py --walkers 80 --jobs 2 --csv /tmp/cohort.csv
    .venv/bin/python benchmarks/accuracy.py --sta literature --baseline --madgwick 0   # with soft-tissue artefact
    .venv/bin/python benchmarks/accuracy.py --ten-metre --baseline --madgwick 0        # 2-pass 10-m walk, no standing
    .venv/bin/python benchmarks/accuracy.py --sta literature --madgwick 0 --compare vqf_online  # another filter, paired
    .venv/bin/python benchmarks/accuracy.py --sta literature --madgwick 0 --flexion-axis-limit 20  # axis fitted near standing
    .venv/bin/python benchmarks/accuracy.py --sta literature --madgwick 0 --no-thigh-turn  # thigh turn not compensated
    .venv/bin/python benchmarks/accuracy.py --sta literature --madgwick 0 --no-thigh-tilt  # thigh tilt not compensated
    .venv/bin/python benchmarks/accuracy.py --sta literature --madgwick 0 --moving-knee-centre  # centre moves with flexion
    .venv/bin/python benchmarks/accuracy.py --ten-metre --sta literature --madgwick 0 --no-midstance-thigh-turn
    .venv/bin/python benchmarks/accuracy.py --ten-metre --ten-metre-standing --sta literature --madgwick 0  # with standing
    .venv/bin/python benchmarks/accuracy.py --sta literature --madgwick 0 --tau-acc 6 --no-motion-bias  # VQF's tuning

The cohort (``benchmarks/_cohort.py``, seeded; walker *i* is the same whatever the cohort size):
height 1.5–1.95 m, speed 0.9–1.6 m/s, cadence 95–125 steps/min, per side a hip rotation offset
of −10…+20° and knee valgus 0–8° (none, static, dynamic or both), sagittal asymmetry ±10 %;
sensors strapped on at uniformly random rotations, noise ×0.5–2 of the defaults, gyro bias SD
0.005–0.02 rad/s, clock drift SD 10–50 ppm, 0–1 % lost samples, soft-tissue wobble, 30 % with a
magnetic disturbance on the path (6-axis fusion ignores the magnetometer, so it should not
matter); 100 or 200 Hz; stand 4–6 s, 2–3 straight bouts of 12–15 s with 180° turns, stand.

Variants of the same people (``CohortVariant`` in ``_cohort.py``): ``--sta`` adds the soft-tissue
artefact of thigh and shank sensors (``imugait/data/soft_tissue_artefact.json``; ``literature`` =
the sourced ranges, a number scales them) in place of the small heel-strike wobble;
``--ten-metre`` records a 2-pass 10-m walk with a 180° turn and no standing period instead.
``--baseline`` also runs the same walkers without the artefact (with ``--sta``) or with the default
walk (``--ten-metre`` alone) and prints the ratios.
``--anti-alias odr`` makes every sensor low-pass at its rate before it samples (each sample the mean
over its interval, ``SensorErrors.anti_alias``; default ``none``: point samples, docs/simulate.md).
``--tau-acc S`` and ``--no-motion-bias`` fuse with that VQF tuning (``AnalysisConfig.fusion_tuning``;
the other filters keep their defaults).

Scores, per walker and side (``score_leg`` in ``_cohort.py``):

- angle RMSE: the analysis' per-sample angles against the truth interpolated to ``result.t_s``,
  only samples inside the straight bouts the analysis found (``leg.in_bout``); hip rotation is the
  femur against the line of progression (truth ``*_hip_rotation_progression_deg``). Knee
  adduction is scored against the truth and, separately, against the truth re-zeroed at the
  first standing period: calibration defines the standing pose as zero adduction, so a static
  valgus is absorbed by design (``imugait/calibration/segment.py``);
- per-walk hip rotation mean error: mean of ``hip_rotation_mean_deg`` over used strides minus
  the mean of the truth's ``hip_rotation_progression_mean_deg`` over steady strides;
- events: each true steady initial contact / toe-off is matched to the nearest detected one
  within 0.3 s; median absolute error and bias (mean signed error, + = detected late), ms;
- strides found: fraction of true steady strides whose initial contact was matched; strides
  used: used strides over true steady strides (no target); events while standing: detected
  initial contacts, toe-offs and mid-swings where the truth's walking weight is 0;
- with the artefact, the knee-flexion error split (``knee_flexion_split``): its mean and SD, and
  the same angle with a perfect calibration of the fused orientations, with perfect orientations
  and a standing zero, and with frames at the sensors' mean over the walking
  (docs/accuracy.md, *The knee-flexion tail*); the hip-rotation error split into the line of
  progression, the calibration's thigh frame, the artefact and the fusion (``hip_rotation_split``
  in ``_hip_split.py``), and its RMSE with each made perfect; the legs over 4° one by one, with
  the knee-centre heading's error and the artefact's hip-driven turn (docs/accuracy.md, *The
  artefact's tails leg by leg*).

A target is *met* when every leg of the cohort meets it; the table also gives how many legs miss
it and by how much. No parameter of imugait is tuned here.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from _cohort import (
    CohortVariant,
    WalkerSpec,
    add_vqf_tuning_arguments,
    draw_cohort,
    evaluate_walker,
    flexion_limit_from_text,
    vqf_tuning_from_args,
)
from _common import machine, markdown_table, spread_cells
from _hip_split import hip_split_table

from imugait.fusion import FilterKind
from imugait.simulate import AntiAlias
from imugait.simulate.soft_tissue import scale_from_text

__all__ = ["evaluate_walker", "draw_cohort", "main"]


@dataclass(frozen=True)
class Target:
    """One row of the summary: a per-leg quantity, how to read it, and its target."""

    label: str
    key: str
    limit: float | None
    kind: str = "max"
    """``max``: value ≤ limit is good (absolute value taken when ``absolute``); ``min``: ≥ limit."""
    absolute: bool = False
    unit: str = "°"


TARGETS = [
    Target("knee flexion RMSE", "knee_flexion_rmse_deg", 2.0),
    Target("knee adduction RMSE (vs truth)", "knee_adduction_rmse_deg", 3.0),
    Target("knee adduction RMSE (truth re-zeroed at standing)", "knee_adduction_rezeroed_rmse_deg", 3.0),
    Target("knee rotation RMSE", "knee_rotation_rmse_deg", 3.0),
    Target("hip rotation (vs progression) RMSE", "hip_rotation_rmse_deg", 3.0),
    Target("per-walk mean hip rotation error", "hip_rotation_walk_mean_error_deg", 2.0, absolute=True),
    Target("initial contact median abs error", "ic_median_abs_error_ms", 15.0, unit=" ms"),
    Target("initial contact bias (+ late)", "ic_bias_ms", None, unit=" ms"),
    Target("toe-off median abs error", "to_median_abs_error_ms", 25.0, unit=" ms"),
    Target("toe-off bias (+ late)", "to_bias_ms", None, unit=" ms"),
    Target("true steady strides found", "strides_found_pct", 99.0, kind="min", unit=" %"),
    Target("strides used / true steady strides", "strides_used_pct", None, kind="min", unit=" %"),
    Target("strides used (count)", "strides_used", None, kind="min", unit=""),
    Target("events detected while standing", "events_while_standing", 0.0, unit=""),
    Target("strides reported over standing", "strides_while_standing", 0.0, unit=""),
    Target("sensor-to-segment frame error (worse of thigh, shank)", "segment_frame_error_max_deg", None),
]

ARTEFACT_TARGETS = [
    Target("knee flexion RMSE", "knee_flexion_rmse_deg", 3.0),
    Target("hip rotation (vs progression) RMSE", "hip_rotation_rmse_deg", 4.0),
    Target("strides used (count)", "strides_used", 6.0, kind="min", unit=""),
]
"""The real-recordings issue's targets for a simulated cohort with the soft-tissue artefact (the
strides' count: its two-pass 10-m walk test)."""

BIAS_SPLIT_DEGPS = 2.0
"""VQF's rest-detection threshold on |gyr| (its ``restThGyr``, deg/s): a sensor whose constant
bias exceeds it is never found at rest, so its bias is never estimated from rest."""
SPLIT_KEYS = ("knee_flexion_rmse_deg", "knee_adduction_rezeroed_rmse_deg", "knee_rotation_rmse_deg",
              "hip_rotation_rmse_deg", "hip_rotation_walk_mean_error_deg", "segment_frame_error_max_deg")


def run_all(specs: Sequence[WalkerSpec], kind: FilterKind, jobs: int) -> list[dict]:
    kinds = [kind] * len(specs)
    if jobs <= 1:
        return [evaluate_walker(s, k) for s, k in zip(specs, kinds, strict=True)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(evaluate_walker, specs, kinds))


def leg_rows(results: Sequence[dict]) -> list[dict]:
    """One flat row per analysed leg: ``walker``, ``side`` and the scores."""
    return [{"walker": r["walker"], "side": side, **scores} for r in results for side, scores in r["legs"].items()]


def _fmt(x: float, unit: str) -> str:
    if not np.isfinite(x):
        return "n/a"
    digits = 0 if unit in ("", " %") and float(x).is_integer() else (1 if unit in (" ms", " %") else 2)
    return f"{x:.{digits}f}{unit}"


def summary_row(t: Target, rows: Sequence[dict]) -> list[str]:
    values = np.array([r[t.key] for r in rows], dtype=float)
    shown = np.abs(values) if t.absolute else values
    finite = np.isfinite(shown)
    if not finite.any():  # an angle the calibration does not measure (the pose-only fallback's hip rotation)
        return [t.label, "—" if t.limit is None else f"{'≤' if t.kind == 'max' else '≥'} {_fmt(t.limit, t.unit)}",
                "not measured", "—", "—", "—", "(not measured by this path)"]
    if t.kind == "max":
        worst_i = int(np.nanargmax(np.where(finite, np.abs(shown), -np.inf)))
        p95 = np.nanpercentile(np.abs(shown) if t.limit is not None or t.absolute else shown, 95)
    else:
        worst_i = int(np.nanargmin(np.where(finite, shown, np.inf)))
        p95 = np.nanpercentile(shown, 5)
    worst = shown[worst_i]
    where = f"{rows[worst_i]['walker']} {rows[worst_i]['side']}"
    median = np.nanmedian(shown)
    if t.limit is None:
        verdict = "(no target)"
        target = "—"
    else:
        target = f"{'≤' if t.kind == 'max' else '≥'} {_fmt(t.limit, t.unit)}"
        bad = ~finite | ((shown > t.limit) if t.kind == "max" else (shown < t.limit))
        n_bad = int(bad.sum())
        if t.key == "events_while_standing" or t.key == "strides_while_standing":
            total = float(np.nansum(shown))
            verdict = "**met** (none)" if total == 0 else f"**missed**: {total:.0f} in {n_bad} legs"
        elif n_bad == 0:
            verdict = "**met** (all legs)"
        else:
            excess = (worst - t.limit) if t.kind == "max" else (t.limit - worst)
            verdict = f"**missed** in {n_bad}/{len(rows)} legs (worst by {_fmt(excess, t.unit)})"
            if (median > t.limit) if t.kind == "max" else (median < t.limit):
                verdict = f"**missed** (median by {_fmt(abs(median - t.limit), t.unit)}; {n_bad}/{len(rows)} legs)"
    label_p = "5th pct" if t.kind == "min" else "95th pct"
    return [t.label, target, _fmt(median, t.unit), f"{_fmt(p95, t.unit)} ({label_p})", f"{_fmt(worst, t.unit)} ({where})",
            _cohort_rmse(t, values), verdict]


def _cohort_rmse(t: Target, values: np.ndarray) -> str:
    """An RMSE row's value over the whole cohort — the root of the legs' mean squared error, every
    leg weighted alike — with its verdict against the target; "—" for other rows. A leg whose
    RMSE is missing (not measured) leaves the cohort's unmeasured too."""
    if not t.key.endswith("_rmse_deg"):
        return "—"
    if not np.isfinite(values).all():
        return "n/a"
    pooled = float(np.sqrt(np.mean(values ** 2)))
    if t.limit is None:
        return _fmt(pooled, t.unit)
    return f"{_fmt(pooled, t.unit)} ({'met' if pooled <= t.limit else 'missed'})"


def summary_table(rows: Sequence[dict], targets: Sequence[Target] = TARGETS) -> str:
    body = [summary_row(t, rows) for t in targets]
    return markdown_table(["quantity (per leg)", "target", "median", "95th / 5th pct", "worst leg",
                           "whole cohort (RMSE rows: legs pooled)", "verdict (every leg)"], body, align="lrrrrrl")


def comparison_table(base: Sequence[dict], other: Sequence[dict], name: str,
                     base_name: str = "VQF offline (default)") -> str:
    b_rows, o_rows = leg_rows(base), leg_rows(other)
    body = []
    for t in TARGETS:
        if t.key.endswith("_standing"):
            continue
        b = np.nanmedian([abs(r[t.key]) if t.absolute else r[t.key] for r in b_rows])
        o = np.nanmedian([abs(r[t.key]) if t.absolute else r[t.key] for r in o_rows])
        ratio = o / b if np.isfinite(b) and abs(b) > 1e-12 else np.nan
        body.append([t.label, _fmt(b, t.unit), _fmt(o, t.unit), "n/a" if not np.isfinite(ratio) else f"{ratio:.2f}"])
    tb = np.sum([r["analysis_s"] for r in base])
    to = np.sum([r["analysis_s"] for r in other])
    body.append(["analysis wall time (sum)", f"{tb:.1f} s", f"{to:.1f} s", f"{to / tb:.2f}"])
    n_b, n_o = len(b_rows), len(o_rows)
    body.append(["legs analysed", f"{n_b}", f"{n_o}", f"{n_o / n_b:.2f}" if n_b else "n/a"])
    short = base_name.split(" (")[0]
    return markdown_table(["median over legs", base_name, name, f"{name} ÷ {short}"], body)


PAIRED_KEYS = ("knee_flexion_rmse_deg", "knee_adduction_rmse_deg", "knee_adduction_rezeroed_rmse_deg",
               "knee_rotation_rmse_deg", "hip_rotation_rmse_deg", "hip_rotation_walk_mean_error_deg")


def paired_table(base: Sequence[dict], other: Sequence[dict], base_name: str, name: str) -> str:
    """Per-leg scores of two filters on the same legs: median / 95th percentile of each, and the
    paired difference (other − base) per leg: median, 5th–95th percentile, legs where other is worse."""
    by_key = {t.key: t for t in TARGETS}
    b_rows = {(r["walker"], r["side"]): r for r in leg_rows(base)}
    o_rows = {(r["walker"], r["side"]): r for r in leg_rows(other)}
    legs = sorted(b_rows.keys() & o_rows.keys())
    body = []
    for key in PAIRED_KEYS:
        t = by_key[key]
        b = np.array([b_rows[k][key] for k in legs], dtype=float)
        o = np.array([o_rows[k][key] for k in legs], dtype=float)
        if t.absolute:
            b, o = np.abs(b), np.abs(o)
        d = o - b
        body.append([t.label, f"{np.nanmedian(b):.2f} / {np.nanpercentile(b, 95):.2f}°",
                     f"{np.nanmedian(o):.2f} / {np.nanpercentile(o, 95):.2f}°",
                     f"{np.nanmedian(d):+.2f}° ({np.nanpercentile(d, 5):+.2f} … {np.nanpercentile(d, 95):+.2f}°)",
                     f"{int(np.sum(d > 0))}/{len(legs)}"])
    header = ["per leg", f"{base_name}: median / 95th", f"{name}: median / 95th",
              f"{name} − {base_name}, per leg: median (5th … 95th pct)", f"legs worse with {name}"]
    return markdown_table(header, body, align="lrrrr")


def bias_split_table(rows: Sequence[dict]) -> str:
    """Angle scores split by the largest true gyroscope bias of the leg's two sensors."""
    by_key = {t.key: t for t in TARGETS}
    groups = [(f"≤ {BIAS_SPLIT_DEGPS:g} °/s", [r for r in rows if r["gyr_bias_max_degps"] <= BIAS_SPLIT_DEGPS]),
              (f"> {BIAS_SPLIT_DEGPS:g} °/s", [r for r in rows if r["gyr_bias_max_degps"] > BIAS_SPLIT_DEGPS])]
    body = []
    for key in SPLIT_KEYS:
        t = by_key[key]
        row = [t.label]
        for _, members in groups:
            if not members:
                row.append("—")
                continue
            v = np.array([abs(r[key]) if t.absolute else r[key] for r in members], dtype=float)
            within = "" if t.limit is None else f", {int(np.sum(v <= t.limit))}/{v.size} within {t.limit:g}°"
            row.append(f"{np.nanmedian(v):.2f}° / {np.nanmax(v):.2f}°{within}")
        body.append(row)
    header = ["median / worst", *(f"legs with gyro bias {name} (n = {len(m)})" for name, m in groups)]
    return markdown_table(header, body, align="lrr")


FLOOR_KEYS = (  # (pipeline key, floor key, label)
    ("knee_flexion_rmse_deg", "sta_floor_knee_flexion_rmse_deg", "knee flexion RMSE"),
    ("knee_rotation_rmse_deg", "sta_floor_knee_rotation_rmse_deg", "knee rotation RMSE"),
    ("hip_rotation_rmse_deg", "sta_floor_hip_rotation_rmse_deg", "hip rotation (vs progression) RMSE"),
    ("hip_rotation_walk_mean_error_deg", "sta_floor_hip_rotation_walk_mean_error_deg", "per-walk mean hip rotation error"),
)


def floor_table(rows: Sequence[dict]) -> str:
    """The pipeline against what the soft-tissue artefact alone costs (``soft_tissue_floor``)."""
    body = []
    for key, floor_key, label in FLOOR_KEYS:
        p = np.array([r[key] for r in rows], dtype=float)
        f = np.array([r[floor_key] for r in rows], dtype=float)
        if not np.isfinite(p).any():
            body.append([label, f"{np.nanmedian(np.abs(f)):.2f}° / {np.nanpercentile(np.abs(f), 95):.2f}°", "not measured"])
            continue
        signed = key.endswith("mean_error_deg")
        slope = f", slope {np.polyfit(f, p, 1)[0]:+.2f}, r = {np.corrcoef(f, p)[0, 1]:+.2f}" if signed else ""
        body.append([label, f"{np.nanmedian(np.abs(f)):.2f}° / {np.nanpercentile(np.abs(f), 95):.2f}°",
                     f"{np.nanmedian(np.abs(p)):.2f}° / {np.nanpercentile(np.abs(p), 95):.2f}°{slope}"])
    return markdown_table(["absolute value: median / 95th pct over legs", "artefact alone (perfect standing calibration)",
                           "pipeline (signed per-walk error: fit against the artefact alone)"], body, align="lrr")


FLEXION_SPLIT = (  # (RMSE key, mean-error key, label)
    ("knee_flexion_rmse_deg", "knee_flexion_error_mean_deg", "pipeline"),
    ("knee_flexion_oracle_rmse_deg", "knee_flexion_oracle_mean_deg",
     "pipeline's fused orientations, true segment frames and zero at the reference (perfect calibration)"),
    ("knee_flexion_standing_floor_rmse_deg", "knee_flexion_standing_floor_mean_deg",
     "perfect orientations, true segment frames at the reference (the artefact with a standing zero)"),
    ("knee_flexion_walk_frame_rmse_deg", "knee_flexion_walk_frame_mean_deg",
     "perfect orientations, segment frames where the sensors sat on average over the walking"),
)
FLEXION_LIMIT_DEG = 3.0
"""The knee-flexion limit with the soft-tissue artefact (issue 10) the split table counts against."""


def flexion_split_table(rows: Sequence[dict]) -> str:
    """Knee flexion with the artefact, split (``knee_flexion_split`` in ``_cohort.py``): RMSE and
    |mean error| with a perfect calibration, perfect orientations, and frames at the walking's mean."""
    body = []
    for key, mean_key, label in FLEXION_SPLIT:
        rmse, mean = (np.array([r[k] for r in rows], dtype=float) for k in (key, mean_key))
        body.append([label, *spread_cells(rmse, rows, FLEXION_LIMIT_DEG),
                     f"{np.median(np.abs(mean)):.2f} / {np.percentile(np.abs(mean), 95):.2f}°"])
    sd = np.array([r["knee_flexion_error_sd_deg"] for r in rows])
    turn = np.array([r["sta_flexion_turn_walk_deg"] for r in rows])
    floor_mean = np.array([r["knee_flexion_standing_floor_mean_deg"] for r in rows])
    pipeline_mean = np.array([r["knee_flexion_error_mean_deg"] for r in rows])
    notes = (f"\n\nPipeline's error without its mean (SD): {np.median(sd):.2f} / {np.percentile(sd, 95):.2f} / "
             f"{sd.max():.2f}°. Pipeline's mean error against the standing floor's: slope "
             f"{np.polyfit(floor_mean, pipeline_mean, 1)[0]:+.2f}, r = {np.corrcoef(floor_mean, pipeline_mean)[0, 1]:+.2f}; "
             f"the floor's mean error against the sensors' mean turn on the bones about the flexion axis over the "
             f"walking (thigh less shank, |turn| {np.median(np.abs(turn)):.2f} / {np.percentile(np.abs(turn), 95):.2f}°): "
             f"slope {np.polyfit(turn, floor_mean, 1)[0]:+.2f}, r = {np.corrcoef(turn, floor_mean)[0, 1]:+.2f}.")
    return markdown_table(["knee flexion, per leg", "RMSE median / 95th pct / worst",
                           f"legs over {FLEXION_LIMIT_DEG:g}°", "absolute mean error: median / 95th pct"],
                          body, align="lrrr") + notes


def runtime_lines(results: Sequence[dict]) -> str:
    a = np.array([r["analysis_s"] for r in results])
    s = np.array([r["simulation_s"] for r in results])
    d = np.array([r["duration_s"] for r in results])
    per_min = a / (d / 60.0)
    return (f"analyze_session per walker: median {np.median(a):.2f} s, worst {a.max():.2f} s "
            f"({np.median(per_min):.2f} s per minute of recording, 4 sensors); simulation per walker: "
            f"median {np.median(s):.2f} s; recordings {d.min():.0f}–{d.max():.0f} s")


def write_csv(path: str, rows: Sequence[dict]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def strides_per_leg_line(results: Sequence[dict]) -> str:
    """Strides used per leg over all legs of the cohort, a leg that was not analysed counting 0."""
    counts = np.array([r["legs"].get(side, {}).get("strides_used", 0.0) for r in results for side in ("left", "right")])
    analysed = sum(len(r["legs"]) for r in results)
    return (f"strides used per leg (a leg not analysed counts 0): median {np.median(counts):.0f}, "
            f"5th pct {np.percentile(counts, 5):.0f}, min {counts.min():.0f}, max {counts.max():.0f}; "
            f"legs analysed {analysed}/{counts.size}; legs with fewer than 4 strides {int(np.sum(counts < 4))}")


def report(results: Sequence[dict], title: str, out: Callable[[str], None] = print) -> None:
    failed = [r for r in results if r["error"]]
    rows = leg_rows(results)
    if not rows:
        out(f"{title}: {len(results)} walkers, no leg analysed")
        out(strides_per_leg_line(results))
        for r in failed:
            out(f"- {r['walker']}: {r['error']}")
        return
    lost = np.array([r["lost_pct"] for r in results])
    rates = sorted({int(r["sample_rate_hz"]) for r in results})
    out(f"{title}: {len(results)} walkers, {len(rows)} legs analysed; sample rates {rates} Hz; "
        f"lost samples {lost.min():.2f}–{lost.max():.2f} %")
    out(runtime_lines(results))
    out(strides_per_leg_line(results) + "\n")
    out(summary_table(rows))
    out(f"\nThe same angle scores split by the largest true constant gyroscope bias |b| of the leg's two "
        f"sensors (VQF alone learns a bias only at rest, detected only under {BIAS_SPLIT_DEGPS:g} °/s; the analysis "
        f"now removes the bias measured while standing before fusion):\n")
    out(bias_split_table(rows))
    if all(FLOOR_KEYS[0][1] in r for r in rows):
        out("\nWhat the soft-tissue artefact alone costs — the same angles from perfect sensors, fusion and a "
            "calibration on the first standing instant (segment frames = bone · STA(t) · STA(standing)⁻¹), steady "
            "strides — against the pipeline:\n")
        out(floor_table(rows))
    if all(FLEXION_SPLIT[1][0] in r for r in rows):
        out("\nKnee flexion with the artefact, split: the same samples as the RMSE above (inside the bouts), the "
            "reference = the analysis' own standing samples:\n")
        out(flexion_split_table(rows))
    if all("hip_split_error_mean_deg" in r for r in rows):
        out("\nHip rotation with the artefact, split (the same samples as its RMSE; parts that add up, "
            "docs/accuracy.md, *The hip-rotation error of the 10-m walk, split*):\n")
        out(hip_split_table(rows))
    if failed:
        out("\nAnalysis failures (a crash is a finding):")
        for r in failed:
            out(f"- {r['walker']}: {r['error']}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walkers", type=int, default=40, help="cohort size (default 40)")
    parser.add_argument("--quick", action="store_true", help="8 walkers, 3 with Madgwick")
    parser.add_argument("--madgwick", type=int, default=10, help="walkers also run with ahrs Madgwick (default 10)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--seed", type=int, default=2026, help="cohort seed (default 2026)")
    parser.add_argument("--csv", help="write the per-leg scores to this CSV file")
    parser.add_argument("--sta", type=scale_from_text, default=0.0, metavar="literature|SCALE",
                        help="soft-tissue artefact on thigh and shank sensors: 'literature' (the sourced ranges) "
                             "or a scale of them (default: none)")
    parser.add_argument("--ten-metre", action="store_true",
                        help="record a 2-pass 10-m walk with a 180-degree turn and no standing period instead")
    parser.add_argument("--ten-metre-standing", action="store_true",
                        help="with --ten-metre: stand still before and after the passes (the same short walk with a "
                             "standing reference)")
    parser.add_argument("--baseline", action="store_true",
                        help="with --pose-only: also run the regular calibration; with --shank-axis-weight: also "
                             "run weight 0; with --sta: also run the same recording without the artefact; with --ten-metre alone: also run the default walk; "
                             "print the ratios")
    parser.add_argument("--corridor", type=float, default=0.0, metavar="SECONDS",
                        help="record a corridor walk of this many seconds (up and down, 180-degree turns, no "
                             "standing period) instead")
    parser.add_argument("--pose-only", action="store_true",
                        help="calibrate every leg with the pose-only fallback (that path's own errors)")
    parser.add_argument("--shank-axis-weight", type=float, default=0.0, metavar="W",
                        help="calibrate with SegmentCalibrationConfig.shank_axis_weight=W (0-1: the thigh's flexion "
                             "axis partly from the shank's hinge axis); with --baseline also run W=0")
    parser.add_argument("--flexion-axis-limit", type=flexion_limit_from_text, default="", metavar="DEG|none",
                        help="fit the flexion axis to the samples with the knee flexed at most DEG from the reference "
                             "pose, with a standing and a mid-stance reference alike; 'none': all samples (default: "
                             "the calibration's, SegmentCalibrationConfig)")
    parser.add_argument("--no-thigh-turn", dest="thigh_turn", action="store_false",
                        help="calibrate without compensating the thigh sensor's turn with knee flexion "
                             "(SegmentCalibrationConfig.compensate_thigh_turn=False; the default compensates)")
    parser.add_argument("--no-thigh-tilt", dest="thigh_tilt", action="store_false",
                        help="calibrate without compensating the thigh sensor's frontal-plane tilt with knee flexion "
                             "(SegmentCalibrationConfig.compensate_thigh_tilt=False; the default compensates)")
    parser.add_argument("--moving-knee-centre", dest="centre_moves", action="store_true",
                        help="fit the knee centre moving on the thigh sensor with knee flexion, as a sensor on soft "
                             "tissue slides (SegmentCalibrationConfig.centre_moves_with_flexion=True; the default "
                             "keeps it fixed)")
    parser.add_argument("--no-midstance-thigh-turn", dest="midstance_thigh_turn", action="store_false",
                        help="calibrate a leg referred to mid-stance without compensating the thigh sensor's turn "
                             "(SegmentCalibrationConfig.midstance_compensate_thigh_turn=False; the default compensates)")
    parser.add_argument("--sample-rate", type=float, default=0.0, metavar="HZ",
                        help="record every walker at HZ (default: each walker's own draw from 100 and 200 Hz)")
    parser.add_argument("--filter", choices=[k.value for k in FilterKind], default=FilterKind.VQF_OFFLINE.value,
                        help="orientation filter of the main path (default vqf_offline)")
    parser.add_argument("--compare", choices=[k.value for k in FilterKind], metavar="FILTER",
                        help="also run the same walkers with this filter; print its report and the paired "
                             "per-leg differences")
    add_vqf_tuning_arguments(parser)
    parser.add_argument("--upsample-hz", type=float, default=None, metavar="HZ",
                        help="fuse sensors slower than HZ on samples interpolated up to about HZ "
                             "(AnalysisConfig.fusion_upsample_hz; default off)")
    parser.add_argument("--anti-alias", choices=[a.value for a in AntiAlias], default=AntiAlias.NONE.value,
                        help="what the simulated sensors do before they sample: none = point samples (default), "
                             "odr = the mean over each sample interval (SensorErrors.anti_alias)")
    args = parser.parse_args(argv)
    kind = FilterKind(args.filter)
    n = 8 if args.quick else args.walkers
    n_madgwick = min(args.madgwick, 3 if args.quick else args.madgwick, n)
    if args.ten_metre and args.corridor:
        parser.error("--ten-metre and --corridor are two different walks: give one")
    if args.ten_metre_standing and not args.ten_metre:
        parser.error("--ten-metre-standing needs --ten-metre")
    variant = CohortVariant(sta_scale=args.sta, ten_metre_passes=2 if args.ten_metre else 0,
                            ten_metre_standing=args.ten_metre_standing, corridor_s=args.corridor,
                            pose_only=args.pose_only, shank_axis_weight=args.shank_axis_weight,
                            flexion_axis_limit=args.flexion_axis_limit, thigh_turn=args.thigh_turn,
                            thigh_tilt=args.thigh_tilt, centre_moves=args.centre_moves,
                            midstance_thigh_turn=args.midstance_thigh_turn,
                            vqf_tuning=vqf_tuning_from_args(args), sample_rate_hz=args.sample_rate,
                            upsample_hz=args.upsample_hz, anti_alias=AntiAlias(args.anti_alias))

    specs = draw_cohort(n, args.seed, variant)
    t0 = time.perf_counter()
    base = run_all(specs, kind, args.jobs)
    t_base = time.perf_counter() - t0
    print(f"Walking accuracy, simulated cohort (seed {args.seed}); {machine()}; {dt.date.today()}; "
          f"{args.jobs} process(es), {t_base:.0f} s; recording: {variant.label}\n")
    title = f"Main path ({kind.value}, 6-axis)"
    report(base, title)
    if variant.sta_scale and leg_rows(base):
        print("\nThe same legs against the targets with the soft-tissue artefact (the real-recordings issue):\n")
        print(summary_table(leg_rows(base), ARTEFACT_TARGETS))
    if args.csv:
        write_csv(args.csv, leg_rows(base))
    if args.baseline and variant != CohortVariant():
        # With the artefact on, compare with the same recording without it; else with the default walk.
        reference_variant = (dataclasses.replace(variant, pose_only=False) if variant.pose_only
                             else dataclasses.replace(variant, shank_axis_weight=0.0) if variant.shank_axis_weight
                             else dataclasses.replace(variant, sta_scale=0.0) if variant.sta_scale else CohortVariant())
        reference = run_all(draw_cohort(n, args.seed, reference_variant), kind, args.jobs)
        print(f"\nBaseline: the same walkers, {reference_variant.label}:\n")
        report(reference, title)
        print(f"\n{variant.label} against the baseline ({reference_variant.label}), medians over the analysed legs:\n")
        print(comparison_table(reference, base, "variant", base_name="baseline"))
    if args.compare:
        other_kind = FilterKind(args.compare)
        t0 = time.perf_counter()
        other = run_all(specs, other_kind, args.jobs)
        print(f"\nThe same walkers with {other_kind.value} ({time.perf_counter() - t0:.0f} s):\n")
        report(other, f"Compared path ({other_kind.value}, 6-axis)")
        print(f"\n{other_kind.value} against {kind.value}, the same legs paired:\n")
        print(paired_table(base, other, kind.value, other_kind.value))
        print()
        print(comparison_table(base, other, other_kind.value, base_name=kind.value))
    if n_madgwick:
        madgwick = run_all(specs[:n_madgwick], FilterKind.MADGWICK, args.jobs)
        print(f"\nSame pipeline with the ahrs Madgwick filter (default tuning) on the first {n_madgwick} walkers, "
              "as a ratio to the default path on the same walkers:\n")
        print(comparison_table(base[:n_madgwick], madgwick, "ahrs Madgwick", base_name=f"{kind.value} (main path)"))
        bad = [r for r in madgwick if r["error"]]
        for r in bad:
            print(f"- Madgwick failure {r['walker']}: {r['error']}")


if __name__ == "__main__":
    main()
