"""Xsens MT Manager text import: counters, gaps, broken files, the real dataset."""

from __future__ import annotations

import numpy as np
import pytest
from io_helpers import assert_same_session, write_xsens

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io import parse_placement_map, read_session, write_session
from imugait.io.xsens import (
    XSENS_MAG_NOMINAL_UT,
    device_id_from_name,
    find_sensor_file,
    read_xsens_dir,
    read_xsens_file,
)
from imugait.model import Gap

LEFT = {Placement.LEFT_THIGH: "00B40C45"}


def test_plain_file(tmp_path):
    data = write_xsens(tmp_path / "MT_00B40C45_000.txt", np.arange(1000, 1100), quat=True)
    s = read_xsens_dir(tmp_path, LEFT, subject_id="x1")
    st = s[Placement.LEFT_THIGH]
    assert st.n_samples == 100 and st.sample_rate_hz == 100.0 and st.gaps == ()
    np.testing.assert_allclose(st.t_s, np.arange(100) / 100.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(st.acc_mps2, data[:, 0:3])
    np.testing.assert_array_equal(st.gyr_radps, data[:, 3:6])
    np.testing.assert_allclose(st.mag_uT, data[:, 6:9] * XSENS_MAG_NOMINAL_UT, rtol=1e-15)
    np.testing.assert_array_equal(st.q_world_sensor, data[:, 9:13])
    assert st.device.device_id == "00B40C45" and st.device.mag_normalised
    assert st.device.firmware == "4.3.1"
    assert s.meta.subject_id == "x1" and s.meta.source == "import:xsens"


def test_counter_wrap_is_unwrapped(tmp_path):
    counter = np.arange(65530, 65530 + 20) % 65536
    write_xsens(tmp_path / "00B40C45.txt", counter)
    st = read_xsens_dir(tmp_path, LEFT)[Placement.LEFT_THIGH]
    assert st.gaps == ()
    np.testing.assert_allclose(np.diff(st.t_s), 0.01, rtol=1e-9)
    assert st.t_s[-1] == pytest.approx(0.19, abs=1e-12)


def test_gaps_are_recorded_not_interpolated(tmp_path):
    # lost 1003..1006 (4 samples) and, across the wrap, 65535 and 0 (2 samples)
    counter = np.r_[1000:1003, 1007:1010]
    counter2 = np.r_[65532:65535, 1:4]
    data = write_xsens(tmp_path / "a_00B40C45.txt", counter)
    write_xsens(tmp_path / "b_00B40C46.txt", counter2, seed=1)
    s = read_xsens_dir(tmp_path, {Placement.LEFT_THIGH: "00B40C45", Placement.RIGHT_THIGH: "00B40C46"})
    st = s[Placement.LEFT_THIGH]
    assert st.n_samples == 6
    assert st.gaps == (Gap(after_index=2, n_lost=4),)
    np.testing.assert_allclose(st.t_s - st.t_s[0], [0, 0.01, 0.02, 0.07, 0.08, 0.09], atol=1e-12)
    np.testing.assert_array_equal(st.acc_mps2, data[:, :3])
    assert s[Placement.RIGHT_THIGH].gaps == (Gap(after_index=2, n_lost=2),)
    assert s[Placement.RIGHT_THIGH].n_lost_total == 2


def test_sensors_share_the_counter_clock_across_a_wrap(tmp_path):
    write_xsens(tmp_path / "MT_00B40C45.txt", np.arange(65534, 65544) % 65536)
    write_xsens(tmp_path / "MT_00B40C46.txt", np.arange(65537, 65547) % 65536, seed=2)
    s = read_xsens_dir(tmp_path, {Placement.LEFT_SHANK: "00b40c45", Placement.RIGHT_SHANK: "00B40C46"})
    assert s[Placement.LEFT_SHANK].t_s[0] == 0.0
    assert s[Placement.RIGHT_SHANK].t_s[0] == pytest.approx(0.03, abs=1e-12)


def test_truncated_last_line_is_dropped(tmp_path):
    p = tmp_path / "00B40C45.txt"
    write_xsens(p, np.arange(50), newline_at_end=False)
    text = p.read_text()
    p.write_text(text[: len(text) - 5])  # cut inside the last line's last number
    s = read_xsens_dir(tmp_path, LEFT)
    assert s[Placement.LEFT_THIGH].n_samples == 49
    assert "dropped truncated last line 54" in s.meta.notes


def test_short_last_line_with_newline_is_dropped(tmp_path):
    p = tmp_path / "00B40C45.txt"
    write_xsens(p, np.arange(50))
    lines = p.read_text().splitlines()
    lines[-1] = "\t".join(lines[-1].split("\t")[:4])
    p.write_text("\n".join(lines) + "\n")
    assert read_xsens_file(p).dropped_line == 54
    assert read_xsens_file(p).counter.size == 49


def test_complete_last_line_is_kept(tmp_path):
    p = tmp_path / "00B40C45.txt"
    write_xsens(p, np.arange(50))
    f = read_xsens_file(p)
    assert f.dropped_line is None and f.counter.size == 50


def test_comma_separated_counter_and_sample_rate_spelling(tmp_path):
    p = tmp_path / "leg.csv"
    write_xsens(p, np.arange(10), sep=",", counter_name="Counter", rate_line="// Sample rate: 120.0Hz", mag=False)
    f = read_xsens_file(p)
    assert f.sample_rate_hz == 120.0 and f.mag_normalised is None and f.device_id == "leg"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"drop": ("Gyr_X",)}, r"xsens file 00B40C45\.txt: no Gyr_X column"),
    ({"drop": ("Acc_Z",)}, r"xsens file 00B40C45\.txt: no Acc_Z column"),
    ({"drop": ("PacketCounter",)}, r"xsens file 00B40C45\.txt: no PacketCounter \(or Counter\) column"),
    ({"drop": ("Mag_Y",)}, r"xsens file 00B40C45\.txt: has Mag_X, Mag_Z but no Mag_Y column"),
    ({"rate_line": None}, r"xsens file 00B40C45\.txt: no '// Sample rate: \.\.\.Hz'"),
])
def test_missing_columns_and_header(tmp_path, kwargs, message):
    write_xsens(tmp_path / "00B40C45.txt", np.arange(10), **kwargs)
    with pytest.raises(FormatError, match=message):
        read_xsens_dir(tmp_path, LEFT)


def test_rate_can_be_given_when_the_header_lacks_it(tmp_path):
    write_xsens(tmp_path / "00B40C45.txt", np.arange(10), rate_line=None)
    st = read_xsens_dir(tmp_path, LEFT, sample_rate_hz=60.0)[Placement.LEFT_THIGH]
    assert st.sample_rate_hz == 60.0 and st.t_s[-1] == pytest.approx(9 / 60)


def test_broken_lines_in_the_middle(tmp_path):
    p = tmp_path / "00B40C45.txt"
    write_xsens(p, np.arange(20))
    lines = p.read_text().splitlines()
    good = list(lines)
    cells = lines[10].split("\t")
    cells[4] = "1.2.3"
    lines[10] = "\t".join(cells)
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match=r"00B40C45\.txt: line 11: column Gyr_X holds '1\.2\.3', not a number"):
        read_xsens_file(p)
    good[7] = "\t".join(good[7].split("\t")[:3])
    p.write_text("\n".join(good) + "\n")
    with pytest.raises(FormatError, match=r"00B40C45\.txt: line 8: column Acc_Z is empty"):
        read_xsens_file(p)


@pytest.mark.parametrize(("counter", "message"), [
    (np.r_[0:5, 4:8], r"packet counter repeats at line 10 \(4 then 4\)"),
    (np.r_[40000:40005, 39990:39995], r"packet counter jumps back at line 10 \(40004 then 39990\)"),
    (np.r_[0:5, 70000], r"line 10: packet counter 70000\.0 is not an integer in 0\.\.65535"),
])
def test_bad_counters(tmp_path, counter, message):
    write_xsens(tmp_path / "00B40C45.txt", counter)
    with pytest.raises(FormatError, match=message):
        read_xsens_file(tmp_path / "00B40C45.txt")


def test_different_rates_are_refused(tmp_path):
    write_xsens(tmp_path / "00B40C45.txt", np.arange(10))
    write_xsens(tmp_path / "00B40C46.txt", np.arange(10), rate_line="// Update Rate: 60.0Hz")
    with pytest.raises(FormatError, match="different sample rates"):
        read_xsens_dir(tmp_path, {Placement.LEFT_THIGH: "00B40C45", Placement.LEFT_SHANK: "00B40C46"})


def test_data_in_wrong_units_names_the_file(tmp_path):
    p = tmp_path / "00B40C45.txt"
    write_xsens(p, np.arange(10))
    lines = p.read_text().splitlines()
    cells = lines[5].split("\t")
    cells[4] = "250.0"  # deg/s in a rad/s column
    lines[5] = "\t".join(cells)
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError, match=r"xsens file 00B40C45\.txt: left_thigh: gyroscope magnitude"):
        read_xsens_dir(tmp_path, LEFT)


def test_finding_files(tmp_path):
    for name in ("MT_00B40C45_000.txt", "MT_00B40C46_000.txt", "MT_00B40C46_001.txt", "notes.md"):
        (tmp_path / name).write_text("x")
    assert find_sensor_file(tmp_path, "00b40c45").name == "MT_00B40C45_000.txt"
    assert find_sensor_file(tmp_path, "MT_00B40C46_001").name == "MT_00B40C46_001.txt"
    with pytest.raises(FormatError, match=r"several files .* match sensor '00B40C46': MT_00B40C46_000\.txt, MT_00B40C46_001\.txt"):
        find_sensor_file(tmp_path, "00B40C46")
    with pytest.raises(FormatError, match=r"no file in .* matches sensor '00B40C47' \(files: MT_00B40C45_000\.txt, "):
        find_sensor_file(tmp_path, "00B40C47")
    with pytest.raises(FormatError, match="not a folder"):
        find_sensor_file(tmp_path / "nope", "00B40C45")


def test_device_id_from_name():
    assert device_id_from_name("MT_00b40c45_000.txt") == "00B40C45"
    assert device_id_from_name("rec_20240101_00B40C45.txt") == "00B40C45"
    assert device_id_from_name("walking_xsens_upperLeg.txt") == "walking_xsens_upperLeg"


def test_parse_placement_map():
    assert parse_placement_map(["left_thigh=00B40C45", "Right-Shank = 00B40C46"]) == {
        Placement.LEFT_THIGH: "00B40C45", Placement.RIGHT_SHANK: "00B40C46"}
    with pytest.raises(ValidationError, match=r"--map 'left_knee=1': unknown placement 'left_knee'"):
        parse_placement_map(["left_knee=1"])
    with pytest.raises(ValidationError, match="expected PLACEMENT=SENSOR"):
        parse_placement_map(["left_thigh"])
    with pytest.raises(ValidationError, match="left_thigh is mapped twice"):
        parse_placement_map(["left_thigh=a", "left_thigh=b"])


@pytest.mark.realdata
def test_real_skinematics_leg_recording(xsens_leg_dir, tmp_path):
    s = read_xsens_dir(xsens_leg_dir, parse_placement_map(
        ["left_thigh=walking_xsens_upperLeg", "left_shank=walking_xsens_lowerLeg"]), subject_id="skin")
    thigh, shank = s[Placement.LEFT_THIGH], s[Placement.LEFT_SHANK]
    for st in (thigh, shank):
        assert st.n_samples == 3511 and st.sample_rate_hz == 120.0 and st.gaps == ()
        assert st.duration_s == pytest.approx(3510 / 120, abs=1e-9)
        assert st.device.firmware == "2.5.1" and st.device.mag_normalised
        # standing still at the start: |acc| near 1 g
        assert np.linalg.norm(st.acc_mps2[:60], axis=1).mean() == pytest.approx(9.81, abs=0.3)
    # first data row of walking_xsens_upperLeg.txt
    np.testing.assert_array_equal(thigh.acc_mps2[0], [-9.617241, -1.890491, -0.826315])
    np.testing.assert_array_equal(thigh.gyr_radps[0], [-0.014048, 0.009609, -0.002849])
    np.testing.assert_allclose(thigh.mag_uT[0], np.array([0.880573, 0.731624, -0.141869]) * XSENS_MAG_NOMINAL_UT)
    np.testing.assert_array_equal(thigh.t_s, shank.t_s)  # same counters in both files
    # walking: the shank turns faster than the thigh
    assert np.abs(shank.gyr_radps).max() > np.abs(thigh.gyr_radps).max() > 2.0
    back = read_session(write_session(s, tmp_path / "skin.parquet"))
    assert_same_session(s, back)


def test_the_notes_say_the_recording_time_is_the_file_s_time(tmp_path):
    """An MT Manager text export states no date: the scikit-kinematics leg, copied today, was
    reported as recorded today (newcomer pass, twenty-first session). The notes (shown by `imugait
    info`) now say where the time comes from."""
    write_xsens(tmp_path / "00B40C45.txt", np.arange(50))
    s = read_xsens_dir(tmp_path, LEFT)
    assert "recording time taken from the file's modification time (the export states no date)" in s.meta.notes
