"""At a walk's end every stride of the walk is judged used or not as ``analyze`` judges it — against
all the leg's strides, with the values they have at the end — the strides older than the history
too (kept by their rows, for ``LiveConfig.reference_backlog_s``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import feed_polled, offline_like_live
from test_live_chunks import _strides, assert_same_strides

from imugait.conventions import Placement, Side
from imugait.gait.cycles import Exclusion
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.model import Session

HISTORY_S = 8.0
SLIP_AT_S = 10.0
"""The left shank's clock slips 0.1 s this long after the start, 4 s into the first bout: the 3
strides before are then out of step with the leg's other strides (all after), as ``analyze``
finds them; judged as they came, against the strides before them, they were in step."""
SAME_STRIDE_S = 0.05
TIMING = Exclusion.KNEE_TIMING_OUTLIER.value


@pytest.fixture(scope="module")
def slipped(live_run) -> Session:
    session = live_run.session
    streams = []
    for stream in session.streams:
        if stream.placement is Placement.LEFT_SHANK:
            t = stream.t_s.copy()
            t[t >= session.t_start_s + SLIP_AT_S] += 0.1
            stream = replace(stream, t_s=t)
        streams.append(stream)
    return Session(streams, session.meta)


def _ended(session: Session, live_run, chunks, **config) -> tuple[LiveKinematics, list]:
    # (the calibration reused: an 8-s history holds no standing and calibration walk)
    live = LiveKinematics(list(session), LiveConfig(rate_hz=200.0, history_s=HISTORY_S, **config),
                          live_run.live.calibration)
    updates = feed_polled(live, session, chunks)
    live.end()
    updates.append(live.poll())
    return live, _strides(updates)


def _beside_analyze(session: Session, live: LiveKinematics, strides: list) -> list[tuple]:
    """(live stride, ``analyze``'s used, its exclusion) of the left leg's strides both found."""
    cycles = offline_like_live(session, live).cycles
    cycles = cycles[cycles["side"] == Side.LEFT.value]
    t = cycles["t_initial_contact_s"].to_numpy()
    out = []
    for s in strides:
        i = int(np.argmin(np.abs(t - s.t_initial_contact_s)))
        if s.side is Side.LEFT and abs(t[i] - s.t_initial_contact_s) <= SAME_STRIDE_S:
            out.append((s, bool(cycles["used"].iloc[i]), cycles["exclusion"].iloc[i] or None))
    return out


def test_strides_older_than_the_history_are_judged_with_the_walks_strides_at_its_end(slipped, live_run):
    live, strides = _ended(slipped, live_run, 0.05)
    pairs = _beside_analyze(slipped, live, strides)
    t_old_s = slipped.t_end_s - HISTORY_S  # (strides before this had left the history at the end)
    old_out_of_step = [s for s, _used, exclusion in pairs if exclusion == TIMING and s.t_next_initial_contact_s < t_old_s]
    assert len(old_out_of_step) >= 2  # the strides before the slip, long gone from the history
    judged = [(s, used) for s, used, exclusion in pairs if TIMING in (exclusion, s.exclusion)]
    assert len(judged) >= 3
    for s, used in judged:  # the thigh–shank timing judged as analyze judges it, every such stride
        assert s.used == used and s.final, (s.index, s.exclusion)
    for s in old_out_of_step[1:]:  # (the first is a bout's first stride live: excluded as that)
        assert s.exclusion == TIMING
    # The first stride after the slip: out of step with the three before it as it came, in step
    # with the walk at its end.
    first_after = min((s for s, _used, _exclusion in pairs if s.t_initial_contact_s > slipped.t_start_s + SLIP_AT_S),
                      key=lambda s: s.t_initial_contact_s)
    assert first_after.used and first_after.t_next_initial_contact_s < t_old_s

    # Chunked equals whole, the judgement at the end included (blocks of 1 ms to 3 s: a link's
    # backlog too, with this history shorter than a run).
    rng = np.random.default_rng(19)
    _live, chunked = _ended(slipped, live_run, iter(rng.uniform(0.001, 3.0, size=100_000)))
    assert_same_strides(chunked, strides)

    # Bounded: a leg keeps its older strides for reference_backlog_s; those before keep their
    # judgement (the strides before the slip, 20 s before the end of a 34-s walk, as they came).
    live, bounded = _ended(slipped, live_run, 0.05, reference_backlog_s=12.0)
    for leg in live.legs.values():
        t_ic = [p.stride.t_initial_contact_s for p in leg.given.older]
        assert t_ic and t_ic[-1] - t_ic[0] <= 12.0
    kept = {s.index: s for s in bounded}
    assert all(kept[s.index].used for s in old_out_of_step[1:])
