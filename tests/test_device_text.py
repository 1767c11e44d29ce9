"""Device-supplied names (BLE advertisements, announcements, vendor file headers) are untrusted text."""

from imugait.acquisition.discovery import FoundSensor
from imugait.acquisition.sources import SourceKind
from imugait.model import MAX_DEVICE_TEXT_CHARS, DeviceInfo, device_text

HOSTILE = "IMU\x1b]0;owned\x07\x1b[2J\r\nfake line\u202e\x00"


def test_control_and_escape_characters_never_survive():
    cleaned = device_text(HOSTILE)
    assert all(c.isprintable() for c in cleaned), repr(cleaned)
    assert cleaned.startswith("IMU?]0;owned??[2J??fake line")


def test_long_names_are_cut_and_say_so():
    cleaned = device_text("x" * 500)
    assert len(cleaned) == MAX_DEVICE_TEXT_CHARS and cleaned.endswith("…")
    assert device_text("  WT901BLE67 ") == "WT901BLE67"


def test_device_info_and_scan_results_clean_what_the_device_says():
    info = DeviceInfo(device_id=HOSTILE, model=HOSTILE, firmware="1.2\n")
    assert "\x1b" not in info.device_id + info.model and info.firmware == "1.2"
    found = FoundSensor(SourceKind.BLE, "AA:BB:CC:DD:EE:FF", "witmotion_ble", name=HOSTILE, model="\x1b[31mred")
    assert "\x1b" not in found.name + found.model and found.model == "?[31mred"
