"""Shared by the emulator end-to-end tests: a time-limited runner and a serial recording."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import numpy as np

from imugait.acquisition.recorder import Recorder
from imugait.acquisition.sources import SensorSource, SourceKind
from imugait.emulate.device import SentRecord
from imugait.live.acquisition import LiveAcquisition, LiveConfig
from imugait.live.ticks import TICK_SPREAD_FRACTION, PushTicks, SerialReads
from imugait.model import ImuStream


def run(coro: Coroutine[Any, Any, Any], timeout_s: float) -> Any:
    """Run a test coroutine with a hard time limit, so a bug cannot hang the suite (a hang guard:
    the emulations run on a virtual clock, so a loaded machine makes them slower, not different)."""

    async def limited() -> Any:
        async with asyncio.timeout(timeout_s):
            return await coro

    return asyncio.run(limited())


def everything_arrived(live: LiveAcquisition, emulator) -> bool:
    """The emulation is over and the host accepted every sample the devices sent."""
    if not emulator.finished:
        return False
    got = {s.placement: s.n_samples for s in live.status()}
    return all(got[p] >= n for p, n in emulator.finished_counts.items())


async def read_at_ticks(live: LiveAcquisition, clock, spread_fraction: float = TICK_SPREAD_FRACTION) -> None:
    """The dashboard's push loop without the pushes: the serial ports read at each tick (spread
    by ``spread_fraction``), on ``clock``, until cancelled."""
    ticks = PushTicks(clock, 0.025, spread_fraction)
    try:
        while True:
            await ticks.tick(live.read_ports)
            ticks.advance()
    finally:
        ticks.release()


async def record_serial(emulator, folder, timeout_s: float = 300.0, during=None, until=None,
                        serial_reads: SerialReads = SerialReads.READINESS,
                        spread_fraction: float = TICK_SPREAD_FRACTION):
    """Record every sensor of a running SerialEmulator until all it sent has arrived.

    ``during(live)`` (async), if given, runs alongside; ``until(live)`` replaces the stop
    condition. ``serial_reads=PUSH_TICK``: the ports read at ticks spread by ``spread_fraction``
    (:func:`read_at_ticks`). Returns (session path, final status, decoders by placement).
    """
    sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
    config = LiveConfig(host_clock=emulator.clock, serial_reads=serial_reads)
    with Recorder(folder, subject_id="emulated", t0_host_s=emulator.clock()) as rec:
        async with LiveAcquisition(sources, config, recorder=rec) as live:
            side = asyncio.ensure_future(during(live)) if during is not None else None
            reader = (asyncio.ensure_future(read_at_ticks(live, emulator.clock, spread_fraction))
                      if serial_reads is SerialReads.PUSH_TICK else None)
            async with asyncio.timeout(timeout_s):
                done = until or (lambda live: everything_arrived(live, emulator))
                await live.run(until=lambda: done(live), tick_s=0.05)
            if reader is not None:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            if side is not None:
                await side
            status = {s.placement: s for s in live.status()}
            decoders = {p: live.decoder(p) for p in emulator.paths}
        path = rec.finalise()
    return path, status, decoders


async def record_ble(devices, folder, speed: float, disconnects=(), faults=()):
    """Record every device as a BLE peripheral on an emulated BlueZ through the real bleak backend
    until all it sent has arrived; ``faults`` are the emulator's device faults. Returns (session
    path, final status by placement, links the emulator dropped by placement)."""
    from imugait.emulate.bluez import EmulatedBlueZ
    from imugait.emulate.emulator import BleEmulator
    from imugait.transport.ble import scan_ble

    async with EmulatedBlueZ() as bluez, BleEmulator(devices, bluez, speed=speed, disconnects=disconnects,
                                                               faults=faults) as emulator:
        found = {r.address: r for r in await scan_ble(1.3, adapter=bluez.central_adapter)}
        sources = [SensorSource(p, SourceKind.BLE, a, ble_device=found[a].device, adapter=bluez.central_adapter)
                   for p, a in emulator.addresses.items()]
        with Recorder(folder, t0_host_s=emulator.clock()) as rec:
            async with LiveAcquisition(sources, LiveConfig(host_clock=emulator.clock), recorder=rec) as live:
                await live.run(until=lambda: everything_arrived(live, emulator), tick_s=0.05)
                status = {s.placement: s for s in live.status()}
            return rec.finalise(), status, dict(emulator.links_dropped)


def alignment_errors_s(session, truth: dict[Any, ImuStream], sent: dict[Any, SentRecord]) -> dict:
    """Recorded t_s minus the simulator's true time of each sample, per placement."""
    return {p: session[p].t_s - truth[p].t_s[sent[p].source_index] for p in sent}


def common_offset_s(errors: dict) -> float:
    """The latency/offset all sensors share (it stays in the session clock by design)."""
    return float(np.median(np.concatenate(list(errors.values()))))
