"""A live leg's mid-stance reference over the walk so far, in bounded memory.

A leg calibrated against mid-stance (no standing) takes its segments' upward directions and the
knee's pose from the mid-stances of its calibration walk (the first seconds of walking);
``analyze`` takes them from every stride of the recording. The two differ by a constant per leg
(HuGaDB: knee adduction stance mean 1.5° in the median stride, up to 3.8°). Those are means, kept
as sums (:mod:`imugait.calibration.reference_pose`): each stride's mid-stance rows are added as the
stride is given its final version (its heading offset interpolated as offline), and its knee
angles are then computed with the frames from the sums so far — at the stream's end, over the
whole walk as ``analyze`` has them. The knee axes stay the calibration's (they are fitted to the
calibration walk, live and offline). The angle rows as shown and each stride as first shown keep
the calibration's frames.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from imugait.analysis.reference import midstance_rows, refer_to_upright
from imugait.calibration.reference_pose import ReferencePose, reference_sums, segment_quaternions
from imugait.calibration.segment import LegAlignment, SegmentAlignment
from imugait.conventions import Side


class MidstanceReference:
    """The mid-stance sums of a leg, from its calibration's (``alignment.reference``) on, and the
    alignment they give (:attr:`alignment`, referred to upright as the calibration's)."""

    def __init__(self, side: Side, alignment: LegAlignment) -> None:
        if alignment.reference is None:
            raise ValueError("an alignment without its reference sums cannot be revised")
        self.side = side
        self._calibrated = alignment
        self._pose: ReferencePose = alignment.reference
        self.alignment = alignment
        """The alignment with the frames of the mid-stances so far (the calibration's until one is added)."""
        self.n_strides = 0
        """Strides whose mid-stance was added since the calibration."""

    def add_stride(self, t_s: np.ndarray, t_contact_s: float, t_next_contact_s: float, rows) -> bool:
        """Add the mid-stance of the stride between two initial contacts (s), if it is after the
        reference's latest sample and a stride's duration: ``t_s`` (M,) the times of rows the
        callable ``rows(i0, i1)`` reads — returning the four sensors' arrays
        (q thigh, q shank (K, 4), acc thigh, acc shank (K, 3)) and the heading offset (K,) of rows
        ``i0 .. i1 - 1`` (NaN offset: lost, left out). Returns whether anything was added."""
        found = midstance_rows(t_s, t_contact_s, t_next_contact_s)
        if found is None or found[1] <= found[0] or t_s[found[0]] <= self._pose.sums.t_last_s:
            return False
        q_thigh, q_shank, acc_thigh, acc_shank, offset_rad = rows(*found)
        ok = np.isfinite(offset_rad)
        if not np.count_nonzero(ok):
            return False
        sums = reference_sums(t_s[found[0]:found[1]][ok], q_thigh[ok], q_shank[ok], acc_thigh[ok], acc_shank[ok],
                              offset_rad[ok], self._calibrated.axes.flexion_axis_thigh)
        self._pose = replace(self._pose, sums=self._pose.sums + sums)
        self.n_strides += 1
        q_thigh_segment, q_shank_segment = segment_quaternions(self._pose, self._calibrated.axes.flexion_axis_thigh)
        self.alignment = refer_to_upright(replace(
            self._calibrated, thigh=SegmentAlignment(self._calibrated.thigh.placement, q_thigh_segment),
            shank=SegmentAlignment(self._calibrated.shank.placement, q_shank_segment), reference=self._pose), self.side)
        return True
