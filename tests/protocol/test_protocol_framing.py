"""COBS, CRC and the splitter, checked against independent bit-level implementations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imugait.protocol.framing import (
    FrameSplitter,
    append_crc,
    cobs_decode,
    cobs_encode,
    crc16_ccitt_false,
    crc_ok,
    encode_frame,
    max_encoded_size,
)


def crc16_bitwise(data: bytes) -> int:
    """CRC-16/CCITT-FALSE the textbook way (poly 0x1021, init 0xFFFF), independent of binascii."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def test_crc_check_value():
    assert crc16_ccitt_false(b"123456789") == 0x29B1
    assert crc16_bitwise(b"123456789") == 0x29B1


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_crc_matches_bitwise_and_residue_is_zero(data):
    assert crc16_ccitt_false(data) == crc16_bitwise(data)
    assert crc_ok(append_crc(data)) == (len(data) > 0)


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [  # the examples of Cheshire & Baker's paper / the common reference set
        (b"\x00", b"\x01\x01"),
        (b"\x00\x00", b"\x01\x01\x01"),
        (b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
        (b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
        (b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
        (b"", b"\x01"),
        (bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
        (bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255))),
        (bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
    ],
)
def test_cobs_reference_examples(raw, encoded):
    assert cobs_encode(raw) == encoded
    assert cobs_decode(encoded) == raw


@given(st.binary(max_size=1200))
@settings(max_examples=200, deadline=None)
def test_cobs_roundtrip_no_zero_and_overhead_bound(data):
    enc = cobs_encode(data)
    assert 0 not in enc
    assert cobs_decode(enc) == data
    assert len(enc) - len(data) <= max(1, -(-len(data) // 254))


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_cobs_decode_never_raises(data):
    out = cobs_decode(data)
    assert out is None or isinstance(out, bytes)


def test_cobs_decode_rejects_invalid():
    assert cobs_decode(b"") is None
    assert cobs_decode(b"\x05\x11\x22") is None  # code points past the end
    assert cobs_decode(b"\x03\x00\x01") is None  # contains a zero


def test_encoded_size_formula_matches_encoder():
    for size in (1, 100, 251, 252, 253, 300, 506, 507, 4608):
        payload = bytes([7]) * size  # no zeros: worst-case COBS overhead
        assert len(encode_frame(payload)) <= max_encoded_size(size)


def test_splitter_keeps_partial_and_bounds_memory():
    s = FrameSplitter(max_chunk_size=8)
    assert s.feed(b"\x01\x02") == []
    assert s.feed(b"\x03\x00\x04") == [b"\x01\x02\x03"]
    assert s.pending_bytes == 1
    assert s.feed(b"\x05" * 20) == []
    assert s.pending_bytes == 8
    assert s.overflow_bytes == 13
    assert s.feed(b"\x00\x00") == [b"\x05" * 8, b""]
