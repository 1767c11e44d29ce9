"""WitMotion decoders: the serial "WIT standard protocol" and the BLE 5.0 ``55 61`` packets.

Layouts (``firmware_specs/supported_devices.md``; WitMotion WT901 / WT901BLECL datasheets and
WITMOTION/WitStandardProtocol_JY901 ``wit_c_sdk.c``):

* Serial (WT901, JY901, BWT901CL): 11-byte frames ``55 TYPE d0 d1 d2 d3 SUM``, four int16 LE
  words, ``SUM`` = low byte of the sum of bytes 0..9. One output cycle is a run of frames in
  increasing TYPE order (time 0x50, acc 0x51, gyro 0x52, angle 0x53, mag 0x54, …, quaternion
  0x59); the decoder groups a cycle with acc and gyro into one sample.
* BLE 5.0 (WT901BLECL): 20-byte packets ``55 61`` + nine int16 LE (acc, gyro, angles), no
  checksum, which may straddle notifications; ``55 71`` register replies share the stream.

Scales: acc ``v/32768·16 g``, gyro ``v/32768·2000 °/s``, quaternion ``v/32768``; the
magnetometer is in mG (0.1 µT per count) per the WT901BLECL datasheet §6.1.2.1. Output is SI.
WitMotion sends no sample counter, so ``seq`` is None and ``stats.samples_lost`` only counts
cycles seen incomplete (a lower bound). ``t_device_us`` comes from the 0x50 time frame when the
device is configured to send it (µs since 2000-01-01 on the module's clock, ms resolution).
"""

from __future__ import annotations

import datetime as _dt
import math
import struct
from enum import IntEnum

from imugait.conventions import GRAVITY_MPS2
from imugait.protocol.base import rows_to_block
from imugait.protocol.messages import DecoderStats, DeviceAnnouncement, Message

HEADER = 0x55
ACC_RANGE_G = 16
GYR_RANGE_DPS = 2000
ACC_MPS2_PER_LSB = ACC_RANGE_G * GRAVITY_MPS2 / 32768
GYR_RADPS_PER_LSB = math.radians(GYR_RANGE_DPS) / 32768
ANGLE_DEG_PER_LSB = 180.0 / 32768
MAG_UT_PER_LSB = 0.1
"""1 mG = 0.1 µT (WT901BLECL datasheet: magnetic field unit mG)."""
QUAT_PER_LSB = 1.0 / 32768
SERIAL_FRAME_SIZE = 11
BLE_PACKET_SIZE = 20
_EPOCH = _dt.datetime(2000, 1, 1)
_WORDS4 = struct.Struct("<4h")
_WORDS9 = struct.Struct("<9h")


class WitFrame(IntEnum):
    """TYPE byte of a serial frame (0x50–0x5A are the standard outputs)."""

    TIME = 0x50
    ACC = 0x51
    GYRO = 0x52
    ANGLE = 0x53
    MAG = 0x54
    PORT = 0x55
    PRESSURE = 0x56
    GPS = 0x57
    GPS_SPEED = 0x58
    QUATERNION = 0x59
    GPS_ACCURACY = 0x5A


class WitBlePacket(IntEnum):
    """Flag byte after ``0x55`` in a BLE packet."""

    DATA = 0x61
    REGISTER = 0x71


def announcement(
    device_id: str, sample_rate_hz: float, model: str = "WitMotion"
) -> DeviceAnnouncement:
    """The vendor constants as a :class:`DeviceAnnouncement` (WitMotion sends no info message)."""
    return DeviceAnnouncement(
        device_id=device_id,
        model=model,
        firmware="",
        sample_rate_hz=sample_rate_hz,
        acc_range_mps2=ACC_RANGE_G * GRAVITY_MPS2,
        gyr_range_radps=math.radians(GYR_RANGE_DPS),
        mag_range_uT=None,
    )


def _bump(stats: DecoderStats, key: str, by: int = 1) -> None:
    stats.extra[key] = stats.extra.get(key, 0) + by


def _blocks(rows: list[dict]) -> list[Message]:
    """Consecutive sample rows → SampleBlocks, split where the set of fields changes."""
    out: list[Message] = []
    start = 0
    for k in range(1, len(rows) + 1):
        if k == len(rows) or rows[k].keys() != rows[start].keys():
            run = rows[start:k]
            keys = run[0].keys()

            def col(name: str, run: list[dict] = run, keys=keys) -> list | None:
                return [r[name] for r in run] if name in keys else None

            out.append(
                rows_to_block(
                    col("acc"), col("gyr"), col("mag"), col("quat"), t_device_us=col("t_us")
                )
            )
            start = k
    return out


class WitMotionSerialDecoder:
    """Incremental decoder of the WitMotion serial protocol (see module docstring).

    Parameters
    ----------
    mag_uT_per_lsb : magnetometer scale; the datasheet's mG unit by default.
    """

    def __init__(self, mag_uT_per_lsb: float = MAG_UT_PER_LSB) -> None:
        self.stats = DecoderStats()
        self.mag_uT_per_lsb = float(mag_uT_per_lsb)
        self._buf = bytearray()
        self._group: dict[int, tuple] = {}
        self._group_last = -1
        self._cycle: frozenset[int] | None = None
        """Frame types of a full output cycle, learned from the stream."""
        self._rows: list[dict] = []

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        stats = self.stats
        stats.bytes_received += len(data)
        buf = self._buf
        buf += data
        pos = 0
        end = len(buf)
        while True:
            i = buf.find(HEADER, pos)
            if i < 0:
                stats.bytes_discarded += end - pos
                pos = end
                break
            stats.bytes_discarded += i - pos
            pos = i
            if end - i < SERIAL_FRAME_SIZE:
                break
            kind = buf[i + 1]
            if 0x50 <= kind <= 0x5A:
                if sum(buf[i : i + 10]) & 0xFF == buf[i + 10]:
                    stats.frames_ok += 1
                    stats.bytes_accepted += SERIAL_FRAME_SIZE
                    self._frame(kind, buf, i)
                    pos = i + SERIAL_FRAME_SIZE
                    continue
                stats.crc_failures += 1
            stats.bytes_discarded += 1
            pos = i + 1
        del buf[:pos]
        return self._take()

    def flush(self) -> list[Message]:
        if self._group:
            self._close()
        if self._buf:
            self.stats.bytes_discarded += len(self._buf)
            self._buf.clear()
        return self._take()

    def _take(self) -> list[Message]:
        rows, self._rows = self._rows, []
        n = len(rows)
        self.stats.samples_decoded += n
        return _blocks(rows) if n else []

    def _frame(self, kind: int, buf: bytearray, i: int) -> None:
        if kind == WitFrame.TIME:
            yy, mo, dd, hh, mi, ss = buf[i + 2 : i + 8]
            try:
                when = _dt.datetime(2000 + yy, mo, dd, hh, mi, ss)
            except ValueError:
                self.stats.malformed_frames += 1
                return
            ms = buf[i + 8] | buf[i + 9] << 8
            delta = when - _EPOCH
            value: object = (delta.days * 86400 + delta.seconds) * 1_000_000 + ms * 1000
        else:
            value = _WORDS4.unpack_from(buf, i + 2)
        if self._group and kind <= self._group_last:
            self._close(boundary=True)
        self._group[kind] = value
        self._group_last = kind
        if self._cycle is not None and self._cycle.issubset(self._group.keys()):
            self._close()

    def _close(self, boundary: bool = False) -> None:
        group, self._group = self._group, {}
        self._group_last = -1
        has_acc = WitFrame.ACC in group
        has_gyr = WitFrame.GYRO in group
        if has_acc and has_gyr:
            if boundary or self._cycle is None:
                self._cycle = frozenset(group)
            self._rows.append(self._row(group))
        elif has_acc or has_gyr:
            self.stats.samples_lost += 1
        elif self._cycle is not None and min(group) > max(self._cycle):
            self._cycle = self._cycle | frozenset(group)  # a newly enabled trailing output
        else:
            _bump(self.stats, "orphan_frames", len(group))

    def _row(self, group: dict[int, tuple]) -> dict:
        acc = group[WitFrame.ACC]
        gyr = group[WitFrame.GYRO]
        row = {
            "acc": [
                acc[0] * ACC_MPS2_PER_LSB,
                acc[1] * ACC_MPS2_PER_LSB,
                acc[2] * ACC_MPS2_PER_LSB,
            ],
            "gyr": [
                gyr[0] * GYR_RADPS_PER_LSB,
                gyr[1] * GYR_RADPS_PER_LSB,
                gyr[2] * GYR_RADPS_PER_LSB,
            ],
        }
        if WitFrame.MAG in group:
            mag = group[WitFrame.MAG]
            row["mag"] = [v * self.mag_uT_per_lsb for v in mag[:3]]
        if WitFrame.QUATERNION in group:
            row["quat"] = [v * QUAT_PER_LSB for v in group[WitFrame.QUATERNION]]
        if WitFrame.TIME in group:
            row["t_us"] = group[WitFrame.TIME]
        return row


class WitMotionBleDecoder:
    """Incremental decoder of WitMotion BLE 5.0 packets (``55 61``), any notification chunking.

    Without a checksum, sync is taken only when a packet header is followed by another header
    20 bytes later (or the packet is the last one, at :meth:`flush`) and the pitch angle is
    within ±90°; once in sync, packets are read back to back until a header is missing.
    """

    MAX_PITCH_LSB = 16384 + 164
    """±90° (+1 % for rounding on the device); pitch beyond it means a false sync."""

    def __init__(self) -> None:
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._locked = False
        self._rows: list[dict] = []

    @property
    def pending_bytes(self) -> int:
        return len(self._buf)

    @staticmethod
    def _is_header(buf: bytearray, i: int) -> bool:
        return buf[i] == HEADER and (
            buf[i + 1] == WitBlePacket.DATA or buf[i + 1] == WitBlePacket.REGISTER
        )

    def feed(self, data: bytes) -> list[Message]:
        self.stats.bytes_received += len(data)
        self._buf += data
        self._scan(final=False)
        return self._take()

    def flush(self) -> list[Message]:
        self._scan(final=True)
        if self._buf:
            self.stats.bytes_discarded += len(self._buf)
            self._buf.clear()
        return self._take()

    def _take(self) -> list[Message]:
        rows, self._rows = self._rows, []
        self.stats.samples_decoded += len(rows)
        return _blocks(rows) if rows else []

    def _scan(self, final: bool) -> None:
        stats = self.stats
        buf = self._buf
        pos = 0
        end = len(buf)
        size = BLE_PACKET_SIZE
        while end - pos >= size:
            if self._locked:
                if self._is_header(buf, pos) and self._accept(buf, pos):
                    pos += size
                    continue
                self._locked = False
                stats.malformed_frames += 1
            i = buf.find(HEADER, pos)
            if i < 0 or end - i < size:
                i = end if i < 0 else i
                stats.bytes_discarded += i - pos
                pos = i
                break
            stats.bytes_discarded += i - pos
            pos = i
            if end - i < size + 2 and not final:
                break  # wait for the next header to confirm
            confirmed = end - i < size + 2 or self._is_header(buf, i + size)
            if self._is_header(buf, i) and confirmed and self._accept(buf, i):
                self._locked = True
                pos = i + size
            else:
                stats.bytes_discarded += 1
                pos = i + 1
        del buf[:pos]

    def _accept(self, buf: bytearray, i: int) -> bool:
        """Decode the packet at ``i`` if plausible; count it."""
        if buf[i + 1] == WitBlePacket.REGISTER:
            _bump(self.stats, "register_packets")
        else:
            w = _WORDS9.unpack_from(buf, i + 2)
            if abs(w[7]) > self.MAX_PITCH_LSB:
                return False
            self._rows.append(
                {
                    "acc": [
                        w[0] * ACC_MPS2_PER_LSB,
                        w[1] * ACC_MPS2_PER_LSB,
                        w[2] * ACC_MPS2_PER_LSB,
                    ],
                    "gyr": [
                        w[3] * GYR_RADPS_PER_LSB,
                        w[4] * GYR_RADPS_PER_LSB,
                        w[5] * GYR_RADPS_PER_LSB,
                    ],
                }
            )
        self.stats.frames_ok += 1
        self.stats.bytes_accepted += BLE_PACKET_SIZE
        return True
