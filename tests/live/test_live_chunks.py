"""Chunked equals whole: the live path fed a recording in random chunks (and polled at random
moments) gives exactly what it gives fed at once — as vqf tests its online filter. And bounded
memory: a history shorter than the recording keeps its buffers at their capacity and changes no
stride."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import feed_polled

from imugait.live.kinematics import POLLED_GRID_STEP_S, LiveConfig, LiveKinematics
from imugait.live.updates import LiveUpdate, latest_strides


def _feed(session, chunks, config: LiveConfig, poll_every: int = 0, seed: int = 0) -> list[LiveUpdate]:
    live = LiveKinematics(list(session), config)
    updates = []
    if poll_every:
        rng = np.random.default_rng(seed)
        original = live.feed

        def feed_and_poll(samples):
            original(samples)
            if rng.integers(poll_every) == 0:
                updates.append(live.poll())

        live.feed = feed_and_poll
    live.feed_session(session, chunks)
    updates.append(live.poll())
    return updates, live


def _angles(updates: list[LiveUpdate]) -> dict:
    out = {}
    for update in updates:
        for a in update.angles:
            for name in ("t_s", "knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg", "hip_rotation_deg"):
                out.setdefault((a.side, name), []).append(getattr(a, name))
    return {key: np.concatenate(parts) for key, parts in out.items()}


def assert_same_angles(got_updates: list[LiveUpdate], expected_updates: list[LiveUpdate]) -> None:
    """Every angle of every row the same to 1e-9° (to the last bits: see assert_same_strides)."""
    got, expected = _angles(got_updates), _angles(expected_updates)
    assert got.keys() == expected.keys() and got
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-9, err_msg=str(key))


def _strides(updates: list[LiveUpdate]) -> list:
    """The strides per leg in order."""
    return sorted(latest_strides(s for update in updates for s in update.strides), key=lambda s: (s.side.value, s.index))


def assert_same_strides(got: list, expected: list) -> None:
    """Same strides, events, flags; metrics equal to the last bits (batches of different sizes may
    round the angles 1 ulp apart: numpy's vector loops treat a batch's tail separately)."""
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert (a.side, a.index, a.t_initial_contact_s, a.t_toe_off_s, a.t_next_initial_contact_s, a.used,
                a.exclusion) == (b.side, b.index, b.t_initial_contact_s, b.t_toe_off_s, b.t_next_initial_contact_s,
                                 b.used, b.exclusion)
        assert a.metrics.keys() == b.metrics.keys()
        np.testing.assert_allclose(list(a.metrics.values()), list(b.metrics.values()), rtol=0, atol=1e-9)


@pytest.fixture(scope="module")
def whole(live_run):
    """The recording fed at once: one block per sensor."""
    return _feed(live_run.session, 1e9, LiveConfig(rate_hz=200.0))


def test_random_chunks_and_polls_give_what_the_whole_recording_gives(live_run, whole):
    rng = np.random.default_rng(5)
    chunks = iter(rng.uniform(0.001, 0.3, size=100_000))
    updates, _live = _feed(live_run.session, chunks, LiveConfig(rate_hz=200.0), poll_every=40, seed=6)
    whole_updates, _ = whole
    assert len(updates) > 5
    assert_same_angles(updates, whole_updates)
    assert_same_strides(_strides(updates), _strides(whole_updates))
    assert len(_strides(updates)) >= 40
    # …and the same as the 50 ms blocks of the shared run.
    assert_same_strides(_strides(updates), _strides([live_run.update]))


def test_a_short_history_keeps_memory_bounded_and_changes_no_stride(live_run):
    config = LiveConfig(rate_hz=200.0, history_s=25.0)  # the recording is 40 s
    updates, live = _feed(live_run.session, 0.05, config, poll_every=10)
    capacity = int(np.ceil(config.history_s * config.rate_hz))
    assert live.grid.capacity == capacity and len(live.grid) == capacity
    assert live.grid.n_appended > 1.5 * capacity  # it did wrap
    for leg in live.legs.values():
        assert len(leg.history) <= capacity
    for sensor in live._sensors.values():
        assert len(sensor.samples) <= sensor.samples.capacity
    assert_same_strides(_strides(updates), _strides([live_run.update]))


def test_a_straight_run_longer_than_the_history_gives_its_strides_final_before_their_rows_leave_it(live_run):
    # The bouts are 14 s; an 8-s history cannot hold one (a reused calibration: no standing and
    # calibration walk to keep).
    config = LiveConfig(rate_hz=200.0, history_s=8.0)
    live = LiveKinematics(list(live_run.session), config, live_run.live.calibration)
    updates = feed_polled(live, live_run.session, 0.05)
    final_after_s = {}
    for u in updates:
        for s in u.strides:
            if s.final:
                final_after_s[(s.side, s.index)] = u.t_s - s.t_next_initial_contact_s
    strides = latest_strides(s for u in updates for s in u.strides)
    assert len(strides) >= 40 and len(final_after_s) == len(strides)
    # Final (as they are, or from the part of their run the history still holds) before their rows
    # have left the history: what waits for a run's end stays bounded however long the run.
    assert max(final_after_s.values()) <= config.history_s
    hip = np.array([s.metrics["hip_rotation_mean_deg"] for s in strides if s.used])
    assert np.isfinite(hip).mean() >= 0.9


@pytest.mark.parametrize("dashboard", [False, True], ids=["plain", "dashboard"])
def test_a_link_backlog_in_blocks_of_seconds_with_a_history_shorter_than_a_run(live_run, dashboard):
    """A link that stalls and then delivers seconds of samples at once (a BLE backlog) while a
    straight run is longer than the history: the grid then moves on by up to half a second of rows
    per batch, which once passed the rows of the strides a leg was about to release (a ValueError
    in ``StraightRuns.redirect_released``). Blocks of 1 ms to 3 s, polled after each (as a view
    that was held up), give what 50-ms blocks give: every angle and every stride, the walk's end
    included. (Blocks up to 3 s: each block's rows are polled before they leave the 8-s history, so
    every angle can be compared.) ``dashboard``: the bursts fed to the pipeline as the dashboard
    runs it (the grid advanced 0.25 s at a time at the feeds, the ticks' tails after each poll)."""
    config = LiveConfig(rate_hz=200.0, history_s=8.0)  # the bouts are 14 s

    def ended(chunks, as_dashboard: bool) -> list[LiveUpdate]:
        live = LiveKinematics(list(live_run.session), replace(config, grid_step_s=POLLED_GRID_STEP_S) if as_dashboard
                              else config, live_run.live.calibration, deferred_tails=as_dashboard)
        updates = feed_polled(live, live_run.session, chunks)
        live.end()
        return [*updates, live.poll()]

    rng = np.random.default_rng(19)
    blocks_s = rng.uniform(0.001, 3.0, size=100_000)
    bursts = ended(iter(blocks_s), dashboard)
    steady = ended(0.05, False)
    assert np.count_nonzero(blocks_s[:len(bursts)] > 1.0) >= 5  # (blocks longer than a stride did come)
    assert_same_angles(bursts, steady)
    strides = _strides(steady)
    assert len(strides) >= 40 and all(s.final for s in strides)
    assert_same_strides(_strides(bursts), strides)
