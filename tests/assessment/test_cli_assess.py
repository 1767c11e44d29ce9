"""`imugait simulate --protocol battery` then `imugait assess --from` end to end."""

from __future__ import annotations

import json

from imugait.cli import main


def test_simulate_battery_then_assess(tmp_path, capsys):
    out = tmp_path / "battery"
    assert main(["simulate", "--protocol", "battery", "--out", str(out), "--seed", "4", "--bouts", "1",
                 "--right-hip-rotation", "10"]) == 0
    session = out / "session.parquet"
    assert session.exists() and (out / "truth" / "values.csv").exists()
    capsys.readouterr()
    assert main(["assess", "--from", str(session), "--no-calibration"]) == 0
    printed = capsys.readouterr().out
    for title in ("Standing posture", "Walking test", "Lying on your back", "hip rotation", "Mindful squat", "Single-leg balance"):
        assert title in printed
    doc = json.loads((out / "session.assessment.json").read_text())
    names = {m["name"] for m in doc["metrics"]}
    assert {"prone_internal_rotation_range_deg", "supine_hip_rotation_rest_deg", "balance_sway_rms_deg"} <= names
    assert all(p["passed"] for p in doc["protocols"].values())


def test_live_assess_without_sensors_says_what_to_give(capsys):
    assert main(["assess"]) == 1
    assert "no sensors" in capsys.readouterr().err
