"""Property tests: no byte sequence crashes a decoder, stats stay consistent, and valid frames
survive any chunking and interleaved noise."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imugait.protocol.imugait_v1 import DeviceInfoV1, ImugaitV1Decoder, encode_data_raw
from imugait.protocol.movella_dot import MovellaDotDecoder
from imugait.protocol.witmotion import WitMotionBleDecoder, WitMotionSerialDecoder

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # noise can, with odds of ~2^-16, forge a frame: keep runs reproducible
    suppress_health_check=[HealthCheck.too_slow],
)
INFO = DeviceInfoV1(7, "m", "f", 200.0, 8, 1000, 1600)
PERIOD_NS = 5_000_000

DECODERS = {
    "imugait_v1": lambda: ImugaitV1Decoder(INFO),
    "imugait_v1_no_info": ImugaitV1Decoder,
    "witmotion_serial": WitMotionSerialDecoder,
    "witmotion_ble": WitMotionBleDecoder,
    "movella_dot_20": lambda: MovellaDotDecoder(20, sample_rate_hz=60.0, mag_field_uT=50.0),
    "movella_dot_21": lambda: MovellaDotDecoder(21),
}


def _check_stats(decoder, before):
    s = decoder.stats
    assert s.bytes_received == s.bytes_accepted + s.bytes_discarded + decoder.pending_bytes
    now = (
        s.bytes_received,
        s.bytes_accepted,
        s.bytes_discarded,
        s.frames_ok,
        s.crc_failures,
        s.malformed_frames,
        s.samples_decoded,
        s.samples_lost,
    )
    assert all(b <= a for a, b in zip(now, before, strict=True)), "a count went down"
    return now


@given(
    name=st.sampled_from(sorted(DECODERS)),
    chunks=st.lists(st.binary(max_size=120), max_size=12),
)
@SETTINGS
def test_no_input_crashes_any_decoder(name, chunks):
    decoder = DECODERS[name]()
    before = (0,) * 8
    n_out = 0
    for chunk in chunks:
        for msg in decoder.feed(chunk):
            if hasattr(msg, "acc_mps2"):
                n = msg.n_samples
                n_out += n
                assert msg.acc_mps2.shape == (n, 3) and msg.gyr_radps.shape == (n, 3)
                assert np.isfinite(msg.acc_mps2).all() and np.isfinite(msg.gyr_radps).all()
        before = _check_stats(decoder, before)
    decoder.flush()
    _check_stats(decoder, before)
    assert decoder.stats.samples_decoded == n_out
    assert decoder.pending_bytes == 0


# -- imugait v1 ------------------------------------------------------------------------------

block_specs = st.lists(
    st.tuples(st.integers(1, 20), st.booleans(), st.integers(0, 2**32 - 1)),
    min_size=1,
    max_size=8,
)


def _frames(specs, seq0=4_294_967_000):
    """Encoded DATA frames and the samples they carry (seq continues across blocks)."""
    frames, samples = [], []
    seq = seq0
    for n, mag, seed in specs:
        rng = np.random.default_rng(seed)
        acc, gyr = rng.integers(-32768, 32768, (2, n, 3))
        mag_raw = rng.integers(-32768, 32768, (n, 3)) if mag else None
        frames.append(encode_data_raw(seq, seq * 5000, PERIOD_NS, acc, gyr, mag_raw))
        samples.append((seq, acc * INFO.acc_mps2_per_lsb))
        seq += n
    return frames, samples


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def _decode_v1(chunks):
    dec = ImugaitV1Decoder(INFO)
    blocks = [m for c in chunks for m in dec.feed(c)]
    return dec, blocks


@given(block_specs, st.lists(st.integers(0, 10_000), max_size=20))
@SETTINGS
def test_v1_frames_survive_any_chunking(specs, cuts):
    frames, samples = _frames(specs)
    dec, blocks = _decode_v1(_split(b"".join(frames), cuts))
    assert len(blocks) == len(frames)
    for block, (seq, acc) in zip(blocks, samples, strict=True):
        assert block.seq[0] == seq
        np.testing.assert_allclose(block.acc_mps2, acc)
    assert dec.stats.samples_lost == 0 and dec.stats.bytes_discarded == 0


@given(block_specs, st.data())
@SETTINGS
def test_v1_all_frames_after_garbage_runs_are_recovered(specs, data):
    frames, samples = _frames(specs)
    garbage = [data.draw(st.binary(max_size=40)) for _ in range(len(frames) + 1)]
    stream = b"".join(g + f for g, f in zip(garbage, frames + [b""], strict=True))
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=10))
    dec, blocks = _decode_v1(_split(stream, cuts))
    dec.flush()
    assert [b.seq[0] for b in blocks] == [seq for seq, _ in samples]
    assert dec.stats.samples_decoded == sum(n for n, _, _ in specs)
    assert dec.stats.samples_lost == 0
    assert dec.stats.bytes_accepted >= sum(len(f) for f in frames)
    assert dec.stats.bytes_discarded <= sum(len(g) for g in garbage)


@given(block_specs, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6))
@SETTINGS
def test_v1_recovered_samples_are_sent_minus_frames_hit(specs, hits):
    frames, samples = _frames(specs)
    stream = bytearray(b"".join(frames))
    changed = set()
    for pos, value in hits:
        pos %= len(stream)
        if stream[pos] != value:
            stream[pos] = value
            changed.add(pos)
    spans, start = [], 0
    for f in frames:
        spans.append(range(start, start + len(f)))
        start += len(f)
    hit = [any(p in span for p in changed) for span in spans]
    dec, blocks = _decode_v1([bytes(stream)])
    kept = [s for s, h in zip(samples, hit, strict=True) if not h]
    assert [b.seq[0] for b in blocks] == [seq for seq, _ in kept]
    for block, (_, acc) in zip(blocks, kept, strict=True):
        np.testing.assert_allclose(block.acc_mps2, acc)
    sizes = [n for n, _, _ in specs]
    last_kept = max((i for i, h in enumerate(hit) if not h), default=-1)
    first_kept = min((i for i, h in enumerate(hit) if not h), default=len(hit))
    lost = sum(n for i, n in enumerate(sizes) if hit[i] and first_kept < i < last_kept)
    assert dec.stats.samples_lost == lost


# -- WitMotion ---------------------------------------------------------------------------------


def _wit_frame(kind, words):
    body = bytes([0x55, kind]) + b"".join(int(w).to_bytes(2, "little", signed=True) for w in words)
    return body + bytes([sum(body) & 0xFF])


no_header_garbage = st.binary(max_size=30).map(lambda b: b.replace(b"\x55", b"\x54"))


@given(st.integers(1, 30), st.booleans(), st.data())
@SETTINGS
def test_witmotion_serial_survives_chunking_and_garbage_between_frames(n, with_mag, data):
    rng = np.random.default_rng(n)
    words = rng.integers(-32768, 32768, (n, 3, 4))
    frames = []
    for k in range(n):
        cycle = [
            _wit_frame(0x51, words[k, 0]),
            _wit_frame(0x52, words[k, 1]),
            _wit_frame(0x53, words[k, 2]),
        ]
        if with_mag:
            cycle.append(_wit_frame(0x54, words[k, 2]))
        frames += cycle
    stream = b"".join(data.draw(no_header_garbage) + f for f in frames)
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=15))
    dec = WitMotionSerialDecoder()
    blocks = [m for c in _split(stream, cuts) for m in dec.feed(c)] + dec.flush()
    acc = np.concatenate([b.acc_mps2 for b in blocks])
    np.testing.assert_allclose(acc, words[:, 0, :3] * 16 * 9.80665 / 32768)
    assert all((b.mag_uT is not None) == with_mag for b in blocks)
    assert dec.stats.frames_ok == len(frames) and dec.stats.samples_lost == 0


@given(st.integers(1, 25), st.data())
@SETTINGS
def test_witmotion_ble_survives_chunking_and_garbage(n, data):
    rng = np.random.default_rng(n)
    words = rng.integers(-32768, 32768, (n, 9))
    words[:, 7] = rng.integers(-16384, 16385, n)  # pitch within ±90°
    packets = [b"\x55\x61" + w.astype("<i2").tobytes() for w in words]
    garbage = [data.draw(no_header_garbage) for _ in range(n + 1)]
    stream = b"".join(g + p for g, p in zip(garbage, packets + [b""], strict=True))
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=15))
    dec = WitMotionBleDecoder()
    blocks = [m for c in _split(stream, cuts) for m in dec.feed(c)] + dec.flush()
    # Without a checksum, a packet is only trusted when it follows an accepted packet directly
    # or is followed directly by another header (or ends the stream).
    # At the end of the stream a packet followed by < 2 bytes cannot be checked: it is kept.
    after = [len(g) >= (2 if k == n else 1) for k, g in enumerate(garbage)]
    lost = [(k == 0 or garbage[k] != b"") and after[k + 1] for k in range(n)]
    kept = words[[not x for x in lost]]
    acc = np.concatenate([b.acc_mps2 for b in blocks]) if blocks else np.zeros((0, 3))
    np.testing.assert_allclose(acc, kept[:, :3] * 16 * 9.80665 / 32768)


@given(st.lists(st.one_of(st.integers(0, 1000), st.binary(max_size=50)), max_size=30))
@SETTINGS
def test_movella_dot_keeps_every_valid_notification(items):
    from tests.protocol.test_protocol_vendors import _dot_packet

    dec = MovellaDotDecoder(21, sample_rate_hz=100.0)
    sent, t_us = 0, 0
    for item in items:
        if isinstance(item, int):
            t_us += 10_000
            packet = _dot_packet(t_us, [item / 100, 0, 9.8], [item / 10, 0, 0])
            sent += 1
        else:
            packet = item if len(item) not in (28, 40) else item + b"\x00"
        dec.feed(packet)
    assert dec.stats.samples_decoded == sent
    assert dec.stats.samples_lost == 0
