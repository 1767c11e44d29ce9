"""A :class:`~imugait.emulate.emulator.SerialEmulator` in a child process.

Benchmarks run the emulated sensors here so that their threads neither cost the host CPU time
nor contend with the host's threads for the interpreter, as real sensors would not. Both sides
run on scaled real time (:class:`~imugait.emulate.clock.ScaledClock`), so what is measured depends
on the machine's load: tests whose assertions must not use an in-process
:class:`~imugait.emulate.emulator.SerialEmulator` on a virtual clock instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

from imugait.conventions import Placement
from imugait.emulate.clock import ScaledClock
from imugait.emulate.device import EmulatedDevice
from imugait.emulate.emulator import MAX_POLL_S, Disconnect, SerialEmulator
from imugait.transport.link import TransportError


class SerialEmulatorProcess:
    """A :class:`SerialEmulator` in a child process, so its CPU time is not the host's.

    The host keeps :attr:`clock` (same ``speed``; the constant offset between the two processes'
    clocks is absorbed like any transport latency). ``finished_counts`` becomes the samples
    each device sent once the whole walk has been played; :meth:`stop` returns every device's
    :class:`~imugait.emulate.device.SentRecord`.
    """

    def __init__(self, devices: Mapping[Placement, EmulatedDevice], speed: float = 1.0,
                 disconnects: tuple[Disconnect, ...] = (), start_timeout_s: float = 30.0) -> None:
        import multiprocessing

        self.clock = ScaledClock(speed)
        self.paths: dict[Placement, str] = {}
        self.finished_counts: dict[Placement, int] | None = None
        self.cpu_s: float | None = None
        """CPU seconds the child used (user + system), known after :meth:`stop`."""
        self._start_timeout_s = start_timeout_s
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_serial, args=(child, dict(devices), speed, tuple(disconnects)),
                                        daemon=True, name="imugait-emulator")

    def start(self) -> SerialEmulatorProcess:
        self._process.start()
        if not self._conn.poll(self._start_timeout_s):
            self._process.kill()
            raise TransportError(f"the emulator process did not start within {self._start_timeout_s} s")
        _kind, self.paths = self._conn.recv()
        return self

    @property
    def finished(self) -> bool:
        while self.finished_counts is None and self._conn.poll(0):
            _kind, self.finished_counts = self._conn.recv()
        return self.finished_counts is not None

    def stop(self) -> dict:
        self.finished  # noqa: B018 (drain a pending "finished" message)
        self._conn.send("stop")
        sent = None
        while self._conn.poll(10.0):
            kind, value = self._conn.recv()
            if kind == "sent":
                sent, self.cpu_s = value
                break
        self._process.join(5.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5.0)  # reaped: __exit__ must not stop it again (its pipe is closed)
        if sent is None:
            raise TransportError("the emulator process ended without reporting what it sent")
        return sent

    def __enter__(self) -> SerialEmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self._process.is_alive():
            self.stop()


def _serve_serial(conn, devices, speed, disconnects) -> None:
    # Real (scaled) time on both sides: the two processes cannot share a virtual clock.
    with SerialEmulator(devices, speed, disconnects, clock=ScaledClock(speed)) as emu:
        conn.send(("paths", emu.paths))
        reported = False
        while not conn.poll(0.05):
            if not reported and emu.finished:
                time.sleep(MAX_POLL_S * 2)  # let the device loops write their last frames
                conn.send(("finished", {p: d.sent().n_sent for p, d in emu.devices.items()}))
                reported = True
        conn.recv()
    usage = os.times()
    conn.send(("sent", ({p: d.sent() for p, d in devices.items()}, usage.user + usage.system)))
