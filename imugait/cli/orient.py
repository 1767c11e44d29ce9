"""``imugait orient``: every sensor's orientation over time, as CSV."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._options import add_force_arg, output_rate_hz
from imugait.cli._session import add_calibration_arg, add_filter_arg, load_session


def register(sub: argparse._SubParsersAction) -> None:

    p = sub.add_parser(
        "orient",
        help="write each sensor's orientation over time (CSV, z-up world, scalar-first quaternions)",
        description=(
            "Fuse each sensor of a session (any session: recorded, simulated or imported) and write "
            "t_s plus <placement>_q_w/_q_x/_q_y/_q_z on one time grid. Without --magnetometer the "
            "heading of each sensor is arbitrary (its own start heading); see docs/fusion.md."
        ),
    )
    p.add_argument("session", type=Path, help="session file (.parquet)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE.csv",
                   help="the CSV to write: t_s and every sensor's q_world_sensor (scalar-first) on one time grid")
    add_filter_arg(p)
    p.add_argument("--magnetometer", action="store_true",
                   help="9-axis fusion (heading from magnetic north; only where the field is undisturbed)")
    p.add_argument("--rate", type=output_rate_hz, default=None, metavar="HZ",
                   help="output rate, 1-1000 Hz (default: the highest sensor rate)")
    add_calibration_arg(p)
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait.fusion.settings import FilterKind
    from imugait.io.orientation_csv import write_orientation_csv
    from imugait.kinematics.prepare import fuse_session
    from imugait.output_guard import check_outputs

    check_outputs([args.out], inputs=[args.session], force=args.force)
    session = load_session(args.session, args)
    fused = fuse_session(session, FilterKind(args.filter), use_magnetometer=args.magnetometer, rate_hz=args.rate)
    path = write_orientation_csv(fused.t_s, {p: s.q_world_sensor for p, s in fused.sensors.items()}, args.out)
    print(f"wrote {path}: {len(fused.sensors)} sensors × {fused.t_s.size} samples ({args.filter}, "
          f"{'9-axis' if args.magnetometer else '6-axis'})")
    return 0
