"""Run every benchmark in turn and print its tables (``make bench``).

Reproduce (from the repository root)::

    .venv/bin/python benchmarks/run_all.py            # full runs, about 15 min on 2 cores
    .venv/bin/python benchmarks/run_all.py --quick    # smaller runs, a few minutes
    .venv/bin/python benchmarks/run_all.py --only accuracy pipeline_speed

Each benchmark is a separate script with its own options (see its docstring); this runner only
chooses between their default sizes and a quick size, runs them one after another in fresh
processes (so that one's CPU pinning does not affect the next), and says which failed. Datasets
are read from ``../shared/datasets``; a benchmark whose data are missing says so and is skipped.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name: (full arguments, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "decoders": ([], ["--samples", "50000", "--repeat", "1"]),
    "fusion_speed": ([], ["--seconds", "20", "--repeat", "1"]),
    "fusion_broad": ([], ["--max-seconds", "60"]),
    "streaming": ([], ["--duration", "15"]),
    "dashboard_latency": ([], ["--duration", "30"]),
    "soak": ([], ["--minutes", "5"]),
    "demo_strides": ([], []),
    "pipeline_speed": (["--madgwick-minutes", "2"], ["--hours", "0.25", "--madgwick-minutes", "1"]),
    "live_pipeline": (["--minutes", "10"], ["--walkers", "1"]),
    "memory_stages": ([], ["--hours", "0.25"]),
    "batch": ([], ["--sessions", "8", "--distinct", "2", "--minutes", "1"]),
    "accuracy": (["--jobs", "2"], ["--quick"]),
    "real_data": ([], []),
    "geneva_hip": ([], []),
    "geneva_contacts": ([], []),
    "report_cohort": (["--jobs", "2"], ["--walkers", "10", "--edge-walkers", "0"]),
    # the 10⁶-input runs of docs/reliability.md take hours on 2 shared cores: run them by hand
    "fuzz": (["--inputs", "20000", "--max-seconds", "60"], ["--inputs", "1000"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs of every benchmark")
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    failed = []
    for i, name in enumerate(names, 1):
        extra = BENCHMARKS[name][1 if args.quick else 0]
        command = [sys.executable, str(HERE / f"{name}.py"), *extra]
        print(f"\n## [{i}/{len(names)}] {name}: {' '.join(command[1:])}\n", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(command, cwd=HERE.parent)
        print(f"\n({name}: {'ok' if rc == 0 else f'FAILED, exit {rc}'} in {time.perf_counter() - t0:.0f} s)", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    print(f"\nall {len(names)} benchmarks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
