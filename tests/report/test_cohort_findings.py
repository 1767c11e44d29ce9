"""Hip-rotation findings on a small simulated cohort (the full cohort is
``benchmarks/report_cohort.py``; numbers in docs/report.md, "Detection on a simulated cohort").

30 walkers, each simulated, analysed end to end from raw sensor data with random sensor mountings
and default sensor errors, and reported: 10 normal walkers (hip offset 0 on both sides), 10 with
the right hip internally rotated by 13–20° and 10 by 10–12°. About 30 s on one core.

The targets are the issue's: a right hip internally rotated by 10° or more is flagged on the right
(and not on the left) with at least 95 % sensitivity; normal walkers get at most 5 % false
findings. The threshold is read from ``imugait/data/thresholds.json`` and is never tuned here.
Offsets near 10° put a walker's *true* mean hip rotation (about offset − 1.9°) within a degree of
the derived threshold (7.7°); how the method fares there is pinned separately, with the reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import report_cohort as rc  # noqa: E402

pytestmark = pytest.mark.slow

SEED = 7
"""Not the benchmark's seed (2031): the test draws other people than the documented run."""
TARGET_SENSITIVITY = 0.95
MAX_FALSE_RATE = 0.05
PER_WALK_TOLERANCE_DEG = 3.0
"""Per-walk mean hip rotation tolerance of the analysis tests (tests/analysis/test_accuracy.py)."""


def _walkers() -> list[rc.CohortWalker]:
    normal = [rc.draw_walker(rc.NORMAL, i, SEED) for i in range(10)]
    high = [rc.draw_walker(rc.ROTATED, i, SEED, offset_deg=o) for i, o in enumerate(np.linspace(13.0, 20.0, 10))]
    near = [rc.draw_walker(rc.ROTATED, 100 + i, SEED, offset_deg=o)
            for i, o in enumerate(np.linspace(10.0, 12.0, 10))]
    return normal + high + near


@pytest.fixture(scope="module")
def results() -> list[dict]:
    out = rc.run(_walkers(), jobs=1)
    assert all(r["error"] is None for r in out), [r["error"] for r in out if r["error"]]
    return out


@pytest.fixture(scope="module")
def threshold_deg() -> float:
    return rc.hip_limits()[1]


def _normal(results):
    return [r for r in results if r["group"] == rc.NORMAL]


def _rotated(results, lo, hi):
    return [r for r in results if r["group"] == rc.ROTATED and lo <= r["right_offset_deg"] <= hi]


def _sensitivity(rs) -> float:
    return sum(rc.detected(r) for r in rs) / len(rs)


def test_the_threshold_is_the_documented_derived_band():
    """Guards the numbers this file's reasoning uses; the band itself is checked against the
    normative file in test_data_files.py."""
    assert rc.hip_limits() == (-11.4, 7.7)


def test_normal_walkers_get_at_most_5_percent_false_findings(results):
    normal = _normal(results)
    assert len(normal) == 10
    hip = sum(rc.has_hip_finding(r) for r in normal)
    anything = sum(bool(r["findings"]) for r in normal)
    assert hip / len(normal) <= MAX_FALSE_RATE, [r["findings"] for r in normal]
    assert anything / len(normal) <= MAX_FALSE_RATE, [r["findings"] for r in normal]


def test_right_hip_rotated_13_deg_or_more_is_flagged_on_the_right_with_95_percent_sensitivity(results):
    rotated = _rotated(results, 13.0, 20.0)
    assert len(rotated) == 10
    assert _sensitivity(rotated) >= TARGET_SENSITIVITY, [
        (r["right_offset_deg"], r["right_measured_deg"], r["findings"]) for r in rotated if not rc.detected(r)]
    assert not any(r["left_hip_finding"] for r in rotated)


def test_right_hip_rotated_10_deg_or_more_is_flagged_with_95_percent_sensitivity(results):
    """The issue's target over the whole range of offsets (10–20°, 20 walkers here)."""
    rotated = _rotated(results, 10.0, 20.0)
    assert len(rotated) == 20
    assert _sensitivity(rotated) >= TARGET_SENSITIVITY, [
        (r["right_offset_deg"], r["right_true_mean_deg"], r["right_measured_deg"]) for r in rotated
        if not rc.detected(r)]


def test_near_threshold_misses_only_where_the_truth_is_within_a_degree_of_the_threshold(results, threshold_deg):
    """At 10–12° the truth (about offset − 1.9°) sits 0–3° above the 7.7° threshold, so an unbiased
    measurement with a per-walk SD of about 0.5° can miss walkers right at the bottom (benchmark,
    seed 2031: 9/10 in 10–12°, 18/20 at exactly 10° where a perfect measurement flags 16/20). A miss
    is acceptable only where the truth is within 1° of the threshold."""
    for r in _rotated(results, 10.0, 12.0):
        if not rc.detected(r):
            assert r["right_true_mean_deg"] - threshold_deg < 1.0, r


def test_near_10_deg_detection_no_longer_leans_on_a_systematic_bias(results, threshold_deg):
    """Pins the per-walk bias that near-threshold detection depends on, so that a change shows.

    The derived threshold is the normative mean + 1 SD = 7.7°. A walker's true mean hip rotation
    is about offset − 1.9° (the normative curve's own mean), so at a 10° offset the truth sits only
    0–1° above the threshold: a perfect measurement would flag such a walker about 80 % of the time
    (benchmark: 16/20 at exactly 10°), below the 95 % target.

    The measured per-walk mean used to read about 0.8° more internal than the truth on every walker
    (+0.3…+1.5° was pinned here), which lifted detection at 10° to 19/20. That was the thigh
    calibration's flexion axis turned about the femur by the knee's flexion-coupled adduction; the
    calibration now removes the lean the normative secondary motion predicts
    (imugait/calibration/secondary_motion.py, docs/calibration.md) — and the walking direction
    the normative lateral lean of the thigh's swing (imugait/kinematics/swing_tilt.py), which had
    hidden most of it (the two leaned about 1° and 2.5° in opposite senses). Measured on these 60
    legs: mean error about +0.1°, SD about 0.5° (docs/report.md); +0.33° since the thigh sensor's
    frontal tilt is compensated (``compensate_thigh_tilt``: the femur's own frontal slope it
    subtracts is the normative one, which these walkers' right femurs exceed a little,
    docs/accuracy.md). Do not loosen the threshold (it is derived from the normative file) to get
    a margin back.
    """
    errors = [r[f"{s}_measured_deg"] - r[f"{s}_true_mean_deg"] for r in results for s in ("left", "right")]
    assert abs(float(np.mean(errors))) <= 0.4
    near = _rotated(results, 10.0, 12.0)
    margins = [r["right_true_mean_deg"] - threshold_deg for r in near]
    # The truth itself is within about a degree of the threshold at the bottom of the range ...
    assert min(margins) < 1.0
    assert all(m > 0 for m in margins)  # ... but still above it for these walkers (offset ≥ 10°).


def test_decisions_agree_with_the_truth_away_from_the_threshold(results, threshold_deg):
    """Every walker whose true right mean is more than the per-walk tolerance away from the
    threshold gets the decision the truth gives; the per-walk error itself is within tolerance."""
    for r in results:
        for side in ("left", "right"):
            assert abs(r[f"{side}_measured_deg"] - r[f"{side}_true_mean_deg"]) <= PER_WALK_TOLERANCE_DEG, r
        true = r["right_true_mean_deg"]
        if true > threshold_deg + PER_WALK_TOLERANCE_DEG:
            assert rc.detected(r), r
        elif true < threshold_deg - PER_WALK_TOLERANCE_DEG:
            assert not r["right_hip_finding"], r
