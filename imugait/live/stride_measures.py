"""What a live leg measures of a stride from its rows: the stride an initial contact closes, its
metrics, its thigh–shank timing.

The offline stage functions over the leg's history (:class:`~imugait.live.leg_rows.LegRows`):
:func:`~imugait.gait.cycles.segment_strides` with an open end, :func:`~imugait.gait.metrics.strides_metrics`,
:func:`~imugait.gait.coordination.stride_lags_s`. The knee metrics read the knee angles of a
stride's final version where it has one (:attr:`StrideMeasures.stride_knee`, written by
:mod:`imugait.live.reheading`), else those shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imugait.gait.coordination import MAX_LAG_S, sagittal_rate_radps, stride_lags_s
from imugait.gait.cycles import Stride, segment_strides
from imugait.gait.events import LegEvents
from imugait.gait.metrics import strides_metrics
from imugait.kinematics.angles import segment_orientations
from imugait.live.heading_track import HeadingTrack
from imugait.live.history import History
from imugait.live.leg_rows import LegRows, grid_rows, stride_span
from imugait.live.leg_settings import LegSettings


class StrideMeasures:
    """Strides and their measures from a leg's ``rows`` (``heading``: its heading offset), its
    history from grid index ``start`` on, ``capacity`` rows kept."""

    def __init__(self, rows: LegRows, heading: HeadingTrack, settings: LegSettings, start: int, capacity: int) -> None:
        self.rows, self.heading, self.settings = rows, heading, settings
        self.stride_knee = History(capacity, {"knee_deg": (3,)})
        """The knee angles (deg) of the rows up to the newest stride given with its heading offset
        interpolated (:meth:`~imugait.live.reheading.Reheading.head_strides`) — those of the strides
        recomputed, the others' as shown — which the strides' metrics read (:meth:`metrics`)
        instead of those shown."""
        self.stride_knee.skip_to(start)

    def stride_at(self, events_kept: list[tuple[float, float, float, float]], t_ic_s: float, settled: int
                  ) -> tuple[Stride, dict[str, float]] | None:
        """The stride that ends at the initial contact ``t_ic_s`` of the newest of ``events_kept``
        (mid-swing, toe-off, initial contact s, mid-swing peak rad/s), if it is one, and its
        metrics (the thigh–shank timing NaN: it searches MAX_LAG_S past the stride, so it is added
        once those rows have come, :meth:`~imugait.live.given_strides.GivenStrides.give_timed`);
        ``settled``: the rows whose motion and walking direction are final."""
        self.rows.angles_until(settled)  # (only when a stride needs them: a poll computes the rest)
        history = self.rows.history
        ev = np.array(events_kept)
        events = LegEvents(ev[:, 0], ev[:, 1], ev[:, 2], ev[:, 3])
        first_t = ev[0, 2] if np.isfinite(ev[0, 2]) else ev[0, 0]
        t_all = history.tail("t_s")
        lo, hi = stride_span(t_all, first_t, t_ic_s)
        # A long lost-sample gap before the stride excludes it when its margin (at most
        # gap_margin_max_s) reaches it: the rows that far back, and the gap's own rows — any gap
        # cut at twice that still spans more than the margin's longest. (A gap after it: the walk's
        # end judges its strides again over all the walk's rows, imugait.live.walk_end.)
        lo = int(np.searchsorted(t_all, t_all[lo] - 2.0 * self.settings.strides.gap_margin_max_s))
        t = t_all[lo:hi]
        # Rows without angles (a long lost stretch and after it) exclude their strides as lost ones do.
        gap_lost = history.tail("lost")[lo:hi]
        lost = gap_lost | ~np.isfinite(history.tail("heading_offset_rad")[lo:hi])
        strides = segment_strides(t, events, history.tail("run")[lo:hi], lost, history.tail("clipped")[lo:hi],
                                  self.settings.strides, open_end=True, rate_hz=self.settings.rate_hz, gap_lost=gap_lost)
        if not strides or strides[-1].t_next_initial_contact_s != t_ic_s:
            return None
        stride = strides[-1]
        metrics = {name: float(v[0]) for name, v in self.metrics([stride]).items()}
        metrics["thigh_shank_lag_s"] = np.nan
        metrics["double_support_pct"] = np.nan  # (once the other leg's strides around it settle: double_support)
        return stride, metrics

    def metrics(self, strides: Sequence[Stride]) -> dict[str, np.ndarray]:
        """:func:`~imugait.gait.metrics.strides_metrics` of ``strides`` (in time order, their rows
        in the history) from the angles the history holds."""
        history = self.rows.history
        t_all = history.tail("t_s")
        lo, hi = stride_span(t_all, strides[0].t_initial_contact_s, strides[-1].t_next_initial_contact_s)
        knee = history.tail("knee_deg")[lo:hi]
        n_done = min(self.stride_knee.n_appended - (history.first_index + lo), knee.shape[0])
        if n_done > 0:  # (rows of strides given with the heading interpolated)
            knee = np.concatenate([self.stride_knee.since("knee_deg", history.first_index + lo)[:n_done], knee[n_done:]])
        angles = {"knee_flexion_deg": knee[:, 0], "knee_adduction_deg": knee[:, 1], "knee_rotation_deg": knee[:, 2],
                  "hip_rotation_deg": history.tail("hip_rotation_run_deg")[lo:hi]}
        return strides_metrics(t_all[lo:hi], angles, strides)

    def measure_again(self, stride: Stride, row: dict) -> None:
        """The metrics of ``stride`` from the angles the history holds now, into its ``row``."""
        row.update({name: float(values[0]) for name, values in self.metrics([stride]).items()})

    def thigh_shank_lag_s(self, grid: History, stride: Stride, k: int, final: bool = False) -> float:
        """The stride's thigh–shank timing (:func:`~imugait.gait.coordination.stride_lags_s`, as
        offline) from the anatomical frames of its rows and ``MAX_LAG_S`` around them (those before
        grid row ``k``) — with the held heading offset, or (``final``) the offset of the stride's
        final version (:meth:`~imugait.live.heading_track.HeadingTrack.final_offsets`), as
        ``analyze`` turns the shank."""
        rows, history = self.rows, self.rows.history
        t_all = history.tail("t_s")
        n_lag = int(np.ceil(MAX_LAG_S * self.settings.rate_hz)) + 2
        first = history.first_index
        g0 = max(first + int(np.searchsorted(t_all, stride.t_initial_contact_s)) - n_lag, first, grid.first_index)
        g1 = min(first + int(np.searchsorted(t_all, stride.t_next_initial_contact_s)) + n_lag, k)
        q_thigh, q_shank = segment_orientations(
            grid_rows(grid, f"{rows.thigh}/q_world_sensor", g0, g1), grid_rows(grid, f"{rows.shank}/q_world_sensor", g0, g1),
            rows.alignment.thigh.q_sensor_segment, rows.alignment.shank.q_sensor_segment,
            self.heading.final_offsets(history, g0, g1) if final else history.since("heading_offset_rad", g0)[:g1 - g0])
        t = grid_rows(grid, "t_s", g0, g1)
        return float(stride_lags_s(t, sagittal_rate_radps(t, q_thigh), sagittal_rate_radps(t, q_shank), [stride],
                                   rate_hz=self.settings.rate_hz)[0])
