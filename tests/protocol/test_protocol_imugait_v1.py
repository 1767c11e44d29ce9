"""imugait v1: the test vectors, the two frames worked out by hand in the spec, and decoder logic."""

from __future__ import annotations

import json
import math
import runpy
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from imugait.errors import ValidationError
from imugait.protocol.imugait_v1 import (
    DeviceInfoV1,
    ImugaitV1Decoder,
    encode_command,
    encode_data,
    encode_data_raw,
    encode_device_info,
    encode_status,
    max_samples_per_notification,
)
from imugait.protocol.messages import (
    AckResult,
    Command,
    CommandAck,
    CommandCode,
    DeviceAnnouncement,
    DeviceStatus,
    SampleBlock,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "firmware_specs" / "test_vectors" / "imugait_v1.json"
SPEC = ROOT / "firmware_specs" / "imugait_v1.md"
INFO = DeviceInfoV1(0x0123456789ABCDEF, "nano33-lsm9ds1", "1.0.0", 100.0, 16, 2000, 1600)
PERIOD_NS = 10_000_000

# Worked out by hand in imugait_v1.md ("Worked examples"); copied here, not generated.
HAND_STATUS = "05 01 03 55 11 03 a5 fd 00"
HAND_DATA = (
    "03 01 02 03 01 01 01 01 03 e8 03 01 04 80 96 98 01 01 01 01 01 02 08"
    " 01 01 01 01 01 03 33 34 00"
)


def _load():
    return json.loads(VECTORS.read_text())["vectors"]


def _by_name(name):
    return next(v for v in _load() if v["name"] == name)


def _assert_same(expected, actual):
    if isinstance(expected, dict):
        assert set(expected) == set(actual)
        for key in expected:
            _assert_same(expected[key], actual[key])
    elif isinstance(expected, list):
        assert len(expected) == len(actual)
        for e, a in zip(expected, actual, strict=True):
            _assert_same(e, a)
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12)
    else:
        assert expected == actual


@pytest.mark.parametrize("vector", _load(), ids=lambda v: v["name"])
def test_vectors_decode_to_their_values(vector):
    info = vector["decoder_info"]
    decoder = ImugaitV1Decoder(None if info is None else DeviceInfoV1(**info))
    messages = decoder.feed(bytes.fromhex(vector["hex"]))
    gen = runpy.run_path(str(VECTORS.with_name("make_vectors.py")))
    _assert_same(vector["messages"], gen["_jsonable"](messages))
    stats = {k: v for k, v in asdict(decoder.stats).items() if v}
    assert stats == vector["stats"]


def test_vector_file_is_up_to_date():
    gen = runpy.run_path(str(VECTORS.with_name("make_vectors.py")))
    assert json.loads(json.dumps(gen["vectors"]())) == _load()


def test_hand_computed_frames_match_vectors_and_spec():
    spec = SPEC.read_text()
    for name, hand in (("status_hand", HAND_STATUS), ("data_hand", HAND_DATA)):
        assert _by_name(name)["hex"] == hand.replace(" ", "")
        assert hand in spec, f"{name} bytes no longer appear in the spec"


def test_hand_status_values():
    (msg,) = ImugaitV1Decoder().feed(bytes.fromhex(HAND_STATUS))
    assert msg == DeviceStatus(85.0, 0x0011, ("IMU_FAULT", "LOW_BATTERY"))


def test_hand_data_values():
    (block,) = ImugaitV1Decoder(INFO).feed(bytes.fromhex(HAND_DATA))
    assert block.seq.tolist() == [1]
    assert block.t_device_us.tolist() == [1000]
    np.testing.assert_array_equal(block.acc_mps2, [[0.0, 0.0, 9.80665]])
    np.testing.assert_array_equal(block.gyr_radps, [[0.0, 0.0, 0.0]])
    assert block.mag_uT is None


def test_mtu_table_in_spec():
    # values worked out in the spec's table (acc+gyr, with mag)
    expected = {23: (0, 0), 185: (13, 9), 247: (18, 12), 512: (40, 27)}
    for mtu, (plain, mag) in expected.items():
        assert max_samples_per_notification(mtu) == plain
        assert max_samples_per_notification(mtu, with_mag=True) == mag
        n = max(plain, 1)
        frame = encode_data_raw(0, 0, PERIOD_NS, np.zeros((n, 3)), np.ones((n, 3)))
        assert plain == 0 or len(frame) <= mtu - 3


def test_roundtrip_si_within_quantisation():
    rng = np.random.default_rng(1)
    acc = rng.uniform(-150, 150, (20, 3))
    gyr = rng.uniform(-30, 30, (20, 3))
    mag = rng.uniform(-80, 80, (20, 3))
    dec = ImugaitV1Decoder()
    msgs = dec.feed(encode_device_info(INFO) + encode_data(INFO, 5, 123, acc, gyr, mag))
    assert isinstance(msgs[0], DeviceAnnouncement)
    assert msgs[0].device_id == "0123456789abcdef"
    assert msgs[0].acc_range_mps2 == pytest.approx(16 * 9.80665)
    assert msgs[0].gyr_range_radps == pytest.approx(math.radians(2000))
    block = msgs[1]
    assert np.abs(block.acc_mps2 - acc).max() <= INFO.acc_mps2_per_lsb / 2 + 1e-12
    assert np.abs(block.gyr_radps - gyr).max() <= INFO.gyr_radps_per_lsb / 2 + 1e-12
    assert np.abs(block.mag_uT - mag).max() <= INFO.mag_uT_per_lsb / 2 + 1e-12
    assert block.seq.tolist() == list(range(5, 25))
    assert block.t_device_us.tolist() == [123 + 10_000 * i for i in range(20)]


def test_fractional_period_timestamps_round_to_microseconds():
    info = DeviceInfoV1(1, "m", "f", 833.0, 8, 1000)
    block = ImugaitV1Decoder(info).feed(
        encode_data(info, 0, 0, np.zeros((4, 3)), np.zeros((4, 3)))
    )[0]
    assert info.sample_period_ns == 1_200_480
    assert block.t_device_us.tolist() == [0, 1200, 2401, 3601]


def test_wrap_gap_and_reset():
    dec = ImugaitV1Decoder(INFO)
    z = np.zeros((3, 3), dtype=np.int16)
    frames = [
        encode_data_raw(2**32 - 2, 2**32 - 10_000, PERIOD_NS, z, z),  # wraps inside the block
        encode_data_raw(1, 20_000, PERIOD_NS, z, z),  # seq 2**32+1: gap of 0, clock wrapped
        encode_data_raw(9, 100_000, PERIOD_NS, z, z),  # 5 samples lost (4..8)
        encode_data_raw(0, 7, PERIOD_NS, z, z),  # counter back to 0: device restarted
    ]
    blocks = dec.feed(b"".join(frames))
    seqs = [b.seq.tolist() for b in blocks]
    assert seqs[0] == [2**32 - 2, 2**32 - 1, 2**32]
    assert seqs[1] == [2**32 + 1, 2**32 + 2, 2**32 + 3]
    assert seqs[2] == [2**32 + 9, 2**32 + 10, 2**32 + 11]
    assert seqs[3] == [2**32 + 12, 2**32 + 13, 2**32 + 14]
    assert blocks[1].t_device_us[0] == 2**32 + 20_000
    assert blocks[2].t_device_us[0] == 2**32 + 100_000
    assert blocks[3].t_device_us[0] == 2**32 + 130_000  # continues after the reset
    assert dec.stats.samples_lost == 5
    assert dec.stats.extra["device_resets"] == 1


def test_data_before_info_is_counted_not_guessed():
    dec = ImugaitV1Decoder()
    z = np.zeros((4, 3), dtype=np.int16)
    assert dec.feed(encode_data_raw(0, 0, PERIOD_NS, z, z)) == []
    assert dec.stats.extra["samples_without_info"] == 4
    msgs = dec.feed(encode_device_info(INFO) + encode_data_raw(6, 60_000, PERIOD_NS, z, z))
    assert msgs[1].seq.tolist() == [6, 7, 8, 9]
    assert dec.stats.samples_lost == 2


def test_commands_and_acks():
    dec = ImugaitV1Decoder()
    from imugait.protocol.imugait_v1 import encode_ack, encode_message

    wire = (
        encode_command(CommandCode.SET_RATE, 3, 104.0)
        + encode_message(Command(CommandCode.STOP, 4))
        + encode_ack(CommandCode.SET_RATE, 3, AckResult.OK)
        + encode_message(CommandAck(CommandCode.STOP, 4, AckResult.INVALID_ARGUMENT))
    )
    msgs = dec.feed(wire)
    assert msgs == [
        Command(CommandCode.SET_RATE, 3, 104.0),
        Command(CommandCode.STOP, 4),
        CommandAck(CommandCode.SET_RATE, 3, AckResult.OK),
        CommandAck(CommandCode.STOP, 4, AckResult.INVALID_ARGUMENT),
    ]
    assert msgs[2].ok and not msgs[3].ok


def test_status_unknown_battery():
    (msg,) = ImugaitV1Decoder().feed(encode_status(None, 0))
    assert msg.battery_percent is None and msg.flag_names == ()


def test_encoder_validates_with_actionable_messages():
    with pytest.raises(ValidationError, match="n ≥ 1"):
        encode_data_raw(0, 0, PERIOD_NS, np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValidationError, match="n_samples=256"):
        encode_data_raw(0, 0, PERIOD_NS, np.zeros((256, 3)), np.zeros((256, 3)))
    with pytest.raises(ValidationError, match="no magnetometer"):
        info = DeviceInfoV1(1, "m", "f", 100.0, 16, 2000, 0)
        encode_data(info, 0, 0, np.zeros((1, 3)), np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(ValidationError, match="battery_percent"):
        encode_status(101)
    with pytest.raises(ValidationError, match="SET_RATE needs"):
        encode_command(CommandCode.SET_RATE, 1)


def test_quantisation_clips_at_full_scale():
    acc = np.array([[1000.0, -1000.0, 0.0]])  # beyond ±16 g
    block = ImugaitV1Decoder(INFO).feed(encode_data(INFO, 0, 0, acc, np.zeros((1, 3))))[0]
    assert block.acc_mps2[0, 0] == pytest.approx(32767 * INFO.acc_mps2_per_lsb)
    assert block.acc_mps2[0, 1] == pytest.approx(-16 * 9.80665)


def test_block_is_sample_block():
    z = np.zeros((1, 3), dtype=np.int16)
    (b,) = ImugaitV1Decoder(INFO).feed(encode_data_raw(0, 0, PERIOD_NS, z, z))
    assert isinstance(b, SampleBlock) and b.n_samples == 1


def _blocks_of(seq_t_pairs, n=3):
    z = np.zeros((n, 3), dtype=np.int16)
    return [encode_data_raw(s, t, PERIOD_NS, z, z) for s, t in seq_t_pairs]


@pytest.mark.parametrize("order", [[0, 1, 1, 2], [0, 2, 1, 3], [0, 1, 3, 2, 4], [0, 1, 2, 0, 3]],
                         ids=["duplicate", "swapped", "swapped-late", "resent-old"])
def test_duplicated_or_reordered_frames_keep_their_own_numbers(order):
    """Fault matrix: a frame sent twice or overtaken keeps its counter and clock; nothing after it
    is renumbered and no restart is reported (was: taken as a device reset, which relabelled the
    old samples as new ones and shifted every later block)."""
    frames = _blocks_of([(1000 + 3 * k, 50_000 + 30_000 * k) for k in range(5)])
    dec = ImugaitV1Decoder(INFO)
    blocks = dec.feed(b"".join(frames[k] for k in order))
    for k, block in zip(order, blocks, strict=True):
        assert block.seq.tolist() == [1000 + 3 * k + i for i in range(3)]
        assert block.t_device_us.tolist() == [50_000 + 30_000 * k + 10_000 * i for i in range(3)]
    assert "device_resets" not in dec.stats.extra
    assert dec.stats.extra["late_or_duplicate_frames"] == 1


def test_a_restart_with_counter_and_clock_at_their_origin_is_still_a_reset():
    """A device that reboots after more than LATE_WINDOW_S restarts at seq 0, t 0: a reset, not a
    late copy of its first block."""
    frames = _blocks_of([(0, 0), (3, 30_000)] + [(3 * k, 30_000 * k) for k in range(2, 300)] + [(0, 0)])
    dec = ImugaitV1Decoder(INFO)
    blocks = dec.feed(b"".join(frames))
    assert dec.stats.extra["device_resets"] == 1
    assert blocks[-1].seq[0] == 900 and blocks[-1].t_device_us[0] == 9_000_000


def test_a_clock_that_jumps_back_continues_from_the_counter():
    """Fault matrix: the device clock steps back 2 s while the counter goes on; the block keeps
    advancing times (was: stamped at the previous block's time, so the acquisition dropped it
    as a duplicate)."""
    frames = _blocks_of([(0, 5_000_000), (3, 5_030_000), (6, 3_060_000), (9, 3_090_000)])
    dec = ImugaitV1Decoder(INFO)
    blocks = dec.feed(b"".join(frames))
    t = np.concatenate([b.t_device_us for b in blocks])
    assert t.tolist() == [5_000_000 + 10_000 * i for i in range(12)]
    assert dec.stats.extra["clock_resets"] == 1
