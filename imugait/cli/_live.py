"""What ``imugait stream`` and ``imugait record`` share: sensor options, emulation, the live view."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from imugait.cli._options import emulated_sensors as emulated_sensor_count
from imugait.cli._options import sample_loss, seed, sensor_rate_hz
from imugait.cli._walker_args import add_playback_arg, add_walker_args, walker_params


def add_sensor_args(p: argparse.ArgumentParser, several: bool = True) -> None:
    """--port / --ble / --protocol / --adapter (``several``: repeatable, with placements)."""
    g = p.add_argument_group("sensors" if several else "sensor")
    if several:
        g.add_argument("--port", action="append", default=[], metavar="[PLACEMENT=]PATH",
                       help="serial port of a sensor (repeat; placements default to left thigh, left "
                            "shank, right thigh, right shank in order)")
        g.add_argument("--ble", action="append", default=[], metavar="[PLACEMENT=]ADDRESS",
                       help="BLE address of a sensor (repeat)")
    else:
        g.add_argument("--port", action="append", default=[], metavar="PATH",
                       help="serial port of the sensor (e.g. /dev/ttyACM0)")
        g.add_argument("--ble", action="append", default=[], metavar="ADDRESS",
                       help="BLE address of the sensor (see `imugait scan`)")
    g.add_argument("--protocol", default="imugait_v1", help="protocol of --port/--ble sensors (default imugait_v1)")
    g.add_argument("--adapter", default=None, help="BlueZ adapter for --ble (default: the first)")


def add_source_args(p: argparse.ArgumentParser) -> None:
    add_sensor_args(p)
    g = p.add_argument_group("emulation (no hardware)")
    g.add_argument("--emulate", type=emulated_sensor_count, default=0, metavar="N",
                   help="play N simulated sensors (1-4: left/right thigh/shank) instead of real ones")
    add_playback_arg(g)
    g.add_argument("--carrier", choices=("serial", "ble"), default="serial",
                   help="emulated sensors on pseudo-terminals (default) or as BLE peripherals")
    g.add_argument("--rate", type=sensor_rate_hz, default=200.0, metavar="HZ",
                   help="emulated sample rate (20-1000, default 200)")
    g.add_argument("--loss", type=sample_loss, default=0.0, metavar="P",
                   help="probability an emulated sample is lost (0-0.5)")
    g.add_argument("--seed", type=seed, default=0,
                   help="seed of the emulated walker and of the sample losses (0 to 2^32-1, default 0)")
    add_walker_args(p, speed_alias=False)


def sources_from_args(args: argparse.Namespace):
    """One :class:`SensorSource` per --port / --ble option."""
    from imugait.live.run import sources_from_specs

    return sources_from_specs(args.port, args.ble, args.protocol, args.adapter)


def opener_from_args(args: argparse.Namespace, duration_s: float | None = None):
    """The sensors to open: an emulated walker (``--emulate N``) or the --port / --ble sensors."""
    if not args.emulate:
        from imugait.live.run import real_sensors

        return real_sensors(sources_from_args(args))
    from imugait.emulate.sensors import emulated_sensors, emulated_walk

    devices = emulated_walk(args.emulate, duration_s, walker_params(args), args.rate, args.loss, args.carrier,
                            args.playback, args.seed)
    return emulated_sensors(devices, args.playback, args.carrier)


async def acquire(args: argparse.Namespace, duration_s: float | None,
                  make_recorder: Callable[[float], object] | None = None, opener=None):
    """Open the sensors (or an emulation), show the live view until the duration, the end of the
    emulated walk, or Ctrl-C. Returns (final status, interrupted, recorder).

    Build ``opener`` with :func:`opener_from_args` *before* the event loop runs: preparing an
    emulation takes seconds of computing, and only outside the loop does Ctrl-C stop it at once
    (inside, asyncio defers the interrupt until the next ``await``)."""
    from rich.console import Console
    from rich.live import Live

    from imugait.live.run import stream

    opener = opener or opener_from_args(args, duration_s)
    with Live(render((), 0.0, args), console=Console(), refresh_per_second=4) as view:
        return await stream(opener, duration_s, make_recorder,
                            on_tick=lambda status, t_s: view.update(render(status, t_s, args)))


def print_stopped(status, interrupted: bool) -> None:
    """One line at the end of a live run: samples and losses per sensor."""
    print(f"stopped{' (Ctrl-C)' if interrupted else ''}: " + ", ".join(
        f"{s.placement.value} {s.n_samples} samples, {s.n_lost} lost" for s in status))


LINK_WORDS = {"connecting": "opening", "connected": "ok", "reconnecting": "retrying", "closed": "closed"}
"""Link states as the live table shows them (short enough for an 80-column terminal or a log)."""


def run_title(args: argparse.Namespace, t_session_s: float) -> str:
    """``imugait record — 4 emulated sensors, playback 3× — t = 12.0 s`` (or ``— live sensors —``)."""
    # ``assess --emulate`` is a flag for its four sensors; ``record``/``stream --emulate N`` count them.
    n = 4 if args.emulate is True else args.emulate
    mode = (f"{n} emulated sensor{'s' if n != 1 else ''}, playback {args.playback:g}×"
            if args.emulate else "live sensors")
    return f"imugait {args.command} — {mode} — t = {t_session_s:.1f} s"


def render(status, t_session_s: float, args: argparse.Namespace):
    """The live table: one row per sensor, fitting 80 columns (and a log file) without cutting a word.

    The clock's offset is not shown: device clocks start anywhere, so session-minus-device time is a
    large meaningless number; its drift (ppm) is what tells a clock is off."""
    from rich import box
    from rich.table import Table

    from imugait.live.acquisition import lost_fraction

    table = Table(title=run_title(args, t_session_s), title_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for name, justify in (("sensor", "left"), ("link", "left"), ("Hz", "right"), ("samples", "right"),
                          ("lost", "right"), ("battery", "right"), ("drift\nppm", "right"),
                          ("bad\nbytes", "right"), ("outages", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    for s in status:
        side, segment = s.placement.value.split("_", 1)
        down_s = sum(d for _, d in s.outages)
        table.add_row(
            f"{side[0].upper()} {segment}", LINK_WORDS.get(s.link_state.value, s.link_state.value),
            f"{s.rate_hz:.0f}", str(s.n_samples), f"{s.n_lost} ({100 * lost_fraction(s):.1f}%)",
            "—" if s.battery_percent is None else f"{s.battery_percent:.0f}%", f"{s.drift_ppm:+.0f}",
            str(s.bytes_discarded), f"{len(s.outages)} ({down_s:.1f} s)" if s.outages else "0",
        )
    return table
