"""Running live acquisition: which sensors to open, Ctrl-C, and the stream / record loop.

A live run reads an :class:`OpenedSensors`: the sources to open, the host clock to stamp
arrivals with and, for an emulation, the emulator (which says when it has played everything).
Real sensors come from :func:`real_sensors`; emulated ones from
:func:`imugait.emulate.sensors.emulated_sensors` — this package does not import the emulation,
the command line hands it in.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from imugait.acquisition.assembler import AcquisitionConfig
from imugait.acquisition.sources import SensorSource, SourceKind
from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.live.acquisition import LiveAcquisition, LiveConfig, SensorStatus
from imugait.live.ticks import SerialReads
from imugait.model import EventKind

T = TypeVar("T")

DEFAULT_PLACEMENTS = (Placement.LEFT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_THIGH, Placement.RIGHT_SHANK)
"""Placements of sensors given without one, in order."""


@dataclass(frozen=True)
class OpenedSensors:
    """What a live run reads.

    Attributes
    ----------
    sources : one per sensor.
    clock : the host clock arrivals are stamped with (s, monotonic): :func:`time.monotonic` for
        real sensors, the emulator's clock for an emulation.
    emulator : the running emulation (``finished``, ``finished_counts``, ``world_t0_s``), else None.
    transport_factory : the opener's own transports (``LiveConfig.transport_factory``: the
        in-process wire of an accelerated run, :meth:`imugait.emulate.wire.WireEmulation.opener`);
        None: serial and BLE by each source's kind.
    """

    sources: Sequence[SensorSource]
    clock: Callable[[], float] = time.monotonic
    emulator: Any = None
    transport_factory: Callable[[SensorSource], Any] | None = None

    def live_config(self, keep_samples: bool = True, serial_reads: SerialReads = SerialReads.READINESS) -> LiveConfig:
        """The live acquisition's settings for these sensors: their clock and transports.
        ``keep_samples=False`` for an acquisition without a recorder whose session nobody
        assembles (a watch, the dashboard): it then keeps counters, the clock fit, the event log
        and the live buffers only — memory flat however long it runs. ``serial_reads``: when the
        serial ports are read (``PUSH_TICK`` only for a run whose push loop reads them)."""
        return LiveConfig(acquisition=AcquisitionConfig(keep_samples=keep_samples), host_clock=self.clock,
                          transport_factory=self.transport_factory, serial_reads=serial_reads)

    @property
    def finished(self) -> bool:
        """An emulation has played everything (never for real sensors)."""
        return self.emulator is not None and self.emulator.finished


SensorOpener = Callable[[contextlib.AsyncExitStack], Awaitable[OpenedSensors]]
"""Opens the sensors of a run (closed with the stack)."""


def sources_from_specs(ports: Sequence[str], bles: Sequence[str], protocol: str = "imugait_v1",
                       adapter: str | None = None) -> list[SensorSource]:
    """One :class:`SensorSource` per ``[PLACEMENT=]PATH`` (serial) and ``[PLACEMENT=]ADDRESS`` (BLE);
    unnamed sensors take the free placements in the order left thigh, left shank, right thigh,
    right shank."""
    given = [(SourceKind.SERIAL, v) for v in ports] + [(SourceKind.BLE, v) for v in bles]
    if not given:
        raise ValidationError("no sensors: give --port PATH or --ble ADDRESS (repeatable), or --emulate N")
    named = {}
    for kind, value in given:
        head, sep, tail = value.partition("=")
        with contextlib.suppress(ValueError):
            if sep:
                named[(kind, value)] = (Placement.parse(head), tail)
    free = [p for p in DEFAULT_PLACEMENTS if p not in {pl for pl, _ in named.values()}]
    sources = []
    for kind, value in given:
        placement, address = named.get((kind, value)) or (free.pop(0) if free else None, value)
        if placement is None:
            raise ValidationError("more sensors than placements: name them as PLACEMENT=ADDRESS")
        sources.append(SensorSource(placement, kind, address, protocol, adapter=adapter))
    return sources


def real_sensors(sources: Sequence[SensorSource]) -> SensorOpener:
    """An opener of real sensors, stamped with :func:`time.monotonic`."""
    async def open_(_stack: contextlib.AsyncExitStack) -> OpenedSensors:
        return OpenedSensors(list(sources))
    return open_


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to the end on a new event loop, as :func:`asyncio.run` does: uvloop's where it is
    installed (Linux, macOS), else asyncio's. A live run wakes the loop for every sensor's chunk
    (4 × 50/s) and every push to the page (40/s); uvloop spends less CPU per wake-up. The objects
    that exist when it starts are kept out of the garbage collector's full passes
    (:func:`frozen_heap`)."""
    try:
        import uvloop
    except ImportError:
        uvloop = None
    with frozen_heap():
        if uvloop is None:
            return asyncio.run(main)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(main)


@contextlib.contextmanager
def frozen_heap():
    """Within it, the objects that exist on entry (the modules imported — numpy, scipy, uvicorn, … —,
    about 120,000 objects in a live run) are left out of the garbage collector's passes
    (:func:`gc.freeze`), after one collection of what is garbage already; on exit they are
    collected as usual again. A full pass over them took 55–80 ms of the loop's thread, the
    interpreter lock held — every thread stopped, every push waiting —, and came about once in a
    40-s live run (in data time, as the calibration's objects came and went); over the objects
    made since, it takes about 2 ms (docs/live-history.md, "Tenth round"). Objects alive on entry
    that become cyclic garbage during the run are collected after it. A heap frozen by the
    caller, or a collector switched off, is left as it is."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


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


async def stream(opener: SensorOpener, duration_s: float | None,
                 make_recorder: Callable[[float], Any] | None = None,
                 on_tick: Callable[[tuple[SensorStatus, ...], float], None] | None = None):
    """Open the sensors, acquire until ``duration_s`` of session time, the end of an emulation or
    Ctrl-C, calling ``on_tick(status, t_session_s)`` as it goes. ``make_recorder(t0_host_s)``
    gives the recorder to write to (None: only watch). Returns (final status, interrupted, recorder)."""
    async with contextlib.AsyncExitStack() as stack:
        opened = await opener(stack)
        clock = opened.clock
        recorder = make_recorder(clock()) if make_recorder is not None else None
        # Without a recorder the session is never assembled: no sample is kept (memory flat).
        live = LiveAcquisition(opened.sources, opened.live_config(keep_samples=recorder is not None), recorder=recorder)
        stop = asyncio.Event()
        with stop_on_sigint(stop):
            async with live:
                tick = None if on_tick is None else (lambda st: on_tick(st, clock() - live.t0_host_s))
                await live.run(duration_s, stop, until=(lambda: opened.finished) if opened.emulator else None,
                               on_tick=tick)
                if stop.is_set():
                    live.add_event(EventKind.INTERRUPTED, detail="stopped with Ctrl-C")
        return live.status(), stop.is_set(), recorder
