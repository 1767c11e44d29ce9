"""``imugait scan``: serial ports and BLE devices that speak a supported protocol."""

from __future__ import annotations

import argparse

from imugait.cli._options import emulated_sensors, timeout_s


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan", help="list sensors on serial ports and BLE that speak a supported protocol",
        description="Probe every serial port (asks imugait v1 devices for their info, listens for "
                    "WitMotion frames) and scan BLE advertisements for known services, with signal "
                    "strength. --emulate N starts N emulated sensors first (on pseudo-terminals, and "
                    "as BLE peripherals when the emulated BlueZ is available) and scans them.",
    )
    p.add_argument("--timeout", type=timeout_s, default=1.5, metavar="S", help="probe / scan time (0-60 s, default 1.5)")
    p.add_argument("--emulate", type=emulated_sensors, default=0, metavar="N", help="start N emulated sensors (1-4)")
    p.add_argument("--no-ble", action="store_true", help="skip BLE")
    p.add_argument("--no-serial", action="store_true", help="skip serial ports")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    found = asyncio.run(_scan(args))
    if not found:
        print("no sensors found")
        return 0
    print(f"{'link':<7} {'address':<44} {'protocol':<12} {'name / device id':<20} {'signal':>8}  details")
    for f in found:
        signal = "—" if f.rssi_dbm is None else f"{f.rssi_dbm} dBm"
        details = " ".join(x for x in (f.model, f"{f.sample_rate_hz:g} Hz" if f.sample_rate_hz else "") if x)
        print(f"{f.kind.value:<7} {f.address:<44} {f.protocol:<12} {f.name:<20} {signal:>8}  {details}")
    by_kind = {k: sum(f.kind.value == k for f in found) for k in ("serial", "ble")}
    print(f"{len(found)} sensor link(s): {by_kind['serial']} serial, {by_kind['ble']} BLE")
    return 0


async def _scan(args: argparse.Namespace):
    import contextlib

    from imugait.acquisition.discovery import find_sensors

    async with contextlib.AsyncExitStack() as stack:
        adapter = None
        want_ble = not args.no_ble
        if args.emulate:
            from imugait.transport.bluez_emulation import (
                EmulatedBlueZ,
                emulation_unavailable_reason,
            )
            from imugait.transport.emulated_device import DeviceSettings
            from imugait.transport.emulator import (
                BleEmulator,
                SerialEmulator,
                emulated_devices,
                walker_simulation,
            )

            result = walker_simulation(args.emulate, 8.0, sample_rate_hz=100.0)
            if not args.no_serial:
                stack.enter_context(SerialEmulator(emulated_devices(result, DeviceSettings())))
            if want_ble:
                reason = emulation_unavailable_reason()
                if reason is None:
                    bluez = await stack.enter_async_context(EmulatedBlueZ())
                    await stack.enter_async_context(BleEmulator(emulated_devices(result), bluez))
                    adapter = bluez.central_adapter
                else:
                    print(f"BLE emulation unavailable ({reason}); emulating serial sensors only")
                    want_ble = False
        return await find_sensors(args.timeout, serial=not args.no_serial, ble=want_ble, adapter=adapter)
