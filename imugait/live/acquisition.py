"""Live acquisition: N transports → decoders → the assembler (or the crash-safe recorder).

One asyncio task per sensor reads its transport, stamps each chunk with the host clock the moment
it comes off the transport (serial ports read at the push tick, :attr:`SerialReads.PUSH_TICK`:
the moment :meth:`LiveAcquisition.read_ports` reads it), decodes it with the sensor's protocol decoder and hands every message
(a serial transport hands a chunk that comes while the task waits straight to the same handling,
in the port's reader callback, without waking the task: ``handle_chunks_with``) to the :class:`~imugait.acquisition.recorder.Recorder` (when recording) or to a
:class:`~imugait.acquisition.assembler.SessionAssembler`. :meth:`LiveAcquisition.status` gives a
per-sensor live view: rate over the last second, lost samples, battery, link state, clock drift
and offset, decoder errors, outages.

::

    sources = [SensorSource(Placement.LEFT_THIGH, SourceKind.SERIAL, "/dev/ttyACM0"), ...]
    with Recorder("sessions/p01") as rec:               # or recorder=None to only watch
        async with LiveAcquisition(sources, recorder=rec) as live:
            await live.run(duration_s=60.0, on_tick=lambda status: ...)
        rec.finalise()
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from imugait.acquisition.assembler import AcquisitionConfig, LiveSamples, SessionAssembler
from imugait.acquisition.recorder import Recorder
from imugait.acquisition.sources import PROTOCOLS, SensorSource, SourceKind
from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.live.ticks import SerialReads
from imugait.model import EventKind
from imugait.protocol.base import Decoder
from imugait.protocol.messages import DeviceAnnouncement, SampleBlock
from imugait.transport.ble import BleTransport
from imugait.transport.ble_profiles import KNOWN_PROFILES
from imugait.transport.link import LinkEvent, LinkState, TransportError
from imugait.transport.serial import SerialTransport


@dataclass(frozen=True)
class LiveConfig:
    """Settings of live acquisition.

    ``host_clock`` stamps arrivals (s); it must be monotonic. Leave it at
    :func:`time.monotonic` for real sensors; an emulation passes its own clock. A clock with a
    ``consumed(placement, n_bytes)`` method (an emulation's virtual clock,
    :class:`~imugait.emulate.clock.VirtualClock`) is told after every chunk was handled: the
    emulation waits for the host instead of running ahead of it (back-pressure), so arrival
    stamps do not depend on how busy the machine is. Its ``lost(placement)`` is called when a
    link (re)connects: bytes that were waiting in a reopened port are gone.
    """

    acquisition: AcquisitionConfig = field(default_factory=AcquisitionConfig)
    host_clock: Callable[[], float] = time.monotonic
    rate_window_s: float = 1.0
    """Rates in the status are averaged over this much host time."""
    send_start: bool = True
    """Write the protocol's start commands whenever a link (re)connects."""
    ble_connect_timeout_s: float = 10.0
    serial_reads: SerialReads = SerialReads.READINESS
    """When the serial ports are read: at each readiness event, or only when
    :meth:`LiveAcquisition.read_ports` is called (a push loop's tick, which must then call it).
    BLE links are unaffected (bleak hands each notification to a callback as it comes). On an
    emulation's virtual clock the push loop's ticks hold the clock (:mod:`imugait.live.ticks`)."""
    transport_factory: Callable[[SensorSource], Any] | None = None
    """Builds each sensor's transport (an async context manager and async iterator of
    ``bytes | LinkEvent`` with ``open``, ``close`` and ``write``) instead of the serial or BLE
    transport its source names: for in-process emulations (:mod:`imugait.emulate.wire`)."""


@dataclass(frozen=True)
class SensorStatus:
    """One sensor's live state (times on the session clock, s)."""

    placement: Placement
    address: str
    kind: SourceKind
    link_state: LinkState
    device_id: str
    rate_hz: float
    """Samples accepted per second over the last ``rate_window_s``."""
    n_samples: int
    n_lost: int
    battery_percent: float | None
    drift_ppm: float
    """Online estimate of the device clock's rate error relative to the host clock."""
    clock_offset_s: float | None
    """Session time minus device time at the newest sample (None before the first)."""
    bytes_discarded: int
    frame_errors: int
    """Frames that failed their CRC or were malformed."""
    reconnects: int
    outages: tuple[tuple[float, float], ...]
    """(session time the link went down, seconds it stayed down) per outage."""


@dataclass
class _DecoderCounts:
    bytes_discarded: int = 0
    device_resets: int = 0
    clock_resets: int = 0


class _SensorLink:
    """Transport, decoder and counters of one sensor."""

    def __init__(self, source: SensorSource, config: LiveConfig) -> None:
        self.source = source
        support = PROTOCOLS[source.protocol]
        self.support = support
        serial = source.kind is SourceKind.SERIAL
        self.decoder: Decoder = (support.serial_decoder if serial else support.ble_decoder)()
        if config.transport_factory is not None:
            self.transport: Any = config.transport_factory(source)
        elif serial:
            self.transport = SerialTransport(source.address, source.baud_rate,
                                             watch=config.serial_reads is SerialReads.READINESS)
        else:
            profile = next(p for p in KNOWN_PROFILES if p.name == source.protocol)
            self.transport = BleTransport(source.ble_device or source.address, profile, adapter=source.adapter,
                                          connect_timeout_s=config.ble_connect_timeout_s)
        self.state = LinkState.CONNECTING
        self.device_id = ""
        self.arrivals: deque[tuple[float, int]] = deque()
        self.newest_times: tuple[np.ndarray, np.ndarray] | None = None
        """(session times, device times in µs) of the newest block mapped whole: the clock offset
        is worked out from them when a status asks for it, not for every block."""
        self.reconnects = 0
        self.outages: list[list[float]] = []
        self.command_errors: list[str] = []
        self.seen = _DecoderCounts()
        """Decoder counters already written to the event log."""

    def clock_offset_s(self) -> float | None:
        """Session time minus device time at the newest sample (None before the first)."""
        if self.newest_times is None:
            return None
        t_s, t_device_us = self.newest_times
        return float(t_s[-1] - t_device_us[-1] * 1e-6)


class LiveAcquisition:
    """Stream N sensors into the assembler or a recorder; an async context manager.

    Parameters
    ----------
    sources : one per sensor, distinct placements.
    config : LiveConfig
    recorder : when given, every message goes to it (crash-safe log) and its assembler is used;
        its ``t0_host_s`` must be on ``config.host_clock``.
    observer : called as ``observer(placement, message, live)`` after each decoded message was
        handled, with ``live`` the :class:`LiveSamples` it yielded (None for other messages);
        for consumers of the samples as they arrive (the guided calibration). It runs on the
        event loop: keep it short.
    """

    def __init__(self, sources: Sequence[SensorSource], config: LiveConfig | None = None,
                 recorder: Recorder | None = None,
                 observer: Callable[[Placement, Any, LiveSamples | None], None] | None = None) -> None:
        placements = [s.placement for s in sources]
        if not sources or len(set(placements)) != len(placements):
            raise ValidationError(f"live acquisition needs sensors at distinct placements, got {[p.value for p in placements]}")
        self.config = config or LiveConfig()
        self.clock = self.config.host_clock
        self.recorder = recorder
        self.assembler = recorder.assembler if recorder is not None else SessionAssembler(
            self.config.acquisition, self.clock(), {s.placement: s.protocol for s in sources})
        self._sink = recorder if recorder is not None else self.assembler
        self._links = {s.placement: _SensorLink(s, self.config) for s in sources}
        self._observer = observer
        self._consumed: Callable[[Placement, int], None] | None = getattr(self.clock, "consumed", None)
        self.reads_at_tick = self.config.serial_reads is SerialReads.PUSH_TICK
        """The serial ports are read only by :meth:`read_ports` (the push loop's tick)."""
        self._read_at_tick = [link for link in self._links.values()
                              if self.reads_at_tick and hasattr(link.transport, "read_waiting")]
        self.reads_at_tick = bool(self._read_at_tick)  # (no serial port: nothing to read at the tick)
        self._flushed: Callable[[Placement], None] | None = getattr(self.clock, "lost", None)
        self._tasks: list[asyncio.Task[None]] = []
        self._t_end_host_s: float | None = None
        """Host-clock time from which arrivals are no longer taken (set by :meth:`run` with a duration)."""

    @property
    def t0_host_s(self) -> float:
        return float(self.assembler.t0_host_s)

    def decoder(self, placement: Placement) -> Decoder:
        return self._links[placement].decoder

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> LiveAcquisition:
        """Open every transport (all or none) and start reading."""
        links = list(self._links.values())
        results = await asyncio.gather(*(link.transport.open() for link in links), return_exceptions=True)
        failed = [(link, r) for link, r in zip(links, results, strict=True) if isinstance(r, BaseException)]
        if failed:
            for link, r in zip(links, results, strict=True):
                if not isinstance(r, BaseException):
                    await link.transport.close()
            raise TransportError("; ".join(f"{link.source.placement.value}: {exc}" for link, exc in failed))
        self._tasks = [asyncio.create_task(self._consume(link), name=f"live-{p.value}")
                       for p, link in self._links.items()]
        return self

    def read_ports(self) -> int:
        """Read every serial port's waiting bytes now (non-blocking) and handle each chunk as it
        is read (stamped now, decoded, handed on: recorded, fed); the bytes read. Only with
        ``serial_reads=PUSH_TICK``, where nothing else reads the serial ports: the push loop
        calls it at each tick, before its poll. Without it, 0."""
        return sum(link.transport.read_waiting() for link in self._read_at_tick)

    async def close(self) -> None:
        """Close the transports; messages already queued are still handled (ports read at the
        tick are read once more first: what came since the last tick is not left unread)."""
        self.read_ports()
        for link in self._links.values():
            with contextlib.suppress(Exception):
                await link.transport.close()
        for task in self._tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5.0)
        self._tasks.clear()
        for p, link in self._links.items():
            for message in link.decoder.flush():
                live = self._sink.handle(p, self.clock(), message)
                if self._observer is not None:
                    self._observer(p, message, live)

    async def __aenter__(self) -> LiveAcquisition:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None,
                  until: Callable[[], bool] | None = None,
                  on_tick: Callable[[tuple[SensorStatus, ...]], None] | None = None,
                  tick_s: float = 0.25) -> None:
        """Acquire until ``duration_s`` of host-clock time, ``stop`` is set, ``until()`` is true,
        or every link has closed; call ``on_tick(status)`` every ``tick_s`` real seconds.

        With a duration the run takes exactly what arrived within it: a chunk stamped at or after
        its end is drained from its transport but not decoded (the loop only looks at the clock
        every ``tick_s``, and a loaded host may look late — neither lengthens the recording)."""
        t_end = None if duration_s is None else self.clock() + duration_s
        self._t_end_host_s = t_end
        stop = stop or asyncio.Event()
        while True:
            if on_tick is not None:
                on_tick(self.status())
            if self.recorder is not None:
                self.recorder.sync_if_due()
            if (stop.is_set() or (t_end is not None and self.clock() >= t_end) or (until is not None and until())
                    or all(t.done() for t in self._tasks)):
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_s)

    def add_event(self, kind: EventKind, placement: Placement | None = None, count: int = 0,
                  value_s: float = 0.0, detail: str = "") -> None:
        """Add an entry to the session's event log (and the recording log), stamped now."""
        self._sink.add_event(kind, self.clock(), placement, count, value_s, detail)

    # ------------------------------------------------------------------ status
    def status(self) -> tuple[SensorStatus, ...]:
        now = self.clock()
        out = []
        for p, link in self._links.items():
            while link.arrivals and link.arrivals[0][0] < now - self.config.rate_window_s:
                link.arrivals.popleft()
            known = p in self.assembler.placements()
            health = self.assembler.health(p) if known else None
            stats = link.decoder.stats
            out.append(SensorStatus(
                placement=p, address=link.source.address, kind=link.source.kind, link_state=link.state,
                device_id=link.device_id, rate_hz=sum(n for _t, n in link.arrivals) / self.config.rate_window_s,
                n_samples=health.n_samples if health else 0, n_lost=health.n_lost if health else 0,
                battery_percent=health.battery_percent if health else None,
                drift_ppm=health.drift_ppm if health else 0.0, clock_offset_s=link.clock_offset_s(),
                bytes_discarded=stats.bytes_discarded, frame_errors=stats.crc_failures + stats.malformed_frames,
                reconnects=link.reconnects, outages=tuple((t, d) for t, d in link.outages),
            ))
        return tuple(out)

    # ------------------------------------------------------------------ internals
    async def _consume(self, link: _SensorLink) -> None:
        placement = link.source.placement
        # A transport that can hand a chunk over synchronously (the serial port's reader callback)
        # gives the chunks that come while this task waits straight to _on_chunk: no wake-up of
        # the task per chunk. Link events, and chunks queued behind them, still come through here.
        handle_chunks_with = getattr(link.transport, "handle_chunks_with", None)
        if handle_chunks_with is not None:
            handle_chunks_with(lambda chunk: self._on_chunk(link, chunk))
        try:
            async for item in link.transport:
                if isinstance(item, LinkEvent):
                    arrival_s = self.clock()
                    if self._t_end_host_s is None or arrival_s < self._t_end_host_s:
                        await self._on_event(link, item, arrival_s)
                else:
                    self._on_chunk(link, item)
        except TransportError as exc:  # the transport gave up: the link stays closed
            link.state = LinkState.CLOSED
            link.command_errors.append(str(exc))
            self._sink.add_event(EventKind.LINK_CLOSED, self.clock(), placement, detail=str(exc))

    def _on_chunk(self, link: _SensorLink, chunk: bytes) -> None:
        """A chunk off the link's transport: stamp, decode, hand every message on."""
        arrival_s = self.clock()
        if self._t_end_host_s is not None and arrival_s >= self._t_end_host_s:
            return  # past the run's duration (see run): drained, not taken
        placement = link.source.placement
        for message in link.decoder.feed(chunk):
            live = self._sink.handle(placement, arrival_s, message)
            if self._observer is not None:
                self._observer(placement, message, live)
            if isinstance(message, DeviceAnnouncement):
                link.device_id = message.device_id
            elif live is not None and isinstance(message, SampleBlock):
                n_live = live.t_s.size
                link.arrivals.append((arrival_s, n_live))
                if n_live == message.n_samples and message.t_device_us is not None:
                    link.newest_times = (live.t_s, message.t_device_us)
        self._log_decoder(link, arrival_s)
        if self._consumed is not None:
            self._consumed(placement, len(chunk))

    def _log_decoder(self, link: _SensorLink, arrival_s: float) -> None:
        """What the decoder dropped or saw restart since the last chunk, into the event log."""
        stats, seen, p = link.decoder.stats, link.seen, link.source.placement
        if (n := stats.bytes_discarded - seen.bytes_discarded) > 0:
            seen.bytes_discarded = stats.bytes_discarded
            self._sink.add_event(EventKind.BYTES_DISCARDED, arrival_s, p, n,
                                 detail="bytes that were no valid frame (garbage, a torn frame, a CRC failure)")
        if (n := stats.extra.get("device_resets", 0) - seen.device_resets) > 0:
            seen.device_resets += n
            self._sink.add_event(EventKind.DEVICE_RESET, arrival_s, p, n,
                                 detail="the device's counter restarted (it rebooted): samples lost across the restart "
                                        "cannot be counted; counting continues")
        if (n := stats.extra.get("clock_resets", 0) - seen.clock_resets) > 0:
            seen.clock_resets += n
            self._sink.add_event(EventKind.CLOCK_STEP, arrival_s, p, n,
                                 detail="the device clock went back while its counter went on; "
                                        "its time continues from the counter")

    async def _on_event(self, link: _SensorLink, event: LinkEvent, arrival_s: float) -> None:
        link.state = event.state
        t_session = arrival_s - self.t0_host_s
        p = link.source.placement
        if event.state is LinkState.RECONNECTING:
            link.outages.append([t_session, 0.0])
            self._sink.add_event(EventKind.LINK_DOWN, arrival_s, p, detail=event.reason or "link lost")
        elif event.state is LinkState.CLOSED and link.outages and link.outages[-1][1] == 0.0:
            self._sink.add_event(EventKind.LINK_CLOSED, arrival_s, p, value_s=t_session - link.outages[-1][0],
                                 detail=event.reason or "the transport gave up reconnecting")
        elif event.state is LinkState.CONNECTED:
            if self._flushed is not None:  # opening a port flushes what was waiting in it
                self._flushed(link.source.placement)
            if link.outages and link.outages[-1][1] == 0.0:
                # down_s is real seconds; the session clock may run faster (emulation).
                link.outages[-1][1] = t_session - link.outages[-1][0]
                link.reconnects += 1
                self._sink.add_event(EventKind.LINK_UP, arrival_s, p, value_s=link.outages[-1][1],
                                     detail=f"reconnected after {event.attempt} attempt(s)")
            if self.config.send_start:
                for command in link.support.start_commands():
                    try:
                        await link.transport.write(command)
                    except TransportError as exc:
                        link.command_errors.append(f"{type(exc).__name__}: {exc}")


def lost_fraction(status: SensorStatus) -> float:
    """Lost samples as a fraction of samples produced (0 when nothing arrived yet)."""
    total = status.n_samples + status.n_lost
    return status.n_lost / total if total else 0.0
