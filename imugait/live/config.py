"""Settings of the live pipeline (:class:`LiveConfig`) and a live run's calibration to reuse
(:class:`LiveCalibration`); :mod:`imugait.live.kinematics` runs the pipeline with them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from imugait.calibration.heading import HeadingConfig
from imugait.calibration.periods import PeriodConfig
from imugait.calibration.segment import LegAlignment, SegmentCalibrationConfig
from imugait.conventions import Placement, Side
from imugait.errors import ValidationError
from imugait.gait.cycles import StrideConfig
from imugait.gait.events import EventConfig
from imugait.kinematics.progression import ProgressionConfig
from imugait.model import ProtocolStep


@dataclass(frozen=True)
class LiveConfig:
    """Settings of the live pipeline (the stage configurations are those of offline analysis)."""

    rate_hz: float = 200.0
    """The common grid's rate (offline: the highest nominal sensor rate)."""
    history_s: float = 60.0
    """Longest history kept (per sensor and on the grid); standing and the calibration walk must fit."""
    reference_backlog_s: float = 360.0
    """A leg keeps what this much of its final strides need (s; more than ``history_s`` to
    matter) so that a walk's end gives the strides older than the history the walk's final
    reference too: their knee metrics on a leg referred to mid-stance (the whole walk's mid-stance),
    their hip rotation on a leg that measures it (a long straight run's whole line)
    (:mod:`imugait.live.reference_backlog`: 24 bytes a row and store, stored twice); and their
    used/unused decision, judged again against the leg's strides with those values
    (:meth:`~imugait.live.given_strides.GivenStrides.judge_walk`: each stride's metrics row). 0:
    none kept; older strides keep what their final version had."""
    tick_s: float = 0.05
    """Grid time between updates of the walking direction, events and strides."""
    check_s: float = 0.5
    """Grid time between looks for standing and for enough motion to calibrate."""
    event_every_s: float = 0.2
    """Grid time between looks for settled gait events (a multiple of ``tick_s``); a leg also looks
    at every tick once its shank's swing has ended in a dip (an early initial contact may be there)
    and when its early stride's events settle."""
    event_window_s: float = 6.0
    """Trailing window in which events are detected (a few strides)."""
    grid_step_s: float = 0.02
    """The grid advances by at least this much at a time (s): rows are interpolated in batches,
    which costs less than row by row as blocks trickle in; a row's angles may wait this long."""
    stall_s: float | None = None
    """None: the grid waits for every sensor (results then never depend on how the samples were
    chunked). A number: a sensor whose newest sample is this much older (s, session clock) than
    the newest of all no longer holds the grid back — its rows are marked lost — so a sensor that
    drops out does not freeze the live view; the results then depend on the order in which the
    sensors' blocks arrived when one lags by more than this."""
    max_bridge_s: float = 0.1
    """A sensor's lost stretch longer than this (s) is bridged in fusion as offline, but its legs'
    angles are NaN from its start until a heading window wholly after it has been estimated (the
    bridged orientation comes back far off: ``LiveLeg``). Shorter losses are bridged as offline."""
    standing_wait_s: float | None = 10.0
    """Seconds of walking (every leg's shank moving, motion mask) without a still standing period
    after which the legs are calibrated against mid-stance (as offline when there is none); None:
    they wait for standing."""
    end_of_pass_s: float | None = 0.5
    """A leg not yet calibrated that has walked at least ``calibration.min_motion_s`` and then not
    moved for this long (s of its shank's final motion mask: the person stopped — the end of a pass,
    as of a 10-m walk test) is calibrated at once on the walk buffered, against the standing found
    before it or, without one, mid-stance (fusion starts then if it has not: the walk is fused from
    its start, as ``analyze`` does); its strides follow from the rows kept. None: wait for
    ``standing_wait_s`` and ``calibration.max_motion_s`` of walking."""
    reseed_window_s: float | None = 1.0
    """After a sensor's gap longer than ``max_bridge_s`` its filter is re-seeded from this much of
    the samples after it (inclination from gravity over the window, heading carried over:
    :mod:`imugait.live.reseed`) and the leg's angles go on with the held heading offset from the
    end of the gap. None: the gap is bridged as offline and the angles are NaN until a heading
    window after it has been estimated (about 6 s)."""
    periods: PeriodConfig = field(default_factory=PeriodConfig)
    calibration: SegmentCalibrationConfig = field(default_factory=lambda: SegmentCalibrationConfig(max_motion_s=10.0))
    """``max_motion_s``: the knee motion (s) the calibration waits for and fits the axes to."""
    heading: HeadingConfig = field(default_factory=HeadingConfig)
    progression: ProgressionConfig = field(default_factory=ProgressionConfig)
    events: EventConfig = field(default_factory=EventConfig)
    strides: StrideConfig = field(default_factory=StrideConfig)

    def __post_init__(self) -> None:
        for name in ("rate_hz", "history_s", "tick_s", "check_s", "event_every_s", "event_window_s", "grid_step_s",
                     "stall_s", "max_bridge_s", "reseed_window_s", "standing_wait_s", "end_of_pass_s"):
            value = getattr(self, name)
            if value is None and name in ("stall_s", "reseed_window_s", "standing_wait_s", "end_of_pass_s"):
                continue
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ValidationError(f"live config: {name} must be a positive number, got {value!r}")
        if not (isinstance(self.reference_backlog_s, int | float) and 0 <= self.reference_backlog_s < np.inf):
            raise ValidationError(f"live config: reference_backlog_s must be 0 or a positive number (s), "
                                  f"got {self.reference_backlog_s!r}")


@dataclass(frozen=True, eq=False)
class LiveCalibration:
    """A live run's calibration, to reuse with the same sensors on the same person."""

    alignments: Mapping[Side, LegAlignment]
    gyr_bias_radps: Mapping[Placement, np.ndarray] = field(default_factory=dict)
    """(3,) rad/s per sensor, measured while standing; empty: the filter learns the biases."""
    standing_step: ProtocolStep | None = None
    """Where the standing reference was (session clock of the run that calibrated)."""
    references: Mapping[Side, str] = field(default_factory=dict)
    """Per leg, what its angles are referred to: ``standing`` or ``mid-stance`` (missing: standing)."""
