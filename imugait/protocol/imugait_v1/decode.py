"""imugait wire protocol v1, decoder: bytes from a serial port or BLE notifications → messages.

The stream is split at 0x00 delimiters; each chunk is COBS-decoded and CRC-checked. A chunk that
fails is searched for a valid frame starting later in it, so a frame glued to preceding garbage
(no delimiter between them) is still recovered.
"""

from __future__ import annotations

import struct

import numpy as np

from imugait.protocol.counters import Unwrapper
from imugait.protocol.framing import FrameSplitter, cobs_decode, crc_ok
from imugait.protocol.imugait_v1.spec import (
    ACK_BODY,
    BATTERY_UNKNOWN,
    COMMAND_BODY,
    DATA_HEADER,
    HEADER_SIZE,
    INFO_FIXED,
    MAX_ENCODED_FRAME,
    PROTOCOL_VERSION,
    RATE_ARG,
    SAMPLE_SIZE_MAG,
    SAMPLE_SIZE_NO_MAG,
    STATUS_BODY,
    DataFlags,
    DeviceInfoV1,
    MessageType,
    StatusFlag,
)
from imugait.protocol.messages import (
    AckResult,
    Command,
    CommandAck,
    CommandCode,
    DecoderStats,
    DeviceStatus,
    Message,
    SampleBlock,
)

_KNOWN_TYPES = frozenset(int(t) for t in MessageType)
_DATA_START = HEADER_SIZE + DATA_HEADER.size
# Plain ints for the per-frame tests: enum arithmetic costs more than the rest of a small frame.
_DATA, _DEVICE_INFO, _STATUS, _ACK, _COMMAND = (int(t) for t in (MessageType.DATA, MessageType.DEVICE_INFO,
                                                                  MessageType.STATUS, MessageType.ACK,
                                                                  MessageType.COMMAND))
_MAG = int(DataFlags.MAG)
_INT16_LE = np.dtype("<i2")
_RESERVED_DATA_FLAGS = 0xFF & ~_MAG


_OFFSETS_KEPT = 16
"""Block shapes (samples, period) whose sample offsets a decoder keeps: a device sends one or two."""


class _Malformed(Exception):
    """Internal: a CRC-valid frame whose content breaks the spec."""


LATE_WINDOW_S = 2.0
"""How far behind (s of samples) a block may be and still be taken as late or duplicated rather
than as a restart: reordering and retransmission on a link span a few blocks; a device that
restarts with the same counter and clock origin looks exactly like its own first blocks, so the
window must stay short."""


class ImugaitV1Decoder:
    """Incremental decoder of our protocol; see :class:`imugait.protocol.base.Decoder`.

    Parameters
    ----------
    info : the device's DEVICE_INFO if already known (e.g. read from the BLE info
        characteristic and not fed as bytes). DATA needs the ranges it announces; DATA blocks
        that arrive before any DEVICE_INFO are dropped and counted in
        ``stats.extra["samples_without_info"]``.

    Emits :class:`SampleBlock` (one per DATA frame; ``seq`` and ``t_device_us`` unwrapped to
    monotonic int64), :class:`DeviceAnnouncement`, :class:`DeviceStatus`, :class:`CommandAck`
    and :class:`Command` (the latter for device-side use, e.g. the emulator).

    ``stats.samples_lost`` counts sequence-counter gaps. A block whose counter steps back by at
    most :data:`LATE_WINDOW_S` with a clock that agrees is an old block again (duplicated or
    reordered on the link): it keeps its own ``seq`` and ``t_device_us`` and is counted in
    ``stats.extra["late_or_duplicate_frames"]``. Any other backward step means the device
    restarted: ``stats.extra["device_resets"]`` is incremented and ``seq`` and ``t_device_us``
    continue monotonically from where they were.
    """

    def __init__(self, info: DeviceInfoV1 | None = None) -> None:
        self.stats = DecoderStats()
        self.info = info
        self._splitter = FrameSplitter(MAX_ENCODED_FRAME)
        self._next_seq: int | None = None
        """Unwrapped seq expected for the next block."""
        self._next_seq_raw = 0
        self._clock = Unwrapper(32)
        self._last_end_us = 0
        """Unwrapped device time one period after the last sample of the previous block."""
        self._scales_info: DeviceInfoV1 | None = None
        self._scales_si: dict[int, np.ndarray] = {}
        self._offsets: dict[tuple[int, int], np.ndarray] = {}

    @property
    def pending_bytes(self) -> int:
        return self._splitter.pending_bytes

    def feed(self, data: bytes) -> list[Message]:
        stats = self.stats
        stats.bytes_received += len(data)
        out: list[Message] = []
        before = self._splitter.overflow_bytes
        for chunk in self._splitter.feed(data):
            self._chunk(chunk, out)
        stats.bytes_discarded += self._splitter.overflow_bytes - before
        return out

    def flush(self) -> list[Message]:
        rest = self._splitter.take_pending()
        if rest:
            self.stats.bytes_discarded += len(rest)
            self.stats.malformed_frames += 1
        return []

    # -- frames -------------------------------------------------------------------------------

    def _chunk(self, chunk: bytes, out: list[Message]) -> None:
        stats = self.stats
        if not chunk:  # an extra delimiter (allowed as idle fill / resync marker)
            stats.bytes_accepted += 1
            return
        frame = cobs_decode(chunk)
        if frame is not None and crc_ok(frame):
            try:
                self._frame(frame, out)
            except (_Malformed, struct.error, UnicodeDecodeError, ValueError):
                pass
            else:
                stats.bytes_accepted += len(chunk) + 1
                return
        # Not a frame as a whole: a frame may still start after leading garbage.
        if self._recover_suffix(chunk, out):
            return
        stats.bytes_discarded += len(chunk) + 1
        if frame is not None and len(frame) > 2 and not crc_ok(frame):
            stats.crc_failures += 1
        else:
            stats.malformed_frames += 1

    def _recover_suffix(self, chunk: bytes, out: list[Message]) -> bool:
        """Find the earliest valid frame that ends the chunk; accept it, discard the rest."""
        n = len(chunk)
        i = chunk.find(PROTOCOL_VERSION, 2) - 1
        while 0 <= i < n - 2:
            # A frame's first COBS group holds at least version and type (both non-zero).
            if chunk[i] >= 3 and chunk[i + 2] in _KNOWN_TYPES:
                frame = cobs_decode(chunk[i:])
                if frame is not None and crc_ok(frame):
                    try:
                        self._frame(frame, out)
                    except (_Malformed, struct.error, UnicodeDecodeError, ValueError):
                        pass
                    else:
                        self.stats.bytes_discarded += i
                        self.stats.bytes_accepted += n - i + 1
                        self.stats.extra["frames_recovered_after_garbage"] = (
                            self.stats.extra.get("frames_recovered_after_garbage", 0) + 1
                        )
                        return True
            i = chunk.find(PROTOCOL_VERSION, i + 2) - 1
        return False

    def _frame(self, frame: bytes, out: list[Message]) -> None:
        """Parse a CRC-valid unstuffed frame; raise _Malformed if it breaks the spec."""
        payload_end = len(frame) - 2
        if payload_end < HEADER_SIZE:
            raise _Malformed
        version, kind = frame[0], frame[1]
        extra = self.stats.extra
        if version != PROTOCOL_VERSION:
            extra["unsupported_version"] = extra.get("unsupported_version", 0) + 1
            raise _Malformed
        if kind == _DATA:
            message = self._data(frame, payload_end)
        elif kind == _DEVICE_INFO:
            message = self._info(frame, payload_end)
        elif kind == _STATUS:
            message = self._status(frame, payload_end)
        elif kind == _ACK:
            token, code, result = ACK_BODY.unpack(frame[HEADER_SIZE:payload_end])
            message = CommandAck(CommandCode(code), token, AckResult(result))
        elif kind == _COMMAND:
            message = self._command(frame, payload_end)
        else:  # a newer message type: valid frame, skipped
            extra["unknown_message_types"] = extra.get("unknown_message_types", 0) + 1
            message = None
        self.stats.frames_ok += 1
        if message is not None:
            out.append(message)

    def _info(self, frame: bytes, end: int) -> Message:
        device_id, rate_millihz, acc_g, gyr_dps, mag_ut = INFO_FIXED.unpack_from(frame, 2)
        pos = HEADER_SIZE + INFO_FIXED.size
        texts = []
        for _ in range(2):
            if pos >= end:
                raise _Malformed
            size = frame[pos]
            if pos + 1 + size > end:
                raise _Malformed
            texts.append(frame[pos + 1 : pos + 1 + size].decode("utf-8"))
            pos += 1 + size
        if pos != end or rate_millihz == 0 or acc_g == 0 or gyr_dps == 0:
            raise _Malformed
        self.info = DeviceInfoV1(
            device_id, texts[0], texts[1], rate_millihz / 1000.0, acc_g, gyr_dps, mag_ut
        )
        return self.info.announcement()

    def _status(self, frame: bytes, end: int) -> Message:
        battery, flags = STATUS_BODY.unpack(frame[HEADER_SIZE:end])
        if battery > 100 and battery != BATTERY_UNKNOWN:
            raise _Malformed
        names = tuple(f.name for f in StatusFlag if flags & f)
        return DeviceStatus(
            battery_percent=None if battery == BATTERY_UNKNOWN else float(battery),
            error_flags=flags,
            flag_names=names,
        )

    def _command(self, frame: bytes, end: int) -> Message:
        token, code = COMMAND_BODY.unpack_from(frame, HEADER_SIZE)
        code = CommandCode(code)
        args = frame[HEADER_SIZE + COMMAND_BODY.size : end]
        if code is CommandCode.SET_RATE:
            (millihz,) = RATE_ARG.unpack(args)
            if millihz == 0:
                raise _Malformed
            return Command(code, token, millihz / 1000.0)
        if args:
            raise _Malformed
        return Command(code, token)

    def _data(self, frame: bytes, end: int) -> SampleBlock | None:
        flags, n, seq_raw, t_raw, period_ns = DATA_HEADER.unpack_from(frame, HEADER_SIZE)
        if flags & _RESERVED_DATA_FLAGS or n == 0 or period_ns == 0:
            raise _Malformed
        with_mag = flags & _MAG
        size = SAMPLE_SIZE_MAG if with_mag else SAMPLE_SIZE_NO_MAG
        if end - _DATA_START != size * n:
            raise _Malformed
        info = self.info
        if info is not None and with_mag and info.mag_range_uT == 0:
            raise _Malformed
        seq0, t0, restarted = self._advance(seq_raw, t_raw, n, period_ns)
        if info is None:
            extra = self.stats.extra
            extra["samples_without_info"] = extra.get("samples_without_info", 0) + n
            return None
        self.stats.samples_decoded += n
        # One multiplication for all channels: (channel, sample, axis), each channel contiguous.
        n_channels = size // 6
        raw = np.frombuffer(frame, dtype=_INT16_LE, count=n * size // 2, offset=_DATA_START)
        si = np.multiply(raw.reshape(n, n_channels, 3).transpose(1, 0, 2), self._scales(info, n_channels),
                         out=np.empty((n_channels, n, 3)))
        return SampleBlock(
            seq=np.arange(seq0, seq0 + n, dtype=np.int64),
            t_device_us=self._offsets_us(n, period_ns) + t0,
            acc_mps2=si[0],
            gyr_radps=si[1],
            mag_uT=si[2] if with_mag else None,
            device_restarted=restarted,
        )

    def _scales(self, info: DeviceInfoV1, n_channels: int) -> np.ndarray:
        """(n_channels, 1, 1) SI units per count of acc, gyr (and mag) for ``info`` (kept until it changes)."""
        if self._scales_info is not info:
            self._scales_info = info
            per_lsb = (info.acc_mps2_per_lsb, info.gyr_radps_per_lsb, info.mag_uT_per_lsb)
            scales = np.array(per_lsb, dtype=float).reshape(3, 1, 1)
            self._scales_si = {2: scales[:2], 3: scales}
        return self._scales_si[n_channels]

    def _offsets_us(self, n: int, period_ns: int) -> np.ndarray:
        """(n,) int64 µs from a block's first sample to each of its samples, rounded to the nearest
        µs as the device times are (``(k·period_ns + 500) // 1000``); kept per block shape (read-only)."""
        key = (n, period_ns)
        offsets = self._offsets.get(key)
        if offsets is None:
            offsets = np.array([(k * period_ns + 500) // 1000 for k in range(n)], dtype=np.int64)
            offsets.flags.writeable = False
            if len(self._offsets) < _OFFSETS_KEPT:
                self._offsets[key] = offsets
        return offsets

    def _advance(self, seq_raw: int, t_raw: int, n: int, period_ns: int) -> tuple[int, int, bool]:
        """Unwrap the block's counter and clock; count gaps and resets. Returns (first sequence
        number, first device time, whether the device restarted before this block)."""
        stats = self.stats
        restarted = False
        if self._next_seq is None:
            seq0 = seq_raw
            t0 = self._clock.unwrap(t_raw)
        else:
            gap = (seq_raw - self._next_seq_raw) & 0xFFFFFFFF
            if gap < 0x80000000:
                seq0 = self._next_seq + gap
                stats.samples_lost += gap
                resets = self._clock.resets
                t0 = self._clock.unwrap(t_raw)
                if self._clock.resets != resets:
                    # The clock went back while the counter went on: continue the clock from the
                    # counter, so that no sample looks older than the ones before it.
                    stats.extra["clock_resets"] = stats.extra.get("clock_resets", 0) + 1
                    t0 = self._last_end_us + (gap * period_ns + 500) // 1000
                    self._clock.rebase(t_raw, t0)
            elif (late := self._late_block(seq_raw, t_raw, period_ns)) is not None:
                # An old block again (a duplicate, or overtaken by later ones): its own numbers,
                # nothing advances; the acquisition drops duplicates and slots late samples in.
                stats.extra["late_or_duplicate_frames"] = stats.extra.get("late_or_duplicate_frames", 0) + 1
                return (*late, False)
            else:  # the counter went back and the clock with it: the device restarted
                stats.extra["device_resets"] = stats.extra.get("device_resets", 0) + 1
                seq0 = self._next_seq
                t0 = self._last_end_us
                self._clock.rebase(t_raw, t0)
                restarted = True
        self._next_seq = seq0 + n
        self._next_seq_raw = (seq_raw + n) & 0xFFFFFFFF
        self._last_end_us = t0 + (n * period_ns + 500) // 1000
        return seq0, t0, restarted

    def _late_block(self, seq_raw: int, t_raw: int, period_ns: int) -> tuple[int, int] | None:
        """(seq0, t0) of a block whose counter is behind the expected one by at most
        :data:`LATE_WINDOW_S` while its clock agrees with where that counter value was (within a
        quarter period); None otherwise — then the counter went back because the device restarted."""
        back = (self._next_seq_raw - seq_raw) & 0xFFFFFFFF
        if back * period_ns > LATE_WINDOW_S * 1e9:
            return None
        t0 = self._clock.nearest(t_raw)
        expected_us = self._last_end_us - (back * period_ns + 500) // 1000
        if abs(t0 - expected_us) > period_ns // 4000 + 1:
            return None
        return self._next_seq - back, t0
