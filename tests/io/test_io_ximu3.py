"""x-IMU3 GUI CSV logs: a cut of x-io's real example recording, and logs made from its layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from vendor_fixtures import G, swing, write_ximu3_device

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io._devices import ClockMode
from imugait.io.ximu3 import read_ximu3

REAL = Path(__file__).parent / "fixtures" / "ximu3"


def test_real_example_recording():
    s = read_ximu3(REAL, {Placement.LEFT_THIGH: "F7E4-5410-EC7B-D7E7"}, subject_id="x1")
    st = s[Placement.LEFT_THIGH]
    assert st.n_samples == 40 and st.gaps == ()
    assert st.sample_rate_hz == pytest.approx(50.06, abs=0.01)  # 19.976 ms device-clock steps
    assert st.t_s[0] == 0.0 and st.t_s[1] == pytest.approx(0.019976)
    np.testing.assert_allclose(st.acc_mps2[0], np.array([0.000092, 0.031777, 1.007784]) * G)  # g -> m/s²
    np.testing.assert_allclose(st.gyr_radps[0], np.deg2rad([0.212382, -0.027105, 0.072782]))  # °/s -> rad/s
    assert st.q_world_sensor is not None and st.mag_uT is None  # quaternion kept, magnetometer not imported
    assert st.device.device_id == "F7E4-5410-EC7B-D7E7" and st.device.protocol == "x-imu3-csv"
    assert s.meta.recorded_at == "2022-08-11T12:03:39" and s.meta.source == "import:x-imu3"


def test_two_devices_on_one_clock(tmp_path):
    m1, m2 = swing(rate_hz=100.0), swing(rate_hz=100.0, axis=(1, 0, 0))
    write_ximu3_device(tmp_path, "AAAA-0001", m1)
    write_ximu3_device(tmp_path, "BBBB-0002", m2, t0_us=34_290_905 + 25_000)
    s = read_ximu3(tmp_path, {Placement.RIGHT_THIGH: "aaaa-0001", Placement.RIGHT_SHANK: "BBBB-0002"})
    assert s[Placement.RIGHT_SHANK].t_s[0] == pytest.approx(0.025)
    np.testing.assert_allclose(s[Placement.RIGHT_SHANK].gyr_radps, m2.gyr_radps, atol=1e-7)
    np.testing.assert_allclose(s[Placement.RIGHT_THIGH].q_world_sensor, m1.q, atol=2e-6)
    start = read_ximu3(tmp_path, {Placement.RIGHT_THIGH: "AAAA-0001", Placement.RIGHT_SHANK: "BBBB-0002"},
                       clock=ClockMode.START)
    assert start[Placement.RIGHT_SHANK].t_s[0] == 0.0


def test_clocks_far_apart_are_refused(tmp_path):
    write_ximu3_device(tmp_path, "AAAA-0001", swing())
    write_ximu3_device(tmp_path, "BBBB-0002", swing(), t0_us=900_000_000)
    with pytest.raises(FormatError, match="--clock start"):
        read_ximu3(tmp_path, {Placement.LEFT_THIGH: "AAAA-0001", Placement.LEFT_SHANK: "BBBB-0002"})


def test_ned_quaternion_is_left_out_with_a_note(tmp_path):
    m = swing()
    flip = np.array([0.0, 1.0, 0.0, 0.0])  # 180° about x: z down
    from imugait.quaternion import quat_multiply
    write_ximu3_device(tmp_path, "AAAA-0001", m, quat=quat_multiply(np.broadcast_to(flip, m.q.shape), m.q))
    s = read_ximu3(tmp_path, {Placement.LEFT_THIGH: "AAAA-0001"})
    assert s[Placement.LEFT_THIGH].q_world_sensor is None
    assert "does not turn gravity to +z" in s.meta.notes


def test_wrong_columns_and_truncation(tmp_path):
    d = write_ximu3_device(tmp_path, "AAAA-0001", swing(n=50))
    text = (d / "Inertial.csv").read_text()
    (d / "Inertial.csv").write_text(text.rstrip("\n")[:-4])  # last row cut mid-value
    s = read_ximu3(tmp_path, {Placement.LEFT_THIGH: "AAAA-0001"})
    assert s[Placement.LEFT_THIGH].n_samples == 49 and "truncated" in s.meta.notes
    (d / "Inertial.csv").write_text(text.replace("Accelerometer Z (g)", "Accel Z"))
    with pytest.raises(FormatError, match=r"no Accelerometer Z \(g\) column"):
        read_ximu3(tmp_path, {Placement.LEFT_THIGH: "AAAA-0001"})
    (d / "Inertial.csv").write_text(text)
    with pytest.raises(ValidationError, match="no device matches 'CCCC'"):
        read_ximu3(tmp_path, {Placement.LEFT_THIGH: "CCCC"})


def test_other_files_in_the_folder_do_not_matter(tmp_path):
    write_ximu3_device(tmp_path, "AAAA-0001", swing())
    broken = write_ximu3_device(tmp_path, "BBBB-0002", swing())
    (broken / "Inertial.csv").write_text("garbage\n")
    assert read_ximu3(tmp_path, {Placement.LEFT_THIGH: "AAAA-0001"})[Placement.LEFT_THIGH].n_samples == 300


def test_file_time_stands_in_and_is_noted_when_no_time(tmp_path):
    """The time Command.json states is the recording time; without it the file's time stands in
    and the notes say so."""
    import json

    from imugait.model import FILE_TIME_NOTE

    d = write_ximu3_device(tmp_path, "AAAA-0001", swing(rate_hz=100.0))
    pmap = {Placement.LEFT_THIGH: "AAAA-0001"}
    stated = read_ximu3(tmp_path, pmap)
    assert stated.meta.recorded_at == "2024-05-06T10:11:12" and not stated.meta.recorded_at_is_file_time
    (d / "Command.json").write_text(json.dumps([json.loads((d / "Command.json").read_text())[0]]))
    copied = read_ximu3(tmp_path, pmap)
    assert copied.meta.recorded_at_is_file_time and FILE_TIME_NOTE in copied.meta.notes
    assert copied.meta.recorded_at != "2024-05-06T10:11:12"
