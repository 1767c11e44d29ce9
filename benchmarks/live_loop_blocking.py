"""How long the live calibration blocks an event loop that feeds and polls the live pipeline, with
the calibration run on the loop, in a worker thread or in a worker process.

Reproduce (from the repository root; about 30 s of real time per mode)::

    .venv/bin/python benchmarks/live_loop_blocking.py
    .venv/bin/python benchmarks/live_loop_blocking.py --modes loop thread --until-s 26

The benchmark's walking test (``tests/live/conftest.SIMULATION``: standing, then walking; four
sensors at 200 Hz) is played in real time on an asyncio loop — each sensor's 20-ms blocks fed when
their data time has come, a poll every 25 ms (as the dashboard), and a ticker that wakes every
millisecond. Until ``--until-s`` of data (both legs calibrate at about 20.5 and 21 s). Per mode:

* the longest gap between two ticks, in real time, and the CPU time the loop's thread spent in
  it (``time.thread_time``: what the loop itself was busy with, independent of the machine's load;
  the real-time gap also holds waits for the interpreter lock and for the CPU);
* the longest single ``feed`` or ``poll`` call, in the loop thread's CPU time;
* the data time at which each leg's calibration came (decided at about 20.5 and 21 s);
* the CPU of the whole run (the process and, in process mode, its worker), per second of data.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The data-time benchmark's set-up: one BLAS thread, the live tests' walking test, the same blocks.
from live_pipeline import BLOCK_S, SIMULATION, markdown_table  # noqa: E402

from imugait.live.kinematics import LiveConfig, LiveKinematics  # noqa: E402
from imugait.live.updates import CalibrationPhase  # noqa: E402
from imugait.simulate import simulate  # noqa: E402

POLL_S = 0.025
TICK_S = 0.001


def blocks_of(session) -> list:
    """The session's blocks in the order ``feed_session`` gives them."""
    collector = LiveKinematics(list(session), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    blocks: list = []
    collector.feed = blocks.append
    collector.feed_session(session, BLOCK_S)
    return blocks


def _cpu_s(children: bool) -> float:
    usage = [resource.getrusage(resource.RUSAGE_SELF)] + ([resource.getrusage(resource.RUSAGE_CHILDREN)]
                                                           if children else [])
    return sum(u.ru_utime + u.ru_stime for u in usage)


async def _play(live: LiveKinematics, blocks: list, until_s: float) -> dict:
    t0_data = float(blocks[0].t_s[0])
    gaps: list[tuple[float, float]] = []  # (real s, loop-thread CPU s) between ticks
    calls: list[float] = []
    calibrated_at: dict = {}
    done = asyncio.Event()

    async def ticker() -> None:
        last, last_cpu = time.perf_counter(), time.thread_time()
        while not done.is_set():
            await asyncio.sleep(TICK_S)
            now, cpu = time.perf_counter(), time.thread_time()
            gaps.append((now - last, cpu - last_cpu))
            last, last_cpu = now, cpu

    def timed(fn, *args):
        c0 = time.thread_time()
        out = fn(*args)
        calls.append(time.thread_time() - c0)
        return out

    async def poller() -> None:
        while not done.is_set():
            update = timed(live.poll)
            for state in update.calibration:
                if state.phase is CalibrationPhase.CALIBRATED:
                    calibrated_at.setdefault(state.side, update.t_s)
            await asyncio.sleep(POLL_S)

    async def feeder() -> None:
        start = time.perf_counter()
        for block in blocks:
            t_data = float(block.t_s[-1]) - t0_data
            if t_data > until_s:
                break
            # (always yielding: a real loop hands each chunk over in a callback of its own, so a
            # feeder that has fallen behind does not run its blocks back to back)
            await asyncio.sleep(max(start + t_data - time.perf_counter(), 0.0))
            timed(live.feed, block)
        done.set()

    await asyncio.gather(ticker(), poller(), feeder())
    return {"gaps": gaps, "calls": calls, "calibrated_at": calibrated_at}


def measure(mode: str, blocks: list, until_s: float) -> list:
    executor = {"loop": None, "thread": lambda: ThreadPoolExecutor(1, thread_name_prefix="calibration"),
                "process": lambda: ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))}[mode]
    pool = executor() if executor else None
    if isinstance(pool, ProcessPoolExecutor):
        pool.submit(sum, ()).result()  # the worker started before the run (its start is not the fit's)
    placements = sorted({b.placement for b in blocks}, key=lambda p: p.value)
    live = LiveKinematics(placements, LiveConfig(rate_hz=SIMULATION.sample_rate_hz), calibrate_with=pool)
    cpu0 = _cpu_s(children=True)
    result = asyncio.run(_play(live, blocks, until_s))
    if pool is not None:
        pool.shutdown()
    cpu_s = _cpu_s(children=True) - cpu0
    gap_s, gap_cpu_s = max(result["gaps"])
    longest_cpu_gap = max(c for _, c in result["gaps"])
    ticks = [g for g, _ in result["gaps"]]
    p99 = sorted(ticks)[int(0.99 * len(ticks))]
    at = result["calibrated_at"]
    return [mode, f"{gap_s * 1e3:.0f}", f"{gap_cpu_s * 1e3:.0f}", f"{longest_cpu_gap * 1e3:.0f}",
            f"{p99 * 1e3:.1f}", f"{max(result['calls']) * 1e3:.0f}",
            ", ".join(f"{s.value} {t:.2f} s" for s, t in sorted(at.items(), key=lambda x: x[0].value)),
            f"{cpu_s / until_s:.3f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", default=["loop", "thread", "process"],
                        choices=["loop", "thread", "process"])
    parser.add_argument("--until-s", type=float, default=26.0, help="data seconds played")
    args = parser.parse_args()
    blocks = blocks_of(simulate(SIMULATION).session)
    rows = [measure(mode, blocks, args.until_s) for mode in args.modes]
    print(markdown_table(["calibration runs", "longest tick gap, ms", "loop CPU in it, ms",
                          "most loop CPU between ticks, ms", "tick gap p99, ms", "longest feed/poll, loop CPU ms",
                          "legs calibrated at (data)", "CPU s per s of data"], rows))


if __name__ == "__main__":
    main()
