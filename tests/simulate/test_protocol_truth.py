"""Truth of the scripted supine range and single-leg squat: the scripted ends are reached, and the
frontal-plane projection angle from joint centres agrees with the one from segment axes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imugait.assessment.measures import frontal_projection_angle_deg
from imugait.conventions import Side
from imugait.simulate.postures import LegProtocolParams, ProtocolParams
from imugait.simulate.protocols import ProtocolSimConfig, build_body, build_protocol_truth
from imugait.simulate.sensors import SensorErrors


@pytest.fixture(scope="module")
def truth():
    """The body only (no sensors): supine range and single-leg squat with distinct legs."""
    pp = ProtocolParams(
        left=LegProtocolParams(supine_internal_range_deg=22.0, supine_external_range_deg=47.0,
                               single_leg_squat_knee_valgus_deg=6.0),
        right=LegProtocolParams(supine_internal_range_deg=41.0, supine_external_range_deg=30.0,
                                single_leg_squat_hip_rotation_deg=9.0),
        supine_range_sweeps=1, single_leg_squat_reps=2)
    config = ProtocolSimConfig(protocol=pp, protocols=("supine", "single_leg_squat"), errors=SensorErrors.ideal())
    body = build_body(config, np.random.default_rng(0))
    return body, build_protocol_truth(body, config)


def test_supine_range_reaches_the_scripted_ends(truth):
    _body, t = truth
    assert t.value("supine_internal_rotation_range_deg", Side.LEFT) == pytest.approx(22.0, abs=0.05)
    assert t.value("supine_external_rotation_range_deg", Side.LEFT) == pytest.approx(47.0, abs=0.05)
    assert t.value("supine_internal_rotation_range_deg", Side.RIGHT) == pytest.approx(41.0, abs=0.05)
    assert t.value("supine_internal_minus_external_rotation_deg", Side.RIGHT) == pytest.approx(11.0, abs=0.1)


def test_supine_range_lies_with_the_shin_hanging(truth):
    body, t = truth
    s = t.series
    (_, a, b), = [m for m in body.marks if m[0] == "supine:left"]
    inside = (s.t_s >= a) & (s.t_s <= b)
    thigh = Rotation.from_quat(s.loc[inside, [f"q_world_left_thigh_{c}" for c in "wxyz"]].to_numpy(), scalar_first=True)
    assert np.abs(thigh.apply([0.0, 1.0, 0.0])[:, 2]).max() < np.sin(np.deg2rad(10.0))  # thigh flat
    assert s.loc[inside, "left_knee_flexion_deg"].median() == pytest.approx(90.0, abs=1.0)


def test_single_leg_squat_truth_matches_an_independent_fppa(truth):
    """Joint centres projected (protocol_truth) vs segment long axes projected (the assessment's
    formula) on the true body: two implementations of the same angle."""
    body, t = truth
    s = t.series
    for side in Side:
        (_, a, b), = [m for m in body.marks if m[0] == f"single_leg_squat:{side.value}"]
        idx = np.flatnonzero((s.t_s >= a) & (s.t_s <= b))
        q = {seg: Rotation.from_quat(s[[f"q_world_{side.value}_{seg}_{c}" for c in "wxyz"]].to_numpy()[idx],
                                     scalar_first=True) for seg in ("thigh", "shank")}
        anterior = Rotation.from_quat(s[[f"q_world_pelvis_{c}" for c in "wxyz"]].to_numpy()[idx[0]],
                                      scalar_first=True).apply([1.0, 0.0, 0.0])
        fppa = frontal_projection_angle_deg(q["thigh"].apply([0.0, 1.0, 0.0]), q["shank"].apply([0.0, 1.0, 0.0]),
                                            float(np.arctan2(anterior[1], anterior[0])), side)
        deepest = int(np.argmax(s[f"{side.value}_knee_flexion_deg"].to_numpy()[idx]))
        expected = t.value("single_leg_squat_knee_valgus_peak_deg", side)
        assert fppa[deepest] - fppa[0] == pytest.approx(expected, abs=0.05)
        assert expected > 3.0  # the stance hip's adduction alone makes the knee look inward
