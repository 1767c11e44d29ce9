"""Walking's swing: thigh and shank swing forward together in swing and back together in stance.

The knee's hinge fit finds each sensor's flexion axis up to its sign. The shank's sign is fixed by
its fast forward swing; the thigh's by swinging with the shank. The two flexion rates are not in
phase: the thigh leads (hip flexion peaks before the knee extends the shank forward), by about
0.16 s on the simulator's normative walker and 0.08–0.28 s on the real MPU-9250 10-m walks —
so at zero lag their correlation is weak (0.0–0.7 on those walks, sometimes negative) while at
the lag of best fit it is 0.7–0.9. The sign is therefore taken at that lag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.timebase import lowpass

MAX_SWING_LAG_S = 0.3
"""Largest thigh-shank lag searched (engineering bound above the 0.28 s seen on real walks, below
a quarter of the fastest stride)."""
SWING_LOWPASS_HZ = 3.0
"""The swing is slow; a strap that lets a sensor shake (4–5 Hz on the qmt example) must not count.
Every swing comparison (the hinge fit, its sign rules, the thigh/shank swap check, the event
detector's sign check) runs on rates low-passed to this with :func:`swing_rates`."""


def swing_rates(rate_radps: np.ndarray, rate_hz: float) -> np.ndarray:
    """Rates (N,) or (N, 3) along the first axis, low-passed to :data:`SWING_LOWPASS_HZ`."""
    return lowpass(rate_radps, rate_hz, SWING_LOWPASS_HZ)


SPAN_MARGIN_S = 300.0
"""Margin (s) kept either side of the masked span by :func:`swing_rates_at`. The low-pass
(2nd-order Butterworth at :data:`SWING_LOWPASS_HZ`, time constant √2 / (2π f_c) = 0.075 s)
forgets where it started within a few seconds, but not to the last bit: started 7.5 s (100 time
constants) away, the rates still differ from the whole recording's by rounding (≈ 1e-14 rad/s).
With 5 minutes either side every recording that ends within 5 minutes of the fitted span is
filtered whole, so its results stay bit-identical, and an hour-long one is filtered over about a
tenth of its length."""


def swing_rates_at(rate_radps: np.ndarray, rate_hz: float, mask: np.ndarray) -> np.ndarray:
    """``swing_rates(rate_radps, rate_hz)[mask]`` for ``mask`` (N,) bool, low-passing only the
    span from the first to the last masked sample with :data:`SPAN_MARGIN_S` either side (the
    whole rate when that reaches both ends): the knee-axis fits take a minute of walking
    (``SegmentCalibrationConfig.max_motion_s``) from recordings of any length, and low-passing
    all of an hour-long one for them cost more than the fits."""
    where = np.flatnonzero(mask)
    margin = int(np.ceil(SPAN_MARGIN_S * rate_hz))
    lo = max(int(where[0]) - margin, 0) if where.size else 0
    hi = min(int(where[-1]) + 1 + margin, len(mask)) if where.size else len(mask)
    return swing_rates(rate_radps[lo:hi], rate_hz)[mask[lo:hi]]


@dataclass(frozen=True)
class Swing:
    """Correlation of the low-passed thigh and shank flexion rates at the lag where it is largest
    in magnitude (signed: walking gives clearly positive), and that lag (s, + = thigh late)."""

    correlation: float
    lag_s: float

    @property
    def at_window_edge(self) -> bool:
        """The best lag is the largest searched: the two do not line up within a stride's lag."""
        return abs(self.lag_s) >= MAX_SWING_LAG_S - 1e-9


def forward_backward_ratio(swing_rate_radps: np.ndarray) -> float:
    """How much faster a segment swings forward than back: the 99.5th percentile of its flexion
    rate (N,), low-passed by :func:`swing_rates`, over minus the 0.5th (> 1 when the rate's sign
    says forward).

    In walking both thigh and shank swing forward fast in swing and return slowly in stance: on
    the 64 real MPU-9250 10-m walks the thigh's ratio, with its axis signed by the lagged swing,
    was 1.31–2.3 (median 1.75), 1.41–1.48 on the simulator; a thigh labelled on the other leg
    than its shank, whose axis the swing then signs backwards, reads 0.70–0.73 on the simulator."""
    r = swing_rate_radps
    return float(np.percentile(r, 99.5) / max(-np.percentile(r, 0.5), 1e-9))


def swing_correlation(swing_thigh_radps: np.ndarray, swing_shank_radps: np.ndarray, rate_hz: float) -> Swing:
    """Swing agreement of two flexion rates (N,) rad/s sampled at ``rate_hz``, each low-passed by
    :func:`swing_rates`."""
    a, b = swing_thigh_radps, swing_shank_radps
    n = a.size
    if n < 3 or a.std() == 0.0 or b.std() == 0.0:
        return Swing(0.0, 0.0)
    a = (a - a.mean()) / a.std()
    b = (b - b.mean()) / b.std()
    max_lag = min(int(round(MAX_SWING_LAG_S * rate_hz)), n - 1)
    # Only the 2·max_lag + 1 lags searched, each one dot product (the zero padding is the full
    # correlation's partial overlap): for an hour's walking, a quarter of the time of the whole
    # correlation by FFT (and within 1e-16 of it, the FFT's rounding).
    cc = np.correlate(np.pad(a, max_lag), b, mode="valid") / n
    k = int(np.argmax(np.abs(cc)))
    return Swing(float(cc[k]), (k - max_lag) / rate_hz)
