"""Shared by the dashboard tests: a tap on the live pipeline, emulated openers with link drops,
Chromium, and waiting on the page and the emulated walk."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import urllib.error
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from imugait.acquisition.sources import SensorSource, SourceKind
from imugait.conventions import Side
from imugait.live.run import OpenedSensors
from imugait.live.updates import latest_strides

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_browser import ensure_chromium  # noqa: E402  (tests/report: one Chromium installer)


def chromium_path() -> str:
    """Debian's chromium (installed with apt-get when missing and running as root); a clear
    failure, not a skip, when it cannot be had: the dashboard tests need a real browser."""
    import pytest

    path, reason = ensure_chromium()
    if path is None:
        pytest.fail("the dashboard browser tests need headless Chromium: " + reason.removeprefix("SKIPPED: "))
    return path


class Tap:
    """Wraps a live pipeline and keeps every update it gave (what the page should show)."""

    def __init__(self, pipeline) -> None:
        self.pipeline = pipeline
        self.updates: list = []

    def __getattr__(self, name: str):  # recalibrate, calibration, calibration_states: the pipeline's
        return getattr(self.pipeline, name)

    def feed(self, samples) -> None:
        self.pipeline.feed(samples)

    def poll(self):
        update = self.pipeline.poll()
        self.updates.append(update)
        return update

    def newest_finite(self, side: Side, name: str) -> float | None:
        """The newest finite value of angle ``name`` of ``side`` in the stream (None if none)."""
        for update in reversed(self.updates):
            for angles in update.angles:
                if angles.side is side:
                    values = finite(getattr(angles, name))
                    if values.size:
                        return float(values[-1])
        return None

    def strides(self, side: Side) -> int:
        # A stride comes again once settled and once final (LiveStride.final): counted once.
        return sum(1 for s in latest_strides(s for u in self.updates for s in u.strides) if s.side is side)


def emulated_opener(carrier: str, devices, playback: float, disconnects=()):
    """An opener of emulated sensors (``serial`` ptys or ``ble`` peripherals on an emulated BlueZ)
    on a virtual clock, with ``disconnects`` (what :func:`imugait.emulate.sensors.emulated_sensors`
    opens, plus dropped links)."""
    from imugait.emulate.emulator import BleEmulator, SerialEmulator

    async def serial(stack: contextlib.AsyncExitStack) -> OpenedSensors:
        emulator = stack.enter_context(SerialEmulator(devices, playback, disconnects))
        sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
        return OpenedSensors(sources, emulator.clock, emulator)

    async def ble(stack: contextlib.AsyncExitStack) -> OpenedSensors:
        from imugait.emulate.bluez import EmulatedBlueZ
        from imugait.transport.ble import scan_ble

        bluez = await stack.enter_async_context(EmulatedBlueZ())
        emulator = await stack.enter_async_context(BleEmulator(devices, bluez, playback, disconnects))
        found = {r.address: r for r in await scan_ble(1.3, adapter=bluez.central_adapter)}
        sources = [SensorSource(p, SourceKind.BLE, a, ble_device=found[a].device, adapter=bluez.central_adapter)
                   for p, a in emulator.addresses.items()]
        return OpenedSensors(sources, emulator.clock, emulator)

    return serial if carrier == "serial" else ble


def finite(values) -> np.ndarray:
    a = np.asarray(values, float)
    return a[np.isfinite(a)]


HANG_GUARD_S = 900.0
"""Seconds any one wait may take before a test fails as hung (a loaded machine is slow, not wrong)."""


def get(url: str) -> tuple[int, str]:
    """(HTTP status, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def wait_for(predicate, what: str, timeout_s: float = 300.0, step_s: float = 0.1):
    """Await ``predicate()`` until it is true (its value); an AssertionError saying ``what`` after
    ``timeout_s`` (a hang guard)."""
    try:
        async with asyncio.timeout(timeout_s):
            while not (value := await predicate()):
                await asyncio.sleep(step_s)
            return value
    except TimeoutError:
        raise AssertionError(what) from None


def shown(value: float | None) -> str:
    """How the page shows a number: one decimal as JavaScript's ``toFixed(1)`` writes it (a tie of
    the binary value rounded away from zero: 0.25 → "0.3", where Python's format rounds it to even,
    "0.2"); a dash for none."""
    if value is None:
        return "—"
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


async def walked(opened: list, t_s: float) -> bool:
    """The emulated walk (the walker's own time, which link drops are scheduled in) has reached ``t_s``."""
    return bool(opened) and opened[0].emulator.true_time_s() >= t_s


class PausedWalk:
    """Holds the emulated walk where it is while the page acts (a click, and what it should
    show): how long a loaded browser takes to click then costs no walking, so the page acts at the
    same instant of the walk on any machine."""

    def __init__(self, opened: list) -> None:
        self.clock = opened[0].clock  # the emulation's clock (the sensors are open by now)

    async def __aenter__(self) -> None:
        self.clock.hold("test-page", self.clock(), max_real_s=HANG_GUARD_S)

    async def __aexit__(self, *exc: object) -> None:
        self.clock.release("test-page")
