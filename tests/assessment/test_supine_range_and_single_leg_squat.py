"""Supine hip rotation range and single-leg squat: recovered against simulated truth on a few seeded
subjects, quality checks on badly done steps, and the report's findings from their thresholds.

Tolerances are the 3° target, which every metric meets on the simulator (docs/assessment.md: worst
2.2° over 20 batteries). The frontal-plane projection angle amplifies facing-direction and
knee-axis errors about 2×; it met the target only once the thigh calibration's femur-rotation bias
was removed (it was ~+2.5°, up to ~6°)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from imugait.assessment import Protocol, assess_session
from imugait.assessment.guided_steps import check_step
from imugait.conventions import Side
from imugait.report.assessment import assessment_report
from imugait.simulate.postures import LegProtocolParams, ProtocolParams
from imugait.simulate.protocols import ProtocolSimConfig, simulate_protocols
from imugait.simulate.timeline import walking_test
from imugait.simulate.walker import SideParams, WalkerParams

SHORT_WALK = walking_test(n_bouts=2, bout_s=8.0, stand_s=4.0)
PROTOCOLS = ("walking", "supine", "single_leg_squat")

TOLERANCE = {
    "supine_internal_rotation_range_deg": 3.0,  # the issue's target
    "supine_external_rotation_range_deg": 3.0,
    "supine_internal_minus_external_rotation_deg": 3.0,
    "single_leg_squat_knee_flexion_peak_deg": 3.0,
    "single_leg_squat_knee_valgus_peak_deg": 3.0,  # FPPA
    "single_leg_squat_knee_valgus_3d_deg": 3.0,
    "single_leg_squat_femur_rotation_deg": 3.0,
}


def _subject(seed: int, **protocol_changes) -> ProtocolSimConfig:
    """A random person (seeded): walker offsets, supine ranges, single-leg squat valgus and rotation."""
    rng = np.random.default_rng(seed + 1000)

    def leg():
        return LegProtocolParams(
            single_leg_squat_knee_valgus_deg=rng.uniform(0, 8), single_leg_squat_hip_rotation_deg=rng.uniform(-5, 10),
            supine_internal_range_deg=rng.uniform(15, 50), supine_external_range_deg=rng.uniform(20, 50))

    def side():
        return SideParams(hip_rotation_offset_deg=rng.uniform(-10, 15), knee_valgus_deg=rng.uniform(0, 5))

    protocol = ProtocolParams(left=leg(), right=leg(), single_leg_squat_depth_deg=rng.uniform(45, 75),
                              supine_range_sweeps=1, single_leg_squat_reps=2)  # shorter: a fast test
    return ProtocolSimConfig(seed=seed, walker=WalkerParams(height_m=rng.uniform(1.55, 1.95), left=side(), right=side()),
                             protocol=replace(protocol, **protocol_changes), protocols=PROTOCOLS, walking=SHORT_WALK)


@pytest.fixture(scope="module", params=[0, 1, 2])
def subject(request):
    sim = simulate_protocols(_subject(request.param))
    return sim, assess_session(sim.session)


@pytest.mark.parametrize("name", sorted(TOLERANCE))
def test_metric_recovers_truth(subject, name):
    sim, result = subject
    values = [v for v in sim.truth.values if v.name == name]
    assert len(values) == 2, f"the simulator has no truth for {name} on both legs"
    for v in values:
        m = result.metric(name, v.side)
        assert m is not None, f"{name} {v.side} not measured"
        assert m.value == pytest.approx(v.value, abs=TOLERANCE[name]), (name, v.side)


def test_both_protocols_found_by_steps_and_passed(subject):
    _sim, result = subject
    for protocol in (Protocol.SUPINE, Protocol.SINGLE_LEG_SQUAT):
        r = result.protocols[protocol]
        assert r.passed and r.detection == "steps", r.issues
    # a marked single-leg squat is not searched for as a balance test or a squat
    assert Protocol.BALANCE not in result.protocols and Protocol.SQUAT not in result.protocols


def test_fppa_includes_femur_rotation_the_3d_valgus_does_not():
    """A knee with no 3-D valgus but an internally rotating femur shows valgus in the frontal-plane
    projection (truth and measurement alike): the two are different quantities."""
    still = LegProtocolParams(single_leg_squat_knee_valgus_deg=0.0, single_leg_squat_hip_rotation_deg=0.0)
    rotating = replace(still, single_leg_squat_hip_rotation_deg=12.0)
    sim = simulate_protocols(ProtocolSimConfig(seed=3, protocols=("walking", "single_leg_squat"), walking=SHORT_WALK,
                                               protocol=ProtocolParams(left=still, right=rotating)))
    result = assess_session(sim.session)
    fppa = {s: sim.truth.value("single_leg_squat_knee_valgus_peak_deg", s) for s in Side}
    assert fppa[Side.RIGHT] - fppa[Side.LEFT] > 8.0  # about 12° here
    assert abs(sim.truth.value("single_leg_squat_knee_valgus_3d_deg", Side.RIGHT)) < 0.5
    measured = {s: result.metric("single_leg_squat_knee_valgus_peak_deg", s).value for s in Side}
    assert measured[Side.RIGHT] - measured[Side.LEFT] == pytest.approx(fppa[Side.RIGHT] - fppa[Side.LEFT], abs=3.0)


@pytest.fixture(scope="module")
def badly_done():
    """Supine knees at 50° and no pause at the ends; the free foot put down between single-leg squats."""
    sim = simulate_protocols(_subject(7, supine_range_knee_flexion_deg=50.0, supine_range_end_hold_s=0.0,
                                      single_leg_squat_touch_down=True))
    return sim, assess_session(sim.session)


def test_supine_range_checks_ask_for_a_repeat(badly_done):
    _sim, result = badly_done
    r = result.protocols[Protocol.SUPINE]
    assert not r.passed
    codes = {(i.code, i.side) for i in r.issues}
    for side in Side:
        assert ("knee_not_90", side) in codes and ("internal_end_not_held", side) in codes
    message = next(i.message for i in r.issues if i.code == "knee_not_90")
    assert "not bent near 90°" in message and "repeat" in message


def test_single_leg_squat_checks_balance(badly_done):
    _sim, result = badly_done
    r = result.protocols[Protocol.SINGLE_LEG_SQUAT]
    assert {(i.code, i.side) for i in r.issues} == {("balance_lost", Side.LEFT), ("balance_lost", Side.RIGHT)}
    assert all(m.confidence.value == "low" for m in r.metrics)


def test_guided_check_repeats_the_bad_supine_leg(badly_done):
    sim, _result = badly_done
    steps = list(sim.session.meta.steps)
    i = next(k for k, s in enumerate(steps) if s.name == "supine:left")
    cache: dict = {}
    checked = check_step(sim.session, steps[i], steps[:i], cache=cache)
    assert not checked.passed and {x.side for x in checked.issues} == {Side.LEFT}
    assert cache, "the walking calibration is kept for the next checks"


def test_shallow_single_leg_squat_asks_for_depth():
    sim = simulate_protocols(_subject(8, single_leg_squat_depth_deg=20.0))
    r = assess_session(sim.session).protocols[Protocol.SINGLE_LEG_SQUAT]
    assert {i.code for i in r.issues} == {"not_deep_enough"} and not r.metrics
    assert "at least 40°" in r.issues[0].message


def test_report_finds_dynamic_valgus_from_the_threshold():
    """Right leg caving in (FPPA well above the 12° of the unknown-population threshold), left leg
    typical: the report finds dynamic knee valgus on the right only, and compares the supine ranges
    with their reference."""
    typical = LegProtocolParams(single_leg_squat_knee_valgus_deg=0.0, single_leg_squat_hip_rotation_deg=0.0)
    caving = LegProtocolParams(single_leg_squat_knee_valgus_deg=10.0, single_leg_squat_hip_rotation_deg=10.0)
    sim = simulate_protocols(ProtocolSimConfig(seed=5, protocols=PROTOCOLS, walking=SHORT_WALK,
                                               protocol=ProtocolParams(left=typical, right=caving)))
    assert sim.truth.value("single_leg_squat_knee_valgus_peak_deg", Side.RIGHT) > 20.0
    assert sim.truth.value("single_leg_squat_knee_valgus_peak_deg", Side.LEFT) < 10.0
    report = assessment_report(assess_session(sim.session))
    valgus = [f for f in report.findings if f.metric == "single_leg_squat_knee_valgus_peak_deg"]
    assert [(f.code, f.side) for f in valgus] == [("knee_valgus_dynamic", Side.RIGHT)]
    compared = {(c.metric, c.side) for c in report.comparisons}
    assert {("supine_internal_rotation_range_deg", Side.LEFT), ("supine_external_rotation_range_deg", Side.RIGHT)} <= compared
