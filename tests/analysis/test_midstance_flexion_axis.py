"""A walk without a standing period is calibrated against mid-stance, where the flexion axis is
fitted near that pose by default (``SegmentCalibrationConfig.midstance_flexion_axis_max_knee_flexion_deg``):
the femur's rotation against the simulator's truth."""

from __future__ import annotations

import pytest

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.calibration.segment import SegmentCalibrationConfig
from imugait.simulate import SideParams, SimulationConfig, WalkerParams, simulate, ten_metre_walk


@pytest.fixture(scope="module")
def ten_metre_sim():
    config = SimulationConfig(
        seed=311,
        walker=WalkerParams(height_m=1.70, speed_mps=1.2, cadence_spm=110.0,
                            left=SideParams(hip_rotation_offset_deg=8.0), right=SideParams(knee_dynamic_valgus_deg=4.0)),
        timeline=ten_metre_walk(1.2, passes=2, standing=False),
        random_mounting=True,
    )
    return simulate(config)


def _walk_mean_hip_errors_deg(sim, calibration: SegmentCalibrationConfig) -> dict[str, float]:
    result = analyze_session(sim.session, AnalysisConfig(calibration=calibration))
    out = {}
    for side, leg in result.legs.items():
        assert leg.reference == "mid-stance"
        used = result.cycles[(result.cycles["side"] == side.value) & result.cycles["used"]]
        steady = sim.truth.cycles[(sim.truth.cycles["side"] == side.value) & sim.truth.cycles["steady"]]
        out[side.value] = float(used["hip_rotation_mean_deg"].mean() - steady["hip_rotation_progression_mean_deg"].mean())
    return out


def test_midstance_reference_fits_the_axis_near_that_pose(ten_metre_sim):
    """Measured per-walk mean hip-rotation error: +0.46° / +0.23° (left / right) by default, +1.62° /
    +1.78° with every sample fitted (2026-12-06, with the thigh sensor's turn compensated on this path
    too; without it +0.43° / −0.05° and +1.90° / +1.73°; the cohort: 1.82 → 0.52° median,
    docs/calibration.md)."""
    default = _walk_mean_hip_errors_deg(ten_metre_sim, SegmentCalibrationConfig())
    every_sample = _walk_mean_hip_errors_deg(
        ten_metre_sim, SegmentCalibrationConfig(midstance_flexion_axis_max_knee_flexion_deg=None))
    assert set(default) == {"left", "right"}
    for side, error_deg in default.items():
        assert abs(error_deg) < 1.0, default
        assert abs(every_sample[side]) > abs(error_deg) + 1.0, (default, every_sample)
