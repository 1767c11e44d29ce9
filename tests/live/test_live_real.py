"""The live pipeline on a real recording (qmt full-body example, ``../shared/datasets``): fed as it
would stream, it finds standing, calibrates both legs and reports plausible strides."""

from __future__ import annotations

from pathlib import Path

import pytest

from imugait.conventions import Placement, Side
from imugait.gait.plausibility import plausibility_limits
from imugait.io import read_qmt_mat
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import CalibrationPhase, latest_strides

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
QMT = DATASETS / "qmt_full_body" / "full_body_example_data.mat"
LEGS = {Placement.LEFT_THIGH: "upper_leg_left", Placement.LEFT_SHANK: "lower_leg_left",
        Placement.RIGHT_THIGH: "upper_leg_right", Placement.RIGHT_SHANK: "lower_leg_right"}

pytestmark = pytest.mark.realdata


def test_a_real_walk_streams_into_plausible_strides():
    if not QMT.exists():
        pytest.skip(f"real dataset not available: {QMT} is absent (see ../shared/datasets/README.md)")
    session = read_qmt_mat(QMT, LEGS, subject_id="qmt-example")
    live = LiveKinematics(list(session), LiveConfig(rate_hz=max(s.sample_rate_hz for s in session.streams)))
    live.feed_session(session, chunk_s=0.05)
    update = live.poll()
    # The documented standing period is 40-44 s (the dataset's README): found live.
    assert live.standing_step is not None and 39.5 <= live.standing_step.t_start_s < live.standing_step.t_end_s <= 44.5
    assert {s.phase for s in live.calibration_states()} == {CalibrationPhase.CALIBRATED}
    limits = plausibility_limits()
    for side in Side:
        used = [s for s in latest_strides(update.strides) if s.side is side and s.used]
        assert len(used) >= 8, side
        for s in used:
            assert 0.8 <= s.metrics["stride_time_s"] <= 1.4
            assert 50.0 <= s.metrics["knee_flexion_swing_peak_deg"] <= 85.0
            # The plausibility contract (imugait/data/plausibility.json) holds for every used stride.
            assert limits.knee_flexion_min_deg <= s.metrics["knee_flexion_min_deg"]
            assert s.metrics["knee_flexion_max_deg"] <= limits.knee_flexion_max_deg
            assert s.metrics["knee_adduction_range_deg"] <= limits.knee_adduction_range_deg
            assert 50.0 <= s.metrics["stance_pct"] <= 70.0
