"""`imugait assess` guided with emulated sensors (prompts → countdown → record → check → redo) and
`imugait assess --from` producing the report of every protocol."""

from __future__ import annotations

import json

from imugait.cli import main
from imugait.io.native import read_session


def _printed(capsys) -> str:
    """What was printed, with the terminal's line wrapping undone."""
    return " ".join(capsys.readouterr().out.split())


def _report(folder):
    return json.loads((folder / "report.json").read_text())


EMULATED_RATE = ["--rate", "50"]
"""The runs below emulate (or simulate) 50-Hz sensors, not the default 100 Hz: what they check (the
steps recorded, annotated, checked, redone and reported) does not depend on the rate, and most of a
run's CPU time (the emulated byte stream, the simulation, the analysis) scales with it: about
44 → 25 CPU-s for the guided battery (measured, docs/testing.md). test_assess_interrupt.py runs the
guided battery and test_cli_assess.py a simulated one at the default rate."""


def test_guided_emulated_battery_records_annotated_steps_and_reports(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["assess", "--emulate", "--short", "--playback", "100", *EMULATED_RATE, "--out", str(out),
                 "--no-calibration"]) == 0
    session = read_session(out / "session.parquet")
    names = [s.name for s in session.meta.steps]
    assert names == ["posture", "walking:stand_start", "walking:walk", "walking:stand_end", "supine", "supine:left",
                     "supine:right", "prone:rest", "prone:left", "prone:right", "squat", "single_leg_squat:left",
                     "single_leg_squat:right", "balance:left", "balance:right"]
    result = json.loads((out / "assessment.json").read_text())
    assert all(p["passed"] and p["detection"] == "steps" for p in result["protocols"].values())
    prone = {(m["name"], m["side"]): m["value"] for m in result["metrics"] if m["protocol"] == "prone"}
    supine = {(m["name"], m["side"]): m["value"] for m in result["metrics"] if m["protocol"] == "supine"}
    for side in ("left", "right"):  # the simulated person: prone 35° internal, 40° external; supine 30°, 38°
        assert abs(prone[("prone_internal_rotation_range_deg", side)] - 35.0) < 6.0
        assert abs(prone[("prone_external_rotation_range_deg", side)] - 40.0) < 6.0
        assert abs(supine[("supine_internal_rotation_range_deg", side)] - 30.0) < 6.0
        assert abs(supine[("supine_external_rotation_range_deg", side)] - 38.0) < 6.0
    report = _report(out)
    assert (out / "report.html").stat().st_size > 1000
    measured = [(m["name"], m["side"]) for m in report["measurements"]]
    assert len(measured) == len(set(measured)), "a metric (walking aggregates) entered the report twice"
    assert {"prone", "walking", "supine", "squat", "single_leg_squat", "balance"} <= {m["protocol"] for m in report["measurements"]}
    assert "attempts repeated" not in _printed(capsys)


def test_failed_step_is_redone_once_and_the_good_attempt_kept(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["assess", "--emulate", "--short", "--playback", "100", "--protocols", "prone", "--fail-step", "prone:left",
                 *EMULATED_RATE, "--out", str(out), "--no-calibration"]) == 0
    assert "attempts repeated: prone:left #1" in _printed(capsys)
    steps = read_session(out / "session.parquet").meta.steps
    assert [s.name for s in steps] == ["prone:rest", "failed:prone:left:1", "prone:left", "prone:right"]
    failed, good = steps[1], steps[2]
    assert good.t_start_s > failed.t_end_s
    result = json.loads((out / "assessment.json").read_text())
    assert result["protocols"]["prone"]["passed"]
    left = {m["name"]: m for m in result["metrics"] if m["side"] == "left"}
    assert abs(left["prone_internal_rotation_range_deg"]["value"] - 35.0) < 6.0


def test_assess_from_a_simulated_battery_reports_every_protocol(tmp_path, capsys):
    out = tmp_path / "battery"
    # 50 Hz for the reason of EMULATED_RATE; test_cli_assess.py assesses a battery at the default rate.
    assert main(["simulate", "--protocol", "battery", "--out", str(out), "--seed", "2", "--bouts", "2",
                 "--bout-s", "8", *EMULATED_RATE]) == 0
    html, report_json = tmp_path / "r.html", tmp_path / "r.json"
    assert main(["assess", "--from", str(out / "session.parquet"), "--no-calibration", "--html", str(html),
                 "--json", str(report_json)]) == 0
    assert "Lying face down: hip rotation (done, found by steps)" in _printed(capsys)
    report = json.loads(report_json.read_text())
    compared = {(c["metric"], c["side"]) for c in report["comparisons"]}
    assert {("prone_internal_minus_external_rotation_deg", "left"), ("prone_internal_minus_external_rotation_deg", "right")} <= compared
    measured = [(m["name"], m["side"]) for m in report["measurements"]]
    assert len(measured) == len(set(measured))
    assert {"posture", "walking", "supine", "prone", "squat", "single_leg_squat", "balance"} <= {
        m["protocol"] for m in report["measurements"]}
    assert {("supine_internal_rotation_range_deg", "left"), ("single_leg_squat_knee_valgus_peak_deg", "right")} <= compared
    assert html.stat().st_size > 1000
