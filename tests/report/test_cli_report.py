"""`imugait report` on a simulated session file: terminal report, HTML and JSON, trends."""

from __future__ import annotations

import json

from imugait.cli import main


def test_report_command(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--seed", "4", "--bouts", "2", "--bout-s", "10",
                 "--right-hip-rotation", "15", "--subject", "cli-01"]) == 0
    session = out / "session.parquet"
    first = tmp_path / "first.report.json"
    assert main(["report", str(session), "--json", str(first), "--no-pain"]) == 0
    capsys.readouterr()
    html, second = tmp_path / "r.html", tmp_path / "second.report.json"
    assert main(["report", str(session), "--html", str(html), "--json", str(second), "--previous", str(first),
                 "--sex", "female"]) == 0
    printed = capsys.readouterr().out
    assert "Findings" in printed and "Right side" in printed and "not a diagnosis" in printed
    assert f"HTML report written to {html}" in printed.replace("\n", "")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    doc = json.loads(second.read_text(encoding="utf-8"))
    assert doc["subject"] == {"subject_id": "cli-01", "recorded_at": doc["subject"]["recorded_at"],
                              "recorded_at_is_file_time": False, "population": "female"}
    assert any(t["metric"] == "hip_rotation_mean_deg" for t in doc["trends"])


def test_report_with_pain_says_see_a_professional(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--seed", "5", "--bouts", "2", "--bout-s", "10"]) == 0
    assert main(["report", str(out / "session.parquet"), "--pain"]) == 0
    printed = capsys.readouterr().out
    assert "See a health professional" in printed and "pain" in printed.lower()


def test_report_refuses_a_bad_previous_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert main(["report", str(tmp_path / "session.parquet"), "--previous", str(bad)]) == 1
    assert "not an imugait report" in capsys.readouterr().err
