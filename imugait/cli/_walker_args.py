"""Walker options shared by ``imugait simulate`` and the ``--emulate`` mode of scan/stream/record."""

from __future__ import annotations

import argparse

from imugait.cli._options import finite_float, playback_speed

DEFAULT_SPEED_MPS = 1.3
DEFAULT_CADENCE_SPM = 110.0


class _DeprecatedAlias(argparse.Action):
    """A hidden old spelling of an option: stores into the new one's ``dest`` and says so on stderr."""

    def __init__(self, option_strings, dest, new_flag: str = "", **kwargs) -> None:
        self.new_flag = new_flag
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        import sys

        print(f"imugait: {option_string} is deprecated here; use {self.new_flag}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_deprecated_alias(group, old_flag: str, new_flag: str, dest: str, type=float) -> None:  # noqa: A002
    """Accept ``old_flag`` for ``new_flag`` (hidden from --help, a warning when used)."""
    group.add_argument(old_flag, dest=dest, type=type, action=_DeprecatedAlias, new_flag=new_flag,
                       default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def add_playback_arg(group, default: float = 1.0) -> None:
    """``--playback X``: how many times faster than real time an emulation plays (``args.playback``).
    ``--speed`` was its name in the live commands (it means walking speed in ``simulate``): a
    deprecated alias."""
    group.add_argument("--playback", type=playback_speed, default=default, metavar="X",
                       help=f"play the emulation X times faster than real time (default {default:g}); "
                            "the walker's walking speed is --walking-speed")
    add_deprecated_alias(group, "--speed", "--playback", "playback", type=playback_speed)


def add_walker_args(parser: argparse.ArgumentParser, speed_alias: bool = True) -> None:
    """Add the walker group: height, walking speed, cadence, stance, the older-walker preset, hip
    rotation and knee valgus per side.

    The walking speed is ``--walking-speed`` (``args.walking_speed``) everywhere; ``speed_alias``
    also accepts its old name in ``simulate``, ``--speed`` (deprecated: in the live commands
    ``--speed`` was the playback factor, now ``--playback``).
    """
    g = parser.add_argument_group("walker")
    g.add_argument("--height", type=finite_float, default=1.75, metavar="M",
                   help="the walker's height (m, default 1.75); segment lengths scale with it")
    g.add_argument("--walking-speed", dest="walking_speed", type=finite_float, default=None, metavar="M/S",
                   help=f"walking speed (default {DEFAULT_SPEED_MPS:g}; the older preset's with --older)")
    if speed_alias:
        add_deprecated_alias(g, "--speed", "--walking-speed", "walking_speed", type=finite_float)
    g.add_argument("--cadence", type=finite_float, default=None, metavar="STEPS/MIN",
                   help=f"cadence (default {DEFAULT_CADENCE_SPM:g}; the older preset's with --older)")
    g.add_argument("--stance-pct", type=finite_float, default=None, metavar="PCT",
                   help="stance as %% of the stride (default: the normative curves' 59 %%; the older preset's "
                        "with --older)")
    g.add_argument("--older", action="store_true",
                   help="a slower, older walker: the middle of the 'older' ranges of "
                        "imugait/data/walker_populations.json (0.8 m/s, 100 steps/min, stance 63.5 %%, "
                        "sagittal excursion x0.925); explicit --walking-speed/--cadence/--stance-pct win")
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
