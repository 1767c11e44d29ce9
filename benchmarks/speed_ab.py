"""A/B speed of the default pipeline: another revision's imugait against this checkout's, on the
same tiled session, alternating, each run a fresh process pinned to one CPU; and whether the
per-stride tables and the per-sample angles (``angles_frame``) agree.

Reproduce (from the repository root)::

    .venv/bin/python benchmarks/speed_ab.py --rev main --hours 1 --repeat 2
    .venv/bin/python benchmarks/speed_ab.py --rev main --hours 1 --repeat 2 --loss-probability 0.005   # lossy sensors

The other revision's ``imugait/`` is taken with ``git archive REV imugait`` into a temporary
folder and put first on ``PYTHONPATH`` of its runs. The session is made as in
``pipeline_speed.py`` (a simulated block tiled to ``--hours``; with ``--loss-probability`` its
sensors lose bursts of samples, mean 2, as a radio link does: ≈ 1 % of the samples at 0.005) and
written by each revision's own ``write_session`` (the file format's cost is part of reading: the
codec changed on 2026-12-05); each revision reads its own file, as its ``imugait analyze`` does
(with ``motion_only=True`` where its ``read_session`` has that option: no magnetometer).
CPU time (user + system) is the figure to compare on a shared machine; the best of ``--repeat``
runs of each is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _common import block_session, markdown_table
from pipeline_speed import RATE_HZ, tile

ROOT = Path(__file__).resolve().parents[1]
CHILD = r"""
import inspect, json, os, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
import imugait
from imugait.analysis import analyze_session
from imugait.io import read_session
# as `imugait analyze` reads the file: only what the 6-axis fusion uses, where the reader can
motion = {"motion_only": True} if "motion_only" in inspect.signature(read_session).parameters else {}
c, w = time.process_time(), time.perf_counter()
result = analyze_session(read_session(sys.argv[1], **motion))
print(json.dumps({"cpu_s": time.process_time() - c, "wall_s": time.perf_counter() - w, "imugait": imugait.__file__}))
result.cycles.to_pickle(sys.argv[2])
result.angles_frame().to_pickle(sys.argv[3])
"""
WRITER = r"""
import pickle, sys
from imugait.io import write_session
with open(sys.argv[1], "rb") as f:
    write_session(pickle.load(f), sys.argv[2])
"""


def child_env(root: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(root), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def run(root: Path, session: Path, cycles: Path, angles: Path) -> dict:
    env = child_env(root)
    # Not from the checkout's folder: ``python -c`` puts the working directory first on sys.path,
    # ahead of PYTHONPATH, and every run would import the checkout's imugait.
    out = subprocess.run([sys.executable, "-c", CHILD, str(session), str(cycles), str(angles)], env=env, capture_output=True,
                         text=True, check=True, cwd=session.parent)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(result["imugait"]).resolve().is_relative_to(root.resolve()):
        raise RuntimeError(f"the run meant for {root} imported {result['imugait']}")
    return result


def largest_difference(a: pd.DataFrame, b: pd.DataFrame) -> str:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return f"tables differ in shape or columns ({a.shape} vs {b.shape})"
    worst = 0.0
    for col in a.columns:
        if a[col].dtype.kind == "f":
            x, y = a[col].to_numpy(float), b[col].to_numpy(float)
            if not np.array_equal(np.isnan(x), np.isnan(y)):
                return f"{col}: NaN in different strides"
            worst = max(worst, float(np.nanmax(np.abs(x - y), initial=0.0)))
        elif a[col].tolist() != b[col].tolist():
            return f"{col} differs"
    return f"same strides and columns; largest difference {worst:.1e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="main", help="the revision to compare with (default main)")
    parser.add_argument("--hours", type=float, default=1.0, help="length of the tiled session, h (default 1)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each, alternating (default 2)")
    parser.add_argument("--loss-probability", type=float, default=0.0,
                        help="per sample, of starting a lost burst (mean 2 samples) in the simulated block (default 0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = subprocess.run(["git", "archive", args.rev, "imugait"], cwd=ROOT, capture_output=True, check=True)
        (tmp / "other.tar").write_bytes(archive.stdout)
        with tarfile.open(tmp / "other.tar") as tar:
            tar.extractall(tmp / "other", filter="data")
        block = block_session(5.0, rate_hz=RATE_HZ, loss_probability=args.loss_probability)
        with open(tmp / "session.pkl", "wb") as f:
            pickle.dump(tile(block, args.hours * 3600.0), f)
        roots = {args.rev: tmp / "other", "this checkout": ROOT}
        files = {name: tmp / f"s_{k}.parquet" for k, name in enumerate(roots)}
        for name, root in roots.items():
            subprocess.run([sys.executable, "-c", WRITER, str(tmp / "session.pkl"), str(files[name])], env=child_env(root),
                           check=True, cwd=tmp)
        sizes = {name: files[name].stat().st_size for name in roots}
        runs: dict[str, list[dict]] = {name: [] for name in roots}
        for _ in range(args.repeat):
            for k, (name, root) in enumerate(roots.items()):
                runs[name].append(run(root, files[name], tmp / f"cycles_{k}.pkl", tmp / f"angles_{k}.pkl"))
        agree = largest_difference(pd.read_pickle(tmp / "cycles_0.pkl"), pd.read_pickle(tmp / "cycles_1.pkl"))
        agree_angles = largest_difference(pd.read_pickle(tmp / "angles_0.pkl"), pd.read_pickle(tmp / "angles_1.pkl"))
    best = {name: min(r["cpu_s"] for r in rs) for name, rs in runs.items()}
    median = {name: float(np.median([r["cpu_s"] for r in rs])) for name, rs in runs.items()}
    lossy = f", lost bursts started with probability {args.loss_probability:g} a sample" if args.loss_probability else ""
    print(f"Default pipeline, {args.hours:g} h × 4 sensors at {RATE_HZ:g} Hz{lossy}, read + analyse, one CPU, "
          f"{args.repeat} runs each\n")
    print(markdown_table(["imugait", "CPU time (best)", "CPU time (median)", "CPU times (in order)", "wall time (best)",
                          "÷ " + args.rev + " (best)", "÷ " + args.rev + " (median)"],
                         [[name, f"{best[name]:.2f} s", f"{median[name]:.2f} s", ", ".join(f"{r['cpu_s']:.2f}" for r in rs),
                           f"{min(r['wall_s'] for r in rs):.2f} s", f"{best[name] / best[args.rev]:.2f}",
                           f"{median[name] / median[args.rev]:.2f}"] for name, rs in runs.items()]))
    print("\nfile sizes (each revision's writer): " + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes.items()))
    print(f"per-stride tables: {agree}")
    print(f"per-sample angles: {agree_angles.replace('strides', 'samples')}")


if __name__ == "__main__":
    main()
