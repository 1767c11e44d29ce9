"""The live pipeline on real recordings (``../shared/datasets``), fed as they would stream: the qmt
full-body example (it finds standing, calibrates both legs and reports plausible strides) and
10-m walk tests of the MPU-9250 dataset (calibrated when the person stops, strides as ``analyze``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import LiveRun, feed_polled, offline_like_live
from test_live_agreement import HIP_METRICS, KNEE_METRICS, matched

from imugait.conventions import Placement, Side
from imugait.gait.plausibility import plausibility_limits
from imugait.io import read_qmt_mat
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.standing import LIVE_STANDING_STEP, LIVE_STILL_STEP
from imugait.live.updates import CalibrationPhase, LiveUpdate, latest_strides

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
QMT = DATASETS / "qmt_full_body" / "full_body_example_data.mat"
LEGS = {Placement.LEFT_THIGH: "upper_leg_left", Placement.LEFT_SHANK: "lower_leg_left",
        Placement.RIGHT_THIGH: "upper_leg_right", Placement.RIGHT_SHANK: "lower_leg_right"}

pytestmark = pytest.mark.realdata


def test_a_real_walk_streams_into_plausible_strides():
    if not QMT.exists():
        pytest.skip(f"real dataset not available: {QMT} is absent (see ../shared/datasets/README.md)")
    session = read_qmt_mat(QMT, LEGS, subject_id="qmt-example")
    live = LiveKinematics(list(session), LiveConfig(rate_hz=max(s.sample_rate_hz for s in session.streams)))
    updates = feed_polled(live, session, 0.05, 0.25)
    update = LiveUpdate(t_s=updates[-1].t_s, strides=tuple(s for u in updates for s in u.strides))
    # The documented standing period is 40-44 s (the dataset's README): found live.
    assert live.standing_step is not None and 39.5 <= live.standing_step.t_start_s < live.standing_step.t_end_s <= 44.5
    assert {s.phase for s in live.calibration_states()} == {CalibrationPhase.CALIBRATED}
    # The moves before sitting down (44-52 s: a few steps, then sitting; the sit is 52-79 s) stop
    # after more than 3 s of motion, but are not a walk (not periodic): the legs are calibrated on
    # the walk after the sit, not at the end of that "pass".
    assert min(u.t_s for u in updates for c in u.calibration if c.phase is CalibrationPhase.CALIBRATED) > 79.0
    limits = plausibility_limits()
    for side in Side:
        used = [s for s in latest_strides(update.strides) if s.side is side and s.used]
        assert len(used) >= 8, side
        for s in used:
            assert 0.8 <= s.metrics["stride_time_s"] <= 1.4
            assert 50.0 <= s.metrics["knee_flexion_swing_peak_deg"] <= 85.0
            # The plausibility contract (imugait/data/plausibility.json) holds for every used stride.
            assert limits.knee_flexion_min_deg <= s.metrics["knee_flexion_min_deg"]
            assert s.metrics["knee_flexion_max_deg"] <= limits.knee_flexion_max_deg
            assert s.metrics["knee_adduction_range_deg"] <= limits.knee_adduction_range_deg
            assert 50.0 <= s.metrics["stance_pct"] <= 70.0


def test_a_stream_that_ends_after_motion_that_is_not_a_walk_says_so():
    """The same recording ended at 60 s (``end()``), after the standing (40–44 s), the moves to the
    chair and the sit: 4.3 s of knee motion, not a walk (its magnitude's autocorrelation at most
    0.39), so the legs are left waiting — and their message names that, not "without 3 s of
    walking" (what it said before 2026-12-06, issue 11)."""
    if not QMT.exists():
        pytest.skip(f"real dataset not available: {QMT} is absent (see ../shared/datasets/README.md)")
    session = read_qmt_mat(QMT, LEGS, subject_id="qmt-example")
    session = session.slice_time(session.t_start_s, 60.0)
    live = LiveKinematics(list(session), LiveConfig(rate_hz=max(s.sample_rate_hz for s in session.streams)))
    live.feed_session(session, chunk_s=0.05)
    live.end()
    for state in live.calibration_states():
        assert state.phase is CalibrationPhase.WAITING_FOR_WALKING
        moved = state.message.split(" s of knee motion with no stride repeating in it", 1)
        assert len(moved) == 2 and 3.0 <= float(moved[0].rsplit(" ", 1)[-1]) <= 9.0, state.message


MPU9250_ZIP = DATASETS / "gait_rehab_mpu9250" / "Healthy_Adults-gait_activity.zip"


def _mpu9250_walk(walk_id: str):
    if not MPU9250_ZIP.exists():
        pytest.skip(f"real dataset not available: {MPU9250_ZIP} is absent (see ../shared/datasets/README.md)")
    from imugait.io import read_mpu9250_walk

    return read_mpu9250_walk(MPU9250_ZIP, walk_id)


def _streamed(session, config: LiveConfig | None = None):
    """The walk fed in 50-ms blocks, polled every 0.25 s of data: (pipeline, updates)."""
    live = LiveKinematics(list(session), config or LiveConfig(rate_hz=max(s.sample_rate_hz for s in session.streams)))
    return live, feed_polled(live, session, 0.05, 0.25)


@pytest.mark.parametrize(("walk_id", "reference", "step"), [
    ("NO.1/left/IMU_10", "mid-stance", None),  # walks off at once
    ("NO.1/right/IMU_5", "standing", LIVE_STILL_STEP),  # stands still ~1 s at the start line
])
def test_a_real_10_m_walk_streamed_gives_its_strides_when_the_person_stops(walk_id, reference, step):
    """A 10-m walk test (MPU-9250 dataset, 100 Hz, one leg, 13.8–14.3 s, about 9 s of walking): too
    short for the calibration's 10 s of walking, so the leg is calibrated at the end of the pass —
    the person stopped — on the walk buffered, and its strides agree with ``analyze`` (online
    filter, the live run's standing). Measured (benchmarks/live_real.py, 2026-12-06): knee metrics
    within 0.03°, hip rotation 0.004°, events 0.002 ms; 6 strides used live, 6–7 by ``analyze``."""
    session = _mpu9250_walk(walk_id)
    live, updates = _streamed(session)
    (side,) = live.sides
    (state,) = live.calibration_states()
    assert state.phase is CalibrationPhase.CALIBRATED and state.reference == reference
    assert (live.standing_step.name if live.standing_step else None) == step
    calibrated_at = next(u.t_s for u in updates for c in u.calibration if c.phase is CalibrationPhase.CALIBRATED)
    assert calibrated_at < session.t_end_s - 0.4  # at the stop, before the recording ended
    everything = LiveUpdate(t_s=updates[-1].t_s, strides=tuple(s for u in updates for s in u.strides))
    table = matched(LiveRun(session, live, everything, offline_like_live(session, live)))
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    assert len(both) >= 5
    assert both[list(KNEE_METRICS)].abs().max().max() <= 0.5
    assert both[list(HIP_METRICS)].abs().max().max() <= 0.5
    assert both[["ic_s", "to_s", "next_ic_s"]].abs().max().max() <= 0.001


@pytest.mark.parametrize(("walk_id", "step"), [
    ("NO.6/left/IMU_0", LIVE_STANDING_STEP),  # stands still 3.8 s at the start line
    ("NO.6/right/IMU_0", LIVE_STILL_STEP),  # 2.6 s
])
def test_a_real_10_m_walk_with_impact_spikes_in_the_shank_rate_is_a_walk_at_its_end(walk_id, step):
    """Two 10-m walks (MPU-9250, 100 Hz; 9.7–10.6 s of motion, 7–8 strides) whose shank rate carries
    foot-impact spikes that differ from stride to stride: raw, its magnitude's autocorrelation at
    the stride (1.14 s) is 0.48–0.50, under the 0.5 the end of a pass takes for a walk, and the
    legs were never calibrated live, not even by ``end()`` ("waiting for walking", no strides),
    where ``analyze`` uses 6 strides of each. The magnitude averaged over
    ``WALK_RHYTHM_SMOOTH_S`` (0.65–0.69) is a walk: each leg is calibrated when the person stops,
    against the standing at the start line, as ``analyze``. Measured 2026-12-06: 6 strides used by
    both of 8 and 7, knee metrics within 0.06 / 0.25°, hip rotation 0.08 / 0.54°, events 0.0001 ms."""
    session = _mpu9250_walk(walk_id)
    live, updates = _streamed(session)
    (state,) = live.calibration_states()
    assert state.phase is CalibrationPhase.CALIBRATED and state.reference == "standing"
    assert live.standing_step.name == step
    calibrated_at = next(u.t_s for u in updates for c in u.calibration if c.phase is CalibrationPhase.CALIBRATED)
    assert calibrated_at < session.t_end_s - 0.4  # at the stop, before the recording ended
    live.end()
    updates.append(live.poll())
    everything = LiveUpdate(t_s=updates[-1].t_s, strides=tuple(s for u in updates for s in u.strides))
    table = matched(LiveRun(session, live, everything, offline_like_live(session, live)))
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    assert len(both) >= 5 and table["used"].sum() == table["offline_used"].sum()
    assert both[list(KNEE_METRICS)].abs().max().max() <= 0.5
    assert both[list(HIP_METRICS)].abs().max().max() <= 1.0
    assert both[["ic_s", "to_s", "next_ic_s"]].abs().max().max() <= 0.001


def test_without_the_end_of_pass_a_real_10_m_walk_is_never_calibrated():
    """The same walk waits for ``standing_wait_s`` and ``max_motion_s`` (10 s) of walking, which it
    does not have: no strides (what the live path gave before the end of a pass was a trigger)."""
    session = _mpu9250_walk("NO.1/left/IMU_10")
    live, updates = _streamed(session, LiveConfig(rate_hz=100.0, end_of_pass_s=None))
    assert live.calibration_states()[0].phase is not CalibrationPhase.CALIBRATED
    assert not any(u.strides for u in updates)


KIEL_WALK = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "kiel_pp054" / "walk.csv"


def test_the_end_of_the_stream_calibrates_a_short_walk_that_did_not_stop():
    """The Kiel pp054 walk (5.7 s, 200 Hz, committed: ``benchmarks/data/kiel_pp054``) stands still
    0.4 s and ends turning: as streamed, neither standing nor the end of a pass comes. ``end()`` (the
    take stopped) calibrates both legs on the walk buffered; every stride ``analyze`` finds is
    there, with its events and knee metrics (measured 2026-12-06: 7 of 7, events 0.0006 ms, knee
    0.00°), and used or not as ``analyze`` decides at the recording's end — the strides into the
    final turn are outside its bout (``main`` e9970cc: 5 used live, 2 by ``analyze``) — with
    ``analyze``'s hip rotation where both use them (measured: 0.00°)."""
    from imugait.io import read_csv_session

    session = read_csv_session(KIEL_WALK, subject_id="kiel-pp054")
    live = LiveKinematics(list(session), LiveConfig(rate_hz=200.0))
    live.feed_session(session, chunk_s=0.05)
    streamed = live.poll()
    assert not streamed.strides and not live.legs
    live.end()
    ended = live.poll()
    assert [(s.phase, s.reference) for s in live.calibration_states()] == [
        (CalibrationPhase.CALIBRATED, "mid-stance")] * 2
    table = matched(LiveRun(session, live, ended, offline_like_live(session, live)))
    assert len(table) == 7
    assert table[["ic_s", "to_s", "next_ic_s"]].abs().max().max() <= 0.001
    assert table[list(KNEE_METRICS)].abs().max().max() <= 0.1
    assert table["used"].tolist() == table["offline_used"].tolist() and table["used"].sum() == 2
    assert table.loc[table["used"], list(HIP_METRICS)].abs().max().max() <= 0.1


def test_the_end_of_a_pass_does_not_depend_on_how_the_samples_were_chunked():
    """The end of a pass is decided at fixed instants of grid time, like every other decision: the
    walk fed in random blocks and polled at random gives the same angles and strides."""
    from test_live_chunks import _angles, _feed, _strides, assert_same_strides

    session = _mpu9250_walk("NO.1/left/IMU_10")
    config = LiveConfig(rate_hz=100.0)
    blocks, _ = _feed(session, iter([0.05] * 100_000), config)
    chunked, _ = _feed(session, iter(np.random.default_rng(3).uniform(0.001, 0.3, size=100_000)), config,
                       poll_every=20, seed=4)
    got, expected = _angles(chunked), _angles(blocks)
    assert got.keys() == expected.keys() and got
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-9, err_msg=str(key))
    assert len(_strides(blocks)) >= 6
    assert_same_strides(_strides(chunked), _strides(blocks))


HUGADB_EXCHANGED = {Placement.RIGHT_THIGH: "LT", Placement.RIGHT_SHANK: "LS",
                    Placement.LEFT_THIGH: "RT", Placement.LEFT_SHANK: "RS"}
"""HuGaDB's left and right exchanged, as ``benchmarks/real_data.py`` counts them (its swap check)."""


def _hugadb_streamed_to_its_end(walk: str, side: Side | None = None, history_s: float = 60.0,
                                reference_backlog_s: float = 360.0) -> tuple[LiveRun, pd.DataFrame]:
    """A HuGaDB walking file streamed (50-ms blocks, a poll every 0.25 s; ``history_s`` of history,
    ``reference_backlog_s`` of backlog) and ended at its end, and its strides (of ``side``, or all)
    against ``analyze`` (``matched``)."""
    path = DATASETS / "hugadb_walking" / f"HuGaDB_v1_walking_{walk}.txt"
    if not path.exists():
        pytest.skip(f"real dataset not available: {path} is absent (see ../shared/datasets/README.md)")
    from imugait.io import read_hugadb
    from imugait.timebase import grid_rate_hz

    session = read_hugadb(path, HUGADB_EXCHANGED, subject_id=f"hugadb-{walk}", corrupted_gyro="drop_leg")
    live = LiveKinematics(list(session), LiveConfig(rate_hz=grid_rate_hz(session.streams, None), history_s=history_s,
                                                     reference_backlog_s=reference_backlog_s))
    updates = feed_polled(live, session, 0.05, 0.25)
    live.end()
    updates.append(live.poll())
    strides = tuple(s for u in updates for s in u.strides if side is None or s.side is side)
    run = LiveRun(session, live, LiveUpdate(t_s=updates[-1].t_s, strides=strides), offline_like_live(session, live))
    return run, matched(run)


def test_a_real_walk_streamed_to_its_end_gives_every_stride_of_analyze_final_with_its_knee_and_hip():
    """HuGaDB walking_03_00 (28.6 s; one leg with sound gyroscopes; walking from the first sample to
    the last: no standing, so referred to mid-stance) streamed and ended at the recording's end.
    Every stride ``analyze`` finds is given (the first, 0.9 s into the recording, from windows that
    start with it; the last from ``end()``), each final: events as offline, hip rotation with the
    straight run fitted again at the end, the knee with the heading offset interpolated as offline.
    What is left of the knee is the mid-stance reference (live: the strides of the first 15 s;
    ``analyze``: all of them; benchmarks/live_real_stages.py, docs/live.md). Measured 2026-12-06:
    30 of 30 strides, 29 used by both, all final; knee rotation 0.64° at most (median 0.49°), other
    knee metrics ≤ 0.36°, hip rotation ≤ 0.10°, events 0.000 ms, thigh–shank timing ≤ 3 ms (before:
    29 of 30 strides, none final, hip rotation up to 7.0°, knee rotation 1.45°). Since fusion
    integrates the gyroscope at its samples' instants (2026-12-06; live and ``analyze`` alike): hip
    rotation 0.25° at most (0.098° with the same walk's gyroscope declared interval means, the
    integration before), knee ≤ 0.62°; the hip bound went from 0.2 to 0.3°."""
    run, table = _hugadb_streamed_to_its_end("03_00")
    assert len(table) == len(run.offline.cycles) >= 25
    assert table[["ic_s", "to_s", "next_ic_s"]].abs().max().max() <= 0.001
    assert table["thigh_shank_lag_s"].abs().max() <= 0.005
    both = table[table["used"] & table["offline_used"]]
    assert len(both) >= 25 and both["final"].all()
    assert both[list(HIP_METRICS)].abs().max().max() <= 0.3
    knee = both[list(KNEE_METRICS)].abs()
    assert knee.max().max() <= 0.8
    assert knee.drop(columns="knee_rotation_stance_mean_deg").max().max() <= 0.5



def test_a_walk_without_standing_gives_analyzes_knee_flexion():
    """HuGaDB walking_01_00 (102 s, both legs, no standing: referred to mid-stance) streamed and
    ended at its end: the knee flexion metrics of the strides used by both are ``analyze``'s. The
    knee's reference inclination (a causal filter) is taken over the calibration walk's mid-stance
    rows, which live finds over the 15 s it has buffered and ``analyze`` over the whole recording;
    their initial contacts came from a hinge axis fitted to all the motion given, so a few rows
    differed and knee flexion was 1.13 / 1.23 / 1.13° off (initial contact, loading peak, swing
    peak; 184 strides); with the mask's hinge axis fitted to the calibration walk itself the rows
    are the same: 0.13 / 0.15 / 0.10° (measured 2026-12-06; docs/live-history.md, "The calibration walk's
    mid-stance rows")."""
    _run, table = _hugadb_streamed_to_its_end("01_00")
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    assert len(both) >= 170 and both["final"].all()
    flexion = [m for m in KNEE_METRICS if m.startswith("knee_flexion")]
    worst = both[flexion].abs().max()
    print(worst.round(3).to_dict())
    assert worst.max() <= 0.4
    assert both[list(KNEE_METRICS)].abs().max().max() <= 1.0

def test_a_bout_the_causal_run_detection_split_is_fitted_again_whole():
    """HuGaDB walking_01_00 (102 s, both legs; the right leg counted): ``analyze`` finds a straight
    bout at 69.6–94.4 s where the causal run detection ends a run at 85.4 s and starts the next at
    86.1 s (likewise 38.6–50.2 s). Fitted again run by run, the right leg's hip rotation parted from
    ``analyze``'s linearly along the bout, up to 10.4° (33 of 86 strides over 1°); once the run is
    merged with the next when ``analyze``'s detection finds no turn between them
    (:func:`imugait.live.revision.one_bout`), 2 of 86 (2.5° at most, the first strides of a 3.5-s
    bout), median 0.19° (measured 2026-12-06, the stream ended at the recording's end)."""
    _run, table = _hugadb_streamed_to_its_end("01_00", Side.RIGHT)
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    assert len(both) >= 80 and both["final"].all()
    hip = both[list(HIP_METRICS)].abs().max(axis=1)
    assert (hip <= 1.0).mean() >= 0.95
    assert hip.max() <= 3.0


def test_a_long_walk_without_standing_takes_the_reference_and_the_direction_of_all_of_it():
    """HuGaDB walking_06_00, left leg (118 s, no standing: referred to mid-stance; one straight
    bout of about 74 s, longer than the 60-s history), streamed and ended at its end. The strides'
    final knee takes the mid-stance reference over the walk so far and, at the end, over all of it
    (``analyze``'s), not the first 15 s's; the bout's walking direction comes from sums over all of
    it, also for the strides given as their rows left the history. Measured 2026-12-06 (125 strides
    used by both): knee adduction stance mean / valgus peak median 0.09° / 0.05° (before, the
    first 15 s's reference: 1.64° / 1.56°), hip rotation 0.56° at most (before 4.91°);
    docs/live-history.md, "The mid-stance reference over the walk, and runs longer than the
    history"."""
    _run, table = _hugadb_streamed_to_its_end("06_00", Side.LEFT)
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    assert len(both) >= 110 and both["final"].all()
    assert both[list(HIP_METRICS)].abs().max().max() <= 1.0
    knee = both[["knee_adduction_stance_mean_deg", "knee_valgus_stance_peak_deg"]].abs()
    assert knee.median().max() <= 0.3


def test_the_knee_axes_take_the_calibration_walks_upward_directions_live_and_offline():
    """HuGaDB walking_06_00, right leg (118 s, no standing: referred to mid-stance; not trusted, 13
    strides used by both) streamed and ended at its end. The knee axes are fitted with the thigh's
    and shank's upward directions from the calibration walk's mid-stances, live and in ``analyze``
    alike (``calibrate_leg(…, axes_reference=…)``). Before, ``analyze`` took them from every
    stride's mid-stance: the thigh's frame was 0.97° apart about its long axis and hip rotation
    1.07° (measured 2026-12-06; docs/live.md, "Known limits"); after, 0.13°."""
    _run, table = _hugadb_streamed_to_its_end("06_00", Side.RIGHT)
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    assert len(both) >= 10 and both["final"].all()
    assert both[list(HIP_METRICS)].abs().max().max() <= 0.5


@pytest.mark.parametrize("history_s", [60.0, 20.0])
def test_strides_older_than_the_history_take_the_whole_walks_reference_at_its_end(history_s):
    """HuGaDB walking_06_00, left leg (118 s of walking, no standing: referred to mid-stance),
    streamed with a 60-s and a 20-s history and ended at its end: every stride used by both is
    within 1° of ``analyze`` in every knee metric — also those given final long before the end,
    whose rows had left the history (their knee inputs kept,
    :mod:`imugait.live.reference_backlog`, and referred to the whole walk's mid-stance at the end).
    Measured 2026-12-06: 125 strides used by both with either history, knee 0.36° at most; ``main``
    fails both: 2.22°: the strides older than the history kept the mid-stance reference of the walk
    up to their final version. docs/live-history.md, "Strides older than the history
    at a walk's end"."""
    _run, table = _hugadb_streamed_to_its_end("06_00", Side.LEFT, history_s)
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    assert len(both) >= 110 and both["final"].all()
    knee, hip = (both[list(metrics)].abs().max().max() for metrics in (KNEE_METRICS, HIP_METRICS))
    print(f"history {history_s:.0f} s: {len(both)} used by both, knee {knee:.2f}°, hip rotation {hip:.2f}°")
    assert knee <= 1.0
    # Hip rotation: a straight run longer than the history takes, at its end, the line of all of it
    # from sums (its lateral-lean correction approximated) — its strides older than the history too
    # (their thigh's rows kept). 20-s history: 1.03° (``main``: 1.44°, those strides against the line
    # of the run as it was when they left the history). Since the knee axes take the calibration
    # walk's upward directions in ``analyze`` too (twentieth session), the constant part is gone:
    # signed median −0.36 / −0.43° → −0.10 / −0.17° (60 / 20 s), largest 0.69 → 0.44° with 60 s; with
    # 20 s one stride's +1.24° (it was +0.98°, the offset then cancelling part of it; the other tail
    # −1.02 → −0.77°).
    assert np.abs(both[list(HIP_METRICS)].median()).max() <= 0.25
    assert hip <= (0.6 if history_s >= 60.0 else 1.3)


def test_the_reference_backlog_is_bounded_and_older_strides_keep_their_reference():
    """The same walk with a 20-s history and a 30-s backlog (``LiveConfig.reference_backlog_s``):
    the backlog holds 30 s of rows (its arrays are allocated once) and only the strides whose rows
    it holds; the strides older than it keep the reference of their final version, as without a
    backlog (measured 2026-12-06: knee 2.22° off ``analyze`` at most, in the walk's first strides;
    within 1° in the last 50 s)."""
    run, table = _hugadb_streamed_to_its_end("06_00", Side.LEFT, 20.0, 30.0)
    for kept in (run.live.legs[Side.LEFT].backlog.knee, run.live.legs[Side.LEFT].backlog.thigh):
        assert kept.rows.capacity == round(30.0 * run.live.config.rate_hz)
        kept.forget_old()  # (as the walk's end does)
        t_kept = kept.rows.tail("t_s")
        assert len(kept.strides) <= 30 / 0.8  # (strides of at least 0.8 s)
        assert all(p.stride.t_initial_contact_s > t_kept[0] for p in kept.strides)
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= 0.05)]
    knee = both[list(KNEE_METRICS)].abs().max(axis=1)
    late = both["index"] >= both["index"].max() - 20  # (about the last 22 s: in the backlog)
    print(f"knee: the last 20 strides {knee[late].max():.2f}°, earlier {knee[~late].max():.2f}°")
    assert knee[late].max() <= 1.0 < knee[~late].max()
