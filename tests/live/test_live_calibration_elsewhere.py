"""The legs' live calibration run elsewhere (``LiveKinematics(calibrate_with=...)``): ``feed`` and
``poll`` go on while a leg calibrates, and the results are those of the calibration run inside
them — the same alignments to the bit, the same strides, angles to the last bits."""

from __future__ import annotations

import json
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
import pytest
from conftest import feed_polled
from test_live_chunks import _angles, _strides, assert_same_angles, assert_same_strides

from imugait.calibration.alignment_json import alignment_to_dict
from imugait.conventions import Side
from imugait.errors import CalibrationError
from imugait.live import calibration_jobs, flow, leg_start
from imugait.live.kinematics import POLLED_GRID_STEP_S, LiveConfig, LiveKinematics
from imugait.live.updates import CalibrationPhase
from imugait.simulate import SimulationConfig, simulate
from imugait.simulate.timeline import PhaseKind, TimelinePhase

RATE_HZ = 200.0


class Deferred(Executor):
    """Runs a job only when its result is asked for (the pipeline waits for it: noted in
    ``asked_at_s``, the grid's newest data time then) or when the test releases it (a fit that took
    that long): the pipeline must go on without it and wait for it only when it would fall too far
    behind. No clock: what happens when is decided by the data fed."""

    def __init__(self) -> None:
        self.asked_at_s: list[float] = []
        self.submitted_at_s: list[float] = []
        self.live: LiveKinematics | None = None
        self.jobs: list[Future] = []

    def submit(self, fn, /, *args, **kwargs):
        executor = self

        class Later(Future):
            def run(self) -> None:
                if not super().done():
                    self.set_result(fn(*args, **kwargs))

            def result(self, timeout=None):
                if not super().done():
                    executor.asked_at_s.append(float(executor.live.grid.tail("t_s")[-1]))
                    self.run()
                return super().result(timeout)

        self.submitted_at_s.append(float(self.live.grid.tail("t_s")[-1]))
        self.jobs.append(Later())
        return self.jobs[-1]

    def release(self) -> None:
        """Every job submitted so far returns now (not asked for)."""
        for job in self.jobs:
            job.run()


def _run(session, calibrate_with=None, release_after_s: float | None = None, **kwargs):
    """``release_after_s``: a :class:`Deferred` executor's jobs return once the grid has gone on this
    much data time after the first was submitted."""
    live = LiveKinematics(list(session), LiveConfig(rate_hz=RATE_HZ), calibrate_with=calibrate_with, **kwargs)
    if isinstance(calibrate_with, Deferred):
        calibrate_with.live = live
        if release_after_s is not None:
            feed = live.feed

            def feed_then_release(samples):
                feed(samples)
                if calibrate_with.submitted_at_s and live.grid.tail("t_s")[-1] >= \
                        calibrate_with.submitted_at_s[0] + release_after_s:
                    calibrate_with.release()
            live.feed = feed_then_release
    updates = feed_polled(live, session, 0.05)
    return live, updates + [live.poll()] + polls_until_calibrated(live)


def polls_until_calibrated(live: LiveKinematics) -> list:
    """The polls after a recording fed faster than the legs' fits: their jobs are waited for (the
    pipeline waits only before their rows would leave the history), then polled until each leg has
    caught up with the grid (a few rows per poll)."""
    updates = []
    while live._jobs.running or live._legs.catching_up:
        for _k, job in list(live._jobs.running.values()):
            job.result()
        updates.append(live.poll())
        live.finish_ticks()
    return updates


def _assert_same(live, updates, expected_live, expected_updates) -> None:
    for side in Side:  # every number of the alignment, to the bit (JSON keeps a float's repr)
        a, b = live.legs[side].alignment, expected_live.legs[side].alignment
        assert json.dumps(alignment_to_dict(a)) == json.dumps(alignment_to_dict(b))
        np.testing.assert_array_equal(a.heading.window_offset_rad, b.heading.window_offset_rad)
    assert_same_angles(updates, expected_updates)
    assert_same_strides(_strides(updates), _strides(expected_updates))
    assert len(_strides(updates)) >= 40


def _calibrated_at(updates) -> dict:
    """Per leg, the data time of the poll that first said it was calibrated."""
    at = {}
    for update in updates:
        for state in update.calibration:
            if state.phase is CalibrationPhase.CALIBRATED:
                at.setdefault(state.side, update.t_s)
    return at


@pytest.fixture(scope="module")
def on_the_thread(live_run):
    return _run(live_run.session)


@pytest.fixture(scope="module")
def in_a_worker_thread(live_run):
    """One run with the legs' calibration in a one-thread pool (``calibrate_with``), for two tests:
    (pipeline, updates, the feeding thread, the threads the legs' calibration ran on). The spy on
    the calibration only notes its thread and returns what the real one returns. (One run rather
    than one per test: 3.8 CPU-s less, docs/testing.md "Suite time".)"""
    threads: set[int] = set()
    real = leg_start.calibrate_fused_leg_upright

    def spy(*args):
        threads.add(threading.get_ident())
        return real(*args)

    with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(1) as pool:
        patch.setattr(leg_start, "calibrate_fused_leg_upright", spy)
        live, updates = _run(live_run.session, pool)
    return live, updates, threading.get_ident(), threads


def test_a_calibration_in_a_worker_thread_gives_the_same_results(in_a_worker_thread, on_the_thread):
    live, updates, _feeding, _threads = in_a_worker_thread
    _assert_same(live, updates, *on_the_thread)


def test_feed_and_poll_go_on_while_a_leg_calibrates_and_wait_only_beyond_the_lag(live_run, on_the_thread):
    deferred = Deferred()
    live, updates = _run(live_run.session, deferred, max_calibration_lag_s=2.0)
    _assert_same(live, updates, *on_the_thread)
    # Each leg's calibration was decided, then the grid went on 2 s before its result was waited for.
    assert len(deferred.asked_at_s) == 2
    calibrated_at, expected_at = _calibrated_at(updates), _calibrated_at(on_the_thread[1])
    for side in Side:
        assert 1.9 < calibrated_at[side] - expected_at[side] < 2.2
    # Each leg then caught up with the grid 2 s after it (a few rows per call); the polls give its
    # angles once it has, every one of them (above): no poll's newest angle of a leg is a backlog
    # row (given as it went, the first polls' newest were 0.6–1.3 s older than the poll's data).
    behind_s = [update.t_s - angles.t_s[-1] for update in updates for angles in update.angles]
    assert max(behind_s) < 0.1  # a block (50 ms) and the grid's wait for every sensor


def test_a_fit_that_takes_long_holds_neither_feed_nor_poll(live_run, on_the_thread):
    """The legs' fits return 12 s of data after the first was submitted (a loaded machine: the
    dashboard's fits took up to 7 s there). Nothing waits for them — the pipeline waited on its
    caller's thread (the dashboard's event loop) once a fit was 5 s behind, before 2026-12-06
    (issue 11) — and the legs, started then at the rows their calibration was decided at, give the
    results of the calibration run inline."""
    deferred = Deferred()
    live, updates = _run(live_run.session, deferred, release_after_s=12.0)
    assert deferred.asked_at_s == []  # never waited for
    assert len(deferred.submitted_at_s) == 2
    released_s = deferred.submitted_at_s[0] + 12.0
    calibrated_at = _calibrated_at(updates)
    assert set(calibrated_at) == set(Side)
    assert all(released_s <= t < released_s + 0.2 for t in calibrated_at.values())
    _assert_same(live, updates, *on_the_thread)


def test_the_job_runs_off_the_feeding_thread(in_a_worker_thread):
    live, _updates, feeding, threads = in_a_worker_thread
    assert threads and feeding not in threads
    assert set(live.legs) == set(Side)


def test_the_dashboards_pipeline_gives_the_default_pipelines_results(live_run, on_the_thread):
    # A leg's calibration in a worker thread, and the grid advanced at the polls (every 25 ms of
    # data here, as the dashboard's pushes) rather than at every block.
    live = LiveKinematics.for_dashboard(list(live_run.session), config=LiveConfig(rate_hz=RATE_HZ))
    assert live.config.grid_step_s == POLLED_GRID_STEP_S
    updates = feed_polled(live, live_run.session, 0.02, poll_s=0.025) + polls_until_calibrated(live)
    _assert_same(live, updates, *on_the_thread)


def test_a_failed_fits_retry_is_decided_at_its_row_and_a_fit_is_waited_for_only_half_a_history_behind(monkeypatch):
    """Each leg's first fit fails (made to); the person walks 4 s more and stops, and each leg's
    next calibration is decided 4.5–5 s after its first. With fits that return only when waited for
    and a 20-s history, the retries are decided at the same grid rows while the first fits are out
    (until 2026-12-06 they were decided only after the first fit's result, waited for 5 s behind: the
    left leg's a check later than inline); a fit is waited for only once it is half the history
    behind (10 s); the results are those of the calibrations run inline."""
    phases = ((PhaseKind.STAND, 4.0), (PhaseKind.WALK, 12.0), (PhaseKind.STAND, 0.6), (PhaseKind.WALK, 4.0),
              (PhaseKind.STAND, 6.0), (PhaseKind.WALK, 8.0))
    timeline = tuple(TimelinePhase(kind, s, f"{kind.value}_{i}") for i, (kind, s) in enumerate(phases))
    session = simulate(SimulationConfig(seed=5, sample_rate_hz=RATE_HZ, timeline=timeline)).session
    real_fit, real_start = leg_start.calibrate_fused_leg_upright, flow.start_leg
    failed: set[Side] = set()
    decided: list[tuple[float, Side]] = []

    def fail_first(fused, side, *args):
        if side not in failed:
            failed.add(side)
            raise CalibrationError("made to fail")
        return real_fit(fused, side, *args)

    def noted(job):
        decided.append((job.k / RATE_HZ, job.side))
        return real_start(job)

    monkeypatch.setattr(leg_start, "calibrate_fused_leg_upright", fail_first)
    monkeypatch.setattr(flow, "start_leg", noted)  # (a job run here)
    monkeypatch.setattr(calibration_jobs, "start_leg", noted)  # (run by the executor)

    def run(executor):
        failed.clear()
        decided.clear()
        live = LiveKinematics(list(session), LiveConfig(rate_hz=RATE_HZ, history_s=20.0), calibrate_with=executor)
        if executor is not None:
            executor.live = live
        updates = feed_polled(live, session, 0.05)
        asked = list(executor.asked_at_s) if executor is not None else []
        live.end()
        return live, [*updates, live.poll()], sorted(decided, key=lambda d: (d[0], d[1] is Side.RIGHT)), asked

    inline, inline_updates, inline_decided, _ = run(None)
    deferred = Deferred()
    live, updates, elsewhere_decided, asked_s = run(deferred)
    # (the scenario: both legs' first fits fail, their retries decided within 5 s of them)
    assert len(inline_decided) == 4 and {side for _t, side in inline_decided[:2]} == set(Side)
    assert {side for _t, side in inline_decided[2:]} == set(Side)
    assert inline_decided[2][0] - inline_decided[1][0] < 5.0 and inline_decided[3][0] - inline_decided[0][0] < 5.0
    assert elsewhere_decided == inline_decided
    assert len(asked_s) == 4  # each fit, 10 s after it was decided (within a check's rows: 0.5 s)
    for asked, (decided_s, _side) in zip(asked_s, elsewhere_decided, strict=True):
        assert 9.4 < asked - decided_s < 10.1
    for side in Side:
        a, b = live.legs[side].alignment, inline.legs[side].alignment
        assert json.dumps(alignment_to_dict(a)) == json.dumps(alignment_to_dict(b))
    # The angles: those inline, but for the backlog's oldest rows, which left the leg's 20-s
    # history before it had caught up 10 s later (the polls give a leg's rows once it has).
    got, expected = _angles(updates), _angles(inline_updates)
    assert got.keys() == expected.keys() and got
    for key, values in got.items():
        np.testing.assert_allclose(values, expected[key][-values.size:], rtol=0, atol=1e-9, err_msg=str(key))
    for side in Side:
        lost_s = got[side, "t_s"][0] - expected[side, "t_s"][0]
        assert 0 <= lost_s < 10.6
    assert_same_strides(_strides(updates), _strides(inline_updates))
    assert len(_strides(updates)) >= 20
