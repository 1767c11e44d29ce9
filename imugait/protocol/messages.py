"""What every decoder emits, whatever the vendor: SI units, the device's own clock.

Decoders are pure and incremental: ``decoder.feed(chunk) -> list[Message]`` for any chunking of
the byte stream; they resynchronise after garbage and count what they dropped in ``stats``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from imugait.model import GyroSampling


@dataclass(frozen=True, eq=False)
class SampleBlock:
    """Consecutive samples from one device.

    Attributes
    ----------
    seq : (n,) int64, per-sample sequence counter, already unwrapped to a monotonic count by the
        decoder when the wire counter wraps; ``None`` when the protocol has no counter.
    t_device_us : (n,) int64, µs on the device clock (unwrapped), or ``None`` when the protocol
        carries no timestamp (then acquisition stamps samples on arrival).
    acc_mps2, gyr_radps : (n, 3) float64, sensor frame.
    mag_uT : (n, 3) float64 or None.
    q_world_sensor : (n, 4) float64 scalar first, or None (vendor orientation output).
    device_restarted : the device restarted (rebooted) just before this block: its counter and
        clock started again, so however the decoder continued them, the time between the block
        before and this one is unknown — the host's clock mapping starts afresh here.
    """

    seq: np.ndarray | None
    t_device_us: np.ndarray | None
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    mag_uT: np.ndarray | None = None
    q_world_sensor: np.ndarray | None = None
    device_restarted: bool = False

    @property
    def n_samples(self) -> int:
        return int(self.acc_mps2.shape[0])


@dataclass(frozen=True)
class DeviceAnnouncement:
    """A device's description of itself (our protocol's info message; vendor constants otherwise)."""

    device_id: str
    model: str
    firmware: str
    sample_rate_hz: float
    acc_range_mps2: float
    gyr_range_radps: float
    mag_range_uT: float | None = None
    gyr_sampling: GyroSampling = GyroSampling.INSTANT
    """What a gyroscope sample stands for in time (a vendor constant; ``DeviceInfo.gyr_sampling``)."""


@dataclass(frozen=True)
class DeviceStatus:
    battery_percent: float | None = None
    error_flags: int = 0
    flag_names: tuple[str, ...] = ()


class CommandCode(IntEnum):
    """Commands a host sends to a device (our protocol; values are the wire opcodes)."""

    START = 0x01
    STOP = 0x02
    SET_RATE = 0x03
    REQUEST_INFO = 0x04


class AckResult(IntEnum):
    """A device's answer to a command (values are the wire codes)."""

    OK = 0x00
    UNKNOWN_COMMAND = 0x01
    INVALID_ARGUMENT = 0x02
    BUSY = 0x03
    FAILED = 0x04


@dataclass(frozen=True)
class Command:
    """A host-to-device command; ``token`` (0–255) is echoed in the :class:`CommandAck`."""

    code: CommandCode
    token: int
    sample_rate_hz: float | None = None
    """Only for ``SET_RATE``: the requested output rate."""


@dataclass(frozen=True)
class CommandAck:
    """A device's acknowledgement of the command with the same ``token`` and ``code``."""

    code: CommandCode
    token: int
    result: AckResult

    @property
    def ok(self) -> bool:
        return self.result is AckResult.OK


Message = SampleBlock | DeviceAnnouncement | DeviceStatus | Command | CommandAck


@dataclass
class DecoderStats:
    """What a decoder saw and dropped; counts only ever grow."""

    bytes_received: int = 0
    bytes_accepted: int = 0
    """Bytes that belonged to decoded frames (delimiters included).

    Always ``bytes_received == bytes_accepted + bytes_discarded + decoder.pending_bytes``.
    """
    frames_ok: int = 0
    crc_failures: int = 0
    malformed_frames: int = 0
    bytes_discarded: int = 0
    samples_decoded: int = 0
    samples_lost: int = 0
    """Sequence-counter gaps between consecutive decoded samples."""
    extra: dict[str, int] = field(default_factory=dict)
