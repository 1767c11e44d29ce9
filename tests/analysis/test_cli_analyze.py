"""`imugait analyze` on a simulated session file: summary, JSON result and angle CSV."""

from __future__ import annotations

import json

import pandas as pd

from imugait.cli import main


def test_analyze_command(tmp_path, capsys):
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--seed", "4", "--bouts", "2", "--bout-s", "10",
                 "--right-hip-rotation", "15", "--loss", "0.002"]) == 0
    session = out / "session.parquet"
    assert main(["analyze", str(session), "--angles-csv", str(tmp_path / "angles.csv")]) == 0
    printed = capsys.readouterr().out
    assert "hip rotation" in printed and "line of progression" in printed
    doc = json.loads((out / "session.analysis.json").read_text())
    assert doc["schema"] == "imugait.analysis" and doc["schema_version"] == 1
    assert doc["hip_rotation_reference"] == "progression"
    assert set(doc["legs"]) == {"left", "right"}
    for leg in doc["legs"].values():
        assert leg["calibration"]["quality"] in {"good", "fair", "poor"}
        assert leg["n_strides_used"] >= 5
        curve = leg["normalised_cycles"]["knee_flexion_deg"]
        assert len(curve["mean"]) == 101 and max(curve["mean"]) > 40.0
    used = [c for c in doc["cycles"] if c["used"]]
    assert all(c["exclusion"] == "" for c in used)
    assert any(c["exclusion"] for c in doc["cycles"])  # turns and bout edges are reported, not used
    aggregates = {(a["side"], a["metric"]): a for a in doc["aggregates"]}
    right = aggregates[("right", "hip_rotation_mean_deg")]["mean"]
    left = aggregates[("left", "hip_rotation_mean_deg")]["mean"]
    assert 10.0 < right - left < 20.0
    angles = pd.read_csv(tmp_path / "angles.csv")
    for side in ("left", "right"):
        for col in ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg", "hip_rotation_deg",
                    "initial_contact", "toe_off"):
            assert f"{side}_{col}" in angles.columns
    assert angles["t_s"].is_monotonic_increasing
    assert angles["right_initial_contact"].sum() >= 10


def test_analyze_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nope.parquet")]) == 1
    assert "nope.parquet" in capsys.readouterr().err


def test_analyze_gyr_sampling_overrides_the_session_with_a_note(tmp_path):
    """``--gyr-sampling`` replaces what the session file declares (the simulator's: instants) for
    the whole and the chunked analysis, and the result's warnings say what the file said."""
    out = tmp_path / "sim"
    assert main(["simulate", "--out", str(out), "--seed", "5", "--bouts", "1", "--bout-s", "12"]) == 0
    session = out / "session.parquet"
    docs = {}
    for name, extra in (("file", []), ("mean", ["--gyr-sampling", "interval_mean"]),
                        ("chunked", ["--chunked", "--gyr-sampling", "interval_mean"])):
        assert main(["analyze", str(session), "--out", str(tmp_path / f"{name}.json"), *extra]) == 0
        docs[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert not any("--gyr-sampling" in w for w in docs["file"]["warnings"])
    for name in ("mean", "chunked"):
        note = [w for w in docs[name]["warnings"] if "--gyr-sampling" in w]
        assert len(note) == 1, name
        assert note[0].startswith("gyroscope samples integrated as interval_mean for every sensor")
        assert "overriding the session file's declaration (instant: left_shank, left_thigh, right_shank, right_thigh)" in note[0]

    def knee_peak(doc):
        return {(a["side"], a["metric"]): a["mean"] for a in doc["aggregates"]}[("left", "knee_flexion_swing_peak_deg")]

    assert knee_peak(docs["mean"]) != knee_peak(docs["file"])  # the orientations did move


def _printed_table(aggregates: pd.DataFrame, cycles: pd.DataFrame, pelvis_worn: bool, untrusted=frozenset()) -> str:
    import io

    from rich.console import Console

    from imugait.cli.analyze import _print_table
    from imugait.conventions import Side

    buf = io.StringIO()
    _print_table(Console(file=buf, width=200), "P-1", aggregates, cycles, {Side.LEFT: "good"}, (), pelvis_worn,
                 untrusted=untrusted)
    return buf.getvalue()


def test_summary_of_one_stride_shows_no_nan_and_the_pelvis_note_follows_the_sensors():
    """A walk cut short to one used stride has no SD: the table shows the mean alone, not '± nan'.
    The note under the table says 'no pelvis sensor' only when none was analysed."""
    aggregates = pd.DataFrame({"side": ["left", "left"], "metric": ["stride_time_s", "hip_rotation_mean_deg"],
                               "mean": [1.09, -4.2], "sd": [float("nan"), float("nan")], "n": [1, 1]})
    cycles = pd.DataFrame({"side": ["left"] * 3, "used": [True, False, False]})
    printed = _printed_table(aggregates, cycles, pelvis_worn=False)
    assert "nan" not in printed
    assert "1.09 s" in printed and "-4.2 °" in printed and "1 / 3" in printed
    assert "(no pelvis sensor)" in printed
    with_pelvis = _printed_table(aggregates, cycles, pelvis_worn=True)
    assert "no pelvis sensor" not in with_pelvis
    assert "hip_rotation_pelvis_mean_deg" in with_pelvis


def test_a_leg_not_trusted_is_marked_in_its_column_as_in_the_report():
    """HuGaDB 06_00 (sides exchanged): `imugait report` heads the right column "right (not
    trusted)", `imugait analyze` showed a plain "right (mean ± SD)" column with "good" calibration
    (newcomer pass, twenty-first session)."""
    from imugait.conventions import Side

    aggregates = pd.DataFrame({"side": ["left"], "metric": ["stride_time_s"], "mean": [1.09], "sd": [0.02], "n": [5]})
    cycles = pd.DataFrame({"side": ["left"] * 5, "used": [True] * 5})
    assert "left (not trusted; mean ± SD)" in _printed_table(aggregates, cycles, False, untrusted={Side.LEFT})
    assert "left (mean ± SD)" in _printed_table(aggregates, cycles, False)
