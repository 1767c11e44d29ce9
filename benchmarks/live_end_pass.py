"""Walks ended while the stream goes on (*Walk done*: ``LiveKinematics.end_pass``) against ``analyze``
of the recording cut at each press.

Reproduce (from the repository root; ≈ 30 s; prints Markdown)::

    .venv/bin/python benchmarks/live_end_pass.py                 # two 10-m passes, a stop between
    .venv/bin/python benchmarks/live_end_pass.py --turns         # the simulator's 10-m walk (a turn between)
    .venv/bin/python benchmarks/live_end_pass.py --left-alone    # polled at the same instants, no end_pass

The scenario is ``tests/live/test_live_walks.py``'s (reused, not copied): a simulated walker (200 Hz,
four sensors) stands, walks 10 m and stops, stands ``PAUSE_S``, walks 10 m again and stops; *Walk
done* is pressed 2 s into each stop (``--turns``: the passes joined by a walked 180° turn, pressed
in the middle of the turn and 2 s into the final stop). The session is fed in 50-ms blocks per
sensor (a poll after each); at each press the strides given so far (each stride's latest version)
whose initial contact is after the previous press are compared with ``analyze`` of the session cut
at the press, made comparable (``tests/live/conftest.offline_like_live``), strides matched by the
nearest initial contact (within 50 ms). A row per walker, walk and leg: strides found / final / used
live, found / used by ``analyze``, used by both, and over those the largest and median
|live − analyze| of the knee metrics and of the hip rotation metrics (deg) and the largest event
difference (ms). The header gives the process time of the ``end_pass`` calls.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "live"))

from _common import machine, markdown_table  # noqa: E402
from test_live_walks import agreement, two_passes, walks_ended  # noqa: E402

from imugait.conventions import Side  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 4, 5], help="simulated walkers (seeds)")
    parser.add_argument("--speed-mps", type=float, default=1.2)
    parser.add_argument("--turns", action="store_true", help="the passes joined by a walked turn, not a stop")
    parser.add_argument("--left-alone", action="store_true", help="poll at the presses without calling end_pass")
    args = parser.parse_args()
    rows, totals, end_pass_ms = [], {}, []
    t0 = time.process_time()
    for seed in args.seeds:
        session, done_s = two_passes(seed, args.speed_mps, turns=args.turns)
        walks, _given = walks_ended(session, done_s, end_passes=not args.left_alone)
        for i, walk in enumerate(walks):
            end_pass_ms.append(1e3 * walk.cpu_s)
            for side in Side:
                a = agreement(walk, side)
                for name in ("live_found", "live_final", "live_used", "analyze_found", "analyze_used", "both_used"):
                    totals[name] = totals.get(name, 0) + a[name]
                for name in ("knee_max_deg", "hip_max_deg", "events_max_ms"):
                    totals[name] = max(totals.get(name, 0.0), a[name])
                rows.append([seed, i + 1, side.value, f"{a['live_found']} / {a['live_final']} / {a['live_used']}",
                             f"{a['analyze_found']} / {a['analyze_used']}", a["both_used"],
                             f"{a['knee_max_deg']:.3f} / {a['knee_median_deg']:.3f}",
                             f"{a['hip_max_deg']:.3f} / {a['hip_median_deg']:.3f}", f"{a['events_max_ms']:.2f}"])
    cpu_s = time.process_time() - t0
    rows.append(["all", "", "", f"{totals['live_found']} / {totals['live_final']} / {totals['live_used']}",
                 f"{totals['analyze_found']} / {totals['analyze_used']}", totals["both_used"],
                 f"{totals['knee_max_deg']:.3f}", f"{totals['hip_max_deg']:.3f}", f"{totals['events_max_ms']:.2f}"])
    what = "passes joined by a turn (pressed mid-turn and at the stop)" if args.turns else "a stop between the passes"
    print(f"Two 10-m passes, {what}; {'polled only (no end_pass)' if args.left_alone else 'end_pass at each press'}; "
          f"{args.speed_mps:g} m/s; {machine()}; {cpu_s:.0f} s CPU; end_pass calls {min(end_pass_ms):.0f}–"
          f"{max(end_pass_ms):.0f} ms CPU (median {sorted(end_pass_ms)[len(end_pass_ms) // 2]:.0f})\n")
    print(markdown_table(["walker", "walk", "leg", "live found / final / used", "analyze found / used", "both used",
                          "knee max / median (deg)", "hip max / median (deg)", "events max (ms)"], rows))


if __name__ == "__main__":
    main()
