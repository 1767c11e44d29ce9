"""The per-stride checks that need the other leg or the device: double support (the other leg's
settled strides, :mod:`imugait.live.double_support`) and the clipping check (the gyroscope's
declared range carried in the live samples, :mod:`imugait.analysis.clipping`) — against
``analyze`` on the same recording, chunked as whole."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest
from conftest import SIMULATION, offline_like_live
from test_live_chunks import _strides, assert_same_strides

from imugait.acquisition.assembler import AcquisitionConfig, LiveSamples, SessionAssembler
from imugait.analysis.pipeline import AnalysisResult
from imugait.conventions import Placement, Side
from imugait.gait.cycles import Exclusion, Stride
from imugait.live.double_support import give_double_support
from imugait.live.given_strides import GivenStrides, PendingStride
from imugait.live.grid import LiveGrid, LiveSensor
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import LiveStride, LiveUpdate, latest_strides
from imugait.model import Session
from imugait.protocol.messages import DeviceAnnouncement, SampleBlock

EVENT_TOLERANCE_S = 0.010
DOUBLE_SUPPORT_TOLERANCE_PCT = 1.0
"""Issue 11: per-stride metrics within 1 (here %-points of the stride) of ``analyze``."""
CLIPPED = Exclusion.CLIPPED.value


def clipped_session(session: Session, placement: Placement, quantile: float) -> Session:
    """``session`` with ``placement``'s gyroscope declaring a range at the ``quantile`` of its
    largest component and its rates clipped there (a sensor set to too small a range)."""
    s = session[placement]
    r = float(np.quantile(np.abs(s.gyr_radps).max(axis=1), quantile))
    clipped = replace(s, gyr_radps=np.clip(s.gyr_radps, -r, r), device=replace(s.device, gyr_range_radps=r))
    return Session([clipped if x.placement is placement else x for x in session.values()], session.meta)


@dataclass(frozen=True, eq=False)
class Run:
    session: Session
    update: LiveUpdate
    offline: AnalysisResult


@pytest.fixture(scope="module")
def clipped_run(live_run) -> Run:
    """The shared walk, its left shank's gyroscope at its declared range now and then; fed in
    50-ms blocks to the stream's end."""
    session = clipped_session(live_run.session, Placement.LEFT_SHANK, 0.995)
    live = LiveKinematics(list(session), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    live.feed_session(session, chunk_s=0.05)
    live.end()
    return Run(session, live.poll(), offline_like_live(session, live))


def _matched(run: Run) -> list[tuple[LiveStride, dict]]:
    """Each live stride (latest version) beside the offline stride with the nearest initial contact."""
    out = []
    for stride in latest_strides(run.update.strides):
        cycles = run.offline.cycles[run.offline.cycles["side"] == stride.side.value]
        o = cycles.iloc[int(np.argmin(np.abs(cycles["t_initial_contact_s"] - stride.t_initial_contact_s)))]
        assert abs(o["t_initial_contact_s"] - stride.t_initial_contact_s) <= EVENT_TOLERANCE_S
        out.append((stride, o))
    return out


def test_a_gyroscope_at_its_declared_range_excludes_the_strides_analyze_excludes(clipped_run):
    pairs = _matched(clipped_run)
    assert len(pairs) == len(clipped_run.offline.cycles)
    live_clipped = [(s.side, s.index) for s, _o in pairs if s.exclusion == CLIPPED]
    offline_clipped = [(s.side, s.index) for s, o in pairs if o["exclusion"] == CLIPPED]
    assert live_clipped == offline_clipped
    assert len(live_clipped) >= 5 and {side for side, _ in live_clipped} == {Side.LEFT}
    # Some left strides stay clean: the check is per stride, not per sensor.
    assert sum(s.side is Side.LEFT and s.used for s, _o in pairs) >= 5


def test_double_support_of_every_stride_as_analyze(clipped_run):
    pairs = _matched(clipped_run)
    live = np.array([s.metrics["double_support_pct"] for s, _o in pairs])
    offline = np.array([o["double_support_pct"] for _s, o in pairs], dtype=float)
    # NaN where offline it is NaN (a leg's first stride: no toe-off of the other leg before it ends)…
    np.testing.assert_array_equal(np.isnan(live), np.isnan(offline))
    assert np.isfinite(live).sum() >= len(pairs) - 2
    # …and the same number elsewhere: the same function over the same events.
    assert np.nanmax(np.abs(live - offline)) <= DOUBLE_SUPPORT_TOLERANCE_PCT
    assert 15.0 <= np.nanmedian(live) <= 30.0  # walking's double support, not a unit slip


def test_without_the_streams_end_a_legs_last_stride_has_it_once_the_other_leg_has_stopped(live_run):
    # The shared run is polled without end(): the person stands for a few seconds after the last
    # stride, long enough that the other leg can begin no stride before the last toe-off.
    run = Run(live_run.session, live_run.update, live_run.offline)
    pairs = _matched(run)
    live = np.array([s.metrics["double_support_pct"] for s, _o in pairs])
    offline = np.array([o["double_support_pct"] for _s, o in pairs], dtype=float)
    np.testing.assert_array_equal(np.isnan(live), np.isnan(offline))
    assert np.nanmax(np.abs(live - offline)) <= DOUBLE_SUPPORT_TOLERANCE_PCT
    assert all(s.final for s, _o in pairs)


def test_random_chunks_give_what_50_ms_blocks_give_with_a_clipped_sensor(clipped_run):
    rng = np.random.default_rng(19)
    live = LiveKinematics(list(clipped_run.session), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    updates = []
    original = live.feed

    def feed_and_poll(samples):
        original(samples)
        if rng.integers(30) == 0:
            updates.append(live.poll())

    live.feed = feed_and_poll
    live.feed_session(clipped_run.session, iter(rng.uniform(0.001, 0.3, size=100_000)))
    live.end()
    updates.append(live.poll())
    assert_same_strides(_strides(updates), _strides([clipped_run.update]))


def test_without_a_declared_range_no_row_is_clipped():
    t = np.arange(50) / 100.0
    gyr = np.zeros((50, 3))
    gyr[20:25, 0] = 30.0  # rad/s: beyond any gyroscope of a walking test
    sensors = {}
    for p, declared in ((Placement.LEFT_THIGH, None), (Placement.LEFT_SHANK, 10.0)):
        sensors[p] = LiveSensor(p, 200)
        sensors[p].add(LiveSamples(p, t, np.tile([0.0, 0.0, 9.81], (t.size, 1)), gyr, None, None, 0,
                                   gyr_range_radps=declared))
    grid = LiveGrid(list(sensors), 100.0)
    assert grid.start(sensors)
    rows = grid.rows(sensors, 0, grid.n_ready(sensors), with_orientation=False)
    assert not rows["left_thigh/clipped"].any()
    np.testing.assert_array_equal(np.flatnonzero(rows["left_shank/clipped"]), np.arange(20, 25))


def test_the_live_samples_carry_the_range_the_device_announced():
    asm = SessionAssembler(AcquisitionConfig(nominal_rate_hz=100.0), t0_host_s=0.0)
    p = Placement.LEFT_SHANK

    def block(k0: int) -> SampleBlock:
        k = np.arange(k0, k0 + 10)
        return SampleBlock(seq=k.astype(np.int64), t_device_us=(k * 10_000).astype(np.int64),
                           acc_mps2=np.tile([0.0, 0.0, 9.81], (10, 1)), gyr_radps=np.zeros((10, 3)))

    assert asm.handle(p, 0.1, block(0)).gyr_range_radps is None  # nothing announced: unknown, not guessed
    asm.handle(p, 0.15, DeviceAnnouncement("d", "m", "f", 100.0, 156.9, 34.9))
    assert asm.handle(p, 0.2, block(10)).gyr_range_radps == 34.9


def _pending(side: Side, t0: float, t_to: float, t1: float) -> PendingStride:
    stride = Stride(t0, t_to, t1, Exclusion.NONE)
    row = {"used": True, "double_support_pct": np.nan}
    given = LiveStride(side, 0, t0, t_to, t1, {"double_support_pct": np.nan}, True, final=False)
    return PendingStride(stride, given, row, k_lag=0, run=-1, timed=True)


def test_double_support_waits_for_the_other_legs_stride_that_ends_after_the_toe_off():
    left, right = GivenStrides(Side.LEFT, None), GivenStrides(Side.RIGHT, None)
    legs = {Side.LEFT: left, Side.RIGHT: right}
    right.note_settled(_pending(Side.RIGHT, -0.5, 0.1, 0.5))
    p = _pending(Side.LEFT, 0.0, 0.6, 1.0)
    left.note_settled(p)
    give_double_support(legs, [Side.LEFT, Side.RIGHT])
    # The right leg's strides end at 0.5 s, before the left toe-off: a contact may still come before it.
    assert np.isnan(p.row["double_support_pct"]) and list(left.unsupported) == [p]
    right.note_settled(_pending(Side.RIGHT, 0.5, 1.1, 1.5))
    give_double_support(legs, [Side.LEFT, Side.RIGHT])
    # 0 → 0.1 s (right toe-off) and 0.5 s (right contact) → 0.6 s (left toe-off): 20 % of the stride,
    # in its next version (not final yet: nothing given now).
    assert p.row["double_support_pct"] == pytest.approx(20.0) and not left.unsupported
    assert p.given.metrics["double_support_pct"] == pytest.approx(20.0) and left.new == []
    # A stride due final before it is decided is given not final, then final with it; at a walk's
    # end a stride is decided with the other leg's strides there are.
    q = _pending(Side.LEFT, 1.0, 1.6, 2.0)
    left.note_settled(q)
    q.given = replace(q.given, final=True)
    left.give(q)
    give_double_support(legs, [Side.LEFT, Side.RIGHT])
    assert np.isnan(q.row["double_support_pct"]) and [v.final for v in left.new] == [False]
    give_double_support(legs, [Side.LEFT, Side.RIGHT], ended_s=2.0)
    assert q.row["double_support_pct"] == pytest.approx(20.0)
    assert [(v.final, v.metrics["double_support_pct"]) for v in left.new] == [(False, pytest.approx(np.nan, nan_ok=True)),
                                                                             (True, pytest.approx(20.0))]
    # A stride about to leave the history is decided with what there is too (here: none after it).
    r = _pending(Side.LEFT, 2.0, 2.6, 3.0)
    left.note_settled(r)
    give_double_support(legs, [Side.LEFT, Side.RIGHT], old_s={Side.LEFT: 2.0}.__getitem__)
    assert r.supported and not left.unsupported and np.isnan(r.row["double_support_pct"])


def test_a_leg_without_the_other_has_no_double_support_at_once():
    # No sensors on the other leg, or its calibration failed (not expected): NaN, as offline.
    left = GivenStrides(Side.LEFT, None)
    p = _pending(Side.LEFT, 0.0, 0.6, 1.0)
    left.note_settled(p)
    give_double_support({Side.LEFT: left}, [Side.LEFT])
    assert not left.unsupported and p.supported and np.isnan(p.row["double_support_pct"]) and left.new == []
