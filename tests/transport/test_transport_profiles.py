"""The GATT UUIDs in ble_profiles agree with firmware_specs/gatt.md and with imugait.protocol."""

import re
from pathlib import Path

import pytest

from imugait.transport.ble_profiles import (
    IMUGAIT_V1,
    KNOWN_PROFILES,
    MOVELLA_DOT,
    WITMOTION_BLE5,
    profile_for_service_uuids,
)

GATT_MD = Path(__file__).resolve().parents[2] / "firmware_specs" / "gatt.md"


def _spec_rows() -> dict[str, list[str]]:
    rows = {}
    for line in GATT_MD.read_text().splitlines():
        uuids = re.findall(r"`([0-9a-f]{8}-[0-9a-f-]{27})`", line)
        if line.startswith("|") and uuids:
            rows[line.split("|")[1].strip()] = uuids
    return rows


@pytest.mark.skipif(not GATT_MD.exists(), reason=f"{GATT_MD} not found")
def test_profiles_match_the_gatt_spec():
    rows = _spec_rows()
    for device, profile in (
        ("imugait v1 node", IMUGAIT_V1),
        ("WitMotion WT901BLECL", WITMOTION_BLE5),
        ("Movella DOT", MOVELLA_DOT),
    ):
        service, notify, command = rows[device][:3]
        assert (profile.service_uuid, profile.notify_uuid, profile.command_uuid) == (
            service, notify, command
        ), device


def test_imugait_profile_matches_the_protocol_constants():
    protocol = pytest.importorskip("imugait.protocol.imugait_v1")
    assert IMUGAIT_V1.service_uuid == protocol.GATT_SERVICE_UUID.lower()
    assert IMUGAIT_V1.notify_uuid == protocol.GATT_DATA_UUID.lower()
    assert IMUGAIT_V1.command_uuid == protocol.GATT_COMMAND_UUID.lower()


def test_profile_lookup_by_advertised_service_is_case_insensitive():
    assert profile_for_service_uuids([WITMOTION_BLE5.service_uuid.upper()]) is WITMOTION_BLE5
    assert profile_for_service_uuids(["0000180f-0000-1000-8000-00805f9a34fb"]) is None
    assert len({p.service_uuid for p in KNOWN_PROFILES}) == len(KNOWN_PROFILES)
