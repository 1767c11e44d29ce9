"""Quality checks fire on badly done steps; standalone prone and automatic detection work."""

from __future__ import annotations

from dataclasses import replace

import pytest

from imugait.assessment import Protocol, assess_session
from imugait.assessment.guided import GuidedRun, GuidedState
from imugait.assessment.result import ProtocolResult, QualityIssue
from imugait.conventions import Side
from imugait.simulate.postures import LegProtocolParams, ProtocolParams
from imugait.simulate.protocols import ProtocolSimConfig, simulate_protocols
from imugait.simulate.timeline import walking_test

SHORT_WALK = walking_test(n_bouts=1, bout_s=10.0, stand_s=4.0)


def _prone_only(seed: int = 5, **changes):
    protocol = ProtocolParams(
        left=LegProtocolParams(prone_internal_range_deg=30.0, prone_external_range_deg=45.0),
        right=LegProtocolParams(prone_internal_range_deg=50.0, prone_external_range_deg=28.0), prone_sweeps=1,
    )
    return simulate_protocols(ProtocolSimConfig(seed=seed, protocols=("prone",), protocol=replace(protocol, **changes)))


@pytest.fixture(scope="module")
def prone_only():
    sim = _prone_only()
    return sim, assess_session(sim.session)


def _codes(result: ProtocolResult) -> set[str]:
    return {i.code for i in result.issues}


def test_standalone_prone_recovers_ranges(prone_only):
    sim, result = prone_only
    prone = result.protocols[Protocol.PRONE]
    assert prone.passed, prone.issues
    for side in Side:
        for name in ("prone_internal_rotation_range_deg", "prone_external_rotation_range_deg"):
            assert result.metric(name, side).value == pytest.approx(sim.truth.value(name, side), abs=3.0)
    assert any("walking test" in w for w in result.warnings)  # no battery calibration, said so


def test_prone_detected_without_step_marks(prone_only):
    sim, _ = prone_only
    result = assess_session(sim.session.with_meta(steps=()))
    prone = result.protocols[Protocol.PRONE]
    assert prone.detection == "automatic"
    assert result.metric("prone_internal_rotation_range_deg", Side.RIGHT).value == pytest.approx(50.0, abs=3.0)


def test_knee_not_at_90_fires():
    result = assess_session(_prone_only(prone_knee_flexion_deg=55.0).session)
    prone = result.protocols[Protocol.PRONE]
    assert "knee_not_90" in _codes(prone) and not prone.passed
    assert any("knee not bent near 90°" in i.message for i in prone.issues)


def test_no_sweep_to_end_of_range_fires():
    sim = _prone_only(prone_end_hold_s=0.0, right=LegProtocolParams(prone_internal_range_deg=3.0, prone_external_range_deg=30.0))
    prone = assess_session(sim.session).protocols[Protocol.PRONE]
    codes = _codes(prone)
    assert "no_internal_sweep" in codes  # the right shin never fell out
    assert "internal_end_not_held" in codes or "external_end_not_held" in codes  # swung through, no pause
    assert any("no sweep to the end of range detected" in i.message for i in prone.issues)


def test_supine_not_still_fires():
    sim = simulate_protocols(ProtocolSimConfig(seed=8, protocols=("walking", "supine"), walking=SHORT_WALK,
                                               protocol=ProtocolParams(supine_jitter_deg=4.0)))
    supine = assess_session(sim.session).protocols[Protocol.SUPINE]
    assert "not_still" in _codes(supine) and not supine.passed


def test_protocols_without_walking_say_why():
    sim = simulate_protocols(ProtocolSimConfig(seed=9, protocols=("squat",)))
    squat = assess_session(sim.session).protocols[Protocol.SQUAT]
    assert _codes(squat) == {"needs_calibration"}
    assert "walking test" in squat.issues[0].message


def test_automatic_detection_of_squat_and_balance():
    sim = simulate_protocols(ProtocolSimConfig(
        seed=12, protocols=("walking", "squat", "balance"), walking=SHORT_WALK,
        protocol=ProtocolParams(right=LegProtocolParams(squat_knee_valgus_deg=6.0, balance_hold_s=8.0))))
    walking_only = tuple(s for s in sim.session.meta.steps if s.name.startswith("walking"))
    result = assess_session(sim.session.with_meta(steps=walking_only))
    assert result.protocols[Protocol.SQUAT].detection == "automatic"
    assert result.metric("squat_knee_valgus_deg", Side.RIGHT).value == pytest.approx(
        sim.truth.value("squat_knee_valgus_deg", Side.RIGHT), abs=4.0)
    assert result.metric("balance_hold_time_s", Side.RIGHT).value == pytest.approx(
        sim.truth.value("balance_hold_time_s", Side.RIGHT), abs=0.5)


def test_guided_run_redo_then_next():
    run = GuidedRun(countdown_s=3.0)
    assert run.state is GuidedState.PROMPT and run.instructions()
    run.ready(0.0)
    assert run.tick(1.0) is GuidedState.COUNTDOWN and run.countdown_remaining_s(1.0) == pytest.approx(2.0)
    assert run.tick(3.0) is GuidedState.RECORDING
    mark = run.done(8.0)
    assert (mark.name, mark.t_start_s, mark.t_end_s) == ("posture", 3.0, 8.0)
    failed = ProtocolResult(Protocol.POSTURE, issues=(QualityIssue(Protocol.POSTURE, "not_still", "not held still"),))
    assert run.checked(failed, 8.5) is GuidedState.REDO and run.feedback == ("not held still",)
    run.ready(10.0)
    run.tick(13.0)
    run.tick(13.0 + run.current.hold_s)  # time is up: recording ends by itself
    assert run.checked(ProtocolResult(Protocol.POSTURE), 30.0) is GuidedState.PROMPT
    assert run.current.protocol is Protocol.WALKING
    assert [m.attempt for m in run.accepted_marks()] == [2]
    while run.state is not GuidedState.FINISHED:
        run.skip(40.0)
    with pytest.raises(Exception, match="state"):
        run.ready(50.0)
