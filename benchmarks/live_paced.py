"""The data-time benchmark's exact work, paced in real time: is the live kinematics' real-time cost
over data time our code path or the pacing?

Reproduce (from the repository root; each run a fresh process; ≈ 1 min per paced run)::

    .venv/bin/python benchmarks/live_paced.py                          # reused calibration, 3 rounds
    .venv/bin/python benchmarks/live_paced.py --calibration live       # the live calibration in its worker
    .venv/bin/python benchmarks/live_paced.py --walk emulator          # the real-time benchmarks' walker
    .venv/bin/python benchmarks/live_paced.py --modes data,paced,tick,yield --repeat 3
    .venv/bin/python benchmarks/live_paced.py --modes data,paced,spin --speed 4  # gaps a quarter as long
    .venv/bin/python benchmarks/live_paced.py --modes data --pollute-mib 4       # 4 MiB written between calls

The work is ``benchmarks/live_pipeline.py --cpu-only --poll-s 0.025``'s: the pipeline as
``imugait live`` makes it (``LiveKinematics.for_dashboard``), each sensor's 20-ms blocks fed in
time order, a poll after the block that reaches each 25 ms of data, and the dashboard's own work
per poll (``DashboardState.take``, the arrival stamps, ``delta`` and its JSON). The sequence of
calls is made once, so every mode does the same calls in the same order with the same data;
only *when* each call runs differs:

* ``data`` — one after the other, no waiting (the data-time benchmark);
* ``paced`` — each call at its data time on the wall clock (``time.sleep`` until then): a
  sensor's block when its last sample is due (sensor ``k`` ``k × --stagger-ms`` later, as four
  ports' reads come apart), a poll ``--poll-lag-ms`` after the block that triggers it (a wake-up
  of its own, as the dashboard's push timer); a call never runs before the one before it;
* ``tick`` — paced, but every block due with the poll after it (as if the ports were read at the
  push tick: one wake-up per poll instead of one per block and poll);
* ``yield`` — no pacing, but a sleep of ``--yield-ms`` before every call (a wake-up per call
  without the idle time between calls);
* ``spin`` — paced the same way, but busy-waiting instead of sleeping (the CPU never idles, no
  wake-ups: the idle states apart from the time between calls).

Counted: ``getrusage`` of the whole process over the run, each thread's CPU
(``/proc/self/task/*/schedstat``: the event loop's thread, the calibration worker, others), and
the calls' own CPU (``time.thread_time`` around each call, so not the sleeping or spinning) —
each per second of data. One core (``sched_setaffinity``), BLAS on one thread, the heap frozen
before the stream as ``imugait live``'s loop does. The parent alternates the modes, a fresh
process per run, and prints each run, the medians and each call's CPU by the time since the
previous call ended. Everything computed (every update's JSON, the strides' final versions) is
hashed in every run: with a reused calibration it must agree between all runs; a live calibration
is taken up when its job in the worker is done, which depends on time, so its runs may differ.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import gc  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import threads_cpu_s, voluntary_switches  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BLOCK_S = 0.02
POLL_S = 0.025
IDLE_EDGES_S = (20e-6, 200e-6, 1e-3, 5e-3)
"""Calls are also counted by the time since the previous call ended (< 20 µs, < 200 µs, < 1 ms, < 5 ms, more)."""


def _session(walk: str):
    if walk == "test":  # benchmarks/live_pipeline.py's walking test
        sys.path.insert(0, str(ROOT / "tests" / "live"))
        from conftest import SIMULATION

        from imugait.simulate import simulate

        return simulate(SIMULATION).session
    from imugait.emulate.emulator import walker_simulation

    # The real-time benchmarks' walker (seed 1, 10 s standing at each end).
    return walker_simulation(4, 60.0, sample_rate_hz=200.0, seed=1, stand_s=10.0).session


def _calls(session, stagger_s: float, poll_lag_s: float, feeds_at_polls: bool = False) -> list[tuple[str, float, object]]:
    """(kind, due data time s, samples or None) in the data-time benchmark's order; with
    ``feeds_at_polls`` every block is due with the poll after it (one wake-up per poll)."""
    from imugait.live.kinematics import LiveKinematics

    blocks = []
    recorder = LiveKinematics(list(session))
    recorder.feed = blocks.append
    recorder.feed_session(session, chunk_s=BLOCK_S)
    order = {p: k for k, p in enumerate(session)}
    calls, next_poll, due = [], POLL_S, -np.inf
    for samples in blocks:
        due = max(due, float(samples.t_s[-1]) + order[samples.placement] * stagger_s)
        calls.append(("feed", due, samples))
        if samples.t_s[-1] >= next_poll:
            due = max(due, next_poll + poll_lag_s)
            calls.append(("poll", due, None))
            next_poll += POLL_S
    calls.append(("poll", due, None))
    if feeds_at_polls:
        for k in range(len(calls) - 2, -1, -1):
            if calls[k][0] == "feed":
                calls[k] = ("feed", calls[k + 1][1], calls[k][2])
    return calls


def _process_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(mode: str, walk: str, calibration: str, stagger_ms: float, poll_lag_ms: float, speed: float = 1.0,
          pollute_mib: float = 0.0, yield_s: float = 1e-4) -> dict:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from imugait.live.dashboard.state import DashboardState
    from imugait.live.kinematics import LiveConfig, LiveKinematics

    session = _session(walk)
    config = LiveConfig(rate_hz=200.0)
    reused = None
    if calibration == "reused":
        first = LiveKinematics(list(session), config)
        first.feed_session(session, BLOCK_S)
        first.end()
        reused = first.calibration
    calls = _calls(session, stagger_ms / 1000, poll_lag_ms / 1000, mode == "tick")
    data_s = float(min(s.t_s[-1] for s in session.streams) - max(s.t_s[0] for s in session.streams))
    live = LiveKinematics.for_dashboard(list(session), reused, config)
    state = DashboardState()
    digest = hashlib.sha256()
    gc.collect()
    gc.freeze()
    main_name = "main"
    threads0, cpu0, wall0, switches0 = threads_cpu_s(), _process_cpu_s(), time.perf_counter(), voluntary_switches()
    t0_s = calls[0][1]
    work_s, n_waits, n_late, previous_due_s = {"feed": 0.0, "poll": 0.0}, 0, 0, None
    by_idle = {kind: [[] for _ in range(len(IDLE_EDGES_S) + 1)] for kind in work_s}
    t_end_s = time.perf_counter()
    scratch = np.zeros(int(pollute_mib * 2**20) // 8) if pollute_mib > 0 else None
    for kind, due_s, samples in calls:
        if scratch is not None:
            scratch += 1.0  # another program's work between two calls: our data out of the caches
        if mode in ("paced", "tick", "spin") and due_s != previous_due_s:
            wait_s = wall0 + (due_s - t0_s) / speed - time.perf_counter()
            if wait_s > 0:
                n_waits += 1
                if mode != "spin":
                    time.sleep(wait_s)
                else:
                    end = wall0 + (due_s - t0_s) / speed
                    while time.perf_counter() < end:
                        pass
            elif wait_s < -0.005:
                n_late += 1
        elif mode == "yield":
            time.sleep(yield_s)
        previous_due_s = due_s
        idle_s = time.perf_counter() - t_end_s  # since the previous call ended: slept, spun or left to others
        c = time.thread_time()
        if kind == "feed":
            live.feed(samples)
            state.arrivals.add(samples.placement, float(samples.t_s[-1]), float(samples.t_s[-1]))
        else:
            update = live.poll()
            state.take(update)
            text = json.dumps(state.delta(0.0), separators=(",", ":"), allow_nan=False)
            digest.update(text.encode())
        cost_s = time.thread_time() - c
        work_s[kind] += cost_s
        t_end_s = time.perf_counter()
        by_idle[kind][int(np.searchsorted(IDLE_EDGES_S, idle_s))].append(cost_s)
    cpu_s, wall_s, threads1 = _process_cpu_s() - cpu0, time.perf_counter() - wall0, threads_cpu_s()
    switches = voluntary_switches() - switches0
    live.end()
    digest.update(pickle.dumps([(s.side, s.index, s.final, s.t_initial_contact_s) for s in live.poll().strides]))
    threads = {name: threads1[name] - threads0.get(name, 0.0) for name in threads1}
    worker = sum(v for name, v in threads.items() if name.startswith("imugait-live"))
    return {"mode": mode, "data_s": data_s, "wall_s": wall_s, "cpu_per_s": cpu_s / data_s,
            "main_per_s": threads.get(main_name, 0.0) / data_s, "worker_per_s": worker / data_s,
            "other_per_s": (sum(threads.values()) - threads.get(main_name, 0.0) - worker) / data_s,
            "calls_per_s": sum(work_s.values()) / data_s, "feeds_per_s": work_s["feed"] / data_s,
            "polls_per_s": work_s["poll"] / data_s, "n_calls": len(calls), "n_waits": n_waits,
            "wakeups_per_s": switches / wall_s, "n_late": n_late,
            "digest": digest.hexdigest()[:16],
            "by_idle": {kind: [[len(v), float(np.median(v)) if v else None] for v in bins] for kind, bins in by_idle.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="data,paced", help="comma-separated: data, paced, tick, yield, spin (default data,paced)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each mode once per round, order alternating")
    parser.add_argument("--walk", choices=("test", "emulator"), default="test",
                        help="live_pipeline.py's walking test (default) or the real-time benchmarks' walker")
    parser.add_argument("--calibration", choices=("reused", "live"), default="reused",
                        help="a reused calibration (the steady state; default) or the live one in its worker")
    parser.add_argument("--stagger-ms", type=float, default=5.0, help="sensor k's blocks k × this later (default 5)")
    parser.add_argument("--poll-lag-ms", type=float, default=1.0,
                        help="a poll this long after the block that triggers it (default 1)")
    parser.add_argument("--speed", type=float, default=1.0, help="paced at this many times real time (default 1)")
    parser.add_argument("--pollute-mib", type=float, default=0.0,
                        help="between two calls, add 1 to an array this large (MiB; default 0: none)")
    parser.add_argument("--yield-ms", type=float, default=0.1, help="mode yield: sleep this long before each call")
    parser.add_argument("--child", metavar="MODE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.walk, args.calibration, args.stagger_ms, args.poll_lag_ms, args.speed,
                               args.pollute_mib, args.yield_ms / 1000)))
        return
    modes = args.modes.split(",")
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    common = ["--walk", args.walk, "--calibration", args.calibration, "--stagger-ms", str(args.stagger_ms),
              "--poll-lag-ms", str(args.poll_lag_ms), "--speed", str(args.speed), "--pollute-mib", str(args.pollute_mib),
              "--yield-ms", str(args.yield_ms)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    for r in range(args.repeat):
        for mode in (modes if r % 2 == 0 else modes[::-1]):
            out = subprocess.run([sys.executable, __file__, "--child", mode, *common], env=env, check=True,
                                 capture_output=True, text=True).stdout
            run = json.loads(out.splitlines()[-1])
            runs[mode].append(run)
            print(f"{time.strftime('%H:%M:%S')} {os.getloadavg()[0]:.1f} " + json.dumps(run), flush=True)
    keys = ("cpu_per_s", "main_per_s", "worker_per_s", "other_per_s", "calls_per_s", "feeds_per_s", "polls_per_s")
    print(f"\n{args.walk} walk, {args.calibration} calibration, stagger {args.stagger_ms:g} ms, poll lag "
          f"{args.poll_lag_ms:g} ms, speed {args.speed:g}, pollute {args.pollute_mib:g} MiB, "
          f"yield {args.yield_ms:g} ms; CPU s per s of data, "
          f"medians over {args.repeat} runs")
    print("| mode | " + " | ".join(keys) + " | waits | digests |")
    print("|---|" + "---:|" * (len(keys) + 2))
    for mode, rs in runs.items():
        print(f"| {mode} | " + " | ".join(f"{np.median([r[k] for r in rs]):.4f}" for k in keys)
              + f" | {np.median([r['n_waits'] for r in rs]):.0f} | {sorted({r['digest'] for r in rs})} |")
    edges = ["< 20 µs", "< 200 µs", "< 1 ms", "< 5 ms", "≥ 5 ms"]
    print("\nMedian CPU of one call (µs), by the time since the previous call ended; calls pooled over the runs, "
          "count in brackets")
    print("| mode | call | " + " | ".join(edges) + " |")
    print("|---|---|" + "---:|" * len(edges))
    for mode, rs in runs.items():
        for kind in ("feed", "poll"):
            cells = []
            for b in range(len(edges)):
                n = sum(r["by_idle"][kind][b][0] for r in rs)
                meds = [r["by_idle"][kind][b][1] for r in rs if r["by_idle"][kind][b][1] is not None]
                cells.append(f"{1e6 * np.median(meds):.0f} ({n})" if meds else "–")
            print(f"| {mode} | {kind} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
