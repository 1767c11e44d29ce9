"""Byte-level framing of our wire protocol: CRC-16/CCITT-FALSE, COBS, a 0x00-delimited splitter.

Specification: ``firmware_specs/imugait_v1.md`` (sections *Framing* and *CRC*).

A frame on the wire is ``COBS(payload ‖ CRC16_BE(payload)) ‖ 0x00``. COBS (Cheshire & Baker
1999) removes every zero byte from the frame, so the single 0x00 delimiter marks frame ends
unambiguously and a receiver resynchronises at the next zero after any garbage.
"""

from __future__ import annotations

import binascii

DELIMITER = 0x00
_DELIMITER_BYTE = bytes([DELIMITER])
CRC_INIT = 0xFFFF
CRC_SIZE = 2


def crc16_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

    Check value: ``crc16_ccitt_false(b"123456789") == 0x29B1``.
    """
    return binascii.crc_hqx(data, CRC_INIT)


def append_crc(payload: bytes) -> bytes:
    """``payload`` followed by its CRC, big-endian (most significant byte first).

    Big-endian is the natural order of a non-reflected CRC: the CRC over
    ``payload ‖ crc`` is then zero, which is what a receiver checks.
    """
    return payload + crc16_ccitt_false(payload).to_bytes(2, "big")


def crc_ok(frame: bytes) -> bool:
    """True when ``frame`` (payload ‖ CRC big-endian) has a valid CRC (residue zero)."""
    return len(frame) > CRC_SIZE and binascii.crc_hqx(frame, CRC_INIT) == 0


def cobs_encode(data: bytes) -> bytes:
    """COBS-encode ``data`` (no delimiter appended); the result contains no zero byte.

    Shortest form: a block of 254 non-zero bytes at the very end is not followed by an empty
    ``0x01`` group. Overhead: ``max(1, ceil(len(data) / 254))`` bytes at most.
    """
    out = bytearray()
    parts = bytes(data).split(b"\x00")
    last = len(parts) - 1
    for k, part in enumerate(parts):
        start = 0
        while len(part) - start >= 254:
            out.append(0xFF)
            out += part[start : start + 254]
            start += 254
        rest = part[start:]
        if rest or k < last or start == 0:
            out.append(len(rest) + 1)
            out += rest
    return bytes(out)


def cobs_decode(data: bytes) -> bytes | None:
    """Decode one COBS-encoded frame (without its delimiter).

    Returns
    -------
    The decoded bytes, or ``None`` when ``data`` is not valid COBS (empty, contains a zero, or a
    code byte points past the end). Never raises on bytes input.
    """
    n = len(data)
    # A zero anywhere is invalid, whether it would be read as a code byte or inside a group.
    if n == 0 or DELIMITER in data:
        return None
    # Every group but the last ends in a zero, written where the next group's code byte is: so
    # the frame is the data without its first code byte, the later ones turned into zeros — one
    # write per group instead of a copy per group. A 0xFF group (254 bytes, no zero after it)
    # breaks that; such frames take the group-by-group way below.
    out = bytearray(data)
    i = 0
    while True:
        code = data[i]
        if code == 0xFF:
            return _cobs_decode_groups(data)
        i += code
        if i >= n:
            break
        out[i] = 0
    if i > n:
        return None
    del out[0]
    return bytes(out)


def _cobs_decode_groups(data: bytes) -> bytes | None:
    """:func:`cobs_decode` group by group (any valid COBS, 0xFF groups included)."""
    n = len(data)
    out = bytearray()
    i = 0
    while True:
        code = data[i]
        end = i + code
        if end > n:
            return None
        out += data[i + 1 : end]
        if end == n:
            return bytes(out)
        if code != 0xFF:
            out.append(0)
        i = end


def encode_frame(payload: bytes) -> bytes:
    """Complete wire frame for ``payload``: ``COBS(payload ‖ CRC) ‖ 0x00``."""
    return cobs_encode(append_crc(payload)) + b"\x00"


def max_encoded_size(payload_size: int) -> int:
    """Bytes on the wire for a payload of ``payload_size`` bytes (CRC, COBS and delimiter)."""
    unstuffed = payload_size + CRC_SIZE
    return unstuffed + max(1, -(-unstuffed // 254)) + 1


class FrameSplitter:
    """Incremental splitter of a byte stream at 0x00 delimiters.

    ``feed`` returns the encoded chunks (delimiter removed) completed by the new bytes, in
    order; bytes after the last delimiter wait for the next call. A run longer than
    ``max_chunk_size`` without a delimiter cannot hold a valid frame beyond its last
    ``max_chunk_size`` bytes, so older bytes are dropped and counted in ``overflow_bytes``.
    """

    def __init__(self, max_chunk_size: int) -> None:
        self.max_chunk_size = int(max_chunk_size)
        self._buf = bytearray()
        self.overflow_bytes = 0

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        chunks: list[bytes] = []
        if DELIMITER in data:
            chunks = bytes(buf).split(_DELIMITER_BYTE)
            buf[:] = chunks.pop()  # after the last delimiter: waits for the next call
        excess = len(buf) - self.max_chunk_size
        if excess > 0:
            del buf[:excess]
            self.overflow_bytes += excess
        return chunks

    def take_pending(self) -> bytes:
        """Remove and return the bytes still waiting for a delimiter (end of stream)."""
        rest = bytes(self._buf)
        self._buf.clear()
        return rest
