"""What ``imugait stream`` and ``imugait record`` share: sensor options, emulation, the live view."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time
from collections.abc import Callable

from imugait.cli._options import emulated_sensors, playback_speed, sample_loss, seed, sensor_rate_hz
from imugait.cli._walker_args import add_walker_args, walker_params

EMULATION_MARGIN_S = 10.0
"""Extra walk simulated beyond --duration: connecting and starting take some walker time."""
MAX_EMULATED_WALK_S = 3600.0
"""Longest walk an emulation simulates up front (--duration plus the margin at --speed)."""


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
    g.add_argument("--emulate", type=emulated_sensors, default=0, metavar="N",
                   help="play N simulated sensors (1-4: left/right thigh/shank) instead of real ones")
    g.add_argument("--speed", type=playback_speed, default=1.0, metavar="X",
                   help="play the emulation X times faster than real time (default 1)")
    g.add_argument("--carrier", choices=("serial", "ble"), default="serial",
                   help="emulated sensors on pseudo-terminals (default) or as BLE peripherals")
    g.add_argument("--rate", type=sensor_rate_hz, default=200.0, metavar="HZ",
                   help="emulated sample rate (20-1000, default 200)")
    g.add_argument("--loss", type=sample_loss, default=0.0, metavar="P",
                   help="probability an emulated sample is lost (0-0.5)")
    g.add_argument("--seed", type=seed, default=0, help="emulation seed (0 to 2^32-1)")
    add_walker_args(p, walking_speed_flag="--walking-speed")


def sources_from_args(args: argparse.Namespace):
    """One :class:`SensorSource` per --port / --ble option."""
    from imugait.acquisition.live import SensorSource, SourceKind
    from imugait.conventions import Placement
    from imugait.errors import ValidationError
    from imugait.simulate import LOWER_LIMBS

    given = [(SourceKind.SERIAL, v) for v in args.port] + [(SourceKind.BLE, v) for v in args.ble]
    if not given:
        raise ValidationError("no sensors: give --port PATH or --ble ADDRESS (repeatable), or --emulate N")
    named = {}
    for kind, value in given:
        head, sep, tail = value.partition("=")
        with contextlib.suppress(ValueError):
            if sep:
                named[(kind, value)] = (Placement.parse(head), tail)
    free = [p for p in LOWER_LIMBS if p not in {pl for pl, _ in named.values()}]
    sources = []
    for kind, value in given:
        placement, address = named.get((kind, value)) or (free.pop(0) if free else None, value)
        if placement is None:
            raise ValidationError("more sensors than placements: name them as PLACEMENT=ADDRESS")
        sources.append(SensorSource(placement, kind, address, args.protocol, adapter=args.adapter))
    return sources


async def acquire(args: argparse.Namespace, duration_s: float | None,
                  make_recorder: Callable[[float], object] | None = None):
    """Open the sensors (or an emulation), show the live view until the duration, the end of the
    emulated walk, or Ctrl-C. Returns (final status, interrupted, recorder)."""
    from rich.console import Console
    from rich.live import Live

    from imugait.acquisition.live import LiveAcquisition, LiveConfig
    from imugait.transport.emulated_device import DeviceSettings
    from imugait.transport.emulator import emulated_devices, walker_simulation

    clock: Callable[[], float] = time.monotonic
    emulator = None
    async with contextlib.AsyncExitStack() as stack:
        if args.emulate:
            walk_s = (duration_s if duration_s is not None else 60.0) + EMULATION_MARGIN_S * args.speed
            if walk_s > MAX_EMULATED_WALK_S:
                from imugait.errors import ValidationError

                raise ValidationError(f"an emulation of {walk_s:g} s of walking (--duration plus {EMULATION_MARGIN_S:g} s "
                                      f"at --speed) is too long: at most {MAX_EMULATED_WALK_S:g} s")
            result = walker_simulation(args.emulate, walk_s, walker_params(args), args.rate, seed=args.seed)
            settings = DeviceSettings(sample_loss_probability=args.loss,
                                      samples_per_block=4 if args.carrier == "serial" else None, seed=args.seed)
            sources, emulator = await open_emulation(stack, emulated_devices(result, settings), args.speed,
                                                     args.carrier)
            clock = emulator.clock
        else:
            sources = sources_from_args(args)
        recorder = make_recorder(clock()) if make_recorder is not None else None
        live = LiveAcquisition(sources, LiveConfig(host_clock=clock), recorder=recorder)
        stop = asyncio.Event()
        with stop_on_sigint(stop):
            console = Console()
            async with live:
                with Live(render(live.status(), 0.0, args), console=console, refresh_per_second=4) as view:
                    await live.run(duration_s, stop, until=(lambda: emulator.finished) if emulator else None,
                                   on_tick=lambda st: view.update(render(st, clock() - live.t0_host_s, args)))
            return live.status(), stop.is_set(), recorder


async def open_emulation(stack: contextlib.AsyncExitStack, devices, speed: float, carrier: str = "serial"):
    """Start emulated ``devices`` (placement → EmulatedDevice) on pseudo-terminals or as BLE
    peripherals, closed with ``stack``. Returns (sources to open, the emulator); the emulator's
    ``clock`` is the host clock to acquire with."""
    from imugait.acquisition.live import SensorSource, SourceKind
    from imugait.transport.emulator import BleEmulator, SerialEmulator

    if carrier == "serial":
        emulator = stack.enter_context(SerialEmulator(devices, speed))
        return [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()], emulator
    from imugait.transport.ble import scan_ble
    from imugait.transport.bluez_emulation import EmulatedBlueZ

    bluez = await stack.enter_async_context(EmulatedBlueZ())
    emulator = await stack.enter_async_context(BleEmulator(devices, bluez, speed))
    found = {r.address: r for r in await scan_ble(1.3, adapter=bluez.central_adapter)}
    sources = [SensorSource(p, SourceKind.BLE, a, ble_device=found[a].device if a in found else None,
                            adapter=bluez.central_adapter) for p, a in emulator.addresses.items()]
    return sources, emulator


@contextlib.contextmanager
def stop_on_sigint(stop: asyncio.Event):
    """While inside, Ctrl-C (SIGINT) sets ``stop`` instead of raising KeyboardInterrupt (on the
    running event loop, where the platform allows it)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        yield stop
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)


def render(status, t_session_s: float, args: argparse.Namespace):
    """The live table: one row per sensor."""
    from rich.table import Table

    from imugait.acquisition.live import lost_fraction

    mode = f"emulated x{args.speed:g}" if args.emulate else "live"
    table = Table(title=f"imugait {args.command} — {mode} — t = {t_session_s:7.1f} s", title_justify="left")
    for name, justify in (("sensor", "left"), ("link", "left"), ("Hz", "right"), ("samples", "right"),
                          ("lost", "right"), ("batt", "right"), ("drift ppm", "right"), ("offset s", "right"),
                          ("bad B", "right"), ("outages", "right")):
        table.add_column(name, justify=justify)
    for s in status:
        table.add_row(
            s.placement.value, s.link_state.value, f"{s.rate_hz:.0f}", str(s.n_samples),
            f"{s.n_lost} ({100 * lost_fraction(s):.1f} %)",
            "—" if s.battery_percent is None else f"{s.battery_percent:.0f} %", f"{s.drift_ppm:+.1f}",
            "—" if s.clock_offset_s is None else f"{s.clock_offset_s:.3f}", str(s.bytes_discarded),
            " ".join(f"{d:.1f}s@{t:.0f}" for t, d in s.outages) or "0",
        )
    return table
