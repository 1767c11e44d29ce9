"""Serial faults mid-stream over real pseudo-terminals and pyserial: a sensor unplugged and\nre-plugged (the ports read at readiness and at the push tick), garbage bytes on another line, a device that reboots, whose clock jumps, or that\nsends frames twice or out of order (the same faults as the in-process wire of\n``tests/acquisition/test_fault_matrix.py``, here through the carrier users have)."""

from __future__ import annotations

import asyncio
from collections import Counter

import numpy as np
import pytest
from emulator_helpers import alignment_errors_s, common_offset_s, record_serial, run

from imugait.conventions import Placement
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import (
    Disconnect,
    SerialEmulator,
    emulated_devices,
    walker_simulation,
)
from imugait.emulate.faults import ClockJump, Duplicate, Reboot, Reorder
from imugait.io.native import read_session
from imugait.live.ticks import SerialReads
from imugait.model import EventKind

UNPLUGGED = Placement.LEFT_THIGH
GARBLED = Placement.LEFT_SHANK
UNPLUG_AT_S, UNPLUG_FOR_S = 4.0, 1.5
RATE_HZ = 200.0


def _garbage() -> bytes:
    rng = np.random.default_rng(5)
    # Non-zero noise, a stray delimiter, then noise that runs straight into the next frame.
    return bytes(rng.integers(1, 256, 300, dtype=np.uint8)) + b"\x00" + bytes(rng.integers(1, 256, 200, dtype=np.uint8))


@pytest.mark.parametrize("serial_reads", list(SerialReads), ids=lambda r: r.value)
def test_unplug_replug_and_garbage(tmp_path, serial_reads):
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

        path, status, decoders = run(record_serial(emulator, tmp_path / "s", during=inject_garbage, until=done,
                                                   serial_reads=serial_reads), timeout_s=300.0)
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


def _serial_recording(tmp_path, faults, duration_s=20.0, rate_hz=100.0, seed=4):
    result = walker_simulation(2, duration_s, sample_rate_hz=rate_hz, seed=seed)
    devices = emulated_devices(result, DeviceSettings(samples_per_block=4))
    with SerialEmulator(devices, speed=2.0, faults=faults) as emulator:
        path, status, decoders = run(record_serial(emulator, tmp_path / "s"), timeout_s=300.0)
        applied = list(emulator.faults_applied)
    return result, devices, read_session(path), status, applied


def _kinds(session, placement):
    return Counter(e.kind for e in session.meta.events if e.placement is placement)


def test_clock_jumps_duplicates_and_reordering_over_a_pseudo_terminal(tmp_path):
    faulty = UNPLUGGED
    faults = (ClockJump(faulty, 5.0, 10.0), Duplicate(faulty, 8.0), Reorder(faulty, 10.0),
              ClockJump(faulty, 12.0, -3.0), Duplicate(faulty, 14.0), Reorder(faulty, 16.0))
    result, devices, session, status, applied = _serial_recording(tmp_path, faults)
    assert [name for _t, p, name in applied] == [type(f).__name__ for f in faults]

    # Nothing lost, nothing made up: every sample the device sent once is in the session, in
    # order, on the walk's time despite the device clock's jumps.
    _assert_all_sent_arrived_on_time(result, devices, session)
    assert all(session[p].n_lost_total == 0 and not session[p].gaps for p in devices)

    # Each fault in the event log: two clock steps, the copies dropped, the overtaken frames put back.
    steps = [e.t_s for e in session.meta.events if e.kind is EventKind.CLOCK_STEP and e.placement is faulty]
    assert len(steps) == 2 and abs(steps[0] - 5.0) < 0.2 and abs(steps[1] - 12.0) < 0.2
    counts = {k: sum(e.count for e in session.meta.events if e.placement is faulty and e.kind is k)
              for k in (EventKind.DUPLICATES_DROPPED, EventKind.LATE_SAMPLES)}
    assert counts == {EventKind.DUPLICATES_DROPPED: 8, EventKind.LATE_SAMPLES: 8}  # 2 frames of 4 samples each
    assert not _kinds(session, GARBLED)


def test_device_reboot_over_a_pseudo_terminal(tmp_path):
    """The device restarts (counter and clock from their origin) while its port is gone for 0.5 s."""
    faulty = UNPLUGGED
    result, devices, session, status, applied = _serial_recording(tmp_path, (Reboot(faulty, 6.0, 0.5),))
    assert [(p, name) for _t, p, name in applied] == [(faulty, "Reboot")]
    kinds = _kinds(session, faulty)
    assert kinds[EventKind.DEVICE_RESET] == 1 and kinds[EventKind.LINK_DOWN] == 1 and kinds[EventKind.LINK_UP] == 1
    [reset] = [e for e in session.meta.events if e.kind is EventKind.DEVICE_RESET]
    # Logged when the host hears from it again: after the port is back (how long reopening takes is
    # up to the machine; the walk ends at 20 s).
    assert "cannot be counted" in reset.detail and 6.5 <= reset.t_s < 20.0
    assert status[faulty].reconnects == 1
    # Everything the device sent arrived, before and after the restart, each sample at its time;
    # what it numbered while the port was gone cannot be counted across the restart (no gap).
    _assert_all_sent_arrived_on_time(result, devices, session)
    assert session[faulty].n_lost_total == 0 and not _kinds(session, GARBLED)


def _assert_all_sent_arrived_on_time(result, devices, session):
    for p, device in devices.items():
        sent, stream = device.sent(), session[p]
        assert stream.n_samples == sent.n_sent, p
        np.testing.assert_array_equal(stream.gyr_radps, result.session[p].gyr_radps[sent.source_index])
    errors = alignment_errors_s(session, {p: result.session[p] for p in devices}, {p: d.sent() for p, d in devices.items()})
    offset = common_offset_s(errors)
    assert max(float(np.abs(e - offset).max()) for e in errors.values()) < 0.02
