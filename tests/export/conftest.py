"""One short simulated walk, analysed once for every export test (seeded)."""

from __future__ import annotations

import pytest

from imugait.analysis import analyze_session
from imugait.simulate import SimulationConfig, simulate, walking_test


@pytest.fixture(scope="session")
def simulated():
    """(session, analysis): 3 s standing, one 10-s straight bout, a turn, standing."""
    sim = simulate(SimulationConfig(seed=3, timeline=walking_test(n_bouts=1, bout_s=10.0, stand_s=3.0),
                                    subject_id="sim-export"))
    return sim.session, analyze_session(sim.session)


@pytest.fixture(scope="session")
def analysis(simulated):
    return simulated[1]


@pytest.fixture
def xsens_leg_dir():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "skinematics_xsens_leg"
    if not (folder / "walking_xsens_upperLeg.txt").is_file():
        pytest.skip(f"real Xsens data not available: {folder.resolve()} is absent (see ../shared/datasets/README.md)")
    return folder
