"""Serial faults mid-stream: a sensor unplugged and re-plugged, garbage bytes on another line."""

from __future__ import annotations

import asyncio

import numpy as np
from emulator_helpers import record_serial, run

from imugait.conventions import Placement
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import (
    Disconnect,
    SerialEmulator,
    emulated_devices,
    walker_simulation,
)
from imugait.io.native import read_session

UNPLUGGED = Placement.LEFT_THIGH
GARBLED = Placement.LEFT_SHANK
UNPLUG_AT_S, UNPLUG_FOR_S = 4.0, 1.5
RATE_HZ = 200.0


def _garbage() -> bytes:
    rng = np.random.default_rng(5)
    # Non-zero noise, a stray delimiter, then noise that runs straight into the next frame.
    return bytes(rng.integers(1, 256, 300, dtype=np.uint8)) + b"\x00" + bytes(rng.integers(1, 256, 200, dtype=np.uint8))


def test_unplug_replug_and_garbage(tmp_path):
    result = walker_simulation(2, 10.0, sample_rate_hz=RATE_HZ, seed=3)
    devices = emulated_devices(result, DeviceSettings(samples_per_block=4))
    garbage = _garbage()

    async def inject_garbage(live):
        while emulator.true_time_s() < 2.0:
            await asyncio.sleep(0.02)
        emulator.inject(GARBLED, garbage)

    with SerialEmulator(devices, speed=2.0, disconnects=(Disconnect(UNPLUGGED, UNPLUG_AT_S, UNPLUG_FOR_S),)) as emulator:
        # Samples sent after the re-plug but before the host reopened the port are flushed by the
        # reopen (as with a real port), so stop when the intact line has delivered everything.
        def done(live):
            got = {s.placement: s.n_samples for s in live.status()}
            return emulator.finished and got[GARBLED] >= devices[GARBLED].sent().n_sent

        path, status, decoders = run(record_serial(emulator, tmp_path / "s", during=inject_garbage, until=done),
                                     timeout_s=300.0)
    session = read_session(path)

    # The unplugged sensor: one outage reported, one gap of about the outage, data after it.
    s = status[UNPLUGGED]
    assert s.reconnects == 1 and len(s.outages) == 1
    t_down, down_s = s.outages[0]
    assert UNPLUG_FOR_S - 0.1 <= down_s <= UNPLUG_FOR_S + 3.0
    stream = session[UNPLUGGED]
    big = max(stream.gaps, key=lambda g: g.n_lost)
    assert big.n_lost >= UNPLUG_FOR_S * RATE_HZ * 0.95
    gap_s = stream.t_s[big.after_index + 1] - stream.t_s[big.after_index]
    assert abs(gap_s - (big.n_lost + 1) / RATE_HZ) < 2e-3  # the gap is where the samples are missing
    assert stream.t_s[big.after_index] < t_down < stream.t_s[big.after_index + 1] + 0.5
    after = stream.n_samples - big.after_index - 1
    assert after > (10.0 - UNPLUG_AT_S - UNPLUG_FOR_S - 3.0) * RATE_HZ  # the rest of the walk arrived
    sent = devices[UNPLUGGED].sent()
    assert stream.n_samples + stream.n_lost_total == sent.seq[-1] - sent.seq[0] + 1

    # The garbled line: every garbage byte counted as discarded, no sample lost, none made up.
    stats = decoders[GARBLED].stats
    assert stats.bytes_discarded == len(garbage)
    assert stats.crc_failures + stats.malformed_frames >= 1
    assert stats.extra.get("frames_recovered_after_garbage", 0) >= 1
    garbled = session[GARBLED]
    assert garbled.n_samples == devices[GARBLED].sent().n_sent and garbled.n_lost_total == 0
    assert status[GARBLED].bytes_discarded == len(garbage)
