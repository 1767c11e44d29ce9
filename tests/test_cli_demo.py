"""`imugait demo` (what `make demo` runs) works end to end and finds the simulated right hip."""

import json

import pytest

from imugait.cli import main


def test_demo_runs_and_finds_the_right_hip(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "Walking analysis" in printed
    doc = json.loads((tmp_path / "session.analysis.json").read_text())
    agg = {(a["side"], a["metric"]): a["mean"] for a in doc["aggregates"]}
    assert agg[("right", "hip_rotation_mean_deg")] - agg[("left", "hip_rotation_mean_deg")] > 8.0
    assert agg[("right", "knee_valgus_stance_peak_deg")] > agg[("left", "knee_valgus_stance_peak_deg")] + 3.0


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("simulate", "import", "info", "analyze", "demo"):
        assert command in out
