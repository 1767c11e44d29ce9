"""``imugait calibrate imu``: the guided intrinsic calibration of one sensor.

Data comes from a recorded session (``--from``) or the emulator (``--emulate``: the simulator's
sensor model put through the procedure); live sensors are wired in by the acquisition stage later.
The procedure itself is :class:`imugait.calibration.procedure.IntrinsicProcedure`; this module only
feeds it, prints its instructions and progress, and writes ``<out>/<device-id>.json``.
"""

from __future__ import annotations

import argparse

from imugait.errors import ImugaitError

_CHUNK_S = 0.25
"""Samples are fed in chunks of this length, as a live sensor would deliver them."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="calibrate sensors (intrinsic: gyro bias, accelerometer, magnetometer)",
        description="Calibrate sensors. 'imu': the per-sensor (intrinsic) calibration.",
    )
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    imu = kinds.add_parser(
        "imu", help="intrinsic calibration of one sensor",
        description=(
            "Guide through six still positions and a slow rotation, then estimate the gyroscope "
            "bias, accelerometer bias and scale (and misalignment with --edges) and the "
            "magnetometer hard and soft iron; write OUT/<device-id>.json."
        ),
    )
    imu.add_argument("--device", metavar="ID", help="device id (default with --from: the stream's)")
    source = imu.add_mutually_exclusive_group()
    source.add_argument("--emulate", action="store_true", help="run on an emulated sensor (simulator)")
    source.add_argument("--from", dest="from_path", metavar="SESSION.parquet",
                        help="run on a recorded session whose stream contains the positions")
    imu.add_argument("--placement", metavar="PLACEMENT",
                     help="stream of the session to use (e.g. left_thigh; needed if it has several)")
    imu.add_argument("--out", default="calibration", metavar="DIR", help="output folder (default: calibration)")
    imu.add_argument("--hold-s", type=float, default=5.0, help="seconds to hold each position (default 5)")
    imu.add_argument("--rotation-s", type=float, default=30.0, help="seconds of rotation (default 30)")
    imu.add_argument("--edges", action="store_true", help="six more positions on edges (estimates misalignment)")
    imu.add_argument("--no-mag", action="store_true", help="skip the rotation step (no magnetometer calibration)")
    imu.add_argument("--seed", type=int, default=0, help="emulator seed")
    imu.set_defaults(func=run_imu)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_imu(args: argparse.Namespace) -> int:
    import numpy as np
    from rich.console import Console
    from rich.panel import Panel

    from imugait.calibration import CalibrationStore, IntrinsicProcedure, ProcedureConfig

    console = Console(highlight=False)
    stream, truth = _source(args)
    device_id = args.device or stream.device.device_id
    if device_id == "unknown":
        raise ImugaitError("the recording does not name its device: give --device ID")
    config = ProcedureConfig(
        hold_s=args.hold_s, rotation_s=args.rotation_s, with_edges=args.edges, with_rotation=not args.no_mag,
    )
    proc = IntrinsicProcedure(device_id, stream.sample_rate_hz, config, has_magnetometer=stream.mag_uT is not None)
    console.rule(f"Intrinsic calibration of {device_id}")
    for i, step in enumerate(proc.steps, 1):
        console.print(f"  {i}. {step.title}")
    shown = -1
    chunk = max(1, int(round(_CHUNK_S * stream.sample_rate_hz)))
    progress = proc.progress
    for i0 in range(0, stream.n_samples, chunk):
        if progress.step_index != shown and not progress.done:
            shown = progress.step_index
            step = progress.step
            console.print(Panel(step.instruction, title=f"step {shown + 1} of {progress.n_steps}: {step.title}"))
        sl = slice(i0, i0 + chunk)
        mag = None if stream.mag_uT is None else stream.mag_uT[sl]
        progress = proc.feed(stream.t_s[sl], stream.acc_mps2[sl], stream.gyr_radps[sl], mag)
        for event in progress.events:
            console.print(f"  [green]✓[/green] {event}")
        if progress.done:
            break
    if not progress.done:
        console.print(f"  [yellow]recording ended[/yellow]: {progress.hint}")
    result = proc.finish()
    cal = result.calibration
    path = CalibrationStore(args.out).save(cal)

    def vec(v, scale=1.0, fmt="+.4f"):
        return "[" + ", ".join(format(x * scale, fmt) for x in v) + "]"

    console.rule("Result")
    console.print(f"gyroscope bias      {vec(cal.gyr_bias_radps)} rad/s  ({cal.still_s:.0f} s still)")
    console.print(f"accelerometer bias  {vec(cal.acc_bias_mps2)} m/s²  ({cal.acc_model}, {cal.n_positions} positions)")
    console.print(f"accelerometer scale {vec((result.acc.scale - 1.0) * 100, fmt='+.3f')} %  "
                  f"(residual {cal.acc_residual_rms_mps2:.4f} m/s²)")
    if cal.mag_calibrated:
        console.print(f"magnetometer        hard iron {vec(cal.mag_hard_iron_uT, fmt='+.2f')} µT, field "
                      f"{cal.mag_field_uT:.1f} µT, residual {cal.mag_residual_rms_uT:.2f} µT, "
                      f"coverage {cal.mag_coverage:.0%}")
    else:
        console.print("magnetometer        not calibrated")
    if truth is not None:
        sensor = truth.sensor
        scale_true = np.linalg.norm(sensor.acc_gain, axis=1)
        held = np.zeros(stream.n_samples, dtype=bool)
        for pos in result.positions:
            held |= (stream.t_s >= pos.summary.t_start_s) & (stream.t_s <= pos.summary.t_end_s)
        gyr_bias_true = truth.gyr_bias_radps[held].mean(axis=0)  # the bias wanders; compare where it was measured
        console.print(
            f"[dim]emulator truth: errors — gyro bias {np.abs(cal.gyr_bias_radps - gyr_bias_true).max():.1e} rad/s, "
            f"acc bias {np.abs(cal.acc_bias_mps2 - sensor.acc_bias_mps2).max():.4f} m/s², "
            f"acc scale {np.abs(result.acc.scale / scale_true - 1.0).max() * 100:.3f} %"
            + (f", hard iron {np.abs(cal.mag_hard_iron_uT - truth.mag_hard_iron_uT).max():.3f} µT" if cal.mag_calibrated else "")
            + "[/dim]"
        )
    console.print(f"wrote {path}")
    return 0


def _source(args: argparse.Namespace):
    """The stream to run the procedure on, and the emulator's truth (None for recordings)."""
    from imugait.conventions import Placement

    try:
        placement = Placement.parse(args.placement) if args.placement else None
    except ValueError as exc:
        raise ImugaitError(str(exc)) from None
    if args.emulate:
        if not args.device:
            raise ImugaitError("--emulate needs --device ID (the id the calibration file is named after)")
        from imugait.simulate.static_poses import (
            EDGE_UP_AXES,
            FACE_UP_AXES,
            StaticPoseConfig,
            simulate_static_poses,
        )

        config = StaticPoseConfig(
            up_axes=FACE_UP_AXES + (EDGE_UP_AXES if args.edges else ()), hold_s=args.hold_s + 1.5,
            rotation_s=0.0 if args.no_mag else args.rotation_s + 5.0, placement=placement or Placement.LEFT_THIGH,
            device_id=args.device, seed=args.seed,
        )
        return simulate_static_poses(config)
    if args.from_path:
        from imugait.io.native import read_session

        session = read_session(args.from_path)
        if placement is not None:
            if placement not in session:
                have = ", ".join(p.value for p in session)
                raise ImugaitError(f"{args.from_path} has no {placement.value} stream (it has: {have})")
            return session[placement], None
        if len(session) != 1:
            have = ", ".join(p.value for p in session)
            raise ImugaitError(f"{args.from_path} has several streams ({have}): choose one with --placement")
        return session.streams[0], None
    raise ImugaitError(
        "live sensors are not wired into 'calibrate imu' yet: use --emulate, or --from SESSION.parquet "
        "--placement PLACEMENT with a recording of the procedure"
    )

