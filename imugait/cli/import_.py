"""``imugait import csv|xsens …``: convert recordings from other tools into a session file."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.io import parse_placement_map, read_csv_session, read_xsens_dir, write_session


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "import", help="convert a generic CSV or Xsens exports into a session file",
        description="Convert recordings from other tools into an imugait session file (docs/formats.md).",
    )
    sources = parser.add_subparsers(dest="source", metavar="SOURCE", required=True)

    csv_p = sources.add_parser(
        "csv", help="generic CSV: t_s plus <placement>_<acc|gyr|mag>_<x|y|z> columns in SI units",
    )
    csv_p.add_argument("file", type=Path, help="the CSV file")
    _common(csv_p)
    csv_p.set_defaults(func=_run_csv)

    xsens_p = sources.add_parser(
        "xsens", help="Xsens MT Manager text exports, one file per sensor",
        epilog="example: imugait import xsens recording/ --map left_thigh=00B40C45 "
               "--map left_shank=00B40C46 --out s01.parquet",
    )
    xsens_p.add_argument("folder", type=Path, help="folder holding one export file per sensor")
    xsens_p.add_argument(
        "--map", action="append", required=True, metavar="PLACEMENT=SENSOR",
        help="where a sensor was worn: placement (left_thigh, right_shank, pelvis …) = sensor id "
             "or file stem; repeat for each sensor",
    )
    xsens_p.add_argument("--rate-hz", type=float, default=None,
                         help="sample rate, only if the files' headers do not state it")
    _common(xsens_p)
    xsens_p.set_defaults(func=_run_xsens)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, metavar="SESSION.parquet", help="session file to write")
    p.add_argument("--subject", default="anonymous", metavar="ID", help="subject pseudonym (never a real name)")


def _run_csv(args: argparse.Namespace) -> int:
    session = read_csv_session(args.file, subject_id=args.subject)
    return _write(session, args.out)


def _run_xsens(args: argparse.Namespace) -> int:
    session = read_xsens_dir(
        args.folder, parse_placement_map(args.map), subject_id=args.subject, sample_rate_hz=args.rate_hz
    )
    return _write(session, args.out)


def _write(session, out: Path) -> int:
    write_session(session, out)
    streams = ", ".join(f"{p.value} ({s.n_samples} samples)" for p, s in session.items())
    print(f"wrote {out}: {streams}")
    return 0
