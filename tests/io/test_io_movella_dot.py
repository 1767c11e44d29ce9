"""Movella DOT CSV exports (files made from the DOT SDK logger's layout, tests/io/vendor_fixtures.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from vendor_fixtures import swing, write_dot_csv

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io.movella_dot import read_dot_dir, read_dot_file
from imugait.model import FILE_TIME_NOTE, GyroSampling


@pytest.fixture
def dot_dir(tmp_path):
    m1, m2 = swing(axis=(0, 1, 0)), swing(axis=(0.3, 1, 0), amplitude_deg=50)
    write_dot_csv(tmp_path / "1_20250711_200600_087.csv", "1", m1)
    write_dot_csv(tmp_path / "2_20250711_200600_088.csv", "2", m2, t0_us=2_268_972_329 + 8_000)
    return tmp_path, m1, m2


def test_units_and_frames(dot_dir):
    folder, m1, m2 = dot_dir
    s = read_dot_dir(folder, {Placement.LEFT_THIGH: "1", Placement.LEFT_SHANK: "2"}, subject_id="P1")
    thigh, shank = s[Placement.LEFT_THIGH], s[Placement.LEFT_SHANK]
    np.testing.assert_allclose(thigh.gyr_radps, m1.gyr_radps, atol=1e-6)  # °/s -> rad/s
    np.testing.assert_allclose(thigh.acc_mps2, m1.acc_mps2, atol=1e-6)
    np.testing.assert_allclose(thigh.mag_uT, m1.mag_uT, atol=1e-5)  # normalised x 50 µT
    np.testing.assert_allclose(thigh.q_world_sensor, m1.q, atol=1e-8)
    assert thigh.device.mag_normalised and thigh.device.model == "Movella DOT" and thigh.device.device_id == "1"
    assert thigh.device.gyr_sampling is GyroSampling.INTERVAL_MEAN  # rate quantities from strapdown increments
    assert thigh.sample_rate_hz == 60.0 and thigh.gaps == ()
    assert thigh.t_s[0] == 0.0 and shank.t_s[0] == pytest.approx(0.008)  # synced: one clock
    assert s.meta.source == "import:movella-dot" and s.meta.recorded_at.startswith("2025-07-11T20:06:00.087+01:00")


def test_sample_time_wraps_and_gaps(tmp_path):
    m = swing(n=120)
    keep = np.r_[0:50, 53:120]  # three samples lost
    from vendor_fixtures import Motion
    lost = Motion(m.t_s[keep], m.q[keep], m.gyr_radps[keep], m.acc_mps2[keep], m.mag_uT[keep])
    write_dot_csv(tmp_path / "a.csv", "7", lost, t0_us=2**32 - 400_000)  # wraps after 0.4 s
    f = read_dot_file(tmp_path / "a.csv")
    np.testing.assert_allclose(f.t_device_s - f.t_device_s[0], lost.t_s, atol=1e-6)
    s = read_dot_dir(tmp_path, {Placement.RIGHT_SHANK: "7"})
    assert [(g.after_index, g.n_lost) for g in s[Placement.RIGHT_SHANK].gaps] == [(49, 3)]


def test_unsynced_files_start_each_at_zero(tmp_path):
    write_dot_csv(tmp_path / "1.csv", "1", swing(), synced=False)
    write_dot_csv(tmp_path / "2.csv", "2", swing(), t0_us=900_000_000, synced=False)
    s = read_dot_dir(tmp_path, {Placement.LEFT_THIGH: "1", Placement.LEFT_SHANK: "2"})
    assert s[Placement.LEFT_THIGH].t_s[0] == s[Placement.LEFT_SHANK].t_s[0] == 0.0
    assert "clock: start" in s.meta.notes


def test_orientation_only_mode_is_refused(tmp_path):
    (tmp_path / "e.csv").write_text("DeviceTag:,3\nOutputRate:,60Hz\n\nPacketCounter,SampleTimeFine,Euler_X,Euler_Y,"
                                    "Euler_Z,FreeAcc_X,FreeAcc_Y,FreeAcc_Z,Status\n1, 100, 0, 0, 0, 0, 0, 0, 0\n")
    with pytest.raises(FormatError, match="orientation or free acceleration only"):
        read_dot_file(tmp_path / "e.csv")


def test_truncated_last_line_is_dropped_and_noted(dot_dir):
    folder, m1, _m2 = dot_dir
    path = folder / "1_20250711_200600_087.csv"
    text = path.read_text()
    path.write_text(text[: text.rstrip("\n").rfind(",")])  # cut inside the last row, no newline
    s = read_dot_dir(folder, {Placement.LEFT_THIGH: "1"})
    assert s[Placement.LEFT_THIGH].n_samples == m1.t_s.size - 1
    assert "dropped truncated last line" in s.meta.notes


def test_errors_name_the_problem(dot_dir, tmp_path):
    folder, _m1, _m2 = dot_dir
    with pytest.raises(ValidationError, match="no device matches '9'"):
        read_dot_dir(folder, {Placement.LEFT_THIGH: "9"})
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "bad.csv").write_text("DeviceTag:,1\nOutputRate:,60Hz\n\nPacketCounter,SampleTimeFine,Acc_X,Acc_Y\n")
    with pytest.raises(FormatError, match="has Acc_X, Acc_Y but no Acc_Z"):
        read_dot_file(tmp_path / "x" / "bad.csv")
    (tmp_path / "x" / "bad.csv").write_text("hello\n")
    with pytest.raises(FormatError, match="no header row starting with 'PacketCounter'"):
        read_dot_file(tmp_path / "x" / "bad.csv")


def test_other_csv_files_in_the_folder_do_not_matter(dot_dir):
    folder, m1, _m2 = dot_dir
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    assert read_dot_dir(folder, {Placement.LEFT_THIGH: "1"})[Placement.LEFT_THIGH].n_samples == m1.t_s.size


@pytest.mark.parametrize("rate", ["0", "00", "1.2.3", "."])
def test_an_output_rate_that_is_not_a_positive_number_is_refused(tmp_path, rate):
    """Fuzzing found ``OutputRate:,00Hz`` (ZeroDivisionError) and the pattern also admits
    ``1.2.3`` (ValueError); both are now a one-line FormatError."""
    f = write_dot_csv(tmp_path / "D1.csv", "D1", swing())
    text = f.read_text()
    line = next(x for x in text.splitlines() if x.startswith("OutputRate:"))
    f.write_text(text.replace(line, f"OutputRate:,{rate}Hz"))
    with pytest.raises(FormatError, match=f"OutputRate '{re.escape(rate)}' Hz is not a positive number"):
        read_dot_dir(tmp_path, {Placement.LEFT_THIGH: "D1"})


def test_file_time_stands_in_and_is_noted_when_no_start_time(dot_dir):
    """A stated StartTime is the recording time; without one the file's time stands in and the
    notes say so (the report then marks the time as the file's)."""
    folder, _, _ = dot_dir
    pmap = {Placement.LEFT_THIGH: "1", Placement.LEFT_SHANK: "2"}
    stated = read_dot_dir(folder, pmap)
    assert not stated.meta.recorded_at_is_file_time
    f = folder / "2_20250711_200600_088.csv"
    f.write_text("\n".join(line for line in f.read_text().splitlines() if not line.startswith("StartTime")) + "\n")
    copied = read_dot_dir(folder, pmap)
    assert copied.meta.recorded_at_is_file_time and FILE_TIME_NOTE in copied.meta.notes
    assert not copied.meta.recorded_at.startswith("2025-07-11T20:06")
