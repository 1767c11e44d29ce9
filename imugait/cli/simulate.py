"""``imugait simulate``: write a synthetic session with its ground truth."""

from __future__ import annotations

import argparse

from imugait.cli._options import (
    add_force_arg,
    finite_range,
    int_range,
    sample_loss,
    seed,
    sensor_rate_hz,
)
from imugait.cli._walker_args import add_walker_args, walker_params
from imugait.conventions import Placement


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="write a simulated walking session and its ground truth",
        description=(
            "Simulate a person walking (the assessment's walking test, a 10-m walk test, a corridor walk, "
            "or the whole assessment battery) with IMUs on the thighs and shanks, and write "
            "DIR/session.parquet plus DIR/truth/."
        ),
    )
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder (created; a folder holding a session needs --force, a recording's never)")
    add_force_arg(p)
    p.add_argument("--seed", type=seed, default=0, help="random seed (0 to 2^32-1, default 0)")
    p.add_argument("--subject", default="sim-0000", help="pseudonymous subject id")
    p.add_argument("--rate", type=sensor_rate_hz, default=100.0, metavar="HZ", help="sample rate (20-1000, default 100)")
    g = p.add_argument_group("protocol")
    g.add_argument("--protocol", choices=PROTOCOLS, default="walking",
                   help="walking: the assessment's walking test (default; --bouts, --bout-s); ten-metre: a "
                        "10-m walk test (--passes); corridor: up and down a 30-m corridor (--minutes); battery: "
                        "the whole assessment battery with every step annotated (for `imugait assess --from`)")
    g.add_argument("--bouts", type=int_range(1, 20), default=None, help="walking: straight walking bouts (1-20, default 2)")
    g.add_argument("--bout-s", type=finite_range(2.0, 600.0, "s"), default=None,
                   help="walking: seconds per bout (2-600, default 12)")
    g.add_argument("--passes", type=int_range(1, 10), default=None, help="ten-metre: passes of 10 m, 180-degree turns "
                   "between (1-10, default 2)")
    g.add_argument("--minutes", type=finite_range(0.5, 30.0, "min"), default=None,
                   help="corridor: minutes of walking, turns included, at most: the walk ends with the last "
                        "whole length that fits (3 gives 178 s; clinical tests use 2-6; default 6)")
    g.add_argument("--stand-s", type=finite_range(0.5, 120.0, "s"), default=5.0,
                   help="standing before and after (0.5-120 s, default 5)")
    g.add_argument("--no-standing", action="store_true", help="ten-metre, corridor: no standing before or after "
                   "(walking starts at the first sample and stops at the last)")
    add_walker_args(p)
    g = p.add_argument_group("sensors")
    g.add_argument("--pelvis", action="store_true", help="also wear a pelvis sensor")
    g.add_argument("--aligned", action="store_true", help="sensor axes aligned with the segments "
                   "(default: strapped on at arbitrary rotations)")
    g.add_argument("--ideal", action="store_true", help="no noise, bias, quantisation, drift or wobble")
    g.add_argument("--sta", type=soft_tissue_scale, default=0.0, metavar="literature|none|SCALE",
                   help="soft-tissue artefact of thigh and shank sensors: 'literature' draws every amplitude "
                        "from the sourced ranges of imugait/data/soft_tissue_artefact.json, a number scales "
                        "them (0.5 = half), 'none' (default) leaves it out; on, it replaces the small "
                        "heel-strike wobble")
    g.add_argument("--loss", type=sample_loss, default=0.0, metavar="P",
                   help="probability a lost burst starts at a sample (0-0.5)")
    g.add_argument("--drift-ppm", type=finite_range(0.0, 1000.0, "ppm"), default=30.0,
                   help="SD of the clock error per sensor (0-1000 ppm, default 30)")
    g.add_argument("--mag-disturbance", type=finite_range(0.0, 500.0, "µT"), default=0.0, metavar="UT",
                   help="peak of a magnetic disturbance beside the path (0-500 µT)")
    p.set_defaults(func=run)


PROTOCOLS = ("walking", "ten-metre", "corridor", "battery")
MAX_SIMULATED_S = 3600.0
"""Longest simulated session (s): an hour at 1000 Hz is already about 4 GB of truth."""
SIMULATION_FILES = ("session.parquet", "truth/series.parquet", "truth/events.csv", "truth/cycles.csv",
                    "truth/values.csv", "truth/sensors.json", "truth/config.json")


def soft_tissue_scale(value: str) -> float:
    """``--sta``: see :func:`imugait.simulate.soft_tissue.scale_from_text`."""
    from imugait.errors import ValidationError
    from imugait.simulate.soft_tissue import scale_from_text

    try:
        return scale_from_text(value)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    # Imported here so that `imugait --help` stays fast.
    import dataclasses

    from rich.console import Console

    from imugait.errors import ValidationError
    from imugait.output_guard import check_session_folder
    from imugait.simulate import LOWER_LIMBS, SensorErrors, SimulationConfig, simulate
    from imugait.simulate.output import write_simulation

    check_session_folder(args.out, SIMULATION_FILES, force=args.force)
    errors = SensorErrors.ideal() if args.ideal else SensorErrors()
    errors = dataclasses.replace(
        errors,
        loss_probability=args.loss,
        clock_drift_ppm=0.0 if args.ideal else args.drift_ppm,
        magnetic_disturbance_uT=args.mag_disturbance,
        soft_tissue_scale=args.sta,
        wobble_deg=0.0 if args.sta > 0 else errors.wobble_deg,
    )
    walker = walker_params(args)
    if args.no_standing and args.protocol not in ("ten-metre", "corridor"):
        raise ValidationError("--no-standing applies to --protocol ten-metre and corridor")
    _protocol_options(args)
    if args.protocol == "battery":
        return _run_battery(args, walker, errors)
    timeline = _timeline(args, walker.speed_mps)
    _check_duration(sum(phase.duration_s for phase in timeline))
    config = SimulationConfig(
        walker=walker,
        timeline=timeline,
        errors=errors,
        placements=((Placement.PELVIS,) if args.pelvis else ()) + LOWER_LIMBS,
        sample_rate_hz=args.rate,
        random_mounting=not args.aligned,
        seed=args.seed,
        subject_id=args.subject,
    )
    duration_s = sum(phase.duration_s for phase in timeline)
    # a 6-minute corridor walk takes about 10 s of CPU: say what is happening meanwhile (a terminal only)
    with Console(stderr=True).status(f"simulating {duration_s:.0f} s of the {args.protocol} protocol"):
        result = simulate(config)
        path = write_simulation(result, args.out)
    steady = result.truth.cycles.query("steady")
    print(f"wrote {path} ({result.session!r})")
    print(f"ground truth in {path.parent / 'truth'}: {len(steady)} steady strides of "
          f"{len(result.truth.cycles)}, duration {result.session.t_end_s:.1f} s")
    return 0


PROTOCOL_OPTIONS = {
    "bouts": (("walking", "battery"), 2), "bout_s": (("walking", "battery"), 12.0),
    "passes": (("ten-metre",), 2), "minutes": (("corridor",), 6.0),
}
"""Each protocol option: the protocols it shapes and its default. Given with another protocol it is
refused (``--minutes 3`` without ``--protocol corridor`` gave a 36-s walking test, silently)."""


def _protocol_options(args: argparse.Namespace) -> None:
    """Refuse a protocol option given with a protocol it does not shape; fill in the defaults."""
    from imugait.errors import ValidationError

    for name, (protocols, default) in PROTOCOL_OPTIONS.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
        elif args.protocol not in protocols:
            raise ValidationError(f"--{name.replace('_', '-')} applies to --protocol {' and '.join(protocols)}, not "
                                  f"{args.protocol}: add --protocol {protocols[0]}, or leave --{name.replace('_', '-')} out")


def _timeline(args: argparse.Namespace, speed_mps: float):
    from imugait.simulate import corridor_walk, ten_metre_walk, walking_test

    if args.protocol == "ten-metre":
        return ten_metre_walk(speed_mps, passes=args.passes, standing=not args.no_standing, stand_s=args.stand_s)
    if args.protocol == "corridor":
        return corridor_walk(speed_mps, 60.0 * args.minutes, standing=not args.no_standing, stand_s=args.stand_s)
    return walking_test(n_bouts=args.bouts, bout_s=args.bout_s, stand_s=args.stand_s)


def _check_duration(duration_s: float) -> None:
    from imugait.errors import ValidationError

    if duration_s > MAX_SIMULATED_S:
        raise ValidationError(f"the session would last {duration_s:g} s; at most {MAX_SIMULATED_S:g} s can be "
                              "simulated (fewer or shorter bouts)")


def _run_battery(args: argparse.Namespace, walker, errors) -> int:
    from imugait.simulate import LOWER_LIMBS, walking_test
    from imugait.simulate.protocols import (
        ProtocolSimConfig,
        simulate_protocols,
        write_protocol_simulation,
    )

    walking = walking_test(n_bouts=args.bouts, bout_s=args.bout_s, stand_s=args.stand_s)
    _check_duration(sum(phase.duration_s for phase in walking))
    sim = simulate_protocols(ProtocolSimConfig(
        walker=walker, walking=walking,
        errors=errors, placements=((Placement.PELVIS,) if args.pelvis else ()) + LOWER_LIMBS,
        sample_rate_hz=args.rate, random_mounting=not args.aligned, seed=args.seed, subject_id=args.subject,
    ))
    path = write_protocol_simulation(sim, args.out)
    print(f"wrote {path} ({sim.session!r})")
    print(f"assessment battery, {len(sim.session.meta.steps)} annotated steps, duration {sim.session.t_end_s:.1f} s; "
          f"truth in {path.parent / 'truth'}")
    return 0
