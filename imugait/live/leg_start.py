"""A leg's live calibration as one job — the fit and the leg's catch-up over the history — so that
it can run on the pipeline's own thread or elsewhere (an executor) with the same result.

The job reads the grid rows it was given: the live grid itself (run at once) or a copy of its rows
of the leg's two sensors taken at the grid row where the calibration was decided (run elsewhere,
while the live grid goes on). :class:`~imugait.live.kinematics.LiveKinematics` starts the returned
leg from that row on, so the leg computes what it would have computed had the fit taken no time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from imugait.analysis.expected_error import MID_STANCE
from imugait.analysis.legs import calibrate_fused_leg_upright
from imugait.calibration.heading import HeadingConfig
from imugait.calibration.segment import LegAlignment, SegmentCalibrationConfig
from imugait.conventions import Placement, Segment, Side
from imugait.errors import CalibrationError
from imugait.fusion.settings import FilterKind
from imugait.gait.events import EventConfig
from imugait.kinematics.prepare import FusedSession, SensorOnGrid
from imugait.live.history import History
from imugait.live.leg import LiveLeg
from imugait.live.leg_settings import LegSettings
from imugait.model import GyroSampling

SENSOR_COLUMNS = ("acc_mps2", "gyr_radps", "q_world_sensor", "lost", "lost_s", "clipped")
"""The grid columns of a sensor (:func:`~imugait.live.grid.grid_history`)."""


@dataclass(frozen=True, eq=False)
class LegJob:
    """Everything a leg's calibration and catch-up read (plain data: it can be sent to a process).

    Attributes
    ----------
    side, k : the leg, and the grid row at which its calibration was decided.
    grid : the grid rows up to ``k`` (the live grid, or :func:`grid_rows_of_leg`'s copy).
    standing : (M,) bool over the grid's kept rows: the standing reference, None: mid-stance.
    moving : (M,) bool: the shank's motion counted for the calibration walk.
    calibration, events, heading : the stage configurations.
    settings : the leg's live settings.
    strides_before : the leg's strides numbered before (a recalibration goes on numbering).
    backlog_angles : compute the angles of every row taken (when the grid is a copy: later
        polls may no longer have the oldest rows); else they are computed when polled.
    gyr_sampling : per sensor of the leg, see the attribute.
    """

    side: Side
    k: int
    grid: History
    standing: np.ndarray | None
    moving: np.ndarray
    calibration: SegmentCalibrationConfig
    events: EventConfig
    heading: HeadingConfig
    settings: LegSettings
    strides_before: int = 0
    backlog_angles: bool = False
    gyr_sampling: Mapping[Placement, GyroSampling] = field(default_factory=dict)
    """What the thigh's and the shank's gyroscope samples stand for in time (as their filters
    integrate them; a causal calibration fuses the calibration walk again with them); a sensor not
    in it: ``INSTANT``."""


@dataclass(frozen=True, eq=False)
class LegStart:
    """What a :class:`LegJob` gave: the calibrated leg, caught up to its grid row, and its
    reference (``standing`` / ``mid-stance``) — or, when the calibration failed, why."""

    side: Side
    k: int
    leg: LiveLeg | None
    reference: str = ""
    error: str = ""


def grid_rows_of_leg(grid: History, side: Side) -> History:
    """A copy of the kept rows of ``grid`` that a leg's job reads (time and its two sensors)."""
    names = ["t_s"] + [f"{Placement.of(seg, side).value}/{c}" for seg in (Segment.THIGH, Segment.SHANK)
                       for c in SENSOR_COLUMNS]
    return grid.copy(names)


def leg_on_grid(side: Side, alignment: LegAlignment, settings: LegSettings, grid: History,
                strides_before: int, fitted_here: bool = False, midstance: bool = False) -> LiveLeg:
    """A leg calibrated with ``alignment``, started at ``grid``'s oldest kept row and caught up with
    it; its strides numbered on from ``strides_before`` (a recalibration goes on numbering).
    ``fitted_here``: ``alignment`` was fitted to these rows of ``grid``, so its heading track (the
    offset interpolated between its windows, as offline) is the one of the rows taken now — the rows
    before the calibration are shown with it, not with the latest window held (a reused
    alignment's track is of another run's grid). ``midstance``: it was fitted here against
    mid-stance, which the strides' final versions take over the walk so far (:class:`LiveLeg`)."""
    known = alignment.heading.heading_offset_rad if fitted_here else None
    # (Its rows after its last window's centre hold that window: a stride's final version
    # interpolates them towards the windows after it.)
    centres = alignment.heading.window_t_s
    n_interpolated = int(np.searchsorted(grid.tail("t_s"), centres[-1], side="right")) if centres.size else 0
    leg = LiveLeg(side, alignment, settings, grid.first_index, grid.capacity, known, n_interpolated,
                  midstance=fitted_here and midstance)
    leg.n_strides = strides_before
    leg.take(grid)
    return leg


def start_leg(job: LegJob) -> LegStart:
    """Calibrate the leg of ``job`` over its grid's rows and start it there (see the module
    docstring). A :class:`CalibrationError` is returned as ``error``; anything else raises."""
    grid = job.grid
    thigh, shank = (Placement.of(seg, job.side) for seg in (Segment.THIGH, Segment.SHANK))
    fused = FusedSession(grid.tail("t_s"), {p: SensorOnGrid(grid.tail(f"{p.value}/q_world_sensor"),
                                                             grid.tail(f"{p.value}/gyr_radps"),
                                                             grid.tail(f"{p.value}/acc_mps2"),
                                                             grid.tail(f"{p.value}/lost"),
                                                             job.gyr_sampling.get(p, GyroSampling.INSTANT))
                                            for p in (thigh, shank)},
                         job.settings.rate_hz, FilterKind.VQF_ONLINE, grid.first_index)
    try:
        calibrated, _reference_mask, reference = calibrate_fused_leg_upright(
            fused, job.side, job.standing, job.moving, job.calibration, job.events, job.heading)
    except CalibrationError as exc:
        return LegStart(job.side, job.k, None, error=str(exc))
    leg = leg_on_grid(job.side, calibrated.alignment, job.settings, grid, job.strides_before, fitted_here=True,
                      midstance=reference == MID_STANCE)
    if job.backlog_angles:
        leg.angles_until()
    return LegStart(job.side, job.k, leg, reference)
