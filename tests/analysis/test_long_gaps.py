"""A long lost-sample gap in a shank's swing excludes the strides near it, with its reason; a short
gap excludes nothing (imugait.gait.cycles.LONG_GAP_S, GAP_MARGIN_FACTOR)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imugait.analysis import analyze_session
from imugait.conventions import Placement, Side
from imugait.gait.cycles import Exclusion, StrideConfig
from imugait.model import Gap, Session
from imugait.simulate import SimulationConfig, simulate, walking_test


@pytest.fixture(scope="module")
def walk():
    """A lossless simulated walk (stand, two 20-s bouts, stand) and its analysis."""
    sim = simulate(SimulationConfig(seed=21, sample_rate_hz=60.0, timeline=walking_test(n_bouts=2, bout_s=20.0)))
    return sim.session, analyze_session(sim.session)


def _swing_peak(session: Session, placement: Placement, near_s: float) -> int:
    """The sample of the shank's fastest swing within 0.6 s after ``near_s``."""
    stream = session[placement]
    i0, i1 = np.searchsorted(stream.t_s, [near_s, near_s + 0.6])
    return int(i0 + np.argmax(np.linalg.norm(stream.gyr_radps[i0:i1], axis=1)))


def _without(session: Session, placement: Placement, centre: int, n_lost: int) -> tuple[Session, float, float]:
    """``session`` with ``n_lost`` samples of ``placement`` around sample ``centre`` lost (a
    ``Gap``, as a receiver records them), and the gap's first and last lost instant (s)."""
    stream = session[placement]
    start = centre - n_lost // 2
    keep = np.r_[0:start, start + n_lost:stream.n_samples]
    cut = dataclasses.replace(stream, t_s=stream.t_s[keep], acc_mps2=stream.acc_mps2[keep], gyr_radps=stream.gyr_radps[keep],
                              mag_uT=None if stream.mag_uT is None else stream.mag_uT[keep], q_world_sensor=None,
                              gaps=(Gap(start - 1, n_lost),))
    streams = [cut if s.placement is placement else s for s in session.streams]
    return Session(streams, session.meta), float(stream.t_s[start]), float(stream.t_s[start + n_lost - 1])


def _strides(result, side: Side):
    return {round(s.t_initial_contact_s, 3): s for s in result.legs[side].strides}


def test_a_long_gap_in_swing_excludes_the_strides_near_it_and_only_those(walk):
    session, clean = walk
    before = _strides(clean, Side.LEFT)
    used = sorted(t for t, s in before.items() if s.used)
    # A 233-ms burst (14 samples at 60 Hz, as walker w037's) in the swing of a stride mid-way
    # through the first bout, far enough from the end for strides beyond the margin.
    middle = used[len(used) // 3]
    gapped, gap_start_s, gap_end_s = _without(session, Placement.LEFT_SHANK,
                                              _swing_peak(session, Placement.LEFT_SHANK, middle), 14)
    duration_s = gap_end_s - gap_start_s + 1 / 60.0
    config = StrideConfig()
    assert duration_s > config.long_gap_s
    margin_s = min(config.gap_margin_factor * duration_s, config.gap_margin_max_s)
    # (On the analysis grid a gap may take a row more than its lost samples: the grid's rows do not
    # fall on the sensor's instants.)
    reach_s = margin_s + config.gap_margin_factor / 60.0 + 1 / 60.0
    after = _strides(analyze_session(gapped), Side.LEFT)
    reasons = [s.exclusion for s in after.values()]
    assert Exclusion.LOST_SAMPLES in reasons and Exclusion.NEAR_LONG_GAP in reasons  # the gap's own stride; those near
    # No stride within the margin is used, and those not in the gap's own stride say why.
    for s in after.values():
        if s.t_next_initial_contact_s > gap_start_s - margin_s and s.t_initial_contact_s < gap_end_s + margin_s:
            assert not s.used
        if s.exclusion is Exclusion.NEAR_LONG_GAP:
            assert s.t_next_initial_contact_s >= gap_start_s - reach_s and s.t_initial_contact_s <= gap_end_s + reach_s
    # Every stride clear of the margin is judged as without the gap (the same contacts ± a sample).
    far = [t for t, s in before.items()
           if s.t_next_initial_contact_s < gap_start_s - reach_s or s.t_initial_contact_s > gap_end_s + reach_s]
    assert far, "the walk is too short to have strides beyond the margin"
    for t in far:
        match = min(after, key=lambda u: abs(u - t))
        assert abs(match - t) <= 1.5 / 60.0
        assert after[match].exclusion is before[t].exclusion
    # The right leg has no gap: its strides are judged as before.
    assert [s.exclusion for s in _strides(clean, Side.RIGHT).values()] == \
           [s.exclusion for s in _strides(analyze_session(gapped), Side.RIGHT).values()]


@pytest.mark.parametrize("n_lost", [1, 2])
def test_a_short_gap_in_swing_excludes_nothing(walk, n_lost):
    session, clean = walk
    before = _strides(clean, Side.LEFT)
    middle = sorted(t for t, s in before.items() if s.used)[3]
    gapped, _, _ = _without(session, Placement.LEFT_SHANK, _swing_peak(session, Placement.LEFT_SHANK, middle), n_lost)
    after = _strides(analyze_session(gapped), Side.LEFT)
    assert not any(s.exclusion is Exclusion.NEAR_LONG_GAP for s in after.values())
    assert sum(s.used for s in after.values()) == sum(s.used for s in before.values())
