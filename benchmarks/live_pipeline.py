"""The live pipeline against ``analyze`` on the same recordings, and its CPU cost per second of data.

Reproduce (from the repository root; ≈ 2 min; prints Markdown tables)::

    .venv/bin/python benchmarks/live_pipeline.py
    .venv/bin/python benchmarks/live_pipeline.py --walkers 1 --minutes 0   # quicker
    .venv/bin/python benchmarks/live_pipeline.py --minutes 60              # an hour streamed (slow)
    .venv/bin/python benchmarks/live_pipeline.py --cpu-only                # the CPU lines only
    .venv/bin/python benchmarks/live_pipeline.py --cpu-only --poll-s 0.025 # polled as the dashboard does
    .venv/bin/python benchmarks/live_pipeline.py --agreement-only --analyze-filter vqf_offline

**Agreement.** ``--walkers`` simulated walking tests (stand, two 14-s straight bouts with a turn,
stand; four sensors at 200 Hz; random mountings, 0.2 % lost samples in bursts) are each fed through
:class:`~imugait.live.kinematics.LiveKinematics` in 20-ms blocks per sensor and analysed by
``analyze`` made comparable (``tests/live/conftest.offline_like_live``: the standing the live run
found, the online VQF filter, the knee axes fitted to the same first 10 s of walking). Strides are
matched by initial contact; the table gives, over the strides both call used that start at least
4 s into their bout, the largest and the median absolute difference of each metric, and the event
timing differences — for each stride as first shown and in its final version (the walking direction
of its straight run found again once the run has ended: :mod:`imugait.live.revision`) — and when
the two versions came. What remains is what is live about the live path: the thigh-shank heading
offset held at its latest window (offline: interpolated between windows), the walking direction
from the run so far until the run has ended (offline: the whole bout), stride judgement before the
bout has ended.

**CPU.** process time of feeding a walking test (20-ms blocks, a poll every ``--poll-s`` of data:
50 ms by default as a dashboard at 20 updates/s would, 25 ms as the web dashboard does at 40/s) divided by the data's duration, for four
sensors at 200 Hz: with the live calibration (standing, walking, calibration and catch-up inside)
and with a reused calibration (the steady state); with ``--cpu-only``, also the reused calibration with
the pipeline as ``imugait live`` makes it (``LiveKinematics.for_dashboard``: the grid advanced at the
polls; the plain pipeline in a revision without it), and the web dashboard's own work on
the reused run's updates, a push per poll (state, arrival stamps, JSON; no transport, no server). The
peer is ``analyze`` of the same recording (offline VQF, its default), per second of data. One core,
BLAS pinned to one thread.

**Long run** (``--minutes``): a simulated 5-min block tiled into that many minutes is streamed
with a 60-s history; the table reports the resident memory after each tenth of the run (flat when
the buffers are bounded) and the strides found.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "live"))

from _common import machine, markdown_table  # noqa: E402
from conftest import SIMULATION, LiveRun, feed_polled, offline_like_live  # noqa: E402
from test_live_agreement import HIP_METRICS, KNEE_METRICS, WARM_UP_S, matched  # noqa: E402

from imugait.analysis import analyze_session  # noqa: E402
from imugait.fusion import FilterKind  # noqa: E402
from imugait.gait.cycles import Exclusion  # noqa: E402
from imugait.live.dashboard.state import DashboardState  # noqa: E402
from imugait.live.kinematics import LiveConfig, LiveKinematics  # noqa: E402
from imugait.live.updates import CalibrationPhase, LiveUpdate, latest_strides  # noqa: E402
from imugait.simulate import simulate  # noqa: E402

BLOCK_S = 0.02
POLL_S = 0.05


def stream(session, config: LiveConfig, calibration=None, poll_s: float = POLL_S,
           as_dashboard: bool = False) -> tuple[LiveKinematics, list]:
    """Feed ``session`` in BLOCK_S blocks, polling every ``poll_s`` of data; (pipeline, updates).
    ``as_dashboard``: the pipeline as ``imugait live`` makes it (``LiveKinematics.for_dashboard``;
    a revision without it: the plain one)."""
    make = getattr(LiveKinematics, "for_dashboard", None) if as_dashboard else None
    live = LiveKinematics(list(session), config, calibration) if make is None else \
        make(list(session), calibration, config)
    return live, feed_polled(live, session, BLOCK_S, poll_s)


def agreement(n_walkers: int, filter_kind: FilterKind = FilterKind.VQF_ONLINE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the latest version of each stride, its first version) against ``analyze``, one row per
    stride (:func:`test_live_agreement.matched`); the latest table also has the data time from the
    stride's closing initial contact to the poll that gave its first (``shown_s``) and its final
    version (``final_s``) — NaN if the stride ended before its leg was calibrated (it came with the
    calibration) or, for ``final_s``, if no version was final."""
    tables, firsts = [], []
    for k in range(n_walkers):
        session = simulate(SIMULATION if k == 0 else replace(SIMULATION, seed=300 + k)).session
        live, updates = stream(session, LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
        everything = LiveUpdate(t_s=updates[-1].t_s, strides=tuple(s for u in updates for s in u.strides))
        run = LiveRun(session, live, everything, offline_like_live(session, live, filter_kind))
        table, first = matched(run), matched(run, first=True)
        shown, final, supported = {}, {}, {}
        calibrated_at = {c.side: u.t_s for u in updates for c in u.calibration if c.phase is CalibrationPhase.CALIBRATED}
        for u in updates:
            for s in u.strides:
                if s.t_next_initial_contact_s > calibrated_at[s.side]:  # (earlier ones come with the calibration)
                    shown.setdefault((s.side, s.index), u.t_s - s.t_next_initial_contact_s)
                    if s.final:
                        final.setdefault((s.side, s.index), u.t_s - s.t_next_initial_contact_s)
                    if np.isfinite(s.metrics["double_support_pct"]):
                        supported.setdefault((s.side, s.index), u.t_s - s.t_next_initial_contact_s)
        keys = list(zip(table["side"], table["index"], strict=True))
        table["shown_s"] = [shown.get(key, np.nan) for key in keys]
        table["final_s"] = [final.get(key, np.nan) for key in keys]
        table["supported_s"] = [supported.get(key, np.nan) for key in keys]
        table["clipped"] = [s.exclusion == Exclusion.CLIPPED.value for s in latest_strides(everything.strides)]
        table["offline_clipped"] = int((run.offline.cycles["exclusion"] == Exclusion.CLIPPED.value).sum())
        table["walker"] = first["walker"] = k
        tables.append(table)
        firsts.append(first)
    return pd.concat(tables, ignore_index=True), pd.concat(firsts, ignore_index=True)


def stride_delays_s(session) -> np.ndarray:
    """Data time from each stride's closing initial contact to the poll that first returned it (s), for
    the strides that end after their leg was calibrated (earlier ones come with the calibration)."""
    _live, updates = stream(session, LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    calibrated_at = {c.side: u.t_s for u in updates for c in u.calibration if c.phase is CalibrationPhase.CALIBRATED}
    # A stride's first version is the one shown (later ones correct it or add the thigh–shank timing).
    first = {}
    for u in updates:
        for s in u.strides:
            if s.t_next_initial_contact_s > calibrated_at[s.side]:
                first.setdefault((s.side, s.index), u.t_s - s.t_next_initial_contact_s)
    return np.array(list(first.values()))


def cpu_per_data_s(fn, data_s: float) -> float:
    t0 = time.process_time()
    fn()
    return (time.process_time() - t0) / data_s


def dashboard_cpu_per_data_s(session, updates: list, data_s: float) -> float:
    """The web dashboard's own work on a run's ``updates`` (one per push): ``DashboardState.take``,
    ``delta`` with the arrival stamps (each sensor's ``BLOCK_S`` blocks logged as they would have
    come) and the JSON text ``Hub.broadcast`` sends; process time per second of data."""
    state = DashboardState()
    t0 = time.process_time()
    t_block = 0.0
    for update in updates:
        while t_block + BLOCK_S <= update.t_s:  # (NaN before the first sample: none)
            t_block += BLOCK_S
            for placement in session:
                state.arrivals.add(placement, t_block, t_block)
        state.take(update)
        json.dumps(state.delta(0.0), separators=(",", ":"), allow_nan=False)
    return (time.process_time() - t0) / data_s


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walkers", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=0.0, help="long streamed run (0: skip)")
    parser.add_argument("--cpu-only", action="store_true",
                        help="only the pipeline's CPU per second of data (best of 2 runs of each path)")
    parser.add_argument("--poll-s", type=float, default=POLL_S,
                        help=f"data time between polls of --cpu-only (default {POLL_S:g}; the dashboard polls every "
                             "0.025 s)")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="with --cpu-only: also write a cProfile of one steady-state run (reused calibration) "
                             "to FILE (read it with python -m pstats)")
    parser.add_argument("--analyze-filter", choices=[k.value for k in FilterKind], default=FilterKind.VQF_ONLINE.value,
                        help="orientation filter of the analyze side of the agreement (default vqf_online, the live "
                             "path's own: the fair comparison)")
    parser.add_argument("--agreement-only", action="store_true", help="only the agreement table")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    if args.cpu_only:
        session = simulate(SIMULATION).session
        data_s = float(min(s.t_s[-1] for s in session.streams) - max(s.t_s[0] for s in session.streams))
        config = LiveConfig(rate_hz=SIMULATION.sample_rate_hz)
        live, _ = stream(session, config)
        full = min(cpu_per_data_s(lambda: stream(session, config, poll_s=args.poll_s), data_s) for _ in range(2))
        reused = min(cpu_per_data_s(lambda: stream(session, config, live.calibration, args.poll_s), data_s)
                     for _ in range(2))
        as_dashboard = min(cpu_per_data_s(lambda: stream(session, config, live.calibration, args.poll_s, True), data_s)
                           for _ in range(2))
        updates = stream(session, config, live.calibration, args.poll_s)[1]
        dashboard = min(dashboard_cpu_per_data_s(session, updates, data_s) for _ in range(3))
        print(f"{machine()}: CPU s per s of data ({BLOCK_S * 1000:.0f}-ms blocks, a poll per {args.poll_s * 1000:g} ms "
              f"of data), live calibrating {full:.3f}, reused calibration {reused:.3f}, reused calibration with the "
              f"pipeline as the dashboard makes it {as_dashboard:.3f}; the dashboard's own work on the reused run's "
              f"updates (a push per poll) {dashboard:.4f}")
        if args.profile is not None:
            import cProfile

            cProfile.runctx("stream(session, config, live.calibration, args.poll_s)", globals(), locals(),
                            str(args.profile))
        return
    print(f"# Live pipeline against analyze\n\n{machine()}\n")

    table, first = agreement(args.walkers, FilterKind(args.analyze_filter))
    steady = table[table["used"] & table["offline_used"] & (table["into_bout_s"] >= WARM_UP_S)]
    # The same strides as first shown (their first version may have been judged otherwise).
    keys = ["walker", "side", "index"]
    steady_first = first.merge(steady[keys], on=keys)
    rows = []
    for name in KNEE_METRICS + HIP_METRICS:
        d, d_first = steady[name].abs(), steady_first[name].abs()
        rows.append([name, f"{d_first.max():.2f}", f"{d_first.median():.2f}", f"{d.max():.2f}", f"{d.median():.2f}",
                     "1.0", f"{d.max() / 1.0:.2f}"])
    for name, column in (("initial contact (ms)", "ic_s"), ("toe-off (ms)", "to_s"), ("next initial contact (ms)", "next_ic_s")):
        d, d_first = 1000 * table[column].abs(), 1000 * first[column].abs()
        rows.append([name, f"{d_first.max():.2f}", f"{d_first.median():.2f}", f"{d.max():.2f}", f"{d.median():.2f}", "10",
                     f"{d.max() / 10:.2f}"])
    # Double support: never in a stride's first version (the other leg's stride around it settles later).
    d = steady["double_support_pct"].abs()
    rows.append(["double_support_pct (%-points)", f"{first['double_support_pct'].notna().sum()} of {len(first)} have it",
                 "", f"{d.max():.2e}", f"{d.median():.2e}", "1.0", f"{d.max() / 1.0:.2e}"])
    print(f"{args.walkers} walkers; {len(table)} live strides ({int(table['final'].sum())} final), {len(steady)} steady "
          f"strides used by both; used flags agree on {100 * (table['used'] == table['offline_used']).mean():.0f} % of "
          f"strides\n")
    print(markdown_table([f"metric (live − analyze with {args.analyze_filter})", "first shown: max abs", "median abs",
                          "final: max abs", "median abs", "target", "final max / target"], rows))
    delays = steady[["shown_s", "final_s"]].dropna()
    supported = steady["supported_s"].dropna()
    print(f"\nDouble support: {int(steady['double_support_pct'].notna().sum())} of {len(steady)} steady strides have "
          f"it in their latest version, {len(supported)} of them after their leg was calibrated — data time from the "
          f"closing initial contact to the first version with it: median {supported.median():.2f} s, max "
          f"{supported.max():.2f} s. Strides excluded as clipped: live {int(table['clipped'].sum())}, analyze "
          f"{int(table.groupby('walker')['offline_clipped'].first().sum())} (the simulated gyroscopes' ±2000 °/s is "
          f"never reached: tests/live/test_live_two_legs_and_range.py clips one)")
    print(f"\nData time from the closing initial contact of a steady stride that ends after its leg was calibrated "
          f"({len(delays)} strides) to its version shown first: median "
          f"{1000 * delays['shown_s'].median():.0f} ms, max {1000 * delays['shown_s'].max():.0f} ms; to its final "
          f"version: median {delays['final_s'].median():.1f} s, max {delays['final_s'].max():.1f} s "
          f"(polled every {POLL_S * 1000:.0f} ms)")
    if args.agreement_only:
        return
    delays = stride_delays_s(simulate(SIMULATION).session)
    print(f"\nStride metrics come {1000 * np.median(delays):.0f} ms (median; max {1000 * delays.max():.0f} ms, "
          f"{delays.size} strides after calibration) of data time after the stride's closing initial contact "
          f"(polled every {POLL_S * 1000:.0f} ms; the issue's target on screen: 150 ms)")

    session = simulate(SIMULATION).session
    data_s = float(min(s.t_s[-1] for s in session.streams) - max(s.t_s[0] for s in session.streams))
    config = LiveConfig(rate_hz=SIMULATION.sample_rate_hz)
    live, _ = stream(session, config)
    full = cpu_per_data_s(lambda: stream(session, config), data_s)
    reused = cpu_per_data_s(lambda: stream(session, config, live.calibration), data_s)
    offline = cpu_per_data_s(lambda: analyze_session(session), data_s)
    print(f"\n## CPU per second of data (4 sensors × 200 Hz, {data_s:.0f} s, {BLOCK_S * 1000:.0f}-ms blocks, "
          f"a poll per {POLL_S * 1000:.0f} ms)\n")
    print(markdown_table(["path", "CPU s per s of data", "share of one core", "target", "vs analyze"], [
        ["live, calibrating live", f"{full:.3f}", f"{100 * full:.0f} %", "≤ 20 %", f"{full / offline:.1f}×"],
        ["live, reused calibration (steady state)", f"{reused:.3f}", f"{100 * reused:.0f} %", "≤ 20 %",
         f"{reused / offline:.1f}×"],
        ["analyze (offline VQF), whole recording", f"{offline:.3f}", f"{100 * offline:.0f} %", "", "1.0×"],
    ]))

    if args.minutes > 0:
        from pipeline_speed import tile

        from imugait.simulate import SimulationConfig, walking_test

        block = simulate(SimulationConfig(seed=5, sample_rate_hz=200.0,
                                          timeline=walking_test(n_bouts=9, bout_s=25.0))).session
        long = tile(block, 60.0 * args.minutes)
        live = LiveKinematics(list(long), LiveConfig(rate_hz=200.0, history_s=60.0))
        marks, memory = np.linspace(0, 60 * args.minutes, 11)[1:], []
        original, n_strides = live.feed, [0]

        def feed(samples):
            original(samples)
            if memory.__len__() < marks.size and samples.t_s[-1] >= marks[len(memory)]:
                n_strides[0] = sum(live.poll().n_strides.values())
                memory.append((float(samples.t_s[-1]), rss_mib(), n_strides[0]))

        live.feed = feed
        t0 = time.process_time()
        live.feed_session(long, BLOCK_S)
        cpu = time.process_time() - t0
        print(f"\n## {args.minutes:g} min streamed (a 5-min walking block tiled; 60-s history)\n")
        print(markdown_table(["data time (s)", "resident memory (MiB)", "strides so far"],
                             [[f"{t:.0f}", f"{m:.1f}", n] for t, m, n in memory]))
        print(f"\nCPU {cpu:.0f} s for {60 * args.minutes:.0f} s of data ({100 * cpu / (60 * args.minutes):.0f} % of one core)")


if __name__ == "__main__":
    main()
