"""A recording sampled below the rate at which gait events keep their accuracy is analysed, with a
warning that says so; at the usual rates there is none."""

from __future__ import annotations

import pytest

from imugait.analysis import analyze_session
from imugait.gait.events import EVENTS_FULL_ACCURACY_MIN_RATE_HZ, low_rate_warning
from imugait.simulate import SimulationConfig, simulate, walking_test


def test_the_warning_names_the_rate_and_what_to_do():
    assert low_rate_warning(EVENTS_FULL_ACCURACY_MIN_RATE_HZ) is None
    assert low_rate_warning(100.0) is None
    text = low_rate_warning(25.0)
    assert text is not None and "25 Hz" in text and "50 Hz or more" in text


@pytest.mark.parametrize("rate_hz, warned", [(25.0, True), (100.0, False)])
def test_an_analysis_below_the_rate_carries_the_warning(rate_hz, warned):
    sim = simulate(SimulationConfig(seed=7, sample_rate_hz=rate_hz, timeline=walking_test(n_bouts=1, bout_s=12.0)))
    result = analyze_session(sim.session)
    assert result.legs, "both legs analysed"
    flagged = [w for w in result.warnings if "below 30 Hz" in w]
    assert bool(flagged) == warned, result.warnings
