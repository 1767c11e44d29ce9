# ruff: noqa: F722, F821  (the string annotations below are D-Bus signatures, not Python types)
"""An emulated BLE peripheral: a GATT application and an LE advertisement served with dbus-fast.

It speaks BlueZ's *server-side* D-Bus API (``org.bluez.GattManager1.RegisterApplication``,
``org.bluez.LEAdvertisingManager1.RegisterAdvertisement``) on one adapter, exactly as a Linux
peripheral program would with real BlueZ; under BlueZoo (see ``bluez_emulation``) another
emulated adapter then sees it as a remote device. One service with a notify characteristic (the
data stream) and a write characteristic (commands), both from a ``BleProfile``.

Annotations here are D-Bus signatures read by dbus-fast, so this module must not use
``from __future__ import annotations``.
"""

import asyncio
from collections.abc import Callable

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

from imugait.transport.ble_profiles import BleProfile
from imugait.transport.link import TransportError

BLUEZ = "org.bluez"


class _Advertisement(ServiceInterface):
    """org.bluez.LEAdvertisement1: what scanners see (name and service UUIDs)."""

    def __init__(self, local_name: str, service_uuids: list[str]) -> None:
        super().__init__("org.bluez.LEAdvertisement1")
        self._local_name = local_name
        self._service_uuids = service_uuids

    @method()
    def Release(self) -> None:
        pass

    @dbus_property(access=PropertyAccess.READ)
    def Type(self) -> "s":
        return "peripheral"

    @dbus_property(access=PropertyAccess.READ)
    def ServiceUUIDs(self) -> "as":
        return self._service_uuids

    @dbus_property(access=PropertyAccess.READ)
    def LocalName(self) -> "s":
        return self._local_name

    @dbus_property(access=PropertyAccess.READ)
    def Discoverable(self) -> "b":
        return True


class _Service(ServiceInterface):
    """org.bluez.GattService1."""

    def __init__(self, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self._uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":
        return True


class _Characteristic(ServiceInterface):
    """org.bluez.GattCharacteristic1 with notify and/or write."""

    def __init__(
        self,
        uuid: str,
        service_path: str,
        flags: list[str],
        on_write: Callable[[bytes], None] | None = None,
    ) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self._uuid = uuid
        self._service_path = service_path
        self._flags = flags
        self._on_write = on_write
        self.value = b""
        self.notifying = False
        self.notify_changed = asyncio.Event()
        self.confirmed = asyncio.Event()

    @method()
    def ReadValue(self, options: "a{sv}") -> "ay":
        return self.value

    @method()
    def WriteValue(self, value: "ay", options: "a{sv}") -> None:
        self.value = bytes(value)
        if self._on_write is not None:
            self._on_write(bytes(value))

    @method()
    def StartNotify(self) -> None:
        self._set_notifying(True)

    @method()
    def StopNotify(self) -> None:
        self._set_notifying(False)

    @method()
    def Confirm(self) -> None:
        # BlueZoo confirms each value it forwarded to the central: our flow control.
        self.confirmed.set()

    def _set_notifying(self, notifying: bool) -> None:
        if self.notifying != notifying:
            self.notifying = notifying
            self.emit_properties_changed({"Notifying": notifying})
        self.notify_changed.set()

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self._uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> "o":
        return self._service_path

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":
        return self._flags

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> "b":
        return self.notifying


async def call_bluez(
    bus: MessageBus, path: str, interface: str, member: str, signature: str = "", body=()
) -> list:
    """Call a BlueZ method and return the reply body; raise ``TransportError`` on a D-Bus error."""
    reply = await bus.call(
        Message(
            destination=BLUEZ,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=list(body),
        )
    )
    if reply is None or reply.message_type == MessageType.ERROR:
        detail = reply.body if reply is not None else "no reply"
        raise TransportError(f"BlueZ {interface}.{member} on {path} failed: {detail}")
    return reply.body


class EmulatedPeripheral:
    """One emulated sensor on one emulated adapter.

    Create it through ``EmulatedBlueZ.add_peripheral``; use ``notify`` to stream bytes,
    ``commands`` to see what the central wrote, ``drop_link`` to cut the connection.

    Parameters
    ----------
    bus_address : str
        D-Bus address of the (private) system bus.
    adapter_path : str
        The adapter it lives on, ``/org/bluez/hciN``.
    address : str
        That adapter's Bluetooth address (the central sees the peripheral under it).
    name : str
        Advertised local name.
    profile : BleProfile
        Service, notify and command UUIDs.
    """

    def __init__(
        self, bus_address: str, adapter_path: str, address: str, name: str, profile: BleProfile
    ) -> None:
        self.bus_address = bus_address
        self.adapter_path = adapter_path
        self.address = address
        self.name = name
        self.profile = profile
        self.commands: asyncio.Queue[bytes] = asyncio.Queue()
        self.notifications_sent = 0
        self._bus: MessageBus | None = None
        root = f"/com/imugait/peripheral_{address.replace(':', '')}"
        self._app_path = root
        self._adv_path = root + "/advertisement"
        service_path = root + "/service0"
        self._service = _Service(profile.service_uuid)
        self._data_char = _Characteristic(profile.notify_uuid, service_path, ["read", "notify"])
        self._objects: dict[str, ServiceInterface] = {
            service_path: self._service,
            service_path + "/char0": self._data_char,
        }
        if profile.command_uuid is not None:
            self._objects[service_path + "/char1"] = _Characteristic(
                profile.command_uuid,
                service_path,
                ["write", "write-without-response"],
                on_write=self.commands.put_nowait,
            )
        self._advertisement = _Advertisement(name, [profile.service_uuid])

    @property
    def notifying(self) -> bool:
        """Whether a central has subscribed to the data characteristic."""
        return self._data_char.notifying

    async def start(self) -> None:
        """Connect to the bus, export the objects, register the GATT app and the advertisement."""
        self._bus = await MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM).connect()
        for path, interface in self._objects.items():
            self._bus.export(path, interface)
        self._bus.export(self._adv_path, self._advertisement)
        await call_bluez(
            self._bus, self.adapter_path, "org.bluez.GattManager1", "RegisterApplication",
            "oa{sv}", (self._app_path, {}),
        )
        await call_bluez(
            self._bus, self.adapter_path, "org.bluez.LEAdvertisingManager1",
            "RegisterAdvertisement", "oa{sv}", (self._adv_path, {}),
        )

    async def stop(self) -> None:
        if self._bus is not None:
            self._bus.disconnect()
            self._bus = None

    async def wait_subscribed(self, timeout_s: float = 5.0) -> None:
        """Wait until a central has enabled notifications."""
        async with asyncio.timeout(timeout_s):
            while not self._data_char.notifying:
                self._data_char.notify_changed.clear()
                await self._data_char.notify_changed.wait()

    async def notify(self, data: bytes, timeout_s: float = 2.0) -> None:
        """Send one notification and wait until BlueZoo has handed it to the central.

        Waiting for BlueZoo's ``Confirm`` keeps notifications in order and paces the sender as
        a real link would. Raises ``TransportError`` when no central is subscribed.
        """
        if not self._data_char.notifying:
            raise TransportError(
                f"emulated peripheral {self.name!r}: no central subscribed to notifications"
            )
        self._data_char.confirmed.clear()
        self._data_char.value = bytes(data)
        self._data_char.emit_properties_changed({"Value": bytes(data)})
        async with asyncio.timeout(timeout_s):
            await self._data_char.confirmed.wait()
        self.notifications_sent += 1

    async def drop_link(self, central_adapter_path: str) -> None:
        """Cut the connection to the central, as a radio drop would.

        The central's device object is disconnected (BlueZoo does not propagate a
        peripheral-side disconnect to the central), and notifications stop, as BlueZ does for a
        server when its client goes away.
        """
        assert self._bus is not None, "start() the peripheral first"
        device_path = f"{central_adapter_path}/dev_{self.address.replace(':', '_')}"
        self._data_char._set_notifying(False)
        await call_bluez(self._bus, device_path, "org.bluez.Device1", "Disconnect")

    def __repr__(self) -> str:
        return f"EmulatedPeripheral({self.name!r} at {self.address} on {self.adapter_path})"

