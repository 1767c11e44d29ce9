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
from test_live_chunks import _strides, assert_same_angles, assert_same_strides

from imugait.calibration.alignment_json import alignment_to_dict
from imugait.conventions import Side
from imugait.live import leg_start
from imugait.live.kinematics import POLLED_GRID_STEP_S, LiveConfig, LiveKinematics
from imugait.live.updates import CalibrationPhase

RATE_HZ = 200.0


class Deferred(Executor):
    """Runs a job only when its result is asked for: the pipeline must go on without it and wait
    for it only when it would fall too far behind."""

    def __init__(self) -> None:
        self.asked_at_s: list[float] = []
        self.live: LiveKinematics | None = None

    def submit(self, fn, /, *args, **kwargs):
        executor = self

        class Later(Future):
            def result(self, timeout=None):
                if not super().done():
                    executor.asked_at_s.append(float(executor.live.grid.tail("t_s")[-1]))
                    self.set_result(fn(*args, **kwargs))
                return super().result(timeout)

        return Later()


def _run(session, calibrate_with=None, **kwargs):
    live = LiveKinematics(list(session), LiveConfig(rate_hz=RATE_HZ), calibrate_with=calibrate_with, **kwargs)
    if isinstance(calibrate_with, Deferred):
        calibrate_with.live = live
    updates = feed_polled(live, session, 0.05)
    return live, updates + [live.poll()]


def _assert_same(live, updates, expected_live, expected_updates) -> None:
    for side in Side:  # every number of the alignment, to the bit (JSON keeps a float's repr)
        a, b = live.legs[side].alignment, expected_live.legs[side].alignment
        assert json.dumps(alignment_to_dict(a)) == json.dumps(alignment_to_dict(b))
        np.testing.assert_array_equal(a.heading.window_offset_rad, b.heading.window_offset_rad)
    assert_same_angles(updates, expected_updates)
    assert_same_strides(_strides(updates), _strides(expected_updates))
    assert len(_strides(updates)) >= 40


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
    calibrated_at = {}
    for update in updates:
        for state in update.calibration:
            if state.phase is CalibrationPhase.CALIBRATED:
                calibrated_at.setdefault(state.side, update.t_s)
    expected_at = {}
    for update in on_the_thread[1]:
        for state in update.calibration:
            if state.phase is CalibrationPhase.CALIBRATED:
                expected_at.setdefault(state.side, update.t_s)
    for side in Side:
        assert 1.9 < calibrated_at[side] - expected_at[side] < 2.2
    # Each leg then caught up with the grid 2 s after it (a few rows per call); the polls give its
    # angles once it has, every one of them (above): no poll's newest angle of a leg is a backlog
    # row (given as it went, the first polls' newest were 0.6–1.3 s older than the poll's data).
    behind_s = [update.t_s - angles.t_s[-1] for update in updates for angles in update.angles]
    assert max(behind_s) < 0.1  # a block (50 ms) and the grid's wait for every sensor


def test_the_job_runs_off_the_feeding_thread(in_a_worker_thread):
    live, _updates, feeding, threads = in_a_worker_thread
    assert threads and feeding not in threads
    assert set(live.legs) == set(Side)


def test_the_dashboards_pipeline_gives_the_default_pipelines_results(live_run, on_the_thread):
    # A leg's calibration in a worker thread, and the grid advanced at the polls (every 25 ms of
    # data here, as the dashboard's pushes) rather than at every block.
    live = LiveKinematics.for_dashboard(list(live_run.session), config=LiveConfig(rate_hz=RATE_HZ))
    assert live.config.grid_step_s == POLLED_GRID_STEP_S
    updates = feed_polled(live, live_run.session, 0.02, poll_s=0.025)
    _assert_same(live, updates, *on_the_thread)
