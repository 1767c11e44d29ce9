"""``imugait import dot|ximu3|apdm|mvnx``: the vendor exports labs already have (docs/formats.md).

Kept apart from ``import_.py`` so each set of sub-commands can change without touching the other;
``import_.register`` calls :func:`register_formats` with its shared ``--out/--subject`` options and
its writer."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from imugait.output_guard import check_outputs

_CLOCK_HELP = ("shared: the devices' time stamps are one clock (synchronised sensors); start: each device's first "
               "sample is t = 0")


def register_formats(sources, common: Callable[[argparse.ArgumentParser], None], write: Callable) -> None:
    def run(reader):
        def handler(args: argparse.Namespace) -> int:
            source = getattr(args, "folder", None) or args.file
            check_outputs([args.out], inputs=list(source.rglob("*.csv")) if source.is_dir() else [source], force=args.force)
            return write(reader(args), args.out, args.gyr_sampling)
        return handler

    p = sources.add_parser("dot", help="Movella DOT app/SDK CSV exports, one file per sensor",
                           epilog="example: imugait import dot exports/ --map left_thigh=1 --map left_shank=2 --out s.parquet")
    p.add_argument("folder", type=Path, help="folder holding one exported .csv per sensor")
    _map(p, "DeviceTag or a part of the file name (the tag or MAC address)", required=True)
    p.add_argument("--clock", choices=("shared", "start"), default=None,
                   help=_CLOCK_HELP + " (default: shared when every file says SyncStatus: Synced, else start)")
    p.add_argument("--rate-hz", type=float, default=None, help="output rate, only if the files do not state it")
    common(p)
    p.set_defaults(func=run(_read_dot))

    p = sources.add_parser("ximu3", help="x-IMU3 GUI CSV logs (a folder with one sub-folder per device)",
                           epilog="example: imugait import ximu3 'Logged Data/' --map left_thigh=F7E4-5410-EC7B-D7E7 "
                                  "--map left_shank=65A3-0F2B-91C4-7D10 --out s.parquet")
    p.add_argument("folder", type=Path, help="the log folder (or one device folder)")
    _map(p, "device serial number or device folder name", required=True)
    p.add_argument("--clock", choices=("shared", "start"), default="shared", help=_CLOCK_HELP + " (default shared)")
    common(p)
    p.set_defaults(func=run(_read_ximu3))

    p = sources.add_parser("apdm", help="APDM Opal .h5 (file format 5; needs imugait[hdf5])",
                           epilog="example: imugait import apdm walk.h5 --out s.parquet")
    p.add_argument("file", type=Path, help="the .h5 file")
    _map(p, "the sensor's label ('Left Upper Leg') or case id; default: the known labels in the file")
    common(p)
    p.set_defaults(func=run(_read_apdm))

    p = sources.add_parser("mvnx", help="Xsens MVN .mvnx: the sensors' orientation and free acceleration",
                           epilog="example: imugait import mvnx walk.mvnx --out s.parquet")
    p.add_argument("file", type=Path, help="the .mvnx file")
    _map(p, "MVN sensor label (LeftUpperLeg …); default: MVN's leg and pelvis labels in the file")
    common(p)
    p.set_defaults(func=run(_read_mvnx))


def _map(p: argparse.ArgumentParser, what: str, required: bool = False) -> None:
    p.add_argument("--map", action="append", required=required, default=None, metavar="PLACEMENT=SENSOR",
                   help=f"where a sensor was worn: placement (left_thigh, right_shank, pelvis …) = {what}; "
                        f"repeat for each sensor")


def _placements(args: argparse.Namespace):
    from imugait.io import parse_placement_map

    return parse_placement_map(args.map) if args.map else None


def _read(fmt: str, path: Path, args: argparse.Namespace, **options):
    from imugait.io import read_recording

    return read_recording(path, fmt, placement_map=_placements(args), subject_id=args.subject, options=options)


def _read_dot(args: argparse.Namespace):
    return _read("dot", args.folder, args, rate_hz=args.rate_hz, clock=args.clock)


def _read_ximu3(args: argparse.Namespace):
    return _read("ximu3", args.folder, args, clock=args.clock)


def _read_apdm(args: argparse.Namespace):
    return _read("apdm", args.file, args)


def _read_mvnx(args: argparse.Namespace):
    return _read("mvnx", args.file, args)
