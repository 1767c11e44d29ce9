"""WitMotion and Movella DOT decoders against byte vectors built by hand from the vendor layouts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from imugait.errors import ValidationError
from imugait.protocol.movella_dot import MovellaDotDecoder, PayloadMode, control_command
from imugait.protocol.witmotion import WitMotionBleDecoder, WitMotionSerialDecoder

G = 9.80665
ACC_LSB = 16 * G / 32768
GYR_LSB = math.radians(2000) / 32768

# 55 TYPE d0..d7 SUM, SUM = low byte of the sum of the first ten bytes (worked out by hand):
ACC_1G_Z = bytes.fromhex("55 51 00 00 00 00 00 08 c4 09 7b")  # az = 0x0800, T = 25.00 °C
GYRO_Z_90 = bytes.fromhex("55 52 00 00 00 00 c3 05 00 00 6f")  # wz = 1475 → 90.03 °/s
ANGLE_0 = bytes.fromhex("55 53 00 00 00 00 00 00 00 00 a8")
MAG = bytes.fromhex("55 54 68 01 69 00 7a 00 00 00 f5")  # 360, 105, 122 mG
QUAT_1 = bytes.fromhex("55 59 ff 7f 00 00 00 00 00 00 2c")  # q0 = 32767/32768
TIME = bytes.fromhex("55 50 18 03 0f 0a 1e 2d f4 01 19")  # 2024-03-15 10:30:45.500


def test_witmotion_checksums_worked_by_hand():
    for frame in (ACC_1G_Z, GYRO_Z_90, ANGLE_0, MAG, QUAT_1, TIME):
        assert sum(frame[:10]) & 0xFF == frame[10]


def _feed_bytewise(decoder, data):
    out = []
    for k in range(len(data)):
        out += decoder.feed(data[k : k + 1])
    return out + decoder.flush()


def test_witmotion_serial_one_g_on_z_and_grouping():
    cycle = ACC_1G_Z + GYRO_Z_90 + ANGLE_0 + MAG
    dec = WitMotionSerialDecoder()
    blocks = _feed_bytewise(dec, cycle * 3)
    assert sum(b.n_samples for b in blocks) == 3
    block = blocks[0]
    assert block.seq is None and block.t_device_us is None
    assert block.acc_mps2[0, 2] == pytest.approx(G, abs=ACC_LSB / 2)
    assert block.acc_mps2[0, 2] == pytest.approx(2048 * 16 * G / 32768)
    assert block.gyr_radps[0, 2] == pytest.approx(math.radians(90.0), abs=GYR_LSB / 2)
    np.testing.assert_allclose(block.mag_uT[0], [36.0, 10.5, 12.2])
    assert dec.stats.frames_ok == 12 and dec.stats.samples_decoded == 3
    assert dec.stats.bytes_discarded == 0 and dec.stats.samples_lost == 0


def test_witmotion_serial_emits_a_cycle_as_soon_as_it_is_complete():
    dec = WitMotionSerialDecoder()
    cycle = ACC_1G_Z + GYRO_Z_90 + QUAT_1
    assert dec.feed(cycle) == []  # the first cycle's end is only known from the next one
    # the next acc closes the first cycle; the cycle is then learned, so the second one is
    # emitted as soon as its last frame (the quaternion) arrives, without waiting
    assert sum(b.n_samples for b in dec.feed(cycle)) == 2
    (third,) = dec.feed(cycle)
    assert third.n_samples == 1
    assert third.q_world_sensor[0].tolist() == pytest.approx([32767 / 32768, 0, 0, 0])


def test_witmotion_serial_time_frame_gives_device_time():
    dec = WitMotionSerialDecoder()
    blocks = dec.feed((TIME + ACC_1G_Z + GYRO_Z_90) * 2) + dec.flush()
    t = np.concatenate([b.t_device_us for b in blocks])
    expected = (
        (np.datetime64("2024-03-15T10:30:45.500") - np.datetime64("2000-01-01T00:00:00"))
        .astype("timedelta64[us]")
        .astype(np.int64)
    )
    assert t.tolist() == [expected, expected]


def test_witmotion_serial_resyncs_and_counts():
    dec = WitMotionSerialDecoder()
    bad_acc = bytearray(ACC_1G_Z)
    bad_acc[10] ^= 0xFF
    stream = (
        b"\x01\x55\x02"
        + ACC_1G_Z
        + GYRO_Z_90  # garbage (with a stray 0x55) then a cycle
        + bytes(bad_acc)
        + GYRO_Z_90  # corrupt acc: an incomplete cycle
        + ACC_1G_Z
        + GYRO_Z_90
    )
    blocks = dec.feed(stream) + dec.flush()
    assert sum(b.n_samples for b in blocks) == 2
    s = dec.stats
    assert s.crc_failures == 1
    assert s.samples_lost == 1
    assert s.bytes_discarded == 3 + 11
    assert s.bytes_received == s.bytes_accepted + s.bytes_discarded + dec.pending_bytes


def _ble_packet(acc=(0, 0, 2048), gyr=(0, 0, 1475), angles=(0, 0, 0)):
    words = [*acc, *gyr, *angles]
    return b"\x55\x61" + b"".join(int(w).to_bytes(2, "little", signed=True) for w in words)


def test_witmotion_ble_packets_straddling_notifications():
    packets = _ble_packet() + _ble_packet(acc=(-2048, 0, 0)) + _ble_packet(angles=(100, -200, 300))
    assert len(packets) == 60
    dec = WitMotionBleDecoder()
    blocks = []
    for cut in (slice(0, 7), slice(7, 33), slice(33, 59), slice(59, 60)):
        blocks += dec.feed(packets[cut])
    blocks += dec.flush()
    acc = np.concatenate([b.acc_mps2 for b in blocks])
    assert acc[:, 2].tolist() == pytest.approx([G, 0, G])
    assert acc[1, 0] == pytest.approx(-G)
    gyr = np.concatenate([b.gyr_radps for b in blocks])
    assert gyr[0, 2] == pytest.approx(1475 * GYR_LSB)
    assert dec.stats.frames_ok == 3 and dec.stats.bytes_discarded == 0


def test_witmotion_ble_resync_rejects_implausible_pitch_and_garbage():
    dec = WitMotionBleDecoder()
    fake = _ble_packet(angles=(0, 30000, 0))  # pitch 165°: not a real packet
    stream = b"\xaa\x55\x61\x01" + fake + _ble_packet() + _ble_packet() + b"\x55\x71" + bytes(18)
    blocks = dec.feed(stream) + dec.flush()
    assert sum(b.n_samples for b in blocks) == 2
    assert dec.stats.extra["register_packets"] == 1
    assert dec.stats.bytes_discarded == 4 + 20


def _dot_packet(t_us, acc, gyr_dps, mag_raw=None, pad_to=None):
    data = t_us.to_bytes(4, "little")  # @0
    data += np.asarray(acc, "<f4").tobytes()  # @4
    data += np.asarray(gyr_dps, "<f4").tobytes()  # @16
    if mag_raw is not None:
        data += np.asarray(mag_raw, "<i2").tobytes()  # @28
    if pad_to:
        data += bytes(pad_to - len(data))
    return data


def test_movella_dot_mode20_values_and_wrap():
    dec = MovellaDotDecoder(20, sample_rate_hz=60.0, mag_field_uT=50.0)
    p1 = _dot_packet(2**32 - 10_000, [0, 0, G], [0, 0, 90.0], [4096, -2048, 0])
    assert len(p1) == 34
    p2 = _dot_packet(2**32 - 10_000 + 16_667 - 2**32, [1, 2, 3], [0, 0, 0], [0, 0, 0], 40)
    (b1,) = dec.feed(p1)
    (b2,) = dec.feed(p2)
    assert b1.acc_mps2[0].tolist() == pytest.approx([0, 0, G])
    assert b1.gyr_radps[0, 2] == pytest.approx(math.pi / 2)
    assert b1.mag_uT[0].tolist() == pytest.approx([50.0, -25.0, 0.0])
    assert b2.t_device_us[0] - b1.t_device_us[0] == 16_667
    assert (b1.seq[0], b2.seq[0]) == (0, 1)
    assert dec.stats.samples_lost == 0


def test_movella_dot_gaps_lengths_and_plausibility():
    dec = MovellaDotDecoder(PayloadMode.RATE_QUANTITIES, sample_rate_hz=60.0)
    period = 1e6 / 60
    ok = [_dot_packet(round(k * period), [0, 0, G], [1, 2, 3]) for k in (0, 1, 5)]
    assert len(ok[0]) == 28
    out = []
    for p in (ok[0], ok[1], ok[1][:20], ok[1] + b"\x00", ok[2]):
        out += dec.feed(p)
    assert [b.seq[0] for b in out] == [0, 1, 5]
    assert dec.stats.samples_lost == 3
    assert dec.stats.malformed_frames == 2
    assert dec.feed(_dot_packet(200_000, [float("nan"), 0, 0], [0, 0, 0])) == []
    assert dec.feed(_dot_packet(200_000, [0, 0, 0], [1e6, 0, 0])) == []
    assert dec.stats.malformed_frames == 4
    s = dec.stats
    assert s.bytes_received == s.bytes_accepted + s.bytes_discarded


def test_movella_dot_without_field_strength_drops_mag_and_says_so():
    dec = MovellaDotDecoder(20)
    (b,) = dec.feed(_dot_packet(0, [0, 0, G], [0, 0, 0], [4096, 0, 0]))
    assert b.mag_uT is None and b.seq is None
    assert dec.stats.extra["mag_unscaled_samples"] == 1


def test_movella_dot_control_and_bad_mode():
    assert control_command(True, PayloadMode.RATE_QUANTITIES_WITH_MAG) == bytes([1, 1, 20])
    with pytest.raises(ValidationError, match="payload mode 2 is not supported"):
        MovellaDotDecoder(2)


# --- duplicated and reordered packets, through the assembler -------------------------------------

DOT_RATE_HZ = 60.0
DOT_PERIOD_US = 1e6 / DOT_RATE_HZ


def _dot_walk(n):
    """``n`` DOT packets 1/60 s apart, each with its index in the gyroscope's x (to check order)."""
    return [_dot_packet(round(k * DOT_PERIOD_US), [0, 0, G], [float(k), 0, 0]) for k in range(n)]


def _assembled(decoder, packets, rate_hz):
    from imugait.acquisition import AcquisitionConfig, SessionAssembler
    from imugait.conventions import Placement

    asm = SessionAssembler(AcquisitionConfig(nominal_rate_hz=rate_hz), t0_host_s=0.0)
    for k, data in enumerate(packets):
        for message in decoder.feed(data):
            asm.handle(Placement.LEFT_THIGH, 0.02 + k / rate_hz, message)
    return asm, asm.assemble().session[Placement.LEFT_THIGH]


def _event_counts(asm):
    from imugait.model import EventKind

    return {kind: sum(e.count for e in asm.events() if e.kind is kind)
            for kind in (EventKind.DUPLICATES_DROPPED, EventKind.LATE_SAMPLES)}


def test_movella_dot_duplicated_and_reordered_packets_keep_every_sample_and_its_time():
    from imugait.model import EventKind

    packets = _dot_walk(40)
    order = list(range(40))
    order[10], order[11] = 11, 10  # 10 overtaken by 11
    order[30:33] = [31, 32, 30]  # 30 delivered two packets late
    order.insert(20, 19)  # 19 sent twice
    received = [packets[k] for k in order]

    dec = MovellaDotDecoder(PayloadMode.RATE_QUANTITIES, sample_rate_hz=DOT_RATE_HZ)
    stamps = [b.t_device_us[0] for p in received for b in dec.feed(p)]
    # A stamp behind the newest keeps its own time and moves no later one (it used to be read as
    # a clock reset that shifted every later stamp by the step back).
    assert stamps == [round(k * DOT_PERIOD_US) for k in order]
    assert dec._clock.resets == 0

    asm, stream = _assembled(MovellaDotDecoder(PayloadMode.RATE_QUANTITIES, sample_rate_hz=DOT_RATE_HZ),
                             received, DOT_RATE_HZ)
    _, in_order = _assembled(MovellaDotDecoder(PayloadMode.RATE_QUANTITIES, sample_rate_hz=DOT_RATE_HZ),
                             packets, DOT_RATE_HZ)
    assert stream.n_samples == 40 and stream.n_lost_total == 0 and not stream.gaps
    np.testing.assert_array_equal(np.rad2deg(stream.gyr_radps[:, 0]).round(6), np.arange(40.0))
    # The host clock fit sees other arrival times; the samples' spacing is the device's, untouched.
    np.testing.assert_allclose(stream.t_s - stream.t_s[0], in_order.t_s - in_order.t_s[0], atol=1e-6)
    assert _event_counts(asm) == {EventKind.DUPLICATES_DROPPED: 1, EventKind.LATE_SAMPLES: 2}


def test_movella_dot_clock_restart_is_still_a_reset():
    dec = MovellaDotDecoder(PayloadMode.RATE_QUANTITIES, sample_rate_hz=DOT_RATE_HZ)
    far = round(600 * DOT_PERIOD_US)  # 10 s in, then the sensor reboots: its clock starts again
    blocks = [b for t in (far, far + round(DOT_PERIOD_US), 0, round(DOT_PERIOD_US)) for b in
              dec.feed(_dot_packet(t, [0, 0, G], [0, 0, 0]))]
    assert dec._clock.resets == 1
    t = [b.t_device_us[0] for b in blocks]
    assert t[2] == t[1] and t[3] > t[2]  # counting continues from where it was


def _wit_time_frame(t_ms):
    """A WitMotion 0x50 time frame ``t_ms`` after 2024-03-15 10:30:00.000."""
    s, ms = divmod(t_ms, 1000)
    m, s = divmod(s, 60)
    body = bytes([0x55, 0x50, 24, 3, 15, 10, 30 + m, s]) + ms.to_bytes(2, "little")
    return body + bytes([sum(body) & 0xFF])


def test_witmotion_with_time_frames_reordered_cycles_are_put_back_and_duplicates_dropped():
    from imugait.model import EventKind

    rate_hz = 100.0
    cycles = [_wit_time_frame(10 * k) + ACC_1G_Z + GYRO_Z_90 for k in range(30)]
    order = list(range(30))
    order[5], order[6] = 6, 5
    order.insert(15, 14)
    asm, stream = _assembled(WitMotionSerialDecoder(), [cycles[k] for k in order] + [cycles[0][:0]], rate_hz)
    _, in_order = _assembled(WitMotionSerialDecoder(), cycles, rate_hz)
    assert stream.n_samples == in_order.n_samples and stream.n_lost_total == 0 and not stream.gaps
    # The host clock fit sees other arrival times; the samples' spacing is the device's, untouched.
    np.testing.assert_allclose(stream.t_s - stream.t_s[0], in_order.t_s - in_order.t_s[0], atol=1e-6)
    assert _event_counts(asm) == {EventKind.DUPLICATES_DROPPED: 1, EventKind.LATE_SAMPLES: 1}


def test_witmotion_without_time_frames_cannot_tell_a_duplicate():
    """No counter and no clock on the wire: a cycle received twice is a new sample — what the
    docs say (docs/reliability.md); the test pins it so that a change is noticed."""
    rate_hz = 100.0
    cycle = ACC_1G_Z + GYRO_Z_90
    _, stream = _assembled(WitMotionSerialDecoder(), [cycle] * 11, rate_hz)
    _, once_more = _assembled(WitMotionSerialDecoder(), [cycle] * 12, rate_hz)
    assert once_more.n_samples == stream.n_samples + 1
