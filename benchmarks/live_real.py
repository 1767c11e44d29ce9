"""The live pipeline on the real walking recordings, against ``analyze`` with the same causal filter.

Reproduce (from the repository root; reads ``../shared/datasets``; ≈ 80 s CPU; prints Markdown)::

    .venv/bin/python benchmarks/live_real.py
    .venv/bin/python benchmarks/live_real.py --datasets gait_rehab_mpu9250 --limit 10   # quicker
    .venv/bin/python benchmarks/live_real.py --end      # the stream ended (the take stopped) at the end
    .venv/bin/python benchmarks/live_real.py --datasets hugadb_walking qmt_full_body --per-metric   # per metric

Every walking recording ``benchmarks/real_data.py`` counts (its loaders: ``_real_walks.py``,
``_real_loaders.py``; HuGaDB with left and right exchanged, as counted there) and the Kiel pp054
walk with markers (``benchmarks/data/kiel_pp054``, shank and distal shank sensors) is fed through
:class:`~imugait.live.kinematics.LiveKinematics` as it would stream — 50-ms blocks per sensor in time
order, a poll every 0.25 s of data (to see when each leg was calibrated), a last poll at the end (with ``--end``, after :meth:`~imugait.live.kinematics.LiveKinematics.end`: the take stopped) —
and analysed by ``analyze`` made comparable (``tests/live/conftest.offline_like_live``: the standing
the live run found, if any; the online VQF filter, ``--filter vqf_online``; the live calibration's
settings, the knee axes fitted to the first 10 s of walking). The grid's rate is the recording's
highest sensor rate, as offline.

A row per recording and leg: whether the leg was calibrated live (and if not, the state it was left
in: why), against what (standing / mid-stance) and after how much data; the strides live and
``analyze`` found and used; the strides both used (live strides matched to ``analyze``'s by the
nearest initial contact, within 50 ms); the largest and the median |live − analyze| over those
strides of the per-stride angle metrics (knee flexion, adduction, rotation; hip rotation — each
stride's latest version, ``latest_strides``; with ``--per-metric`` also the thigh–shank timing and
the double support) and of the event times (initial contact, toe-off, next
initial contact); how many of those strides were final (their straight run ended and fitted again
before the recording ended: :mod:`imugait.live.revision`) and the largest difference over those.
Then a summary per dataset: ours live against ours offline, and over the legs that live and
``analyze`` referred to the same pose (standing / mid-stance).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# One BLAS thread: the calibration's least-squares fits otherwise spin threads on a shared machine
# (the CPU this prints tripled under load).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The live tests' comparison (the fair analyze, the stride matching) is reused, not copied.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "live"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import machine, markdown_table  # noqa: E402
from _real_loaders import load_kiel_pp054  # noqa: E402
from _real_walks import MIN_USED_STRIDES, WalkSource, _load, walk_sources  # noqa: E402
from conftest import LiveRun, feed_polled, offline_like_live  # noqa: E402
from test_live_agreement import HIP_METRICS, KNEE_METRICS, matched  # noqa: E402

from imugait.errors import ImugaitError  # noqa: E402
from imugait.gait.cycles import Exclusion  # noqa: E402
from imugait.live.kinematics import LiveConfig, LiveKinematics  # noqa: E402
from imugait.live.updates import CalibrationPhase, LiveUpdate, latest_strides  # noqa: E402
from imugait.model import Session  # noqa: E402
from imugait.timebase import grid_rate_hz  # noqa: E402

BLOCK_S = 0.05
POLL_S = 0.25
SAME_STRIDE_S = 0.05
"""A live stride and ``analyze``'s are the same stride when their initial contacts are this close."""
ANGLES = KNEE_METRICS + HIP_METRICS
EVENTS = ("ic_s", "to_s", "next_ic_s")
KIEL = "kiel_pp054"


def sources(datasets: list[str] | None) -> list[WalkSource]:
    """The counted recordings of ``real_data.py`` and the two Kiel sessions (``kind`` ``kiel``)."""
    out = [s for s in walk_sources() if s.counted and s.kind != "skip"]
    out += [WalkSource(KIEL, "WT_01 shank sensors", "kiel"), WalkSource(KIEL, "WT_01 distal shank sensors", "kiel", "distal")]
    return [s for s in out if datasets is None or s.dataset in datasets]


def load(source: WalkSource) -> Session:
    return load_kiel_pp054(source.arg == "distal").session if source.kind == "kiel" else _load(source)


def live_vs_analyze(source: WalkSource, end: bool = False, both_used: list[pd.DataFrame] | None = None) -> list[dict]:
    """Rows (one per leg) for one recording; never raises (a crash is a finding). ``end``: the
    stream is ended (:meth:`LiveKinematics.end`, the take stopped) before the last poll.
    ``both_used``: the per-stride differences of the strides both used are appended to it (a
    table per leg, :func:`per_metric_table`)."""
    base = {"dataset": source.dataset, "recording": source.name}
    try:
        session = load(source)
        t0 = time.process_time()
        live = LiveKinematics(list(session), LiveConfig(rate_hz=grid_rate_hz(session.streams, None)))
        updates = feed_polled(live, session, BLOCK_S, POLL_S)
        if end:
            live.end()
            updates.append(live.poll())
        cpu_live_s = time.process_time() - t0
        update = LiveUpdate(t_s=updates[-1].t_s, strides=tuple(s for u in updates for s in u.strides))
        try:
            offline = offline_like_live(session, live)
            refusal = ""
        except ImugaitError as exc:
            offline, refusal = None, str(exc)
    except Exception as exc:  # a crash is a finding
        return [{**base, "leg": "—", "live": f"CRASH {type(exc).__name__}: {exc}"}]
    t_start = session.t_start_s
    calibrated_at = {c.side: u.t_s - t_start for u in updates for c in u.calibration
                     if c.phase is CalibrationPhase.CALIBRATED}
    states = {s.side: s for s in live.calibration_states()}
    strides = latest_strides(update.strides)
    rows = []
    for side in live.sides:
        state = states[side]
        mine = [s for s in strides if s.side is side]
        row = {**base, "leg": side.value, "duration_s": session.t_end_s - t_start, "cpu_live_s": cpu_live_s,
               "live": state.phase.value, "live_reference": state.reference or "", "why": state.message,
               "calibrated_at_s": calibrated_at.get(side, np.nan),
               "live_found": len(mine), "live_used": sum(s.used for s in mine),
               "live_clipped": sum(s.exclusion == Exclusion.CLIPPED.value for s in mine)}
        leg = None if offline is None else offline.legs.get(side)
        if leg is None:
            reason = refusal or next((w for w in offline.warnings if w.startswith(f"{side.value}_")), "refused")
            rows.append({**row, "analyze": f"refused: {reason}"})
            continue
        cycles = offline.cycles[offline.cycles["side"] == side.value]
        row.update({"analyze": "calibrated", "analyze_reference": leg.reference, "analyze_found": len(cycles), "analyze_used": int(cycles["used"].sum()),
                    "analyze_clipped": int((cycles["exclusion"] == Exclusion.CLIPPED.value).sum())})
        if mine and len(cycles):
            table = matched(LiveRun(session, live, LiveUpdate(t_s=update.t_s, strides=tuple(mine)), offline))
            both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= SAME_STRIDE_S)]
            row["both_used"] = len(both)
            row["both_final"] = int(both["final"].sum())
            if both_used is not None:
                both_used.append(both.assign(dataset=source.dataset, recording=source.name, leg=side.value))
            final = both[both["final"]]
            if len(final):
                row["final_angle_max_deg"] = np.nanmax(final[list(ANGLES)].abs().to_numpy())
            if len(both):
                angles = both[list(ANGLES)].abs().to_numpy()
                events_ms = 1000.0 * both[list(EVENTS)].abs().to_numpy()
                row.update({"angle_max_deg": np.nanmax(angles), "angle_median_deg": np.nanmedian(angles),
                            "event_max_ms": np.nanmax(events_ms), "event_median_ms": np.nanmedian(events_ms),
                            "knee_max_deg": _finite_max(both[list(KNEE_METRICS)].abs().to_numpy()),
                            "hip_max_deg": _finite_max(both[list(HIP_METRICS)].abs().to_numpy())})
        rows.append(row)
    return rows


def _finite_max(values: np.ndarray) -> float:
    """The largest finite value, NaN when there is none (a leg whose hip rotation is not measured)."""
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _cell(value, fmt: str) -> str:
    return "—" if value is None or (isinstance(value, float) and not np.isfinite(value)) else format(value, fmt)


def leg_table(df: pd.DataFrame) -> str:
    rows = []
    for _, r in df.iterrows():
        live = r["live"] + (f" ({r['live_reference']}, at {r['calibrated_at_s']:.1f} s)"
                            if r["live"] == CalibrationPhase.CALIBRATED.value else f": {r['why']}")
        rows.append([r["dataset"], r["recording"], r["leg"], _cell(r.get("duration_s"), ".1f"), live.replace("|", "/"),
                     f"{_cell(r.get('live_used'), '.0f')}/{_cell(r.get('live_found'), '.0f')}",
                     (f"calibrated ({r['analyze_reference']})" if r.get("analyze") == "calibrated"
                      else str(r.get("analyze", "—"))[:80]).replace("|", "/"),
                     f"{_cell(r.get('analyze_used'), '.0f')}/{_cell(r.get('analyze_found'), '.0f')}",
                     _cell(r.get("both_used"), ".0f"), _cell(r.get("angle_max_deg"), ".2f"),
                     _cell(r.get("angle_median_deg"), ".2f"), _cell(r.get("event_max_ms"), ".1f"),
                     _cell(r.get("event_median_ms"), ".1f")])
    return markdown_table(["dataset", "recording", "leg", "s", "live", "live used/found", "analyze (vqf_online)",
                           "analyze used/found", "used both", "angles max", "median", "events max (ms)", "median"],
                          rows, "lllrlrlrrrrrr")


def summary_table(df: pd.DataFrame) -> str:
    rows = []
    same = df["live_reference"].astype(str) == df.get("analyze_reference", pd.Series("", index=df.index)).astype(str)
    for name, g in [*df.groupby("dataset", sort=False), ("all", df), ("all, the same reference live and analyze", df[same])]:
        calibrated = g["live"] == CalibrationPhase.CALIBRATED.value
        analyzed = g.get("analyze", pd.Series("", index=g.index)).astype(str) == "calibrated"
        rows.append([name, len(g), int(analyzed.sum()), int((g.get("analyze_used", 0).fillna(0) >= MIN_USED_STRIDES).sum()),
                     int(calibrated.sum()), int((g["live_used"].fillna(0) >= MIN_USED_STRIDES).sum()),
                     int(g["live_used"].fillna(0).sum()), int(g.get("analyze_used", 0).fillna(0).sum()),
                     int(g.get("both_used", 0).fillna(0).sum()),
                     _cell(g["angle_max_deg"].max() if "angle_max_deg" in g else np.nan, ".2f"),
                     _cell(g["knee_max_deg"].max() if "knee_max_deg" in g else np.nan, ".2f"),
                     _cell(g["hip_max_deg"].max() if "hip_max_deg" in g else np.nan, ".2f"),
                     _cell(g["angle_median_deg"].median() if "angle_median_deg" in g else np.nan, ".2f"),
                     _cell(g["event_max_ms"].max() if "event_max_ms" in g else np.nan, ".1f"),
                     int(g.get("both_final", 0).fillna(0).sum()),
                     _cell(g["final_angle_max_deg"].max() if "final_angle_max_deg" in g else np.nan, ".2f")])
    return markdown_table(["dataset", "legs", "analyze calibrated", f"analyze ≥ {MIN_USED_STRIDES} used",
                           "live calibrated", f"live ≥ {MIN_USED_STRIDES} used", "strides used live", "used analyze",
                           "used both", "angles max |Δ| (deg)", "knee max", "hip max",
                           "median of legs' median |Δ|", "events max |Δ| (ms)", "used both, final",
                           "final: angles max |Δ|"], rows)


def per_metric_table(strides: pd.DataFrame) -> str:
    """Per dataset and metric, max / 95th percentile / median of |live − analyze| over the strides
    both used (each stride's latest version), and over those of them that were final."""
    rows = []
    for dataset, g in strides.groupby("dataset", sort=False):
        final = g[g["final"]]
        for name in (*ANGLES, "thigh_shank_lag_s", "double_support_pct", *EVENTS):
            scale, unit = (1000.0, "ms") if name.endswith("_s") else (1.0, "%-points") if name.endswith("_pct") else (1.0, "°")
            cells = []
            for part in (g, final):
                x = scale * part[name].abs().to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                cells.append(f"{x.max():.2f} / {np.percentile(x, 95):.2f} / {np.median(x):.2f}" if x.size else "—")
            rows.append([dataset, f"{name} ({unit})", len(g), cells[0], len(final), cells[1]])
    return markdown_table(["dataset", "metric", "strides", "latest: max / 95th / median", "final", "final: max / 95th / median"],
                          rows, "llrrrr")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=None, help="only these datasets (default: all)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many recordings per dataset (0: all)")
    parser.add_argument("--csv", type=Path, help="also write the rows to this CSV file")
    parser.add_argument("--per-metric", action="store_true",
                        help="also print max / 95th / median |live − analyze| per metric over the strides both used")
    parser.add_argument("--end", action="store_true",
                        help="end the stream (LiveKinematics.end: the take stopped) before the last poll")
    args = parser.parse_args()
    chosen = sources(args.datasets)
    if args.limit:
        seen: dict[str, int] = {}
        chosen = [s for s in chosen if (seen.__setitem__(s.dataset, seen.get(s.dataset, 0) + 1) or seen[s.dataset]) <= args.limit]
    t0 = time.process_time()
    strides: list[pd.DataFrame] = []
    df = pd.DataFrame([row for source in chosen for row in live_vs_analyze(source, args.end, strides)])
    cpu_s = time.process_time() - t0
    print(f"{machine()}; {len(chosen)} recordings, {cpu_s:.0f} s CPU (user+sys of this process)\n")
    print(leg_table(df))
    print()
    print(summary_table(df))
    print(f"\nStrides excluded as clipped (a gyroscope at its declared range): live {int(df['live_clipped'].fillna(0).sum())}, "
          f"analyze {int(df.get('analyze_clipped', pd.Series(dtype=float)).fillna(0).sum())}; live runs' CPU "
          f"{df.groupby('recording')['cpu_live_s'].first().sum():.1f} s (feed, polls and end)")
    if args.per_metric and strides:
        print()
        print(per_metric_table(pd.concat(strides, ignore_index=True)))
    if args.csv:
        df.to_csv(args.csv, index=False)


if __name__ == "__main__":
    main()
