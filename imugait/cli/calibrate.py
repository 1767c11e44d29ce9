"""``imugait calibrate imu``: the guided intrinsic calibration of one sensor.

Live (``--port PATH`` or ``--ble ADDRESS``): the sensor is opened with live acquisition
(:mod:`imugait.live.acquisition`), every decoded block goes to a
:class:`~imugait.live.calibration_guide.LiveGuide` as it arrives, and a rich view shows the current
instruction, the seconds held still, whether the position is new, the overall progress and what
to do next. ``--emulate`` runs the same path on the simulator's sensor put through the procedure
(:mod:`imugait.simulate.static_poses`), played by an emulated device on a pseudo-terminal in our
protocol at ``--playback``. ``--from`` runs the procedure on a recording. On success
``<out>/<device-id>.json`` is written; on Ctrl-C or an incomplete procedure nothing is.
"""

from __future__ import annotations

import argparse

from imugait.cli._live import add_sensor_args
from imugait.cli._options import add_force_arg, finite_range, seed
from imugait.cli._walker_args import add_playback_arg
from imugait.errors import CalibrationError, ImugaitError

_CHUNK_S = 0.25
"""Samples of a recording are fed in chunks of this length, as a live sensor would deliver them."""
INTERRUPTED_EXIT = 130


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate", help="calibrate sensors (intrinsic: gyro bias, accelerometer, magnetometer)",
        description="Calibrate sensors. 'imu': the per-sensor (intrinsic) calibration.",
    )
    kinds = p.add_subparsers(dest="kind", metavar="KIND")
    imu = kinds.add_parser(
        "imu", help="intrinsic calibration of one sensor",
        description=(
            "Guide through six still positions and a slow rotation with a live sensor (--port or "
            "--ble), an emulated one (--emulate) or a recording (--from), then estimate the "
            "gyroscope bias, accelerometer bias and scale (and misalignment with --edges) and the "
            "magnetometer hard and soft iron; write OUT/<device-id>.json. Ctrl-C stops; nothing "
            "is written unless every step was completed."
        ),
    )
    imu.add_argument("--device", metavar="ID",
                     help="device id the calibration is written under (default: the id the sensor "
                          "announces, or the recording's)")
    imu.add_argument("--out", default="calibration", metavar="DIR", help="output folder (default: calibration)")
    add_force_arg(imu)
    imu.add_argument("--hold-s", type=finite_range(1.0, 60.0, "s"), default=5.0,
                     help="seconds to hold each position (1-60, default 5)")
    imu.add_argument("--rotation-s", type=finite_range(5.0, 600.0, "s"), default=30.0,
                     help="seconds of rotation (5-600, default 30)")
    imu.add_argument("--edges", action="store_true", help="six more positions on edges (estimates misalignment)")
    imu.add_argument("--no-mag", action="store_true", help="skip the rotation step (no magnetometer calibration)")
    add_sensor_args(imu, several=False)
    g = imu.add_argument_group("without a sensor")
    g.add_argument("--emulate", action="store_true",
                   help="an emulated sensor (the simulator's, put through the procedure) streamed over a "
                        "pseudo-terminal in the imugait protocol, through the same live path")
    add_playback_arg(g, default=10.0)
    g.add_argument("--seed", type=seed, default=0, help="emulator seed (0 to 2^32-1)")
    g.add_argument("--from", dest="from_path", metavar="SESSION.parquet",
                   help="run on a recorded session whose stream contains the positions")
    g.add_argument("--placement", metavar="PLACEMENT",
                   help="stream of the session to use (e.g. left_thigh; needed if it has several)")
    imu.set_defaults(func=run_imu)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_imu(args: argparse.Namespace) -> int:
    from rich.console import Console

    from imugait.calibration import ProcedureConfig
    from imugait.live.calibration_guide import LiveGuide
    from imugait.live.run import run_event_loop

    chosen = [name for name, given in (("--emulate", args.emulate), ("--from", args.from_path),
                                       ("--port", args.port), ("--ble", args.ble)) if given]
    if len(chosen) > 1:
        raise ImugaitError(f"choose one source of data, not {' and '.join(chosen)}")
    if not chosen:
        raise ImugaitError(
            "no sensor: give --port PATH (serial) or --ble ADDRESS, --emulate for an emulated sensor, "
            "or --from SESSION.parquet --placement PLACEMENT with a recording of the procedure"
        )
    _check_out_folder(args)
    console = Console(highlight=False)
    config = ProcedureConfig(
        hold_s=args.hold_s, rotation_s=args.rotation_s, with_edges=args.edges, with_rotation=not args.no_mag,
    )
    if args.from_path:
        return _run_recording(args, config, console)
    stream = truth = devices = None
    if args.emulate:
        from imugait.emulate.sensors import emulated_sensor, simulated_procedure

        stream, truth = simulated_procedure(args.hold_s, args.rotation_s, args.edges, args.no_mag, args.seed)
        devices = {stream.placement: emulated_sensor(stream, args.seed)}
    guide = LiveGuide(config, args.device)
    run = run_event_loop(guided_acquisition(args, guide, devices, console=console))
    if run.interrupted:
        state = guide.state
        where = f" during step {state.step_number} of {state.n_steps} ({state.title})" if state.title else ""
        console.print(f"[yellow]interrupted (Ctrl-C){where}[/yellow]: nothing was written")
        return INTERRUPTED_EXIT
    try:
        result = guide.finish()
    except CalibrationError as exc:
        if guide.failed or guide.done:  # the guide stopped on an error, or a fit refused
            reason = f"calibration failed: {exc}"
        else:
            why = "the sensor stopped sending" if devices is None else "the emulation ended"
            reason = f"calibration not completed ({why}): {exc}"
        raise CalibrationError(f"{reason}; nothing was written to {args.out}") from None
    path = _save_and_report(result, args, console)
    if truth is not None:
        console.print(_truth_errors(result, stream, truth, run.true_time_offset_s))
    console.print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------------------- live


async def guided_acquisition(args: argparse.Namespace, guide, devices=None, console=None, on_state=None,
                             stop=None):
    """Open one sensor (``args.port`` / ``args.ble``) or play emulated ``devices`` (placement →
    EmulatedDevice, at ``args.playback``) and show the guided view while
    :func:`~imugait.live.calibration_guide.guided_calibration` feeds ``guide``."""
    from rich.live import Live

    from imugait.cli._live import sources_from_args
    from imugait.live.calibration_guide import guided_calibration
    from imugait.live.run import real_sensors

    if devices is not None:
        from imugait.emulate.sensors import emulated_sensors

        opener, mode = emulated_sensors(devices, args.playback, "serial"), f"emulated ×{args.playback:g}"
    else:
        opener, mode = real_sensors(sources_from_args(args)), "live"
    with Live(render_guide(guide.state, None, mode), console=console, refresh_per_second=8) as view:
        log = _Log(view.console)

        def tick(sensor) -> None:
            state = guide.state
            log.update(guide, state)
            view.update(render_guide(state, sensor, mode))

        run = await guided_calibration(guide, opener, stop=stop, on_state=on_state, on_tick=tick)
        view.console.print()
    return run


class _Log:
    """Lines printed above the live view, so a transcript stays: the steps, then each acceptance."""

    def __init__(self, console) -> None:
        self.console = console
        self.n_accepted = 0
        self.started = False

    def update(self, guide, state) -> None:
        if not self.started and guide.procedure is not None:
            self.started = True
            self.console.rule(f"Intrinsic calibration of {state.device_id}")
            for i, step in enumerate(guide.procedure.steps, 1):
                self.console.print(f"  {i}. {step.title}")
        for line in state.accepted[self.n_accepted:]:
            self.console.print(f"  [green]✓[/green] {line}")
        self.n_accepted = len(state.accepted)


def render_guide(state, sensor, mode: str):
    """The guided view: sensor line, current step, stillness, position, progress, prompt."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    parts: list = [Text(f"imugait calibrate imu — {state.device_id or 'sensor'} — {mode} — "
                        f"t = {state.t_s:6.1f} s", style="bold")]
    if sensor is not None:
        parts.append(Text(f"{sensor.kind.value} {sensor.address}: {sensor.link_state.value}, "
                          f"{sensor.rate_hz:.0f} Hz, {sensor.n_samples} samples, {sensor.n_lost} lost",
                          style="dim"))
    if state.phase == "waiting":
        parts.append(Panel(state.prompt, title="connecting"))
        return Group(*parts)
    if state.title:
        parts.append(Panel(state.instruction, title=f"step {state.step_number} of {state.n_steps}: {state.title}"))
    grid = Table.grid(padding=(0, 2))
    if state.phase == "running" and state.is_hold:
        still = "[green]● still[/green]" if state.stillness == "still" else "[red]● not still[/red]"
        grid.add_row("sensor", f"{still}  held {state.still_s:4.1f} of {state.hold_s:g} s")
        if state.position:
            new = "new" if state.is_new else "[yellow]already done[/yellow]"
            asked = "[green]as asked[/green]" if state.matches_step else f"[yellow]not {state.title}[/yellow]"
            grid.add_row("position", f"{state.position} — {asked}, {new}")
        else:
            grid.add_row("position", "— (moving)")
    elif state.phase == "running":
        grid.add_row("rotation", f"{state.rotation_s:4.1f} s, {state.coverage:.0%} of directions covered")
    bar = Table.grid(padding=(0, 1))
    bar.add_row(ProgressBar(total=1.0, completed=state.overall, width=40), f"{state.overall:.0%} overall")
    grid.add_row("progress", bar)
    parts.append(grid)
    style = "bold red" if state.phase == "failed" else "bold green" if state.phase == "done" else "bold"
    parts.append(Text(f"→ {state.prompt}", style=style))
    return Group(*parts)


# ---------------------------------------------------------------------------------- emulation


def _truth_errors(result, stream, truth, offset_s: float) -> str:
    """The calibration's errors against the simulator's truth (one dim line)."""
    import numpy as np

    cal, sensor = result.calibration, truth.sensor
    scale_true = np.linalg.norm(sensor.acc_gain, axis=1)
    held = np.zeros(stream.n_samples, dtype=bool)
    for pos in result.positions:  # the gyro bias wanders: compare where it was measured
        held |= (stream.t_s >= pos.summary.t_start_s + offset_s) & (stream.t_s <= pos.summary.t_end_s + offset_s)
    gyr_bias_true = truth.gyr_bias_radps[held].mean(axis=0)
    text = (
        f"[dim]emulator truth: errors — gyro bias {np.abs(cal.gyr_bias_radps - gyr_bias_true).max():.1e} rad/s, "
        f"acc bias {np.abs(cal.acc_bias_mps2 - sensor.acc_bias_mps2).max():.4f} m/s², "
        f"acc scale {np.abs(result.acc.scale / scale_true - 1.0).max() * 100:.3f} %"
    )
    if cal.mag_calibrated:
        text += f", hard iron {np.abs(cal.mag_hard_iron_uT - truth.mag_hard_iron_uT).max():.3f} µT"
    return text + "[/dim]"


# ---------------------------------------------------------------------------------- recordings


def _run_recording(args: argparse.Namespace, config, console) -> int:
    from rich.panel import Panel

    from imugait.calibration import IntrinsicProcedure

    stream = _recorded_stream(args)
    device_id = args.device or stream.device.device_id
    if device_id == "unknown":
        raise ImugaitError("the recording does not name its device: give --device ID")
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
    path = _save_and_report(result, args, console)
    console.print(f"wrote {path}")
    return 0


def _recorded_stream(args: argparse.Namespace):
    from imugait.conventions import Placement
    from imugait.io.native import read_session

    try:
        placement = Placement.parse(args.placement) if args.placement else None
    except ValueError as exc:
        raise ImugaitError(str(exc)) from None
    session = read_session(args.from_path)
    if placement is not None:
        if placement not in session:
            have = ", ".join(p.value for p in session)
            raise ImugaitError(f"{args.from_path} has no {placement.value} stream (it has: {have})")
        return session[placement]
    if len(session) != 1:
        have = ", ".join(p.value for p in session)
        raise ImugaitError(f"{args.from_path} has several streams ({have}): choose one with --placement")
    return session.streams[0]


# ---------------------------------------------------------------------------------- result


def _check_out_folder(args: argparse.Namespace) -> None:
    """Before the procedure: ``--out`` must be a folder, and with ``--device`` its file is checked."""
    from pathlib import Path

    from imugait.calibration import CalibrationStore
    from imugait.output_guard import check_output

    folder = Path(args.out)
    if folder.exists() and not folder.is_dir():
        raise ImugaitError(f"--out {folder} is a file: give a folder for the calibration files")
    if args.device and folder.is_dir():
        check_output(CalibrationStore(folder).path_for(args.device), force=args.force)


def _save_and_report(result, args: argparse.Namespace, console):
    """Write the calibration to ``args.out`` and print what it found; returns the path.

    A calibration file of the device that exists is replaced only with ``--force``; otherwise it is
    kept and the new one is written beside it under a dated name (the procedure is not lost)."""
    import datetime as _dt

    from imugait.calibration import CalibrationStore

    cal = result.calibration
    store = CalibrationStore(args.out)
    existing = store.path_for(cal.device_id)
    if existing.exists() and not args.force:
        stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = store.save(cal, f"{existing.stem}.{stamp}.json")
        console.print(f"[yellow]{existing} exists and was kept (use --force to replace it); the new calibration "
                      f"is in {path.name} — rename it to {existing.name} to use it[/yellow]")
    else:
        path = store.save(cal)

    def vec(v, scale=1.0, fmt="+.4f"):
        return "[" + ", ".join(format(x * scale, fmt) for x in v) + "]"

    console.rule(f"Result for {cal.device_id}")
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
    return path
