"""BLE transport driver logic against a fake bleak backend: drops, back-off, overflow, writes."""

import asyncio

import pytest
from fake_bleak_backend import FakePeripheral
from transport_helpers import Recorder, RecordingBackoff, run

from imugait.transport.ble import BleTransport
from imugait.transport.ble_profiles import IMUGAIT_V1
from imugait.transport.link import Backoff, DeviceDisconnected, LinkState, TransportError

FAST = Backoff(initial_s=0.02, factor=2.0, max_s=0.5)


def _transport(peripheral, **kwargs):
    kwargs.setdefault("backoff", FAST)
    return BleTransport(peripheral.address, IMUGAIT_V1, backend=peripheral.backend(), **kwargs)


def test_drop_is_reported_as_a_gap_and_bytes_after_the_reconnect_arrive():
    sensor = FakePeripheral(IMUGAIT_V1)
    before = [bytes([i]) * 20 for i in range(50)]
    after = [bytes([100 + i]) * 20 for i in range(50)]
    out_of_range_s = 0.3

    backoff = RecordingBackoff(initial_s=FAST.initial_s, factor=FAST.factor, max_s=FAST.max_s)

    async def scenario():
        async with _transport(sensor, backoff=backoff) as link:
            rec = Recorder(link)
            for chunk in before:
                sensor.notify(chunk)
            await rec.wait_for(lambda: len(rec.data) == 20 * len(before))
            sensor.reachable = False
            sensor.drop()
            await rec.wait_for(lambda: LinkState.RECONNECTING in rec.states())
            with pytest.raises(DeviceDisconnected):
                await link.write(b"x")
            await asyncio.sleep(out_of_range_s)
            sensor.reachable = True
            await rec.wait_for(lambda: rec.states().count(LinkState.CONNECTED) == 2)
            for chunk in after:
                sensor.notify(chunk)
            await rec.wait_for(lambda: len(rec.data) == 20 * (len(before) + len(after)))
        await rec.finished()
        return rec, link

    rec, link = run(scenario())
    assert rec.data == b"".join(before + after)
    assert rec.states() == [
        LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CONNECTED, LinkState.CLOSED
    ]
    gap = rec.events[2]
    assert gap.down_s >= out_of_range_s
    assert gap.attempt == len(sensor.connect_attempt_times_s) - 1  # minus the first connect
    # It reconnected at the first attempt after the sensor came back: all but the last failed.
    assert sensor.connect_attempt_reachable[1:] == [False] * (gap.attempt - 1) + [True]
    # Back-off: the waits asked between attempts grow geometrically up to max_s (never longer),
    # and every wait measured between attempts lasted at least what was asked. (Measured gaps
    # only have a lower bound: a loaded machine stretches them, so no upper bound is asserted.)
    asked = backoff.asked_s
    assert len(asked) == gap.attempt >= 2  # the first retry comes 0.02 s after the drop, long before the sensor is back
    assert asked == [min(FAST.max_s, FAST.initial_s * FAST.factor ** k) for k in range(len(asked))]
    times = sensor.connect_attempt_times_s[1:]
    waits = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(w >= a - 0.002 for w, a in zip(waits, asked[1:], strict=True))  # 2 ms: the loop's clock resolution
    assert link.reconnects == 1 and link.dropped_notifications == 0


def test_a_drop_is_noticed_even_without_a_disconnect_callback():
    sensor = FakePeripheral(IMUGAIT_V1)

    async def scenario():
        async with _transport(sensor, link_check_interval_s=0.05) as link:
            rec = Recorder(link)
            client = sensor.client
            client._disconnected_callback = None  # as when BlueZ never tells us
            sensor.drop()
            await rec.wait_for(lambda: rec.states().count(LinkState.CONNECTED) == 2)
        return rec

    assert run(scenario()).states()[:3] == [
        LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CONNECTED
    ]


def test_overflow_drops_the_newest_notifications_and_counts_them():
    sensor = FakePeripheral(IMUGAIT_V1)

    async def scenario():
        async with _transport(sensor, queue_size=4) as link:
            for i in range(10):
                sensor.notify(bytes([i]))
            items = [await link.__anext__() for _ in range(5)]
        return items, link

    items, link = run(scenario())
    assert items[0].state is LinkState.CONNECTED
    assert items[1:] == [b"\x00", b"\x01", b"\x02", b"\x03"]
    assert (link.notifications_received, link.dropped_notifications) == (10, 6)


def test_commands_go_to_the_command_characteristic():
    sensor = FakePeripheral(IMUGAIT_V1)

    async def scenario():
        async with _transport(sensor) as link:
            await link.write(b"\x01\x01\x14")

    run(scenario())
    assert sensor.writes == [(IMUGAIT_V1.command_uuid, b"\x01\x01\x14")]


def test_gives_up_after_max_attempts_with_an_actionable_error():
    sensor = FakePeripheral(IMUGAIT_V1)

    async def scenario():
        backoff = Backoff(initial_s=0.01, max_s=0.02, max_attempts=3)
        async with _transport(sensor, backoff=backoff) as link:
            rec = Recorder(link)
            sensor.notify(b"kept")
            await rec.wait_for(lambda: rec.data == b"kept")
            sensor.reachable = False
            sensor.drop()
            await rec.finished()
        return rec

    rec = run(scenario())
    assert rec.data == b"kept"
    assert rec.states() == [LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CLOSED]
    assert isinstance(rec.error, DeviceDisconnected)
    assert "after 3 attempts" in str(rec.error)


def test_first_connect_failure_raises_transport_error():
    sensor = FakePeripheral(IMUGAIT_V1)
    sensor.reachable = False

    async def scenario():
        async with _transport(sensor):
            pass

    with pytest.raises(TransportError, match=sensor.address):
        run(scenario())
