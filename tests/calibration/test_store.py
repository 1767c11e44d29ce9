import dataclasses
import json

import numpy as np
import pytest

from imugait.calibration import (
    CalibrationStore,
    ImuCalibration,
    calibration_filename,
    read_calibration,
    write_calibration,
)
from imugait.conventions import Placement
from imugait.errors import CalibrationError, FormatError, ValidationError
from imugait.model import DeviceInfo, Session, SessionMeta


def _fields_equal(a: ImuCalibration, b: ImuCalibration) -> bool:
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray):
            if not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


def test_round_trip_is_exact(tmp_path, six_result):
    cal = six_result.calibration
    path = write_calibration(cal, tmp_path / "calibration")
    assert path == tmp_path / "calibration" / f"{cal.device_id}.json"
    back = read_calibration(path)
    assert _fields_equal(cal, back)
    assert back.mag_calibrated and back.format_version == 1
    assert not list(path.parent.glob(".*.tmp"))  # atomic write left nothing behind


def test_round_trip_without_magnetometer(tmp_path, six_result):
    cal = dataclasses.replace(
        six_result.calibration, mag_hard_iron_uT=np.zeros(3), mag_soft_iron=np.eye(3), mag_field_uT=None,
        mag_residual_rms_uT=None, mag_coverage=None,
    )
    back = read_calibration(write_calibration(cal, tmp_path))
    assert not back.mag_calibrated and _fields_equal(cal, back)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda text: text[: len(text) // 2], "is not valid JSON"),
        (lambda text: "[]", "is not an imugait IMU calibration"),
        (lambda text: text.replace('"format_version": 1', '"format_version": 7'), "format version 7; .*upgrade imugait"),
        (lambda text: text.replace('"n_positions": 6', '"n_positions": "six"'), "'n_positions' has the wrong type"),
        (lambda text: text.replace('"device_id"', '"device"'), "field 'device_id' is missing"),
        (lambda text: _edit(text, "acc_correction", [[1, 0], [0, 1]]), r"'acc_correction' must have shape \(3, 3\)"),
        (lambda text: _edit(text, "acc_correction", [[0, 0, 0]] * 3), "acc_correction is singular"),
        (lambda text: _edit(text, "created_at", "yesterday"), "ISO 8601"),
    ],
)
def test_bad_files_raise_format_error(tmp_path, six_result, mutate, message):
    path = write_calibration(six_result.calibration, tmp_path)
    path.write_text(mutate(path.read_text()))
    with pytest.raises(FormatError, match=message) as err:
        read_calibration(path)
    assert path.name in str(err.value)


def _edit(text: str, key: str, value) -> str:
    d = json.loads(text)
    d[key] = value
    return json.dumps(d)


def test_missing_file(tmp_path):
    with pytest.raises(FormatError, match="no such calibration file"):
        read_calibration(tmp_path / "nope.json")


def test_filenames_are_safe_and_distinct():
    assert calibration_filename("SIM-IMU-0001") == "SIM-IMU-0001.json"
    assert calibration_filename("dot.v2_A") == "dot.v2_A.json"
    names = {calibration_filename(i) for i in ("BT 00:1A/7", "BT_00_1A_7", "BT 00:1A:7", "../../etc/passwd", ".hidden")}
    assert len(names) == 5
    for name in names:
        assert "/" not in name and ":" not in name and " " not in name and not name.startswith(".")
    assert calibration_filename("../../etc/passwd").startswith("etc_passwd-")


def test_store_applies_by_device_id(tmp_path, six, six_result):
    stream, _ = six
    store = CalibrationStore(tmp_path / "calibration")
    assert store.load(stream.device.device_id) is None
    store.save(six_result.calibration)
    other = type(stream)(
        placement=Placement.RIGHT_SHANK, t_s=stream.t_s, acc_mps2=stream.acc_mps2, gyr_radps=stream.gyr_radps,
        sample_rate_hz=stream.sample_rate_hz, device=DeviceInfo(device_id="NOT-CALIBRATED"),
    )
    session = Session([stream, other], SessionMeta(notes="test"))
    applied = store.apply_to_session(session)
    assert applied.corrected == {Placement.LEFT_THIGH: store.path_for(stream.device.device_id)}
    assert applied.uncalibrated == (Placement.RIGHT_SHANK,)
    expected = six_result.calibration.apply(stream)
    np.testing.assert_array_equal(applied.session[Placement.LEFT_THIGH].acc_mps2, expected.acc_mps2)
    np.testing.assert_array_equal(applied.session[Placement.LEFT_THIGH].mag_uT, expected.mag_uT)
    np.testing.assert_array_equal(applied.session[Placement.RIGHT_SHANK].acc_mps2, other.acc_mps2)
    assert "intrinsic calibration applied: left_thigh" in applied.session.meta.notes


def test_store_refuses_a_file_of_another_device(tmp_path, six_result):

    store = CalibrationStore(tmp_path)
    path = store.save(six_result.calibration)
    path.rename(store.path_for("OTHER"))
    with pytest.raises(FormatError, match="holds the calibration of device"):
        store.load("OTHER")


def test_apply_refuses_another_device(six, six_result):
    stream, _ = six
    foreign = dataclasses.replace(stream, device=DeviceInfo(device_id="SOMEONE-ELSE"))
    with pytest.raises(CalibrationError, match="cannot be applied to data from device 'SOMEONE-ELSE'"):
        six_result.calibration.apply(foreign)
    assert six_result.calibration.apply(foreign, check_device=False).n_samples == stream.n_samples


def test_calibration_validates_its_fields(six_result):
    with pytest.raises(ValidationError, match="gyr_bias_radps"):
        dataclasses.replace(six_result.calibration, gyr_bias_radps=np.zeros(2))
