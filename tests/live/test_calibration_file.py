"""A live calibration saved between runs: written and read back whole, refused when damaged, of a
newer version or of other sensors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from imugait.conventions import Placement, Side
from imugait.errors import FormatError, ImugaitError
from imugait.live.calibration_file import (
    SensorIdentity,
    check_legs,
    check_subject,
    load_calibration,
    save_calibration,
    sensor_mismatch,
)
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import CalibrationPhase

SENSORS = {p: SensorIdentity(f"1a6a17000000000{i}", f"/dev/pts/{10 + i}", "serial")
           for i, p in enumerate((Placement.LEFT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_THIGH, Placement.RIGHT_SHANK))}


@pytest.fixture(scope="module")
def saved_file(live_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("cal") / "p01.json"
    save_calibration(path, live_run.live.calibration, SENSORS, "p01")
    return path


def test_a_saved_calibration_reads_back_whole_and_gives_the_same_angles(live_run, saved_file):
    earlier = live_run.live.calibration
    saved = load_calibration(saved_file)
    assert saved.subject_id == "p01" and saved.sensors == SENSORS and saved.path == saved_file
    assert "p01" in saved.describe() and "left good (standing)" in saved.describe()
    cal = saved.calibration
    assert cal.standing_step == earlier.standing_step and dict(cal.references) == {s: "standing" for s in Side}
    for p, bias in earlier.gyr_bias_radps.items():
        np.testing.assert_array_equal(cal.gyr_bias_radps[p], bias)
    for side, a in earlier.alignments.items():
        b = cal.alignments[side]
        np.testing.assert_array_equal(b.thigh.q_sensor_segment, a.thigh.q_sensor_segment)
        np.testing.assert_array_equal(b.shank.q_sensor_segment, a.shank.q_sensor_segment)
        np.testing.assert_array_equal(b.heading.window_offset_rad, a.heading.window_offset_rad)
        assert b.quality == a.quality and b.axes.heading_offset_rad == a.axes.heading_offset_rad
        assert (b.joint_centre is None) == (a.joint_centre is None)
    # Reused from the file or from memory: the same angles (nothing a run needs was left out).
    session = live_run.session.slice_time(0.0, 12.0)
    runs = []
    for reused in (earlier, cal):
        live = LiveKinematics(list(session), LiveConfig(rate_hz=200.0), calibration=reused)
        live.feed_session(session, 0.05)
        runs.append({a.side: a for a in live.poll().angles})
        assert {s.phase for s in live.calibration_states()} == {CalibrationPhase.REUSED}
    for side in Side:
        assert runs[0][side].t_s[0] < 1.5
        np.testing.assert_array_equal(runs[0][side].knee_flexion_deg, runs[1][side].knee_flexion_deg)
        np.testing.assert_array_equal(runs[0][side].hip_rotation_deg, runs[1][side].hip_rotation_deg)


def _edited(saved_file, tmp_path, edit) -> str:
    d = json.loads(saved_file.read_text())
    edit(d)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(d))
    with pytest.raises(FormatError) as refused:
        load_calibration(path)
    message = str(refused.value)
    assert "\n" not in message and message.startswith("edited.json")
    return message


def test_damaged_files_and_other_versions_are_refused_naming_the_field(saved_file, tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_text(saved_file.read_text()[:500])
    with pytest.raises(FormatError, match="cut.json is not valid JSON .*the file is damaged"):
        load_calibration(cut)
    with pytest.raises(FormatError, match="no such calibration file"):
        load_calibration(tmp_path / "none.json")
    assert "upgrade imugait" in _edited(saved_file, tmp_path, lambda d: d.update(format_version=2))
    assert "not an imugait leg calibration" in _edited(saved_file, tmp_path, lambda d: d.update(format="imugait.imu_calibration"))
    assert "'q_sensor_segment' must have shape (4,)" in _edited(
        saved_file, tmp_path, lambda d: d["legs"]["left"]["alignment"]["thigh"].update(q_sensor_segment=[1, 0, 0]))
    assert "not a unit quaternion" in _edited(
        saved_file, tmp_path, lambda d: d["legs"]["right"]["alignment"]["shank"].update(q_sensor_segment=[1, 1, 0, 0]))
    assert "field 'n_fit_samples' has the wrong type" in _edited(
        saved_file, tmp_path, lambda d: d["legs"]["left"]["alignment"]["quality"].update(n_fit_samples="many"))
    assert "no sensor identity for left_shank" in _edited(saved_file, tmp_path, lambda d: d["sensors"].pop("left_shank"))
    assert "'reference' must be one of" in _edited(saved_file, tmp_path, lambda d: d["legs"]["left"].update(reference="sitting"))
    assert "other sensors than the left leg's" in _edited(
        saved_file, tmp_path, lambda d: d["legs"].update(left=d["legs"]["right"]))
    assert "'created_at' is not an ISO 8601" in _edited(saved_file, tmp_path, lambda d: d.update(created_at="yesterday"))


def test_other_sensors_are_refused(saved_file):
    saved = load_calibration(saved_file)
    left_thigh = SENSORS[Placement.LEFT_THIGH]
    assert sensor_mismatch(saved, Placement.LEFT_THIGH, left_thigh.device_id, "/dev/pts/99") is None  # ptys move
    other = sensor_mismatch(saved, Placement.LEFT_THIGH, "1a6a170000000003", left_thigh.address)
    assert other is not None and "device 1a6a170000000000 at left_thigh" in other and "is device 1a6a170000000003" in other
    # A sensor that announces no id (vendor protocols) is known by its address.
    assert sensor_mismatch(saved, Placement.LEFT_THIGH, "", left_thigh.address) is None
    assert "announced no device id" in sensor_mismatch(saved, Placement.LEFT_THIGH, "", "AA:BB:CC:DD:EE:FF")
    assert sensor_mismatch(saved, Placement.PELVIS, "anything", "anywhere") is None  # not in the file


def test_connected_legs_and_the_subject_must_be_the_files(live_run, saved_file, tmp_path):
    saved = load_calibration(saved_file)
    check_legs(saved, list(SENSORS))
    check_legs(saved, [Placement.LEFT_THIGH, Placement.LEFT_SHANK])  # one leg of the two: fine
    with pytest.raises(ImugaitError, match="is not connected"):
        check_legs(saved, [Placement.LEFT_THIGH, Placement.RIGHT_SHANK])
    check_subject(saved, "p01")
    with pytest.raises(ImugaitError, match="subject 'p01', not 'p02'"):
        check_subject(saved, "p02")
    left_only = live_run.live.calibration
    left_only = type(left_only)({Side.LEFT: left_only.alignments[Side.LEFT]}, left_only.gyr_bias_radps,
                                left_only.standing_step)
    save_calibration(tmp_path / "left.json", left_only, SENSORS, "p01")
    with pytest.raises(ImugaitError, match="holds no calibration of the right leg"):
        check_legs(load_calibration(tmp_path / "left.json"), list(SENSORS))
