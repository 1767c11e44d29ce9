"""The final strides older than a live leg's history, kept so that a walk's end can refer them to
the whole walk's mid-stance too — in bounded memory.

A leg referred to mid-stance (no standing) gives each stride final with the segment frames of the
mid-stances so far (:mod:`imugait.live.midstance`); at a walk's end the strides still in the
history (60 s) are computed again with the frames of every walk so far, as ``analyze`` has them
(:meth:`~imugait.live.reheading.Reheading.revise_reference`). A stride older than the history has
left its rows behind. What its knee metrics need under other segment frames is small: per row the
shank sensor's orientation in the thigh sensor's frame, turned by the row's final heading offset
(:meth:`~imugait.live.leg_rows.LegRows.knee_inputs`: 4 numbers, float32) and its time — the
segment frames are constant rotations on either side of it, so the knee angles with any frames
follow (:meth:`~imugait.live.leg_rows.LegRows.knee_deg_of_inputs`). Those rows are kept as each
stride is given final, ``backlog_s`` of them (:attr:`~imugait.live.leg_settings.LegSettings.reference_backlog_s`,
6 min by default: 24 bytes a row, stored twice over as every :class:`~imugait.live.history.History`
— 1.0 MB per leg at 60 Hz, 3.5 MB at 200 Hz), and the strides whose rows they are. Older strides
keep the frames they were given final with.

Their hip rotation and thigh–shank timing do not depend on the segment frames' revision and stay;
their used/unused decision stays as it was given final (the strides around them that the
plausibility check compares with are gone).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from imugait.calibration.segment import LegAlignment
from imugait.gait.metrics import strides_metrics
from imugait.live.given_strides import PendingStride
from imugait.live.history import History
from imugait.live.leg_rows import LegRows, stride_span


class ReferenceBacklog:
    """The knee inputs of a leg's (``rows``') rows given final, ``capacity`` rows kept, and the
    strides given final whose rows have left the leg's history."""

    def __init__(self, rows: LegRows, capacity: int) -> None:
        self.rows = rows
        self.inputs = History(max(int(capacity), 1), {"t_s": (), "q_thigh_sensor_shank_sensor": (4,)},
                              {"q_thigh_sensor_shank_sensor": np.float32})
        """Per grid row: its time (s) and :meth:`~imugait.live.leg_rows.LegRows.knee_inputs`."""
        self.strides: deque[PendingStride] = deque()
        """The strides given final that have left the leg's history, whose rows are still kept, in order."""

    def append(self, k0: int, k1: int, heading_offset_rad: np.ndarray) -> None:
        """Keep grid rows ``k0 .. k1 - 1`` (still in the leg's history) with the heading offsets
        (K,) rad their final knee angles were computed with. Rows come in order; after a gap
        (the leg's history moved on past rows not given) the earlier rows are forgotten."""
        if k1 <= k0:
            return
        if k0 != self.inputs.n_appended:
            self.inputs.skip_to(k0)
        self.inputs.append({"t_s": self.rows.history.since("t_s", k0)[:k1 - k0],
                            "q_thigh_sensor_shank_sensor": self.rows.knee_inputs(k0, k1, heading_offset_rad)})

    def keep(self, p: PendingStride) -> None:
        """Keep ``p``, a stride given final whose rows leave the leg's history; strides whose rows
        have left the backlog are forgotten."""
        self.strides.append(p)
        t_first = self.inputs.tail("t_s")[:1]
        while self.strides and (not t_first.size or self.strides[0].stride.t_initial_contact_s <= t_first[0]):
            self.strides.popleft()

    def measure_again(self, alignment: LegAlignment) -> list[PendingStride]:
        """The kept strides' knee metrics computed again with the segment frames of ``alignment``
        into their rows; returns those whose knee metrics changed."""
        if not self.strides:
            return []
        strides = [p.stride for p in self.strides]
        t_all = self.inputs.tail("t_s")
        lo, hi = stride_span(t_all, strides[0].t_initial_contact_s, strides[-1].t_next_initial_contact_s)
        knee = self.rows.knee_deg_of_inputs(self.inputs.tail("q_thigh_sensor_shank_sensor")[lo:hi], alignment)
        angles = {"knee_flexion_deg": knee[:, 0], "knee_adduction_deg": knee[:, 1], "knee_rotation_deg": knee[:, 2],
                  "hip_rotation_deg": np.full(hi - lo, np.nan)}  # (not revised: its metrics are not read)
        metrics = {name: values for name, values in strides_metrics(t_all[lo:hi], angles, strides).items()
                   if name.startswith("knee_")}
        changed = []
        for i, p in enumerate(self.strides):
            new = {name: float(values[i]) for name, values in metrics.items()}
            if not np.array_equal([new[n] for n in new], [p.row[n] for n in new], equal_nan=True):
                p.row.update(new)
                changed.append(p)
        return changed
