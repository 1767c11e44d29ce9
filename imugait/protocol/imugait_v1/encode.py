"""imugait wire protocol v1, encoder: what a firmware (or the emulator) sends.

Every ``encode_*`` function returns a complete wire frame: ``COBS(payload ‖ CRC) ‖ 0x00``.
"""

from __future__ import annotations

import numpy as np

from imugait.errors import ValidationError
from imugait.protocol.framing import encode_frame
from imugait.protocol.imugait_v1.spec import (
    ACK_BODY,
    BATTERY_UNKNOWN,
    COMMAND_BODY,
    DATA_HEADER,
    INFO_FIXED,
    MAX_SAMPLES_PER_BLOCK,
    MAX_STRING_BYTES,
    PROTOCOL_VERSION,
    RATE_ARG,
    STATUS_BODY,
    DataFlags,
    DeviceInfoV1,
    MessageType,
)
from imugait.protocol.messages import AckResult, Command, CommandAck, CommandCode, DeviceStatus


def _check_int(name: str, value: int, lo: int, hi: int) -> int:
    if not lo <= int(value) <= hi:
        raise ValidationError(f"{name}={value} is outside the wire range {lo}..{hi}")
    return int(value)


def _frame(kind: MessageType, body: bytes) -> bytes:
    return encode_frame(bytes((PROTOCOL_VERSION, kind)) + body)


def encode_device_info(info: DeviceInfoV1) -> bytes:
    """Complete wire frame (COBS, CRC, delimiter) of a DEVICE_INFO message."""
    model = info.model.encode("utf-8")
    firmware = info.firmware.encode("utf-8")
    for name, text in (("model", model), ("firmware", firmware)):
        if len(text) > MAX_STRING_BYTES:
            raise ValidationError(f"{name} is {len(text)} bytes in UTF-8; at most 255 fit")
    rate_millihz = round(info.sample_rate_hz * 1000)
    body = INFO_FIXED.pack(
        _check_int("device_id", info.device_id, 0, 2**64 - 1),
        _check_int("sample_rate_millihz", rate_millihz, 1, 2**32 - 1),
        _check_int("acc_range_g", info.acc_range_g, 1, 0xFFFF),
        _check_int("gyr_range_dps", info.gyr_range_dps, 1, 0xFFFF),
        _check_int("mag_range_uT", info.mag_range_uT, 0, 0xFFFF),
    )
    body += bytes((len(model),)) + model + bytes((len(firmware),)) + firmware
    return _frame(MessageType.DEVICE_INFO, body)


def encode_data_raw(
    seq_first: int,
    t_first_us: int,
    sample_period_ns: int,
    acc_raw: np.ndarray,
    gyr_raw: np.ndarray,
    mag_raw: np.ndarray | None = None,
) -> bytes:
    """Complete wire frame of a DATA block from raw int16 counts.

    Parameters
    ----------
    seq_first, t_first_us : counter and device time (µs) of the first sample; any non-negative
        int, sent modulo 2³² (the decoder unwraps them).
    sample_period_ns : spacing of the samples on the device clock, ns (u32, > 0).
    acc_raw, gyr_raw : (n, 3) int16 counts, sensor frame; 1 ≤ n ≤ 255.
    mag_raw : (n, 3) int16 counts or None.
    """
    acc = np.asarray(acc_raw)
    gyr = np.asarray(gyr_raw)
    n = acc.shape[0] if acc.ndim == 2 else -1
    columns = [acc, gyr] if mag_raw is None else [acc, gyr, np.asarray(mag_raw)]
    if n < 1 or any(c.shape != (n, 3) for c in columns):
        shapes = ", ".join(str(c.shape) for c in columns)
        raise ValidationError(f"DATA block needs (n, 3) arrays of equal n ≥ 1; got {shapes}")
    _check_int("n_samples", n, 1, MAX_SAMPLES_PER_BLOCK)
    _check_int("sample_period_ns", sample_period_ns, 1, 2**32 - 1)
    stacked = np.concatenate(columns, axis=1)
    if stacked.min() < -32768 or stacked.max() > 32767:
        raise ValidationError("raw DATA counts must fit int16 (-32768..32767)")
    flags = DataFlags.MAG if mag_raw is not None else DataFlags(0)
    header = DATA_HEADER.pack(
        flags, n, int(seq_first) & 0xFFFFFFFF, int(t_first_us) & 0xFFFFFFFF, sample_period_ns
    )
    return _frame(MessageType.DATA, header + stacked.astype("<i2").tobytes())


def quantise(values: np.ndarray, per_lsb: float) -> np.ndarray:
    """Physical values → int16 counts (rounded, clipped to the int16 range)."""
    return np.clip(np.rint(np.asarray(values, dtype=float) / per_lsb), -32768, 32767).astype(
        np.int16
    )


def encode_data(
    info: DeviceInfoV1,
    seq_first: int,
    t_first_us: int,
    acc_mps2: np.ndarray,
    gyr_radps: np.ndarray,
    mag_uT: np.ndarray | None = None,
    sample_period_ns: int | None = None,
) -> bytes:
    """Complete wire frame of a DATA block from SI values, quantised with ``info``'s ranges.

    Parameters
    ----------
    acc_mps2 : (n, 3) m/s², sensor frame.  gyr_radps : (n, 3) rad/s.  mag_uT : (n, 3) µT or None
        (needs ``info.mag_range_uT > 0``).
    sample_period_ns : defaults to the nominal period of ``info.sample_rate_hz``.
    """
    if mag_uT is not None and info.mag_range_uT <= 0:
        raise ValidationError("mag_uT given but the device info announces no magnetometer")
    return encode_data_raw(
        seq_first,
        t_first_us,
        info.sample_period_ns if sample_period_ns is None else sample_period_ns,
        quantise(acc_mps2, info.acc_mps2_per_lsb),
        quantise(gyr_radps, info.gyr_radps_per_lsb),
        None if mag_uT is None else quantise(mag_uT, info.mag_uT_per_lsb),
    )


def encode_status(battery_percent: int | None, error_flags: int = 0) -> bytes:
    """Complete wire frame of a STATUS message (``battery_percent`` None = unknown)."""
    battery = BATTERY_UNKNOWN if battery_percent is None else battery_percent
    if battery != BATTERY_UNKNOWN:
        _check_int("battery_percent", battery, 0, 100)
    body = STATUS_BODY.pack(battery, _check_int("error_flags", error_flags, 0, 0xFFFF))
    return _frame(MessageType.STATUS, body)


def encode_command(code: CommandCode, token: int, sample_rate_hz: float | None = None) -> bytes:
    """Complete wire frame of a COMMAND (host → device); SET_RATE needs ``sample_rate_hz``."""
    body = COMMAND_BODY.pack(_check_int("token", token, 0, 255), CommandCode(code))
    if code is CommandCode.SET_RATE:
        if sample_rate_hz is None:
            raise ValidationError("SET_RATE needs sample_rate_hz")
        millihz = _check_int("sample_rate_millihz", round(sample_rate_hz * 1000), 1, 2**32 - 1)
        body += RATE_ARG.pack(millihz)
    return _frame(MessageType.COMMAND, body)


def encode_ack(code: CommandCode, token: int, result: AckResult = AckResult.OK) -> bytes:
    """Complete wire frame of an ACK (device → host) answering command ``code``/``token``."""
    body = ACK_BODY.pack(_check_int("token", token, 0, 255), CommandCode(code), AckResult(result))
    return _frame(MessageType.ACK, body)


def encode_message(message: Command | CommandAck | DeviceStatus) -> bytes:
    """Wire frame of a vendor-neutral control message (convenience for emulators/hosts)."""
    if isinstance(message, Command):
        return encode_command(message.code, message.token, message.sample_rate_hz)
    if isinstance(message, CommandAck):
        return encode_ack(message.code, message.token, message.result)
    if isinstance(message, DeviceStatus):
        battery = None if message.battery_percent is None else round(message.battery_percent)
        return encode_status(battery, message.error_flags)
    raise ValidationError(f"cannot encode {type(message).__name__} as a control message")
