"""A poll that leaves the legs' ticks' tails for after its push (``deferred_tails``, as the
dashboard polls) computes exactly what a poll that runs them at once computes: every angle row and
every stride version the same to the bit, in the same order per leg — only the poll that gives a
version coming from a tail (the strides' final versions) can be the next one. And the comparison
would see a tail run out of order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import feed_polled
from test_live_calibration_elsewhere import Deferred
from test_live_chunks import _angles

from imugait.conventions import Placement
from imugait.io import read_qmt_mat
from imugait.live.kinematics import POLLED_GRID_STEP_S, LiveConfig, LiveKinematics
from imugait.live.leg import LiveLeg
from imugait.live.updates import LiveStride, LiveUpdate

QMT_LEGS = {Placement.LEFT_THIGH: "upper_leg_left", Placement.LEFT_SHANK: "lower_leg_left",
            Placement.RIGHT_THIGH: "upper_leg_right", Placement.RIGHT_SHANK: "lower_leg_right"}
BLOCK_S = 0.02  # the sensors' blocks
POLL_S = 0.025  # the dashboard's pushes, in data time


def polled(session, config: LiveConfig, deferred: bool, calibration=None, elsewhere: bool = False,
           walk_done_s: tuple[float, ...] = ()) -> list[LiveUpdate]:
    """``session`` fed in ``BLOCK_S`` blocks with a poll at every ``POLL_S`` of data, then ``end``
    and a last poll; ``deferred``: as the dashboard polls — the tails left pending, run after each
    poll (``feed_polled``); ``elsewhere``: the legs calibrated by ``calibrate_with`` (run when the
    pipeline must wait for it: the legs then catch up over several polls, deterministically);
    ``walk_done_s``: a "walk done" (``end_pass``) after the block that reaches each of these data times."""
    executor = Deferred() if elsewhere else None
    # (run 5 s of data after they were decided: without a cap the Deferred jobs would run at ``end``)
    live = LiveKinematics(list(session), config, calibration, calibrate_with=executor, deferred_tails=deferred,
                          max_calibration_lag_s=5.0)
    if executor is not None:
        executor.live = live
    done = list(walk_done_s)
    original = live.feed

    def feed(samples):
        original(samples)
        if done and samples.t_s[-1] >= done[0]:
            done.pop(0)
            live.end_pass()

    live.feed = feed
    updates = feed_polled(live, session, BLOCK_S, POLL_S)
    live.end()
    return [*updates, live.poll()]


def _bits(x: float) -> str:
    return float(x).hex()  # (NaN equal to NaN, -0.0 apart from 0.0)


def version_key(s: LiveStride) -> tuple:
    """Every field of a stride version, its numbers by their bits."""
    return (s.side, s.index, _bits(s.t_initial_contact_s), _bits(s.t_toe_off_s), _bits(s.t_next_initial_contact_s),
            s.used, s.exclusion, s.final, tuple((name, _bits(v)) for name, v in s.metrics.items()))


def versions_by_leg(updates: list[LiveUpdate]) -> dict:
    """Per leg, its stride versions in the order given, each with the poll that gave it."""
    out: dict = {}
    for i, update in enumerate(updates):
        for s in update.strides:
            out.setdefault(s.side, []).append((version_key(s), i))
    return out


def assert_same_computed(deferred: list[LiveUpdate], at_once: list[LiveUpdate]) -> int:
    """The same angle rows to the bit at the same polls, the same stride versions to the bit in the
    same order per leg, each given at the same poll or (from a tail) the next; returns how many
    came a poll later."""
    assert len(deferred) == len(at_once)
    for a, b in zip(deferred, at_once, strict=True):  # the angles of every poll: the same rows
        assert [(x.side, x.t_s.size) for x in a.angles] == [(x.side, x.t_s.size) for x in b.angles]
        assert a.n_strides == b.n_strides
    got, expected = _angles(deferred), _angles(at_once)
    assert got.keys() == expected.keys() and got
    for key in expected:
        assert got[key].tobytes() == expected[key].tobytes(), key
    got, expected = versions_by_leg(deferred), versions_by_leg(at_once)
    assert got.keys() == expected.keys() and got
    later = 0
    for side in expected:
        assert [v for v, _ in got[side]] == [v for v, _ in expected[side]], side
        seen = set()
        for (version, i_got), (_, i_expected) in zip(got[side], expected[side], strict=True):
            first = version[1] not in seen
            seen.add(version[1])
            assert i_got == i_expected or (not first and i_got == i_expected + 1), (version[:2], i_got, i_expected)
            later += i_got != i_expected
    return later


@pytest.fixture(scope="module")
def dashboard_config() -> LiveConfig:
    return LiveConfig(rate_hz=200.0, grid_step_s=POLLED_GRID_STEP_S)  # (as LiveKinematics.for_dashboard)


@pytest.fixture(scope="module")
def reused_at_once(live_run, dashboard_config) -> list[LiveUpdate]:
    """The walk with the shared run's calibration reused, the tails at once."""
    return polled(live_run.session, dashboard_config, False, live_run.live.calibration)


@pytest.mark.parametrize("how", ["calibrated-live", "calibrated-elsewhere", "reused-calibration"])
def test_deferred_tails_compute_what_tails_at_once_compute(live_run, dashboard_config, reused_at_once, how):
    calibration = live_run.live.calibration if how == "reused-calibration" else None
    elsewhere = how == "calibrated-elsewhere"
    at_once = reused_at_once if calibration else polled(live_run.session, dashboard_config, False, None, elsewhere)
    deferred = polled(live_run.session, dashboard_config, True, calibration, elsewhere)
    later = assert_same_computed(deferred, at_once)
    finals = sum(s.final for u in deferred for s in u.strides)
    assert finals >= 40
    assert later >= 0.5 * finals  # (most final versions wait for the next poll: the deferral happened)


def test_walks_ended_while_the_stream_goes_on_the_same(live_run, dashboard_config):
    # "Walk done" in the middle of the first bout, in the turn and after the second (end_pass: each
    # leg's walk ends at the newest row, its tails first).
    calibration = live_run.live.calibration
    at_once = polled(live_run.session, dashboard_config, False, calibration, walk_done_s=(12.0, 21.5, 36.0))
    deferred = polled(live_run.session, dashboard_config, True, calibration, walk_done_s=(12.0, 21.5, 36.0))
    assert assert_same_computed(deferred, at_once) > 0


def test_a_history_shorter_than_a_run_the_same(live_run, dashboard_config):
    # The bouts are 14 s: strides are released as their rows leave an 8-s history, runs refitted
    # over what is kept — the tails that read the history's oldest rows.
    config = replace(dashboard_config, history_s=8.0)
    calibration = live_run.live.calibration
    at_once = polled(live_run.session, config, False, calibration)
    deferred = polled(live_run.session, config, True, calibration)
    assert assert_same_computed(deferred, at_once) > 0


def hold_tails(monkeypatch, n_ticks: int) -> None:
    """Make every leg run each tick's tail only after the next ``n_ticks`` ticks (the rows between
    taken first): out of order."""
    tick, end_walk = LiveLeg._tick, LiveLeg.end_walk

    def tick_then_an_older_tail(self, grid, k):
        held = self.__dict__.setdefault("_held", [])
        tick(self, grid, k)
        held.append(self._tail_due)
        self._tail_due = None
        while len(held) > n_ticks:
            self._tail_due = held.pop(0)
            self.finish_tick()

    def end_after_the_held_tails(self):
        for tail in self.__dict__.pop("_held", []):
            self._tail_due = tail
            self.finish_tick()
        end_walk(self)

    monkeypatch.setattr(LiveLeg, "_tick", tick_then_an_older_tail)
    monkeypatch.setattr(LiveLeg, "end_walk", end_after_the_held_tails)


@pytest.mark.parametrize("n_ticks", [1, 5])
def test_a_tail_run_after_the_next_tick_is_seen(live_run, dashboard_config, reused_at_once, monkeypatch, n_ticks):
    """The comparison fails when each tick's tail runs after the next tick: its versions come
    after that tick's (one tick late: nothing else changes on this walk) — or, a few ticks late,
    on a state those ticks moved on (the metrics of some versions change)."""
    at_once = reused_at_once
    hold_tails(monkeypatch, n_ticks)
    out_of_order = polled(live_run.session, dashboard_config, True, live_run.live.calibration)
    with pytest.raises(AssertionError):
        assert_same_computed(out_of_order, at_once)
    if n_ticks > 1:
        got, expected = versions_by_leg(out_of_order), versions_by_leg(at_once)
        assert any(sorted(repr(v) for v, _ in got[side]) != sorted(repr(v) for v, _ in expected[side]) for side in expected)


QMT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "qmt_full_body" / "full_body_example_data.mat"


@pytest.mark.realdata
def test_a_real_walk_the_same():
    if not QMT.exists():
        pytest.skip(f"real dataset not available: {QMT} is absent (see ../shared/datasets/README.md)")
    session = read_qmt_mat(QMT, QMT_LEGS, subject_id="qmt-example")
    config = LiveConfig(rate_hz=max(s.sample_rate_hz for s in session.streams), grid_step_s=POLLED_GRID_STEP_S)
    at_once = polled(session, config, False)
    deferred = polled(session, config, True)
    assert assert_same_computed(deferred, at_once) > 0
    assert sum(s.final for u in deferred for s in u.strides) >= 16
