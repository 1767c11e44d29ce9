"""Magnetometer-free heading: knee rotation and varus/valgus stay stable over a 10-minute walk.

Without a magnetometer each sensor's heading drifts with its gyroscope bias, so the thigh-shank
heading offset drifts too; the knee constraint keeps re-estimating it (calibration.heading). The
test compares the last two minutes with the first two, and shows what a fixed offset would give.
"""

from __future__ import annotations

import numpy as np
import pytest

from imugait.analysis import analyze_session
from imugait.conventions import Joint, Placement, Segment, Side, joint_angles_rad
from imugait.kinematics.angles import segment_orientations
from imugait.kinematics.prepare import fuse_session
from imugait.simulate import SimulationConfig, simulate, walking_test

TEN_MINUTES = walking_test(n_bouts=20, bout_s=27.0, stand_s=5.0, turn_s=2.5)


@pytest.fixture(scope="module")
def long_walk():
    sim = simulate(SimulationConfig(seed=21, timeline=TEN_MINUTES))
    return sim, analyze_session(sim.session)


def _rmse(result, sim, side, values_deg, truth_name, window):
    truth = np.interp(result.t_s, sim.truth.series["t_s"], sim.truth.angle(side, truth_name))
    m = result.legs[side].in_bout & window
    return float(np.sqrt(np.mean((values_deg[m] - truth[m]) ** 2)))


@pytest.mark.slow
def test_knee_rotation_and_adduction_do_not_drift_over_ten_minutes(long_walk):
    sim, result = long_walk
    t = result.t_s
    assert t[-1] > 590.0
    first, last = t < 125.0, t > t[-1] - 120.0
    for side, leg in result.legs.items():
        for name in ("knee_rotation_deg", "knee_adduction_deg"):
            early = _rmse(result, sim, side, leg.angles_deg[name], name, first)
            late = _rmse(result, sim, side, leg.angles_deg[name], name, last)
            assert late < 3.0, f"{side.value} {name}: {late:.2f}° RMSE in the last two minutes"
            assert late < early + 1.5


@pytest.mark.slow
def test_a_fixed_heading_offset_would_drift(long_walk):
    """The same data with the calibration's heading offset held constant: knee rotation drifts."""
    sim, result = long_walk
    side = Side.RIGHT
    leg = result.legs[side]
    # The same inputs as the analysis: gyroscope biases measured while standing, removed first.
    raw = fuse_session(sim.session, t_s=result.t_s)
    bias = {p: s.gyr_radps[leg.standing].mean(axis=0) for p, s in raw.sensors.items()}
    fused = fuse_session(sim.session, t_s=result.t_s, gyr_bias_radps=bias)
    a = fused.sensors[Placement.of(Segment.THIGH, side)]
    b = fused.sensors[Placement.of(Segment.SHANK, side)]
    fixed = np.full(result.t_s.size, leg.alignment.heading.heading_offset_rad[0])
    q_thigh, q_shank = segment_orientations(a.q_world_sensor, b.q_world_sensor, leg.alignment.thigh.q_sensor_segment,
                                            leg.alignment.shank.q_sensor_segment, fixed)
    rotation = np.rad2deg(joint_angles_rad(q_thigh, q_shank, Joint.KNEE, side)[:, 2])
    last = result.t_s > result.t_s[-1] - 120.0
    tracked = _rmse(result, sim, side, leg.angles_deg["knee_rotation_deg"], "knee_rotation_deg", last)
    untracked = _rmse(result, sim, side, rotation, "knee_rotation_deg", last)
    assert untracked > 2 * tracked
