"""``AnalysisConfig.heading`` reaches the calibration of every leg (offline analysis)."""

from __future__ import annotations

import numpy as np

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.calibration.heading import HeadingConfig
from imugait.simulate import SimulationConfig, simulate, walking_test


def test_the_heading_windows_follow_the_analysis_config():
    sim = simulate(SimulationConfig(seed=7, timeline=walking_test(n_bouts=1, bout_s=14.0)))
    default = analyze_session(sim.session)
    finer = analyze_session(sim.session, AnalysisConfig(heading=HeadingConfig(centre_step_s=1.0)))
    for side, leg in default.legs.items():
        assert leg.alignment.quality.heading_from_joint_centre
        step_default = np.median(np.diff(leg.alignment.heading.window_t_s))
        step_finer = np.median(np.diff(finer.legs[side].alignment.heading.window_t_s))
        assert abs(step_default - HeadingConfig().centre_step_s) < 1e-9
        assert abs(step_finer - 1.0) < 1e-9
