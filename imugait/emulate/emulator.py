"""Simulated walkers played as real sensors: over pseudo-terminals or as BLE peripherals.

Each sensor is an :class:`~imugait.emulate.device.EmulatedDevice` (the firmware's
logic, carrier-independent); a carrier moves its bytes:

* :class:`SerialEmulator` — one :class:`~imugait.emulate.pty_pair.PtyPair` per sensor and a
  thread per sensor; the paths are registered so ``list_serial_ports`` shows them. Disconnects
  unplug the pty for a while (the host's ``SerialTransport`` reconnects).
* :class:`BleEmulator` — one :class:`~imugait.emulate.peripheral.EmulatedPeripheral` per
  sensor on an :class:`~imugait.emulate.bluez.EmulatedBlueZ`, a task per sensor on
  the event loop; one frame per notification (blocks are sized for ATT_MTU 247).

Device faults (:mod:`imugait.emulate.faults`: :class:`~imugait.emulate.faults.Reboot`,
:class:`~imugait.emulate.faults.ClockJump`, :class:`~imugait.emulate.faults.Duplicate`,
:class:`~imugait.emulate.faults.Reorder`) play over either carrier as over the in-process wire of
:mod:`imugait.emulate.wire`: a reboot drops the link for its ``down_s`` (the pty unplugged, the BLE
link dropped) and restarts the device's counter and clock; the others change what the device sends.

Time: the walker's true time ``t`` is played at host time ``world_t0 + t`` on the emulator's
``clock``, by default a :class:`~imugait.emulate.clock.VirtualClock` running ``speed`` times
faster than real time: each device holds it at its next frame's due time, the emulator holds it
at the start until every device was told to stream, and a host that reports the bytes it handled
(live acquisition does) holds it while bytes are in flight. A host stamps arrivals on the same
clock, so device clocks keep their few-ppm drift relative to it, the recording is on the walker's
time, and a loaded machine makes the run slower, never different.

Example
-------
>>> result = walker_simulation(n_sensors=4, duration_s=20.0)            # doctest: +SKIP
>>> devices = emulated_devices(result, DeviceSettings(sample_loss_probability=0.01))
>>> with SerialEmulator(devices, speed=4.0) as emu:                      # doctest: +SKIP
...     emu.paths          # {Placement.LEFT_THIGH: '/tmp/imugait-pty-…/ttyIMU0', …}
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.emulate.clock import VirtualClock
from imugait.emulate.device import DeviceSettings, EmulatedDevice
from imugait.emulate.faults import ClockJump, Duplicate, FrameShaper, Reboot, Reorder
from imugait.emulate.pty_pair import PtyPair
from imugait.errors import ValidationError
from imugait.protocol.imugait_v1 import DeviceInfoV1
from imugait.simulate import (
    LOWER_LIMBS,
    SensorErrors,
    SimulationConfig,
    SimulationResult,
    WalkerParams,
    simulate,
    walking_test,
)
from imugait.transport.link import TransportError
from imugait.transport.serial import register_port, unregister_port

MAX_POLL_S = 0.02
"""Longest real-time wait of a device loop between looks at its commands and schedule."""
MAX_PENDING_BYTES = 1 << 16
"""Serial bytes a device holds for a host that does not read before it drops them (TX overflow)."""
HOLD_PAST_S = 1e-6
"""A device holds the clock this far past its next frame's due time, so rounding in
``world_t0 + t`` cannot leave the clock a hair short of it."""
START_HOLD_MAX_REAL_S = 30.0
"""Hang guard: the clock waits at most this many real seconds for every device to be started."""


@dataclass(frozen=True)
class Disconnect:
    """The link of ``placement`` goes down at true time ``at_s`` for ``duration_s`` (s)."""

    placement: Placement
    at_s: float
    duration_s: float


def walker_simulation(n_sensors: int = 4, duration_s: float = 30.0, walker: WalkerParams | None = None,
                      sample_rate_hz: float = 200.0, clock_drift_ppm: float = 30.0, seed: int = 0,
                      stand_s: float = 2.5) -> SimulationResult:
    """A walker to emulate, ``duration_s`` long: stand ``stand_s``, walk bouts of ≤ 12 s with turns,
    stand ``stand_s``.

    ``n_sensors`` (1–4) picks placements in the order left thigh, left shank, right thigh,
    right shank. No loss in the simulation: the emulator loses samples on the wire. A longer
    ``stand_s`` leaves a host that connects late (an emulator in a child process plays on real
    time from its start) the standing still a live calibration needs.
    """
    if not 1 <= n_sensors <= len(LOWER_LIMBS):
        raise ValidationError(f"the emulator plays 1 to {len(LOWER_LIMBS)} sensors (thighs and shanks), got {n_sensors}")
    turn_s = 2.5
    if duration_s < 2 * stand_s + 3.0:
        raise ValidationError(f"an emulated walk needs at least {2 * stand_s + 3.0} s, got {duration_s}")
    n_bouts = max(1, math.ceil((duration_s - 2 * stand_s + turn_s) / (12.0 + turn_s)))
    bout_s = (duration_s - 2 * stand_s - turn_s * (n_bouts - 1)) / n_bouts
    errors = replace(SensorErrors(), loss_probability=0.0, clock_drift_ppm=clock_drift_ppm)
    config = SimulationConfig(walker=walker or WalkerParams(), timeline=walking_test(n_bouts, bout_s, stand_s, turn_s),
                              errors=errors, placements=LOWER_LIMBS[:n_sensors], sample_rate_hz=sample_rate_hz,
                              seed=seed, subject_id="emulated")
    return simulate(config)


def device_info(result: SimulationResult, index: int) -> DeviceInfoV1:
    """DEVICE_INFO of emulated sensor ``index``, with the simulator's ranges (whole g, °/s, µT)."""
    e = result.config.errors
    ranges = (e.acc_range_mps2 / GRAVITY_MPS2, math.degrees(e.gyr_range_radps), e.mag_range_uT)
    if any(abs(r - round(r)) > 1e-9 for r in ranges):
        raise ValidationError(f"the simulator's ranges {ranges} are not whole g, °/s and µT as the wire needs")
    acc_g, gyr_dps, mag_ut = (round(r) for r in ranges)
    return DeviceInfoV1(0x1A6A170000000000 + index, "imugait emulator", "emu-1.0",
                        result.config.sample_rate_hz, acc_g, gyr_dps, mag_ut)


def emulated_devices(result: SimulationResult, settings: DeviceSettings | None = None,
                     spread_clocks: bool = True) -> dict[Placement, EmulatedDevice]:
    """One device per simulated sensor.

    With ``spread_clocks`` each device's µs clock and sequence counter start far apart (the
    first wraps its u32 clock about 4 s into streaming), so hosts must unwrap and map them.
    """
    settings = settings or DeviceSettings()
    devices = {}
    for i, (placement, stream) in enumerate(result.session.items()):
        own = replace(settings, seed=settings.seed + i)
        if spread_clocks:
            own = replace(own, clock_start_us=(0xFFC0_0000 + i * 0x5A5A_5A5A) % 2**32,
                          seq_start=(0xFFFF_FF00 + i * 0x3C3C_3C3C) % 2**32)
        devices[placement] = EmulatedDevice(stream, device_info(result, i), own)
    return devices


def device_name(placement: Placement) -> str:
    """Advertised name of an emulated sensor: ``IMU-LEFT-THIGH``."""
    return "IMU-" + placement.value.upper().replace("_", "-")


DeviceFault = Reboot | ClockJump | Duplicate | Reorder
"""The faults a carrier plays besides its disconnects."""


class _Playback:
    """What both carriers share: the clock, the walker's time origin, the disconnect schedule and
    the device faults."""

    def __init__(self, devices: Mapping[Placement, EmulatedDevice], speed: float,
                 disconnects: tuple[Disconnect, ...], clock=None, faults: tuple[DeviceFault, ...] = ()) -> None:
        if not devices:
            raise ValidationError("the emulator needs at least one device")
        self.devices = dict(devices)
        foreign = [type(f).__name__ for f in faults if not isinstance(f, DeviceFault)]
        if foreign:
            raise ValidationError(f"the emulator's carriers play Reboot, ClockJump, Duplicate and Reorder "
                                  f"(link drops as disconnects), not {foreign}")
        self._faults = {p: sorted((f for f in faults if f.placement is p), key=lambda f: f.at_s) for p in self.devices}
        self._shapers = {p: FrameShaper() for p in self.devices}
        self.faults_applied: list[tuple[float, Placement, str]] = []
        """(true time, placement, fault) of every device fault played, for tests to compare with the log."""
        # A reboot takes the link down while the device restarts.
        disconnects = (*disconnects, *(Disconnect(f.placement, f.at_s, f.down_s) for f in faults if isinstance(f, Reboot)))
        self.clock = clock if clock is not None else VirtualClock(speed)
        self._hold = getattr(self.clock, "hold", None)
        if self._hold is not None:  # held first: while held, the clock reads exactly world_t0_s
            self._hold("start", -math.inf, START_HOLD_MAX_REAL_S)
        self.world_t0_s = self.clock()
        if self._hold is not None:  # the walker starts when every sensor streams, however long connecting takes
            self._hold("start", self.world_t0_s, START_HOLD_MAX_REAL_S)
        self.disconnects = tuple(disconnects)
        unknown = [d.placement.value for d in (*self.disconnects, *faults) if d.placement not in self.devices]
        if unknown:
            raise ValidationError(f"disconnects or faults for sensors that are not emulated: {unknown}")

    def true_time_s(self) -> float:
        """The walker's time now (s)."""
        return self.clock() - self.world_t0_s

    def apply_faults(self, placement: Placement, t_s: float) -> None:
        """Play ``placement``'s device faults due by true time ``t_s`` (after its link changes)."""
        due = self._faults[placement]
        device = self.devices[placement]
        while due and due[0].at_s <= t_s:
            f = due.pop(0)
            self.faults_applied.append((t_s, placement, type(f).__name__))
            if isinstance(f, Reboot):
                device.on_disconnect()
                device.reboot(t_s)
            elif isinstance(f, ClockJump):
                device.jump_clock(round(f.jump_s * 1e6))
            else:
                self._shapers[placement].arm(f)

    def frames(self, placement: Placement, t_s: float) -> list[bytes]:
        """The device's frames due by true time ``t_s``, shaped by its armed duplicates and reorders."""
        tagged = self._shapers[placement].shape(self.devices[placement].poll_tagged(t_s))
        return [frame for frame, _seq in tagged]

    @property
    def finished(self) -> bool:
        """Every device has played its whole stream."""
        return all(d.finished for d in self.devices.values())

    @property
    def finished_counts(self) -> dict[Placement, int] | None:
        """Samples each device sent, once every device has played its whole stream (else None)."""
        return {p: d.sent().n_sent for p, d in self.devices.items()} if self.finished else None

    def paced(self, placement: Placement, t_s: float) -> None:
        """After a device loop's turn at true time ``t_s``: hold a virtual clock at the device's
        next frame (or link change), and release the start once every device streams."""
        if self._hold is None:
            return
        device = self.devices[placement]
        due = device.next_due_s() if device.connected else math.inf
        due = min(due, *(f.at_s for f in self._faults[placement][:1]),
                  *(b for d in self.disconnects if d.placement is placement
                    for b in (d.at_s, d.at_s + d.duration_s) if b > t_s), math.inf)
        self._hold(placement, self.world_t0_s + max(due, t_s) + HOLD_PAST_S)
        if all(d.streaming for d in self.devices.values()):
            self.clock.release("start")

    def _produced(self, placement: Placement, n_bytes: int) -> None:
        if n_bytes and hasattr(self.clock, "produced"):
            self.clock.produced(placement, n_bytes)

    def _lost(self, placement: Placement) -> None:
        if hasattr(self.clock, "lost"):
            self.clock.lost(placement)

    def stop_pacing(self) -> None:
        """Let the clock run free (the devices stopped)."""
        if self._hold is not None:
            for key in [*self.devices, "start"]:
                self.clock.release(key)

    def link_down(self, placement: Placement, t_s: float) -> bool:
        return any(d.placement is placement and d.at_s <= t_s < d.at_s + d.duration_s for d in self.disconnects)

    def _next_change_s(self, device: EmulatedDevice, t_s: float) -> float:
        """True time of a device's next frame, of the next link change or of its next fault (inf: none)."""
        due = device.next_due_s() if device.connected else math.inf
        faults = (f.at_s for p, fs in self._faults.items() if self.devices[p] is device for f in fs[:1])
        return min(due, *faults, *(b for d in self.disconnects for b in (d.at_s, d.at_s + d.duration_s) if b > t_s),
                   math.inf)

    def wait_real_s(self, device: EmulatedDevice, t_s: float) -> float:
        """Real seconds a device loop may sleep: until its next frame or link change, at most MAX_POLL_S."""
        return min(max(self.clock.real_s(self._next_change_s(device, t_s) - t_s), 0.0), MAX_POLL_S)

    def wait_for_change(self, device: EmulatedDevice, t_s: float) -> bool:
        """On a clock that can be waited on (a virtual clock): block until the clock reaches the
        device's next frame or link change, at most MAX_POLL_S real seconds, and return True — a
        device does not spin while the host holds the clock. False (nothing waited): a plain clock."""
        wait_until = getattr(self.clock, "wait_until", None)
        if wait_until is None:
            return False
        wait_until(self.world_t0_s + self._next_change_s(device, t_s), MAX_POLL_S)
        return True


class _DevicePty(PtyPair):
    def write_nowait(self, data: bytes) -> int:
        """Write what fits now, without blocking; return the number of bytes written."""
        fd = self._master_fd
        if fd is None:
            return 0
        os.set_blocking(fd, False)
        try:
            return os.write(fd, data)
        except (BlockingIOError, OSError):
            return 0
        finally:
            os.set_blocking(fd, True)


class SerialEmulator(_Playback):
    """Devices on pseudo-terminals, one thread each; a context manager.

    Parameters
    ----------
    devices : placement → EmulatedDevice
    speed : playback speed (1 = real time).
    disconnects : links to unplug for a while (true time).
    faults : device faults (:data:`DeviceFault`, true time).

    Attributes
    ----------
    paths : placement → the serial path to open (registered with ``register_port``).
    overflow_bytes : placement → bytes dropped because the host did not read.
    """

    def __init__(self, devices: Mapping[Placement, EmulatedDevice], speed: float = 1.0,
                 disconnects: tuple[Disconnect, ...] = (), clock=None, faults: tuple[DeviceFault, ...] = ()) -> None:
        super().__init__(devices, speed, disconnects, clock, faults)
        self._ptys = {p: _DevicePty() for p in self.devices}
        self.paths = {p: pty.path for p, pty in self._ptys.items()}
        self.overflow_bytes = dict.fromkeys(self.devices, 0)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> SerialEmulator:
        for placement, path in self.paths.items():
            register_port(path, f"imugait emulator {placement.value}")
        for placement in self.devices:
            thread = threading.Thread(target=self._run, args=(placement,), daemon=True,
                                      name=f"imugait-emulator-{placement.value}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self.stop_pacing()
        for thread in self._threads:
            thread.join(5.0)
        self._threads.clear()
        for placement, pty in self._ptys.items():
            unregister_port(self.paths[placement])
            pty.close()

    def inject(self, placement: Placement, data: bytes) -> None:
        """Put garbage on ``placement``'s line before its next frame."""
        self.devices[placement].inject(data)

    def __enter__(self) -> SerialEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, placement: Placement) -> None:
        device, pty = self.devices[placement], self._ptys[placement]
        pending = b""
        while not self._stop.is_set():
            t = self.true_time_s()
            down = self.link_down(placement, t)
            if down and pty.plugged:
                device.on_disconnect()
                pty.unplug()
                pending = b""
                self._lost(placement)
            elif not down and not pty.plugged:
                pty.replug()
                device.on_connect()
            self.apply_faults(placement, t)
            wait_s = self.wait_real_s(device, t)
            if pty.plugged:
                commands = pty.read(4096, timeout_s=0.0 if self.wait_for_change(device, t) else wait_s)
                if commands:
                    device.receive(commands, self.true_time_s())
            elif not self.wait_for_change(device, t):
                self._stop.wait(wait_s)
            t = self.true_time_s()
            pending += b"".join(self.frames(placement, t))
            if pending and pty.plugged:
                n = pty.write_nowait(pending)
                self._produced(placement, n)
                pending = pending[n:]
                if len(pending) > MAX_PENDING_BYTES:
                    self.overflow_bytes[placement] += len(pending)
                    pending = b""
            if not pending:  # bytes still to write keep the clock where it is
                self.paced(placement, t)


class BleEmulator(_Playback):
    """Devices as BLE peripherals on an emulated BlueZ, one task each; an async context manager.

    Parameters
    ----------
    devices : placement → EmulatedDevice
    bluez : a running :class:`~imugait.emulate.bluez.EmulatedBlueZ`.
    speed : playback speed.
    disconnects : links to drop (the host's transport reconnects; the device loses what it
        produces until it is subscribed again, at least ``duration_s``).
    faults : device faults (:data:`DeviceFault`, true time).

    Attributes
    ----------
    addresses : placement → Bluetooth address to connect to (after ``start``).
    links_dropped : placement → links the emulator dropped (a scheduled drop that comes while the
        host is still reconnecting from the last one finds no link to drop and is not counted).
    """

    def __init__(self, devices: Mapping[Placement, EmulatedDevice], bluez, speed: float = 1.0,
                 disconnects: tuple[Disconnect, ...] = (), clock=None, faults: tuple[DeviceFault, ...] = ()) -> None:
        super().__init__(devices, speed, disconnects, clock, faults)
        self.bluez = bluez
        self.links_dropped: Counter[Placement] = Counter()
        self.addresses: dict[Placement, str] = {}
        self.peripherals: dict = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> BleEmulator:
        for placement, device in self.devices.items():
            peripheral = await self.bluez.add_peripheral(device_name(placement))
            self.peripherals[placement] = peripheral
            self.addresses[placement] = peripheral.address
            device.on_disconnect()  # until a central subscribes
            self._tasks.append(asyncio.create_task(self._run(placement), name=f"emulator-{placement.value}"))
        return self

    async def stop(self) -> None:
        self.stop_pacing()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, TransportError):
                await task
        self._tasks.clear()

    async def __aenter__(self) -> BleEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _run(self, placement: Placement) -> None:
        device, peripheral = self.devices[placement], self.peripherals[placement]
        dropped_for: Disconnect | None = None
        while True:
            t = self.true_time_s()
            drop = next((d for d in self.disconnects if d.placement is placement
                         and d.at_s <= t < d.at_s + d.duration_s), None)
            if drop is not None and drop is not dropped_for and device.connected:
                dropped_for = drop
                self.links_dropped[placement] += 1
                device.on_disconnect()
                self._lost(placement)
                await peripheral.drop_link(self.bluez.central_adapter_path)
            self.apply_faults(placement, t)
            subscribed = peripheral.notifying and drop is None
            if subscribed and not device.connected:
                device.on_connect()
            elif not subscribed and device.connected:
                device.on_disconnect()
            with contextlib.suppress(TimeoutError):
                command = await asyncio.wait_for(peripheral.commands.get(), self.wait_real_s(device, t))
                device.receive(command, self.true_time_s())
            t = self.true_time_s()
            for frame in self.frames(placement, t):
                try:
                    self._produced(placement, len(frame))
                    await peripheral.notify(frame)
                except (TransportError, TimeoutError):
                    device.on_disconnect()
                    self._lost(placement)
                    break
            self.paced(placement, t)

