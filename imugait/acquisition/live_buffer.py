"""Bounded ring buffers of the last seconds of each sensor, for live views.

Memory is fixed at construction (``capacity`` samples); appending never allocates. A snapshot
copies the buffered samples out in time order, so a reader can never see a half-written block.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from itertools import islice

import numpy as np

from imugait.errors import ValidationError


@dataclass(frozen=True, eq=False)
class LiveWindow:
    """A copy of a live buffer, oldest sample first.

    Attributes
    ----------
    t_s : (n,) float64, s, session clock (causal mapping: may differ from the final session by
        the clock-fit refinement, well under a millisecond after warm-up).
    acc_mps2, gyr_radps : (n, 3) float64, sensor frame.
    mag_uT, q_world_sensor : (n, 3) / (n, 4) float64 or None.
    """

    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    mag_uT: np.ndarray | None
    q_world_sensor: np.ndarray | None

    @property
    def n_samples(self) -> int:
        return int(self.t_s.shape[0])


class LiveBuffer:
    """The last ``window_s`` seconds of one sensor (at most ``capacity`` samples).

    Parameters
    ----------
    window_s : float, s — how much history a snapshot returns.
    sample_rate_hz : nominal rate; the capacity is ``window_s × rate × 1.25`` (+ slack).
    """

    def __init__(self, window_s: float, sample_rate_hz: float) -> None:
        if not (window_s > 0 and sample_rate_hz > 0):
            raise ValidationError(f"a live buffer needs window_s > 0 and sample_rate_hz > 0, got {window_s}, {sample_rate_hz}")
        self.window_s = float(window_s)
        self.capacity = int(np.ceil(window_s * sample_rate_hz * 1.25)) + 64
        self._t = np.full(self.capacity, -np.inf)
        self._acc = np.zeros((self.capacity, 3))
        self._gyr = np.zeros((self.capacity, 3))
        self._mag: np.ndarray | None = None
        self._q: np.ndarray | None = None
        self._head = 0  # next write position
        self._size = 0
        self._latest = -np.inf
        """The newest time written (the ring's last one), as a float."""
        self.n_rejected = 0
        """Samples not appended because their time did not advance (clock refit stepped back)."""

    def append(self, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_radps: np.ndarray,
               mag_uT: np.ndarray | None = None, q_world_sensor: np.ndarray | None = None) -> None:
        """Append samples (``t_s`` (n,), s; vectors (n, 3); quaternions (n, 4))."""
        t = np.asarray(t_s, dtype=float)
        if t.ndim != 1:
            raise ValidationError(f"live buffer times must be one-dimensional, got shape {t.shape}")
        # A sample is taken when it is later than every sample before it (NaN: nothing after it
        # is later). Plain Python: a block holds a few samples.
        latest = self._latest
        values = t.tolist()
        if values and values[0] > latest and all(map(operator.lt, values, islice(values, 1, None))):
            taken = range(len(values))  # the common case: every sample later than the one before
        else:
            taken = []
            for i, value in enumerate(values):
                if value > latest:
                    taken.append(i)
                    latest = value
                elif value != value:
                    latest = value
            self.n_rejected += t.size - len(taken)
        taken = taken[-self.capacity:]
        n = len(taken)
        if n == 0:
            return
        self._latest = values[taken[-1]]
        if mag_uT is not None and self._mag is None:
            self._mag = np.full((self.capacity, 3), np.nan)
        if q_world_sensor is not None and self._q is None:
            self._q = np.full((self.capacity, 4), np.nan)
        rows = slice(None) if n == t.size else taken
        self._put(self._t, t[rows], n)
        self._put(self._acc, np.asarray(acc_mps2)[rows], n)
        self._put(self._gyr, np.asarray(gyr_radps)[rows], n)
        if self._mag is not None:
            self._put(self._mag, np.nan if mag_uT is None else np.asarray(mag_uT)[rows], n)
        if self._q is not None:
            self._put(self._q, np.nan if q_world_sensor is None else np.asarray(q_world_sensor)[rows], n)
        self._head = (self._head + n) % self.capacity
        self._size = min(self._size + n, self.capacity)

    def _put(self, ring: np.ndarray, values: np.ndarray | float, n: int) -> None:
        """Write ``n`` rows at the head, wrapping at the end of the ring; a float fills them."""
        head = self._head
        first = min(n, self.capacity - head)
        if first == n:
            ring[head:head + n] = values
            return
        scalar = np.ndim(values) == 0
        ring[head:] = values if scalar else values[:first]
        ring[:n - first] = values if scalar else values[first:]

    def snapshot(self) -> LiveWindow:
        """The samples within ``window_s`` of the newest one, oldest first (copies)."""
        order = (self._head - self._size + np.arange(self._size)) % self.capacity
        t = self._t[order]
        if t.size:
            order = order[t >= t[-1] - self.window_s]
        return LiveWindow(
            t_s=self._t[order].copy(), acc_mps2=self._acc[order].copy(), gyr_radps=self._gyr[order].copy(),
            mag_uT=None if self._mag is None else self._mag[order].copy(),
            q_world_sensor=None if self._q is None else self._q[order].copy(),
        )
