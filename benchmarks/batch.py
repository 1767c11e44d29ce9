"""Batch throughput: N simulated 5-minute sessions analysed by ``imugait batch`` on a local Dask
cluster with 1 and with 2 worker processes, against a plain loop over ``analyze_session``.

Reproduce (from the repository root; prints Markdown tables)::

    .venv/bin/python benchmarks/batch.py                    # 200 sessions (issue 12's size)
    .venv/bin/python benchmarks/batch.py --sessions 40      # quicker

How the sessions are made (said so in the output): simulating 200 five-minute walks would take
longer than analysing them, so ``--distinct`` (default 8) walkers are simulated (seeded,
different walkers) and written, each copied to ``--sessions / --distinct`` files; every file is a
separate session to the batch (own id, own result) and costs a full analysis.

Timed, each on the same files, one after another:

* **loop**: ``read_session`` + ``analyze_session`` for every file, in this process (nothing
  written; one BLAS thread, like the workers);
* **batch, 1 worker / 2 workers**: :func:`imugait.batch.run_batch` into a fresh output folder on
  a ``LocalCluster`` of worker processes with one thread each (results written, tables and the
  cohort page rebuilt, which is counted). The cluster's start-up is timed apart and not in the
  throughput; the tables + cohort page column is that last step timed again on its own.

Overhead = batch with 1 worker ÷ loop − 1 (wall time). CPU time is given too: the loop's whole
process, and for batch the sum over sessions of each task thread's CPU time (``analysis_cpu_s`` of
its record: read, analyse, write) — on a shared machine wall time depends on what else runs, the
CPU time much less.
"""

from __future__ import annotations

import os

# One BLAS/OpenMP thread, as Dask gives its workers: the loop and the workers run alike.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from _common import block_session, machine, markdown_table  # noqa: E402

from imugait.analysis import analyze_session  # noqa: E402
from imugait.batch import TaskSettings, collect_inputs, dask_client, finish, read_records, run_batch  # noqa: E402
from imugait.io import read_session, write_session  # noqa: E402

TARGET_SPEEDUP = 1.8
"""Issue 12: 2 workers at least 1.8× the sessions per minute of 1."""
TARGET_OVERHEAD = 0.10
"""Issue 12: batch with 1 worker at most 10 % slower than a plain loop over analyze_session."""


def make_sessions(folder: Path, n: int, distinct: int, minutes: float, rate_hz: float) -> list[Path]:
    paths = []
    for k in range(distinct):
        session = block_session(minutes, seed=100 + k, rate_hz=rate_hz, subject_id=f"S{k:03d}")
        for j in range(k, n, distinct):
            paths.append(write_session(session, folder / f"session{j:04d}.parquet"))
    return sorted(paths)


def time_loop(paths: list[Path]) -> tuple[float, float]:
    """(wall s, CPU s) of read + analyse over every file."""
    t0, c0 = time.perf_counter(), time.process_time()
    for p in paths:
        analyze_session(read_session(p))
    return time.perf_counter() - t0, time.process_time() - c0


def time_batch(paths: list[Path], workers: int, out: Path) -> tuple[float, float, float, int, float]:
    """(cluster start-up s, analysis s, tables + cohort page s, failed sessions, summed CPU s of
    the sessions' tasks on the workers)."""
    t0 = time.perf_counter()
    with dask_client(workers=workers) as client:
        client.wait_for_workers(workers)
        t_start = time.perf_counter() - t0
        t1 = time.perf_counter()
        # run_batch ends by rebuilding the tables and the cohort page (counted in its time); that
        # part is timed once more on its own after the run, to show its share.
        report = run_batch(client, collect_inputs(paths), TaskSettings(out))
        t_run = time.perf_counter() - t1
    t2 = time.perf_counter()
    records = read_records(out)
    finish(out)
    t_finish = time.perf_counter() - t2
    task_cpu = sum(r.get("analysis_cpu_s", 0.0) for r in records)
    return t_start, t_run, t_finish, len(report.failed), task_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200, help="sessions to analyse (default 200)")
    parser.add_argument("--distinct", type=int, default=8, help="distinct simulated walkers (default 8)")
    parser.add_argument("--minutes", type=float, default=5.0, help="length of a session (default 5)")
    parser.add_argument("--rate-hz", type=float, default=100.0, help="sample rate (default 100)")
    args = parser.parse_args()
    distinct = min(args.distinct, args.sessions)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        t0 = time.perf_counter()
        paths = make_sessions(root / "in", args.sessions, distinct, args.minutes, args.rate_hz)
        t_make = time.perf_counter() - t0
        t_loop, cpu_loop = time_loop(paths)
        runs = {w: time_batch(paths, w, root / f"out{w}") for w in (1, 2)}

    n = len(paths)
    per_min = {w: 60.0 * n / r[1] for w, r in runs.items()}
    loop_per_min = 60.0 * n / t_loop
    print(f"Batch throughput; {machine()}; {os.cpu_count()} CPUs (shared: other work was running); {dt.date.today()}")
    print(f"{n} sessions of {args.minutes:g} min × 4 sensors at {args.rate_hz:g} Hz: {distinct} simulated walkers, "
          f"each copied to {n // distinct}–{-(-n // distinct)} files (made in {t_make:.0f} s)\n")
    rows = [["plain loop over analyze_session (1 process)", f"{t_loop:.0f} s", f"{loop_per_min:.1f}",
             f"{cpu_loop:.0f} s (whole process)", "—", "—", "—"]]
    for w, (t_start, t_run, t_finish, failed, task_cpu) in runs.items():
        rows.append([f"imugait batch, {w} worker{'s' if w > 1 else ''}", f"{t_run:.0f} s", f"{per_min[w]:.1f}",
                     f"{task_cpu:.0f} s (sum of tasks)", f"{t_start:.1f} s", f"{t_finish:.1f} s", str(failed)])
    print(markdown_table(["run", "analysis wall time", "sessions/min", "CPU time", "cluster start-up",
                          "tables + cohort page", "failed"], rows))
    speedup = per_min[2] / per_min[1]
    overhead = runs[1][1] / t_loop - 1.0
    print(f"\nbatch CPU per session (sum of tasks, 1 worker) ÷ loop CPU per session: {runs[1][4] / cpu_loop:.2f}")
    print(f"\n2 workers ÷ 1 worker: **{speedup:.2f}×** (target ≥ {TARGET_SPEEDUP:g}×: "
          f"{'met' if speedup >= TARGET_SPEEDUP else 'missed'})")
    print(f"batch (1 worker) vs plain loop: **{overhead * 100:+.1f} %** (target ≤ {TARGET_OVERHEAD * 100:.0f} %: "
          f"{'met' if overhead <= TARGET_OVERHEAD else 'missed'}); it also writes every session's strides and record, "
          f"which the loop does not")


if __name__ == "__main__":
    main()
