"""The live legs' calibration beyond the plain case: no standing period (mid-stance, as offline),
a failed calibration tried again, and a recalibration asked for during the run."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import feed_polled
from test_live_chunks import _angles as angles_by_leg
from test_live_chunks import _feed, _strides, assert_same_strides

from imugait.analysis import analyze_session
from imugait.analysis.expected_error import expected_error
from imugait.analysis.pipeline import AnalysisConfig
from imugait.conventions import Side
from imugait.errors import CalibrationError
from imugait.fusion.settings import FilterKind
from imugait.live import leg_start as live_leg_start
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import CalibrationPhase, latest_strides
from imugait.simulate import SensorErrors, SimulationConfig, corridor_walk, simulate
from imugait.simulate.timeline import PhaseKind, TimelinePhase

RATE_HZ = 200.0


@pytest.fixture(scope="module")
def no_standing():
    """A corridor walk started on "go": walking from the first sample, no standing at all."""
    sim = simulate(SimulationConfig(seed=7, sample_rate_hz=RATE_HZ, errors=SensorErrors(loss_probability=0.002),
                                    timeline=corridor_walk(1.3, 40.0, standing=False)))
    live = LiveKinematics(list(sim.session), LiveConfig(rate_hz=RATE_HZ))
    return sim, live, feed_polled(live, sim.session, 0.05)


def _angles(updates, side):
    rows = [a for u in updates for a in u.angles if a.side is side]
    return np.concatenate([a.t_s for a in rows]), np.concatenate([a.knee_flexion_deg for a in rows])


def test_without_standing_the_legs_calibrate_against_mid_stance_as_offline(no_standing):
    sim, live, updates = no_standing
    states = [s for u in updates for s in u.calibration]
    final = {s.side: s for s in live.calibration_states()}
    assert {s.phase for s in final.values()} == {CalibrationPhase.CALIBRATED}
    assert {s.reference for s in final.values()} == {"mid-stance"}
    # Each states the errors to expect at the live grid's rate, as a report of the leg would.
    expected = expected_error("mid-stance", RATE_HZ, pose_only=False)
    assert all(f"within {expected.errors_deg['knee_flexion_rmse_deg']:.1f}° knee flexion" in s.calibration_method
               and expected.where in s.calibration_method for s in final.values())
    # On the way it said why it was not waiting for standing any more.
    assert any(s.phase is CalibrationPhase.WAITING_FOR_WALKING and "mid-stance" in s.message for s in states)
    assert live.calibration is not None and dict(live.calibration.references) == {s: "mid-stance" for s in Side}
    assert live.standing_step is None and live.gyr_bias_radps == {}  # the filters learn the biases, as offline
    # The same fallback as `analyze` with the same filter and calibration walk: knee flexion agrees
    # with it and with the truth as offline does (its test: RMSE < 2.5°, mean within 2°).
    offline = analyze_session(sim.session, AnalysisConfig(filter_kind=FilterKind.VQF_ONLINE, rate_hz=RATE_HZ,
                                                          calibration=live.config.calibration))
    for side, leg in offline.legs.items():
        assert leg.reference == "mid-stance"
        t, flexion = _angles(updates, side)
        keep = (t > 15.0) & np.isfinite(flexion)
        assert keep.sum() > 15 * RATE_HZ
        off = np.interp(t[keep], offline.t_s, leg.angles_deg["knee_flexion_deg"])
        assert np.median(np.abs(flexion[keep] - off)) < 0.5
        truth = np.interp(t[keep], sim.truth.series["t_s"], sim.truth.angle(side, "knee_flexion_deg"))
        error = flexion[keep] - truth
        assert np.sqrt(np.mean(error ** 2)) < 3.0 and abs(np.mean(error)) < 2.5
    assert {s.side for s in latest_strides(s for u in updates for s in u.strides) if s.used} == set(Side)


def test_the_mid_stance_path_does_not_depend_on_how_the_samples_were_chunked(no_standing):
    sim, _live, updates = no_standing
    rng = np.random.default_rng(8)
    chunked, _ = _feed(sim.session, iter(rng.uniform(0.001, 0.3, size=100_000)), LiveConfig(rate_hz=RATE_HZ),
                       poll_every=30, seed=9)
    got, expected = angles_by_leg(chunked), angles_by_leg(updates)
    assert got.keys() == expected.keys() and got
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-9, err_msg=str(key))
    assert_same_strides(_strides(chunked), _strides(updates))


def test_without_the_fallback_the_legs_wait_for_standing(no_standing):
    sim = no_standing[0]
    live = LiveKinematics(list(sim.session), LiveConfig(rate_hz=RATE_HZ, standing_wait_s=None))
    live.feed_session(sim.session, 0.05)
    update = live.poll()
    assert not update.angles and {s.phase for s in live.calibration_states()} == {CalibrationPhase.WAITING_FOR_STANDING}


def test_a_failed_leg_calibration_is_tried_again_on_the_next_walk(live_run, monkeypatch):
    real = live_leg_start.calibrate_fused_leg_upright
    calls: list[tuple[Side, float]] = []

    def failing_once(fused, side, standing, moving, *args):
        calls.append((side, float(fused.t_s[np.flatnonzero(moving)[0]])))
        if sum(s is side for s, _ in calls) == 1:
            raise CalibrationError(f"{side.value}: made to fail by the test")
        return real(fused, side, standing, moving, *args)

    monkeypatch.setattr(live_leg_start, "calibrate_fused_leg_upright", failing_once)
    live = LiveKinematics(list(live_run.session), LiveConfig(rate_hz=RATE_HZ))
    states = []
    original = live.feed

    def feed(samples):
        original(samples)
        states.extend(live.poll().calibration)

    live.feed = feed
    live.feed_session(live_run.session, 0.05)
    failed = [s for s in states if s.phase is CalibrationPhase.FAILED]
    assert {s.side for s in failed} == set(Side)
    assert all("made to fail" in s.message and "trying again" in s.message for s in failed)
    assert {s.phase for s in live.calibration_states()} == {CalibrationPhase.CALIBRATED}
    for side in Side:
        first, second = [t for s, t in calls if s is side]
        # The second try counts only the walking after the first (10 s of it, at least).
        assert second > first + 5.0


def _stand_walk_twice() -> SimulationConfig:
    timeline = (TimelinePhase(PhaseKind.STAND, 5.0, "stand_1"), TimelinePhase(PhaseKind.WALK, 18.0, "walk_1"),
                TimelinePhase(PhaseKind.STAND, 5.0, "stand_2"), TimelinePhase(PhaseKind.WALK, 16.0, "walk_2"))
    return SimulationConfig(seed=3, sample_rate_hz=RATE_HZ, timeline=timeline)


def test_recalibrate_drops_the_calibration_and_calibrates_on_the_next_standing_and_walk():
    session = simulate(_stand_walk_twice()).session
    live = LiveKinematics(list(session), LiveConfig(rate_hz=RATE_HZ))
    updates = []
    asked_at = []
    original = live.feed

    def feed(samples):
        original(samples)
        if not asked_at and samples.t_s[-1] >= 23.5:  # the first walk is over: recalibrate
            assert live.calibration is not None
            asked_at.append(float(live.grid.tail("t_s")[-1]))
            live.recalibrate()
        updates.append(live.poll())

    live.feed = feed
    live.feed_session(session, 0.05)
    states = [s for u in updates for s in u.calibration]
    after = [s for u in updates for s in u.calibration if np.isfinite(u.t_s) and u.t_s >= 23.5]
    assert [s.phase for s in states if s.side is Side.LEFT][:1] == [CalibrationPhase.WAITING_FOR_STANDING]
    assert {s.phase for s in after if s.side is Side.LEFT} >= {CalibrationPhase.WAITING_FOR_STANDING,
                                                               CalibrationPhase.WAITING_FOR_WALKING,
                                                               CalibrationPhase.CALIBRATED}
    assert "recalibrating" in next(s.message for s in after if s.phase is CalibrationPhase.WAITING_FOR_STANDING)
    # The new standing reference is the second standing period; the legs are calibrated on it.
    assert live.standing_step is not None and 22.5 < live.standing_step.t_start_s < 29.0
    assert {s.phase for s in live.calibration_states()} == {CalibrationPhase.CALIBRATED}
    assert {s.reference for s in live.calibration_states()} == {"standing"}
    # Between the recalibration and the new calibration no angle is given (the rows in between
    # come afterwards, with the new calibration); the strides of both walks are numbered one after
    # the other.
    pressed = next(i for i, u in enumerate(updates) if any(
        s.phase is CalibrationPhase.WAITING_FOR_STANDING for s in u.calibration) and u.t_s >= 23.5)
    again = next(i for i, u in enumerate(updates) if i > pressed and any(
        s.phase is CalibrationPhase.CALIBRATED for s in u.calibration))
    assert not any(u.angles for u in updates[pressed + 1:again]) and again > pressed + 100
    for side in Side:
        t, flexion = _angles(updates, side)
        assert np.isfinite(flexion[t < asked_at[0]]).any() and np.isfinite(flexion[t > 35.0]).any()
        indices = [s.index for s in latest_strides(s for u in updates for s in u.strides) if s.side is side]
        assert indices == list(range(len(indices))) and len(indices) > 12
