"""`benchmarks/expected_error.py`: the data file's expected errors are the 95th percentiles of the
cohort's per-leg CSVs — written from them, checked against them, and a difference is found."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

writer = pytest.importorskip("expected_error")


def _csv(path: Path, scale: float) -> None:
    legs = np.arange(1, 81, dtype=float)  # 95th percentile of 1..80 (linear) = 76.05
    pd.DataFrame({col: scale * legs * (-1 if i % 2 else 1) for i, col in enumerate(writer.COLUMNS.values())}).to_csv(
        path, index=False)


def _data_file(path: Path) -> None:
    zero = {key: 0.0 for key in writer.COLUMNS}
    entry = {"sample_rate_hz": 50, "measured_at": "50 Hz", "source": "test",
             "references": {"standing": dict(zero), "mid-stance": dict(zero)}}
    other = {**entry, "sample_rate_hz": 100, "measured_at": "100 Hz"}
    doc = {"format_version": 2, "by_sample_rate": [entry, other], "pose_only_by_sample_rate": [dict(entry)]}
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_written_from_the_csvs_then_checked_and_a_difference_found(tmp_path):
    runs, data = tmp_path / "runs", tmp_path / "expected.json"
    runs.mkdir()
    _csv(runs / "s50.csv", 0.01)
    _csv(runs / "m50.csv", 0.02)
    _csv(runs / "ps50.csv", 0.03)
    _csv(runs / "pm50.csv", 0.04)
    _data_file(data)
    assert writer.main([str(runs), "--check", "--data-file", str(data)]) == 1
    assert writer.main([str(runs), "--write", "--data-file", str(data)]) == 0
    doc = json.loads(data.read_text(encoding="utf-8"))
    standing = doc["by_sample_rate"][0]["references"]["standing"]
    assert standing["knee_flexion_rmse_deg"] == pytest.approx(0.76, abs=0.005)
    assert standing["knee_adduction_rmse_deg"] == pytest.approx(0.76, abs=0.005)  # absolute values
    assert doc["by_sample_rate"][0]["references"]["mid-stance"]["hip_rotation_rmse_deg"] == pytest.approx(1.52, abs=0.005)
    assert doc["by_sample_rate"][1]["references"]["standing"]["knee_flexion_rmse_deg"] == 0.0  # no CSVs at 100 Hz
    pose = doc["pose_only_by_sample_rate"][0]["references"]["standing"]
    assert pose["hip_rotation_rmse_deg"] is None and pose["knee_flexion_rmse_deg"] == pytest.approx(2.28, abs=0.005)
    assert writer.main([str(runs), "--check", "--data-file", str(data)]) == 0


def test_a_csv_without_the_columns_is_named(tmp_path):
    path = tmp_path / "s50.csv"
    pd.DataFrame({"walker": ["w000"]}).to_csv(path, index=False)
    with pytest.raises(SystemExit, match="s50.csv: not a per-leg CSV"):
        writer.percentile_95(path)


def test_the_low_pass_runs_are_written_beside_the_point_sampled_ones(tmp_path):
    """``lps`` / ``lpm`` CSVs (``--anti-alias odr``; ``lpps`` / ``lppm`` with ``--pose-only``) become
    the entry's ``low_pass`` figures; a rate without them gets none, and the check then compares
    them too."""
    runs, data = tmp_path / "runs", tmp_path / "expected.json"
    runs.mkdir()
    for name, scale in (("s50", 0.01), ("m50", 0.02), ("lps50", 0.005), ("lpm50", 0.006), ("lpps50", 0.007),
                        ("lppm50", 0.008)):
        _csv(runs / f"{name}.csv", scale)
    _data_file(data)
    assert writer.main([str(runs), "--write", "--data-file", str(data)]) == 0
    doc = json.loads(data.read_text(encoding="utf-8"))
    at_50, at_100 = doc["by_sample_rate"]
    assert at_50["references"]["standing"]["knee_flexion_rmse_deg"] == pytest.approx(0.76, abs=0.005)
    assert at_50["low_pass"]["references"]["standing"]["knee_flexion_rmse_deg"] == pytest.approx(0.38, abs=0.005)
    assert at_50["low_pass"]["references"]["mid-stance"]["hip_rotation_rmse_deg"] == pytest.approx(0.46, abs=0.005)
    assert "low_pass" not in at_100
    pose_low = doc["pose_only_by_sample_rate"][0]["low_pass"]["references"]["mid-stance"]
    assert pose_low["knee_flexion_rmse_deg"] == pytest.approx(0.61, abs=0.005) and pose_low["hip_rotation_rmse_deg"] is None
    assert writer.main([str(runs), "--check", "--data-file", str(data)]) == 0
    _csv(runs / "lpm50.csv", 0.007)
    assert writer.main([str(runs), "--check", "--data-file", str(data)]) == 1
