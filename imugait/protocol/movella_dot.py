"""Movella (Xsens) DOT decoder: BLE measurement notifications in the "rate quantities" modes.

Layout (Movella DOT BLE Service Specification, measurement service 0x2000; little-endian;
``firmware_specs/supported_devices.md``). Payloads arrive on the *medium payload*
characteristic ``15172003-4947-11e9-8646-d663bd873d93``:

==========================  ====  =============================================
payload mode                 len   fields (byte offset)
==========================  ====  =============================================
20 rate quantities + mag     34    t u32 µs @0, acc f32×3 m/s² @4, gyr f32×3 °/s @16,
                                   mag int16×3 @28 (÷4096, units of the local field)
21 rate quantities           28    t u32 µs @0, acc f32×3 m/s² @4, gyr f32×3 °/s @16
==========================  ====  =============================================

A notification is one whole packet: either exactly the payload or the characteristic's full
40 bytes (payload plus padding); any other length is rejected and counted.

The DOT magnetometer is normalised to the field strength at its last calibration (≈ 1 at rest),
not in µT: pass ``mag_field_uT`` (the local field magnitude, e.g. from a geomagnetic model) to
get µT, otherwise ``mag_uT`` is None and the samples are counted in
``stats.extra["mag_unscaled_samples"]``.
"""

from __future__ import annotations

import math
import struct
from enum import IntEnum

import numpy as np

from imugait.conventions import GRAVITY_MPS2
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import ValidationError
from imugait.protocol.counters import Unwrapper
from imugait.protocol.messages import DecoderStats, DeviceAnnouncement, Message, SampleBlock

UUID_BASE = "1517{:04x}-4947-11e9-8646-d663bd873d93"
MEASUREMENT_SERVICE_UUID = UUID_BASE.format(0x2000)
CONTROL_UUID = UUID_BASE.format(0x2001)
MEDIUM_PAYLOAD_UUID = UUID_BASE.format(0x2003)
MEDIUM_PAYLOAD_SIZE = 40
ACC_RANGE_G = 16
GYR_RANGE_DPS = 2000
MAG_PER_LSB = 1.0 / 4096
PLAUSIBLE_FACTOR = 2.0
"""Values beyond twice the sensor's range are not measurements: the packet is rejected."""
REORDER_WINDOW_US = 1_000_000
"""A timestamp at most this far behind the newest is a packet sent again or overtaken on the link
(it keeps its own time); further back, the sensor's clock restarted (a reboot)."""


class PayloadMode(IntEnum):
    RATE_QUANTITIES_WITH_MAG = 20
    RATE_QUANTITIES = 21


_LAYOUT = {
    PayloadMode.RATE_QUANTITIES_WITH_MAG: struct.Struct("<I6f3h"),
    PayloadMode.RATE_QUANTITIES: struct.Struct("<I6f"),
}


def control_command(start: bool, mode: PayloadMode) -> bytes:
    """Value to write to the control characteristic 0x2001: ``[1, start/stop, mode]``.

    Subscribe to the payload characteristic first, then write ``control_command(True, mode)``.
    """
    return bytes((1, 1 if start else 0, PayloadMode(mode)))


def announcement(device_id: str, sample_rate_hz: float, firmware: str = "") -> DeviceAnnouncement:
    """Vendor constants as a :class:`DeviceAnnouncement` (±16 g, ±2000 °/s; the rate quantities
    are derived from the sensor's strapdown-integrated increments, so a gyroscope sample is the mean
    rate over its interval: ``GyroSampling.INTERVAL_MEAN``, Movella DOT user manual §4.2)."""
    return DeviceAnnouncement(
        device_id=device_id,
        model="Movella DOT",
        firmware=firmware,
        sample_rate_hz=sample_rate_hz,
        acc_range_mps2=ACC_RANGE_G * GRAVITY_MPS2,
        gyr_range_radps=math.radians(GYR_RANGE_DPS),
        mag_range_uT=None,
        gyr_sampling=source_gyr_sampling("movella_dot"),
    )


class MovellaDotDecoder:
    """Decoder of one DOT's measurement notifications: ``feed(notification)`` per packet.

    Parameters
    ----------
    payload_mode : 20 (with mag) or 21 (acc + gyr), as written to the control characteristic.
    sample_rate_hz : the output rate set on the sensor. When given, ``seq`` is derived from the
        timestamps and gaps are counted in ``stats.samples_lost``; otherwise ``seq`` is None.
    mag_field_uT : local magnetic field magnitude, µT, to scale the normalised magnetometer.

    ``t_device_us`` is the u32 µs sensor timestamp, unwrapped (it wraps every 71.6 min).
    """

    def __init__(
        self,
        payload_mode: PayloadMode | int = PayloadMode.RATE_QUANTITIES_WITH_MAG,
        *,
        sample_rate_hz: float | None = None,
        mag_field_uT: float | None = None,
    ) -> None:
        try:
            self.mode = PayloadMode(payload_mode)
        except ValueError:
            modes = ", ".join(f"{m.value} ({m.name.lower()})" for m in PayloadMode)
            raise ValidationError(
                f"payload mode {payload_mode} is not supported; use one of: {modes}"
            ) from None
        if sample_rate_hz is not None and not sample_rate_hz > 0:
            raise ValidationError(f"sample_rate_hz must be > 0, got {sample_rate_hz}")
        if mag_field_uT is not None and not mag_field_uT > 0:
            raise ValidationError(f"mag_field_uT must be > 0, got {mag_field_uT}")
        self.sample_rate_hz = sample_rate_hz
        self.mag_field_uT = mag_field_uT
        self.stats = DecoderStats()
        self._layout = _LAYOUT[self.mode]
        self._clock = Unwrapper(32)
        self._t_first_us: int | None = None
        self._last_seq = -1
        self._acc_max = PLAUSIBLE_FACTOR * ACC_RANGE_G * GRAVITY_MPS2
        self._gyr_max_dps = PLAUSIBLE_FACTOR * GYR_RANGE_DPS

    @property
    def payload_size(self) -> int:
        return self._layout.size

    @property
    def pending_bytes(self) -> int:
        return 0

    def flush(self) -> list[Message]:
        return []

    def feed(self, data: bytes) -> list[Message]:
        """Decode one notification; a wrong length or implausible values drop it (counted)."""
        stats = self.stats
        n = len(data)
        stats.bytes_received += n
        if n != self._layout.size and n != MEDIUM_PAYLOAD_SIZE:
            stats.malformed_frames += 1
            stats.bytes_discarded += n
            return []
        fields = self._layout.unpack_from(data, 0)
        acc = fields[1:4]
        gyr = fields[4:7]
        if not (
            all(math.isfinite(v) and abs(v) <= self._acc_max for v in acc)
            and all(math.isfinite(v) and abs(v) <= self._gyr_max_dps for v in gyr)
        ):
            stats.malformed_frames += 1
            stats.bytes_discarded += n
            return []
        stats.frames_ok += 1
        stats.bytes_accepted += n
        stats.samples_decoded += 1
        resets = self._clock.resets
        t_us, behind = self._time_us(fields[0])
        restarted = self._clock.resets != resets
        if restarted:
            stats.extra["device_resets"] = stats.extra.get("device_resets", 0) + 1
        mag = None
        if self.mode is PayloadMode.RATE_QUANTITIES_WITH_MAG:
            if self.mag_field_uT is None:
                stats.extra["mag_unscaled_samples"] = stats.extra.get("mag_unscaled_samples", 0) + 1
            else:
                scale = MAG_PER_LSB * self.mag_field_uT
                mag = np.array([[v * scale for v in fields[7:10]]])
        return [
            SampleBlock(
                seq=self._seq(t_us, behind),
                t_device_us=np.array([t_us], dtype=np.int64),
                acc_mps2=np.array([acc], dtype=float),
                gyr_radps=np.radians(np.array([gyr], dtype=float)),
                mag_uT=mag,
                device_restarted=restarted,
            )
        ]

    def _time_us(self, raw: int) -> tuple[int, bool]:
        """The unwrapped timestamp, and whether it is not later than the newest so far — by at
        most :data:`REORDER_WINDOW_US`: the same packet again, or one overtaken on the link. Such
        a stamp leaves the clock where it is; a larger step back is a clock reset (reboot)."""
        if self._clock.started:
            near = self._clock.nearest(raw)
            if self._clock.last - REORDER_WINDOW_US <= near <= self._clock.last:
                return near, True
        return self._clock.unwrap(raw), False

    def _seq(self, t_us: int, behind: bool = False) -> np.ndarray | None:
        """Sample index from the time since the first sample (needs the rate); counts gaps. A
        sample ``behind`` the newest gets its own index (a duplicate's or a gap's, for the
        assembler to drop or put back) and changes nothing here."""
        if self.sample_rate_hz is None:
            return None
        if self._t_first_us is None:
            self._t_first_us = t_us
        seq = round((t_us - self._t_first_us) * self.sample_rate_hz / 1e6)
        if behind:
            return np.array([seq], dtype=np.int64)
        seq = max(seq, self._last_seq + 1)
        if self._last_seq >= 0:
            self.stats.samples_lost += seq - self._last_seq - 1
        self._last_seq = seq
        return np.array([seq], dtype=np.int64)
