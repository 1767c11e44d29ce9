"""End-to-end analysis speed: one hour of four sensors at 200 Hz, from a native session file to
per-stride metrics, on one core; the default path (VQF offline) and the ahrs Madgwick filter.

Reproduce (from the repository root; ≈ 3 min; prints Markdown tables)::

    .venv/bin/python benchmarks/pipeline_speed.py
    .venv/bin/python benchmarks/pipeline_speed.py --hours 0.25 --madgwick-minutes 5   # quicker
    .venv/bin/python benchmarks/pipeline_speed.py --madgwick-minutes 60               # Madgwick measured, not extrapolated
    .venv/bin/python benchmarks/pipeline_speed.py --compare vqf_offline --repeat 2    # another filter on the same hour

How the hour is made (said so in the output): simulating an hour takes long, so the simulator
makes ``--block-minutes`` (default 5) of walking — stand, 9 straight bouts with 8 turns (an even
number, so the walker ends facing the way it started), stand — at 200 Hz with the default sensor
errors, and the block is tiled end to end (each copy shifted by the block's duration) into one
session of the requested length. The session is written in the native format and the timed part
is ``read_session`` + ``analyze_session`` (fuse, calibrate, angles, events, strides, metrics),
the session read with ``motion_only=True`` as ``imugait analyze`` reads it (the magnetometer,
which the 6-axis fusion does not use, is not decoded; since 2026-12-05).
The process is pinned to one CPU and BLAS/OpenMP to one thread. The Madgwick path is a
pure-Python per-sample filter: it is timed on ``--madgwick-minutes`` of the tiled data and
extrapolated linearly to the full length (its cost is linear in the samples; the table says
which rows are extrapolated).

Each timed run is a fresh child process (spawned), so runs do not share caches or memory, and
its **peak memory** is measured: the peak resident set (Linux ``VmHWM``, reset after the imports
through ``/proc/self/clear_refs``) minus the resident set before reading, compared with the raw
sample data (the bytes of every stream's ``t_s``, acc, gyr, mag and quaternion arrays).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _common import block_session, machine, markdown_table  # noqa: E402

from imugait.analysis import AnalysisConfig, analyze_session  # noqa: E402
from imugait.fusion import FilterKind  # noqa: E402
from imugait.io import read_session, write_session  # noqa: E402
from imugait.model import Gap, ImuStream, ProtocolStep, Session, SessionMeta  # noqa: E402

RATE_HZ = 200.0
TARGET_S = 3.0
"""Issue target for the default path: one hour of four sensors in at most 3 s on one core
(issue 12; it was 10 s before)."""
TARGET_MEMORY_RATIO = 3.0
"""Issue target: peak memory at most 3× the raw sample data."""


def tile(block: Session, total_s: float) -> Session:
    """``block`` repeated end to end (copy k shifted by k × its duration) up to ``total_s``."""
    period_s = max(s.t_s[-1] for s in block.streams) + 1.0 / RATE_HZ
    n_copies = int(np.ceil(total_s / period_s))
    streams = []
    for s in block.streams:
        keep = [np.flatnonzero(s.t_s + k * period_s < total_s) for k in range(n_copies)]
        gaps = tuple(Gap(g.after_index + k * s.n_samples, g.n_lost) for k in range(n_copies) for g in s.gaps
                     if g.after_index + 1 < keep[k].size)
        streams.append(ImuStream(
            placement=s.placement, sample_rate_hz=s.sample_rate_hz, device=s.device, gaps=gaps,
            t_s=np.concatenate([s.t_s[i] + k * period_s for k, i in enumerate(keep)]),
            acc_mps2=np.concatenate([s.acc_mps2[i] for i in keep]),
            gyr_radps=np.concatenate([s.gyr_radps[i] for i in keep]),
            mag_uT=None if s.mag_uT is None else np.concatenate([s.mag_uT[i] for i in keep]),
        ))
    steps = tuple(ProtocolStep(f"{st.name}_{k}" if not st.name.startswith("stand") else st.name,
                               st.t_start_s + k * period_s, min(st.t_end_s + k * period_s, total_s))
                  for k in range(n_copies) for st in block.meta.steps if st.t_start_s + k * period_s < total_s)
    meta = SessionMeta(subject_id="speed", recorded_at=block.meta.recorded_at, steps=steps, source="simulate (tiled)")
    return Session(streams, meta)


def timed_run(path: Path, kind: FilterKind) -> dict:
    """Read + analyse ``path`` in this process: wall time, CPU time (user + system: on a shared
    machine the fairer figure), time per stage, strides used and the peak memory increase."""
    _reset_peak_rss()
    rss0 = _rss_bytes("VmRSS")
    marks: list[tuple[str, float]] = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    session = read_session(path, motion_only=True)  # as `imugait analyze` reads it: the fusion is 6-axis
    marks.append(("read native file", time.perf_counter()))
    result = analyze_session(session, AnalysisConfig(filter_kind=kind), progress=lambda s: marks.append((s, time.perf_counter())))
    t_end = time.perf_counter()
    cpu_s = time.process_time() - c0
    stages: dict[str, float] = {}
    bounds = [("start", t0), *marks, ("end", t_end)]
    for (name, a), (_, b) in zip(bounds[:-1], bounds[1:], strict=True):
        key = "read native file" if name == "start" else ("calibrate + angles + events (per leg)" if name.startswith("calibrating")
                                                          else name)
        stages[key] = stages.get(key, 0.0) + (b - a)
    peak = _rss_bytes("VmHWM") - rss0 if rss0 else float("nan")
    return {"wall_s": t_end - t0, "cpu_s": cpu_s, "stages": stages, "used": int(result.cycles["used"].sum()),
            "peak_bytes": peak}


def _child(path: Path, kind: FilterKind, conn) -> None:
    conn.send(timed_run(path, kind))
    conn.close()


def measured(path: Path, kind: FilterKind) -> dict:
    """:func:`timed_run` in a fresh spawned process (pinned to one CPU like this one)."""
    return in_fresh_process(_child, path, kind)


def in_fresh_process(target, *args):
    """``target(*args, conn)`` in a fresh spawned process; what it sends through ``conn``."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, child))
    proc.start()
    out = parent.recv()
    proc.join()
    return out


def _reset_peak_rss() -> None:
    try:  # Linux: "5" resets the peak resident set size (VmHWM) to the current one
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _rss_bytes(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` of this process from /proc (Linux), bytes; else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024.0 if field == "VmHWM" else 0.0


def raw_bytes(session: Session) -> int:
    """Bytes of the sample arrays: t_s, acc, gyr and, where present, mag and quaternions."""
    return sum(a.nbytes for s in session.streams
               for a in (s.t_s, s.acc_mps2, s.gyr_radps, s.mag_uT, s.q_world_sensor) if a is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="length of the tiled session, h (default 1)")
    parser.add_argument("--block-minutes", type=float, default=5.0, help="simulated block that is tiled (default 5)")
    parser.add_argument("--madgwick-minutes", type=float, default=10.0,
                        help="Madgwick timed on this much, then extrapolated (default 10; ≥ the session: measured)")
    parser.add_argument("--compare", choices=[k.value for k in FilterKind], metavar="FILTER",
                        help="also time this filter on the whole length, alternating with the default")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --compare: alternate default and FILTER this many times, best CPU of each")
    args = parser.parse_args()
    default_kind = AnalysisConfig().filter_kind
    total_s = args.hours * 3600.0

    t0 = time.perf_counter()
    block = block_session(args.block_minutes, rate_hz=RATE_HZ)
    t_sim = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        hour = tile(block, total_s)
        n_samples = sum(st.n_samples for st in hour.streams)
        raw = raw_bytes(hour)
        full_path = write_session(hour, Path(tmp) / "hour.imugait")
        del hour
        short_s = min(args.madgwick_minutes * 60.0, total_s)
        short_path = full_path if short_s >= total_s else write_session(tile(block, short_s), Path(tmp) / "short.imugait")
        size_mb = full_path.stat().st_size / 1e6
        vqf = measured(full_path, default_kind)
        compared = []
        if args.compare:
            runs = [vqf]
            for i in range(max(args.repeat, 1)):
                compared.append(measured(full_path, FilterKind(args.compare)))
                if i + 1 < args.repeat:
                    runs.append(measured(full_path, default_kind))
            vqf = min(runs, key=lambda r: r["cpu_s"])
        vqf_short = vqf if short_path == full_path else measured(short_path, default_kind)
        madgwick = measured(short_path, FilterKind.MADGWICK)
    scale = total_s / short_s
    extrapolated = scale > 1.0

    print(f"End-to-end analysis speed; {machine()}; one CPU; {dt.date.today()}")
    print(f"{args.hours:g} h × 4 sensors at {RATE_HZ:g} Hz = {n_samples:,} samples ({raw / 1e6:.0f} MB of raw sample "
          f"arrays): a {args.block_minutes:g}-min simulated block (simulated in {t_sim:.1f} s) tiled "
          f"×{total_s / (args.block_minutes * 60):.0f}; native file {size_mb:.0f} MB; {vqf['used']} strides used\n")

    def memory(run: dict, run_raw: float) -> str:
        return f"{run['peak_bytes'] / 1e6:.0f} MB ({run['peak_bytes'] / run_raw:.1f}×)"

    how = f"{short_s / 60:g} min measured × {scale:g} (linear extrapolation)" if extrapolated else "measured"
    ratio = madgwick["wall_s"] / vqf_short["wall_s"]
    rows = [
        [f"{default_kind.value} (default), measured", f"{vqf['wall_s']:.1f} s", f"{vqf['cpu_s']:.1f} s", memory(vqf, raw), "1.00",
         "**met**" if vqf["wall_s"] <= TARGET_S else f"**missed** by {vqf['wall_s'] - TARGET_S:.1f} s"],
    ]
    if extrapolated:
        rows.append([f"{default_kind.value}, {how}", f"{vqf_short['wall_s'] * scale:.1f} s", f"{vqf_short['cpu_s'] * scale:.1f} s",
                     memory(vqf_short, raw / scale), "1.00",
                     f"(measured ÷ extrapolated = {vqf['wall_s'] / (vqf_short['wall_s'] * scale):.2f})"])
    if compared:
        best = min(compared, key=lambda r: r["cpu_s"])
        rows.append([f"{args.compare}, measured (best CPU of {len(compared)})", f"{best['wall_s']:.1f} s",
                     f"{best['cpu_s']:.1f} s", memory(best, raw), f"{best['cpu_s'] / vqf['cpu_s']:.2f} (CPU)",
                     "—"])
    rows.append([f"ahrs Madgwick, {how}", f"{madgwick['wall_s'] * scale:.0f} s", f"{madgwick['cpu_s'] * scale:.0f} s",
                 memory(madgwick, raw / scale), f"{ratio:.1f}", "—"])
    print(markdown_table([f"pipeline ({args.hours:g} h, read + analyse)", "wall time", "CPU time",
                          f"peak memory (÷ raw samples; target ≤ {TARGET_MEMORY_RATIO:g}×)", "÷ default (same length)",
                          f"target ≤ {TARGET_S:g} s (wall)"], rows))
    cpu_ratio = madgwick["cpu_s"] / vqf_short["cpu_s"]
    print(f"\nahrs Madgwick pipeline ÷ default pipeline on the same {short_s / 60:g} min: **{ratio:.1f}×** wall, "
          f"**{cpu_ratio:.1f}×** CPU (issue target ≥ 30×; on a shared machine the CPU ratio is the fairer one; load "
          f"average {os.getloadavg()[0]:.1f})")
    if compared:
        print(f"\nCPU time of each run, in the order run: {default_kind.value} and {args.compare} alternating — "
              + ", ".join(f"{r['cpu_s']:.2f} s" for pair in zip(runs, compared, strict=False) for r in pair))
    print(f"\nWhere the time goes, per stage (wall; default on the measured {args.hours:g} h; Madgwick on "
          f"{short_s / 60:g} min{' and × ' + format(scale, 'g') if extrapolated else ''}):\n")
    names = list(dict.fromkeys([*vqf["stages"], *madgwick["stages"]]))
    print(markdown_table(["stage", f"{default_kind.value} (default)", "ahrs Madgwick", "Madgwick ÷ default"],
                         [[k, f"{vqf['stages'].get(k, 0.0):.2f} s", f"{madgwick['stages'].get(k, 0.0) * scale:.2f} s",
                           _ratio(madgwick["stages"].get(k, 0.0) * scale, vqf["stages"].get(k, 0.0))] for k in names]))


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}" if b > 0.005 else "—"


if __name__ == "__main__":
    main()
