"""``AnalysisConfig.fusion_tuning`` reaches the filter of every sensor (offline analysis)."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.analysis.legs import fuse_for_legs
from imugait.errors import ValidationError
from imugait.fusion import MadgwickTuning, VqfTuning
from imugait.simulate import SimulationConfig, simulate, walking_test


@pytest.fixture(scope="module")
def session():
    return simulate(SimulationConfig(seed=7, timeline=walking_test(n_bouts=1, bout_s=14.0))).session


def test_vqfs_own_defaults_given_explicitly_change_nothing(session):
    default = fuse_for_legs(session).fused
    explicit = fuse_for_legs(session, tuning=VqfTuning()).fused
    for placement, sensor in default.sensors.items():
        np.testing.assert_array_equal(explicit.sensors[placement].q_world_sensor, sensor.q_world_sensor)


def test_a_slower_inclination_correction_reaches_every_sensor_and_the_angles(session):
    tuning = VqfTuning(tau_acc_s=12.0, motion_bias_estimation=False)
    default = fuse_for_legs(session).fused
    tuned = fuse_for_legs(session, tuning=tuning).fused
    for placement, sensor in default.sensors.items():
        # the same sensor, differently fused: close (the same gyroscope) but not equal
        dot = np.abs(np.sum(tuned.sensors[placement].q_world_sensor * sensor.q_world_sensor, axis=1))
        turn_deg = np.rad2deg(2.0 * np.arccos(np.clip(dot, 0.0, 1.0)))
        assert 0.0 < turn_deg.max() < 10.0, placement
    result = analyze_session(session, AnalysisConfig(fusion_tuning=tuning))
    reference = analyze_session(session)
    for side, leg in reference.legs.items():
        assert not np.array_equal(result.legs[side].angles_deg["knee_flexion_deg"], leg.angles_deg["knee_flexion_deg"])


def test_a_tuning_of_another_filter_is_refused(session):
    with pytest.raises(ValidationError, match="MadgwickTuning cannot tune the vqf_offline filter"):
        analyze_session(session, AnalysisConfig(fusion_tuning=MadgwickTuning()))
