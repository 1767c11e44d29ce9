"""``imugait export opensim|c3d|bids SESSION --out …``: analyse a session and write it in a format
other tools read (docs/formats.md, "Exports")."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._options import add_force_arg
from imugait.cli._session import add_calibration_arg, add_filter_arg, load_session
from imugait.output_guard import check_outputs

FORMATS = ("opensim", "c3d", "bids")


def register(sub: argparse._SubParsersAction) -> None:

    p = sub.add_parser(
        "export", help="analyse a session and export it for OpenSim/OpenSense, C3D tools or a BIDS-motion dataset",
        description="Analyse a session (as `imugait analyze` does) and write its calibrated segment orientations, "
                    "joint angles and gait events in another tool's format (docs/formats.md).",
        epilog="examples: imugait export opensim s01.parquet --out s01_opensim/; "
               "imugait export c3d s01.parquet --out s01.c3d; "
               "imugait export bids s01.parquet --out dataset/ --task walking",
    )
    p.add_argument("format", choices=FORMATS, help="opensim: .sto + setup XML + .mot in a folder; c3d: one file; "
                                                   "bids: a BIDS-motion dataset folder")
    p.add_argument("session", type=Path, help="session file (.parquet)")
    p.add_argument("--out", type=Path, required=True, metavar="PATH",
                   help="folder (opensim, bids) or .c3d file (c3d)")
    p.add_argument("--stem", default=None, help="opensim: file name stem (default: the session's)")
    p.add_argument("--model-file", default="Rajagopal_2015.osim",
                   help="opensim: the model the IMU placer setup names (default Rajagopal_2015.osim)")
    p.add_argument("--task", default="walking", help="bids: task label (default walking)")
    p.add_argument("--subject", default=None, help="bids: subject label (default: the session's pseudonym)")
    add_filter_arg(p)
    add_calibration_arg(p)
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait.analysis import AnalysisConfig, analyze_session
    from imugait.fusion.settings import FilterKind

    if args.format == "c3d":  # before the analysis: a refusal should not wait for it
        check_outputs([args.out], inputs=[args.session], force=args.force)
    session = load_session(args.session, args)
    result = analyze_session(session, AnalysisConfig(filter_kind=FilterKind(args.filter)))
    stem = args.stem or args.session.name.removesuffix(".parquet")
    if args.format == "opensim":
        from imugait.export.opensim import export_opensim

        written = export_opensim(result, args.out, stem=stem, model_file=args.model_file, force=args.force).all
    elif args.format == "c3d":
        from imugait.export.c3d import export_c3d

        written = (export_c3d(result, args.out, force=args.force),)
    else:
        from imugait.export.bids import export_bids

        files = export_bids(result, args.out, task=args.task, subject=args.subject, session=session,
                            force=args.force)
        written = (files.motion_tsv, files.channels_tsv, files.motion_json, files.events_tsv, *files.raw)
    for path in written:
        print(f"wrote {path}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0
