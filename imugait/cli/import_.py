"""``imugait import csv|xsens|mpu9250|hugadb|qmt|dot|ximu3|apdm|mvnx …``: convert recordings from other tools into a
session file."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from imugait.cli._import_formats import register_formats
from imugait.cli._options import add_force_arg, add_gyr_sampling_arg, file_rate_hz
from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.io import (
    SourceFormat,
    catalog_mpu9250,
    iter_mpu9250_walks,
    parse_placement_map,
    read_recording,
    write_session,
)
from imugait.io.formats import declare_gyr_sampling
from imugait.io.hugadb import HUGADB_RATE_HZ
from imugait.io.qmt import qmt_segments
from imugait.model import GyroSampling
from imugait.output_guard import check_outputs, safe_file_stem

HUGADB_EXCHANGED_MAP = "--map left_thigh=RT --map left_shank=RS --map right_thigh=LT --map right_shank=LS"
"""HuGaDB's sensors with left and right exchanged: how its walking files can be analysed (docs/formats.md)."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "import", help="convert a generic CSV, vendor exports (Xsens, Movella DOT, x-IMU3, APDM, MVNX) or a dataset into a session file",
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
    xsens_p.add_argument("--rate-hz", type=file_rate_hz, default=None,
                         help="sample rate (Hz), only if the files' headers do not state it")
    _common(xsens_p)
    xsens_p.set_defaults(func=_run_xsens)

    _register_mpu9250(sources)
    _register_hugadb(sources)
    _register_qmt(sources)
    register_formats(sources, _common, _write)


def _register_mpu9250(sources) -> None:
    p = sources.add_parser(
        "mpu9250", help="MPU-9250 .1bsn walks (thigh + shank of one leg), from the dataset zip or a folder",
        epilog="examples: imugait import mpu9250 Healthy_Adults-gait_activity.zip --list; "
               "… --walk NO.1/left/IMU_10 --out walk.parquet; … --all --out-dir walks/",
    )
    p.add_argument("source", type=Path, help="the dataset's zip, or a folder of NO.<n>/<Thigh|Shank>-<side>/*.1bsn")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", action="store_true", help="print the walks (and files without a partner)")
    what.add_argument("--walk", metavar="SUBJECT/SIDE/TRIAL", help="the walk to import, e.g. NO.1/left/IMU_10")
    what.add_argument("--all", action="store_true", help="import every walk into --out-dir")
    p.add_argument("--out", type=Path, metavar="SESSION.parquet", help="session file to write (with --walk)")
    p.add_argument("--out-dir", type=Path, metavar="DIR",
                   help="folder for --all: one <subject>_<side>_<trial>.parquet per walk")
    p.add_argument("--subject", default=None, metavar="ID", help="subject pseudonym (default: the dataset's NO.<n>)")
    p.add_argument("--allow-truncated", action="store_true",
                   help="keep the complete records of a file cut in the middle of a record")
    p.add_argument("--pair-by-name", action="store_true",
                   help="pair thigh and shank files strictly by name (without the dataset's known correction)")
    _gyr_sampling(p)
    add_force_arg(p)
    p.set_defaults(func=_run_mpu9250)


def _register_hugadb(sources) -> None:
    p = sources.add_parser(
        "hugadb", help="HuGaDB text file: six IMUs (feet, shanks, thighs), raw int16",
        epilog="examples: imugait import hugadb HuGaDB_v1_walking_06_00.txt --out h06.parquet (the documented "
               f"sides); … {HUGADB_EXCHANGED_MAP} --out h06x.parquet (the sides exchanged: in the walking files "
               "tried, the documented sides are refused by the analysis as left and right swapped)",
    )
    p.add_argument("file", type=Path, help="the HuGaDB .txt file")
    p.add_argument("--map", action="append", default=None, metavar="PLACEMENT=SENSOR",
                   help="placement = HuGaDB sensor (RF RS RT LF LS LT); repeat for each sensor; default: "
                        "left_thigh=LT left_shank=LS right_thigh=RT right_shank=RS")
    p.add_argument("--corrupted-gyro", choices=("warn", "drop-leg", "keep"), default="warn",
                   help="gyroscopes the maintainers list as corrupted: keep with a warning (default), leave "
                        "out the legs that have one, or keep silently")
    p.add_argument("--rate-hz", type=file_rate_hz, default=HUGADB_RATE_HZ,
                   help=f"sample rate (Hz, default {HUGADB_RATE_HZ:g})")
    p.add_argument("--allow-truncated", action="store_true", help="keep the complete lines of a file cut mid-line")
    _common(p, subject_default=None)
    p.set_defaults(func=_run_hugadb)


def _register_qmt(sources) -> None:
    p = sources.add_parser(
        "qmt", help="qmt example .mat file: one struct per IMU with acc (m/s²) and gyr (rad/s)",
        epilog="example: imugait import qmt full_body_example_data.mat --out qmt.parquet "
               "--step stand=40:44 --step walk_1=95:115",
    )
    p.add_argument("file", type=Path, help="the .mat file")
    p.add_argument("--list", action="store_true", help="print the IMU struct names and exit")
    p.add_argument("--map", action="append", default=None, metavar="PLACEMENT=STRUCT",
                   help="placement = struct name; repeat for each sensor; default: pelvis=hip "
                        "left_thigh=upper_leg_left left_shank=lower_leg_left right_thigh=upper_leg_right "
                        "right_shank=lower_leg_right")
    p.add_argument("--step", action="append", default=[], metavar="NAME=START:END",
                   help="a protocol step in s on the file's clock (e.g. stand=40:44); repeat for each")
    p.add_argument("--out", type=Path, metavar="SESSION.parquet", help="session file to write")
    p.add_argument("--subject", default="qmt-example", metavar="ID", help="subject pseudonym")
    _gyr_sampling(p)
    add_force_arg(p)
    p.set_defaults(func=_run_qmt)


def _common(p: argparse.ArgumentParser, subject_default: str | None = "anonymous") -> None:
    p.add_argument("--out", type=Path, required=True, metavar="SESSION.parquet", help="session file to write")
    p.add_argument("--subject", default=subject_default, metavar="ID", help="subject pseudonym (never a real name)")
    _gyr_sampling(p)
    add_force_arg(p)


def _gyr_sampling(p: argparse.ArgumentParser) -> None:
    add_gyr_sampling_arg(p, "given here it is stored in the session file for every sensor (default: what the "
                            "format declares, else instant)")


def _run_csv(args: argparse.Namespace) -> int:
    check_outputs([args.out], inputs=[args.file], force=args.force)
    session = _with_warnings(lambda: read_recording(args.file, SourceFormat.CSV, subject_id=args.subject))
    return _write(session, args.out, args.gyr_sampling)


def _run_xsens(args: argparse.Namespace) -> int:
    check_outputs([args.out], inputs=list(args.folder.glob("*")) if args.folder.is_dir() else [], force=args.force)
    session = read_recording(args.folder, SourceFormat.XSENS, placement_map=parse_placement_map(args.map),
                             subject_id=args.subject, options={"rate_hz": args.rate_hz})
    return _write(session, args.out, args.gyr_sampling)


def _run_mpu9250(args: argparse.Namespace) -> int:
    fix = not args.pair_by_name
    if args.list:
        catalog = catalog_mpu9250(args.source, fix_known_pairs=fix)
        for w in catalog.walks:
            print(f"{w.walk_id:<20} thigh {_tail(w.thigh_file):<26} shank {_tail(w.shank_file)}")
        print(f"{len(catalog.walks)} walks" + (f"; files without a partner: {', '.join(map(_tail, catalog.unpaired))}"
                                               if catalog.unpaired else ""))
        return 0
    if args.walk and args.out is None:
        raise ValidationError("--walk needs --out SESSION.parquet")
    if args.all and args.out_dir is None:
        raise ValidationError("--all needs --out-dir DIR")
    walks = [args.walk] if args.walk else None
    if args.all:
        if args.out_dir.exists() and not args.out_dir.is_dir():
            raise ValidationError(f"--out-dir {args.out_dir} is a file, not a folder")
        args.out_dir.mkdir(parents=True, exist_ok=True)
        outs = {w.walk_id: _walk_file(args.out_dir, w.walk_id)
                for w in catalog_mpu9250(args.source, fix_known_pairs=fix).walks}
    else:
        outs = {None: args.out}
    check_outputs(outs.values(), inputs=[args.source], force=args.force)
    n = 0
    for w, session in iter_mpu9250_walks(args.source, walks, subject_id=args.subject,
                                         allow_truncated=args.allow_truncated, fix_known_pairs=fix):
        _write(session, outs[w.walk_id] if args.all else args.out, args.gyr_sampling)
        n += 1
    if args.all:
        print(f"{n} walks written to {args.out_dir}")
    return 0


def _walk_file(folder: Path, walk_id: str) -> Path:
    """``<subject>_<side>_<trial>.parquet``; the walk id comes from the dataset's member names."""
    return folder / f"{safe_file_stem(walk_id.replace('/', '_'))}.parquet"


def _tail(member: str) -> str:
    return "/".join(member.split("/")[-2:])


def _run_hugadb(args: argparse.Namespace) -> int:
    check_outputs([args.out], inputs=[args.file], force=args.force)
    mapping = parse_placement_map(args.map, example="left_thigh=LT") if args.map else None
    session = _with_warnings(lambda: read_recording(
        args.file, SourceFormat.HUGADB, placement_map=mapping, subject_id=args.subject,
        options={"rate_hz": args.rate_hz, "corrupted_gyro": args.corrupted_gyro, "allow_truncated": args.allow_truncated}))
    code = _write(session, args.out, args.gyr_sampling)
    if mapping is None and Placement.LEFT_THIGH in session and Placement.RIGHT_THIGH in session:
        print(f"imugait import: note: {args.file.name}: the sensors went to the sides the dataset documents; in "
              "every HuGaDB walking file tried, each thigh leans like the other side's: `imugait analyze` refuses "
              "such a file as left and right swapped, or warns that a thigh leans like the other side's. To "
              "analyse it, import it with the sides "
              f"exchanged: {HUGADB_EXCHANGED_MAP} (docs/formats.md)", file=sys.stderr)
    return code



def _with_warnings(read):
    """``read()``, printing each warning it raised as one line on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        session = read()
    for w in caught:
        print(f"imugait import: warning: {w.message}", file=sys.stderr)
    return session


def _run_qmt(args: argparse.Namespace) -> int:
    if args.list:
        print("\n".join(qmt_segments(args.file)))
        return 0
    if args.out is None:
        raise ValidationError("--out SESSION.parquet is needed (or --list)")
    check_outputs([args.out], inputs=[args.file], force=args.force)
    mapping = parse_placement_map(args.map, example="left_thigh=upper_leg_left") if args.map else None
    session = read_recording(args.file, SourceFormat.QMT, placement_map=mapping, subject_id=args.subject,
                             options={"steps": args.step})
    return _write(session, args.out, args.gyr_sampling)


def _write(session, out: Path, gyr_sampling: GyroSampling | None = None) -> int:
    """Write ``session`` to ``out``; ``gyr_sampling`` (the user's ``--gyr-sampling``) replaces every
    sensor's declaration, and the session's notes say so."""
    if gyr_sampling is not None:
        session = declare_gyr_sampling(session, gyr_sampling, "--gyr-sampling")
    write_session(session, out)
    streams = ", ".join(f"{p.value} ({s.n_samples} samples)" for p, s in session.items())
    kinds = sorted({s.device.gyr_sampling.value for s in session.values()})
    print(f"wrote {out}: {streams}; gyroscope samples: {', '.join(kinds)}")
    return 0
