"""How long each dashboard push's poll holds the loop thread, as ``imugait live`` makes the pipeline.

Reproduce (from the repository root; ≈ 1 min per repeat; prints Markdown tables)::

    .venv/bin/python benchmarks/live_poll_times.py
    .venv/bin/python benchmarks/live_poll_times.py --repeat 3 --parts      # and what the longest polls did
    PYTHONPATH=../main .venv/bin/python benchmarks/live_poll_times.py      # another tree (at once only)

The walking test of ``benchmarks/live_pipeline.py`` (4 sensors at 200 Hz, about 40 s) is fed in
20-ms blocks to ``LiveKinematics.for_dashboard`` with a reused calibration (the steady state; no
calibration worker runs), the heap frozen as ``run_event_loop`` freezes it; every 25 ms of data a
push as the dashboard makes it: ``poll()``, ``DashboardState.take``, ``delta`` and its JSON text —
*the part before the broadcast*, whose length an angle waits —, then (deferred tails) the
pipeline's ``finish_ticks()`` after it. Times are the loop thread's CPU (``time.thread_time``), so
the machine's other work does not add waiting (it still slows the caches). The two ways — the
ticks' tails inside the poll (``at once``: ``deferred_tails=False``, as before) and after the push
(``deferred``, as the dashboard runs now) — alternate, ``--repeat`` runs of each in this process,
their polls pooled. A tree without ``deferred_tails`` runs ``at once`` only.

``--parts``: one more deferred run with every poll's work counted by wrappers around the legs'
steps (the outermost counted step, CPU ms) and the collector's passes (``gc.callbacks``): the
longest polls and what they were.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import inspect
import json
import os
import sys
import time
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_pipeline import BLOCK_S, SIMULATION, machine, markdown_table  # noqa: E402  (first: its one BLAS thread)

# isort: split
import numpy as np  # noqa: E402

from imugait.live import kinematics as kinematics_module  # noqa: E402
from imugait.live.dashboard.state import DashboardState  # noqa: E402
from imugait.live.kinematics import LiveConfig, LiveKinematics  # noqa: E402
from imugait.simulate import simulate  # noqa: E402

POLL_S = 0.025
PARTS = {"heading windows": ("heading_track.HeadingTrack", "estimate_windows"),
         "events and strides": ("stride_finder.StrideFinder", "find"),
         "strides' timing": ("given_strides.GivenStrides", "give_timed"),
         "motion and direction": ("leg.LiveLeg", "_settle"), "moving rows": ("leg_motion.LegMotion", "moving_until"),
         "final versions": ("reheading.Reheading", "head_strides"), "run refits": ("straight_runs.StraightRuns", "refit"),
         "run merges": ("straight_runs.StraightRuns", "merge_with_next"), "releases": ("leg.LiveLeg", "_release_old")}
"""The legs' steps counted by ``--parts``: their names as shown → (module of ``imugait.live``.class, method)."""
CAN_DEFER = "deferred_tails" in inspect.signature(LiveKinematics.__init__).parameters


class Parts:
    """Thread CPU (ms) of the outermost counted step per poll, and of the collector's passes."""

    def __init__(self) -> None:
        self.now: dict[str, float] = defaultdict(float)
        self._active = 0
        self._gc_t0 = 0.0

    def wrap(self, name: str, fn):
        def counted(*args, **kwargs):
            if self._active:
                return fn(*args, **kwargs)
            self._active += 1
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.now[name] += 1000 * (time.thread_time() - t0)
                self._active -= 1
        return counted

    def on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_t0 = time.thread_time()
        else:
            self.now[f"gc generation {info['generation']}"] += 1000 * (time.thread_time() - self._gc_t0)

    def take(self) -> dict[str, float]:
        now, self.now = dict(self.now), defaultdict(float)
        return now


def run(session, calibration, deferred: bool, parts: Parts | None = None) -> dict[str, list]:
    """One stream as the dashboard pushes (see the module docstring): per push, its data time and
    the loop thread's ms before the broadcast and after it (``finish_ticks``); per feed its ms."""
    config = LiveConfig(rate_hz=SIMULATION.sample_rate_hz)
    live = LiveKinematics.for_dashboard(list(session), calibration, config)
    if CAN_DEFER:
        live._deferred_tails = deferred  # (for_dashboard defers; at once: as before this change)
    finish = getattr(live, "finish_ticks", None)
    state = DashboardState()
    out: dict[str, list] = {"t_s": [], "push_ms": [], "after_ms": [], "feed_ms": [], "parts": [], "after_parts": []}
    original = live.feed
    next_poll = POLL_S

    def feed(samples):
        nonlocal next_poll
        t0 = time.thread_time()
        original(samples)
        out["feed_ms"].append(1000 * (time.thread_time() - t0))
        state.arrivals.add(samples.placement, float(samples.t_s[-1]), float(samples.t_s[-1]))
        while samples.t_s[-1] >= next_poll:
            if parts is not None:
                parts.take()  # (the feeds' own)
            t0 = time.thread_time()
            state.take(live.poll())
            json.dumps(state.delta(0.0), separators=(",", ":"), allow_nan=False)
            t1 = time.thread_time()
            if parts is not None:
                out["parts"].append(parts.take())
            if finish is not None:
                finish()
            t2 = time.thread_time()
            if parts is not None:
                out["after_parts"].append(parts.take())
            out["t_s"].append(next_poll)
            out["push_ms"].append(1000 * (t1 - t0))
            out["after_ms"].append(1000 * (t2 - t1))
            next_poll += POLL_S

    live.feed = feed
    frozen = getattr(sys.modules.get("imugait.live.run"), "frozen_heap", None)
    with frozen() if frozen is not None else nullcontext():
        live.feed_session(session, BLOCK_S)
    return out


def instrument(parts: Parts) -> None:
    for name, (where, method) in PARTS.items():
        module, cls = where.rsplit(".", 1)
        owner = getattr(importlib.import_module(f"imugait.live.{module}"), cls)
        setattr(owner, method, parts.wrap(name, getattr(owner, method)))
    kinematics_module.angles_of_legs = parts.wrap("angles", kinematics_module.angles_of_legs)
    grid = kinematics_module.LiveGrid
    grid.rows = parts.wrap("grid rows", grid.rows)
    state = DashboardState
    state.take = parts.wrap("state take", state.take)
    state.delta = parts.wrap("state delta", state.delta)
    gc.callbacks.append(parts.on_gc)


def quantiles(values: list[float]) -> list[str]:
    v = np.asarray(values)
    return [f"{np.percentile(v, q):.2f}" for q in (50, 99, 99.9)] + [f"{v.max():.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs of each way, alternating (default 2)")
    parser.add_argument("--parts", action="store_true", help="also the longest polls of a counted run and their parts")
    parser.add_argument("--longest", type=int, default=12, help="longest polls listed with --parts (default 12)")
    args = parser.parse_args()
    import imugait.live.run  # noqa: F401  (frozen_heap, where the tree has it)

    session = simulate(SIMULATION).session
    live = LiveKinematics(list(session), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    live.feed_session(session, BLOCK_S)
    calibration = live.calibration
    ways = [False, True] if CAN_DEFER else [False]
    pooled = {way: defaultdict(list) for way in ways}
    for i in range(args.repeat):
        for way in ways if i % 2 == 0 else ways[::-1]:
            out = run(session, calibration, way)
            for key in ("push_ms", "after_ms", "feed_ms"):
                pooled[way][key] += out[key]
    print(f"{machine()}; loop thread CPU (ms) per push, {args.repeat} run(s) of each way "
          f"({len(pooled[False]['push_ms'])} pushes each), {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    rows = []
    for way in ways:
        p = pooled[way]
        total = np.add(p["push_ms"], p["after_ms"])
        rows.append(["deferred" if way else "at once", *quantiles(p["push_ms"]), *quantiles(p["after_ms"])[1:],
                     f"{total.sum() / args.repeat:.0f}", *quantiles(p["feed_ms"])[::2]])
    print(markdown_table(["ticks' tails", "before the broadcast: p50", "p99", "p99.9", "max",
                          "after it: p99", "p99.9", "max", "pushes' total per run", "feeds: p50", "p99.9"], rows))
    if not args.parts:
        return
    parts = Parts()
    instrument(parts)
    out = run(session, calibration, CAN_DEFER, parts)
    order = np.argsort(out["push_ms"])[::-1][:args.longest]
    print(f"\nThe {args.longest} longest pushes before the broadcast (counted run, "
          f"{'deferred' if CAN_DEFER else 'at once'}): data time, ms, the parts over 0.3 ms\n")
    rows = []
    for i in order:
        rows.append([f"{out['t_s'][i]:.3f}", f"{out['push_ms'][i]:.2f}", _parts(out["parts"][i]),
                     f"{out['after_ms'][i]:.2f}", _parts(out["after_parts"][i])])
    print(markdown_table(["t (s)", "before (ms)", "its parts (ms)", "after (ms)", "its parts"], rows, "rrlrl"))
    order = np.argsort(out["after_ms"])[::-1][:3]
    print("\nThe longest after the broadcast: " + "; ".join(
        f"{out['t_s'][i]:.3f} s {out['after_ms'][i]:.2f} ms ({_parts(out['after_parts'][i])})" for i in order))


def _parts(parts: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for v, k in sorted(((v, k) for k, v in parts.items() if v >= 0.3), reverse=True))


if __name__ == "__main__":
    main()
