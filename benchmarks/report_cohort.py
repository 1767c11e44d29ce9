"""Detection of an internally rotated hip by the report, on a simulated cohort: how often a walker
whose right hip is internally rotated gets a right-side hip-rotation finding, and how often a
normal walker gets any finding at all.

Reproduce (from the repository root; prints Markdown tables)::

    .venv/bin/python benchmarks/report_cohort.py                         # 30 rotated + 30 normal + 5 × 20 edge
    .venv/bin/python benchmarks/report_cohort.py --walkers 60 --jobs 2 --csv /tmp/report_cohort.csv

The cohort (seeded; walker *i* of a group is the same whatever the cohort size):

- *rotated* walkers: the right hip internally rotated by an offset
  (``SideParams(hip_rotation_offset_deg=…)``) drawn **stratified** over the bins 10–12, 12–15
  and 15–20° (walker *i* is in bin *i* mod 3, uniform within it), so the near-threshold bin gets
  as many walkers as the others; left hip offset 0;
- *normal* walkers: hip offset 0 on both sides;
- *edge* sweep: walkers at fixed right hip offsets of 9, 9.5, 10, 10.5 and 11° (the same people at
  every offset), to show where detection falls off next to the threshold;
- both groups: height 1.5–1.95 m, speed 0.9–1.6 m/s, cadence 95–125 steps/min, no knee valgus,
  no sagittal asymmetry, default stride-time and angle variability; sensors strapped on at
  uniformly random rotations, default sensor errors (``SensorErrors()``), 100 Hz, random initial
  heading; stand 5 s, 2 straight bouts of 12 s with a 180° turn, stand 5 s.

Each walker is simulated, analysed end to end from the raw sensor data
(:func:`imugait.analysis.analyze_session`) and reported (:func:`imugait.report.report.build_report`,
sex unknown, no pain question). Scores:

- *detected* (rotated walkers): the report has a ``hip_internal_rotation_gait`` finding on the
  right side and no hip-rotation finding on the left;
- *false findings* (normal walkers): any finding at all, and hip-rotation findings in particular;
- *true mean*: the simulator's ``hip_rotation_progression_mean_deg`` averaged over the steady
  strides of that side (what the threshold should ideally be applied to); *measured*: the report's
  ``hip_rotation_mean_deg`` measurement.

The threshold (``gait_hip_rotation_mean`` in ``imugait/data/thresholds.json``) is read from the
data file, never tuned here. It is derived from a normative cohort (mean + 1 SD ≈ 7.7°), and a
walker's true mean hip rotation is about offset − 2° (the normative curve's own mean is −1.9°), so
a 10° offset puts the walker's true value right at the threshold: a detector that measured the
truth exactly would flag such a walker only about half the time.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from _common import machine, markdown_table

from imugait.analysis import analyze_session
from imugait.conventions import Side
from imugait.report.drill_data import load_report_data
from imugait.report.report import build_report
from imugait.report.thresholds import Population
from imugait.simulate import SideParams, SimulationConfig, WalkerParams, simulate, walking_test

BINS: tuple[tuple[float, float], ...] = ((10.0, 12.0), (12.0, 15.0), (15.0, 20.0))
"""Offset bins of the rotated group, degrees (lower bound inclusive)."""
HIP_THRESHOLD_ID = "gait_hip_rotation_mean"
HIP_METRIC = "hip_rotation_mean_deg"
INTERNAL = "hip_internal_rotation_gait"
HIP_CODES = frozenset({INTERNAL, "hip_external_rotation_gait"})
ROTATED, NORMAL, EDGE = "rotated", "normal", "edge"
EDGE_OFFSETS_DEG = (9.0, 9.5, 10.0, 10.5, 11.0)
"""Fixed right hip offsets of the near-threshold sweep (``--edge-walkers`` walkers each)."""
GENERATED_AT = "2026-01-02T10:00:00+00:00"


@dataclass(frozen=True)
class CohortWalker:
    """One simulated person of the detection cohort."""

    group: str
    index: int
    right_offset_deg: float
    config: SimulationConfig

    @property
    def label(self) -> str:
        return f"{self.group[0]}{self.index:03d}"


def offset_bin(offset_deg: float) -> tuple[float, float]:
    """The bin of :data:`BINS` an offset falls in (the last bin includes its upper bound)."""
    for lo, hi in BINS:
        if lo <= offset_deg < hi:
            return lo, hi
    if offset_deg == BINS[-1][1]:
        return BINS[-1]
    raise ValueError(f"offset {offset_deg} outside the bins {BINS}")


def bin_label(b: tuple[float, float]) -> str:
    return f"{b[0]:g}–{b[1]:g}°"


def draw_walker(group: str, index: int, seed: int = 2031, offset_deg: float | None = None) -> CohortWalker:
    """Walker ``index`` of ``group`` (:data:`ROTATED` or :data:`NORMAL`), drawn with ``seed``.

    ``offset_deg`` overrides the drawn right hip offset of a rotated walker (the rest of the walker
    stays as drawn)."""
    rng = np.random.default_rng([seed, {ROTATED: 0, NORMAL: 1, EDGE: 2}[group], index])
    lo, hi = BINS[index % len(BINS)]
    drawn = float(rng.uniform(lo, hi))
    right = 0.0 if group == NORMAL else (drawn if offset_deg is None else float(offset_deg))
    walker = WalkerParams(
        height_m=float(rng.uniform(1.5, 1.95)),
        speed_mps=float(rng.uniform(0.9, 1.6)),
        cadence_spm=float(rng.uniform(95.0, 125.0)),
        left=SideParams(hip_rotation_offset_deg=0.0),
        right=SideParams(hip_rotation_offset_deg=right),
    )
    config = SimulationConfig(
        walker=walker, timeline=walking_test(n_bouts=2, bout_s=12.0), random_mounting=True,
        initial_heading_deg=float(rng.uniform(0.0, 360.0)), seed=int(rng.integers(2**31)),
        subject_id=f"report-cohort-{group}-{index:03d}",
    )
    return CohortWalker(group, index, right, config)


def draw_cohort(n_rotated: int, n_normal: int, seed: int = 2031) -> list[CohortWalker]:
    return ([draw_walker(ROTATED, i, seed) for i in range(n_rotated)]
            + [draw_walker(NORMAL, i, seed) for i in range(n_normal)])


def draw_edge(n_per_offset: int, seed: int = 2031, offsets: Sequence[float] = EDGE_OFFSETS_DEG) -> list[CohortWalker]:
    """The near-threshold sweep: the same ``n_per_offset`` people at each fixed right hip offset
    (walker *i* differs between offsets only in the offset)."""
    return [draw_walker(EDGE, i, seed, offset_deg=o) for o in offsets for i in range(n_per_offset)]


def hip_limits() -> tuple[float, float]:
    """The mildest (low, high) band of the hip-rotation threshold, as the data file has it."""
    t = next(t for t in load_report_data().thresholds.thresholds if t.id == HIP_THRESHOLD_ID)
    level = t.levels(Population.UNKNOWN)[0]
    return float(level.low), float(level.high)


def evaluate(walker: CohortWalker) -> dict:
    """Simulate, analyse and report one walker; plain numbers, so it can run in a worker process.

    Returns
    -------
    dict with ``label``, ``group``, ``right_offset_deg``, ``error`` (None or the exception's text),
    ``findings`` (list of ``(code, side or "", severity)``), ``wall_s`` and per side
    (``left_``/``right_`` prefix): ``true_mean_deg``, ``measured_deg`` (NaN when not measured),
    ``confidence``, ``strides``, ``hip_finding`` (code or ""), ``hip_severity``.
    """
    t0 = time.perf_counter()
    sim = simulate(walker.config)
    out: dict = {"label": walker.label, "group": walker.group, "right_offset_deg": walker.right_offset_deg,
                 "error": None, "findings": []}
    cycles = sim.truth.cycles
    for side in Side:
        steady = cycles[(cycles["side"] == side.value) & cycles["steady"]]
        out[f"{side.value}_true_mean_deg"] = float(steady["hip_rotation_progression_mean_deg"].mean())
        out.update({f"{side.value}_measured_deg": math.nan, f"{side.value}_confidence": "",
                    f"{side.value}_strides": 0, f"{side.value}_hip_finding": "", f"{side.value}_hip_severity": ""})
    try:
        report = build_report(analyze_session(sim.session), generated_at=GENERATED_AT)
    except Exception as exc:  # a crash is a result: recorded (and counted as a miss), not hidden
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["wall_s"] = time.perf_counter() - t0
        return out
    for side in Side:
        m = report.measurement(HIP_METRIC, side)
        if m is not None:
            out[f"{side.value}_measured_deg"] = m.value
            out[f"{side.value}_confidence"] = m.confidence.value
            out[f"{side.value}_strides"] = int(m.n or 0)
        hip = [f for f in report.findings if f.code in HIP_CODES and f.side is side]
        if hip:
            out[f"{side.value}_hip_finding"] = hip[0].code
            out[f"{side.value}_hip_severity"] = hip[0].severity.value
    out["findings"] = [(f.code, f.side.value if f.side else "", f.severity.value) for f in report.findings]
    out["wall_s"] = time.perf_counter() - t0
    return out


def detected(r: dict) -> bool:
    """A right-side internal-rotation finding, and no hip-rotation finding on the left."""
    return r["error"] is None and r["right_hip_finding"] == INTERNAL and not r["left_hip_finding"]


def has_hip_finding(r: dict) -> bool:
    return bool(r["left_hip_finding"] or r["right_hip_finding"])


def run(walkers: Sequence[CohortWalker], jobs: int = 1) -> list[dict]:
    if jobs <= 1:
        return [evaluate(w) for w in walkers]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(evaluate, walkers, chunksize=1))


# ---------------------------------------------------------------------------------------------
# Summaries


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion k/n, as fractions."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _pct(k: int, n: int) -> str:
    if n == 0:
        return "—"
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {100 * k / n:.0f} % ({100 * lo:.0f}–{100 * hi:.0f})"


def _range(x: Sequence[float]) -> str:
    x = np.asarray([v for v in x if math.isfinite(v)])
    if not x.size:
        return "—"
    return f"{np.mean(x):.1f} ({np.min(x):.1f} … {np.max(x):.1f})"


def _mean_sd(x: Sequence[float]) -> str:
    x = np.asarray([v for v in x if math.isfinite(v)])
    if not x.size:
        return "—"
    return f"{np.mean(x):+.1f} ± {np.std(x, ddof=1) if x.size > 1 else 0.0:.1f}"


def sensitivity_table(results: Sequence[dict], high: float) -> str:
    rotated = [r for r in results if r["group"] == ROTATED]
    rows = []
    groups = [(bin_label(b), [r for r in rotated if offset_bin(r["right_offset_deg"]) == b]) for b in BINS]
    groups.append((f"all {bin_label((BINS[0][0], BINS[-1][1]))}", rotated))
    for label, rs in groups:
        k = sum(detected(r) for r in rs)
        missed = [r for r in rs if not detected(r)]
        below = sum(r["right_true_mean_deg"] <= high for r in missed)
        rows.append([
            label, len(rs), _pct(k, len(rs)),
            _range([r["right_true_mean_deg"] for r in rs]),
            _range([r["right_measured_deg"] for r in rs]),
            _mean_sd([r["right_measured_deg"] - r["right_true_mean_deg"] for r in rs]),
            sum(r["right_true_mean_deg"] <= high for r in rs),
            f"{len(missed)} ({below} with true ≤ {high:g}°)",
            sum(bool(r["left_hip_finding"]) for r in rs),
        ])
    return markdown_table(
        ["right hip offset", "walkers", "detected (95 % CI)", "true right mean, ° (min … max)",
         "measured right, ° (min … max)", "measured − true, °", f"true ≤ {high:g}°", "missed", "left hip finding"],
        rows, "l" + "r" * 8)


def truth_table(results: Sequence[dict], high: float) -> str:
    """Detection against the walker's *true* mean: what a perfect measurement would decide."""
    rotated = [r for r in results if r["group"] == ROTATED]
    edges = [-math.inf, high, high + 1.0, high + 2.0, math.inf]
    names = [f"≤ {high:g}° (no finding is right)", f"{high:g}–{high + 1:g}°", f"{high + 1:g}–{high + 2:g}°",
             f"> {high + 2:g}°"]
    rows = []
    for name, lo, hi in zip(names, edges[:-1], edges[1:], strict=True):
        rs = [r for r in rotated if lo < r["right_true_mean_deg"] <= hi]
        rows.append([name, len(rs), _pct(sum(detected(r) for r in rs), len(rs))])
    return markdown_table(["true right mean hip rotation", "rotated walkers", "flagged right"], rows)


def edge_table(results: Sequence[dict], high: float) -> str:
    """Fixed offsets around 10°: detection by the report vs what the truth itself would give."""
    edge = [r for r in results if r["group"] == EDGE]
    rows = []
    for o in sorted({r["right_offset_deg"] for r in edge}):
        rs = [r for r in edge if r["right_offset_deg"] == o]
        rows.append([
            f"{o:g}°", len(rs), _range([r["right_true_mean_deg"] for r in rs]),
            _pct(sum(r["right_true_mean_deg"] > high for r in rs), len(rs)),
            _pct(sum(detected(r) for r in rs), len(rs)),
            _mean_sd([r["right_measured_deg"] - r["right_true_mean_deg"] for r in rs]),
        ])
    return markdown_table(["right hip offset", "walkers", "true right mean, ° (min … max)",
                           f"true mean > {high:g}° (a perfect measurement would flag)", "detected by the report",
                           "measured − true, °"], rows)


def normal_table(results: Sequence[dict], low: float, high: float) -> str:
    normal = [r for r in results if r["group"] == NORMAL]
    n = len(normal)
    any_f = sum(bool(r["findings"]) or r["error"] is not None for r in normal)
    codes = sorted({c for r in normal for c, _, _ in r["findings"]})
    measured = [r[f"{s}_measured_deg"] for r in normal for s in ("left", "right")]
    true = [r[f"{s}_true_mean_deg"] for r in normal for s in ("left", "right")]
    rows = [
        ["any finding (or a failed analysis)", _pct(any_f, n)],
        ["hip-rotation finding, either side", _pct(sum(has_hip_finding(r) for r in normal), n)],
        ["hip-rotation finding, right", _pct(sum(bool(r["right_hip_finding"]) for r in normal), n)],
        ["hip-rotation finding, left", _pct(sum(bool(r["left_hip_finding"]) for r in normal), n)],
        ["finding codes seen", ", ".join(f"`{c}`" for c in codes) or "none"],
        ["true mean hip rotation, ° (both sides)", _range(true)],
        ["measured hip rotation, ° (both sides)", _range(measured)],
        ["measured − true, ° (both sides)", _mean_sd([m - t for m, t in zip(measured, true, strict=True)])],
        [f"margin to the band {low:g} … {high:g}°", f"{min(min(high - m, m - low) for m in measured):.1f}° (closest)"
         if n else "—"],
    ]
    return markdown_table(["normal walkers (offset 0 on both sides)", f"n = {n} (95 % CI)"], rows, "lr")


def misses_table(results: Sequence[dict]) -> str:
    rows = []
    for r in results:
        wrong = (r["group"] == ROTATED and not detected(r)) or (r["group"] == NORMAL and (r["findings"] or r["error"]))
        if not wrong:
            continue
        rows.append([
            r["label"], f"{r['right_offset_deg']:.1f}", f"{r['right_true_mean_deg']:.1f}",
            f"{r['right_measured_deg']:.1f}", f"{r['left_true_mean_deg']:.1f}", f"{r['left_measured_deg']:.1f}",
            f"{r['right_confidence']}/{r['left_confidence']}", f"{r['right_strides']}/{r['left_strides']}",
            r["error"] or ", ".join(f"{c} {s} {sev}" for c, s, sev in r["findings"]) or "none",
        ])
    if not rows:
        return "(none)"
    return markdown_table(["walker", "right offset, °", "true right, °", "measured right, °", "true left, °",
                           "measured left, °", "confidence R/L", "strides R/L", "findings"], rows, "l" + "r" * 7 + "l")


def other_findings_table(results: Sequence[dict]) -> str:
    """Findings other than hip rotation in the rotated group (the normal group's are above)."""
    rotated = [r for r in results if r["group"] == ROTATED]
    counts: dict[str, int] = {}
    for r in rotated:
        for code in {c for c, _, _ in r["findings"] if c not in HIP_CODES}:
            counts[code] = counts.get(code, 0) + 1
    severities: dict[str, int] = {}
    for r in rotated:
        if r["right_hip_severity"]:
            severities[r["right_hip_severity"]] = severities.get(r["right_hip_severity"], 0) + 1
    rows = [[f"right hip finding, severity {s}", v] for s, v in sorted(severities.items())]
    rows += [[f"other finding `{c}`", v] for c, v in sorted(counts.items())] or [["other findings", 0]]
    return markdown_table(["rotated walkers", "count"], rows)


def write_csv(path: str, results: Sequence[dict]) -> None:
    keys = [k for k in results[0] if k != "findings"] + ["findings"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        for r in results:
            w.writerow({**r, "findings": "; ".join(" ".join(x for x in t if x) for t in r["findings"])})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walkers", type=int, default=30, help="walkers per group (default 30 rotated + 30 normal)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--edge-walkers", type=int, default=20,
                        help=f"walkers per fixed offset {EDGE_OFFSETS_DEG} of the near-threshold sweep (default 20; 0: none)")
    parser.add_argument("--seed", type=int, default=2031, help="cohort seed (default 2031)")
    parser.add_argument("--csv", help="write the per-walker results to this CSV file")
    args = parser.parse_args(argv)
    low, high = hip_limits()
    walkers = draw_cohort(args.walkers, args.walkers, args.seed) + draw_edge(args.edge_walkers, args.seed)
    t0 = time.perf_counter()
    results = run(walkers, args.jobs)
    wall = time.perf_counter() - t0
    print(f"# Hip-rotation findings on a simulated cohort\n\n{args.walkers} rotated + {args.walkers} normal walkers "
          f"(+ {args.edge_walkers} per fixed offset {', '.join(f'{o:g}' for o in EDGE_OFFSETS_DEG)}°), "
          f"seed {args.seed}, threshold `{HIP_THRESHOLD_ID}` mild band {low:g} … {high:g}°; {wall:.0f} s wall "
          f"with {args.jobs} job(s) on {machine()}; {sum(r['error'] is not None for r in results)} failed analyses.\n")
    print("## Sensitivity: right hip internally rotated (detected = right finding, no left finding)\n")
    print(sensitivity_table(results, high) + "\n")
    print("## Detection against the walker's true mean hip rotation (rotated group)\n")
    print(truth_table(results, high) + "\n")
    if args.edge_walkers:
        print("## Near the threshold: the same walkers at fixed right hip offsets\n")
        print(edge_table(results, high) + "\n")
    print("## False findings: normal walkers\n")
    print(normal_table(results, low, high) + "\n")
    print("## Other findings and severities (rotated group)\n")
    print(other_findings_table(results) + "\n")
    print("## Misses and false findings, per walker\n")
    print(misses_table(results))
    if args.csv:
        write_csv(args.csv, results)


if __name__ == "__main__":
    main()
