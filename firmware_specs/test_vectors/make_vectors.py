"""Generate ``imugait_v1.json``: wire frames of the imugait v1 protocol with their decoded values.

Run from the repository root::

    .venv/bin/python firmware_specs/test_vectors/make_vectors.py

The frames are built with the spec constants and encoder in ``imugait.protocol.imugait_v1`` and
decoded with its decoder; ``tests/protocol/test_vectors.py`` checks that the file is up to date,
and checks two of the frames against the bytes worked out by hand in ``imugait_v1.md``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, fields, is_dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from imugait.protocol.imugait_v1 import (
    DeviceInfoV1,
    ImugaitV1Decoder,
    StatusFlag,
    encode_ack,
    encode_command,
    encode_data_raw,
    encode_device_info,
    encode_status,
)
from imugait.protocol.messages import AckResult, CommandCode

OUT = Path(__file__).with_name("imugait_v1.json")

EXAMPLE_INFO = DeviceInfoV1(
    device_id=0x0123456789ABCDEF,
    model="nano33-lsm9ds1",
    firmware="1.0.0",
    sample_rate_hz=100.0,
    acc_range_g=16,
    gyr_range_dps=2000,
    mag_range_uT=1600,
)
PERIOD_NS = 10_000_000


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Enum):
        return value.name
    if is_dataclass(value):
        out = {"type": type(value).__name__}
        out.update({f.name: _jsonable(getattr(value, f.name)) for f in fields(value)})
        return out
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def _ramp(n: int, start: int, step: int) -> np.ndarray:
    return (start + step * np.arange(n * 3)).reshape(n, 3).astype(np.int16)


def vectors() -> list[dict]:
    one_g = 32768 // EXAMPLE_INFO.acc_range_g  # 2048 counts = 1 g at ±16 g
    hand_data = encode_data_raw(1, 1000, PERIOD_NS, [[0, 0, one_g]], [[0, 0, 0]])
    good_data = encode_data_raw(7, 20_000, PERIOD_NS, _ramp(2, -300, 111), _ramp(2, 40, -17))
    bad_crc = bytearray(good_data)
    bad_crc[-2] ^= 0x01  # the last CRC byte before the delimiter (never a COBS code byte here)
    cases = [
        (
            "status_hand",
            "STATUS worked out by hand in imugait_v1.md §Worked examples",
            None,
            [encode_status(85, StatusFlag.IMU_FAULT | StatusFlag.LOW_BATTERY)],
        ),
        (
            "data_hand",
            "one-sample DATA (+1 g on z) worked out by hand in imugait_v1.md",
            EXAMPLE_INFO,
            [hand_data],
        ),
        (
            "device_info",
            "DEVICE_INFO of the example device",
            None,
            [encode_device_info(EXAMPLE_INFO)],
        ),
        (
            "info_then_data",
            "DEVICE_INFO then a two-sample DATA block",
            None,
            [encode_device_info(EXAMPLE_INFO), good_data],
        ),
        (
            "data_with_mag",
            "three samples with magnetometer",
            EXAMPLE_INFO,
            [
                encode_data_raw(
                    100,
                    5_000_000,
                    PERIOD_NS,
                    _ramp(3, 1000, -333),
                    _ramp(3, -5, 3),
                    _ramp(3, 300, 25),
                )
            ],
        ),
        (
            "seq_and_clock_wrap",
            "two blocks across the u32 wrap of seq and µs clock",
            EXAMPLE_INFO,
            [
                encode_data_raw(2**32 - 1, 2**32 - 5000, PERIOD_NS, _ramp(1, 1, 1), _ramp(1, 2, 2)),
                encode_data_raw(0, 5000, PERIOD_NS, _ramp(1, 3, 1), _ramp(1, 4, 2)),
            ],
        ),
        (
            "sequence_gap",
            "5 samples lost between two blocks",
            EXAMPLE_INFO,
            [
                encode_data_raw(10, 0, PERIOD_NS, _ramp(2, 0, 1), _ramp(2, 0, 1)),
                encode_data_raw(17, 70_000, PERIOD_NS, _ramp(1, 0, 1), _ramp(1, 0, 1)),
            ],
        ),
        (
            "bad_crc",
            "DATA block with one CRC bit flipped: dropped, counted",
            EXAMPLE_INFO,
            [bytes(bad_crc)],
        ),
        (
            "garbage_then_frame",
            "3 garbage bytes glued before a STATUS frame",
            None,
            [bytes.fromhex("123456"), encode_status(None, 0)],
        ),
        (
            "command_set_rate",
            "COMMAND SET_RATE 208 Hz, token 42",
            None,
            [encode_command(CommandCode.SET_RATE, 42, 208.0)],
        ),
        ("command_start", "COMMAND START, token 1", None, [encode_command(CommandCode.START, 1)]),
        (
            "ack_busy",
            "ACK of SET_RATE token 42: BUSY",
            None,
            [encode_ack(CommandCode.SET_RATE, 42, AckResult.BUSY)],
        ),
    ]
    out = []
    for name, description, info, parts in cases:
        wire = b"".join(parts)
        decoder = ImugaitV1Decoder(info)
        messages = decoder.feed(wire)
        stats = asdict(decoder.stats)
        out.append(
            {
                "name": name,
                "description": description,
                "decoder_info": None if info is None else asdict(info),
                "hex": wire.hex(),
                "messages": _jsonable(messages),
                "stats": {k: v for k, v in stats.items() if v},
            }
        )
    return out


def main() -> None:
    doc = {
        "protocol": "imugait v1",
        "spec": "firmware_specs/imugait_v1.md",
        "generated_by": "firmware_specs/test_vectors/make_vectors.py",
        "notes": "hex is the exact byte stream (COBS frames with 0x00 delimiters); decode it with "
        "a fresh decoder that already knows decoder_info (null: no DEVICE_INFO known); floats "
        "in SI units, compare with a relative tolerance of 1e-12.",
        "gravity_mps2": 9.80665,
        "deg_to_rad": math.pi / 180,
        "vectors": vectors(),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(doc['vectors'])} vectors to {OUT}")


if __name__ == "__main__":
    main()
