"""Long recordings in bounded memory: peak memory and time of ``analyze_in_chunks`` reading a
native file window by window (``SessionFileRanges``), for recordings of several lengths, and
the per-stride differences from the whole-recording analysis.

Reproduce (from the repository root; prints Markdown; the 8-h file is ≈ 0.7 GB on disk and its
writing holds it in memory, ≈ 5 GB, in this parent process only)::

    .venv/bin/python benchmarks/long_recording.py                      # 1, 2, 4, 8 h
    .venv/bin/python benchmarks/long_recording.py --hours 1 2 --whole  # + the whole-recording analysis
    .venv/bin/python benchmarks/long_recording.py --hours 2 8 --command # + `imugait analyze FILE` itself

The recordings are tiled like ``pipeline_speed.py`` (a simulated 5-min block at 200 Hz repeated
end to end; each block starts and ends standing). Each run is a fresh process pinned to one
CPU; its peak resident set (``VmHWM`` reset after the imports) minus the resident set before
reading is its memory, given as a multiple of the raw samples *of the recording* — bounded
memory shows as the same MiB at every length and a ratio that falls with the length.

``--command`` also runs the command a user would, ``python -m imugait analyze FILE
--no-calibration --out r.json`` (chunked by itself above 1 h), as a child process pinned to one
CPU: its maximum resident set (the whole process, imports included, as ``/usr/bin/time -v``
reports it), its CPU time (user + system) and the strides in its JSON result.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import block_session, machine, markdown_table
from pipeline_speed import RATE_HZ, _reset_peak_rss, _rss_bytes, in_fresh_process, raw_bytes, tile

from imugait.analysis import analyze_session
from imugait.analysis.chunked import analyze_in_chunks
from imugait.io import read_session, write_session
from imugait.io.native_ranges import SessionFileRanges


def _run(path: Path, chunked: bool, chunk_s: float, overlap_s: float, cycles_out: Path | None, conn) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    _reset_peak_rss()
    rss0 = _rss_bytes("VmRSS")
    c0, t0 = time.process_time(), time.perf_counter()
    if chunked:
        result = analyze_in_chunks(SessionFileRanges(path, motion_only=True), chunk_s=chunk_s, overlap_s=overlap_s)
    else:
        result = analyze_session(read_session(path, motion_only=True))  # as `imugait analyze` reads it
    out = {"cpu_s": time.process_time() - c0, "wall_s": time.perf_counter() - t0,
           "peak_bytes": _rss_bytes("VmHWM") - rss0, "strides": len(result.cycles),
           "used": int(result.cycles["used"].sum()), "warnings": len(result.warnings)}
    if cycles_out is not None:
        result.cycles.to_pickle(cycles_out)
    conn.send(out)
    conn.close()


def run_command(path: Path, out: Path) -> dict:
    """``imugait analyze path --no-calibration --out out`` in a child pinned to one CPU: its
    maximum resident set (bytes), CPU time (user + system), strides found and used."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cpu = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    proc = subprocess.Popen([sys.executable, "-m", "imugait", "analyze", str(path), "--no-calibration", "--out", str(out)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu})))
    _, status, usage = os.wait4(proc.pid, 0)
    stderr = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"imugait analyze failed: {stderr.strip()[-500:]}")
    result = json.loads(out.read_text())
    out.unlink()
    return {"peak_bytes": usage.ru_maxrss * 1024.0, "cpu_s": usage.ru_utime + usage.ru_stime,
            "strides": len(result["cycles"]), "used": sum(1 for c in result["cycles"] if c.get("used")),
            "windows": len(result["chunked"]["windows"]) if result.get("chunked") else None}


def differences(whole: pd.DataFrame, chunked: pd.DataFrame) -> tuple[str, list[list[str]]]:
    """Stride matching (same side, initial contact within 20 ms) and the largest and 95th-percentile
    absolute difference of each metric over the strides both used."""
    rows, matched, total, same_use = [], 0, 0, 0
    columns = [c for c in whole.columns if c.endswith(("_deg", "_s", "_pct", "_per_min")) and not c.startswith("t_")]
    diffs: dict[str, list[np.ndarray]] = {c: [] for c in columns}
    for side in whole["side"].unique():
        a, b = whole[whole["side"] == side], chunked[chunked["side"] == side]
        ta, tb = a["t_initial_contact_s"].to_numpy(), b["t_initial_contact_s"].to_numpy()
        j = np.clip(np.searchsorted(tb, ta), 1, len(tb) - 1)
        j = np.where(np.abs(tb[j - 1] - ta) < np.abs(tb[j] - ta), j - 1, j)
        ok = np.abs(tb[j] - ta) < 0.02
        matched, total = matched + int(ok.sum()), total + len(ta)
        aa, bb = a[ok].reset_index(drop=True), b.iloc[j[ok]].reset_index(drop=True)
        same_use += int(((aa["used"] == bb["used"]) & (aa["exclusion"] == bb["exclusion"])).sum())
        both = (aa["used"] & bb["used"]).to_numpy()
        for c in columns:
            diffs[c].append(np.abs(aa[c].to_numpy()[both] - bb[c].to_numpy()[both]))
    for c in columns:
        d = np.concatenate(diffs[c])
        d = d[np.isfinite(d)]
        if d.size:
            rows.append([c, f"{d.max():.3g}", f"{np.percentile(d, 95):.3g}"])
    summary = (f"{matched} of {total} strides of the whole analysis found in the chunked one ({len(chunked)} strides), "
               f"{same_use} of them with the same use/exclusion")
    return summary, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 2.0, 4.0, 8.0])
    parser.add_argument("--chunk-minutes", type=float, default=30.0)
    parser.add_argument("--overlap-s", type=float, default=120.0)
    parser.add_argument("--whole", action="store_true", help="also the whole-recording analysis of each length")
    parser.add_argument("--command", action="store_true",
                        help="also `imugait analyze FILE --no-calibration` itself on each length (whole process)")
    args = parser.parse_args()
    block = block_session(5.0, rate_hz=RATE_HZ)
    rows, compare, command_rows = [], None, []
    with tempfile.TemporaryDirectory() as tmp:
        for hours in args.hours:
            session = tile(block, hours * 3600.0)
            raw = raw_bytes(session)
            path = write_session(session, Path(tmp) / f"{hours:g}h.imugait")
            del session
            runs = [("chunked", True)] + ([("whole", False)] if args.whole else [])
            out = {}
            for name, chunked in runs:
                cycles = Path(tmp) / f"{hours:g}h-{name}.pkl" if args.whole else None
                out[name] = in_fresh_process(_run, path, chunked, args.chunk_minutes * 60.0, args.overlap_s, cycles)
                r = out[name]
                rows.append([f"{hours:g} h, {name}", f"{raw / 2**20:.0f} MiB", f"{r['peak_bytes'] / 2**20:.0f} MiB",
                             f"{r['peak_bytes'] / raw:.2f}×", f"{r['cpu_s']:.1f} s", f"{r['wall_s']:.1f} s",
                             f"{r['strides']} ({r['used']} used)"])
            if args.command:
                r = run_command(path, Path(tmp) / "result.json")
                command_rows.append([f"{hours:g} h", "chunked" if r["windows"] else "whole",
                                     "—" if r["windows"] is None else str(r["windows"]),
                                     f"{r['peak_bytes'] / 2**20:.0f} MiB", f"{r['cpu_s']:.1f} s",
                                     f"{r['strides']} ({r['used']} used)"])
            if args.whole and compare is None:
                compare = (hours, *differences(pd.read_pickle(Path(tmp) / f"{hours:g}h-whole.pkl"),
                                               pd.read_pickle(Path(tmp) / f"{hours:g}h-chunked.pkl")))
            path.unlink()
    print(f"Long recordings, chunked analysis; {machine()}; one CPU; {dt.date.today()}; load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"Windows: {args.chunk_minutes:g}-min cores, {args.overlap_s:g} s either side; tiled 5-min simulated block, "
          f"4 sensors at {RATE_HZ:g} Hz\n")
    print(markdown_table(["recording, analysis", "raw samples", "peak resident set (above start)", "÷ raw samples",
                          "CPU time", "wall time", "strides"], rows))
    if command_rows:
        print("\n`imugait analyze FILE --no-calibration --out r.json` (a child process; the whole process's memory)\n")
        print(markdown_table(["recording", "analysis", "windows", "maximum resident set", "CPU time (user + system)",
                              "strides"], command_rows))
    if compare is not None:
        hours, summary, diff_rows = compare
        print(f"\nChunked vs whole on {hours:g} h: {summary}\n")
        print(markdown_table(["metric", "largest |difference|", "95th percentile"], diff_rows))


if __name__ == "__main__":
    main()
