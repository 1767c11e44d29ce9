"""`benchmarks/stride_count.py`: the stride rule follows its criterion and is stored where the
report reads it, with everything else in the thresholds file kept."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

stride_count = pytest.importorskip("stride_count")


def test_strides_needed_is_the_first_count_whose_interval_fits():
    from scipy import stats

    n = stride_count.strides_needed(3.0, 3.0, 1.0)
    half = lambda k: stats.t.ppf(0.975, k - 1) * 3.0 / math.sqrt(k)  # noqa: E731
    assert half(n) <= 3.0 < half(n - 1)
    assert stride_count.strides_needed(3.0, 3.0, 0.5) > n


def test_the_rule_is_written_into_the_thresholds_file_and_read_back(tmp_path):
    from imugait.report.thresholds import parse_thresholds

    path = tmp_path / "thresholds.json"
    shutil.copy(ROOT / "imugait" / "data" / "thresholds.json", path)
    before = json.loads(path.read_text(encoding="utf-8"))
    rules = pd.DataFrame([{"metric": "hip_rotation_mean_deg", "medium": 3, "high": 5},
                          {"metric": "stance_pct", "medium": 4, "high": 9}])
    stride_count.write_rule(path, rules, "2030-01-02 03:04 UTC")
    after = json.loads(path.read_text(encoding="utf-8"))
    assert after["confidence_rules"]["min_strides"] == {
        "default": {"medium": 4, "high": 9},
        "by_metric": {"hip_rotation_mean_deg": {"medium": 3, "high": 5}, "stance_pct": {"medium": 4, "high": 9}}}
    source = after["sources"][after["confidence_rules"]["min_strides_source"]]["citation"]
    assert "2030-01-02 03:04 UTC" in source
    assert after["thresholds"] == before["thresholds"]
    rule = parse_thresholds(after).confidence.stride_rule("hip_rotation_mean_deg")
    assert (rule.medium, rule.high) == (3, 5)
