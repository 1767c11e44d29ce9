"""``imugait recover``: rebuild the session of an interrupted recording from its log."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recover",
        help="rebuild a session from the log of an interrupted recording",
        description=(
            "Read PATH (a session folder or its recording.imulog) up to its last intact record, "
            "map the device clocks and write the session. A torn or corrupt tail is ignored and "
            "reported."
        ),
    )
    p.add_argument("path", metavar="PATH", help="session folder or recording.imulog")
    p.add_argument("--out", metavar="SESSION.parquet",
                   help="where to write the session (default: session.parquet next to the log)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait.acquisition.recorder import SESSION_NAME, recover_with_report
    from imugait.errors import ImugaitError
    from imugait.io.native import write_session

    report = recover_with_report(args.path)
    out = Path(args.out) if args.out else report.log_path.parent / SESSION_NAME
    if out.exists() and not args.force:
        raise ImugaitError(f"{out} exists; pass --force to replace it or --out to choose another file")
    session = report.session
    ended = "closed normally" if report.clean_end else "interrupted (no end record)"
    print(f"{report.log_path}: {report.records} records, recording {ended}")
    for s in session.streams:
        print(f"  {s.placement.value:<12} {s.n_samples:>9} samples  {s.n_lost_total:>7} lost  "
              f"{s.duration_s:9.2f} s  ({s.sample_rate_hz:g} Hz, {s.device.device_id})")
    for note in report.assembly.notes:
        print(f"  note: {note}")
    if report.ignored_bytes:
        print(f"  torn/corrupt tail: {report.ignored_bytes} bytes ignored ({report.problem})")
    else:
        print("  torn/corrupt tail: 0 bytes ignored")
    write_session(session, out)
    print(f"wrote {out}")
    return 0
