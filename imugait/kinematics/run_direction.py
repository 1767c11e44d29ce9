"""The walking direction of a whole straight run from sums, for runs longer than what is kept.

:func:`~imugait.kinematics.progression.find_progression` gives a bout the principal horizontal
direction of the thigh's long axis over all of the bout (less the swing's normative lateral lean)
and a drift line through the directions of half-overlapping windows of it. The live pipeline
keeps the last minute of rows; a straight run longer than that was fitted again over its kept
part only, and where the heading drifts that line parts from the whole bout's (HuGaDB 06_00: 11–38°
of hip rotation in the last strides of a 100-s bout). :class:`WholeRunFit` keeps what the whole
bout's fit needs as the run goes on, in bounded memory: the second moments of the long axis's
horizontal part, the sum of the flexion axis's (which way is forward), the least-squares sums of
the windows' directions against their times, and the windows' swing extents (their mean stands for
the bout's, whose percentiles cannot be summed: an approximation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.conventions import Side
from imugait.kinematics.progression import (
    SWING_RATE_HZ,
    ProgressionConfig,
    _window_headings,
    forward_heading_rad,
)
from imugait.kinematics.swing_tilt import heading_correction_rad, swing_extent


@dataclass(frozen=True)
class RunLine:
    """A straight run's walking direction: ``heading_rad + drift_radps * (t - t_mid_s)``."""

    heading_rad: float
    drift_radps: float
    t_mid_s: float
    t_first_s: float
    t_last_s: float

    def at(self, t_s: np.ndarray) -> np.ndarray:
        return self.heading_rad + self.drift_radps * (np.asarray(t_s, dtype=float) - self.t_mid_s)


class WholeRunFit:
    """Sums over one straight run's rows (every few from its first, as ``find_progression`` samples
    a bout at ``period_s``), fed block by block (:meth:`extend`); :meth:`line` gives its direction."""

    def __init__(self, period_s: float, config: ProgressionConfig, side: Side | None) -> None:
        self.side = side if config.correct_swing_lean else None
        self.follow_drift = config.follow_drift
        self.thin = max(int(1.0 / (period_s * SWING_RATE_HZ) + 1e-6), 1)  # (as find_progression)
        self._n_win = max(int(round(config.drift_window_s / (period_s * self.thin))), 2)
        self._step = max(self._n_win // 2, 1)
        self.reset()

    def reset(self) -> None:
        self._n_rows = 0  # rows of the run seen (before thinning)
        self._n = 0  # rows taken
        self._s1, self._s2 = np.zeros(2), np.zeros((2, 2))  # long axis: sum, sum of outer products
        self._right = np.zeros(2)  # flexion axis: sum
        self._t_first = self._t_last = np.nan
        # Rows taken not yet past every window that holds them: (t, long xy, axis xy), from row _w0 on.
        self._buf_t, self._buf_long, self._buf_axis = np.empty(0), np.empty((0, 2)), np.empty((0, 2))
        self._w0 = 0  # the taken row the buffer starts at
        self._next_window = 0
        self._ls = np.zeros(5)  # windows: n, Σc, Σh, Σc², Σch (c from the first window's centre, h unwrapped)
        self._c0 = np.nan
        self._h_prev = np.nan
        self._extent_sum = 0.0

    def extend(self, t_s: np.ndarray, long_axis: np.ndarray, flexion_axis: np.ndarray) -> None:
        """Add the run's next rows: ``t_s`` (n,), the thigh's long and flexion axes (n, 3) world."""
        if not t_s.size:
            return
        take = slice(None) if self.thin == 1 else (np.arange(self._n_rows, self._n_rows + t_s.size) % self.thin) == 0
        self._n_rows += t_s.size
        t, xy, right = t_s[take], long_axis[take, :2], flexion_axis[take, :2]
        if not t.size:
            return
        if not self._n:
            self._t_first = float(t[0])
        self._t_last = float(t_s[-1])
        self._n += t.size
        self._s1 += xy.sum(axis=0)
        self._s2 += xy.T @ xy
        self._right += right.sum(axis=0)
        self._buf_t = np.concatenate([self._buf_t, t])
        self._buf_long = np.concatenate([self._buf_long, xy])
        self._buf_axis = np.concatenate([self._buf_axis, right])
        while (start := self._next_window * self._step) + self._n_win <= self._n:
            i = start - self._w0
            self._add_window(self._buf_t[i:i + self._n_win], self._buf_long[i:i + self._n_win], self._buf_axis[i:i + self._n_win])
            self._next_window += 1
        drop = self._next_window * self._step - self._w0
        if drop > 0:
            self._buf_t, self._buf_long, self._buf_axis = self._buf_t[drop:], self._buf_long[drop:], self._buf_axis[drop:]
            self._w0 += drop

    def _add_window(self, t: np.ndarray, xy: np.ndarray, right: np.ndarray) -> None:
        # As find_progression's windows (_window_headings), and the window's swing extent.
        raw = float(_window_headings(xy[None], right[None], None)[0])
        extent = float(swing_extent(xy @ np.array([np.cos(raw), np.sin(raw)])))
        heading = raw + (float(heading_correction_rad(self.side, extent)) if self.side is not None else 0.0)
        centre = float(t.mean())
        if not np.isfinite(self._c0):
            self._c0, self._h_prev = centre, heading
        h = self._h_prev + float(np.angle(np.exp(1j * (heading - self._h_prev))))
        self._h_prev = h
        c = centre - self._c0
        self._ls += np.array([1.0, c, h, c * c, c * h])
        self._extent_sum += extent

    def line(self) -> RunLine | None:
        """The run's direction over all of it so far (None: fewer than three windows — too short
        for the line offline fits)."""
        n, sc, sh, scc, sch = self._ls
        if n < 3 or self._n < 2:
            return None
        mean = self._s1 / self._n
        covariance = self._s2 - self._n * np.outer(mean, mean)
        _, vecs = np.linalg.eigh(covariance)
        heading = float(forward_heading_rad(vecs[None, :, -1].copy(), self._right[None])[0])
        if self.side is not None:
            heading += float(heading_correction_rad(self.side, self._extent_sum / n))
        slope = (n * sch - sc * sh) / (n * scc - sc * sc) if self.follow_drift else 0.0
        return RunLine(heading, float(slope), 0.5 * (self._t_first + self._t_last), self._t_first, self._t_last)
