"""Entry point that runs BlueZoo with two fixes that bring it closer to BlueZ.

1. Reconnecting to the same peripheral. BlueZoo 1.0 exports the central's view of a peripheral's GATT objects on every connect but never
removes them on disconnect, so a second connect fails with EEXIST (and stale notify
subscriptions would duplicate values). Real BlueZ stops notifications when a link drops; this
wrapper makes BlueZoo's ``Device.disconnect`` do the same and unexport those objects.

2. Scanning twice. BlueZoo re-reports a known device without any D-Bus signal (its RSSI never
changes), so a second scan sees nothing new and bleak reports nothing. BlueZ forgets
unconnected, unpaired devices some time after a scan; here they are forgotten when a new scan
starts, so each scan announces every advertiser afresh.

Run as
``python -m imugait.emulate._bluezoo_main [bluezoo arguments]``.
"""

import asyncio

from bluezoo import bluezoo as _bluezoo
from bluezoo import device as _device
from bluezoo.gatt import GattCharacteristicClientLink

_original_disconnect = _device.Device.disconnect


async def _disconnect_and_forget_gatt(self, uuid=None):
    await _original_disconnect(self, uuid)
    mock = self.peer_adapter.mock
    for link in list(self.services.values()):
        if isinstance(link, GattCharacteristicClientLink):
            link.client_props_changed_subscription.unsubscribe()
        if link in mock.manager_export_handles:
            mock.remove_object(link)
    self.services.clear()


_device.Device.disconnect = _disconnect_and_forget_gatt

_original_discovering_task = _bluezoo.BluezMockService.create_discovering_task


def _forget_then_discover(self, id):  # noqa: A002 (BlueZoo's name)
    adapter = self.adapters[id]

    async def forget_then_scan():
        for device in list(adapter.devices.values()):
            if not device.connected and not device.paired:
                await adapter.del_device(device)
        await _original_discovering_task(self, id)

    return asyncio.create_task(forget_then_scan())


_bluezoo.BluezMockService.create_discovering_task = _forget_then_discover

if __name__ == "__main__":
    _bluezoo.main()
