"""End-to-end analysis speed: one hour of four sensors at 200 Hz, from a native session file to
per-stride metrics, on one core; the default path (VQF offline) and the ahrs Madgwick filter.

Reproduce (from the repository root; ≈ 3 min; prints a Markdown table)::

    .venv/bin/python benchmarks/pipeline_speed.py
    .venv/bin/python benchmarks/pipeline_speed.py --hours 0.25 --madgwick-minutes 5   # quicker

How the hour is made (said so in the output): simulating an hour takes long, so the simulator
makes ``--block-minutes`` (default 5) of walking — stand, 9 straight bouts with 8 turns (an even
number, so the walker ends facing the way it started), stand — at 200 Hz with the default sensor
errors, and the block is tiled end to end (each copy shifted by the block's duration) into one
session of the requested length. The session is written in the native format and the timed part
is ``read_session`` + ``analyze_session`` (fuse, calibrate, angles, events, strides, metrics).
The process is pinned to one CPU and BLAS/OpenMP to one thread. The Madgwick path is a
pure-Python per-sample filter: it is timed on ``--madgwick-minutes`` of the tiled data and
extrapolated linearly to the full length (its cost is linear in the samples; the table says
which rows are extrapolated).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _common import machine, markdown_table  # noqa: E402

from imugait.analysis import AnalysisConfig, analyze_session  # noqa: E402
from imugait.fusion import FilterKind  # noqa: E402
from imugait.io import read_session, write_session  # noqa: E402
from imugait.model import Gap, ImuStream, ProtocolStep, Session, SessionMeta  # noqa: E402
from imugait.simulate import SimulationConfig, simulate, walking_test  # noqa: E402

RATE_HZ = 200.0
TARGET_S = 10.0
"""Issue target for the default path: one hour of four sensors in under 10 s on one core."""


def block_session(minutes: float, seed: int = 7) -> Session:
    stand_s, turn_s, n_bouts = 5.0, 2.5, 9
    bout_s = (minutes * 60.0 - 2 * stand_s - (n_bouts - 1) * turn_s) / n_bouts
    config = SimulationConfig(timeline=walking_test(n_bouts, bout_s, stand_s, turn_s), sample_rate_hz=RATE_HZ, seed=seed)
    return simulate(config).session


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


def timed_run(path: Path, kind: FilterKind) -> tuple[float, dict[str, float], object, float]:
    """Wall time of read + analyse, the time per stage, the result, and the process's CPU time
    (user + system) over the same span — on a shared machine the fairer figure."""
    marks: list[tuple[str, float]] = []
    c0 = time.process_time()
    t0 = time.perf_counter()
    session = read_session(path)
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
    return t_end - t0, stages, result, cpu_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="length of the tiled session, h (default 1)")
    parser.add_argument("--block-minutes", type=float, default=5.0, help="simulated block that is tiled (default 5)")
    parser.add_argument("--madgwick-minutes", type=float, default=10.0, help="Madgwick timed on this much (default 10)")
    args = parser.parse_args()
    total_s = args.hours * 3600.0

    t0 = time.perf_counter()
    block = block_session(args.block_minutes)
    t_sim = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        hour = tile(block, total_s)
        n_samples = sum(st.n_samples for st in hour.streams)
        full_path = write_session(hour, Path(tmp) / "hour.imugait")
        del hour
        short_s = min(args.madgwick_minutes * 60.0, total_s)
        short_path = write_session(tile(block, short_s), Path(tmp) / "short.imugait")
        size_mb = full_path.stat().st_size / 1e6
        t_default, stages, result, cpu_default = timed_run(full_path, FilterKind.VQF_OFFLINE)
        t_default_short, _, _, cpu_default_short = timed_run(short_path, FilterKind.VQF_OFFLINE)
        t_madgwick_short, m_stages, _, cpu_madgwick_short = timed_run(short_path, FilterKind.MADGWICK)
    scale = total_s / short_s
    used = int(result.cycles["used"].sum())

    print(f"End-to-end analysis speed; {machine()}; one CPU; {dt.date.today()}")
    print(f"{args.hours:g} h × 4 sensors at {RATE_HZ:g} Hz = {n_samples:,} samples: a {args.block_minutes:g}-min simulated "
          f"block (simulated in {t_sim:.1f} s) tiled ×{total_s / (args.block_minutes * 60):.0f}; native file {size_mb:.0f} MB; "
          f"{used} strides used\n")
    rows = [
        ["VQF offline (default), measured", f"{t_default:.1f} s", f"{cpu_default:.1f} s", "1.00",
         "**met**" if t_default < TARGET_S else f"**missed** by {t_default - TARGET_S:.1f} s"],
        [f"VQF offline, {short_s / 60:g} min measured × {scale:g} (linear extrapolation)", f"{t_default_short * scale:.1f} s",
         f"{cpu_default_short * scale:.1f} s", "1.00", f"(measured ÷ extrapolated = {t_default / (t_default_short * scale):.2f})"],
        [f"ahrs Madgwick, {short_s / 60:g} min measured × {scale:g} (linear extrapolation)", f"{t_madgwick_short * scale:.0f} s",
         f"{cpu_madgwick_short * scale:.0f} s", f"{t_madgwick_short / t_default_short:.1f}", "—"],
    ]
    print(markdown_table([f"pipeline ({args.hours:g} h, read + analyse)", "wall time", "CPU time", "÷ default (same method)",
                          f"target < {TARGET_S:g} s (wall)"],
                         rows))
    print("\nWhere the default path spends its time (measured hour):\n")
    print(markdown_table(["stage", "time"], [[k, f"{v:.2f} s"] for k, v in stages.items()]))
    print(f"\nMadgwick ({short_s / 60:g} min): " + ", ".join(f"{k} {v:.1f} s" for k, v in m_stages.items()))


if __name__ == "__main__":
    main()
