"""A scripted BLE peripheral behind a fake bleak backend (``BleakClient(..., backend=...)``).

``FakePeripheral`` is the world: whether the device is reachable, what it notifies, when the
link drops. ``FakePeripheral.backend()`` returns a ``BaseBleakClient`` subclass bound to it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from imugait.transport.ble_profiles import BleProfile


class FakePeripheral:
    def __init__(self, profile: BleProfile, address: str = "FA:KE:00:00:00:01") -> None:
        self.profile = profile
        self.address = address
        self.reachable = True
        self.connect_attempt_times_s: list[float] = []
        self.connect_attempt_reachable: list[bool] = []
        self.writes: list[tuple[str, bytes]] = []
        self.client: FakeClientBase | None = None

    def backend(self) -> type[BaseBleakClient]:
        return type("FakeClient", (FakeClientBase,), {"peripheral": self})

    def notify(self, data: bytes) -> None:
        """Deliver one notification to the subscribed client (as bleak's backend would)."""
        client = self.client
        if client is None or client.callback is None:
            raise RuntimeError("fake peripheral: nobody subscribed")
        client.callback(bytearray(data))

    def drop(self) -> None:
        """The radio link dies: the client learns through its disconnected callback."""
        client, self.client = self.client, None
        if client is not None:
            client.connected = False
            client.callback = None
            if client._disconnected_callback is not None:
                asyncio.get_running_loop().call_soon(client._disconnected_callback)

    def services(self) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        service = BleakGATTService(None, 1, self.profile.service_uuid)
        collection.add_service(service)
        chars = [(2, self.profile.notify_uuid, ["read", "notify"])]
        if self.profile.command_uuid:
            chars.append((4, self.profile.command_uuid, ["write", "write-without-response"]))
        for handle, uuid, props in chars:
            char = BleakGATTCharacteristic(None, handle, uuid, props, lambda: 244, service)
            collection.add_characteristic(char)
        return collection


class FakeClientBase(BaseBleakClient):
    peripheral: FakePeripheral

    def __init__(self, address_or_ble_device: Any, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 10.0),
        )
        self.connected = False
        self.callback: NotifyCallback | None = None

    @property
    def mtu_size(self) -> int:
        return 247

    @property
    def is_connected(self) -> bool:
        return self.connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        peripheral = self.peripheral
        peripheral.connect_attempt_times_s.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0)
        peripheral.connect_attempt_reachable.append(peripheral.reachable)  # what this attempt met
        if not peripheral.reachable:
            raise BleakError(f"Device with address {self.address} was not found.")
        self.connected = True
        self.services = peripheral.services()
        peripheral.client = self

    async def disconnect(self) -> None:
        self.connected = False
        if self.peripheral.client is self:
            self.peripheral.client = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def unpair(self) -> None:
        pass

    async def read_gatt_char(self, characteristic: Any, **kwargs: Any) -> bytearray:
        return bytearray()

    async def read_gatt_descriptor(self, descriptor: Any, **kwargs: Any) -> bytearray:
        return bytearray()

    async def write_gatt_char(self, characteristic: Any, data: Any, response: bool) -> None:
        if not self.connected:
            raise BleakError("Not connected")
        self.peripheral.writes.append((characteristic.uuid, bytes(data)))

    async def write_gatt_descriptor(self, descriptor: Any, data: Any) -> None:
        pass

    async def start_notify(self, characteristic: Any, callback: NotifyCallback, **kwargs: Any):
        self.callback = callback

    async def stop_notify(self, characteristic: Any) -> None:
        self.callback = None
