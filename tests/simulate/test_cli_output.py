"""`imugait simulate` writes a readable session and its truth; runs are reproducible."""

import json

import numpy as np
import pandas as pd

from imugait.cli import main
from imugait.conventions import Placement
from imugait.io.native import read_session
from imugait.simulate.output import read_truth

ARGS = ["--bouts", "1", "--bout-s", "6", "--stand-s", "2", "--right-hip-rotation", "12", "--loss", "0.01"]


def test_simulate_command_writes_session_and_truth(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--seed", "3", "--pelvis", *ARGS]) == 0
    assert "wrote" in capsys.readouterr().out
    session = read_session(out / "session.parquet")
    assert set(session) == {Placement.PELVIS, Placement.LEFT_THIGH, Placement.RIGHT_THIGH,
                            Placement.LEFT_SHANK, Placement.RIGHT_SHANK}
    assert session.meta.source == "simulate"
    assert [s.name for s in session.meta.steps] == ["stand_start", "walk_1", "stand_end"]
    assert sum(s.n_lost_total for s in session.streams) > 0
    truth = read_truth(out)
    assert {"left_hip_rotation_progression_deg", "right_knee_adduction_deg"} <= set(truth.series.columns)
    assert len(truth.cycles) > 0 and set(truth.events["event"]) == {"initial_contact", "toe_off"}
    config = json.loads((out / "truth" / "config.json").read_text())
    assert config["walker"]["right"]["hip_rotation_offset_deg"] == 12.0
    sensors = json.loads((out / "truth" / "sensors.json").read_text())
    q = np.array(sensors["left_thigh"]["q_segment_sensor"])
    assert abs(np.linalg.norm(q) - 1.0) < 1e-12


def test_simulate_is_reproducible_through_files(tmp_path):
    for name in ("a", "b"):
        assert main(["simulate", "--out", str(tmp_path / name), "--seed", "7", *ARGS]) == 0
    a = pd.read_parquet(tmp_path / "a" / "session.parquet")
    b = pd.read_parquet(tmp_path / "b" / "session.parquet")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_bad_walker_parameter_is_a_clear_error(tmp_path, capsys):
    assert main(["simulate", "--out", str(tmp_path / "x"), "--speed", "9"]) == 1
    assert "speed_mps 9.0 outside" in capsys.readouterr().err


def test_simulation_api_refuses_impossible_settings():
    import pytest

    from imugait.errors import ValidationError
    from imugait.simulate import SensorErrors, SimulationConfig

    for bad in ({"sample_rate_hz": 0.0}, {"sample_rate_hz": float("nan")}, {"seed": -1}, {"seed": 1.5}):
        with pytest.raises(ValidationError, match="simulation: "):
            SimulationConfig(**bad)
    for bad in ({"loss_probability": 1.5}, {"clock_drift_ppm": -5.0}, {"acc_noise_mps2": float("inf")}):
        with pytest.raises(ValidationError, match="sensor errors: "):
            SensorErrors(**bad)
