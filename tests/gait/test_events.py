"""Gait events on synthetic angular rates whose events are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.calibration import swing
from imugait.gait import events as events_module
from imugait.gait.events import detect_leg_events

STRIDE_S = 1.0
TOE_OFF = 0.60
"""Toe-off as a fraction of the stride (initial contact at 0)."""
SHANK_MIN = 0.56
"""Where the shank's rate is lowest before swing: before toe-off, as on real legs."""
IMPACT_S = 0.04
"""Duration of the heel-strike impulse (the quick knee flexion it causes): the shank's rate is
lowest a quarter of it (10 ms) after contact, the delay Aminian et al. 2002 measured."""


def _bump(phase: np.ndarray, centre: float, width: float) -> np.ndarray:
    d = np.mod(phase - centre + 0.5, 1.0) - 0.5
    return np.exp(-((d / width) ** 2))


def _leg(rate_hz: float, n_strides: int = 10):
    """(t_s, shank rate, thigh rate, true contacts, true toe-offs): mid-swing peak at 80 %, a
    heel-strike impulse starting exactly at each contact, and a knee flexion rate that peaks at
    toe-off while the shank's own minimum comes earlier."""
    t = np.arange(0.0, n_strides * STRIDE_S, 1.0 / rate_hz)
    phase = np.mod(t, STRIDE_S) / STRIDE_S
    since_contact_s = phase * STRIDE_S
    # The impact flexes the knee by a raised-cosine pulse: the shank's rate drops at once and is
    # lowest a quarter of the pulse later; a smaller second dip (a bounce) follows.
    impact = np.where(since_contact_s < IMPACT_S, np.sin(2 * np.pi * since_contact_s / IMPACT_S), 0.0)
    bounce = _bump(phase, 0.08, 0.01)
    shank = 4.0 * _bump(phase, 0.8, 0.06) - 1.5 * _bump(phase, SHANK_MIN, 0.04) - 2.0 * impact - 1.2 * bounce
    knee_flexion_rate = 4.0 * _bump(phase, TOE_OFF, 0.05)
    thigh = shank + knee_flexion_rate
    contacts = np.arange(1, n_strides) * STRIDE_S
    toe_offs = np.arange(n_strides) * STRIDE_S + TOE_OFF * STRIDE_S
    return t, shank, thigh, contacts, toe_offs


def _nearest_errors_s(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    found = found[np.isfinite(found)]
    return np.array([found[np.argmin(np.abs(found - x))] - x for x in truth])


@pytest.mark.parametrize("rate_hz", [60.0, 100.0, 200.0])
def test_initial_contact_from_the_first_heel_strike_dip(rate_hz):
    t, shank, thigh, contacts, _ = _leg(rate_hz)
    events = detect_leg_events(t, shank, np.ones_like(t, dtype=bool), thigh_ml_rate_radps=thigh)
    assert events.mid_swing_s.size == 10
    errors = _nearest_errors_s(events.initial_contact_s, contacts)
    # The first dip, not the bounce; its bottom minus the published delay (half a sample at 60 Hz
    # is 8 ms).
    assert np.max(np.abs(errors)) <= max(0.005, 0.5 / rate_hz)
    assert np.isfinite(events.initial_contact_s[:-1]).all()


@pytest.mark.parametrize("rate_hz", [60.0, 100.0, 200.0])
def test_toe_off_is_the_knee_flexion_rate_peak(rate_hz):
    t, shank, thigh, _, toe_offs = _leg(rate_hz)
    walking = np.ones_like(t, dtype=bool)
    events = detect_leg_events(t, shank, walking, thigh_ml_rate_radps=thigh)
    errors = _nearest_errors_s(events.toe_off_s, toe_offs)
    assert np.max(np.abs(errors)) <= 0.006
    # Without the thigh's rate the shank's minimum is used: the known early fallback.
    shank_only = detect_leg_events(t, shank, walking)
    early = _nearest_errors_s(shank_only.toe_off_s, toe_offs)
    np.testing.assert_allclose(early, (SHANK_MIN - TOE_OFF) * STRIDE_S, atol=0.01)


def test_no_events_outside_walking_and_nan_without_a_dip():
    t, shank, thigh, _, _ = _leg(100.0)
    walking = t < 5.0
    events = detect_leg_events(t, shank, walking, thigh_ml_rate_radps=thigh)
    assert events.mid_swing_s.size == 5 and events.mid_swing_s.max() < 5.0
    # A swing that never dips below zero after mid-swing has no contact to find.
    no_dip = 4.0 * _bump(np.mod(t, STRIDE_S) / STRIDE_S, 0.8, 0.06) + 0.5
    assert np.isnan(detect_leg_events(t, no_dip, np.ones_like(walking)).initial_contact_s).all()


def _simulated_right_leg():
    """(t_s, shank rate, thigh rate, walking) of the right leg of a simulated walk (two 10-s
    bouts, 200 Hz, sensors mounted as the segments)."""
    from imugait.calibration.periods import motion_mask
    from imugait.conventions import Placement
    from imugait.simulate import SimulationConfig, simulate
    from imugait.simulate.timeline import walking_test

    sim = simulate(SimulationConfig(seed=3, sample_rate_hz=200.0, random_mounting=False,
                                    timeline=walking_test(n_bouts=2, bout_s=10.0)))
    shank, thigh = sim.session[Placement.RIGHT_SHANK], sim.session[Placement.RIGHT_THIGH]
    t = shank.t_s
    return t, shank.gyr_radps[:, 2], np.interp(t, thigh.t_s, thigh.gyr_radps[:, 2]), motion_mask(t, shank.gyr_radps)


def test_settled_events_of_trailing_windows_are_the_whole_recordings():
    # The live variant: the same detection over trailing 6-s windows every 0.2 s, keeping what
    # the window's edges no longer reach, finds every event of the whole recording at the same
    # instant (the windows' low-pass transients are kept out by the settle margins).
    from imugait.gait.events import settle_time_s, trailing_events

    t, rate, thigh_rate, walking = _simulated_right_leg()
    whole = detect_leg_events(t, rate, walking, thigh_ml_rate_radps=thigh_rate)
    found, after = [], -np.inf
    window, step = 1200, 40
    for end in range(window // 2, t.size + 1, step):
        lo = max(end - window, 0)
        ev, _early = trailing_events(t[lo:end], rate[lo:end], walking[lo:end], after,
                                     thigh_ml_rate_radps=thigh_rate[lo:end])
        found += list(zip(ev.mid_swing_s, ev.toe_off_s, ev.initial_contact_s, strict=True))
        after = found[-1][0] + 0.3 if found else after
    found = np.array(found)
    # Only the last mid-swing is still open at the end of the recording.
    assert settle_time_s() > 0.35  # the contact window and its low-pass transient
    last_settled = whole.mid_swing_s <= t[-1] - settle_time_s()
    assert len(found) == int(last_settled.sum()) >= 15
    np.testing.assert_allclose(found[:, 0], whole.mid_swing_s[last_settled], atol=1e-9)
    np.testing.assert_allclose(found[:, 1], whole.toe_off_s[last_settled], atol=1e-3)
    np.testing.assert_allclose(found[:, 2], whole.initial_contact_s[last_settled], atol=1e-3)


def test_trailing_windows_at_a_recordings_start_and_end_find_every_event_of_the_whole():
    # A recording that starts and ends mid-walk (a take started late, stopped while walking): the
    # windows whose first row is the recording's (``started``) keep the mid-swings near its start,
    # the last one (``ended``: the stream has ended) those near its end — each low-pass starts and
    # ends there in the whole recording's detection too, so every event of it is found.
    from imugait.gait.events import settle_time_s, trailing_events

    t, rate, thigh_rate, walking = _simulated_right_leg()
    mid_swings = detect_leg_events(t, rate, walking, thigh_ml_rate_radps=thigh_rate).mid_swing_s
    # Mid-bout (the walk starts at 5 s): 0.3 s before a mid-swing, 0.3 s after one (its contact in).
    start = int(np.searchsorted(t, mid_swings[mid_swings > t[0] + 9.0][0] - 0.3))
    stop = int(np.searchsorted(t, mid_swings[mid_swings > t[0] + 13.0][0] + 0.3))
    t, rate, thigh_rate, walking = t[start:stop], rate[start:stop], thigh_rate[start:stop], walking[start:stop]
    assert walking.all()
    whole = detect_leg_events(t, rate, walking, thigh_ml_rate_radps=thigh_rate)
    found, after = [], -np.inf
    window, step = 1200, 40
    ends = list(range(window // 4, t.size, step)) + [t.size]
    for end in ends:
        lo = max(end - window, 0)
        ev, _early = trailing_events(t[lo:end], rate[lo:end], walking[lo:end], after,
                                     thigh_ml_rate_radps=thigh_rate[lo:end], ended=end == t.size, started=lo == 0)
        found += list(zip(ev.mid_swing_s, ev.toe_off_s, ev.initial_contact_s, strict=True))
        after = found[-1][0] + 0.3 if found else after
    found = np.array(found)
    assert len(found) == whole.mid_swing_s.size >= 4
    assert whole.mid_swing_s[0] < t[0] + 0.75 and whole.mid_swing_s[-1] > t[-1] - settle_time_s()  # (what is at stake)
    np.testing.assert_allclose(found[:, 0], whole.mid_swing_s, atol=1e-9)
    np.testing.assert_allclose(found[:, 1], whole.toe_off_s, atol=1e-3, equal_nan=True)
    np.testing.assert_allclose(found[:, 2], whole.initial_contact_s, atol=1e-3, equal_nan=True)


def test_no_trailing_events_is_said_only_where_the_detection_finds_none():
    # The cheap look before the detection (the live leg skips the detection when it says so): over
    # trailing windows of a simulated walk, looked at every 50 ms as live, wherever it says "none"
    # the detection finds no event, settled or early — and it does say so between strides.
    from imugait.gait.events import no_trailing_events, trailing_events

    t, rate, thigh_rate, walking = _simulated_right_leg()
    said_none = looked = found = 0
    after, window = -np.inf, 1200
    for end in range(window, t.size + 1, 10):
        w = slice(end - window, end)
        ev, early = trailing_events(t[w], rate[w], walking[w], after, thigh_ml_rate_radps=thigh_rate[w], rate_hz=200.0)
        none = no_trailing_events(t[w], rate[w], walking[w], after, rate_hz=200.0)
        any_event = bool(ev.mid_swing_s.size or early.mid_swing_s.size)
        assert not (none and any_event), f"window ending at {t[end - 1]:.2f} s"
        said_none += none
        looked += 1
        found += any_event
        after = float(ev.mid_swing_s[-1]) + 0.3 if ev.mid_swing_s.size else after
    assert found >= 20 and said_none >= 0.3 * looked


def test_all_windows_at_once_equal_each_window_searched_alone():
    """The stride windows are searched together; each must give what a search of its own gives:
    the highest positive local maximum (toe-off), and the first dip at least half as deep as the
    deepest (heel strike), both refined by a parabola."""
    from scipy.signal import find_peaks

    from imugait.gait.events import _heel_strike, _window_max

    rng = np.random.default_rng(11)
    t = np.arange(3000) / 100.0
    x = np.sin(2 * np.pi * 1.3 * t) + 0.6 * np.sin(2 * np.pi * 4.1 * t) + rng.normal(0, 0.2, t.size)
    peaks = find_peaks(x)[0]
    starts = np.array([-5, 0, 10, 500, 1200, 2990, 2995, 700])
    stops = starts + np.array([40, 3, 60, 90, 1, 40, 40, 2])

    def parabola(i):
        a, b, c = x[i - 1], x[i], x[i + 1]
        return t[i] + np.clip(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5) * (t[i + 1] - t[i])

    for k, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        lo, hi = max(start, 1), min(stop, x.size - 1)
        inside = [i for i in range(lo + 1, hi - 1) if x[i - 1] < x[i] > x[i + 1] and x[i] > 0]
        expected_max = parabola(max(inside, key=lambda i: (x[i], -i))) if inside and hi - lo >= 3 else np.nan
        deep = [i for i in inside if x[i] >= 0.5 * max(x[j] for j in inside)] if inside and hi - lo >= 3 else []
        expected_dip = parabola(deep[0]) - 0.01 if deep else np.nan
        np.testing.assert_allclose(_window_max(t, x, peaks, starts, stops)[k], expected_max, rtol=0, atol=1e-12)
        np.testing.assert_allclose(_heel_strike(t, x, peaks, starts, stops, 0.01)[k], expected_dip, rtol=0, atol=1e-12)
    assert np.isnan(_window_max(t, x, peaks, starts, stops)[[1, 4, 7]]).all()
    assert np.isfinite(_window_max(t, x, peaks, starts, stops)[[2, 3]]).all()


def test_the_thigh_sign_check_reads_the_first_ten_minutes_of_walking():
    """Ten minutes of strides sign the thigh's rate; a longer recording is not read further for it
    (issue 12). A thigh that swings with the shank for the first ten minutes keeps its sign even
    though the quarter hour after that (the rate negated) would outweigh them in a whole-recording
    check — and its toe-offs in those ten minutes come out right."""
    rate_hz, minutes = 60.0, 25
    t, shank, thigh, _, toe_offs = _leg(rate_hz, n_strides=int(minutes * 60 / STRIDE_S))
    later = t >= events_module.SIGN_CHECK_MAX_WALKING_S + 1.0
    thigh = np.where(later, -thigh, thigh)
    events = detect_leg_events(t, shank, np.ones_like(t, dtype=bool), thigh_ml_rate_radps=thigh)
    first = toe_offs < events_module.SIGN_CHECK_MAX_WALKING_S - 1.0
    assert np.max(np.abs(_nearest_errors_s(events.toe_off_s, toe_offs[first]))) <= 0.006


def test_a_recording_with_less_walking_is_sign_checked_as_a_whole(monkeypatch):
    """Under ten minutes of walking (and within five of the recording's ends) nothing is cut: the
    same events, bit for bit, as with the check over the whole recording."""
    t, shank, thigh, _, _ = _leg(100.0, n_strides=300)
    walking = np.ones_like(t, dtype=bool)
    bounded = detect_leg_events(t, shank, walking, thigh_ml_rate_radps=thigh)
    monkeypatch.setattr(events_module, "SIGN_CHECK_MAX_WALKING_S", np.inf)
    monkeypatch.setattr(swing, "SPAN_MARGIN_S", 1e9)
    whole = detect_leg_events(t, shank, walking, thigh_ml_rate_radps=thigh)
    for name in ("mid_swing_s", "toe_off_s", "initial_contact_s", "mid_swing_peak_radps"):
        np.testing.assert_array_equal(getattr(bounded, name), getattr(whole, name))


@pytest.mark.parametrize("rate_hz", [25.0, 32.0, 40.0])
def test_initial_contact_at_a_low_rate_is_searched_between_the_samples(rate_hz):
    # The leg band-limited to the low rate's Nyquist frequency and sampled as a device at that rate
    # would deliver it, at four offsets of its samples against the contacts. On the samples alone
    # the dip's bottom may be the bounce's sample (80 ms late at 25 Hz); interpolated between the
    # samples (EventConfig.contact_min_rate_hz) it is never farther from the contact, and near it.
    from scipy.signal import resample_poly

    from imugait.gait.events import EventConfig

    t, shank, thigh, contacts, _ = _leg(1000.0)
    for skip in (0, 7, 15, 23):
        delivered = resample_poly(np.column_stack([shank, thigh])[skip:], int(rate_hz), 1000, axis=0)
        t_low = t[skip] + np.arange(delivered.shape[0]) / rate_hz
        worst_ms = []
        for config in (EventConfig(), EventConfig(contact_min_rate_hz=0.0)):
            events = detect_leg_events(t_low, delivered[:, 0], np.ones(t_low.size, dtype=bool), config,
                                       thigh_ml_rate_radps=delivered[:, 1], rate_hz=rate_hz)
            worst_ms.append(1e3 * np.max(np.abs(_nearest_errors_s(events.initial_contact_s, contacts[1:-1]))))
        assert worst_ms[0] <= worst_ms[1] + 0.5 and worst_ms[0] <= 30.0, (skip, worst_ms)


def test_trailing_windows_at_a_low_rate_settle_to_the_whole_recordings_events():
    # At 40 Hz the contact is searched on the interpolated rate, which reaches
    # CONTACT_REACH_SAMPLES samples either side (the settle margin adds them): the live windows'
    # settled events are still the whole recording's. (On this walk they are without the added
    # margin too: its contacts lie well inside their search windows.)
    from scipy.signal import resample_poly

    from imugait.gait.events import CONTACT_REACH_SAMPLES, settle_time_s, trailing_events

    t, rate, thigh_rate, walking = _simulated_right_leg()
    rate_hz = 40.0
    rates = resample_poly(np.column_stack([rate, thigh_rate, walking]), 1, 5, axis=0)
    t, rate, thigh_rate, walking = t[0] + np.arange(rates.shape[0]) / rate_hz, rates[:, 0], rates[:, 1], rates[:, 2] > 0.5
    whole = detect_leg_events(t, rate, walking, thigh_ml_rate_radps=thigh_rate, rate_hz=rate_hz)
    assert settle_time_s(rate_hz=rate_hz) == pytest.approx(settle_time_s() + CONTACT_REACH_SAMPLES / rate_hz)
    found, after = [], -np.inf
    window, step = 240, 8
    for end in range(window // 2, t.size + 1, step):
        lo = max(end - window, 0)
        ev, _early = trailing_events(t[lo:end], rate[lo:end], walking[lo:end], after,
                                     thigh_ml_rate_radps=thigh_rate[lo:end], rate_hz=rate_hz)
        found += list(zip(ev.mid_swing_s, ev.toe_off_s, ev.initial_contact_s, strict=True))
        after = found[-1][0] + 0.3 if found else after
    found = np.array(found)
    last_settled = whole.mid_swing_s <= t[-1] - settle_time_s(rate_hz=rate_hz)
    assert len(found) == int(last_settled.sum()) >= 15
    np.testing.assert_allclose(found[:, 0], whole.mid_swing_s[last_settled], atol=1e-9)
    np.testing.assert_allclose(found[:, 2], whole.initial_contact_s[last_settled], atol=1e-3)
