"""Sensor-to-segment calibration without trusting how a sensor was strapped on.

For each leg, in each sensor's own frame:

* gravity while standing upright gives each segment's Y axis (superior);
* a hinge fit on the two gyroscopes (Seel, Raisch & Schauer 2014, Sensors 14:6891) gives a first
  knee axis ``j_thigh``, ``j_shank``: the angular rates perpendicular to a hinge axis agree on
  both sides of it; it also runs the plausibility checks (motion, hinge residual, swapped
  sensors, axis tilt);
* the heading offset between the two sensors' 6-axis world frames comes from the knee centre's
  acceleration seen from both sensors (:mod:`imugait.calibration.joint_centre`; optionally the
  centre moving on the thigh sensor with knee flexion, as a sensor on soft tissue slides,
  ``SegmentCalibrationConfig.centre_moves_with_flexion``), tracked over the recording
  (:mod:`imugait.calibration.heading`);
* with that heading, the flexion axis — perpendicular to the thigh's Y — is fitted to the
  two-axis knee constraint with the shank's Y as the tibial rotation axis
  (:func:`~imugait.calibration.knee_axes.fit_flexion_axis`; optionally over the samples with the
  knee near straight only, ``SegmentCalibrationConfig.flexion_axis_max_knee_flexion_deg``: a
  thigh sensor turns on the soft tissue about the femur as the knee flexes), then turned back by the lean the
  knee's normative secondary motion gives that fit (:mod:`imugait.calibration.secondary_motion`);
  it is the thigh's Z (right). That turn of the thigh sensor is measured from its own rate and
  removed before the fit, and the frame set where the sensor sits on average over the walking
  (:mod:`imugait.calibration.thigh_soft_tissue`, ``SegmentCalibrationConfig.compensate_thigh_turn``).

The hinge fit (:mod:`imugait.calibration.hinge`) signs its axes by gait: the shank swings forward
fastest in mid-swing, and thigh and shank swing together at the lag of best fit
(:mod:`imugait.calibration.swing`). On the knee-centre path the thigh's axis is then signed so that
both are one axis pointing one way in the common frame — a rule that holds on any hinge. When the
knee centre's accelerations fit both ways the sensors could face each other, walking's swing picks
the fit (cross-checked against the signed hinge axes); failing that the rates decide the heading
(the two-axis model of :func:`~imugait.calibration.knee_axes.fit_knee_axes`, or the hinge axes),
then the swing alone, and the calibration refuses when none of them can tell (``HeadingSource``).

Standing upright is the anatomical reference: deviations of the knee from a hinge that already
exist while standing (static varus/valgus) are absorbed into the shank frame; dynamic ones are
measured (``docs/calibration.md`` says so).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.calibration.heading import (
    HeadingConfig,
    HeadingTrack,
    track_heading_offset,
    track_heading_offset_from_axes,
    track_heading_offset_from_centre,
)
from imugait.calibration.hinge import HingeFit, fit_hinge_axes
from imugait.calibration.joint_centre import FlexionAxes, JointCentre, fit_joint_centre
from imugait.calibration.knee_axes import (
    KneeAxes,
    fit_flexion_axis,
    fit_knee_axes,
    heading_offset_from_axes,
    hinge_rate_mismatch_radps,
    knee_flexion_rad,
)
from imugait.calibration.pose import pose_axes
from imugait.calibration.recording import LegRecording
from imugait.calibration.reference_pose import (
    ReferencePose,
    knee_inclination,
    reference_sums,
    segment_quaternions,
)
from imugait.calibration.secondary_motion import flexion_range_rad, remove_expected_offset
from imugait.calibration.swing import MAX_SWING_LAG_S, Swing
from imugait.calibration.thigh_soft_tissue import (
    ThighTurn,
    knee_flexion_and_rate,
    remove_thigh_turn,
    thigh_tilt_with_flexion,
    thigh_turn_with_flexion,
)
from imugait.conventions import Placement, Side
from imugait.errors import CalibrationError, ValidationError
from imugait.quaternion import compose_rotations


@dataclass(frozen=True)
class SegmentCalibrationConfig:
    """Thresholds of the sensor-to-segment calibration (units in the names)."""

    max_fit_samples: int = 4000
    """The hinge fit uses at most this many samples (evenly spread) — enough, and fast."""
    min_motion_rms_radps: float = 0.6
    """Below this RMS knee-flexion rate in the motion data the axis cannot be identified."""
    max_relative_residual: float = 0.45
    """Hinge-fit residual RMS over motion RMS above which the leg is not moving as a hinge."""
    max_axis_tilt_deg: float = 30.0
    """How far the knee axis may be from horizontal while standing."""
    min_motion_s: float = 3.0
    """At least this much knee motion is needed."""
    max_axis_refinement_deg: float = 45.0
    """The two-axis refinement of the flexion axis is kept only this close to the hinge axis (it
    legitimately moves it by 10–25°; on a near-pure hinge it can land 90° off)."""
    max_motion_s: float = 60.0
    """The knee axes are fitted to the first this-many seconds of motion (enough, and fast)."""
    correct_secondary_motion: bool = True
    """Subtract from the fitted flexion axis the turn about the femur that the knee's normative
    secondary motion (flexion-coupled ab/adduction, bone-measured range) gives the fit
    (:mod:`imugait.calibration.secondary_motion`, scaled to the measured flexion range). Only on
    the joint-centre path, where the one-angle fit runs. Off for a joint without that motion (a
    mechanical hinge)."""
    min_heading_contrast: float = 1.5
    """How much better the found heading offset between the two sensors must explain the data than
    the one 180° from it (ratio of costs): the joint centre's acceleration is used when it passes
    this, else the angular rates, else the swing of walking (``min_swing_correlation``)."""
    min_thigh_forward_ratio: float = 1.0
    """… and when the thigh, with its axis signed by that swing, swings forward faster than back
    (:func:`~imugait.calibration.swing.forward_backward_ratio`): two independent sign rules must
    agree (real walks: MPU-9250 1.31–2.3, HuGaDB 01_00 1.09; a thigh paired with the other leg's
    shank about 0.7 on the simulator)."""
    max_centre_swing_disagreement_deg: float = 45.0
    """When walking's swing picks which of the knee centre's two fits to use, that fit's heading
    must lie this close to the heading of the gait-signed hinge axes (which soft tissue and the
    knee's secondary motion bias by some degrees), else the rates and the swing are used alone."""
    flexion_axis_max_knee_flexion_deg: float | None = None
    """When given, the flexion axis (its direction about the femur) is fitted only to the samples
    with the knee flexed at most this much from standing (at least the 30 % least flexed,
    :data:`~imugait.calibration.knee_axes.MIN_LOW_FLEXION_SHARE`); None (default): all samples.
    A thigh sensor turns on the soft tissue about the femur with knee flexion (Bonci et al. 2014,
    Barré et al. 2017), and the more the knee is flexed the more of that turn the constraint reads
    as the axis. 20 halves that on the simulator with the literature artefact and makes the real
    MPU-9250 hip rotation more repeatable, but weights the stance, where a dynamic valgus the
    normative correction does not model leans the axis: without the artefact the simulator's
    hip rotation gets worse (``docs/calibration.md``, *Soft tissue and the flexion-axis fit*).
    The secondary-motion correction is evaluated with the same limit."""
    midstance_flexion_axis_max_knee_flexion_deg: float | None = 20.0
    """``flexion_axis_max_knee_flexion_deg`` for a leg calibrated against its mid-stance (no standing
    period, :meth:`for_midstance_reference`). There the limit helps with or without soft tissue
    on the simulator: 2-pass 10-m walks without standing, per-walk hip error 1.82 / 2.90 / 3.27°
    → 0.52 / 1.75 / 2.25° (median / 95th pct / worst of 80 legs), with the literature artefact
    3.04 / 7.77 / 9.20° → 2.82 / 5.76 / 8.42° (``docs/calibration.md``)."""
    compensate_thigh_turn: bool = True
    """Measure the thigh sensor's turn on the soft tissue about the femur with knee flexion (the
    slope of its rate about the thigh's long axis on the knee-flexion rate,
    :mod:`imugait.calibration.thigh_soft_tissue`), remove it before the flexion-axis fit, and set
    the thigh's frame where the sensor sits on average over the walking. Only on the joint-centre
    path. Without such a turn the slope is near zero and little changes; with the simulator's
    literature artefact the hip rotation's tail shrinks (``docs/calibration.md``, *Soft tissue
    and the flexion-axis fit*). The slope and the mean turn are reported
    (``AlignmentQuality.thigh_turn_per_knee_flexion``, ``thigh_walking_turn_deg``)."""
    compensate_thigh_tilt: bool = True
    """With ``compensate_thigh_turn``: also measure the thigh sensor's frontal-plane tilt on the soft
    tissue with knee flexion (the slope of its rate about the thigh's anterior axis on the
    knee-flexion rate, less the femur's own on normative gait:
    :func:`~imugait.calibration.thigh_soft_tissue.thigh_tilt_with_flexion`) and remove it before
    the flexion-axis fit, which reads a tilt of k rad per rad of flexion as a turn of the axis
    about the femur by about k rad (2.5 × the sensor's mean tilt over the walking). The frame's
    own tilt is left at standing (it does not enter hip rotation). On the simulator with the
    literature artefact, hip rotation RMSE over 4° in 20 → 8 of 80 legs (``docs/accuracy.md``)."""
    midstance_compensate_thigh_turn: bool = True
    """``compensate_thigh_turn`` (and with it ``compensate_thigh_tilt``) for a leg calibrated against
    its mid-stance (:meth:`for_midstance_reference`), within that path's flexion limit
    (``midstance_flexion_axis_max_knee_flexion_deg``). On the simulator's 2-pass 10-m walks without
    standing, with the literature artefact, the calibration's thigh frame was most of the hip-rotation
    error without it: hip rotation RMSE over 4° in 27 → 7 of 80 legs (seed 7: 31 → 10), about what
    the same short walk gives with a standing reference; without the artefact 0 legs over 3° either
    way (``docs/accuracy.md``, *The hip-rotation error of the 10-m walk, split*). It was off until
    2026-12-06, when a screening before the tilt compensation had found nothing gained."""
    centre_moves_with_flexion: bool = False
    """Fit the knee centre as moving on the thigh sensor linearly with knee flexion (the soft
    tissue's slide and turn of the sensor on the femur; :mod:`imugait.calibration.joint_centre`),
    not fixed: the heading offset between thigh and shank it gives is then not biased by that
    motion. On the simulator with the literature artefact the heading's error fell from 1.60 /
    4.72 / 5.54° to 0.52 / 1.32 / 1.58° (median / 95th pct / worst of 80 legs) and hip rotation
    RMSE over 4° from 8 legs to 1; without the artefact nothing crossed a target. Not the default:
    on the real MPU-9250 walks it moved the mean hip rotation by +3.1° (median, 65 of 66 legs) and
    made it less repeatable across a leg's walks (2.4° → 2.8° median SD, 14 of 20 legs worse)
    (``docs/accuracy.md``, *The knee-centre heading with the thigh sensor's slide*)."""
    shank_axis_weight: float = 0.0
    """Weight (0–1) of the shank's hinge axis, carried into the thigh sensor at standing, in the
    thigh's flexion axis; the fitted axis has the rest. The shank's axis sees less soft tissue
    than the thigh's fit, but carries the knee's secondary motion uncorrected: on the simulator
    0.5 brings the per-walk hip-rotation error down with the literature artefact and up without it
    (``docs/accuracy.md``, *Thigh axis from the shank*). 0 (default): the fitted axis alone. The
    angle between the two is reported either way (``AlignmentQuality.thigh_axis_cross_check_deg``)."""
    pose_fallback: bool = True
    """When the two sensors do not fit one hinge (residual or axis tilt), calibrate each segment
    from the pose and its own swing (:mod:`imugait.calibration.pose`) instead of refusing — if
    walking signs the axes (``min_swing_correlation``, ``min_thigh_forward_ratio``). The result
    says so and its calibration quality is poor."""
    pose_only: bool = False
    """Calibrate every leg pose-only (benchmarks measure the fallback's own errors with it)."""
    min_swing_correlation: float = 0.4
    """When neither the joint centre nor the rates tell which way the two sensors face each other
    (a walk with little but sagittal motion, as the real MPU-9250 10-m walks), walking does: thigh
    and shank swing forward together in swing and back together in stance. Used when the lagged
    correlation of their flexion rates (:mod:`imugait.calibration.swing`; 0.7–0.9 on those walks)
    is at least this; below it the thigh does not swing with the shank and the calibration refuses."""

    knee_inclination_from_orientation: bool = False
    """Incline the shank's reference frame relative to the thigh's (about the knee's flexion axis)
    as the fused orientations have them, not as the accelerometers' means over the reference
    samples: the shank's frame turns by the difference between the two segments' inclinations
    from the accelerometer to the filter's gravity direction; the thigh's frame is left as it is.
    The accelerometer's mean is gravity only while still (standing). In a reference taken in
    motion (mid-stance, :meth:`for_midstance_reference`) it also holds each segment's own
    acceleration, which differs between thigh and shank in the sagittal plane (each turns about
    its own pivot) and so becomes a knee-flexion offset: on the real Kiel pp054 walk the shank's
    mean mid-stance specific force leant 7.8° from the filter's gravity (the thigh's 2.4°) and the
    knee read 18.6° at the mid-stance it is referred to at 10.2° (:meth:`for_midstance_reference`).
    Only the knee's sagittal
    reference is taken from the filters: turning the thigh's frame as well (each segment's up
    inclined as its filter has it) changed hip rotation — slightly worse on the simulator with
    soft tissue, and 40 of 126 strides of a real HuGaDB leg became femur-rotation outliers — and
    taking the whole up from the filters worsened the simulator's knee adduction tail
    (docs/validation.md)."""

    def for_midstance_reference(self) -> SegmentCalibrationConfig:
        """This configuration for a leg calibrated against its mid-stance instead of standing: the
        knee's reference inclination from the orientations (with a causal filter, from the
        calibration walk fused again offline: :func:`imugait.analysis.legs.calibrate_fused_leg_upright`)."""
        return replace(self, flexion_axis_max_knee_flexion_deg=self.midstance_flexion_axis_max_knee_flexion_deg,
                       compensate_thigh_turn=self.midstance_compensate_thigh_turn,
                       knee_inclination_from_orientation=True)

    def __post_init__(self) -> None:
        if not 0.0 <= self.shank_axis_weight <= 1.0:
            raise ValidationError(f"shank_axis_weight must be within 0..1, got {self.shank_axis_weight!r}")


class HeadingSource(Enum):
    """What fixed the heading offset between the thigh and shank sensors' world frames."""

    KNEE_CENTRE = "knee centre"
    """The knee centre's acceleration seen from both sensors."""
    KNEE_RATES = "knee rates"
    """The angular rates perpendicular to the knee's hinge axis (non-sagittal motion, turns)."""
    KNEE_CENTRE_SWING = "knee centre, way from gait swing"
    """The knee centre's acceleration, of its two fits 180° apart the one that walking's swing
    points to (the accelerations alone fit both about equally), cross-checked against the heading
    the signed hinge axes give."""
    GAIT_SWING = "gait swing"
    """The hinge axes signed by walking (thigh and shank swing together); the rates only refine."""
    POSE = "pose and each segment's swing"
    """No knee model: each segment's swing axis, lined up (:mod:`imugait.calibration.pose`) — the
    fallback when the sensors do not move as one hinge."""

    @property
    def words(self) -> str:
        """What fixed the heading, in a sentence for people (the value stays the JSON's term)."""
        if self is HeadingSource.KNEE_CENTRE_SWING:
            return "knee centre (of its two fits 180° apart, the one the walking swing points to)"
        return self.value


@dataclass(frozen=True)
class AlignmentQuality:
    """How well the data determined a leg's calibration.

    ``axis_fit_residual_radps``: RMS of the hinge-constraint residual; ``motion_rms_radps``: RMS of
    the knee-flexion rate in the data used; ``axis_tilt_deg``: angle of the knee axis from the
    horizontal while standing; ``n_fit_samples``: samples in the fit.
    """

    axis_fit_residual_radps: float
    motion_rms_radps: float
    axis_tilt_deg: float
    n_fit_samples: int
    two_axis_refined: bool = True
    """False when the two-axis refinement strayed from the hinge axis and the hinge axis was kept."""
    heading_contrast: float = float("nan")
    """How clearly the joint centre's acceleration fixes the thigh-shank heading offset (cost ratio
    of the opposite heading to the found one; below ``min_heading_contrast`` the rates were used)."""
    joint_centre_residual_mps2: float = float("nan")
    """RMS mismatch of the joint centre's acceleration seen from the two sensors."""
    heading_source: HeadingSource = HeadingSource.KNEE_RATES
    """What fixed the thigh-shank heading offset (tracked from the joint centre, else the rates)."""
    swing_correlation: float = float("nan")
    """Correlation of the thigh's and shank's low-passed flexion rates (walking: clearly positive)."""
    secondary_motion_offset_deg: float = 0.0
    """Expected turn of the fitted flexion axis about the femur from the knee's normative secondary
    motion, removed from the axis (+ = Z turned towards X); 0 when not corrected."""
    fallback_reason: str = ""
    """Why the regular calibration could not be used (pose-only fallback); empty otherwise."""
    thigh_axis_cross_check_deg: float = float("nan")
    """Turn about the thigh's long axis from the fitted flexion axis to the shank's hinge axis as
    the thigh sensor sees it while standing — two estimates of one axis (+ = towards the thigh's
    X); NaN for the pose-only fallback. Soft tissue on the thigh moves them apart by degrees."""
    thigh_turn_per_knee_flexion: float = float("nan")
    """The thigh sensor's measured turn about the thigh's long axis per unit of knee flexion (rad
    per rad, :mod:`imugait.calibration.thigh_soft_tissue`); NaN when not measured."""
    thigh_walking_turn_deg: float = 0.0
    """The mean of that turn over the fitted walking, by which the thigh's frame was turned from
    the standing pose (about the thigh's long axis, superior, right-handed); 0 when not compensated."""

    @property
    def heading_from_joint_centre(self) -> bool:
        return self.heading_source in (HeadingSource.KNEE_CENTRE, HeadingSource.KNEE_CENTRE_SWING)

    @property
    def relative_residual(self) -> float:
        return self.axis_fit_residual_radps / max(self.motion_rms_radps, 1e-9)


@dataclass(frozen=True)
class SegmentAlignment:
    """The anatomical frame of ``placement``'s segment in its sensor's frame.

    ``q_sensor_segment`` (4,), scalar first: ``q_world_segment = q_world_sensor ⊗ q_sensor_segment``.
    """

    placement: Placement
    q_sensor_segment: np.ndarray

    @property
    def r_sensor_segment(self) -> Rotation:
        return Rotation.from_quat(self.q_sensor_segment, scalar_first=True)


@dataclass(frozen=True)
class LegAlignment:
    thigh: SegmentAlignment
    shank: SegmentAlignment
    axes: KneeAxes
    """Functional knee axes (two-axis model) and the thigh-shank heading offset."""
    heading: HeadingTrack
    """Heading offset of the shank sensor's world frame relative to the thigh's, over the grid."""
    hinge_axis_shank: np.ndarray
    """(3,) best single hinge axis in the shank sensor frame (pointing right): the axis about
    which the shank's rate peaks forward in mid-swing, used to find gait events."""
    quality: AlignmentQuality
    joint_centre: JointCentre | None = None
    """Where the knee centre is from each sensor (and the heading offset it gave)."""
    reference: ReferencePose | None = None
    """What the segment frames took from the reference samples, as sums (None: not known, e.g. a
    calibration read from a file): a live leg referred to mid-stance adds its later mid-stances
    (:mod:`imugait.calibration.reference_pose`)."""

    @property
    def measures_femur_rotation(self) -> bool:
        """False for the pose-only fallback: a thigh swings about the hip's flexion axis, not about
        its own knee axis, so without a knee model its frame is set by the way it swings and the
        femur's rotation against that (hip rotation) is not measured."""
        return self.quality.heading_source is not HeadingSource.POSE


def retrack_heading(
    alignment: LegAlignment, rec: LegRecording, motion: np.ndarray, heading_config: HeadingConfig | None = None
) -> HeadingTrack:
    """The thigh-shank heading offset over ``rec`` (M samples; ``motion`` (M,) bool), tracked the
    way ``alignment`` was calibrated — from the knee centre's acceleration or from the rates — e.g.
    to follow it over other knee motion of the session than the calibration saw."""
    if alignment.quality.heading_from_joint_centre and alignment.joint_centre is not None:
        return track_heading_offset_from_centre(rec, motion, alignment.joint_centre, heading_config)
    if alignment.quality.heading_source is HeadingSource.POSE:
        return track_heading_offset_from_axes(rec, motion, alignment.axes.flexion_axis_thigh, alignment.hinge_axis_shank,
                                              alignment.axes.heading_offset_rad, heading_config)
    return track_heading_offset(rec, motion, alignment.axes, heading_config)


def calibrate_leg(
    thigh: Placement,
    shank: Placement,
    rec: LegRecording,
    standing: np.ndarray,
    motion: np.ndarray,
    config: SegmentCalibrationConfig | None = None,
    heading_config: HeadingConfig | None = None,
    inclination: LegRecording | None = None,
    axes_reference: np.ndarray | None = None,
) -> LegAlignment:
    """Calibrate one leg, and track the thigh-shank heading offset over the whole recording.

    Parameters
    ----------
    thigh, shank : placements of the two sensors (same side).
    rec : the leg's data on a grid.
    standing : (M,) bool, upright and still (the anatomical reference).
    motion : (M,) bool, knee motion (walking, knee bends); the knee axes are fitted to the first
        ``config.max_motion_s`` of it (:func:`fit_window`), the heading offset is tracked over all of it.
    inclination : the first K ≤ M rows of ``rec`` with other orientations, whose inclinations give
        the knee's reference inclination (``config.knee_inclination_from_orientation``) over the
        reference samples among those rows; None (or no reference sample among them): ``rec``'s
        own, over every reference sample.
    axes_reference : (M,) bool, the reference samples whose upward directions (gravity in each
        sensor) the knee axes are fitted with; None: every sample of ``standing``. The segment frames
        take every sample of ``standing`` either way.

    The thigh frame: Y from gravity while standing, Z from the functional flexion axis. The shank
    frame: Y from gravity while standing, Z from the thigh's flexion axis as the shank sees it
    while standing — so knee adduction and rotation are zero in the standing reference.

    Raises
    ------
    CalibrationError
        Too little knee motion, not a hinge (sensor loose or on another leg), thigh and shank
        swapped, or the knee axis far from horizontal while standing.
    """
    config = config or SegmentCalibrationConfig()
    leg = f"{thigh.value}/{shank.value}"
    dt = 1.0 / rec.rate_hz
    fit_mask = fit_window(motion, rec.rate_hz, config)
    if fit_mask.sum() * dt < config.min_motion_s:
        raise CalibrationError(
            f"{leg}: too little knee motion to find the knee axis ({fit_mask.sum() * dt:.1f} s of motion, need "
            f"{config.min_motion_s:g} s); walk for 10 s or bend the knee a few times"
        )
    if not standing.any():
        raise CalibrationError(f"{leg}: no standing period to calibrate against; stand still for a few seconds")
    up_rows = standing if axes_reference is None or not axes_reference.any() else axes_reference
    up1 = _unit(np.mean(rec.acc_thigh_mps2[up_rows], axis=0))
    up2 = _unit(np.mean(rec.acc_shank_mps2[up_rows], axis=0))
    hinge = fit_hinge_axes(rec.gyr_thigh_radps, rec.gyr_shank_radps, rec.rate_hz, fit_mask, config, up_thigh=up1)
    h1, h2, residual_rms, motion_rms = hinge.axis_thigh, hinge.axis_shank, hinge.residual_rms_radps, hinge.motion_rms_radps
    swing_correlation = hinge.swing.correlation
    walks_like_one_leg = _walks_like_one_leg(hinge.swing, hinge.thigh_forward_ratio, config)
    if motion_rms < config.min_motion_rms_radps:
        raise CalibrationError(
            f"{leg}: too little knee motion to find the knee axis (knee-flexion rate RMS "
            f"{motion_rms:.2f} rad/s, need {config.min_motion_rms_radps}); walk for 10 s or bend the knee a few times"
        )
    # Swing rates low-passed (swing.SWING_LOWPASS_HZ): a strap that lets a sensor shake (4–5 Hz on
    # the qmt example recording) must not make a thigh look like a shank.
    swing_thigh, swing_shank = hinge.swing_peak_thigh_radps, hinge.swing_peak_shank_radps
    if swing_thigh > 1.1 * swing_shank:
        raise CalibrationError(
            f"{leg}: the sensor given as the thigh swings faster ({swing_thigh:.1f} rad/s) than the "
            f"one given as the shank ({swing_shank:.1f} rad/s) — thigh and shank look swapped: exchange the two "
            f"sensors (for an imported recording, exchange thigh and shank in the import's --map)"
        )
    tilt = float(max(abs(90.0 - np.rad2deg(np.arccos(abs(np.dot(j, u))))) for j, u in ((h1, up1), (h2, up2))))
    no_hinge = _no_hinge_reason(leg, residual_rms, motion_rms, tilt, config)
    offset_deg, centre, turn = 0.0, None, None
    if no_hinge or config.pose_only:
        pose = pose_axes(rec, fit_mask, motion, up1, up2, heading_config)
        if no_hinge and not (config.pose_fallback and _walks_like_one_leg(pose.swing, pose.thigh_forward_ratio, config)):
            raise CalibrationError(no_hinge)
        axes, track, h2, refined, source = pose.axes, pose.track, pose.axis_shank, False, HeadingSource.POSE
        swing_correlation = pose.swing.correlation
    else:
        flexion_axes = FlexionAxes(up1, h1, up2, h2) if config.centre_moves_with_flexion else None
        centre = fit_joint_centre(rec, fit_mask, max_samples=config.max_fit_samples, flexion_axes=flexion_axes)
        from_centre = centre.heading_contrast >= config.min_heading_contrast
        source = HeadingSource.KNEE_CENTRE
        if not from_centre and walks_like_one_leg:
            centre, from_centre = _centre_by_swing(rec, fit_mask, hinge, centre, config)
            source = HeadingSource.KNEE_CENTRE_SWING
        if from_centre:
            axes, track, turn = _axes_from_joint_centre(rec, motion, fit_mask, h1, h2, up1, up2, centre, thigh.side, config,
                                                        heading_config)
            if config.correct_secondary_motion:
                axes, offset_deg = _remove_secondary_motion_offset(axes, rec, fit_mask, track, up1, up2, thigh,
                                                                   _max_flexion_rad(config))
            refined = True
        else:
            axes, refined, source = _axes_from_rotation(leg, rec, fit_mask, hinge, up2, walks_like_one_leg, config)
            track = track_heading_offset(rec, motion, axes, heading_config)
    r1 = Rotation.from_quat(rec.q_world_thigh_sensor[standing], scalar_first=True)
    r2 = Rotation.from_quat(rec.q_world_shank_sensor[standing], scalar_first=True)
    r_offset = Rotation.from_rotvec(np.outer(track.heading_offset_rad[standing], [0.0, 0.0, 1.0]))
    r2_common = compose_rotations(r_offset, r2)  # the shank sensor in the thigh's world while standing
    cross_check_deg = float("nan")
    if source is not HeadingSource.POSE:
        axes, cross_check_deg = _with_shank_axis(axes, r1, r2_common, h2, up1, config.shank_axis_weight)
    # The thigh's flexion axis seen from the shank sensor while standing (heading offset of then),
    # and the upward directions: sums over the reference (a live leg adds later mid-stances to them).
    sums = reference_sums(rec.t_s[standing], rec.q_world_thigh_sensor[standing], rec.q_world_shank_sensor[standing],
                          rec.acc_thigh_mps2[standing], rec.acc_shank_mps2[standing],
                          track.heading_offset_rad[standing], axes.flexion_axis_thigh)
    quality = AlignmentQuality(
        residual_rms, motion_rms, tilt, int(min(fit_mask.sum(), config.max_fit_samples)), refined,
        centre.heading_contrast if centre else float("nan"), centre.residual_rms_mps2 if centre else float("nan"),
        source, swing_correlation, offset_deg, no_hinge or ("pose only (forced)" if config.pose_only else ""),
        cross_check_deg,
        turn.turn_per_flexion if turn is not None else float("nan"),
        float(np.rad2deg(turn.mean_turn_rad)) if turn is not None else 0.0,
    )
    inclined = None
    if config.knee_inclination_from_orientation:
        # The thigh's frame stays (hip rotation, progression); the shank's turns about the flexion
        # axis by how much more the filter than the accelerometer inclines it, relative to the thigh.
        # The other orientations only where they hold reference samples (else the recording's own).
        source = inclination if inclination is not None and standing[:inclination.t_s.size].any() else rec
        ref = standing[:source.t_s.size]
        inclined = knee_inclination(source.acc_thigh_mps2[ref], source.acc_shank_mps2[ref],
                                    source.q_world_thigh_sensor[ref], source.q_world_shank_sensor[ref])
    reference = ReferencePose(sums, inclined)
    q_thigh, q_shank = segment_quaternions(reference, axes.flexion_axis_thigh)
    return LegAlignment(
        thigh=SegmentAlignment(thigh, q_thigh),
        shank=SegmentAlignment(shank, q_shank),
        axes=axes,
        hinge_axis_shank=h2,
        heading=track,
        quality=quality,
        joint_centre=centre,
        reference=reference,
    )


def fit_window(motion: np.ndarray, rate_hz: float, config: SegmentCalibrationConfig) -> np.ndarray:
    """(M,) bool: the first ``config.max_motion_s`` of ``motion`` (M,) bool at ``rate_hz``, the
    samples the knee axes are fitted to."""
    return motion & (np.cumsum(motion) * (1.0 / rate_hz) <= config.max_motion_s)


def calibration_walk_rows(motion: np.ndarray, rate_hz: float, config: SegmentCalibrationConfig) -> int:
    """The number of rows of ``motion`` (M,) bool up to the end of the calibration walk: up to the
    last row of :func:`fit_window` (M without one). A live leg calibrates on these rows (and the
    few after them it waits for to be final)."""
    fit = np.flatnonzero(fit_window(motion, rate_hz, config))
    return int(fit[-1]) + 1 if fit.size else motion.size


def _walks_like_one_leg(swing: Swing, thigh_forward_ratio: float, config: SegmentCalibrationConfig) -> bool:
    """Walking signs the thigh's axis: it swings with the shank within a stride's lag, forward
    faster than back (two independent sign rules agree)."""
    return (swing.correlation >= config.min_swing_correlation and not swing.at_window_edge
            and thigh_forward_ratio >= config.min_thigh_forward_ratio)


def _no_hinge_reason(leg: str, residual_rms: float, motion_rms: float, tilt_deg: float,
                     config: SegmentCalibrationConfig) -> str:
    """Why the two sensors cannot be calibrated as one hinge ('' when they can)."""
    if residual_rms / motion_rms > config.max_relative_residual:
        return (f"{leg}: thigh and shank do not move as a knee hinge (residual {residual_rms:.2f} rad/s "
                f"for {motion_rms:.2f} rad/s of motion) — a sensor is loose, or the two are not on the same leg")
    if tilt_deg > config.max_axis_tilt_deg:
        return (f"{leg}: the knee axis is {tilt_deg:.0f}° from horizontal in the standing period — was the "
                f"person standing upright and still, and are the sensors strapped firmly?")
    return ""


def _centre_by_swing(
    rec: LegRecording, fit_mask: np.ndarray, hinge: HingeFit, centre: JointCentre, config: SegmentCalibrationConfig
) -> tuple[JointCentre, bool]:
    """The knee centre's fit on the side walking's swing points to, and whether it agrees with the
    heading of the gait-signed hinge axes (``config.max_centre_swing_disagreement_deg``)."""
    r1 = Rotation.from_quat(rec.q_world_thigh_sensor[fit_mask], scalar_first=True)
    r2 = Rotation.from_quat(rec.q_world_shank_sensor[fit_mask], scalar_first=True)
    axes_heading = heading_offset_from_axes(r1.apply(hinge.axis_thigh), r2.apply(hinge.axis_shank))
    chosen = fit_joint_centre(rec, fit_mask, max_samples=config.max_fit_samples, heading_near_rad=axes_heading,
                              flexion_axes=centre.flexion_axes)
    disagreement_deg = np.rad2deg(abs(np.angle(np.exp(1j * (chosen.heading_offset_rad - axes_heading)))))
    if disagreement_deg > config.max_centre_swing_disagreement_deg:
        return centre, False
    return chosen, True


def _axes_from_joint_centre(
    rec: LegRecording,
    motion: np.ndarray,
    fit_mask: np.ndarray,
    h1: np.ndarray,
    h2: np.ndarray,
    up1: np.ndarray,
    up2: np.ndarray,
    centre: JointCentre,
    side: Side,
    config: SegmentCalibrationConfig,
    heading_config: HeadingConfig | None,
) -> tuple[KneeAxes, HeadingTrack, ThighTurn | None]:
    """Knee axes with the heading offset tracked from the joint centre's acceleration; and the
    thigh sensor's turn with knee flexion that was removed (``config.compensate_thigh_turn``)."""
    track = track_heading_offset_from_centre(rec, motion, centre, heading_config)
    # One physical axis points one way in the common frame — a rule that holds on any hinge (the
    # hinge fit signs its axes by gait, which a mechanical joint need not follow).
    r1 = Rotation.from_quat(rec.q_world_thigh_sensor[fit_mask], scalar_first=True)
    r2 = Rotation.from_quat(rec.q_world_shank_sensor[fit_mask], scalar_first=True)
    r_offset = Rotation.from_rotvec(np.outer(track.heading_offset_rad[fit_mask], [0.0, 0.0, 1.0]))
    if np.mean(np.sum(r1.apply(h1) * compose_rotations(r_offset, r2).apply(h2), axis=1)) < 0:
        h1 = -h1
    q1, q2 = rec.q_world_thigh_sensor[fit_mask], rec.q_world_shank_sensor[fit_mask]
    w1, w2, heading = rec.gyr_thigh_radps[fit_mask], rec.gyr_shank_radps[fit_mask], track.heading_offset_rad[fit_mask]
    turn = None
    if config.compensate_thigh_turn:
        # The thigh sensor's turn on the soft tissue with knee flexion, measured from its own rate
        # (thigh_soft_tissue): removed before the fit, which would read it as the axis.
        axis, up = _unit(h1 - np.dot(h1, up1) * up1), _unit(up1)
        turn = thigh_turn_with_flexion(w1, up1, knee_flexion_and_rate(q1, q2, w1, w2, heading, up, up2, axis))
        q1, w1 = remove_thigh_turn(q1, w1, up1, turn)
        if config.compensate_thigh_tilt:
            # … and its frontal-plane tilt, which the fit reads as a turn of the axis about the femur.
            flexion = knee_flexion_and_rate(q1, q2, w1, w2, heading, up, up2, axis)
            tilt, anterior = thigh_tilt_with_flexion(q1, w1, up1, axis, flexion, side)
            q1, w1 = remove_thigh_turn(q1, w1, anterior, tilt)
    flexion_axis, constraint_rms = fit_flexion_axis(q1, q2, w1, w2, h1, up1, up2, heading, config.max_fit_samples,
                                                    _max_flexion_rad(config))
    if turn is not None:
        # The frame where the sensor sits on average over the walking, not where it sat standing.
        flexion_axis = Rotation.from_rotvec(-turn.mean_turn_rad * up1).apply(flexion_axis)
    return KneeAxes(flexion_axis, up2, centre.heading_offset_rad, constraint_rms), track, turn


def _with_shank_axis(
    axes: KneeAxes, r_world_thigh: Rotation, r_world_shank: Rotation, hinge_axis_shank: np.ndarray,
    up_thigh: np.ndarray, weight: float,
) -> tuple[KneeAxes, float]:
    """The thigh's flexion axis with ``weight`` of the shank's hinge axis carried into the thigh
    sensor over the standing samples (``r_world_*``: their orientations, the shank's in the
    thigh's world), kept perpendicular to the thigh's long axis; and the turn about that axis from
    the fitted axis to the carried one, deg."""
    fitted = axes.flexion_axis_thigh
    carried = np.mean(r_world_thigh.inv().apply(r_world_shank.apply(hinge_axis_shank)), axis=0)
    carried = _unit(carried - np.dot(carried, up_thigh) * up_thigh)
    if np.dot(carried, fitted) < 0:  # the hinge fit signs by gait, the fitted axis by the common frame
        carried = -carried
    turn_deg = float(np.rad2deg(np.arctan2(np.dot(np.cross(fitted, carried), up_thigh), np.dot(fitted, carried))))
    if weight == 0.0:
        return axes, turn_deg
    blended = _unit((1.0 - weight) * fitted + weight * carried)
    return KneeAxes(blended, axes.rotation_axis_shank, axes.heading_offset_rad, axes.residual_rms_radps), turn_deg


def _remove_secondary_motion_offset(
    axes: KneeAxes,
    rec: LegRecording,
    fit_mask: np.ndarray,
    track: HeadingTrack,
    up1: np.ndarray,
    up2: np.ndarray,
    thigh: Placement,
    max_flexion_rad: float | None,
) -> tuple[KneeAxes, float]:
    """The flexion axis with the normative secondary motion's expected offset removed, for the
    flexion range of the fitted data; and that offset, deg."""
    flexion = knee_flexion_rad(
        rec.q_world_thigh_sensor[fit_mask], rec.q_world_shank_sensor[fit_mask], track.heading_offset_rad[fit_mask],
        up1, up2, axes.flexion_axis_thigh,
    )
    axis, offset_rad = remove_expected_offset(axes.flexion_axis_thigh, up1, thigh.side, flexion_range_rad(flexion),
                                              max_flexion_rad)
    return KneeAxes(axis, axes.rotation_axis_shank, axes.heading_offset_rad, axes.residual_rms_radps), float(np.rad2deg(offset_rad))


def _axes_from_rotation(
    leg: str,
    rec: LegRecording,
    fit_mask: np.ndarray,
    hinge: HingeFit,
    up2: np.ndarray,
    walks_like_one_leg: bool,
    config: SegmentCalibrationConfig,
) -> tuple[KneeAxes, bool, HeadingSource]:
    """Knee axes and heading offset from angular rates alone (the joint centre hardly accelerates).

    The hinge's thigh axis comes signed by gait (:func:`fit_hinge_axes`); ``walks_like_one_leg``
    says whether that sign can be trusted (the thigh swings with the shank, forward faster than
    back). Returns the axes, whether the two-axis
    refinement was kept (else the hinge axes are), and what fixed the heading.

    Raises
    ------
    CalibrationError
        Neither the rates nor the swing of walking tell which way the two sensors face relative
        to each other.
    """
    h1, h2 = hinge.axis_thigh, hinge.axis_shank
    r1 = Rotation.from_quat(rec.q_world_thigh_sensor[fit_mask], scalar_first=True)
    r2 = Rotation.from_quat(rec.q_world_shank_sensor[fit_mask], scalar_first=True)
    w1, w2 = rec.gyr_thigh_radps[fit_mask], rec.gyr_shank_radps[fit_mask]
    # Sign the hinge axes so that they are one axis: of the two headings they imply (180° apart),
    # the right one makes the rates perpendicular to the hinge agree in the common frame. With a
    # horizontal axis and no motion but about the axis and the vertical the two are equally good.
    candidates = []
    for sign in (1.0, -1.0):
        delta = heading_offset_from_axes(r1.apply(sign * h1), r2.apply(h2))
        candidates.append((hinge_rate_mismatch_radps(r1, r2, w1, w2, h1, delta), sign, delta))
    (best, sign, delta), (other, _, _) = sorted(candidates)
    source = HeadingSource.KNEE_RATES
    if other < config.min_heading_contrast * best and walks_like_one_leg:
        # Mostly sagittal motion fits both headings; walking's swing signs the thigh's axis (h1).
        (_, sign, delta), source = next(c for c in candidates if c[1] > 0), HeadingSource.GAIT_SWING
    elif other < config.min_heading_contrast * best:
        raise CalibrationError(
            f"{leg}: the two sensors do not move like one knee that walks — their accelerations meet at "
            f"no common knee centre, and their rates fit both ways the sensors could face each other "
            f"({best:.2f} vs {other:.2f} rad/s), and the thigh does not swing with the shank as in walking "
            f"(correlation {hinge.swing.correlation:.2f} at {hinge.swing.lag_s:+.2f} s, need "
            f"{config.min_swing_correlation} within ±{MAX_SWING_LAG_S} s, forward/back swing "
            f"{hinge.thigh_forward_ratio:.2f}, need {config.min_thigh_forward_ratio}): are both on the same leg "
            f"and strapped firmly? (Walking is needed; the knee moving alone in place does not show this.)"
        )
    h1 = sign * h1
    try:
        axes = fit_knee_axes(
            rec.q_world_thigh_sensor[fit_mask], rec.q_world_shank_sensor[fit_mask], w1, w2, h1, h2, up2,
            max_samples=config.max_fit_samples, t_s=rec.t_s[fit_mask],
        )
        moved_deg = np.rad2deg(np.arccos(np.clip(np.dot(axes.flexion_axis_thigh, h1), -1.0, 1.0)))
        refined = moved_deg <= config.max_axis_refinement_deg
    except CalibrationError:  # no convergence: as ambiguous as straying
        refined = False
    if not refined:
        # On a knee that moves almost purely as a hinge the two-axis model is ambiguous and can
        # land far from the hinge axis: keep the hinge axis, with the heading offset it implies.
        axes = KneeAxes(h1, up2, delta, hinge.residual_rms_radps)
    return axes, refined, source


def _max_flexion_rad(config: SegmentCalibrationConfig) -> float | None:
    limit = config.flexion_axis_max_knee_flexion_deg
    return None if limit is None else float(np.deg2rad(limit))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
