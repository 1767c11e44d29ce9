"""Walks ended while the stream goes on (``LiveKinematics.end_pass``: *Walk done*, a take stopped):
each walk's last strides are given at once and every stride of it is final, as ``analyze`` of the
recording cut there has them; the next walking is a new walk — no stride spans the end (issue 11;
docs/live-history.md, "The end of a walk, with the stream going on").

The scenario — a 10-m walk test done twice with a stop between, *Walk done* pressed at each stop —
is shared with ``benchmarks/live_end_pass.py``, which prints its numbers."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from conftest import LiveRun, offline_like_live
from test_live_agreement import (
    FINAL_HIP_TOLERANCE_DEG,
    HIP_METRICS,
    KNEE_METRICS,
    KNEE_TOLERANCE_DEG,
    matched,
)

from imugait.conventions import Side
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import LiveStride, LiveUpdate, latest_strides
from imugait.model import Session
from imugait.simulate import SimulationConfig, WalkerParams, simulate
from imugait.simulate.timeline import WALK_RAMP_S, PhaseKind, TimelinePhase, ten_metre_walk

RATE_HZ = 200.0
STAND_S = 5.0
PAUSE_S = 4.0
"""Standing between the passes; *Walk done* is pressed ``DONE_AFTER_S`` into it."""
DONE_AFTER_S = 2.0
PASS_M = 10.0
SAME_STRIDE_S = 0.05


def two_passes(seed: int = 3, speed_mps: float = 1.2, passes: int = 2, turns: bool = False
               ) -> tuple[Session, list[float]]:
    """Stand, then ``passes`` 10-m passes each ending in a stop (standing ``PAUSE_S`` between,
    ``STAND_S`` at the start and the end): the session and the session times of *Walk done*
    (``DONE_AFTER_S`` into each stop). ``turns``: the simulator's 10-m walk instead
    (:func:`~imugait.simulate.timeline.ten_metre_walk`: the passes joined by 180° turns, walked),
    *Walk done* in the middle of each turn and ``DONE_AFTER_S`` into the final stop."""
    if turns:
        phases = list(ten_metre_walk(speed_mps, passes, distance_m=PASS_M, stand_s=STAND_S))
    else:
        pass_s = PASS_M / speed_mps + WALK_RAMP_S  # (half a ramp at each end, as ten_metre_walk's)
        phases = [TimelinePhase(PhaseKind.STAND, STAND_S, "stand_start")]
        for i in range(passes):
            phases.append(TimelinePhase(PhaseKind.WALK, pass_s, f"walk_{i + 1}"))
            last = i == passes - 1
            phases.append(TimelinePhase(PhaseKind.STAND, STAND_S if last else PAUSE_S,
                                        "stand_end" if last else f"stop_{i + 1}"))
    done_s, t = [], 0.0
    for i, phase in enumerate(phases):
        if phase.kind is PhaseKind.TURN:
            done_s.append(t + 0.5 * phase.duration_s)
        elif phase.kind is PhaseKind.STAND and i:
            done_s.append(t + DONE_AFTER_S)
        t += phase.duration_s
    config = SimulationConfig(seed=seed, sample_rate_hz=RATE_HZ, walker=WalkerParams(speed_mps=speed_mps),
                              timeline=tuple(phases))
    session = simulate(config).session
    return session, [session.t_start_s + s for s in done_s]


@dataclass(frozen=True, eq=False)
class EndedWalk:
    """One walk ended by ``end_pass`` at ``t_s`` (the end of the samples fed)."""

    t_s: float
    t_from_s: float
    """The previous walk's end (the session's start for the first)."""
    at_end: tuple[LiveStride, ...]
    """Every stride version given until just after ``end_pass`` (polled then)."""
    run: LiveRun
    """The live run so far and ``analyze`` of the session cut at ``t_s``."""
    cpu_s: float = float("nan")
    """Process time of the ``end_pass`` call (s)."""

    def table(self) -> pd.DataFrame:
        """Each of this walk's strides as given by ``end_pass`` (its latest version then) beside
        ``analyze``'s nearest (``test_live_agreement.matched``)."""
        mine = [s for s in latest_strides(self.at_end) if s.t_initial_contact_s >= self.t_from_s]
        return matched(LiveRun(self.run.session, self.run.live, LiveUpdate(t_s=self.t_s, strides=tuple(mine)),
                               self.run.offline))

    def offline_cycles(self) -> pd.DataFrame:
        cycles = self.run.offline.cycles
        return cycles[cycles["t_initial_contact_s"] >= self.t_from_s]


def walks_ended(session: Session, done_s: list[float], chunk_s: float = 0.05,
                end_passes: bool = True) -> tuple[list[EndedWalk], list[LiveStride]]:
    """Feed ``session`` in blocks of ``chunk_s`` (a poll after each), calling ``end_pass`` once the
    samples before each of ``done_s`` are in (``end_passes`` False: only polled there — the
    stream left alone), and compare each walk with ``analyze`` of the session cut there. Returns
    the walks and every stride version given (to the session's end)."""
    live = LiveKinematics(list(session), LiveConfig(rate_hz=RATE_HZ))
    given: list[LiveStride] = []
    walks = []
    t_from = session.t_start_s
    for t_done in [*done_s, session.t_end_s + 1.0]:
        piece = session.slice_time(t_from if not walks else walks[-1].t_s, min(t_done, session.t_end_s + 1.0))
        _feed(live, piece, chunk_s, given)
        if t_done > session.t_end_s:
            break
        cpu_s = time.process_time()
        if end_passes:
            live.end_pass()
        cpu_s = time.process_time() - cpu_s
        given += live.poll().strides
        cut = session.slice_time(session.t_start_s, t_done)
        run = LiveRun(cut, live, LiveUpdate(t_s=t_done, strides=tuple(given)), offline_like_live(cut, live))
        walks.append(EndedWalk(t_done, walks[-1].t_s if walks else session.t_start_s, tuple(given), run, cpu_s))
    return walks, given


def _angle_deg(q_a: np.ndarray, q_b: np.ndarray) -> float:
    return float(np.rad2deg(2 * np.arccos(min(abs(float(np.dot(q_a, q_b))), 1.0))))


def _feed(live: LiveKinematics, piece: Session, chunk_s: float, given: list[LiveStride]) -> None:
    original = live.feed

    def feed(samples):
        original(samples)
        given.extend(live.poll().strides)
    live.feed = feed
    try:
        live.feed_session(piece, chunk_s)
    finally:
        live.feed = original


def agreement(walk: EndedWalk, side: Side) -> dict[str, float]:
    """Of one walk and leg: strides found, final and used live (as given at the walk's end) / found
    and used by ``analyze`` of the recording cut there, used by both, and the largest and median
    |live − analyze| over the strides both used (knee and hip metrics, deg; events, ms)."""
    table = walk.table()
    table = table[table["side"] == side] if len(table) else table
    cycles = walk.offline_cycles()
    cycles = cycles[cycles["side"] == side.value]
    both = table[table["used"] & table["offline_used"] & (table["ic_s"].abs() <= SAME_STRIDE_S)]
    knee, hip = (both[list(m)].abs().to_numpy() for m in (KNEE_METRICS, HIP_METRICS))
    events_ms = 1e3 * both[["ic_s", "to_s", "next_ic_s"]].abs().to_numpy()
    nan = float("nan")
    return {"live_found": len(table), "live_final": int(table["final"].sum()) if len(table) else 0,
            "live_used": int(table["used"].sum()) if len(table) else 0,
            "analyze_found": len(cycles), "analyze_used": int(cycles["used"].sum()), "both_used": len(both),
            "knee_max_deg": np.nanmax(knee) if knee.size else nan, "knee_median_deg": np.nanmedian(knee) if knee.size else nan,
            "hip_max_deg": np.nanmax(hip) if hip.size else nan, "hip_median_deg": np.nanmedian(hip) if hip.size else nan,
            "events_max_ms": np.nanmax(events_ms) if events_ms.size else nan}


@pytest.fixture(scope="module")
def ended() -> tuple[Session, list[float], list[EndedWalk], list[LiveStride]]:
    session, done_s = two_passes()
    walks, given = walks_ended(session, done_s)
    return session, done_s, walks, given


def test_walk_done_gives_each_walks_last_strides_final_as_analyze_of_the_recording_cut_there(ended):
    """Both legs are calibrated at the first stop (the end of a pass); *Walk done* there gives that
    walk's strides, every one final (``main``: the last ones wait for more walking — the second
    pass), with the events, used/unused decisions and metrics of ``analyze`` of the recording cut
    at the press; and again at the second stop for the second walk."""
    _session, _done_s, walks, _given = ended
    for walk in walks:
        table = walk.table()
        cycles = walk.offline_cycles()
        for side in Side:
            mine = table[table["side"] == side]
            assert len(mine) == (cycles["side"] == side.value).sum() >= 6
        assert table["final"].all()
        assert (table["used"] == table["offline_used"]).all()  # (main, at the stream's end: 10 of 13)
        assert table[["ic_s", "to_s", "next_ic_s"]].abs().max().max() <= 0.001
        both = table[table["used"] & table["offline_used"]]
        assert len(both) >= 12
        assert both[list(KNEE_METRICS)].abs().max().max() <= KNEE_TOLERANCE_DEG
        # ``analyze`` of the recording cut at the second stop fits the knee axes to its first 10 s of
        # walking (into the second pass), live to the first pass (calibrated at its stop): the
        # thigh frames differ by up to 0.1° there, and the hip rotation with them (measured
        # 2026-12-06: 0.098° / 0.069°, the calibrations 0.098° / 0.069° apart; 0.004° at the first stop).
        calibration_deg = max(_angle_deg(leg.alignment.thigh.q_sensor_segment,
                                         walk.run.offline.legs[side].alignment.thigh.q_sensor_segment)
                              for side, leg in walk.run.live.legs.items())
        assert both[list(HIP_METRICS)].abs().max().max() <= FINAL_HIP_TOLERANCE_DEG + calibration_deg


def test_the_next_walking_is_a_new_walk_no_stride_spans_the_stop(ended):
    session, done_s, walks, given = ended
    strides = latest_strides(given)
    for side in Side:
        mine = [s for s in strides if s.side is side]
        assert [s.index for s in mine] == list(range(len(mine)))
        for t_done in done_s:
            assert not any(s.t_initial_contact_s < t_done < s.t_next_initial_contact_s for s in mine)
        per_walk = [sum(a.t_s > s.t_initial_contact_s >= a.t_from_s for s in mine) for a in walks]
        assert min(per_walk) >= 6
    assert all(s.final for s in strides)  # (the second walk ended at the second stop: nothing after it)


def test_chunked_equals_whole_with_walks_ended(ended):
    """``end_pass`` is decided at the newest row: with the samples fed up to the same instant, the
    blocks' sizes do not matter (every stride, every version, to the last bit)."""
    session, done_s, _walks, given = ended
    _walks, in_blocks = walks_ended(session, done_s, chunk_s=0.37)
    assert latest_strides(in_blocks) == latest_strides(given)
