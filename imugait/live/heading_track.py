"""A live leg's thigh–shank heading offset as the walk goes on: the windows of the offline track
estimated as they complete, the offset the rows are taken with, and the one a stride's final
version takes.

Offline (:func:`~imugait.calibration.segment.track_heading`) estimates the offset over windows
every ``HeadingConfig.step_s`` and interpolates between their centres. Live, windows of the same
length are estimated every ``HeadingConfig.live_step_s`` as soon as they are complete
(:func:`~imugait.calibration.segment.retrack_heading`; offline's windows are among them) and the
rows are taken with the latest estimate held (:meth:`HeadingTrack.held_offsets`; or extrapolated
by a significant drift, off by default). A stride's final version takes the offset interpolated
between offline's windows around it (:meth:`HeadingTrack.final_offsets`), as ``analyze``
(docs/live-history.md, "The heading offset after the calibration").
"""

from __future__ import annotations

from collections import deque

import numpy as np

from imugait.assessment.measures import runs
from imugait.calibration.heading import drift_rate_radps, interpolated_track
from imugait.calibration.recording import LegRecording
from imugait.calibration.segment import LegAlignment, retrack_heading
from imugait.live.history import History
from imugait.live.leg_rows import LegRows, grid_rows
from imugait.live.leg_settings import LegSettings


class HeadingTrack:
    """The heading offset of one leg from grid index ``start`` on (``capacity``: the rows its
    history keeps). ``known_heading_rad``, ``known_interpolated_rows``: the offsets of the rows
    from ``start`` on known when the leg starts (see :class:`~imugait.live.leg.LiveLeg`)."""

    def __init__(self, alignment: LegAlignment, settings: LegSettings, start: int, capacity: int,
                 known_heading_rad: np.ndarray | None = None, known_interpolated_rows: int | None = None) -> None:
        self.alignment, self.settings = alignment, settings
        dt = 1.0 / settings.rate_hz
        self._known_heading = (start, known_heading_rad) if known_heading_rad is not None and known_heading_rad.size \
            else None
        from_centre = alignment.quality.heading_from_joint_centre or not alignment.measures_femur_rotation
        win_s, step_s = ((settings.heading.centre_window_s, settings.heading.centre_step_s) if from_centre
                         else (settings.heading.window_s, settings.heading.step_s))
        self._n_win = int(round(win_s / dt))
        # Live windows every live_step_s (offline's every step_s are among them: its multiple).
        n_offline_step = max(int(round(step_s / dt)), 1)
        every = max(int(round(step_s / settings.heading.live_step_s)), 1)
        while n_offline_step % every:
            every -= 1
        self._drift_every = every  # live windows between the drift fit's points
        self._n_step = n_offline_step // every
        self.offline_windows: deque[tuple[float, float]] = deque(maxlen=capacity // n_offline_step + 2)
        """The offline track's windows estimated so far (centre s, estimate rad), while their rows
        can be in the history: a stride's final version interpolates between them (:meth:`final_offsets`)."""
        self.offline_unestimated = -1
        """The middle row of the newest offline window looked at if it gave no estimate (too little
        knee motion: the leg stopped), else -1."""
        n_known = known_heading_rad.size if self._known_heading is not None else 0
        self.known_until = start + (n_known if known_interpolated_rows is None else min(known_interpolated_rows, n_known))
        """Rows before this took the calibration's own track interpolated between its windows
        (as a stride's final version would: not recomputed)."""
        track = alignment.heading
        self.heading_offset_rad = float(track.window_offset_rad[0] if track.window_offset_rad.size
                                        else alignment.axes.heading_offset_rad)
        """The latest window's estimate of the thigh-shank heading offset (held until the next, or
        extrapolated by its drift: :meth:`held_offsets`)."""
        self._estimates: deque[tuple[int, float, float]] = deque(
            maxlen=max(settings.heading.drift_points - 1, 0) * self._drift_every + 1)
        """The latest windows' (index, centre time s, estimate rad)."""
        self._drift_radps = 0.0  # the drift extrapolated past the newest window (0: held)
        self._drift_from_s = 0.0  # from the newest window's centre …
        self._drift_until_s = 0.0  # … to where the next window is due (then held)
        self._drift_horizon_s = 0.5 * win_s + step_s
        self._next_window = -(-start // self._n_step)  # first window starting in the history
        self._n_bridge = max(int(np.floor(settings.max_bridge_s / dt)), 1)
        self._in_long_lost = False  # the last row taken is inside a long lost stretch

    def held_offsets(self, k: int, t: np.ndarray, long_lost: np.ndarray) -> np.ndarray:
        """The heading offset each of the rows ``k ..`` (times ``t``) is computed with (NaN: no angles).

        The newest window's estimate (windows every ``heading.live_step_s``: a held estimate lags
        a steady drift by half a window and up to a step more) — with ``heading.drift_points`` set
        (off by default), extrapolated by the drift fitted to the latest windows when it is
        significant (:func:`~imugait.calibration.heading.drift_rate_radps`; offline
        interpolates between windows, a held estimate lags a steady drift by half a window and
        more) up to where the window after the newest is due (half a window and an offline step
        past its centre: if it does not come — too little knee motion — the value there is held).

        A sensor's lost samples are bridged in fusion (as offline). Over a long stretch (more than
        ``max_bridge_s``) the bridged orientations are not data, and they come back far off — in
        walking, tens of degrees of inclination and any heading, settling over seconds (VQF's
        accelerometer time constant) — so the offset held from before no longer applies: from the
        start of such a stretch it is NaN (the leg's angles are NaN, never invented) — until a
        heading window that starts after the stretch has been estimated, or, when the sensors'
        filters are re-seeded after it (``settings.reseeded``), only to its end. Rows whose offset was
        known when the leg started (``known_heading_rad``) take it instead of the held one."""
        if self._drift_radps:
            offsets = self.heading_offset_rad + self._drift_radps * (np.minimum(t, self._drift_until_s) - self._drift_from_s)
        else:
            offsets = np.full(long_lost.size, self.heading_offset_rad)
        if self._known_heading is not None:
            start, known = self._known_heading
            offsets[:max(start + known.size - k, 0)] = known[k - start:k - start + offsets.size]
            if k + offsets.size >= start + known.size:
                self._known_heading = None
        if not (self._in_long_lost or np.count_nonzero(long_lost)):
            return offsets  # (the common case: nothing lost for long, nothing ends)
        offsets[long_lost] = np.nan
        ends = np.flatnonzero(np.diff(np.concatenate([[self._in_long_lost], long_lost]).astype(np.int8)) == -1)
        if ends.size:
            # Windows before the stretch do not continue into it (nor past it: a carry-over).
            self._drift_radps = 0.0
            self._estimates.clear()
        if ends.size and not self.settings.reseeded:
            end = int(ends[-1])
            self.heading_offset_rad = np.nan
            offsets[end:] = np.nan
            # (The first window after it one of offline's, as with offline's steps: one that starts
            # at once would take the orientations while they settle, tested in tests/live/test_live_gap.py.)
            self._next_window = max(self._next_window, -(-(k + end) // (self._n_step * self._drift_every)) * self._drift_every)
        if long_lost.size:
            self._in_long_lost = bool(long_lost[-1])
        return offsets

    def estimate_windows(self, grid: History, rows: LegRows, settled: int) -> None:
        """The heading offset of every window of the offline track that has completed (its rows
        before ``settled``: their motion is known)."""
        history = rows.history
        while self._next_window * self._n_step + self._n_win <= settled:
            w0 = self._next_window * self._n_step
            self._next_window += 1
            if (self._next_window - 1) % self._drift_every == 0:  # one of offline's windows
                self.offline_unestimated = w0 + self._n_win // 2  # (until it gives an estimate)
            if w0 < grid.first_index:
                continue
            w1 = w0 + self._n_win
            lost = history.since("lost", w0)[:self._n_win]
            if any(stop - start > self._n_bridge for start, stop in runs(lost)):
                continue  # the window spans a long lost stretch: before and after do not match
            motion = history.since("motion", w0)[:self._n_win]
            thigh, shank = rows.thigh, rows.shank
            rec = LegRecording(
                grid_rows(grid, "t_s", w0, w1),
                grid_rows(grid, f"{thigh}/q_world_sensor", w0, w1), grid_rows(grid, f"{shank}/q_world_sensor", w0, w1),
                grid_rows(grid, f"{thigh}/gyr_radps", w0, w1), grid_rows(grid, f"{shank}/gyr_radps", w0, w1),
                grid_rows(grid, f"{thigh}/acc_mps2", w0, w1), grid_rows(grid, f"{shank}/acc_mps2", w0, w1),
                self.settings.rate_hz)
            track = retrack_heading(self.alignment, rec, motion, self.settings.heading)
            if track.window_offset_rad.size:
                estimate = float(track.window_offset_rad[-1])
                # Unwrapped onto the previous value (the offline track unwraps its windows too).
                if np.isfinite(self.heading_offset_rad):
                    estimate = self.heading_offset_rad + float(np.angle(np.exp(1j * (estimate - self.heading_offset_rad))))
                # Offline interpolates between the windows' centres; live holds the latest window's
                # estimate (or extrapolates a significant drift, off by default: held_offsets,
                # docs/live-history.md "The heading offset after the calibration").
                self.heading_offset_rad = estimate
                self._drift(self._next_window - 1, float(track.window_t_s[-1]), estimate)
                if (self._next_window - 1) % self._drift_every == 0:
                    self.offline_windows.append((float(track.window_t_s[-1]), estimate))
                    self.offline_unestimated = -1

    def _drift(self, window: int, centre_s: float, estimate_rad: float) -> None:
        """The drift to extrapolate past window ``window`` (centre ``centre_s``): fitted to it and
        the windows ``drift_every``, ``2 drift_every``, … before it (offline's spacing), when all
        of them were estimated; otherwise none (held)."""
        self._drift_from_s, self._drift_until_s = centre_s, centre_s + self._drift_horizon_s
        if self.settings.heading.drift_points < 3:
            return  # held (the default)
        self._estimates.append((window, centre_s, estimate_rad))
        points = [e for e in self._estimates if (window - e[0]) % self._drift_every == 0][-self.settings.heading.drift_points:]
        complete = (len(points) == self.settings.heading.drift_points
                    and window - points[0][0] == (len(points) - 1) * self._drift_every)
        self._drift_radps = drift_rate_radps(np.array([e[1] for e in points]), np.array([e[2] for e in points])) \
            if complete else 0.0

    def window_centred_after(self, t_s: float) -> bool:
        """Whether an offline window centred at or after ``t_s`` has been estimated."""
        return bool(self.offline_windows and self.offline_windows[-1][0] >= t_s)

    def final_offsets(self, history: History, k0: int, k1: int) -> np.ndarray:
        """The thigh–shank heading offset (rad) of the rows ``k0 .. k1 - 1`` of the leg's
        ``history`` as a stride's final version takes it: interpolated between the centres of the
        offline track's windows estimated so far
        (:func:`~imugait.calibration.heading.interpolated_track`, offline's own; the latest held
        when there are none), the calibration's own track on the rows it was fitted on (held
        already), NaN where the held one is (no angles)."""
        held = history.since("heading_offset_rad", k0)[:k1 - k0]
        k_new = min(max(k0, self.known_until), k1)
        if k_new >= k1 or not self.offline_windows:
            return held
        centres, estimates = zip(*self.offline_windows, strict=True)
        t = history.since("t_s", k_new)[:k1 - k_new]
        interpolated = interpolated_track(t, list(centres), list(estimates), self.heading_offset_rad)[0]
        return np.concatenate([held[:k_new - k0], np.where(np.isfinite(held[k_new - k0:]), interpolated, np.nan)])
