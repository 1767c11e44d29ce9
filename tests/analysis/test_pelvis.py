"""With a pelvis sensor: hip flexion, adduction and rotation against the pelvis (ISB, sign table)."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.analysis import analyze_session
from imugait.conventions import Placement, Side
from imugait.simulate import SideParams, SimulationConfig, WalkerParams, simulate, walking_test

WITH_PELVIS = (Placement.PELVIS, Placement.LEFT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_THIGH,
               Placement.RIGHT_SHANK)


@pytest.fixture(scope="module")
def with_pelvis():
    out = []
    for seed, offset in ((31, 12.0), (32, -6.0)):
        sim = simulate(SimulationConfig(seed=seed, placements=WITH_PELVIS, timeline=walking_test(n_bouts=2, bout_s=12.0),
                                        walker=WalkerParams(right=SideParams(hip_rotation_offset_deg=offset))))
        out.append((sim, analyze_session(sim.session)))
    return out


def test_hip_angles_against_the_pelvis(with_pelvis):
    for sim, result in with_pelvis:
        assert result.pelvis_worn and not result.warnings
        series = sim.truth.series
        standing = series["t_s"] < 3.0
        for side, leg in result.legs.items():
            m = leg.in_bout
            for name, tolerance, referred_to_standing in (("hip_flexion_deg", 2.0, True), ("hip_adduction_deg", 2.0, True),
                                                          ("hip_rotation_pelvis_deg", 3.0, False)):
                truth = series[f"{side.value}_{name}"].to_numpy()
                if referred_to_standing:  # the pelvis's anatomical tilt is invisible to an IMU
                    truth = truth - truth[standing].mean()
                truth = np.interp(result.t_s, series["t_s"], truth)
                error = leg.angles_deg[name][m] - truth[m]
                assert np.sqrt(np.mean(error**2)) <= tolerance, f"{side.value} {name}"


def test_pelvis_metrics_and_outputs(with_pelvis):
    sim, result = with_pelvis[0]
    assert result.metric(Side.RIGHT, "hip_rotation_pelvis_mean_deg") - result.metric(Side.LEFT, "hip_rotation_pelvis_mean_deg") \
        == pytest.approx(12.0, abs=3.0)
    assert result.metric(Side.LEFT, "hip_flexion_range_deg") > 30.0
    columns = set(result.angles_frame().columns)
    assert {"left_hip_flexion_deg", "left_hip_adduction_deg", "right_hip_rotation_pelvis_deg", "right_hip_rotation_deg"} <= columns
    doc = result.to_dict()
    assert doc["pelvis_worn"] is True and "pelvis" in doc["hip_rotation_note"]


def test_without_a_pelvis_there_are_no_pelvis_angles(with_pelvis):
    sim, _ = with_pelvis[0]
    from imugait.model import Session

    legs_only = Session([s for s in sim.session.streams if s.placement is not Placement.PELVIS], sim.session.meta)
    result = analyze_session(legs_only)
    assert not result.pelvis_worn
    assert "hip_flexion_deg" not in result.legs[Side.LEFT].angles_deg
