"""GATT layouts of the BLE sensors imugait talks to — the one place their UUIDs live.

A profile says which service a sensor advertises, which characteristic notifies the data stream
and which one takes commands. Transports use it to find and subscribe; decoders (in
``imugait.protocol``) give the bytes meaning.

The values are those of ``firmware_specs/gatt.md`` (the protocol stage keeps the same numbers in
``imugait.protocol``; transports may not import it, so ``tests/transport`` checks that the two
and the spec agree).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BleProfile:
    """GATT UUIDs of one kind of sensor.

    Attributes
    ----------
    name : str
        Short protocol name (``"imugait_v1"``), also the name of its decoder.
    service_uuid : str
        Primary service, advertised by the sensor; lowercase 128-bit form.
    notify_uuid : str
        Characteristic that notifies the data stream.
    command_uuid : str or None
        Characteristic written with commands (``None``: the sensor takes none).
    """

    name: str
    service_uuid: str
    notify_uuid: str
    command_uuid: str | None = None

    def __post_init__(self) -> None:
        for field_name in ("service_uuid", "notify_uuid", "command_uuid"):
            value = getattr(self, field_name)
            if value is not None:
                object.__setattr__(self, field_name, value.lower())


_IMUGAIT_TAIL = "-15e5-4dce-aaad-eeb317d4d386"

IMUGAIT_V1 = BleProfile(
    name="imugait_v1",
    service_uuid="c0840001" + _IMUGAIT_TAIL,
    notify_uuid="c0840002" + _IMUGAIT_TAIL,
    command_uuid="c0840003" + _IMUGAIT_TAIL,
)
"""Our own sensors (firmware_specs/imugait_v1.md §7)."""

WITMOTION_BLE5 = BleProfile(
    name="witmotion",
    service_uuid="0000ffe5-0000-1000-8000-00805f9a34fb",
    notify_uuid="0000ffe4-0000-1000-8000-00805f9a34fb",
    command_uuid="0000ffe9-0000-1000-8000-00805f9a34fb",
)
"""WitMotion WT901BLECL (BLE 5.0); firmware_specs/supported_devices.md."""

_DOT_BASE = "-4947-11e9-8646-d663bd873d93"

MOVELLA_DOT = BleProfile(
    name="movella_dot",
    service_uuid="15172000" + _DOT_BASE,
    notify_uuid="15172003" + _DOT_BASE,  # medium payload (40 B); 0x2002 long, 0x2004 short
    command_uuid="15172001" + _DOT_BASE,
)
"""Movella (Xsens) DOT measurement service; source: Movella DOT BLE Service Specification."""

KNOWN_PROFILES: tuple[BleProfile, ...] = (IMUGAIT_V1, WITMOTION_BLE5, MOVELLA_DOT)


def profile_for_service_uuids(
    service_uuids: list[str] | tuple[str, ...], profiles: tuple[BleProfile, ...] = KNOWN_PROFILES
) -> BleProfile | None:
    """The first profile whose service UUID is among ``service_uuids`` (case-insensitive)."""
    advertised = {u.lower() for u in service_uuids}
    for profile in profiles:
        if profile.service_uuid in advertised:
            return profile
    return None
