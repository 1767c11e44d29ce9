"""The final strides older than a live leg's history, kept so that a walk's end can give them the
walk's final reference too — the whole walk's mid-stance, a long straight run's whole line — in
bounded memory.

At a walk's end a leg gives its strides still in the history (60 s) once more with what only the
whole walk decides: a leg referred to mid-stance (no standing) the segment frames of every walk's
mid-stances, as ``analyze`` has them (:meth:`~imugait.live.reheading.Reheading.revise_reference`);
a straight run longer than the history its walking direction over all of it
(:meth:`~imugait.live.straight_runs.StraightRuns.refit`). A stride older than the history has left
its rows behind; what its metrics need under those is small, and kept here per row:

* its knee under other segment frames: the shank sensor's orientation in the thigh sensor's frame,
  turned by the row's final heading offset (:meth:`~imugait.live.leg_rows.LegRows.knee_inputs`) —
  the segment frames are constant rotations on either side of it
  (:meth:`~imugait.live.leg_rows.LegRows.knee_deg_of_inputs`); kept for the rows of every stride
  given final, on a leg referred to mid-stance;
* its hip rotation against another walking direction: the thigh segment's orientation; kept for
  the rows of the strides given final as they leave the history before their straight run ended
  (:meth:`~imugait.live.straight_runs.StraightRuns.redirect_released`), which take the line of
  all of their run at the walk's end (:meth:`ReferenceBacklog.redirect_walk`).

Each is 4 float32 and the row's time (24 bytes a row, stored twice over as every
:class:`~imugait.live.history.History`), ``capacity`` rows of each
(:attr:`~imugait.live.kinematics.LiveConfig.reference_backlog_s`, 6 min by default: 1.0 MB per
leg and store at 58.8 Hz, 3.5 MB at 200 Hz), and the strides whose rows they are. Older strides
keep what they were given final with. Their thigh–shank timing does not depend on either and stays.
Their used/unused decision is taken again at the walk's end with the values they have then, against
the leg's strides (:meth:`~imugait.live.given_strides.GivenStrides.judge_walk`, which keeps every
final stride's row for ``capacity``'s time); the bouts they are in stay as they were decided (the
rows ``find_progression`` would look at are gone).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np

from imugait.calibration.segment import LegAlignment
from imugait.gait.metrics import strides_metrics
from imugait.kinematics.angles import legs_angles
from imugait.kinematics.run_direction import RunLine
from imugait.live.given_strides import PendingStride
from imugait.live.history import History
from imugait.live.leg_rows import LegRows, stride_span


class _Kept:
    """Rows of one kind (a 4-float32 column per row, and the row's time) and the strides whose rows they are."""

    def __init__(self, capacity: int, name: str) -> None:
        self.name = name
        self.rows = History(max(int(capacity), 1), {"t_s": (), name: (4,)}, {name: np.float32})
        """The rows kept, in time order (not every grid row: the metrics find a stride's rows by time)."""
        self.strides: deque[PendingStride] = deque()
        self.k_next = 0
        """The grid row after the newest kept."""

    def append(self, rows: LegRows, k0: int, k1: int, values: Callable[[int, int], np.ndarray], fill: bool) -> None:
        """Keep grid rows ``k0 .. k1 - 1`` (still in the leg's history; rows kept already are not
        again): ``values(k0, k1)`` (K, 4). ``fill``: with the rows between the newest kept and
        ``k0`` if they are still in the history (the rows between two strides released a tick
        apart)."""
        if fill and k0 > self.k_next >= max(rows.history.first_index, rows.grid.first_index):
            k0 = self.k_next
        k0 = max(k0, self.k_next)
        if k1 > k0:
            self.rows.append({"t_s": rows.history.since("t_s", k0)[:k1 - k0], self.name: values(k0, k1)})
            self.k_next = k1

    def keep(self, strides: list[PendingStride]) -> None:
        """Keep ``strides`` (after those kept, in order)."""
        self.strides.extend(p for p in strides if not self.strides or p.stride.t_initial_contact_s
                            > self.strides[-1].stride.t_initial_contact_s)
        self.forget_old()

    def forget_old(self) -> None:
        """Forget the strides whose rows (from the one before their initial contact) are not all kept."""
        t_first = self.rows.tail("t_s")[:1]
        while self.strides and (not t_first.size or self.strides[0].stride.t_initial_contact_s <= t_first[0]):
            self.strides.popleft()

    def metrics_again(self, strides: list[PendingStride],
                      angles: Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]], prefix: str
                      ) -> list[PendingStride]:
        """``strides`` (kept, in order) measured again from the angles of their kept rows
        (``angles(values (M, 4) float32, t_s (M,))`` → name → (M,) deg): the metrics whose names
        start with ``prefix`` into their rows. Returns those whose metrics changed."""
        if not strides:
            return []
        t_all = self.rows.tail("t_s")
        lo, hi = stride_span(t_all, strides[0].stride.t_initial_contact_s, strides[-1].stride.t_next_initial_contact_s)
        series = {name: np.full(hi - lo, np.nan) for name in ("knee_flexion_deg", "knee_adduction_deg",
                                                              "knee_rotation_deg", "hip_rotation_deg")}
        series.update(angles(self.rows.tail(self.name)[lo:hi], t_all[lo:hi]))
        metrics = {name: values for name, values in strides_metrics(t_all[lo:hi], series, [p.stride for p in strides]).items()
                   if name.startswith(prefix)}
        changed = []
        for i, p in enumerate(strides):
            new = {name: float(values[i]) for name, values in metrics.items()}
            if not np.array_equal([new[n] for n in new], [p.row[n] for n in new], equal_nan=True):
                p.row.update(new)
                changed.append(p)
        return changed


class ReferenceBacklog:
    """What the final strides of a leg (its ``rows``) older than its history need to take the
    walk's final reference, ``capacity`` rows of each kind: ``knee`` (the leg is referred to
    mid-stance) and ``thigh`` (it measures femur rotation)."""

    def __init__(self, rows: LegRows, capacity: int, knee: bool, thigh: bool) -> None:
        self.rows = rows
        self.knee = _Kept(capacity, "q_thigh_sensor_shank_sensor") if knee else None
        """The knee inputs (:meth:`~imugait.live.leg_rows.LegRows.knee_inputs`) of the rows of the
        strides given final, and those strides once they have left the history."""
        self.thigh = _Kept(capacity, "q_world_thigh") if thigh else None
        """The thigh segment's orientation of the rows of the strides released from the history
        before their straight run ended, and those strides."""
        self.lines: list[RunLine] = []
        """The lines of the straight runs longer than the history that ended in the walk going on,
        for its end (:meth:`redirect_walk`)."""

    def append_knee(self, k0: int, k1: int, heading_offset_rad: np.ndarray) -> None:
        """Keep the knee inputs of grid rows ``k0 .. k1 - 1`` (still in the leg's history) with the
        heading offsets (K,) rad their final knee angles were computed with."""
        if self.knee is not None:
            self.knee.append(self.rows, k0, k1, lambda j0, j1: self.rows.knee_inputs(j0, j1, heading_offset_rad[j0 - k0:]),
                             fill=False)

    def keep_knee(self, p: PendingStride) -> None:
        """Keep ``p``, a stride given with its heading offset whose rows leave the leg's history."""
        if self.knee is not None:
            self.knee.keep([p])

    def keep_released(self, k0: int, k1: int, strides: list[PendingStride]) -> None:
        """Keep ``strides``, released from the history before their straight run ended, and the
        thigh segment's orientation of their grid rows ``k0 .. k1 - 1`` (NaN where the rows have
        no angles)."""
        if self.thigh is None or not strides:
            return
        rows = self.rows

        def thigh(j0: int, j1: int) -> np.ndarray:
            q = rows.q_world_thigh(rows.grid, j0, j1)
            q[~np.isfinite(rows.history.since("heading_offset_rad", j0)[:j1 - j0])] = np.nan
            return q

        self.thigh.append(rows, k0, k1, thigh, fill=True)
        self.thigh.keep(strides)

    def measure_knee_again(self, alignment: LegAlignment) -> list[PendingStride]:
        """The kept strides' knee metrics computed again with the segment frames of ``alignment``
        into their rows; returns those whose knee metrics changed."""
        if self.knee is None:
            return []
        self.knee.forget_old()

        def knee(q: np.ndarray, _t_s: np.ndarray) -> dict[str, np.ndarray]:
            deg = self.rows.knee_deg_of_inputs(q, alignment)
            return {"knee_flexion_deg": deg[:, 0], "knee_adduction_deg": deg[:, 1], "knee_rotation_deg": deg[:, 2]}

        return self.knee.metrics_again(list(self.knee.strides), knee, "knee_")

    def note_line(self, line: RunLine) -> None:
        """A straight run longer than the history has ended with ``line`` over all of it."""
        if self.thigh is not None:
            # the earlier runs whose rows the backlog no longer holds have nothing left to redirect
            # (the list stays bounded in a walk that does not end)
            t_first = self.thigh.rows.tail("t_s")[:1]
            self.lines = [kept for kept in self.lines if t_first.size and kept.t_last_s > t_first[0]] + [line]

    def redirect_walk(self) -> list[PendingStride]:
        """At a walk's end: the kept released strides of each run noted (:meth:`note_line`) take
        its line (:meth:`redirect`); returns those whose hip rotation changed, in order."""
        changed = [p for line in self.lines for p in self.redirect(line)]
        self.lines = []
        return sorted(dict.fromkeys(changed), key=lambda p: p.stride.t_initial_contact_s)

    def redirect(self, line: RunLine) -> list[PendingStride]:
        """The kept released strides of the straight run whose line over all of it is ``line``
        (those from its first row on): their hip rotation against it into their rows; returns
        those whose hip rotation changed."""
        if self.thigh is None:
            return []
        self.thigh.forget_old()
        strides = [p for p in self.thigh.strides if p.stride.t_initial_contact_s >= line.t_first_s
                   and p.stride.t_next_initial_contact_s <= line.t_last_s]

        def hip(q: np.ndarray, t_s: np.ndarray) -> dict[str, np.ndarray]:
            q = np.asarray(q, dtype=float)
            lost = ~np.isfinite(q[:, 0])
            q[lost] = [1.0, 0.0, 0.0, 0.0]
            deg = np.rad2deg(legs_angles([(self.rows.side, q, q, line.at(t_s))])[0].hip_rotation_progression_rad)
            deg[lost] = np.nan
            return {"hip_rotation_deg": deg}

        return self.thigh.metrics_again(strides, hip, "hip_rotation")
