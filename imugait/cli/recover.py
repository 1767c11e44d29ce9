"""``imugait recover``: rebuild the session of an interrupted recording from its log."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._options import add_force_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "recover",
        help="rebuild a session from the log of an interrupted recording",
        description=(
            "Read every intact record of PATH (a session folder or its recording.imulog), map the "
            "device clocks and write the session. A damaged record in the middle is skipped (reading "
            "resumes at the next intact record) and a torn or corrupt tail is ignored; both are "
            "reported here and in the session's notes."
        ),
    )
    p.add_argument("path", metavar="PATH", help="session folder or recording.imulog")
    p.add_argument("--out", metavar="SESSION.parquet",
                   help="where to write the session (default: session.parquet next to the log)")
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait.acquisition.recorder import LOG_NAME, SESSION_NAME, recover_with_report
    from imugait.io.native import write_session
    from imugait.output_guard import check_outputs

    path = Path(args.path)
    log_path = path / LOG_NAME if path.is_dir() else path
    out = Path(args.out) if args.out else log_path.parent / SESSION_NAME
    check_outputs([out], inputs=[log_path], force=args.force)
    report = recover_with_report(log_path)
    session = report.session
    ended = "closed normally" if report.clean_end else "interrupted (no end record)"
    print(f"{report.log_path}: {report.records} records, recording {ended}")
    for s in session.streams:
        print(f"  {s.placement.value:<12} {s.n_samples:>9} samples  {s.n_lost_total:>7} lost  "
              f"{s.duration_s:9.2f} s  ({s.sample_rate_hz:g} Hz, {s.device.device_id})")
    for note in report.assembly.notes:
        print(f"  note: {note}")
    for skipped in report.skipped:
        print(f"  damaged: {skipped.describe()}")
    print(f"  damaged records in the middle: {len(report.skipped)} span(s), "
          f"{sum(s.span.n_bytes for s in report.skipped)} bytes skipped")
    if report.ignored_bytes:
        print(f"  torn/corrupt tail: {report.ignored_bytes} bytes ignored ({report.problem})")
    else:
        print("  torn/corrupt tail: 0 bytes ignored")
    write_session(session, out)
    print(f"wrote {out}")
    return 0
