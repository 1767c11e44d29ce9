"""Emulated sensors on an in-process wire with scripted faults, played on a stepped virtual clock.

The carriers of :mod:`imugait.emulate.emulator` put real pseudo-terminals and an emulated BlueZ
between the devices and the host; this one hands each device's frames straight to the host's
:class:`~imugait.live.acquisition.LiveAcquisition` through a :class:`WireTransport` (plug it in
with ``LiveConfig(transport_factory=wire.transport, host_clock=wire.clock)``). Time is virtual and
*stepped*: :meth:`WireEmulation.play` jumps from one due frame, delivery or fault to the next, and
waits after each delivery until the host has handled every chunk (back-pressure), so an hour of
four sensors plays in seconds and the result never depends on how busy the machine is.

Faults (:mod:`imugait.emulate.faults`) are scheduled in true (= host) time.

Every sample the wire destroyed (a torn frame, frames in flight at a drop) is recorded in
:attr:`WireEmulation.destroyed_seq`, so a test can account for every sample the device sent.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from imugait.acquisition.sources import SensorSource, SourceKind
from imugait.conventions import Placement
from imugait.emulate.device import EmulatedDevice
from imugait.emulate.faults import (
    ClockJump,
    Duplicate,
    Fault,
    FrameShaper,
    Garbage,
    LinkDrop,
    Reboot,
    Reorder,
)
from imugait.errors import ValidationError
from imugait.live.acquisition import LiveAcquisition, LiveConfig, SensorStatus
from imugait.live.run import OpenedSensors, SensorOpener
from imugait.transport.link import LinkEvent, LinkState

_END = object()
"""Put in a transport's queue when the play is over: its stream ends."""


@dataclass(frozen=True)
class LatencyModel:
    """Host arrival = send time + ``base_s`` + exponential jitter of mean ``jitter_mean_s``
    (s); deliveries of one sensor stay in order (a later frame waits for an earlier one)."""

    base_s: float = 0.0
    jitter_mean_s: float = 0.0
    seed: int = 0


class WireTransport:
    """One sensor's end of the wire, as live acquisition sees a transport."""

    def __init__(self, wire: WireEmulation, placement: Placement) -> None:
        self._wire = wire
        self.placement = placement
        self.queue: asyncio.Queue = asyncio.Queue()
        self._pending_done = False
        self.writes = 0

    async def open(self) -> WireTransport:
        return self

    async def close(self) -> None:
        self._wire.closed.add(self.placement)
        self._mark_done()

    async def write(self, data: bytes) -> None:
        if self._wire.link_up(self.placement):
            self.writes += 1
            self._wire.devices[self.placement].receive(bytes(data), self._wire.t_s)

    async def __aenter__(self) -> WireTransport:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> WireTransport:
        return self

    async def __anext__(self) -> bytes | LinkEvent:
        self._mark_done()  # the host asks for more: it has handled the previous item
        if self.placement in self._wire.closed:
            raise StopAsyncIteration
        item = await self.queue.get()
        self._pending_done = True
        if item is _END:
            self.queue.task_done()
            self._pending_done = False
            raise StopAsyncIteration
        return item

    def _mark_done(self) -> None:
        if self._pending_done:
            self._pending_done = False
            self.queue.task_done()


class WireEmulation:
    """Play ``devices`` to live acquisition over an in-process wire with ``faults``.

    Parameters
    ----------
    devices : one emulated device per placement (``autostart`` or started by the host's START).
    faults : scheduled faults (true time, s).
    latency : delivery latency model (default: none, every frame arrives when it is sent).
    start_s : true time the play starts at (the host clock's value before the first chunk).
    """

    def __init__(self, devices: Mapping[Placement, EmulatedDevice], faults: Sequence[Fault] = (),
                 latency: LatencyModel | None = None, start_s: float = 0.0) -> None:
        self.devices = dict(devices)
        for f in faults:
            if f.placement not in self.devices:
                raise ValidationError(f"fault {type(f).__name__} for {f.placement.value}, which is not emulated")
        self.t_s = float(start_s)
        self.latency = latency or LatencyModel()
        self._rng = np.random.default_rng(self.latency.seed)
        self._faults = sorted(faults, key=lambda f: f.at_s)
        self._transports: dict[Placement, WireTransport] = {}
        self._down_until: dict[Placement, float] = {}
        self._down_since: dict[Placement, float] = {}
        self._shapers = {p: FrameShaper() for p in self.devices}
        self._tear_next: dict[Placement, float] = {}
        self._deliveries: list[tuple[float, int, Placement, object]] = []
        self._last_delivery_s: dict[Placement, float] = {}
        self._order = itertools.count()
        self.closed: set[Placement] = set()
        self.destroyed_seq: dict[Placement, list[np.ndarray]] = {p: [] for p in self.devices}
        """Sequence numbers of samples the device sent that the wire destroyed."""
        self.injected: dict[Placement, int] = {p: 0 for p in self.devices}
        """Garbage bytes put on each wire (torn half frames included)."""
        self.events: list[tuple[float, Placement, str]] = []
        """(true time, placement, what) of every fault applied, for tests to compare with the log."""

    # ------------------------------------------------------------------ host side
    def clock(self) -> float:
        """The host clock (s): virtual, stepped by :meth:`play`."""
        return self.t_s

    def transport(self, source: SensorSource) -> WireTransport:
        """``LiveConfig.transport_factory``: the wire end of ``source.placement``."""
        if source.placement not in self.devices:
            raise ValidationError(f"no emulated device at {source.placement.value}")
        t = self._transports.setdefault(source.placement, WireTransport(self, source.placement))
        return t

    def sources(self, kind: SourceKind = SourceKind.BLE) -> list[SensorSource]:
        """One source per device, claiming to be ``kind`` (serial or BLE)."""
        return [SensorSource(p, kind, f"wire:{p.value}") for p in self.devices]

    def opener(self, kind: SourceKind = SourceKind.BLE) -> SensorOpener:
        """The devices as a live run opens sensors (:func:`imugait.live.run.stream`, the dashboard):
        the wire's clock and transports. Start :meth:`play` once the run has opened them."""
        async def open_(_stack) -> OpenedSensors:
            return OpenedSensors(self.sources(kind), clock=self.clock, transport_factory=self.transport)
        return open_

    def link_up(self, placement: Placement) -> bool:
        return placement not in self._down_until

    def destroyed(self, placement: Placement) -> np.ndarray:
        parts = self.destroyed_seq[placement]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    # ------------------------------------------------------------------ play
    async def play(self) -> None:
        """Run every device to its end, then end every transport's stream."""
        for p in self.devices:
            await self._deliver_now(p, LinkEvent(LinkState.CONNECTED, self.t_s, 0.0, 1, "opened"))
        while True:
            t_next = self._next_time()
            if t_next == math.inf:
                break
            self.t_s = max(self.t_s, t_next)
            self._apply_faults()
            self._restore_links()
            for p, device in self.devices.items():
                if self.link_up(p):
                    self._send(p, device.poll_tagged(self.t_s))
            await self._flush_deliveries()
        for p in self.devices:
            await self._deliver_now(p, _END)

    def _next_time(self) -> float:
        times = [self._faults[0].at_s] if self._faults else []
        times += list(self._down_until.values())
        if self._deliveries:
            times.append(self._deliveries[0][0])
        # A device whose link is down is caught up when the link returns (see _restore_links).
        times += [d.next_due_s() for p, d in self.devices.items() if self.link_up(p)]
        return min(times, default=math.inf)

    def _apply_faults(self) -> None:
        while self._faults and self._faults[0].at_s <= self.t_s:
            f = self._faults.pop(0)
            p, device = f.placement, self.devices[f.placement]
            self.events.append((self.t_s, p, type(f).__name__))
            if isinstance(f, LinkDrop) and f.tear_frame:
                self._tear_next[p] = f.duration_s  # dropped once the next frame is half out
            elif isinstance(f, LinkDrop):
                self._drop(p, f.duration_s, "link lost")
            elif isinstance(f, Reboot):
                self._drop(p, f.down_s, "device restarted")
                device.reboot(self.t_s)
            elif isinstance(f, ClockJump):
                device.jump_clock(round(f.jump_s * 1e6))
            elif isinstance(f, Duplicate | Reorder):
                self._shapers[p].arm(f)
            elif isinstance(f, Garbage):
                rng = np.random.default_rng(f.seed)
                self._queue(p, bytes(rng.integers(1, 256, f.n_bytes, dtype=np.uint8)))
                self.injected[p] += f.n_bytes

    def _drop(self, p: Placement, duration_s: float, reason: str) -> None:
        self.devices[p].on_disconnect()
        kept = []
        for item in self._deliveries:  # frames still in flight never arrive
            if item[2] is p and isinstance(item[3], tuple):
                if item[3][1] is not None:
                    self.destroyed_seq[p].append(item[3][1])
            else:
                kept.append(item)
        heapq.heapify(kept)
        self._deliveries = kept
        self._down_until[p] = self.t_s + duration_s
        self._down_since[p] = self.t_s
        self._queue(p, LinkEvent(LinkState.RECONNECTING, self.t_s, 0.0, 1, reason))

    def _restore_links(self) -> None:
        for p, until in list(self._down_until.items()):
            if until <= self.t_s:
                del self._down_until[p]
                device = self.devices[p]
                device.poll_tagged(self.t_s)  # still down: what it produced meanwhile is lost
                device.on_connect()
                down_s = self.t_s - self._down_since.pop(p)
                self._queue(p, LinkEvent(LinkState.CONNECTED, self.t_s, down_s, 2, "reconnected"))

    def _send(self, p: Placement, frames: list[tuple[bytes, np.ndarray | None]]) -> None:
        for frame, seq in self._shapers[p].shape(frames):
            if not self.link_up(p):  # torn off earlier in this batch
                if seq is not None:
                    self.destroyed_seq[p].append(seq)
                continue
            if p in self._tear_next and seq is not None:
                half = frame[: len(frame) // 2]
                self._queue(p, half)
                self.injected[p] += len(half)
                self.destroyed_seq[p].append(seq)
                self._drop(p, self._tear_next.pop(p), "unplugged mid-frame")
                continue
            self._queue(p, (frame, seq))

    def _queue(self, p: Placement, item: object) -> None:
        lat = self.latency
        delay = lat.base_s + (self._rng.exponential(lat.jitter_mean_s) if lat.jitter_mean_s > 0 else 0.0)
        at = max(self.t_s + delay, self._last_delivery_s.get(p, -math.inf))
        self._last_delivery_s[p] = at
        heapq.heappush(self._deliveries, (at, next(self._order), p, item))

    async def _flush_deliveries(self) -> None:
        touched = set()
        while self._deliveries and self._deliveries[0][0] <= self.t_s:
            _at, _n, p, item = heapq.heappop(self._deliveries)
            data = item[0] if isinstance(item, tuple) else item
            if p not in self.closed:
                self._transports[p].queue.put_nowait(data)
                touched.add(p)
        for p in touched:
            await self._transports[p].queue.join()

    async def _deliver_now(self, p: Placement, item: object) -> None:
        if p in self.closed:
            return
        self._transports[p].queue.put_nowait(item)
        await self._transports[p].queue.join()


async def acquire_over_wire(wire: WireEmulation, recorder=None, kind: SourceKind = SourceKind.BLE,
                            on_tick: Callable[[tuple[SensorStatus, ...]], None] | None = None,
                            tick_s: float = 0.01, duration_s: float | None = None) -> LiveAcquisition:
    """Play ``wire`` into live acquisition (into ``recorder`` when given) until every device has
    played everything; returns the closed :class:`LiveAcquisition` (its ``status()`` and
    ``assembler`` hold the result). ``kind`` is what the sources claim to be (serial or BLE);
    ``duration_s``: the acquisition's duration (what arrives after it is not taken)."""
    live = LiveAcquisition(wire.sources(kind), LiveConfig(host_clock=wire.clock, transport_factory=wire.transport),
                           recorder=recorder)
    async with live:
        player = asyncio.create_task(wire.play())
        await live.run(duration_s, on_tick=on_tick, tick_s=tick_s)
        await player
    return live
