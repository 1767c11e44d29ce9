"""Transports: bytes in from sensors (serial, BLE, emulated), nothing about frames.

Every transport is an async context manager and an async iterator of ``bytes | LinkEvent``
(see ``imugait.transport.link``). Modules: ``serial`` (pyserial), ``ble`` (bleak),
``ble_profiles`` (GATT UUIDs), ``pty_pair`` (emulated serial device), ``bluez_emulation`` and
``bluez_peripheral`` (emulated BlueZ and BLE peripherals for tests and ``--emulate``).
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
