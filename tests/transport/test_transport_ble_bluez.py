"""BLE through the real bleak BlueZ backend against emulated BlueZ (private dbus-daemon + BlueZoo).

Needs ``dbus-daemon`` (Debian package dbus-daemon, in the base image) and the ``bluezoo`` and
``dbus-fast`` packages (dependencies in pyproject.toml). Skipped, loudly, only when one is
missing.
"""

import asyncio

import pytest
from transport_helpers import Recorder, run

from imugait.emulate.bluez import EmulatedBlueZ, emulation_unavailable_reason
from imugait.transport.ble import BleTransport, scan_ble
from imugait.transport.ble_profiles import IMUGAIT_V1, WITMOTION_BLE5
from imugait.transport.link import Backoff, LinkState

_UNAVAILABLE = emulation_unavailable_reason()
pytestmark = pytest.mark.skipif(
    _UNAVAILABLE is not None, reason=f"EMULATED BLUEZ UNAVAILABLE: {_UNAVAILABLE}"
)

SCAN_S = 1.3  # BlueZoo reports advertisers once per second (scan_interval_s=1)


def _chunks(tag: int, n: int) -> list[bytes]:
    """``n`` distinct 20-byte notifications: tag, index (big-endian u16), then filler."""
    return [bytes([tag]) + i.to_bytes(2, "big") + bytes([(i + tag) % 256]) * 17 for i in range(n)]


def test_scan_finds_the_emulated_peripherals_with_rssi_and_protocol():
    async def scenario():
        async with EmulatedBlueZ() as bluez:
            ours = await bluez.add_peripheral("IMU-L-THIGH", IMUGAIT_V1)
            wit = await bluez.add_peripheral("WT901BLE68", WITMOTION_BLE5)
            found = await scan_ble(SCAN_S, adapter=bluez.central_adapter)
            only_ours = await scan_ble(SCAN_S, profiles=(IMUGAIT_V1,), adapter="hci0")
            by_name = await scan_ble(
                SCAN_S, name_matches=lambda n: bool(n and n.startswith("WT")), adapter="hci0"
            )
            return ours, wit, found, only_ours, by_name

    ours, wit, found, only_ours, by_name = run(scenario(), timeout_s=120)
    by_address = {r.address: r for r in found}
    assert by_address[ours.address].name == "IMU-L-THIGH"
    assert by_address[ours.address].profile == IMUGAIT_V1
    assert IMUGAIT_V1.service_uuid in by_address[ours.address].service_uuids
    assert by_address[wit.address].profile == WITMOTION_BLE5
    assert all(isinstance(r.rssi_dbm, int) for r in found)  # BlueZoo reports 0 dBm
    assert [r.address for r in only_ours] == [ours.address]
    assert [r.address for r in by_name] == [wit.address]


def test_two_peripherals_stream_concurrently_every_byte_in_order():
    n_notifications = 300

    async def scenario():
        async with EmulatedBlueZ() as bluez:
            sensors = [
                await bluez.add_peripheral("IMU-L-THIGH"),
                await bluez.add_peripheral("IMU-L-SHANK"),
            ]
            found = {r.address: r for r in await scan_ble(SCAN_S, adapter="hci0")}
            links = [
                BleTransport(found[s.address].device, IMUGAIT_V1, adapter="hci0")
                for s in sensors
            ]
            for link in links:
                await link.open()
            recorders = [Recorder(link) for link in links]
            await asyncio.gather(*(s.wait_subscribed() for s in sensors))
            await links[1].write(b"start")
            command = await asyncio.wait_for(sensors[1].commands.get(), 2.0)

            async def stream(sensor, tag):
                for chunk in _chunks(tag, n_notifications):
                    await sensor.notify(chunk)

            await asyncio.gather(stream(sensors[0], 1), stream(sensors[1], 2))
            expected = 20 * n_notifications
            for rec in recorders:
                await rec.wait_for(lambda rec=rec: len(rec.data) >= expected)
            for link in links:
                await link.close()
            return recorders, links, command

    recorders, links, command = run(scenario(), timeout_s=120)
    assert command == b"start"
    for tag, rec, link in zip((1, 2), recorders, links, strict=True):
        assert rec.data == b"".join(_chunks(tag, n_notifications))
        assert rec.states() == [LinkState.CONNECTED, LinkState.CLOSED]
        assert link.dropped_notifications == 0


def test_link_drop_reconnects_through_bluez_and_bytes_after_it_arrive():
    async def scenario():
        async with EmulatedBlueZ() as bluez:
            sensor = await bluez.add_peripheral("IMU-R-THIGH")
            (result,) = await scan_ble(SCAN_S, adapter="hci0")
            backoff = Backoff(initial_s=0.05, max_s=0.5)
            async with BleTransport(result.device, adapter="hci0", backoff=backoff) as link:
                rec = Recorder(link)
                await sensor.wait_subscribed()
                for chunk in _chunks(3, 20):
                    await sensor.notify(chunk)
                await rec.wait_for(lambda: len(rec.data) == 20 * 20)
                await sensor.drop_link(bluez.central_adapter_path)
                await rec.wait_for(lambda: rec.states().count(LinkState.CONNECTED) == 2)
                await sensor.wait_subscribed()
                for chunk in _chunks(4, 20):
                    await sensor.notify(chunk)
                await rec.wait_for(lambda: len(rec.data) == 2 * 20 * 20)
            await rec.finished()
            return rec

    rec = run(scenario(), timeout_s=120)
    assert rec.data == b"".join(_chunks(3, 20) + _chunks(4, 20))
    assert rec.states() == [
        LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CONNECTED, LinkState.CLOSED
    ]
    assert rec.events[2].down_s > 0.0
