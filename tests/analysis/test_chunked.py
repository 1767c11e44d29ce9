"""The chunked analysis (bounded memory for long recordings) against the whole-recording one."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from imugait.analysis import analyze_session
from imugait.analysis.chunked import SessionInMemory, analyze_in_chunks, windows
from imugait.errors import CalibrationError, ValidationError
from imugait.io.native import write_session
from imugait.io.native_ranges import SessionFileRanges
from imugait.simulate import SimulationConfig, simulate, walking_test

ANGLE_TOLERANCE_DEG = 1.5
"""Largest per-stride angle difference accepted: each window is calibrated on its own data
(docs/benchmarks.md: most columns agree within 0.3°, knee rotation's stance mean within 1.3°)."""
TIME_TOLERANCE_S = 0.002
"""Event times: each window's grid starts at its own first sample (under one 100-Hz sample)."""


@pytest.fixture(scope="module")
def session():
    # Stand, 4 bouts, stand (≈ 78 s): either half of it holds a standing period and two bouts.
    config = SimulationConfig(seed=11, sample_rate_hz=100.0, timeline=walking_test(n_bouts=4, bout_s=15.0))
    return simulate(config).session


@pytest.fixture(scope="module")
def whole(session):
    return analyze_session(session)


def test_windows_cover_the_recording_once():
    plan = windows(0.0, 100.0, chunk_s=30.0, overlap_s=10.0)
    assert len(plan) == 4
    assert [w.core_start_s for w in plan] == [0.0, 25.0, 50.0, 75.0]
    assert all(a.core_end_s == b.core_start_s for a, b in zip(plan[:-1], plan[1:], strict=True))
    assert plan[-1].core_end_s == math.inf
    assert plan[0].start_s == 0.0 and plan[1].start_s == 15.0 and plan[1].end_s == 60.0
    with pytest.raises(ValidationError, match="chunk_s > 0"):
        windows(0.0, 100.0, chunk_s=0.0)


def test_chunked_equals_whole_within_tolerance(session, whole):
    aggregates, whole = whole.aggregates, whole.cycles
    result = analyze_in_chunks(SessionInMemory(session), chunk_s=40.0, overlap_s=15.0)
    chunked = result.cycles
    assert len(result.windows) == 2
    assert list(chunked.columns) == list(whole.columns)
    assert len(chunked) == len(whole) > 20
    assert (chunked["side"] == whole["side"]).all()
    assert (chunked["stride"] == whole["stride"]).all()
    assert (chunked["used"] == whole["used"]).all() and (chunked["exclusion"] == whole["exclusion"]).all()
    times = [c for c in whole.columns if c.startswith("t_")] + ["stride_time_s"]
    np.testing.assert_allclose(chunked[times], whole[times], atol=TIME_TOLERANCE_S, rtol=0)
    angles = [c for c in whole.columns if c.endswith("_deg")]
    used = whole["used"].to_numpy()
    difference = np.abs(chunked.loc[used, angles].to_numpy() - whole.loc[used, angles].to_numpy())
    assert np.isnan(difference).sum() == np.isnan(whole.loc[used, angles].to_numpy()).sum()
    assert np.nanmax(difference) < ANGLE_TOLERANCE_DEG
    assert result.aggregates[["side", "metric", "n"]].equals(aggregates[["side", "metric", "n"]])


def test_one_window_is_the_whole_analysis(session, whole):
    result = analyze_in_chunks(SessionInMemory(session), chunk_s=1000.0)
    assert len(result.windows) == 1
    assert result.cycles.equals(whole.cycles)
    assert result.warnings == whole.warnings


def test_no_window_analysable_is_one_error_naming_each(session):
    standing_only = SessionInMemory(session)
    standing_only.t_end_s = session.t_start_s + 4.0  # the first standing seconds, in windows too short to analyse
    with pytest.raises(CalibrationError, match="no part of the recording could be analysed — 0–2 s: too short.*; 2–4 s: too short"):
        analyze_in_chunks(standing_only, chunk_s=2.0, overlap_s=0.0)


def test_read_from_a_file_window_by_window_gives_the_same_result(session, tmp_path):
    path = write_session(session, tmp_path / "walk.parquet")
    from_file = analyze_in_chunks(SessionFileRanges(path), chunk_s=40.0, overlap_s=15.0)
    in_memory = analyze_in_chunks(SessionInMemory(session), chunk_s=40.0, overlap_s=15.0)
    assert from_file.cycles.equals(in_memory.cycles)
    assert from_file.warnings == in_memory.warnings


def test_later_windows_keep_the_first_windows_standing_calibration():
    # Standing only in the first and last 5 s: the middle window has none of its own.
    config = SimulationConfig(seed=12, sample_rate_hz=100.0, timeline=walking_test(n_bouts=6, bout_s=20.0))
    session = simulate(config).session
    result = analyze_in_chunks(SessionInMemory(session), chunk_s=50.0, overlap_s=10.0)
    assert len(result.windows) == 3
    assert not any("no standing-still period" in w for w in result.warnings)
    whole = analyze_session(session).cycles
    used = whole["used"].to_numpy() & result.cycles["used"].to_numpy()
    rotation = "knee_rotation_stance_mean_deg"
    assert np.nanmax(np.abs(result.cycles.loc[used, rotation] - whole.loc[used, rotation])) < ANGLE_TOLERANCE_DEG


def _cli_chunked(path, out, *extra):
    from imugait.cli import main

    return main(["analyze", str(path), "--out", str(out), "--no-calibration", "--chunk-minutes", str(40.0 / 60.0),
                 "--overlap-s", "15", *extra])


def test_analyze_command_chunked_agrees_with_the_whole_analysis(session, whole, tmp_path, capsys):
    path = write_session(session, tmp_path / "walk.parquet")
    assert _cli_chunked(path, tmp_path / "chunked.json", "--chunked") == 0
    assert "2 window(s)" in capsys.readouterr().out
    doc = json.loads((tmp_path / "chunked.json").read_text())
    assert len(doc["chunked"]["windows"]) == 2 and set(doc["legs"]) == {"left", "right"}
    chunked, expected = pd.DataFrame(doc["cycles"]), whole.cycles
    assert len(chunked) == len(expected) > 20
    assert (chunked["side"] == expected["side"]).all() and (chunked["used"] == expected["used"]).all()
    assert (chunked["exclusion"] == expected["exclusion"]).all()
    times = [c for c in expected.columns if c.startswith("t_")] + ["stride_time_s"]
    np.testing.assert_allclose(chunked[times].to_numpy(float), expected[times].to_numpy(float), atol=TIME_TOLERANCE_S, rtol=0)
    angles = [c for c in expected.columns if c.endswith("_deg")]
    used = expected["used"].to_numpy()
    difference = np.abs(chunked.loc[used, angles].to_numpy(float) - expected.loc[used, angles].to_numpy(float))
    assert np.nanmax(difference) < ANGLE_TOLERANCE_DEG
    for side, leg in doc["legs"].items():
        assert leg["n_strides_used"] == int(expected.loc[expected["side"] == side, "used"].sum())


def test_analyze_command_goes_chunked_above_the_stated_length(session, tmp_path, monkeypatch, capsys):
    import imugait.cli.analyze as command

    path = write_session(session, tmp_path / "walk.parquet")
    assert _cli_chunked(path, tmp_path / "whole.json") == 0  # ≈ 78 s: under the limit, whole
    assert "chunked" not in json.loads((tmp_path / "whole.json").read_text())
    monkeypatch.setattr(command, "CHUNKED_ABOVE_S", 60.0)
    assert _cli_chunked(path, tmp_path / "auto.json") == 0
    assert "chunked" in json.loads((tmp_path / "auto.json").read_text())
    assert _cli_chunked(path, tmp_path / "forced.json", "--whole") == 0
    assert "chunked" not in json.loads((tmp_path / "forced.json").read_text())
    capsys.readouterr()
    assert _cli_chunked(path, tmp_path / "refused.json", "--angles-csv", str(tmp_path / "angles.csv")) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--angles-csv needs the whole analysis" in err and "--whole" in err
    assert not (tmp_path / "refused.json").exists() and not (tmp_path / "angles.csv").exists()
