"""The stream ended mid-walk (a take stopped while the person walked on): ``LiveKinematics.end``
decides what waited for rows after the newest with the rows there are, as ``analyze`` decides it at
a recording's end — the last stride, its thigh–shank timing, the walking direction of the straight
run still going on (issue 11; docs/live-history.md, "Stage by stage, and the stream's end as a
recording's end")."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SIMULATION, LiveRun, offline_like_live
from test_live_agreement import (
    EVENT_TOLERANCE_S,
    FINAL_HIP_TOLERANCE_DEG,
    HIP_METRICS,
    KNEE_METRICS,
    KNEE_TOLERANCE_DEG,
    matched,
)

from imugait.conventions import Side
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import LiveUpdate, latest_strides
from imugait.simulate import simulate

CUT_S = 31.3
"""About 10 s into the second 14-s bout of the shared walking test …"""
AFTER_CONTACT_S = 0.03
"""… then cut again this long after the right leg's last initial contact there: too soon after it for
the stride to be given as streamed (an early initial contact needs 26 ms of the contact low-pass
after the dip's bottom, 10 ms after the contact), not for ``analyze`` at the recording's end."""


def _fed(session) -> tuple[LiveKinematics, LiveUpdate, LiveUpdate]:
    live = LiveKinematics(list(session), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    live.feed_session(session, chunk_s=0.05)
    streamed = live.poll()
    live.end()
    return live, streamed, live.poll()


@pytest.fixture(scope="module")
def cut_run() -> tuple[LiveRun, LiveUpdate]:
    session = simulate(SIMULATION).session
    first = session.slice_time(session.t_start_s, session.t_start_s + CUT_S)
    live, _streamed, _ended = _fed(first)
    cycles = offline_like_live(first, live).cycles
    t_cut = float(cycles.loc[cycles["side"] == Side.RIGHT.value, "t_next_initial_contact_s"].max()) + AFTER_CONTACT_S
    cut = session.slice_time(session.t_start_s, t_cut)
    live, streamed, ended = _fed(cut)
    update = LiveUpdate(t_s=ended.t_s, strides=streamed.strides + ended.strides)
    return LiveRun(cut, live, update, offline_like_live(cut, live)), streamed


def test_at_the_end_every_stride_analyze_finds_is_given_with_its_events_and_timing(cut_run):
    run, streamed = cut_run
    table = matched(run)
    cycles = run.offline.cycles
    for side in Side:
        assert (table["side"] == side).sum() == (cycles["side"] == side.value).sum() > 10
    # As streamed, the right leg's last stride waited for rows after the end, and the last strides
    # of both legs for their timing (it searches 0.5 s past a stride): end() gives them.
    shown = latest_strides(streamed.strides)
    assert len(shown) == len(table) - 1
    assert not all(s.final for s in shown)
    assert table[["ic_s", "to_s", "next_ic_s"]].abs().max().max() <= EVENT_TOLERANCE_S
    assert table["thigh_shank_lag_s"].abs().max() <= 0.001
    assert (table["used"] == table["offline_used"]).mean() >= 0.8


def test_at_the_end_every_stride_is_final_with_the_knee_and_hip_rotation_of_analyze(cut_run):
    """The straight run still going on at the end is fitted again over all of it (as the bout
    ``analyze`` ends at the recording's end): its strides' hip rotation is ``analyze``'s, the
    last ones' too — as streamed they had the direction of the run so far."""
    run, _streamed = cut_run
    table = matched(run)
    assert table["final"].all()
    both = table[table["used"] & table["offline_used"]]
    assert len(both) >= 12
    assert both[list(KNEE_METRICS)].abs().max().max() <= KNEE_TOLERANCE_DEG
    hip = both[list(HIP_METRICS)].abs()
    assert hip.notna().all().all() and hip.max().max() <= FINAL_HIP_TOLERANCE_DEG
    last_bout = both[both["into_bout_s"].notna() & (both["index"] >= both["index"].max() - 3)]
    assert len(last_bout) >= 2 and np.isfinite(last_bout[list(HIP_METRICS)].to_numpy()).all()
