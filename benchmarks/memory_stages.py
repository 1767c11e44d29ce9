"""Peak memory of the default analysis, stage by stage: read + ``analyze_session`` of a tiled
simulated session (or a given session file), on one core.

Reproduce (from the repository root; prints Markdown)::

    .venv/bin/python benchmarks/memory_stages.py                 # 1 h × 4 sensors at 200 Hz
    .venv/bin/python benchmarks/memory_stages.py --hours 8       # the 8-hour question
    .venv/bin/python benchmarks/memory_stages.py --session PATH  # any native session

Two fresh processes, each reading and analysing the session once:

* **resident set** — the peak resident set size of each stage (Linux ``VmHWM``, reset at every
  stage boundary through ``/proc/self/clear_refs``) minus the resident set before reading: what
  the operating system sees, including memory the allocators keep after it was freed (Arrow's
  mimalloc pool, glibc's heap) and memory of C++ code (the VQF filter's internal buffers);
* **live arrays** — the peak of the memory Python and NumPy hold (``tracemalloc``, which NumPy
  reports its array buffers to): what the code itself keeps alive, without allocator slack and
  without C++ buffers.

Both as multiples of the raw sample data (the bytes of every stream's ``t_s``, acc, gyr, mag and
quaternion arrays). Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import tracemalloc
from pathlib import Path

from _common import block_session, machine, markdown_table
from pipeline_speed import RATE_HZ, TARGET_MEMORY_RATIO, in_fresh_process, raw_bytes, tile

from imugait.analysis import analyze_session
from imugait.io import read_session, write_session


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1]) / 1024.0
    raise RuntimeError(f"no {field} in /proc/self/status")


def _stages(path: Path, traced: bool, conn) -> None:
    """Read + analyse ``path``; send [(stage, peak MiB above the start, MiB held at its end)]."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    marks: list[tuple[str, float, float]] = []
    if traced:
        tracemalloc.start()

        def mark(name: str) -> None:
            held, peak = tracemalloc.get_traced_memory()
            marks.append((name, peak / 2**20, held / 2**20))
            tracemalloc.reset_peak()
    else:
        Path("/proc/self/clear_refs").write_text("5")
        base = _status_mib("VmRSS")

        def mark(name: str) -> None:
            marks.append((name, _status_mib("VmHWM") - base, _status_mib("VmRSS") - base))
            Path("/proc/self/clear_refs").write_text("5")

    current = ["read native file"]

    def boundary(next_stage: str) -> None:  # ends the current stage, starts the next
        mark(current[0])
        current[0] = next_stage

    session = read_session(path)
    result = analyze_session(session, progress=boundary)
    boundary("")  # the session and its result still held
    del session, result
    conn.send(marks)
    conn.close()


def measured(path: Path, traced: bool) -> list[tuple[str, float, float]]:
    return in_fresh_process(_stages, path, traced)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="length of the tiled session, h (default 1)")
    parser.add_argument("--session", type=Path, help="a native session file instead of the tiled simulation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.session is None:
            session = tile(block_session(5.0, rate_hz=RATE_HZ), args.hours * 3600.0)
            what = f"{args.hours:g} h × 4 sensors at {RATE_HZ:g} Hz (a 5-min simulated block tiled)"
            path = write_session(session, Path(tmp) / "tiled.imugait")
        else:
            path, what = args.session, str(args.session)
            session = read_session(path)
        raw = raw_bytes(session) / 2**20
        del session
        rss = measured(path, traced=False)
        live = measured(path, traced=True)
    print(f"Peak memory by stage; {machine()}; one CPU; {dt.date.today()}")
    print(f"{what}: {raw:.0f} MiB of raw sample arrays\n")
    rows = [[name, f"{r_peak:.0f} MiB ({r_peak / raw:.2f}×)", f"{r_held:.0f} MiB", f"{l_peak:.0f} MiB ({l_peak / raw:.2f}×)",
             f"{l_held:.0f} MiB"] for (name, r_peak, r_held), (_, l_peak, l_held) in zip(rss, live, strict=True)]
    print(markdown_table(["stage (each until the next)", "resident set: peak (÷ raw)", "resident set at its end",
                          "live arrays: peak (÷ raw)", "live arrays at its end"], rows))
    worst_rss, worst_live = max(r[1] for r in rss), max(r[1] for r in live)
    print(f"\nwhole run: resident set peak {worst_rss:.0f} MiB = **{worst_rss / raw:.2f}×** the raw samples, live arrays "
          f"{worst_live:.0f} MiB = {worst_live / raw:.2f}× (issue target ≤ {TARGET_MEMORY_RATIO:g}×)")


if __name__ == "__main__":
    main()
