"""``imugait stream``: a live terminal view of sensors (rate, lost samples, battery, link)."""

from __future__ import annotations

import argparse

from imugait.cli._live import add_source_args
from imugait.cli._options import session_duration_s


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stream", help="show live sensor health (rate, lost samples, battery, link state)",
        description="Connect to sensors over serial and/or BLE, or play emulated ones (--emulate N), "
                    "and show per-sensor rate, lost samples, battery, link state and clock drift, "
                    "updating in place. Nothing is recorded. Ctrl-C stops.",
    )
    p.add_argument("--duration", type=session_duration_s, default=None, metavar="S",
                   help="stop after S seconds of session time (default: Ctrl-C, or the end of an emulated walk)")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait.cli._live import acquire, opener_from_args, print_stopped
    from imugait.live.run import run_event_loop

    opener = opener_from_args(args, args.duration)  # outside the event loop: Ctrl-C stops it at once
    status, interrupted, _ = run_event_loop(acquire(args, args.duration, opener=opener))
    print_stopped(status, interrupted)
    return 0
