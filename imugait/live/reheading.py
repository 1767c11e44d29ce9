"""A live leg's strides in their final version: their knee angles again with the heading offset
``analyze`` takes and, with a mid-stance reference, with its segment frames.

The angle rows as shown keep the heading offset held at the latest window and the calibration's
segment frames. A stride's final version takes its rows' knee angles computed as ``analyze``
computes them: the heading offset interpolated between the offline track's windows around it
(:meth:`~imugait.live.heading_track.HeadingTrack.final_offsets`) and, when the leg is referred to
mid-stance, the segment frames from the mid-stances of the walk so far
(:class:`~imugait.live.midstance.MidstanceReference`) — at the stream's end from every walk's
(:meth:`Reheading.revise_reference`). Those knee angles are kept apart
(:attr:`~imugait.live.stride_measures.StrideMeasures.stride_knee`), which the metrics read.
"""

from __future__ import annotations

import numpy as np

from imugait.live.given_strides import GivenStrides, same_stride
from imugait.live.heading_track import HeadingTrack
from imugait.live.leg_rows import LegRows, grid_rows, stride_span
from imugait.live.midstance import MidstanceReference
from imugait.live.reference_backlog import ReferenceBacklog
from imugait.live.stride_measures import StrideMeasures


class Reheading:
    """The final versions of the strides ``given`` of a leg (its ``rows``, ``heading``;
    ``midstance``: its mid-stance reference, None: the calibration's frames throughout;
    ``backlog``: where the final strides' knee inputs are kept for the revision after they leave
    the history, :mod:`imugait.live.reference_backlog`; None: not kept)."""

    def __init__(self, rows: LegRows, heading: HeadingTrack, measures: StrideMeasures, given: GivenStrides,
                 midstance: MidstanceReference | None, backlog: ReferenceBacklog | None = None) -> None:
        self.rows, self.heading, self.measures, self.given = rows, heading, measures, given
        self.midstance = midstance
        self.backlog = backlog

    def head_strides(self, runs_done: int, ending: bool = False) -> None:
        """Give again the strides whose heading windows have come with their knee metrics
        computed as ``analyze`` computes them: the thigh–shank heading offset of their rows
        interpolated between the centres of the offline track's windows before and after them
        (:func:`~imugait.calibration.heading.interpolated_track`, offline's own) instead of the
        latest window held (:meth:`~imugait.live.heading_track.HeadingTrack.held_offsets`;
        docs/live-history.md, "The heading offset after the calibration"). A stride waits for the
        first offline window centred after its last row (about 2–4.5 s of data after its end with
        4-s windows every 2 s; each is complete half a window after its centre), or until an offline
        window whose middle is after its last row has given no estimate (too little knee motion:
        the leg stopped; the last window before is held, as offline where no window follows), or
        (``ending``) the walk's end. Only its rows are recomputed, once (rows shared with the
        stride before are not again; rows of the calibration's own track stay as they were);
        final unless its timing or its run's walking direction (runs up to ``runs_done`` are
        fitted again) is still to come."""
        given, heading, history = self.given, self.heading, self.rows.history
        while given.unheaded:
            p = given.unheaded[0]
            if not (ending or heading.offline_unestimated >= 0
                    or heading.window_centred_after(p.stride.t_next_initial_contact_s)):
                return  # (most ticks: nothing to look at)
            t_all = history.tail("t_s")
            first = history.first_index
            i0, i1 = stride_span(t_all, p.stride.t_initial_contact_s, p.stride.t_next_initial_contact_s)
            if not (ending or heading.offline_windows and heading.offline_windows[-1][0] >= t_all[i1 - 1]
                    or heading.offline_unestimated >= first + i1 - 1):
                return
            given.unheaded.popleft()
            if self.midstance is not None:
                self.midstance.add_stride(t_all, p.stride.t_initial_contact_s, p.stride.t_next_initial_contact_s,
                                          lambda j0, j1, k=first: self._reference_rows(k + j0, k + j1))
            self._reheaded_rows(first + i0, first + i1)
            p.headed = True
            given.headed.append(p)
            self.measures.measure_again(p.stride, p.row)
            if p.timed:  # (its timing again with the offset of its final version, as offline)
                p.row["thigh_shank_lag_s"] = self.measures.thigh_shank_lag_s(self.rows.grid, p.stride,
                                                                             history.n_appended, final=True)
            p.given = given.judged_again(p, final=p.timed and p.run <= runs_done)
            if p.timed:
                given.give(p)

    def _reheaded_rows(self, k0: int, k1: int) -> None:
        """Extend the strides' knee angles (``stride_knee``) to grid row ``k1``: the rows from
        ``k0`` on recomputed with the heading offset interpolated between the offline windows
        estimated so far, those before as shown (between strides, or the calibration's own track)."""
        history = self.rows.history
        done = self.measures.stride_knee
        if done.n_appended < history.first_index:
            done.skip_to(history.first_index)
        revised = self.midstance.alignment if self.midstance is not None and self.midstance.n_strides else None
        # (Rows of the calibration's own track are as shown — unless the frames were revised.)
        k_new = min(max(k0, done.n_appended, self.heading.known_until if revised is None else k0), k1)
        self.rows.angles_until(k1)
        if k_new > done.n_appended:
            self._keep_inputs(done.n_appended, k_new, None)
            done.append({"knee_deg": history.since("knee_deg", done.n_appended)[:k_new - done.n_appended]})
        if k1 <= k_new:
            return
        if not self.heading.offline_windows and revised is None:
            self._keep_inputs(k_new, k1, None)
            done.append({"knee_deg": history.since("knee_deg", k_new)[:k1 - k_new]})
            return
        offsets = self.heading.final_offsets(history, k_new, k1)
        self._keep_inputs(k_new, k1, offsets)
        done.append({"knee_deg": self.rows.knee_deg(k_new, k1, offsets, revised)})

    def _keep_inputs(self, k0: int, k1: int, heading_offset_rad: np.ndarray | None) -> None:
        """Rows ``k0 .. k1 - 1`` into the backlog (if kept) with the heading offsets their final
        knee angles take (None: those held, as shown)."""
        if self.backlog is not None and self.backlog.knee is not None and k1 > k0:
            self.backlog.append_knee(k0, k1, self.rows.history.since("heading_offset_rad", k0)[:k1 - k0]
                                     if heading_offset_rad is None else heading_offset_rad)

    def _reference_rows(self, k0: int, k1: int) -> tuple[np.ndarray, ...]:
        """The thigh's and shank's orientations (K, 4) and accelerations (K, 3) of grid rows
        ``k0 .. k1 - 1`` and their final heading offset (K,; NaN: lost)."""
        rows, grid = self.rows, self.rows.grid
        lost = rows.lost(grid, k0, k1)
        return (grid_rows(grid, f"{rows.thigh}/q_world_sensor", k0, k1), grid_rows(grid, f"{rows.shank}/q_world_sensor", k0, k1),
                grid_rows(grid, f"{rows.thigh}/acc_mps2", k0, k1), grid_rows(grid, f"{rows.shank}/acc_mps2", k0, k1),
                np.where(lost, np.nan, self.heading.final_offsets(rows.history, k0, k1)))

    def revise_reference(self) -> None:
        """At a walk's end, with the mid-stance reference over every walk so far (as ``analyze``
        has it): the knee angles of the strides still in the history computed again with its
        frames — and those of the final strides older than the history whose rows the backlog
        keeps (:meth:`~imugait.live.reference_backlog.ReferenceBacklog.measure_again`; their used
        decision as it was) —, and those whose metrics changed given again (their final flag as it was)."""
        if self.midstance is None or not self.midstance.n_strides:
            return
        if self.backlog is not None:
            self.given.give_measured_again(self.backlog.measure_knee_again(self.midstance.alignment))
        if not self.given.headed:
            return
        history = self.rows.history
        done = self.measures.stride_knee
        k0 = max(history.first_index, self.rows.grid.first_index, done.first_index)
        k1 = done.n_appended
        if k1 <= k0:
            return
        done.since("knee_deg", k0)[:k1 - k0] = self.rows.knee_deg(k0, k1, self.heading.final_offsets(history, k0, k1),
                                                                  self.midstance.alignment)
        for p in self.given.headed:
            self.measures.measure_again(p.stride, p.row)
            version = self.given.judged_again(p)
            if not same_stride(version, p.given):
                p.given = version
                if p.timed:
                    self.given.give(p)
