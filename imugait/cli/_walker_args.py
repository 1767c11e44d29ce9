"""Walker options shared by ``imugait simulate`` and the ``--emulate`` mode of scan/stream/record."""

from __future__ import annotations

import argparse

from imugait.cli._options import finite_float

DEFAULT_SPEED_MPS = 1.3
DEFAULT_CADENCE_SPM = 110.0


def add_walker_args(parser: argparse.ArgumentParser, walking_speed_flag: str = "--speed") -> None:
    """Add the walker group: height, walking speed, cadence, stance, the older-walker preset, hip
    rotation and knee valgus per side.

    ``walking_speed_flag`` names the walking-speed option (``record`` uses ``--speed`` for the
    playback speed, so it passes ``--walking-speed``); its value lands in ``args.walking_speed``.
    """
    g = parser.add_argument_group("walker")
    g.add_argument("--height", type=finite_float, default=1.75, metavar="M")
    g.add_argument(walking_speed_flag, dest="walking_speed", type=finite_float, default=None, metavar="M/S",
                   help=f"walking speed (default {DEFAULT_SPEED_MPS:g}; the older preset's with --older)")
    g.add_argument("--cadence", type=finite_float, default=None, metavar="STEPS/MIN",
                   help=f"cadence (default {DEFAULT_CADENCE_SPM:g}; the older preset's with --older)")
    g.add_argument("--stance-pct", type=finite_float, default=None, metavar="PCT",
                   help="stance as %% of the stride (default: the normative curves' 59 %%; the older preset's "
                        "with --older)")
    g.add_argument("--older", action="store_true",
                   help="a slower, older walker: the middle of the 'older' ranges of "
                        "imugait/data/walker_populations.json (0.8 m/s, 100 steps/min, stance 63.5 %%, "
                        "sagittal excursion x0.925); explicit --speed/--cadence/--stance-pct win")
    # The walker model checks the range (imugait.simulate.walker.SIDE_LIMITS_DEG: hip 40°, knee 20°);
    # importing it here would slow every `imugait --help`.
    for side in ("left", "right"):
        g.add_argument(f"--{side}-hip-rotation", type=finite_float, default=0.0, metavar="DEG",
                       help=f"{side} hip internal-rotation offset (+ = internally rotated; at most ±40)")
        g.add_argument(f"--{side}-knee-valgus", type=finite_float, default=0.0, metavar="DEG",
                       help=f"{side} static knee valgus, standing and walking (+ = knee caves in; at most ±20)")
        g.add_argument(f"--{side}-stance-valgus", type=finite_float, default=0.0, metavar="DEG",
                       help=f"{side} extra knee valgus in stance, peaking mid-stance (at most ±20)")


def walker_params(args: argparse.Namespace):
    """The :class:`~imugait.simulate.WalkerParams` the walker options describe."""
    import dataclasses

    from imugait.simulate import WalkerParams
    from imugait.simulate.populations import Population, typical_walker_params

    base = WalkerParams(height_m=args.height, speed_mps=DEFAULT_SPEED_MPS, cadence_spm=DEFAULT_CADENCE_SPM)
    if getattr(args, "older", False):
        base = typical_walker_params(Population.OLDER, base)
    explicit = {"speed_mps": args.walking_speed, "cadence_spm": args.cadence, "stance_pct": getattr(args, "stance_pct", None)}
    walker = dataclasses.replace(base, **{k: v for k, v in explicit.items() if v is not None})

    def side(name: str, current):
        return dataclasses.replace(
            current,
            hip_rotation_offset_deg=getattr(args, f"{name}_hip_rotation"),
            knee_valgus_deg=getattr(args, f"{name}_knee_valgus"),
            knee_dynamic_valgus_deg=getattr(args, f"{name}_stance_valgus"),
        )

    return dataclasses.replace(walker, left=side("left", walker.left), right=side("right", walker.right))
