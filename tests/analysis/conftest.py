"""A small simulated cohort analysed once for all analysis tests (seeded)."""

from __future__ import annotations

import pytest

from imugait.analysis import analyze_session
from imugait.simulate import SideParams, SimulationConfig, WalkerParams, simulate, walking_test

COHORT = [
    SimulationConfig(seed=101, walker=WalkerParams(right=SideParams(hip_rotation_offset_deg=12.0)),
                     timeline=walking_test(n_bouts=2, bout_s=12.0)),
    SimulationConfig(seed=102, walker=WalkerParams(height_m=1.6, speed_mps=1.0, cadence_spm=100.0,
                                                   left=SideParams(hip_rotation_offset_deg=-8.0)),
                     timeline=walking_test(n_bouts=2, bout_s=12.0)),
    SimulationConfig(seed=103, walker=WalkerParams(height_m=1.9, speed_mps=1.5, cadence_spm=118.0,
                                                   right=SideParams(hip_rotation_offset_deg=18.0,
                                                                    knee_dynamic_valgus_deg=6.0)),
                     timeline=walking_test(n_bouts=2, bout_s=12.0)),
]


@pytest.fixture(scope="session")
def cohort():
    """[(SimulationResult, AnalysisResult)] for the small cohort."""
    out = []
    for config in COHORT:
        sim = simulate(config)
        out.append((sim, analyze_session(sim.session)))
    return out
