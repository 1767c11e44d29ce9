"""Initial contact and toe-off from the angular rates about the knee axis.

The shank swings forward fastest in mid-swing (a large positive peak about the medio-lateral
axis, pointing right). Everything is found around each mid-swing peak, as in Aminian et al. 2002
(J Biomech 35:689) and Salarian et al. 2004 (IEEE TBME 51:1434):

* **Initial contact**: the bottom of the first sharp dip of the shank's rate after mid-swing (the
  shank stopped by heel strike), made earlier by the delay Aminian et al. measured between that
  dip and footswitches (:attr:`EventConfig.contact_delay_s`). The dip's bottom is not the contact
  itself: the impact starts a quick knee flexion and the shank's rate is lowest when that flexion
  is fastest, a few ms later. (The steepest descent into the dip would mark the impact itself on
  a clean impulse, but on real recordings the terminal-swing deceleration runs straight into the
  dip and the steepest descent lands 25–70 ms early: docs/analysis.md.) Below
  :attr:`EventConfig.contact_min_rate_hz` the dip is searched on the rate interpolated between its
  samples (band-limited): at 25–40 Hz it lasts a sample or two.
* **Toe-off**, when the thigh's rate is given: the peak of the knee's flexion rate (thigh rate
  minus shank rate) before mid-swing. In pre-swing the forefoot is pinned to the ground while
  push-off and the thigh's forward swing fold the knee ever faster; once the foot is free, the
  shank hangs from the knee and the flexion is braked. The shank's own rate minimum (the classic
  toe-off) comes earlier, while the toes still push: in the normative curves that drive the
  simulator (Schwartz et al. 2008, foot-off at 59 %) the shank's minimum is at 55.6 % and the
  knee-rate peak at 61.5 % — the foot leaves between the two, nearer the knee-rate peak. Without
  the thigh's rate the shank's minimum is used, with its early bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from imugait.calibration.swing import swing_correlation, swing_rates_at
from imugait.timebase import lowpass, lowpass_rows, sample_period_s, upsample


@dataclass(frozen=True)
class EventConfig:
    lowpass_hz: float = 6.0
    """Low-pass on the rates before the search for mid-swing and toe-off (zero phase)."""
    contact_lowpass_hz: float = 35.0
    """Low-pass before the search for initial contact (keeps the heel-strike dip)."""
    min_swing_peak_radps: float = 1.2
    """A mid-swing peak must exceed this …"""
    relative_swing_peak: float = 0.35
    """… and this fraction of the 95th percentile of the walking peaks."""
    min_stride_s: float = 0.6
    max_stride_s: float = 2.5
    toe_off_window_s: float = 0.45
    """Toe-off is searched this long before mid-swing."""
    initial_contact_window_s: float = 0.35
    """Initial contact is searched this long after mid-swing."""
    contact_min_rate_hz: float = 100.0
    """Below this sample rate the shank's rate is interpolated between its samples, band-limited
    (:func:`~imugait.timebase.upsample`, by the least whole factor that reaches this rate), before
    the heel-strike dip is searched on it. At 25–40 Hz the dip lasts a sample or two: its bottom
    among the samples, even refined by a parabola, is mostly the next sample or the loading
    response's dip after it; the samples of a band-limited signal say where it was between them.
    Measured on the real walks at >= 100 Hz delivered again at 25–60 Hz (``benchmarks/ic_rate.py``,
    docs/validation.md): the contacts' lateness against the same walk's full-rate contacts falls
    from +5.5 … +8.6 ms (median) to −1.1 … +1.8 ms at 32 Hz and from +16 … +24 ms to +2.3 … +5.5 ms
    at 25 Hz on three of the four datasets (the fourth, one slow walker early at every low rate,
    is earlier still: −10 … −13 ms at 25–32 Hz). Nothing is fitted; at and above this rate the
    arithmetic is as before."""
    contact_delay_s: float = 0.010
    """How long the bottom of the heel-strike dip follows the contact: 10 ms on average against
    footswitches in 20 young and elderly adults (Aminian et al. 2002, J Biomech 35:689,
    abstract: "a slight systematic delay (10 ms on average) existed between heelstrike obtained
    from gyroscopes and footswitch"). Physically, the impact starts a quick knee flexion and the
    shank's rate is lowest when that flexion is fastest, a few ms into the impact."""


SIGN_CHECK_MAX_WALKING_S = 600.0
"""The check that thigh and shank swing together (the thigh's rate signed by it) looks at the
first this-many seconds of walking: its answer is one sign for a thigh axis that is one axis
throughout, and ten minutes of strides fix it as well as an hour's (which cost as much again
low-pass filtering and correlating). A recording with less walking is checked on all of it."""


@dataclass(frozen=True, eq=False)
class LegEvents:
    """Events of one leg, s on the session clock, sorted: ``mid_swing_s``, and for each
    mid-swing the toe-off before and initial contact after it (NaN when not found)."""

    mid_swing_s: np.ndarray
    toe_off_s: np.ndarray
    initial_contact_s: np.ndarray
    mid_swing_peak_radps: np.ndarray | None = None
    """The shank's low-passed forward rate at each mid-swing (how hard the leg swings)."""


def _refine_extremum(t_s: np.ndarray, x: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Times (K,) of the extrema (minimum or maximum) at samples ``i`` (K,) by a parabola through
    each and its neighbours (the sample's own time at either end of ``x``)."""
    inner = (i > 0) & (i < x.size - 1)
    j = np.clip(i, 1, max(x.size - 2, 1))
    a, b, c = x[j - 1], x[j], x[j + 1]
    denom = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(denom != 0, 0.5 * (a - c) / denom, 0.0)
    refined = t_s[j] + np.clip(shift, -0.5, 0.5) * (t_s[j + 1] - t_s[j])
    return np.where(inner, refined, t_s[i])


def detect_leg_events(
    t_s: np.ndarray,
    ml_rate_radps: np.ndarray,
    walking: np.ndarray,
    config: EventConfig | None = None,
    thigh_ml_rate_radps: np.ndarray | None = None,
    rate_hz: float | None = None,
) -> LegEvents:
    """Events of one leg.

    Parameters
    ----------
    t_s : (M,) s, uniform grid.
    ml_rate_radps : (M,) shank angular rate about the knee's medio-lateral axis (pointing right),
        rad/s — positive while the shank swings forward.
    walking : (M,) bool, samples in which the leg moves (events outside are ignored).
    config : thresholds and windows (defaults when None).
    thigh_ml_rate_radps : (M,) optional, the thigh's angular rate about the knee's flexion axis
        (pointing right, same sign rule), rad/s. With it, toe-off is the knee-flexion-rate peak;
        without it, the shank-rate minimum (earlier than toe-off, see the module docstring).
    rate_hz : the grid's sample rate, Hz, if known (measured from ``t_s`` otherwise).
    """
    config = config or EventConfig()
    dt = sample_period_s(t_s, rate_hz)
    # Heel strike is a sharp dip: searched on a less smoothed rate (interpolated between its samples
    # at a low sample rate), and the first dip counts.
    t_sharp, dips_sharp, k = _contact_rate(t_s, ml_rate_radps, dt, config)
    knee_rate = None
    if thigh_ml_rate_radps is None:
        rate = lowpass(ml_rate_radps, 1.0 / dt, config.lowpass_hz)
    else:
        thigh = np.asarray(thigh_ml_rate_radps, dtype=float)
        # Thigh and shank swing forward together in gait (the thigh leads: compared at the lag of
        # best fit): a thigh axis that points the other way would turn the knee rate into a sum.
        # (Columns filtered together: the same arithmetic per column, fewer calls.)
        if np.count_nonzero(walking):
            checked = walking & (np.cumsum(walking) <= SIGN_CHECK_MAX_WALKING_S / dt)
            swing = swing_rates_at(np.column_stack([thigh, ml_rate_radps]), 1.0 / dt, checked)
            if swing_correlation(swing[:, 0], swing[:, 1], 1.0 / dt).correlation < 0:
                thigh = -thigh
        rate, knee_rate = lowpass(np.column_stack([ml_rate_radps, thigh - ml_rate_radps]), 1.0 / dt, config.lowpass_hz).T
    candidates, _ = find_peaks(np.where(walking, rate, 0.0), height=config.min_swing_peak_radps,
                               distance=max(int(config.min_stride_s / dt), 1))
    if candidates.size:
        floor = config.relative_swing_peak * np.percentile(rate[candidates], 95)
        candidates = candidates[rate[candidates] >= floor]
    n_to, n_ic = int(config.toe_off_window_s / dt), int(config.initial_contact_window_s / dt)
    # Minima are searched as maxima of the negated rates, negated once here, not per stride; the
    # local maxima of each whole series are found once, and each stride's window takes its own.
    to_rate = -rate if knee_rate is None else knee_rate
    to_peaks, ic_peaks = find_peaks(to_rate)[0], find_peaks(dips_sharp)[0]
    # Every stride's window at once.
    to = _window_max(t_s, to_rate, to_peaks, candidates - n_to, candidates)
    ic = _heel_strike(t_sharp, dips_sharp, ic_peaks, k * (candidates + 1), k * (candidates + n_ic + 1),
                      config.contact_delay_s)
    return LegEvents(t_s[candidates].astype(float), to, ic, rate[candidates])


def _positive_peaks(x: np.ndarray, peaks: np.ndarray, starts: np.ndarray, stops: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The local maxima of ``x[start:stop]`` above zero (pass ``-rate`` for negative minima) of K
    windows ``starts``, ``stops`` (K,) at once: ``(window, index into x)``, both (P,), by window
    and then by index. ``peaks`` are the local maxima of the whole ``x`` (``find_peaks(x)``), of
    which a window's are those not on its first or last sample."""
    starts, stops = np.maximum(starts, 1), np.minimum(stops, x.size - 1)
    lo = np.searchsorted(peaks, starts + 1)
    hi = np.where(stops - starts < 3, lo, np.maximum(np.searchsorted(peaks, stops - 1), lo))
    counts = hi - lo
    window = np.repeat(np.arange(starts.size), counts)
    first = np.cumsum(counts) - counts
    index = peaks[np.arange(window.size) - np.repeat(first, counts) + np.repeat(lo, counts)]
    positive = x[index] > 0
    return window[positive], index[positive]


def _window_max(t_s: np.ndarray, x: np.ndarray, peaks: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Time (K,) of the highest positive local maximum of ``x`` in each ``[start, stop)``, NaN if none
    (of equal maxima, the first)."""
    window, index = _positive_peaks(x, peaks, starts, stops)
    out = np.full(starts.size, np.nan)
    if window.size:
        order = np.lexsort((index, -x[index], window))  # by window, highest first, then earliest
        best = order[np.r_[True, window[order][1:] != window[order][:-1]]]
        out[window[best]] = _refine_extremum(t_s, x, index[best])
    return out


def _heel_strike(t_s: np.ndarray, dips: np.ndarray, peaks: np.ndarray, starts: np.ndarray, stops: np.ndarray,
                 delay_s: float) -> np.ndarray:
    """Initial contact (K,) in each ``[start, stop)`` of ``dips`` (the negated rate): the bottom of
    the first real heel-strike dip (at least half as deep as the deepest) minus ``delay_s``; NaN
    if there is no negative dip."""
    window, index = _positive_peaks(dips, peaks, starts, stops)
    out = np.full(starts.size, np.nan)
    if window.size:
        depths = dips[index]
        deepest = np.full(starts.size, -np.inf)
        np.maximum.at(deepest, window, depths)
        real = depths >= 0.5 * deepest[window]
        window, index = window[real], index[real]
        first = np.r_[True, window[1:] != window[:-1]]
        out[window[first]] = _refine_extremum(t_s, dips, index[first]) - delay_s
    return out


CONTACT_REACH_SAMPLES = 4
"""The band-limited interpolation before the initial-contact search (below
``EventConfig.contact_min_rate_hz``) takes this many samples either side of each point: a
windowed sinc of 8 samples (the contacts moved by 1 ms median from a 20-sample one on the real
walks at 32 Hz), so that a trailing window's contacts settle this many samples sooner."""


EVENTS_FULL_ACCURACY_MIN_RATE_HZ = 30.0
"""Below this sample rate (Hz) an analysis warns that its gait events are less accurate. Measured,
not assumed (``benchmarks/ic_rate.py``, docs/validation.md, "Initial contacts at 25–60 Hz"): real
walks recorded at ≥ 100 Hz and delivered again band-limited at 32 Hz keep their initial contacts
within −1.1 … +1.8 ms (median) of the full rate; at 25 Hz they come +2.3 … +5.5 ms late in the
median, a quarter of the MPU-9250 strides more than 12 ms, and the simulator's +29 ms."""


def low_rate_warning(rate_hz: float) -> str | None:
    """The warning an analysis of a recording sampled at ``rate_hz`` (Hz) carries, or ``None`` at
    and above :data:`EVENTS_FULL_ACCURACY_MIN_RATE_HZ`."""
    if rate_hz >= EVENTS_FULL_ACCURACY_MIN_RATE_HZ:
        return None
    return (f"sensors sampled at {rate_hz:.3g} Hz, below {EVENTS_FULL_ACCURACY_MIN_RATE_HZ:.0f} Hz: initial "
            f"contacts can come tens of milliseconds late, so stance %, the knee at initial contact and the "
            f"mid-stance reference are less accurate; record at 50 Hz or more if the sensors allow it")


def contact_upsampling(rate_hz: float, config: EventConfig | None = None) -> int:
    """By how many times the shank's rate sampled at ``rate_hz`` (Hz) is interpolated before the
    initial-contact search: the least whole factor that reaches ``contact_min_rate_hz`` (1 at and
    above it)."""
    config = config or EventConfig()
    return max(int(np.ceil(config.contact_min_rate_hz / rate_hz - 1e-9)), 1)


def _contact_rate(t_s: np.ndarray, ml_rate_radps: np.ndarray, dt: float, config: EventConfig
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """The instants (M·k,), the negated low-passed shank rate (M·k,) on which the initial contact
    is searched, and k (:func:`contact_upsampling`): sample ``i · k`` is sample ``i`` of ``t_s``."""
    factor = contact_upsampling(1.0 / dt, config)
    rate, fine_dt = upsample(ml_rate_radps, factor, CONTACT_REACH_SAMPLES), dt / factor
    t_fine = t_s if factor == 1 else t_s[0] + np.arange(rate.size) * fine_dt
    return t_fine, -lowpass(rate, 1.0 / fine_dt, min(config.contact_lowpass_hz, 0.45 / fine_dt)), factor


SETTLE_TIME_CONSTANTS = 8.0
"""How many time constants of a zero-phase low-pass are kept between a window's edge and an event
found on it: the edge's transient has decayed to e⁻⁸ ≈ 3e-4 of its size there."""


def transient_s(cutoff_hz: float) -> float:
    """How long the start and end transients of :func:`~imugait.timebase.lowpass` (2nd-order
    Butterworth, damping 1/√2, time constant 1 / (2π f_c / √2)) reach into a window (s):
    :data:`SETTLE_TIME_CONSTANTS` time constants — 0.30 s at 6 Hz, 0.05 s at 35 Hz."""
    return SETTLE_TIME_CONSTANTS * np.sqrt(2.0) / (2.0 * np.pi * cutoff_hz)


def settle_time_s(config: EventConfig | None = None, rate_hz: float | None = None) -> float:
    """How long after a mid-swing the trailing-window detection (:func:`trailing_events`) can no
    longer change its events: the mid-swing low-pass's transient, and the initial-contact search
    window plus the transient of the sharper contact low-pass (which decides the dip in it) — and,
    at a sample rate ``rate_hz`` (Hz) below ``contact_min_rate_hz``, plus the reach of the
    interpolation before it (:data:`CONTACT_REACH_SAMPLES` samples)."""
    config = config or EventConfig()
    reach_s = 0.0 if rate_hz is None or contact_upsampling(rate_hz, config) == 1 else CONTACT_REACH_SAMPLES / rate_hz
    return max(transient_s(config.lowpass_hz),
               config.initial_contact_window_s + transient_s(config.contact_lowpass_hz) + reach_s)


EARLY_MID_SWING_S = 4.0 * transient_s(EventConfig.lowpass_hz) / SETTLE_TIME_CONSTANTS
"""How long after a mid-swing :func:`trailing_events` gives it early (s): four time constants of
the mid-swing low-pass (its end transient is down to e⁻⁴ there; the mid-swing is a whole sample,
so it moves only when the transient tips two neighbouring samples)."""


def trailing_events(
    t_s: np.ndarray,
    ml_rate_radps: np.ndarray,
    walking: np.ndarray,
    after_s: float,
    config: EventConfig | None = None,
    thigh_ml_rate_radps: np.ndarray | None = None,
    rate_hz: float | None = None,
    ended: bool = False,
    started: bool = False,
) -> tuple[LegEvents, LegEvents]:
    """The causal (live) variant of :func:`detect_leg_events`: the same detection over a trailing
    window of the newest samples (arguments as there, (M,) each). Returns the *settled* events: the
    mid-swings later than ``after_s`` whose events the window's edges no longer reach — at least
    :func:`settle_time_s` before its end, and the toe-off window plus the transient after its
    start. Differences to the whole recording: the low-passes see the window only (their
    transients are kept out by the margins), and a candidate mid-swing is compared with the 95th
    percentile of the window's peaks, not the recording's.

    And, from the same detection, the *early* events: the mid-swings
    after those that are not settled yet but at least :data:`EARLY_MID_SWING_S` before the
    window's end, whose initial contact (the dip's bottom) is as many time constants of the
    contact low-pass (4: 26 ms at 35 Hz) before it. Their initial contact may still change (a dip later in its search window twice as
    deep would make it; rare): a live view shows them at once and corrects them once settled.

    ``ended``: the window's end is the recording's (the stream has ended): no sample will come
    after it, so every mid-swing later than ``after_s`` is settled — its events are those the
    whole recording's detection finds at its end, the low-passes ending there alike (none early).
    ``started``: the window's start is the recording's (no sample came before it): the mid-swings
    from its start on count, as in the whole recording's detection, whose low-passes start there
    alike."""
    config = config or EventConfig()
    events = detect_leg_events(t_s, ml_rate_radps, walking, config, thigh_ml_rate_radps, rate_hz)
    t_first = -np.inf if started else t_s[0] + config.toe_off_window_s + transient_s(config.lowpass_hz)
    later = events.mid_swing_s > max(after_s, t_first)
    settle_s = settle_time_s(config, 1.0 / sample_period_s(t_s, rate_hz))
    settled = events.mid_swing_s <= (np.inf if ended else t_s[-1] - settle_s)
    contact_s = EARLY_MID_SWING_S / transient_s(config.lowpass_hz) * transient_s(config.contact_lowpass_hz)
    with np.errstate(invalid="ignore"):
        early = (later & ~settled & (events.mid_swing_s <= t_s[-1] - EARLY_MID_SWING_S)
                 & (events.initial_contact_s + config.contact_delay_s <= t_s[-1] - contact_s))
    return _subset(events, later & settled), _subset(events, early)


def no_trailing_events(
    t_s: np.ndarray,
    ml_rate_radps: np.ndarray,
    walking: np.ndarray,
    after_s: float,
    config: EventConfig | None = None,
    rate_hz: float | None = None,
    started: bool = False,
) -> bool:
    """True when :func:`trailing_events` with these arguments certainly finds no event, settled or
    early — cheaply, without the detection: both need a new mid-swing, a walking sample later than
    ``after_s`` (and the window's start transient), at least :data:`EARLY_MID_SWING_S` before the
    window's end (the settled ones :func:`settle_time_s` before it, which is longer), where the
    low-passed rate reaches ``min_swing_peak_radps``. The low-passed rate of just those samples
    comes from a band of the low-pass as a matrix (:func:`~imugait.timebase.lowpass_rows`), less
    the bound it gives on what the rest of the window adds and a margin for rounding — so "none"
    is never said where the detection could find one. False means "look": the detection may still
    find nothing (a peak below the window's relative floor, a dip not yet deep). ``started`` as
    for :func:`trailing_events` (no start transient kept out)."""
    config = config or EventConfig()
    if config.min_swing_peak_radps - PEAK_MARGIN_RADPS <= 0.0:
        return False  # (a peak of the walking rate need not be above zero: not told apart here)
    t_first = -np.inf if started else t_s[0] + config.toe_off_window_s + transient_s(config.lowpass_hz)
    # The same expressions as trailing_events' bounds on a mid-swing's time (``started`` as there).
    lo = int(np.searchsorted(t_s, max(after_s, t_first), side="right"))
    hi = max(int(np.searchsorted(t_s, t_s[-1] - EARLY_MID_SWING_S, side="right")),
             int(np.searchsorted(t_s, t_s[-1] - settle_time_s(config), side="right")))
    if hi <= lo:
        return True
    dt = sample_period_s(t_s, rate_hz)
    rate, bound = lowpass_rows(np.asarray(ml_rate_radps, dtype=float), lo, hi, 1.0 / dt, config.lowpass_hz)
    return not np.count_nonzero(rate[walking[lo:hi]] >= config.min_swing_peak_radps - bound - PEAK_MARGIN_RADPS)


PEAK_MARGIN_RADPS = 1e-6
"""How far below ``min_swing_peak_radps`` (less the bound on the rest of the window)
:func:`no_trailing_events` still looks (rad/s): the matrix form of the low-pass rounds otherwise
than the filter, by about 1e-14 of the rates here."""


def _subset(events: LegEvents, keep: np.ndarray) -> LegEvents:
    peaks = None if events.mid_swing_peak_radps is None else events.mid_swing_peak_radps[keep]
    return LegEvents(events.mid_swing_s[keep], events.toe_off_s[keep], events.initial_contact_s[keep], peaks)
