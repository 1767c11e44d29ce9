"""``imugait info SESSION.parquet``: what is in a session file (verifies its checksums too)."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.io import describe_session, read_session


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "info", help="summarise a session file",
        description="Print placements, samples, rates, durations, lost samples, protocol steps and "
                    "metadata of a session file. Reading it verifies its checksums.",
    )
    parser.add_argument("session", type=Path, metavar="SESSION.parquet", help="the session to describe (.parquet)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    print(describe_session(read_session(args.session), title=str(args.session)))
    return 0
