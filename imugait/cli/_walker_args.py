"""Walker options shared by ``imugait simulate`` and the ``--emulate`` mode of scan/stream/record."""

from __future__ import annotations

import argparse


def add_walker_args(parser: argparse.ArgumentParser, walking_speed_flag: str = "--speed") -> None:
    """Add the walker group: height, walking speed, cadence, hip rotation and knee valgus per side.

    ``walking_speed_flag`` names the walking-speed option (``record`` uses ``--speed`` for the
    playback speed, so it passes ``--walking-speed``); its value lands in ``args.walking_speed``.
    """
    g = parser.add_argument_group("walker")
    g.add_argument("--height", type=float, default=1.75, metavar="M")
    g.add_argument(walking_speed_flag, dest="walking_speed", type=float, default=1.3, metavar="M/S",
                   help="walking speed (default 1.3)")
    g.add_argument("--cadence", type=float, default=110.0, metavar="STEPS/MIN")
    for side in ("left", "right"):
        g.add_argument(f"--{side}-hip-rotation", type=float, default=0.0, metavar="DEG",
                       help=f"{side} hip internal-rotation offset (+ = internally rotated)")
        g.add_argument(f"--{side}-knee-valgus", type=float, default=0.0, metavar="DEG",
                       help=f"{side} static knee valgus, standing and walking (+ = knee caves in)")
        g.add_argument(f"--{side}-stance-valgus", type=float, default=0.0, metavar="DEG",
                       help=f"{side} extra knee valgus in stance, peaking mid-stance (dynamic valgus)")


def walker_params(args: argparse.Namespace):
    """The :class:`~imugait.simulate.WalkerParams` the walker options describe."""
    from imugait.simulate import SideParams, WalkerParams

    return WalkerParams(
        height_m=args.height, speed_mps=args.walking_speed, cadence_spm=args.cadence,
        left=SideParams(hip_rotation_offset_deg=args.left_hip_rotation, knee_valgus_deg=args.left_knee_valgus,
                        knee_dynamic_valgus_deg=args.left_stance_valgus),
        right=SideParams(hip_rotation_offset_deg=args.right_hip_rotation, knee_valgus_deg=args.right_knee_valgus,
                         knee_dynamic_valgus_deg=args.right_stance_valgus),
    )
