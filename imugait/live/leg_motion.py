"""A live leg's motion and walking direction as its rows settle.

A row's motion is offline's (:func:`~imugait.calibration.periods.motion_mask`: the shank's rate
over a centred window); its walking direction the straight run's so far
(:class:`~imugait.kinematics.progression.CausalProgression`). Rows are known to be moving as soon
as the part of their motion window that has come says so (:meth:`LegMotion.moving_until`), so
neither waits for the window's second half.
"""

from __future__ import annotations

import numpy as np

from imugait.calibration.periods import motion_mask
from imugait.conventions import Side
from imugait.kinematics.progression import CausalProgression
from imugait.live.history import History
from imugait.live.leg_rows import LegRows, grid_rows
from imugait.live.leg_settings import LegSettings


class LegMotion:
    """Motion and walking direction of one leg's rows (``rows``: its history, ``side``)."""

    def __init__(self, side: Side, rows: LegRows, settings: LegSettings) -> None:
        self.rows, self.settings = rows, settings
        dt = 1.0 / settings.rate_hz
        self.n_settle = int(np.ceil(0.5 * settings.periods.motion_window_s / dt)) + 1
        """Rows after a row by which its motion window is complete."""
        self._n_window = max(int(round(settings.periods.motion_window_s / dt)), 1)  # as motion_mask
        self.progression = CausalProgression(settings.rate_hz, settings.progression, side)

    def moving_until(self, grid: History, k0: int, k: int) -> int:
        """The first row from ``k0`` on whose motion the rows before ``k`` do not decide yet.

        A row's motion (:func:`~imugait.calibration.periods.motion_mask`) is the mean square of
        the shank's rate over a centred window above the threshold's square; the window's rows
        not yet come can only add to it, so a row is already known to be moving when the rows
        that have come alone bring the mean over the whole window above it. In walking that holds
        up to the newest rows (a window always holds a swing), so motion, the walking direction
        and the events need not wait for the window's second half."""
        if k <= k0:
            return k0
        n, half = self._n_window, self._n_window // 2
        lo = max(k0 - half, grid.first_index)
        square = np.sum(grid_rows(grid, f"{self.rows.shank}/gyr_radps", lo, k) ** 2, axis=1)
        total = np.concatenate([[0.0], np.cumsum(square)])
        rows = np.arange(k0, k)
        sums = total[np.minimum(rows - half + n, k) - lo] - total[np.maximum(rows - half, lo) - lo]
        # A relative margin far above the sums' rounding: the final mask decides these rows alike.
        moving = sums / n > self.settings.periods.motion_rms_min_radps ** 2 * (1.0 + 1e-6)
        return k0 + (int(np.argmin(moving)) if np.count_nonzero(moving) < moving.size else moving.size)

    def settle(self, grid: History, k0: int, k1: int, k: int, ended: bool = False) -> np.ndarray:
        """Motion and walking direction of rows ``k0 .. k1 - 1`` (their motion window is complete),
        from the rows before ``k`` only (the grid may hold more: a tick never looks past itself),
        written into the history; returns their straight runs ((K,) labels, -1: none).
        ``ended``: ``k`` is the walk's end, the motion windows cut there as offline at a
        recording's end (else the rows whose window reaches past ``k`` are the moving ones found
        early, :meth:`moving_until`)."""
        n_w = 2 * self.n_settle
        lo = max(k0 - n_w, grid.first_index)
        hi = min(k1 + n_w, k)
        shank = self.rows.shank
        moving = motion_mask(grid_rows(grid, "t_s", lo, hi), grid_rows(grid, f"{shank}/gyr_radps", lo, hi),
                             self.settings.periods, self.settings.rate_hz)[k0 - lo:k1 - lo]
        if not ended:
            # Rows whose window reaches past ``k`` were found moving from its first part (moving_until).
            moving[max(k - self.n_settle - k0, 0):] = True
        q_thigh = self.rows.q_world_thigh(grid, k0, k1)
        runs = self.progression.update(grid_rows(grid, "t_s", k0, k1), q_thigh, moving)
        history = self.rows.history
        n = history.n_appended
        history.tail("motion", n - k0)[:k1 - k0] = moving
        history.tail("run", n - k0)[:k1 - k0] = runs
        return runs
