"""Find sensors that speak a supported protocol: probe serial ports, scan BLE advertisements.

A serial port is asked for its DEVICE_INFO (imugait v1 ``REQUEST_INFO``) and listened to for
``timeout_s``; whatever the bytes decode as (our protocol, or WitMotion's serial frames) names
the protocol. BLE devices are recognised by the service they advertise (``scan_ble``).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from imugait.acquisition.sources import PROTOCOLS, SourceKind
from imugait.model import device_text
from imugait.protocol.imugait_v1 import encode_command
from imugait.protocol.messages import CommandCode, DeviceAnnouncement, SampleBlock
from imugait.transport.ble import scan_ble
from imugait.transport.link import TransportError
from imugait.transport.serial import SerialTransport, list_serial_ports


@dataclass(frozen=True)
class FoundSensor:
    """A sensor found by :func:`find_sensors`.

    Attributes
    ----------
    kind, address : serial path or BLE address.
    protocol : name of a supported protocol (a key of ``imugait.live.acquisition.PROTOCOLS``).
    name : device id (serial, from its announcement) or advertised name (BLE).
    model : device model when announced.
    sample_rate_hz : announced rate, or None.
    rssi_dbm : BLE signal strength, None for serial.
    ble_device : what to connect to (BLE only).
    """

    kind: SourceKind
    address: str
    protocol: str
    name: str = ""
    model: str = ""
    sample_rate_hz: float | None = None
    rssi_dbm: int | None = None
    ble_device: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("name", "model"):  # what the device calls itself: untrusted text
            object.__setattr__(self, name, device_text(getattr(self, name)))


async def probe_serial(path: str, timeout_s: float = 1.0, baud_rate: int = 921_600) -> FoundSensor | None:
    """What speaks on serial port ``path`` (None: nothing we understand, or cannot open)."""
    decoders = {name: p.serial_decoder() for name, p in PROTOCOLS.items() if p.serial_decoder is not None}
    try:
        async with SerialTransport(path, baud_rate) as link:
            with contextlib.suppress(TransportError):
                await link.write(encode_command(CommandCode.REQUEST_INFO, 1))
            async with asyncio.timeout(timeout_s):
                async for item in link:
                    if not isinstance(item, bytes):
                        continue
                    for name, decoder in decoders.items():
                        for message in decoder.feed(item):
                            if isinstance(message, DeviceAnnouncement):
                                return FoundSensor(SourceKind.SERIAL, path, name, message.device_id,
                                                   message.model, message.sample_rate_hz)
                            if isinstance(message, SampleBlock):
                                return FoundSensor(SourceKind.SERIAL, path, name)
    except (TransportError, TimeoutError, OSError):
        return None
    return None


async def find_sensors(timeout_s: float = 2.0, *, serial: bool = True, ble: bool = True,
                       adapter: str | None = None) -> list[FoundSensor]:
    """Serial ports (probed in parallel) and BLE devices (scanned) that speak a supported protocol.

    BLE results come strongest first; a BLE scan that fails (no adapter) is skipped.
    """
    found: list[FoundSensor] = []
    if serial:
        ports = list_serial_ports()
        probed = await asyncio.gather(*(probe_serial(p.path, timeout_s) for p in ports))
        found += [f for f in probed if f is not None]
    if ble:
        with contextlib.suppress(TransportError):
            for r in await scan_ble(timeout_s, adapter=adapter):
                found.append(FoundSensor(SourceKind.BLE, r.address, r.profile.name if r.profile else "?",
                                         r.name or "", rssi_dbm=r.rssi_dbm, ble_device=r.device))
    return found
