"""Where a live sensor's bytes come from and how the host talks to its protocol.

:class:`SensorSource` names one sensor (placement, serial path or BLE address, protocol);
:data:`PROTOCOLS` holds, per protocol, its decoders and the commands that start streaming. Live
acquisition (:mod:`imugait.live.acquisition`) and discovery (:mod:`imugait.acquisition.discovery`)
share them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.protocol.base import Decoder
from imugait.protocol.imugait_v1 import ImugaitV1Decoder, encode_command
from imugait.protocol.messages import CommandCode
from imugait.protocol.movella_dot import MovellaDotDecoder, PayloadMode, control_command
from imugait.protocol.witmotion import WitMotionBleDecoder, WitMotionSerialDecoder


class SourceKind(Enum):
    SERIAL = "serial"
    BLE = "ble"


@dataclass(frozen=True)
class ProtocolSupport:
    """How the host talks to one protocol: its decoders and what to write once connected."""

    name: str
    serial_decoder: Callable[[], Decoder] | None
    ble_decoder: Callable[[], Decoder] | None
    start_commands: Callable[[], list[bytes]] = list


def _imugait_v1_start() -> list[bytes]:
    # Ask for DEVICE_INFO (a host that attached late has missed it), then start streaming.
    return [encode_command(CommandCode.REQUEST_INFO, 1), encode_command(CommandCode.START, 2)]


PROTOCOLS: dict[str, ProtocolSupport] = {
    p.name: p for p in (
        ProtocolSupport("imugait_v1", ImugaitV1Decoder, ImugaitV1Decoder, _imugait_v1_start),
        ProtocolSupport("witmotion", WitMotionSerialDecoder, WitMotionBleDecoder),
        ProtocolSupport("movella_dot", None, MovellaDotDecoder,
                        lambda: [control_command(True, PayloadMode.RATE_QUANTITIES_WITH_MAG)]),
    )
}
"""Protocols live acquisition can decode, by name (the names of ``ble_profiles``)."""


@dataclass(frozen=True)
class SensorSource:
    """Where one sensor's bytes come from.

    Attributes
    ----------
    placement : where the sensor is worn.
    kind : serial port or BLE device.
    address : serial path (or pyserial URL), or BLE address.
    protocol : a key of :data:`PROTOCOLS`.
    ble_device : the ``BLEDevice`` from a scan (preferred over the bare address for BLE).
    baud_rate : serial line rate (ignored by USB CDC and ptys).
    adapter : BlueZ adapter for BLE (``"hci0"``).
    """

    placement: Placement
    kind: SourceKind
    address: str
    protocol: str = "imugait_v1"
    ble_device: Any = None
    baud_rate: int = 921_600
    adapter: str | None = None

    def __post_init__(self) -> None:
        support = PROTOCOLS.get(self.protocol)
        if support is None:
            raise ValidationError(f"{self.placement.value}: unknown protocol {self.protocol!r}; "
                                  f"supported: {', '.join(PROTOCOLS)}")
        if (support.serial_decoder if self.kind is SourceKind.SERIAL else support.ble_decoder) is None:
            raise ValidationError(f"{self.placement.value}: protocol {self.protocol} is not spoken over {self.kind.value}")
