"""Emulated BlueZ for tests and ``--emulate`` over BLE: no radio, the real bleak BlueZ backend.

Three pieces, all in user space:

1. a private ``dbus-daemon`` with a permissive system-bus configuration in a temporary
   directory; ``DBUS_SYSTEM_BUS_ADDRESS`` is pointed at it so bleak (and anything else using the
   system bus in this process) talks to it;
2. BlueZoo (PyPI ``bluezoo``), a mock of BlueZ's D-Bus API, owning ``org.bluez`` on that bus
   with one powered adapter, ``hci0``, for the central (bleak);
3. one more emulated adapter per peripheral (``hci1``, ``hci2``, …), each with an
   ``EmulatedPeripheral`` that registers a GATT application and an LE advertisement on it.
   BlueZoo's scan on ``hci0`` reports every advertising adapter as a remote LE device.

Example
-------
>>> async with EmulatedBlueZ() as bluez:                                 # doctest: +SKIP
...     sensor = await bluez.add_peripheral("IMU-L-THIGH")
...     results = await scan_ble(timeout_s=1.5, adapter=bluez.central_adapter)
...     ...
...     await sensor.notify(b"bytes")
...     await sensor.drop_link(bluez.central_adapter_path)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from dbus_fast import BusType
from dbus_fast.aio import MessageBus

from imugait.transport.ble_profiles import IMUGAIT_V1, BleProfile
from imugait.transport.bluez_peripheral import EmulatedPeripheral, call_bluez
from imugait.transport.link import TransportError

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""

CENTRAL_ADDRESS = "00:AA:00:00:00:01"


def emulation_unavailable_reason() -> str | None:
    """Why the emulation cannot run here, or ``None`` when it can."""
    if shutil.which("dbus-daemon") is None:
        return (
            "dbus-daemon is not on PATH: install it (Debian: apt-get install dbus-daemon) to run "
            "the emulated-BlueZ BLE tests"
        )
    try:
        import bluezoo  # noqa: F401
    except ImportError as exc:
        return f"bluezoo is not importable ({exc}): pip install 'imugait[ble-emulation]'"
    if not sys.platform.startswith("linux"):
        return "emulated BlueZ needs Linux (bleak uses its BlueZ backend only there)"
    return None


def _peripheral_address(index: int) -> str:
    return f"00:AA:00:00:01:{index:02X}"


class EmulatedBlueZ:
    """Private D-Bus + BlueZoo + emulated peripherals, as an async context manager.

    Parameters
    ----------
    scan_interval_s : int
        BlueZoo's period of reporting advertisers to a discovering adapter, whole seconds
        (BlueZoo's own unit); 1 keeps scans in tests short.
    start_timeout_s : float
        How long to wait for the daemons to come up.

    Attributes
    ----------
    bus_address : str
        The private system bus (also in ``DBUS_SYSTEM_BUS_ADDRESS`` while running).
    central_adapter : str
        Adapter name bleak should use (``"hci0"``).
    peripherals : list of EmulatedPeripheral
    """

    central_adapter = "hci0"
    central_adapter_path = "/org/bluez/hci0"

    def __init__(self, scan_interval_s: int = 1, start_timeout_s: float = 10.0) -> None:
        self.scan_interval_s = int(scan_interval_s)
        self.start_timeout_s = start_timeout_s
        self.bus_address = ""
        self.peripherals: list[EmulatedPeripheral] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._procs: list[subprocess.Popen[bytes]] = []
        self._bus: MessageBus | None = None
        self._saved_env: str | None = None
        self._log_path: Path | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> EmulatedBlueZ:
        reason = emulation_unavailable_reason()
        if reason is not None:
            raise TransportError(f"cannot start emulated BlueZ: {reason}")
        self._tmp = tempfile.TemporaryDirectory(prefix="imugait-bluez-")
        tmp = Path(self._tmp.name)
        socket_path = tmp / "system_bus_socket"
        config = tmp / "system.conf"
        config.write_text(_BUS_CONFIG.format(socket=socket_path))
        self._log_path = tmp / "bluezoo.log"
        try:
            self._spawn(["dbus-daemon", f"--config-file={config}", "--nofork", "--nopidfile"])
            await self._wait_for(socket_path.exists, "dbus-daemon to create its socket")
            self.bus_address = f"unix:path={socket_path}"
            self._saved_env = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS")
            os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
            self._bus = await MessageBus(
                bus_address=self.bus_address, bus_type=BusType.SYSTEM
            ).connect()
            self._spawn(
                [
                    sys.executable, "-m", "imugait.transport._bluezoo_main",
                    "--auto-enable", "--scan-interval", str(self.scan_interval_s),
                    "-a", CENTRAL_ADDRESS,
                ],
                log=self._log_path,
            )
            await self._wait_for_adapter(self.central_adapter_path)
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        """Stop peripherals and daemons, restore the environment, remove the temporary files."""
        for peripheral in self.peripherals:
            await peripheral.stop()
        self.peripherals.clear()
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    await asyncio.to_thread(proc.wait, 3.0)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    await asyncio.to_thread(proc.wait)
        self._procs.clear()
        if self.bus_address:
            if self._saved_env is None:
                os.environ.pop("DBUS_SYSTEM_BUS_ADDRESS", None)
            else:
                os.environ["DBUS_SYSTEM_BUS_ADDRESS"] = self._saved_env
            self.bus_address = ""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def __aenter__(self) -> EmulatedBlueZ:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- peripherals --------------------------------------------------------------------------

    async def add_peripheral(
        self, name: str, profile: BleProfile = IMUGAIT_V1
    ) -> EmulatedPeripheral:
        """Add an adapter for a new peripheral, start advertising ``name`` with ``profile``."""
        if self._bus is None:
            raise TransportError("EmulatedBlueZ is not running; use 'async with' or start()")
        index = len(self.peripherals) + 1
        address = _peripheral_address(index)
        adapter_path = f"/org/bluez/hci{index}"
        await call_bluez(
            self._bus, "/org/bluezoo", "org.bluezoo.Manager1", "AddAdapter", "ys",
            (index, address),
        )
        await self._wait_for_adapter(adapter_path)
        peripheral = EmulatedPeripheral(self.bus_address, adapter_path, address, name, profile)
        await peripheral.start()
        self.peripherals.append(peripheral)
        return peripheral

    # -- helpers ------------------------------------------------------------------------------

    def _spawn(self, argv: list[str], log: Path | None = None) -> None:
        env = dict(os.environ)
        if self.bus_address:
            env["DBUS_SYSTEM_BUS_ADDRESS"] = self.bus_address
        out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._procs.append(
                subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
            )
        finally:
            if log is not None:
                out.close()

    def _log_tail(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(errors="replace")[-2000:]

    async def _wait_for(self, condition, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.start_timeout_s
        while not condition():
            dead = [p.args[0] for p in self._procs if p.poll() is not None]
            if dead or loop.time() > deadline:
                cause = f"{dead} exited" if dead else f"no answer in {self.start_timeout_s} s"
                raise TransportError(
                    f"emulated BlueZ: waiting for {what}: {cause}. BlueZoo log:\n{self._log_tail()}"
                )
            await asyncio.sleep(0.02)

    async def _wait_for_adapter(self, adapter_path: str) -> None:
        """Wait until ``adapter_path`` exists on the bus and is powered."""
        assert self._bus is not None
        bus = self._bus
        powered = False

        async def probe() -> None:
            nonlocal powered
            try:
                body = await call_bluez(
                    bus, adapter_path, "org.freedesktop.DBus.Properties", "Get", "ss",
                    ("org.bluez.Adapter1", "Powered"),
                )
                powered = bool(body[0].value)
            except TransportError:  # not there yet (no org.bluez owner, or no such object)
                powered = False

        async def poll() -> None:
            while True:
                await probe()
                if powered:
                    return
                await asyncio.sleep(0.05)

        poller = asyncio.ensure_future(poll())
        try:
            await self._wait_for(poller.done, f"adapter {adapter_path} to be powered")
        finally:
            poller.cancel()
