"""imugait wire protocol v1: the constants and layouts the specification names.

Specification, with hand-computed examples: ``firmware_specs/imugait_v1.md``. Test vectors:
``firmware_specs/test_vectors/imugait_v1.json``. Every constant the spec names lives here, and
``firmware_specs/test_vectors/make_vectors.py`` generates the vectors from them.

Unstuffed frame (before COBS, see :mod:`imugait.protocol.framing`)::

    version u8 | type u8 | body ... | CRC-16/CCITT-FALSE u16 big-endian

All multi-byte body fields are little-endian.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from imugait.conventions import GRAVITY_MPS2
from imugait.protocol.framing import max_encoded_size
from imugait.protocol.messages import DeviceAnnouncement

PROTOCOL_VERSION = 1
HEADER_SIZE = 2
"""version + type."""
INT16_FULL_SCALE = 32768
"""``physical = raw × range / 32768`` for every int16 channel."""


class MessageType(IntEnum):
    DEVICE_INFO = 0x01
    DATA = 0x02
    STATUS = 0x03
    COMMAND = 0x10
    ACK = 0x11


class DataFlags(IntFlag):
    """Flags byte of a DATA block; bits 1–7 are reserved and must be zero."""

    MAG = 0x01
    """Each sample carries mag xyz after gyr xyz."""


class StatusFlag(IntFlag):
    """Error/condition bits of a STATUS message (u16; bits 8–15 reserved, zero)."""

    IMU_FAULT = 1 << 0
    """The accelerometer/gyroscope chip does not answer or reports a self-test failure."""
    MAG_FAULT = 1 << 1
    FIFO_OVERFLOW = 1 << 2
    """The IMU's FIFO overflowed: samples were lost before numbering (not visible as a gap)."""
    TX_OVERFLOW = 1 << 3
    """The radio/serial queue was full: numbered samples were dropped (visible as a gap)."""
    LOW_BATTERY = 1 << 4
    CHARGING = 1 << 5
    SATURATION = 1 << 6
    """A sample reached the full-scale range since the previous STATUS."""
    OVER_TEMPERATURE = 1 << 7


BATTERY_UNKNOWN = 0xFF

INFO_FIXED = struct.Struct("<QIHHH")
"""device_id u64, sample_rate_millihz u32, acc_range_g u16, gyr_range_dps u16, mag_range_uT u16."""
DATA_HEADER = struct.Struct("<BBIII")
"""flags u8, n_samples u8, seq_first u32, t_first_us u32, sample_period_ns u32."""
STATUS_BODY = struct.Struct("<BH")
"""battery_percent u8 (255 = unknown), error_flags u16."""
COMMAND_BODY = struct.Struct("<BB")
"""token u8, opcode u8 (then u32 sample_rate_millihz for SET_RATE)."""
ACK_BODY = struct.Struct("<BBB")
"""token u8, opcode u8, result u8."""
RATE_ARG = struct.Struct("<I")

SAMPLE_SIZE_NO_MAG = 12
SAMPLE_SIZE_MAG = 18
MAX_SAMPLES_PER_BLOCK = 255
DATA_FRAME_OVERHEAD = HEADER_SIZE + DATA_HEADER.size + 2
"""Unstuffed bytes of a DATA frame besides its samples (header, block header, CRC) = 18."""
MAX_STRING_BYTES = 255
MAX_ENCODED_FRAME = max_encoded_size(
    HEADER_SIZE + DATA_HEADER.size + MAX_SAMPLES_PER_BLOCK * SAMPLE_SIZE_MAG
)
"""Longest valid frame on the wire (a full DATA block with mag)."""
ATT_NOTIFY_OVERHEAD = 3
"""An ATT notification carries ``ATT_MTU - 3`` bytes of value (opcode + handle)."""


@dataclass(frozen=True)
class DeviceInfoV1:
    """The DEVICE_INFO message in wire units (what a firmware fills in).

    Attributes
    ----------
    device_id : u64 unique id (e.g. the chip's unique id or BLE MAC); shown as 16 hex digits.
    model, firmware : UTF-8, at most 255 bytes each.
    sample_rate_hz : nominal output rate; carried in millihertz (u32).
    acc_range_g, gyr_range_dps : full-scale range (±) of the int16 channels; both > 0.
    mag_range_uT : full-scale range (±) of the magnetometer channels; 0 when there is none.
    """

    device_id: int
    model: str
    firmware: str
    sample_rate_hz: float
    acc_range_g: int
    gyr_range_dps: int
    mag_range_uT: int = 0

    @property
    def acc_mps2_per_lsb(self) -> float:
        return self.acc_range_g * GRAVITY_MPS2 / INT16_FULL_SCALE

    @property
    def gyr_radps_per_lsb(self) -> float:
        return math.radians(self.gyr_range_dps) / INT16_FULL_SCALE

    @property
    def mag_uT_per_lsb(self) -> float:
        return self.mag_range_uT / INT16_FULL_SCALE

    @property
    def sample_period_ns(self) -> int:
        return round(1e9 / self.sample_rate_hz)

    def announcement(self) -> DeviceAnnouncement:
        """The vendor-neutral message (SI ranges) the decoder emits for this info."""
        return DeviceAnnouncement(
            device_id=f"{self.device_id:016x}",
            model=self.model,
            firmware=self.firmware,
            sample_rate_hz=self.sample_rate_hz,
            acc_range_mps2=self.acc_range_g * GRAVITY_MPS2,
            gyr_range_radps=math.radians(self.gyr_range_dps),
            mag_range_uT=float(self.mag_range_uT) if self.mag_range_uT else None,
        )


def max_samples_per_notification(att_mtu: int, with_mag: bool = False) -> int:
    """Most samples of one DATA frame that fit one BLE notification at ``att_mtu``.

    ``n`` is the largest with ``18 + s·n + cobs_overhead + 1 ≤ att_mtu − 3`` where ``s`` is 12
    (acc+gyr) or 18 (with mag) and ``cobs_overhead = max(1, ceil((18 + s·n) / 254))``.
    0 means a DATA frame cannot fit and frames must span notifications (ATT_MTU 23).
    """
    size = SAMPLE_SIZE_MAG if with_mag else SAMPLE_SIZE_NO_MAG
    room = att_mtu - ATT_NOTIFY_OVERHEAD
    best = 0
    for n in range(1, MAX_SAMPLES_PER_BLOCK + 1):
        if max_encoded_size(HEADER_SIZE + DATA_HEADER.size + size * n) > room:
            break
        best = n
    return best


GATT_UUID_BASE = "c084{:04x}-15e5-4dce-aaad-eeb317d4d386"
"""Random 128-bit base (generated once with uuid4); the 16-bit slot is bytes 2–3 (``xxxx``)."""
GATT_SERVICE_UUID = GATT_UUID_BASE.format(0x0001)
GATT_DATA_UUID = GATT_UUID_BASE.format(0x0002)
"""Notify: the device → host byte stream (DATA, STATUS, ACK, DEVICE_INFO frames)."""
GATT_COMMAND_UUID = GATT_UUID_BASE.format(0x0003)
"""Write (with or without response): one complete COMMAND frame per write."""
GATT_INFO_UUID = GATT_UUID_BASE.format(0x0004)
"""Read: one complete DEVICE_INFO frame (COBS + delimiter), current settings."""
