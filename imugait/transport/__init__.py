"""Transports: bytes in from sensors (serial, BLE), nothing about frames.

Every transport is an async context manager and an async iterator of ``bytes | LinkEvent``
(see ``imugait.transport.link``). Modules: ``serial`` (pyserial), ``ble`` (bleak),
``ble_profiles`` (GATT UUIDs). Emulated sensors (pseudo-terminals, emulated BlueZ) are in
``imugait.emulate``.
"""

from imugait.transport.link import (
    Backoff,
    DeviceDisconnected,
    LinkEvent,
    LinkState,
    TransportError,
    TransportItem,
)

__all__ = [
    "Backoff",
    "DeviceDisconnected",
    "LinkEvent",
    "LinkState",
    "TransportError",
    "TransportItem",
]
