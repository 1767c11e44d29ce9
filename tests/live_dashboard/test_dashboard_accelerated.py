"""The whole live path in accelerated, stepped virtual time: four emulated sensors on the in-process
wire (a link drop, samples lost on the devices, delivery jitter) → live acquisition → live
kinematics → the dashboard's server → a page on its websocket. What the run gives does not depend
on the machine's speed: the wire waits for the host after every delivery."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from types import SimpleNamespace

import pytest

from imugait.conventions import Side
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import emulated_devices, walker_simulation
from imugait.emulate.faults import LinkDrop
from imugait.emulate.wire import LatencyModel, WireEmulation
from imugait.live.dashboard.run import DashboardConfig, LiveDashboard
from imugait.live.kinematics import LiveKinematics
from imugait.live.updates import CalibrationPhase

HANG_GUARD_S = 900.0  # a hang guard only (a starved machine plays slowly)
DROPPED = "left_shank"


@pytest.fixture(scope="module")
def played():
    walk = walker_simulation(4, 45.0, sample_rate_hz=200.0, seed=21, stand_s=5.0)
    devices = emulated_devices(walk, DeviceSettings(sample_loss_probability=0.005, samples_per_block=4,
                                                   autostart=True, seed=21))
    [dropped] = [p for p in devices if p.value == DROPPED]
    wire = WireEmulation(devices, [LinkDrop(dropped, 30.0, 1.0)], LatencyModel(0.008, 0.004, seed=21))
    messages: list[dict] = []

    async def page(url):
        import websockets

        async with websockets.connect(url.replace("http://", "ws://").replace("/?token=", "/ws?token="),
                                      max_size=None) as ws:
            async for text in ws:
                messages.append(json.loads(text))

    async def main():
        async with asyncio.timeout(HANG_GUARD_S):
            async with LiveDashboard(wire.opener(), LiveKinematics, DashboardConfig()) as dash:
                reader = asyncio.create_task(page(dash.url))
                while dash.hub.n_clients == 0:  # the page is connected before the sensors play
                    await asyncio.sleep(0.01)
                player = asyncio.create_task(wire.play())
                await dash.run()
                await player
                status = {s.placement: s for s in dash.live.status()}
                held = dash.live.assembler.held_sample_bytes()
                update = dash.pipeline.poll()
                calibration = dash.pipeline.calibration_states()
                fed = dict(dash.samples_fed)
                await asyncio.sleep(0.1)
            await reader
            return status, update, held, calibration, fed

    status, update, held, calibration, fed = asyncio.run(main())
    return SimpleNamespace(wire=wire, devices=devices, status=status, update=update, fed=fed, messages=messages,
                           held=held, calibration=calibration)


def test_every_delivered_sample_is_received_and_fed_to_the_pipeline(played):
    wire, devices, status, fed = played.wire, played.devices, played.status, played.fed
    for p, device in devices.items():
        sent = device.sent()
        delivered = sent.n_sent - wire.destroyed(p).size
        assert status[p].n_samples == delivered == fed[p], p
        assert status[p].n_lost >= sent.lost_seq.size  # the devices' losses (and the drop's) are counted


def test_the_link_drop_is_one_outage_of_its_sensor_only(played):
    devices, status = played.devices, played.status
    for p in devices:
        outages = status[p].outages
        if p.value == DROPPED:
            assert len(outages) == 1 and 29.0 < outages[0][0] < 31.5 and 0.9 < outages[0][1] < 1.5
        else:
            assert not outages


def test_both_legs_calibrate_and_count_strides(played):
    update = played.update
    assert {c.side: c.phase for c in played.calibration} == {Side.LEFT: CalibrationPhase.CALIBRATED,
                                                              Side.RIGHT: CalibrationPhase.CALIBRATED}
    # 45 s: stand 5 s, three bouts of about 10 s with turns, stand 5 s; calibration takes the
    # first 10 s of walking, so strides come from the second bout on (about 8 per bout and leg).
    assert all(n >= 8 for n in update.n_strides.values()) and set(update.n_strides) == {Side.LEFT, Side.RIGHT}


def test_the_page_got_every_stride_the_angles_and_the_drop(played):
    update, messages = played.update, played.messages
    assert messages[0]["type"] == "snapshot" and messages[-1]["finished"] is True
    strides = {(s["side"], s["index"]) for m in messages for s in m.get("strides", [])}
    assert Counter(side for side, _ in strides) == {side.value: n for side, n in update.n_strides.items()}
    for side in ("left", "right"):
        t = [t for m in messages for t in m["angles"].get(side, {}).get("t_s", [])]
        assert t == sorted(t) and len(t) == len(set(t)) and t[-1] > 40.0  # in order, once each, to the end
    sensors = {s["placement"]: s for m in messages for s in m.get("sensors", [])}  # the newest of each
    assert {p: s["reconnects"] for p, s in sensors.items()} == {p: int(p == DROPPED) for p in sensors}


def test_the_dashboards_acquisition_keeps_no_samples(played):
    """The takes record (each its own recorder); the acquisition under the dashboard keeps
    counters, the clock fit and the live buffers only, so its memory stays flat however long it
    runs (before: every sample of the run, about 150 bytes each, for nothing)."""
    assert played.held == 0
