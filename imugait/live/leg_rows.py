"""A live leg's rows: its bounded history of grid rows and their angles.

A row is taken from the grid with the state the leg held then (heading offset, walking direction:
:class:`~imugait.live.leg.LiveLeg`); its angles are computed when they are needed — a poll, a
stride — from its sensors' orientations and that state (:func:`angles_of_legs`), so when that
happens does not change them. The rest of the leg reads the rows here: the grid's columns of its
two sensors (:func:`grid_rows`), the rows a stride's metrics read (:func:`stride_span`), the
thigh segment's orientation, the knee angles again with other heading offsets or segment frames
(a stride's final version, :mod:`imugait.live.reheading`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from imugait.calibration.segment import LegAlignment
from imugait.conventions import Placement, Segment, Side
from imugait.kinematics.angles import LegAngles, legs_angles, segment_orientations
from imugait.live.history import History
from imugait.quaternion import quat_about_z, quat_conj, quat_multiply

LEG_COLUMNS = {"t_s": (), "knee_deg": (3,), "hip_rotation_deg": (), "hip_rotation_run_deg": (), "motion": (), "run": (),
               "lost": (), "clipped": (), "heading_offset_rad": (), "direction_rad": ()}
"""Per grid row: angles, motion, straight run, lost, clipped, and the held state the angles are computed with.
``hip_rotation_run_deg``, which the strides' metrics read, is ``hip_rotation_deg`` (what the angles
show) until the row's straight run has ended and been fitted again
(:meth:`~imugait.live.straight_runs.StraightRuns.refit`)."""


def grid_rows(grid: History, name: str, k0: int, k1: int) -> np.ndarray:
    """Column ``name`` of grid rows ``k0 .. k1 - 1`` (from the grid's oldest kept row on), a view."""
    return grid.since(name, k0)[:k1 - max(k0, grid.first_index)]


def stride_span(t_s: np.ndarray, t_first_s: float, t_last_s: float) -> tuple[int, int]:
    """The rows ``lo .. hi - 1`` of ``t_s`` (s, ascending) that the metrics of the strides from an
    initial contact at ``t_first_s`` to one at ``t_last_s`` read: from the row before the first
    to the second after the last."""
    lo = max(int(np.searchsorted(t_s, t_first_s)) - 1, 0)
    hi = min(int(np.searchsorted(t_s, t_last_s)) + 2, t_s.size)
    return lo, hi


class LegRows:
    """A leg's history of grid rows (columns :data:`LEG_COLUMNS`) from grid index ``start`` on,
    ``capacity`` kept, and their angles with ``alignment``."""

    def __init__(self, side: Side, alignment: LegAlignment, start: int, capacity: int) -> None:
        self.side, self.alignment = side, alignment
        self.thigh, self.shank = (Placement.of(seg, side).value for seg in (Segment.THIGH, Segment.SHANK))
        self.history = History(capacity, LEG_COLUMNS, {"motion": np.bool_, "run": np.int64, "lost": np.bool_,
                                                                  "clipped": np.bool_})
        self.history.skip_to(start)
        self.grid: History | None = None
        """The grid of the latest take (the angles read it)."""
        self.n_angled = start
        """Rows whose angles are computed."""

    def lost(self, grid: History, k0: int, k1: int) -> np.ndarray:
        """(K,) bool: grid rows ``k0 .. k1 - 1`` where the thigh's or the shank's sample is lost."""
        return grid_rows(grid, f"{self.thigh}/lost", k0, k1) | grid_rows(grid, f"{self.shank}/lost", k0, k1)

    def clipped(self, grid: History, k0: int, k1: int) -> np.ndarray:
        """(K,) bool: grid rows ``k0 .. k1 - 1`` where the thigh's or the shank's gyroscope is at its
        declared range (:meth:`~imugait.live.grid.LiveGrid.rows`)."""
        return grid_rows(grid, f"{self.thigh}/clipped", k0, k1) | grid_rows(grid, f"{self.shank}/clipped", k0, k1)

    def q_world_thigh(self, grid: History, k0: int, k1: int) -> np.ndarray:
        """(K, 4) the thigh segment's orientation in the world of grid rows ``k0 .. k1 - 1``."""
        return quat_multiply(grid_rows(grid, f"{self.thigh}/q_world_sensor", k0, k1), self.alignment.thigh.q_sensor_segment)

    def angles_until(self, k1: int | None = None) -> None:
        """Compute the angles of the rows before grid index ``k1`` (all taken rows when None) that
        have none yet — from their sensors' orientations and the state they were taken with, so
        when this happens does not change them."""
        angles_of_legs([self], k1)

    def angle_rows(self, k1: int | None) -> tuple[int, int, np.ndarray, tuple] | None:
        """The rows ``k0 .. k1 - 1`` without angles yet: (k0, k1, rows voided by a long lost
        stretch, the input of :func:`~imugait.kinematics.angles.legs_angles`), or None if none."""
        grid = self.grid
        k1 = self.history.n_appended if k1 is None else k1
        k0 = max(self.n_angled, grid.first_index, self.history.first_index)
        if k1 <= k0:
            return None
        return (k0, k1, *self.angle_input(k0, k1))

    def angle_input(self, k0: int, k1: int, heading_offset_rad: np.ndarray | None = None,
                    alignment: LegAlignment | None = None) -> tuple[np.ndarray, tuple]:
        """(rows voided by a long lost stretch, the input of :func:`~imugait.kinematics.angles.legs_angles`)
        of the rows ``k0 .. k1 - 1``, with the state they were taken with (``heading_offset_rad``:
        these heading offsets instead of the held ones, NaN where those are; ``alignment``: these
        segment frames instead of the calibration's)."""
        alignment = alignment or self.alignment
        grid = self.grid
        state = {name: self.history.since(name, k0)[:k1 - k0] for name in ("heading_offset_rad", "direction_rad")}
        if heading_offset_rad is not None:
            state["heading_offset_rad"] = np.where(np.isfinite(state["heading_offset_rad"]), heading_offset_rad, np.nan)
        # NaN inside a long lost stretch of a sensor and until the heading offset is known again
        # after it (:meth:`~imugait.live.heading_track.HeadingTrack.held_offsets`).
        lost = ~np.isfinite(state["heading_offset_rad"])
        q_thigh, q_shank = segment_orientations(
            grid_rows(grid, f"{self.thigh}/q_world_sensor", k0, k1), grid_rows(grid, f"{self.shank}/q_world_sensor", k0, k1),
            alignment.thigh.q_sensor_segment, alignment.shank.q_sensor_segment,
            np.where(lost, 0.0, state["heading_offset_rad"]))  # (those rows come out NaN below)
        return lost, (self.side, q_thigh, q_shank, state["direction_rad"])

    def knee_deg(self, k0: int, k1: int, heading_offset_rad: np.ndarray, alignment: LegAlignment | None) -> np.ndarray:
        """(K, 3) deg: the knee angles of rows ``k0 .. k1 - 1`` computed again with these heading
        offsets and segment frames (see :meth:`angle_input`), NaN where the rows have none."""
        lost, rows = self.angle_input(k0, k1, heading_offset_rad, alignment)
        knee_deg = np.rad2deg(legs_angles([rows])[0].knee_rad)
        knee_deg[lost] = np.nan
        return knee_deg

    def knee_inputs(self, k0: int, k1: int, heading_offset_rad: np.ndarray) -> np.ndarray:
        """(K, 4) the shank sensor's orientation in the thigh sensor's frame of grid rows
        ``k0 .. k1 - 1``, turned by these heading offsets (rad; NaN where the rows have no angles,
        the rule of :meth:`angle_input`): what their knee angles are with any segment frames
        (:meth:`knee_deg_of_inputs`) — the thigh–shank rotation the segment frames do not change."""
        grid = self.grid
        held = self.history.since("heading_offset_rad", k0)[:k1 - k0]
        offset = np.where(np.isfinite(held), heading_offset_rad, np.nan)
        q = quat_multiply(quat_conj(grid_rows(grid, f"{self.thigh}/q_world_sensor", k0, k1)),
                          quat_multiply(quat_about_z(np.where(np.isfinite(offset), offset, 0.0)),
                                        grid_rows(grid, f"{self.shank}/q_world_sensor", k0, k1)))
        q[~np.isfinite(offset)] = np.nan
        return q

    def knee_deg_of_inputs(self, q_thigh_sensor_shank_sensor: np.ndarray, alignment: LegAlignment) -> np.ndarray:
        """(K, 3) deg: the knee angles of rows whose :meth:`knee_inputs` are these, with the segment
        frames of ``alignment`` (the same angles as :meth:`knee_deg`'s, to rounding: the knee
        depends on the thigh–shank rotation only); NaN rows stay NaN."""
        q = np.asarray(q_thigh_sensor_shank_sensor, dtype=float)
        lost = ~np.isfinite(q[:, 0])
        q_thigh, q_shank = segment_orientations(np.tile([1.0, 0.0, 0.0, 0.0], (q.shape[0], 1)),
                                                np.where(lost[:, None], [1.0, 0.0, 0.0, 0.0], q),
                                                alignment.thigh.q_sensor_segment, alignment.shank.q_sensor_segment, 0.0)
        knee_deg = np.rad2deg(legs_angles([(self.side, q_thigh, q_shank, np.full(q.shape[0], np.nan))])[0].knee_rad)
        knee_deg[lost] = np.nan
        return knee_deg

    def store_angles(self, k0: int, k1: int, lost: np.ndarray, angles: LegAngles) -> None:
        knee_deg = np.rad2deg(angles.knee_rad)
        knee_deg[lost] = np.nan
        self.history.since("knee_deg", k0)[:k1 - k0] = knee_deg
        if self.alignment.measures_femur_rotation:
            hip_deg = np.rad2deg(angles.hip_rotation_progression_rad)
            hip_deg[lost] = np.nan
            self.history.since("hip_rotation_deg", k0)[:k1 - k0] = hip_deg
            self.history.since("hip_rotation_run_deg", k0)[:k1 - k0] = hip_deg
        self.n_angled = k1


def angles_of_legs(legs: Sequence[LegRows], k1: int | None = None) -> None:
    """:meth:`LegRows.angles_until` of every leg of ``legs`` (their rows), their joints in one
    rotation conversion (:func:`~imugait.kinematics.angles.legs_angles`: the same values as leg by leg)."""
    pending = [(leg, rows) for leg in legs if (rows := leg.angle_rows(k1)) is not None]
    if not pending:
        return
    for (leg, (k0, k1_leg, lost, _)), angles in zip(pending, legs_angles([rows[3] for _, rows in pending]), strict=True):
        leg.store_angles(k0, k1_leg, lost, angles)
