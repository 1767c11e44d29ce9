"""Clipped data: a gyroscope at full scale excludes its strides, an accelerometer at full scale is
only reported (docs/analysis.md, stage 5)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imugait.analysis import analyze_session
from imugait.gait.cycles import Exclusion
from imugait.model import DeviceInfo, Session
from imugait.simulate import SimulationConfig, simulate, walking_test


@pytest.fixture(scope="module")
def walk() -> Session:
    return simulate(SimulationConfig(seed=11, timeline=walking_test(n_bouts=2, bout_s=10.0))).session


def with_ranges(session: Session, acc_range_mps2: float | None, gyr_range_radps: float | None) -> Session:
    """The same samples, declared to come from sensors with these full-scale ranges."""
    device = DeviceInfo(acc_range_mps2=acc_range_mps2, gyr_range_radps=gyr_range_radps)
    return Session([dataclasses.replace(s, device=device) for s in session.streams], session.meta)


def test_accelerometer_saturation_is_reported_not_excluded(walk):
    baseline = analyze_session(walk)
    low_acc = analyze_session(with_ranges(walk, acc_range_mps2=1.3 * 9.81, gyr_range_radps=None))
    for side, leg in low_acc.legs.items():
        assert leg.acc_clipped.mean() > 0.01  # heel strikes and swing exceed 1.3 g on the shank
        assert not leg.clipped.any()
        assert [s.used for s in leg.strides] == [s.used for s in baseline.legs[side].strides]
    legs_json = low_acc.to_dict()["legs"]
    assert all(v["acc_clipped_fraction"] > 0.01 and v["clipped_fraction"] == 0.0 for v in legs_json.values())


def test_gyroscope_saturation_excludes_strides(walk):
    result = analyze_session(with_ranges(walk, acc_range_mps2=None, gyr_range_radps=4.0))
    for leg in result.legs.values():
        assert leg.clipped.mean() > 0.01  # the shank swings faster than 4 rad/s in mid-swing
        assert not any(s.used for s in leg.strides)
        assert any(s.exclusion == Exclusion.CLIPPED for s in leg.strides)
        assert np.all(leg.acc_clipped == False)  # noqa: E712 (no accelerometer range declared)
