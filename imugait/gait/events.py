"""Initial contact and toe-off from the shank's angular rate about the knee axis.

The shank swings forward fastest in mid-swing (a large positive peak about the medio-lateral
axis, pointing right). Around each mid-swing peak: toe-off is the negative minimum just before it
(the shank whips back as the foot leaves the ground), initial contact the negative minimum just
after it (the shank is stopped by heel strike). This is the method of Aminian et al. 2002
(J Biomech 35:689) and Salarian et al. 2004 (IEEE TBME 51:1434), here with sub-sample peak
interpolation and checks that reject anything that does not look like a stride.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt


@dataclass(frozen=True)
class EventConfig:
    lowpass_hz: float = 6.0
    """Low-pass on the rate before the search for mid-swing and toe-off (zero phase)."""
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


@dataclass(frozen=True, eq=False)
class LegEvents:
    """Events of one leg, s on the session clock, sorted: ``mid_swing_s``, and for each
    mid-swing the toe-off before and initial contact after it (NaN when not found)."""

    mid_swing_s: np.ndarray
    toe_off_s: np.ndarray
    initial_contact_s: np.ndarray


def _lowpass(x: np.ndarray, rate_hz: float, cutoff_hz: float) -> np.ndarray:
    sos = butter(2, cutoff_hz / (0.5 * rate_hz), output="sos")
    return sosfiltfilt(sos, x)


def _refine_min(t_s: np.ndarray, x: np.ndarray, i: int) -> float:
    """Time of the minimum near sample ``i`` by a parabola through its neighbours."""
    if i <= 0 or i >= x.size - 1:
        return float(t_s[i])
    a, b, c = x[i - 1], x[i], x[i + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom > 0 else 0.0
    return float(t_s[i] + np.clip(shift, -0.5, 0.5) * (t_s[i + 1] - t_s[i]))


def detect_leg_events(
    t_s: np.ndarray, ml_rate_radps: np.ndarray, walking: np.ndarray, config: EventConfig | None = None
) -> LegEvents:
    """Events of one leg.

    Parameters
    ----------
    t_s : (M,) s, uniform grid.
    ml_rate_radps : (M,) shank angular rate about the knee's medio-lateral axis (pointing right),
        rad/s — positive while the shank swings forward.
    walking : (M,) bool, samples in which the leg moves (events outside are ignored).
    """
    config = config or EventConfig()
    dt = float(np.median(np.diff(t_s)))
    rate = _lowpass(ml_rate_radps, 1.0 / dt, config.lowpass_hz)
    # Heel strike is a sharp dip: searched on a less smoothed rate, and the first dip counts.
    rate_sharp = _lowpass(ml_rate_radps, 1.0 / dt, min(config.contact_lowpass_hz, 0.45 / dt))
    candidates, _ = find_peaks(np.where(walking, rate, 0.0), height=config.min_swing_peak_radps,
                               distance=max(int(config.min_stride_s / dt), 1))
    if candidates.size:
        floor = config.relative_swing_peak * np.percentile(rate[candidates], 95)
        candidates = candidates[rate[candidates] >= floor]
    n_to, n_ic = int(config.toe_off_window_s / dt), int(config.initial_contact_window_s / dt)
    mid, to, ic = [], [], []
    for i in candidates:
        mid.append(float(t_s[i]))
        to.append(_window_min(t_s, rate, i - n_to, i))
        ic.append(_window_min(t_s, rate_sharp, i + 1, i + n_ic + 1, first=True))
    return LegEvents(np.array(mid), np.array(to), np.array(ic))


def _window_min(t_s: np.ndarray, rate: np.ndarray, start: int, stop: int, first: bool = False) -> float:
    """Time of the deepest (or, with ``first``, the first) negative local minimum in
    ``[start, stop)``, NaN if none."""
    start, stop = max(start, 1), min(stop, rate.size - 1)
    if stop - start < 3:
        return np.nan
    seg = rate[start:stop]
    minima, _ = find_peaks(-seg)
    minima = minima[seg[minima] < 0]
    if not minima.size:
        return np.nan
    deepest = int(minima[np.argmin(seg[minima])])
    if first:
        # The first dip that is a real one (at least half as deep as the deepest), not noise.
        deepest = int(minima[seg[minima] <= 0.5 * seg[deepest]][0])
    i = start + deepest
    return _refine_min(t_s, rate, i)
