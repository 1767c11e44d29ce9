"""One path from a session to calibrated legs, shared by every use of the calibration.

Offline analysis (:mod:`imugait.analysis.pipeline`) and the assessment battery
(:mod:`imugait.assessment.calibration`) — and, as they are built, live and batch — turn a session
into fused, calibrated legs the same way:

1. :func:`fuse_for_legs`: the sides with a thigh and a shank, one time grid, the standing-still
   period (from the given protocol steps, or found), the gyroscope biases measured in it, and the
   fusion of every sensor;
2. :func:`calibrate_fused_leg`: the leg's :class:`~imugait.calibration.recording.LegRecording`
   from the fused session, its sensor-to-segment calibration (or one already made), and the
   segment orientations it gives.

Each caller keeps only what is its own: which motion calibrates (all walking, or the walking
test's), which standing is the reference (the analysis falls back to mid-stance), and what it
does with the legs afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imugait.analysis.expected_error import MID_STANCE, STANDING
from imugait.analysis.reference import midstance_mask, refer_to_upright
from imugait.calibration.heading import HeadingConfig
from imugait.calibration.periods import PeriodConfig, standing_mask
from imugait.calibration.recording import LegRecording
from imugait.calibration.segment import (
    LegAlignment,
    SegmentCalibrationConfig,
    calibrate_leg,
    calibration_walk_rows,
)
from imugait.conventions import Placement, Segment, Side
from imugait.errors import CalibrationError, ValidationError
from imugait.fusion.select import make_filter
from imugait.fusion.settings import FilterKind, FilterTuning, FusionSettings
from imugait.gait.events import EventConfig
from imugait.kinematics.angles import segment_orientations
from imugait.kinematics.prepare import FusedSession, fuse_session
from imugait.model import GyroSampling, ProtocolStep, Session
from imugait.timebase import common_grid, grid_position, grid_rate_hz, interp_vectors


def leg_sides(session: Session) -> list[Side]:
    """Sides with both a thigh and a shank sensor."""
    return [s for s in Side if {Placement.of(Segment.THIGH, s), Placement.of(Segment.SHANK, s)} <= set(session)]


MIN_ANALYSIS_S = SegmentCalibrationConfig().min_motion_s
"""Shortest recording of a leg's sensors worth analysing (s): the knee motion the calibration needs
(``SegmentCalibrationConfig.min_motion_s``), refused here before the fusion's work. Neither a
standing moment (a walk without one is referred to mid-stance) nor a number of strides is asked
for: a short clinical walk (5.7 s, 3–4 strides a leg, ``benchmarks/data/kiel_pp054``) calibrates,
and what a longer recording lacks — motion, a straight bout, steady strides — the calibration, the
bouts and the strides refuse or exclude with their own reasons. (It was 6 s, "a standing moment and
a few strides", which refused that walk.)"""


def require_leg(session: Session, what: str = "walking analysis") -> list[Side]:
    """:func:`leg_sides`, refusing a session without any leg or too short to analyse
    (:data:`MIN_ANALYSIS_S`)."""
    sides = leg_sides(session)
    if not sides:
        have = ", ".join(p.value for p in session)
        raise ValidationError(f"{what} needs a thigh and a shank sensor on at least one leg; the session has: {have}")
    legs = [session[Placement.of(seg, side)] for side in sides for seg in (Segment.THIGH, Segment.SHANK)]
    shortest = min(legs, key=lambda s: s.duration_s)
    if not shortest.duration_s >= MIN_ANALYSIS_S:
        raise ValidationError(
            f"too short to analyse: {shortest.n_samples} samples ({shortest.duration_s:.2f} s) of "
            f"{shortest.placement.value}; at least {MIN_ANALYSIS_S:g} s of walking (the knee motion the calibration needs) needed"
        )
    return sides


@dataclass(frozen=True, eq=False)
class FusedForLegs:
    """The session fused on one grid; ``standing`` (M,) the standing-still period whose gyroscope
    biases were removed before fusion, or None when there was none."""

    fused: FusedSession
    standing: np.ndarray | None


def fuse_for_legs(
    session: Session,
    filter_kind: FilterKind = FilterKind.VQF_OFFLINE,
    rate_hz: float | None = None,
    steps: Sequence[ProtocolStep] | None = (),
    periods: PeriodConfig | None = None,
    tuning: FilterTuning | None = None,
    upsample_hz: float | None = None,
) -> FusedForLegs:
    """Grid, standing period, gyroscope biases, fusion.

    ``steps``: the protocol steps that may name the standing period (``()``: found automatically
    with the session's own steps; None: no standing is looked for, the filter learns its biases).
    ``tuning``: of ``filter_kind`` (None: the filter's defaults); ``upsample_hz``: see
    :func:`~imugait.kinematics.prepare.fuse_session`.
    """
    rate_hz = grid_rate_hz(session.streams, rate_hz)
    t = common_grid(session.streams, rate_hz)
    standing, gyr_bias = None, None
    if steps is not None:
        try:
            # One sensor on the grid at a time (standing_mask takes the pairs in turn from the
            # generator), and only as far into the grid as the still test needs (a named standing
            # step: up to its end); the fusion puts them on the grid again after its filters (peak
            # memory, CPU).
            standing = standing_mask(t, lambda n: (_acc_gyr_on_grid(s, t[:n]) for s in session.streams),
                                     list(steps) or session.meta.steps, periods, rate_hz)
            # The same values as the gyroscope on the whole grid, taken where standing.
            gyr_bias = {p: np.mean(interp_vectors(s.t_s, s.gyr_radps, t[standing]), axis=0) for p, s in session.items()}
        except CalibrationError:
            standing = None
    return FusedForLegs(fuse_session(session, filter_kind, t, gyr_bias, rate_hz=rate_hz, tuning=tuning,
                                     upsample_hz=upsample_hz), standing)


def _acc_gyr_on_grid(stream, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The stream's accelerometer and gyroscope (M, 3) on the grid."""
    position = grid_position(stream.t_s, t_s)
    return interp_vectors(stream.t_s, stream.acc_mps2, t_s, position), interp_vectors(stream.t_s, stream.gyr_radps, t_s, position)


@dataclass(frozen=True, eq=False)
class CalibratedLeg:
    """One leg: its recording on the grid and its calibration."""

    side: Side
    recording: LegRecording
    alignment: LegAlignment

    def orientations(self, heading_offset_rad: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(q_world_thigh, q_world_shank)`` (M, 4) anatomical frames in the thigh sensor's world,
        with the calibration's heading track or ``heading_offset_rad`` (M,) instead."""
        rec = self.recording
        heading = self.alignment.heading.heading_offset_rad if heading_offset_rad is None else heading_offset_rad
        return segment_orientations(rec.q_world_thigh_sensor, rec.q_world_shank_sensor,
                                    self.alignment.thigh.q_sensor_segment, self.alignment.shank.q_sensor_segment, heading)


def calibrate_fused_leg(
    fused: FusedSession,
    side: Side,
    standing: np.ndarray,
    motion: np.ndarray,
    config: SegmentCalibrationConfig | None = None,
    alignment: LegAlignment | None = None,
    heading_config: HeadingConfig | None = None,
) -> CalibratedLeg:
    """Calibrate ``side`` on ``standing`` and ``motion`` (M,) bool of the fused grid — or reuse
    ``alignment`` made earlier on this session. Raises :class:`CalibrationError` with the reason."""
    rec = fused.leg(side)
    if alignment is None:
        alignment = calibrate_leg(Placement.of(Segment.THIGH, side), Placement.of(Segment.SHANK, side), rec,
                                  standing, motion, config, heading_config)
    return CalibratedLeg(side, rec, alignment)


def calibrate_fused_leg_upright(
    fused: FusedSession,
    side: Side,
    standing: np.ndarray | None,
    motion: np.ndarray,
    config: SegmentCalibrationConfig | None = None,
    events: EventConfig | None = None,
    heading_config: HeadingConfig | None = None,
) -> tuple[CalibratedLeg, np.ndarray, str]:
    """:func:`calibrate_fused_leg` against ``standing`` (M,) bool — or, when it is None (no still
    standing period), against the leg's mid-stance (:func:`~imugait.analysis.reference.midstance_mask`
    over ``motion``), its alignment then referred to upright
    (:func:`~imugait.analysis.reference.refer_to_upright`), the knee axes fitted with the upward
    directions of the calibration walk's mid-stances — with a causal filter the knee's
    reference inclination from the calibration walk fused again offline
    (:func:`_calibration_walk_offline`). The one fallback of offline analysis and the live pipeline. Returns (the leg, the reference mask used, ``STANDING`` or
    ``MID_STANCE``). Raises :class:`CalibrationError` with the reason."""
    if standing is not None:
        return calibrate_fused_leg(fused, side, standing, motion, config, heading_config=heading_config), standing, STANDING
    thigh, shank = (fused.sensors[Placement.of(seg, side)] for seg in (Segment.THIGH, Segment.SHANK))
    midstance = midstance_mask(fused.t_s, thigh.gyr_radps, shank.gyr_radps, motion, config, events, fused.rate_hz)
    midstance_config = (config or SegmentCalibrationConfig()).for_midstance_reference()
    rec = fused.leg(side)
    inclination = (_calibration_walk_offline(rec, motion, midstance_config, thigh.gyr_sampling, shank.gyr_sampling)
                   if fused.filter_kind.causal else None)
    # The knee axes take the thigh's and shank's upward directions from the mid-stances of the
    # walk they are fitted to (the calibration walk), not of the whole recording: what a live leg
    # has when it calibrates, so live and offline fit the same axes (docs/validation.md).
    axes_reference = midstance.copy()
    axes_reference[calibration_walk_rows(motion, rec.rate_hz, midstance_config):] = False
    alignment = calibrate_leg(Placement.of(Segment.THIGH, side), Placement.of(Segment.SHANK, side), rec, midstance,
                              motion, midstance_config, heading_config, inclination, axes_reference)
    return CalibratedLeg(side, rec, refer_to_upright(alignment, side)), midstance, MID_STANCE


def _calibration_walk_offline(rec: LegRecording, motion: np.ndarray, config: SegmentCalibrationConfig,
                              thigh_sampling: GyroSampling, shank_sampling: GyroSampling) -> LegRecording:
    """``rec``'s rows up to the end of the calibration walk (the knee axes' fit window), both sensors
    fused again there with the offline filter: the knee's mid-stance reference inclination of a
    causal filter. A causal filter started mid-walk (no standing) settles its inclination over the
    first seconds to tens of seconds — its accelerometer time constant (VQF 3 s) times the gyroscope
    bias it has not learnt yet — and that error, averaged over the reference samples, stayed in
    the knee as an offset (live calibrates on the first seconds of walking). Fused again once over
    the walk already buffered, the calibration is still causal for every sample after it."""
    n = calibration_walk_rows(motion, rec.rate_hz, config)
    q_thigh, q_shank = (make_filter(FilterKind.VQF_OFFLINE, FusionSettings(sample_period_s=1.0 / rec.rate_hz,
                                                                           gyr_sampling=sampling))
                        .estimate(gyr[:n], acc[:n]).q_world_sensor
                        for gyr, acc, sampling in ((rec.gyr_thigh_radps, rec.acc_thigh_mps2, thigh_sampling),
                                                   (rec.gyr_shank_radps, rec.acc_shank_mps2, shank_sampling)))
    return LegRecording(rec.t_s[:n], q_thigh, q_shank, rec.gyr_thigh_radps[:n], rec.gyr_shank_radps[:n],
                        rec.acc_thigh_mps2[:n], rec.acc_shank_mps2[:n], rec.rate_hz, rec.first_row)
