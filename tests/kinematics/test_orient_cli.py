"""`imugait orient`: every sensor's orientation over time, for simulated and imported sessions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from imugait.cli import main
from imugait.conventions import Placement
from imugait.io.csv_generic import write_csv_session
from imugait.io.native import read_session
from imugait.quaternion import heading_inclination_split, quat_conj, quat_multiply
from imugait.simulate.output import read_truth


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "--out", str(out), "--seed", "5", "--bouts", "1", "--bout-s", "10"]) == 0
    return out


def _true_q_world_sensor(folder, placement: Placement, t_s: np.ndarray) -> np.ndarray:
    truth = read_truth(folder).series
    q_seg = np.column_stack([np.interp(t_s, truth["t_s"], truth[f"q_world_{placement.value}_{c}"]) for c in "wxyz"])
    q_seg /= np.linalg.norm(q_seg, axis=1, keepdims=True)
    q_segment_sensor = np.array(json.loads((folder / "truth" / "sensors.json").read_text())[placement.value]["q_segment_sensor"])
    return quat_multiply(q_seg, q_segment_sensor)


def test_orient_writes_each_sensor_with_correct_inclination(simulated, tmp_path, capsys):
    out = tmp_path / "orient.csv"
    assert main(["orient", str(simulated / "session.parquet"), "--out", str(out)]) == 0
    assert "4 sensors" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert table.columns[0] == "t_s" and table["t_s"].is_monotonic_increasing
    for placement in (Placement.LEFT_THIGH, Placement.RIGHT_SHANK):
        q = table[[f"{placement.value}_q_{c}" for c in "wxyz"]].to_numpy()
        np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-6)
        truth = _true_q_world_sensor(simulated, placement, table["t_s"].to_numpy())
        _, inclination = heading_inclination_split(quat_multiply(q, quat_conj(truth)))
        assert np.rad2deg(inclination).mean() < 1.5  # z-up world: tilt agrees with the truth


def test_orient_works_on_an_imported_csv_session(simulated, tmp_path):
    csv = write_csv_session(read_session(simulated / "session.parquet"), tmp_path / "walk.csv")
    assert main(["import", "csv", str(csv), "--out", str(tmp_path / "imported.parquet")]) == 0
    out = tmp_path / "orient.csv"
    assert main(["orient", str(tmp_path / "imported.parquet"), "--out", str(out), "--filter", "madgwick"]) == 0
    assert {"left_shank_q_w", "right_thigh_q_z"} <= set(pd.read_csv(out).columns)


def test_device_calibrations_are_applied_automatically(simulated, tmp_path, capsys):
    calibration = tmp_path / "calibration"
    assert main(["calibrate", "imu", "--device", "SIM-left_thigh", "--emulate", "--out", str(calibration)]) == 0
    capsys.readouterr()
    assert main(["analyze", str(simulated / "session.parquet"), "--calibration-dir", str(calibration)]) == 0
    assert "left_thigh: corrected with" in capsys.readouterr().out
    assert main(["analyze", str(simulated / "session.parquet"), "--calibration-dir", str(calibration),
                 "--no-calibration", "--force"]) == 0
    assert "corrected with" not in capsys.readouterr().out
    # The chunked path applies them to every window it reads.
    assert main(["analyze", str(simulated / "session.parquet"), "--calibration-dir", str(calibration), "--chunked",
                 "--force"]) == 0
    printed = capsys.readouterr().out
    assert "1 window(s)" in printed and "left_thigh: corrected with" in printed
