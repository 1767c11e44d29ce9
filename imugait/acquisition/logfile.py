"""The append-only recording log: length-prefixed, CRC-checked records, readable after a crash.

File layout (little-endian)::

    magic  b"IMUGAITLOG\\x00\\x01"                      (12 bytes, format version 1)
    record*:  marker b"\\xa5\\x5a" | kind u8 | length u32 | crc32 u32 | payload[length]

``crc32`` (zlib) covers ``kind``, ``length`` and the payload, so a torn or overwritten record
(and a garbage length) is detected. A damaged record in the middle is skipped: reading
resynchronises on the next marker that starts a record whose length and CRC check out, and
every skipped span is reported (:class:`SkippedSpan`). Bytes after the last intact record (a torn
tail, or garbage) are reported as ignored.

Payloads: ``HEADER``, ``ANNOUNCEMENT``, ``STATUS``, ``STEP``, ``EVENT`` and ``END`` are UTF-8 JSON objects;
``BLOCK`` is binary (see :func:`encode_block`): placement, arrival time, sample count, flags (which
optional arrays are present; bit 4: the device restarted just before the block), then the arrays (seq int64, t_device_us int64, acc, gyr, mag f64
×3, q f64 ×4), all raw decoded values with the device's own timestamps.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import asdict, dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.model import GyroSampling, SessionEvent
from imugait.protocol.messages import DeviceAnnouncement, DeviceStatus, SampleBlock

MAGIC = b"IMUGAITLOG\x00\x01"
MARKER = b"\xa5\x5a"
_HEAD = struct.Struct("<2sBII")
MAX_RECORD_BYTES = 64 << 20
"""A larger length field can only be garbage (a block of 1000 samples is ~130 kB)."""


class RecordKind(IntEnum):
    HEADER = 1
    BLOCK = 2
    ANNOUNCEMENT = 3
    STATUS = 4
    STEP = 5
    END = 6
    EVENT = 7
    """Something that happened to a link or a decoder (the data cannot show it): the event log."""


@dataclass(frozen=True, eq=False)
class LoggedMessage:
    """A decoded message as logged: which sensor, when it arrived (host s), what it was."""

    placement: Placement
    arrival_s: float
    message: SampleBlock | DeviceAnnouncement | DeviceStatus


@dataclass(frozen=True)
class LoggedStep:
    name: str
    event: str
    """``begin`` or ``end``."""
    host_s: float


@dataclass(frozen=True)
class LoggedEvent:
    """An event-log entry as logged: the host time (s) it happened at, and the event."""

    host_s: float
    event: SessionEvent


@dataclass(frozen=True)
class SkippedSpan:
    """Damaged bytes in the middle of a log, skipped up to the next intact record."""

    start_byte: int
    end_byte: int
    """Exclusive: the offset of the intact record reading resumed at."""
    n_records: int
    """Records the span held, counted by the lengths of their intact headers (at least 1)."""
    records_exact: bool
    """True when those lengths tile the span exactly (then ``n_records`` is exact)."""
    entry_index: int
    """Index in :attr:`LogContents.entries` of the first entry after the span."""
    reason: str

    @property
    def n_bytes(self) -> int:
        return self.end_byte - self.start_byte


@dataclass(frozen=True, eq=False)
class LogContents:
    """Everything readable in a log, and what was not."""

    header: dict[str, Any]
    entries: tuple[LoggedMessage | LoggedStep | LoggedEvent, ...]
    clean_end: bool
    """True when the recording was closed normally (an END record was written)."""
    valid_bytes: int
    """Offset just after the last intact record."""
    ignored_bytes: int
    """Bytes after the last complete, intact record (a torn tail, or garbage)."""
    problem: str
    """Why the tail was ignored ('' when the file ends with an intact record)."""
    skipped: tuple[SkippedSpan, ...] = ()
    """Damaged spans in the middle, each followed by intact records."""


def record_bytes(kind: RecordKind, payload: bytes) -> bytes:
    head = struct.pack("<BI", kind, len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return MARKER + head + struct.pack("<I", crc) + payload


def json_record(kind: RecordKind, obj: dict[str, Any]) -> bytes:
    return record_bytes(kind, json.dumps(obj, allow_nan=False, separators=(",", ":")).encode("utf-8"))


def message_record(entry: LoggedMessage) -> bytes:
    m = entry.message
    base = {"placement": entry.placement.value, "arrival_s": entry.arrival_s}
    if isinstance(m, SampleBlock):
        return record_bytes(RecordKind.BLOCK, encode_block(entry.placement, entry.arrival_s, m))
    if isinstance(m, DeviceAnnouncement):
        return json_record(RecordKind.ANNOUNCEMENT, {**base, **asdict(m), "gyr_sampling": m.gyr_sampling.value})
    if isinstance(m, DeviceStatus):
        d = asdict(m)
        d["flag_names"] = list(m.flag_names)
        return json_record(RecordKind.STATUS, {**base, **d})
    raise TypeError(f"cannot log a {type(m).__name__}")


def step_record(step: LoggedStep) -> bytes:
    return json_record(RecordKind.STEP, asdict(step))


def event_record(entry: LoggedEvent) -> bytes:
    return json_record(RecordKind.EVENT, {"host_s": entry.host_s, **entry.event.to_dict()})


_BLOCK_HEAD = struct.Struct("<dIB")
_HAS_SEQ, _HAS_T, _HAS_MAG, _HAS_Q, _RESTARTED = 1, 2, 4, 8, 16


def encode_block(placement: Placement, arrival_s: float, block: SampleBlock) -> bytes:
    """Binary payload of a block: name length u8, name, arrival f64, n u32, flags u8, arrays."""
    name = placement.value.encode("ascii")
    n = block.n_samples
    flags = ((block.seq is not None) * _HAS_SEQ | (block.t_device_us is not None) * _HAS_T
             | (block.mag_uT is not None) * _HAS_MAG | (block.q_world_sensor is not None) * _HAS_Q
             | block.device_restarted * _RESTARTED)
    parts = [bytes([len(name)]), name, _BLOCK_HEAD.pack(arrival_s, n, flags)]
    for arr, dtype in ((block.seq, "<i8"), (block.t_device_us, "<i8"), (block.acc_mps2, "<f8"),
                       (block.gyr_radps, "<f8"), (block.mag_uT, "<f8"), (block.q_world_sensor, "<f8")):
        if arr is not None:
            parts.append(np.ascontiguousarray(arr, dtype=dtype).tobytes())
    return b"".join(parts)


def decode_block(payload: bytes) -> LoggedMessage:
    if not payload:
        raise ValueError("empty block payload")
    k = payload[0]
    placement = Placement(payload[1:1 + k].decode("ascii"))
    arrival_s, n, flags = _BLOCK_HEAD.unpack_from(payload, 1 + k)
    pos = 1 + k + _BLOCK_HEAD.size

    def take(present: bool, dtype: str, width: int) -> np.ndarray | None:
        nonlocal pos
        if not present:
            return None
        size = n * width * 8
        if pos + size > len(payload):
            raise ValueError("block payload shorter than its arrays")
        arr = np.frombuffer(payload, dtype=dtype, count=n * width, offset=pos).astype(dtype[1:])
        pos += size
        return arr if width == 1 else arr.reshape(n, width)

    seq = take(bool(flags & _HAS_SEQ), "<i8", 1)
    t = take(bool(flags & _HAS_T), "<i8", 1)
    acc, gyr = take(True, "<f8", 3), take(True, "<f8", 3)
    mag, q = take(bool(flags & _HAS_MAG), "<f8", 3), take(bool(flags & _HAS_Q), "<f8", 4)
    if pos != len(payload):
        raise ValueError("block payload longer than its arrays")
    return LoggedMessage(placement, arrival_s, SampleBlock(seq, t, acc, gyr, mag, q, bool(flags & _RESTARTED)))


def read_log(path: str | os.PathLike) -> LogContents:
    """Read every intact record of a log; stop at the first torn or corrupt one.

    Raises
    ------
    FormatError
        The file does not exist, is not an imugait recording log, or its header is unreadable.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{p}: no such recording log") from None
    except OSError as exc:
        raise FormatError(f"{p}: cannot read ({exc.strerror})") from None
    if not data.startswith(MAGIC):
        raise FormatError(f"{p.name} is not an imugait recording log (it does not start with {MAGIC!r})")
    pos = len(MAGIC)
    header: dict[str, Any] | None = None
    entries: list[LoggedMessage | LoggedStep | LoggedEvent] = []
    skipped: list[SkippedSpan] = []
    clean_end = False
    problem = ""
    while pos < len(data):
        record, problem = _next_record(data, pos)
        entry = None
        if record is not None:
            try:
                entry = _decode(record[0], record[1])
            except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError, struct.error,
                    ValidationError) as exc:
                problem = f"record at byte {pos} passed its CRC but cannot be decoded ({exc})"
                record = None
        if record is None:
            if header is None and pos == len(MAGIC):
                break  # without the header nothing after it can be placed in time
            resume = _resync(data, pos + 1)
            if resume is None:
                break  # the tail: nothing intact follows
            n, exact = _count_records(data, pos, resume)
            skipped.append(SkippedSpan(pos, resume, n, exact, len(entries), problem))
            pos, problem = resume, ""
            continue
        kind, _payload, end = record
        if kind is RecordKind.HEADER:
            header = entry
        elif kind is RecordKind.END:
            clean_end = True
        elif entry is not None:
            entries.append(entry)
        pos = end
    if header is None:
        raise FormatError(f"{p.name}: the log's header record is missing or unreadable ({problem or 'empty log'})")
    return LogContents(header, tuple(entries), clean_end, pos, len(data) - pos, problem, tuple(skipped))


def _resync(data: bytes, start: int) -> int | None:
    """Offset of the first marker at or after ``start`` that begins an intact record."""
    at = data.find(MARKER, start)
    while at != -1:
        if _next_record(data, at)[0] is not None:
            return at
        at = data.find(MARKER, at + 1)
    return None


def _count_records(data: bytes, start: int, end: int) -> tuple[int, bool]:
    """Records in the damaged span ``[start, end)``: hop over intact headers' lengths; (count, exact)."""
    n, at = 0, start
    while at < end:
        n += 1
        if end - at < _HEAD.size:
            return n, False
        marker, _kind, length, _crc = _HEAD.unpack_from(data, at)
        hop = at + _HEAD.size + length
        if marker != MARKER or hop > end:
            return n, False
        at = hop
    return n, True


def _next_record(data: bytes, pos: int) -> tuple[tuple[RecordKind, bytes, int] | None, str]:
    if len(data) - pos < _HEAD.size:
        return None, f"torn record header at byte {pos}"
    marker, kind, length, crc = _HEAD.unpack_from(data, pos)
    if marker != MARKER:
        return None, f"no record marker at byte {pos} (garbage)"
    if length > MAX_RECORD_BYTES:
        return None, f"implausible record length {length} at byte {pos} (garbage)"
    end = pos + _HEAD.size + length
    if end > len(data):
        return None, f"torn record at byte {pos}: {end - len(data)} byte(s) missing"
    payload = memoryview(data)[pos + _HEAD.size:end]
    if zlib.crc32(payload, zlib.crc32(data[pos + 2:pos + 7])) != crc:
        return None, f"record at byte {pos} fails its CRC (torn or corrupt)"
    try:
        return (RecordKind(kind), bytes(payload), end), ""
    except ValueError:
        return None, f"unknown record kind {kind} at byte {pos}"


def _decode(kind: RecordKind, payload: bytes):
    if kind is RecordKind.BLOCK:
        return decode_block(payload)
    obj = json.loads(payload.decode("utf-8"))
    if not isinstance(obj, dict):
        raise ValueError(f"a {kind.name} record holds JSON {type(obj).__name__}, not an object")
    if kind in (RecordKind.HEADER, RecordKind.END):
        return obj
    if kind is RecordKind.STEP:
        return LoggedStep(str(obj["name"]), str(obj["event"]), float(obj["host_s"]))
    if kind is RecordKind.EVENT:
        return LoggedEvent(float(obj["host_s"]), SessionEvent.from_dict(obj))
    placement, arrival_s = Placement(obj.pop("placement")), float(obj.pop("arrival_s"))
    if kind is RecordKind.ANNOUNCEMENT:
        if "gyr_sampling" in obj:  # (absent in logs written before it existed: the default)
            obj["gyr_sampling"] = GyroSampling(obj["gyr_sampling"])
        return LoggedMessage(placement, arrival_s, DeviceAnnouncement(**obj))
    obj["flag_names"] = tuple(obj.get("flag_names", ()))
    return LoggedMessage(placement, arrival_s, DeviceStatus(**obj))
