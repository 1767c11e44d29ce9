"""The benchmarks' shared command-line options parse their own defaults (argparse passes a string
default through the option's ``type``: ``real_data.py`` without options once failed on it)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

cohort = pytest.importorskip("_cohort")


@pytest.mark.parametrize("text", ["", "none", "20", "12.5"])
def test_flexion_axis_limit_accepts_its_default_none_and_degrees(text):
    assert cohort.flexion_limit_from_text(text) == text


def test_flexion_axis_limit_refuses_anything_else():
    with pytest.raises(ValueError):
        cohort.flexion_limit_from_text("twenty")
