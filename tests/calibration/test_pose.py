"""The pose-only fallback: each segment calibrated from gravity and its own swing, used when the
two sensors do not fit one knee hinge — knee angles with stated (larger) errors, hip rotation
withheld, and the refusals that must stay still refuse."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.calibration.pose import swing_axis
from imugait.calibration.segment import HeadingSource, SegmentCalibrationConfig
from imugait.conventions import Placement, Side
from imugait.errors import CalibrationError
from imugait.model import Session
from imugait.simulate import SimulationConfig, simulate, walking_test

# A hinge residual limit of 0 makes every leg "not a hinge": the fallback's real trigger, forced.
NO_HINGE = SegmentCalibrationConfig(max_relative_residual=0.0)


@pytest.fixture(scope="module")
def sim():
    return simulate(SimulationConfig(seed=11, timeline=walking_test(n_bouts=2, bout_s=12.0)))


@pytest.fixture(scope="module")
def fallback(sim):
    return analyze_session(sim.session, AnalysisConfig(calibration=NO_HINGE))


def test_swing_axis_is_the_axis_of_largest_rate_perpendicular_to_up():
    rng = np.random.default_rng(0)
    up = np.array([0.0, 0.0, 1.0])
    axis = np.array([np.cos(0.4), np.sin(0.4), 0.0])
    rates = np.outer(3.0 * np.sin(np.linspace(0, 30, 3000)), axis) + rng.normal(0, 0.3, (3000, 3))
    rates[:, 2] += 5.0 * np.cos(np.linspace(0, 7, 3000))  # larger rate about "up" must be ignored
    found = swing_axis(rates, up)
    assert abs(np.dot(found, up)) < 1e-9
    assert np.degrees(np.arccos(abs(np.dot(found, axis)))) < 2.0


def test_a_leg_that_is_no_hinge_falls_back_to_the_pose(fallback):
    for leg in fallback.legs.values():
        assert leg.alignment.quality.heading_source is HeadingSource.POSE
        assert "do not move as a knee hinge" in leg.alignment.quality.fallback_reason
        assert leg.calibration_quality == "poor"
        assert "hip rotation not measured" in leg.calibration_method
    assert sum("calibrated from the pose alone" in w for w in fallback.warnings) == 2


def test_fallback_knee_flexion_follows_the_truth_and_hip_rotation_is_withheld(sim, fallback):
    for side, leg in fallback.legs.items():
        truth = np.interp(fallback.t_s, sim.truth.series["t_s"], sim.truth.angle(side, "knee_flexion_deg"))
        used = np.zeros(fallback.t_s.size, dtype=bool)
        for stride in leg.strides:
            if stride.used:
                used[slice(*np.searchsorted(fallback.t_s, [stride.t_initial_contact_s, stride.t_next_initial_contact_s]))] = True
        assert used.sum() > 10 * 100
        rmse = np.sqrt(np.mean((leg.angles_deg["knee_flexion_deg"][used] - truth[used]) ** 2))
        assert rmse < 3.0, f"{side.value}: knee flexion RMSE {rmse:.2f}°"
        assert np.isnan(leg.angles_deg["hip_rotation_deg"]).all()
        assert np.isnan(fallback.metric(side, "hip_rotation_mean_deg"))
        doc = fallback.to_dict()["legs"][side.value]["calibration"]
        assert doc["expected_error_deg"]["hip_rotation_rmse_deg"] is None
        assert doc["pose_only_fallback"]


def test_without_the_fallback_the_same_leg_is_refused(sim):
    config = AnalysisConfig(calibration=dataclasses.replace(NO_HINGE, pose_fallback=False))
    with pytest.raises(CalibrationError, match="do not move as a knee hinge"):
        analyze_session(sim.session, config)


def test_sensors_of_different_legs_are_refused_even_with_the_fallback(sim):
    mapping = {Placement.LEFT_SHANK: Placement.RIGHT_SHANK, Placement.RIGHT_SHANK: Placement.LEFT_SHANK}
    crossed = Session([dataclasses.replace(s, placement=mapping.get(s.placement, s.placement)) for s in sim.session.streams],
                      sim.session.meta)
    with pytest.raises(CalibrationError, match="do not move as a knee hinge"):
        analyze_session(crossed, AnalysisConfig(calibration=NO_HINGE))


def test_regular_calibration_is_kept_when_the_hinge_fits(sim):
    result = analyze_session(sim.session)
    assert all(leg.alignment.quality.heading_source is not HeadingSource.POSE for leg in result.legs.values())
    assert not any("pose alone" in w for w in result.warnings)
    assert np.isfinite(result.metric(Side.LEFT, "hip_rotation_mean_deg"))
