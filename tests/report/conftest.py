"""Two simulated walkers analysed and reported once for all report tests (seeded)."""

from __future__ import annotations

import pytest

from imugait.analysis import analyze_session
from imugait.report.report import build_report
from imugait.simulate import SideParams, SimulationConfig, WalkerParams, simulate, walking_test

TIMELINE = walking_test(n_bouts=2, bout_s=12.0)
HTML_INJECTION = "<script>alert(1)</script>"


@pytest.fixture(scope="session")
def rotated_analysis():
    """A walker whose right hip is internally rotated by 15°; the subject id is hostile HTML."""
    config = SimulationConfig(seed=6, timeline=TIMELINE, subject_id=HTML_INJECTION,
                              walker=WalkerParams(right=SideParams(hip_rotation_offset_deg=15.0)))
    return analyze_session(simulate(config).session)


@pytest.fixture(scope="session")
def normal_analysis():
    return analyze_session(simulate(SimulationConfig(seed=5, timeline=TIMELINE, subject_id="normal-01")).session)


@pytest.fixture(scope="session")
def rotated_report(rotated_analysis):
    return build_report(rotated_analysis, pain_reported=False, generated_at="2026-01-02T10:00:00+00:00")


@pytest.fixture(scope="session")
def normal_report(normal_analysis):
    return build_report(normal_analysis, generated_at="2026-01-02T10:00:00+00:00")
