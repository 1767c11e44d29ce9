"""A sensor's link dropped for 1.5 s while walking (issue 11's dashboard test, the right shank):
the live angles of its leg are NaN inside the gap, never invented; the other leg goes on.

By default the sensor's filter is re-seeded after the gap (:mod:`imugait.live.reseed`): the
angles are back one stride after the reconnection, the orientation close to the same filter's
without the gap. Bridged as offline (``reseed_window_s=None``) they are NaN until a heading window
after the gap has been estimated, then agree with ``analyze`` of the same recording."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import SIMULATION, feed_polled, offline_like_live

from imugait.acquisition import gaps_from_seq
from imugait.conventions import Placement, Side
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import latest_strides
from imugait.model import ImuStream, Session
from imugait.quaternion import heading_inclination_split, quat_conj, quat_multiply
from imugait.simulate import simulate

GAP_S = (27.0, 28.5)
"""The right shank's samples lost (6 s into the second walk, after both legs calibrated)."""
WITHHELD_MAX_S = 6.5
"""Bridged: angles come back once a heading window (4 s, every 2 s) wholly after the gap has settled."""
BRIDGED = LiveConfig(rate_hz=SIMULATION.sample_rate_hz, reseed_window_s=None)


def without(stream: ImuStream, t0_s: float, t1_s: float) -> ImuStream:
    """``stream`` with its samples in ``[t0_s, t1_s)`` lost (counted in its gaps, as a dropped link)."""
    seq = np.arange(stream.n_samples, dtype=np.int64)
    for gap in stream.gaps:
        seq[gap.after_index + 1:] += gap.n_lost
    keep = (stream.t_s < t0_s) | (stream.t_s >= t1_s)
    return replace(stream, t_s=stream.t_s[keep], acc_mps2=stream.acc_mps2[keep], gyr_radps=stream.gyr_radps[keep],
                   mag_uT=None if stream.mag_uT is None else stream.mag_uT[keep],
                   q_world_sensor=None if stream.q_world_sensor is None else stream.q_world_sensor[keep],
                   gaps=gaps_from_seq(seq[keep]))


def cut_session(session: Session) -> Session:
    return Session([without(s, *GAP_S) if p is Placement.RIGHT_SHANK else s for p, s in session.items()], session.meta)


@pytest.fixture(scope="module")
def gap_run():
    """Bridged as offline."""
    cut = cut_session(simulate(SIMULATION).session)
    live = LiveKinematics(list(cut), BRIDGED)
    live.feed_session(cut, chunk_s=0.05)
    return cut, live, live.poll(), offline_like_live(cut, live)


@pytest.fixture(scope="module")
def reseeded_run(live_run):
    """Re-seeded (the default), polled after every block: (cut session, pipeline, updates)."""
    cut = cut_session(live_run.session)
    live = LiveKinematics(list(cut), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    return cut, live, feed_polled(live, cut, 0.05)


def _first_after(cut: Session) -> float:
    shank_t = cut[Placement.RIGHT_SHANK].t_s
    return float(shank_t[shank_t >= GAP_S[1]][0])


def test_after_a_dropped_link_the_angles_are_back_one_stride_after_the_reconnection(reseeded_run):
    cut, live, updates = reseeded_run
    first_after = _first_after(cut)
    assert [t for t, _gap in live._sensors[Placement.RIGHT_SHANK].reseeds] == [first_after]
    # The poll (newest data time) that first returned a right-knee angle after the gap.
    back = next(u.t_s for u in updates for a in u.angles
                if a.side is Side.RIGHT and np.isfinite(a.knee_flexion_deg[a.t_s >= first_after]).any())
    assert 0.6 <= back - first_after <= 1.3  # the re-seeding window: one stride (1.0-1.1 s here)
    t = np.concatenate([a.t_s for u in updates for a in u.angles if a.side is Side.RIGHT])
    knee = np.concatenate([a.knee_flexion_deg for u in updates for a in u.angles if a.side is Side.RIGHT])
    last_before = cut[Placement.RIGHT_SHANK].t_s[cut[Placement.RIGHT_SHANK].t_s < GAP_S[0]][-1]
    assert np.isnan(knee[(t > last_before) & (t < first_after)]).all()
    assert np.isfinite(knee[(t >= first_after) & (t < first_after + 5.0)]).all()


def test_the_reseeded_orientation_and_knee_flexion_match_the_run_without_the_gap(reseeded_run, live_run):
    cut, live, updates = reseeded_run
    first_after = _first_after(cut)
    ref, got = live_run.live._sensors[Placement.RIGHT_SHANK].samples, live._sensors[Placement.RIGHT_SHANK].samples
    t_ref, t = ref.tail("t_s"), got.tail("t_s")
    after = (t >= first_after) & (t < first_after + 5.0)
    idx = np.searchsorted(t_ref, t[after])
    np.testing.assert_array_equal(t_ref[idx], t[after])
    error = quat_multiply(got.tail("q_world_sensor")[after], quat_conj(ref.tail("q_world_sensor")[idx]))
    heading, inclination = heading_inclination_split(error)
    # Bridged, the same filter was 145° off in inclination here (docs/live.md). The heading cannot
    # be seen without a magnetometer: the shank turned 2.4° against the thigh over the gap.
    assert np.degrees(inclination).max() <= 1.5
    assert np.degrees(heading).max() <= 5.0
    t_angles = np.concatenate([a.t_s for u in updates for a in u.angles if a.side is Side.RIGHT])
    knee = np.concatenate([a.knee_flexion_deg for u in updates for a in u.angles if a.side is Side.RIGHT])
    ref_angles = [a for a in live_run.update.angles if a.side is Side.RIGHT]
    t_ref_angles = np.concatenate([a.t_s for a in ref_angles])
    ref_knee = np.concatenate([a.knee_flexion_deg for a in ref_angles])
    back = (t_angles >= first_after) & (t_angles < 35.5)  # to the end of the walk
    idx = np.searchsorted(t_ref_angles, t_angles[back])
    assert np.abs(knee[back] - ref_knee[idx]).max() <= 1.5


def test_the_reseeding_does_not_depend_on_how_the_samples_were_chunked(reseeded_run):
    cut, _live, updates = reseeded_run
    live = LiveKinematics(list(cut), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    live.feed_session(cut, iter(np.random.default_rng(8).uniform(0.001, 0.3, size=100_000)))
    chunked = live.poll()
    for side in Side:
        t = np.concatenate([a.t_s for u in updates for a in u.angles if a.side is side])
        np.testing.assert_array_equal(np.concatenate([a.t_s for a in chunked.angles if a.side is side]), t)
        for name in ("knee_flexion_deg", "knee_rotation_deg"):
            whole = np.concatenate([getattr(a, name) for u in updates for a in u.angles if a.side is side])
            np.testing.assert_allclose(np.concatenate([getattr(a, name) for a in chunked.angles if a.side is side]),
                                       whole, atol=1e-9, equal_nan=True)


def _angles(update, offline, side: Side):
    parts = [a for a in update.angles if a.side is side]
    t = np.concatenate([a.t_s for a in parts])
    idx = np.searchsorted(offline.t_s, t)
    assert np.allclose(offline.t_s[idx], t)  # the same grid
    live = {name: np.concatenate([getattr(a, name) for a in parts])
            for name in ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg")}
    off = {name: offline.legs[side].angles_deg[name][idx] for name in live}
    return t, live, off


def test_inside_the_gap_and_until_trusted_the_angles_are_nan(gap_run):
    cut, _live, update, offline = gap_run
    t, live, _off = _angles(update, offline, Side.RIGHT)
    shank_t = cut[Placement.RIGHT_SHANK].t_s
    last_before, first_after = shank_t[shank_t < GAP_S[0]][-1], shank_t[shank_t >= GAP_S[1]][0]
    inside = (t > last_before) & (t < first_after)
    assert inside.sum() >= 295
    for values in live.values():
        assert np.isnan(values[inside]).all()
    back = t[(t > first_after) & np.isfinite(live["knee_flexion_deg"])]
    assert back.size and back[0] - first_after <= WITHHELD_MAX_S
    withheld = (t >= first_after) & (t < back[0])
    assert np.isnan(live["knee_rotation_deg"][withheld]).all()


def test_once_back_the_angles_agree_with_analyze_and_the_other_leg_goes_on(gap_run):
    _cut, _live, update, offline = gap_run
    t, live, off = _angles(update, offline, Side.RIGHT)
    back = (t >= GAP_S[1]) & np.isfinite(live["knee_flexion_deg"]) & (t < 35.5)  # to the end of the walk
    assert back.sum() >= 150
    assert np.abs(live["knee_flexion_deg"][back] - off["knee_flexion_deg"][back]).max() <= 1.0
    assert np.abs(live["knee_adduction_deg"][back] - off["knee_adduction_deg"][back]).max() <= 1.0
    assert np.abs(live["knee_rotation_deg"][back] - off["knee_rotation_deg"][back]).max() <= 1.0
    # The left leg never stops and stays with analyze as without a gap.
    t, live, off = _angles(update, offline, Side.LEFT)
    walking = (t >= 24.0) & (t < 35.5)
    assert np.isfinite(live["knee_flexion_deg"][walking]).all()
    for name in live:
        assert np.abs(live[name][walking] - off[name][walking]).max() <= 1.5


def test_no_used_stride_of_the_leg_covers_the_gap_or_the_withheld_angles(gap_run):
    _cut, _live, update, offline = gap_run
    t, live, _off = _angles(update, offline, Side.RIGHT)
    blank = t[(t >= GAP_S[0] - 0.1) & np.isnan(live["knee_flexion_deg"]) & (t < 35.5)]
    for stride in latest_strides(update.strides):
        if stride.side is Side.RIGHT and stride.used:
            assert not (stride.t_initial_contact_s <= blank[-1] and stride.t_next_initial_contact_s >= blank[0])


def test_the_blank_stretch_does_not_depend_on_how_the_samples_were_chunked(gap_run):
    cut, _live, update, _offline = gap_run
    live = LiveKinematics(list(cut), BRIDGED)
    live.feed_session(cut, iter(np.random.default_rng(7).uniform(0.001, 0.3, size=100_000)))
    chunked = live.poll()
    for side in Side:
        t = np.concatenate([a.t_s for a in update.angles if a.side is side])
        t_chunked = np.concatenate([a.t_s for a in chunked.angles if a.side is side])
        np.testing.assert_array_equal(t_chunked, t)
        for name in ("knee_flexion_deg", "knee_rotation_deg"):
            whole = np.concatenate([getattr(a, name) for a in update.angles if a.side is side])
            np.testing.assert_allclose(np.concatenate([getattr(a, name) for a in chunked.angles if a.side is side]),
                                       whole, atol=1e-9, equal_nan=True)
