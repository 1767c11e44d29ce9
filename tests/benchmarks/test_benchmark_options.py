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


def _tuning(*argv: str):
    import argparse

    parser = argparse.ArgumentParser()
    cohort.add_vqf_tuning_arguments(parser)
    return cohort.vqf_tuning_from_args(parser.parse_args(list(argv)))


def test_vqf_tuning_options_leave_vqfs_defaults_alone_unless_given():
    from imugait.fusion import FilterKind, VqfTuning

    assert _tuning() is None
    assert _tuning("--tau-acc", "6") == VqfTuning(tau_acc_s=6.0)
    assert _tuning("--no-motion-bias") == VqfTuning(motion_bias_estimation=False)
    tuned = _tuning("--tau-acc", "1.5", "--no-motion-bias")
    assert cohort.fusion_tuning_for(FilterKind.VQF_ONLINE, tuned) is tuned
    assert cohort.fusion_tuning_for(FilterKind.MADGWICK, tuned) is None  # the other filters keep theirs
