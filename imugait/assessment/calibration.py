"""Sensor-to-segment calibration shared by every protocol of a session (:class:`BatteryCalibration`).

The functional calibration of :mod:`imugait.calibration.segment` needs quiet standing (each
segment's long axis from gravity) and knee motion (the knee axes). In a battery the walking test
provides both, so the session is fused once, each leg is calibrated once on the walking test's
standing and walking, and every other protocol reads segment orientations from the result:

* the knee axes are fitted to walking (their sign rules come from gait);
* the thigh–shank heading offset is re-tracked over *all* knee motion of the session (walking,
  knee bends, squats), so it stays valid in the later protocols;
* the facing direction (for femur rotation in standing) is the walking direction of the first
  straight bout, in the thigh sensor's world frame.

A standalone prone test (no walking in the session) is calibrated from the prone test itself
(:mod:`imugait.assessment.prone`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.analysis.legs import calibrate_fused_leg, fuse_for_legs, leg_sides, require_leg
from imugait.assessment.steps import Protocol, parse_step, protocol_steps, step_mask
from imugait.calibration.heading import track_heading_offset
from imugait.calibration.periods import PeriodConfig, motion_mask, standing_mask
from imugait.calibration.segment import LegAlignment, SegmentCalibrationConfig
from imugait.calibration.still import StillConfig, still_mask
from imugait.conventions import Joint, Placement, Segment, Side, joint_angles_rad
from imugait.errors import CalibrationError
from imugait.fusion.settings import FilterKind
from imugait.kinematics.angles import segment_orientations
from imugait.kinematics.prepare import FusedSession
from imugait.kinematics.progression import find_progression
from imugait.model import Session


@dataclass(frozen=True)
class BatteryCalibrationConfig:
    filter_kind: FilterKind = FilterKind.VQF_OFFLINE
    periods: PeriodConfig = field(default_factory=PeriodConfig)
    segment: SegmentCalibrationConfig = field(default_factory=SegmentCalibrationConfig)
    still: StillConfig = field(default_factory=StillConfig)


@dataclass(frozen=True, eq=False)
class LegCalibration:
    """One leg: the calibration, the heading offset over the whole grid, the facing direction."""

    side: Side
    alignment: LegAlignment
    heading_offset_rad: np.ndarray
    """(M,) shank sensor world → thigh sensor world, about world z, over the session grid."""
    facing_heading_rad: float | None
    """Walking direction of the first straight bout (thigh sensor world), None without walking."""


@dataclass(frozen=True, eq=False)
class LegFrames:
    """Anatomical frames of one leg on the grid, both in the thigh sensor's world frame."""

    side: Side
    q_world_thigh: np.ndarray
    """(M, 4) scalar first."""
    q_world_shank: np.ndarray

    @cached_property
    def r_world_thigh(self) -> Rotation:
        return Rotation.from_quat(self.q_world_thigh, scalar_first=True)

    @cached_property
    def r_world_shank(self) -> Rotation:
        return Rotation.from_quat(self.q_world_shank, scalar_first=True)

    @cached_property
    def knee_deg(self) -> np.ndarray:
        """(M, 3) knee flexion, adduction (varus +), internal rotation, degrees."""
        return np.rad2deg(joint_angles_rad(self.q_world_thigh, self.q_world_shank, Joint.KNEE, self.side))

    def axis(self, segment: Segment, axis: int) -> np.ndarray:
        """(M, 3) world direction of a segment axis (0 X anterior, 1 Y superior, 2 Z right)."""
        r = self.r_world_thigh if segment is Segment.THIGH else self.r_world_shank
        return r.apply(np.eye(3)[axis])


@dataclass(frozen=True, eq=False)
class BatteryCalibration:
    """The session fused once and both legs calibrated once; passed to every protocol."""

    session: Session
    fused: FusedSession
    legs: dict[Side, LegCalibration]
    reference: str
    """Which standing period is the anatomical reference (a step name, or ``automatic``)."""
    config: BatteryCalibrationConfig
    warnings: tuple[str, ...] = ()

    @property
    def t_s(self) -> np.ndarray:
        return self.fused.t_s

    @property
    def rate_hz(self) -> float:
        """The sample rate of the grid :attr:`t_s`, Hz."""
        return self.fused.rate_hz

    @cached_property
    def _frames(self) -> dict[Side, LegFrames]:
        out = {}
        for side, leg in self.legs.items():
            a = self.fused.sensors[Placement.of(Segment.THIGH, side)]
            b = self.fused.sensors[Placement.of(Segment.SHANK, side)]
            q_thigh, q_shank = segment_orientations(
                a.q_world_sensor, b.q_world_sensor, leg.alignment.thigh.q_sensor_segment,
                leg.alignment.shank.q_sensor_segment, leg.heading_offset_rad,
            )
            out[side] = LegFrames(side, q_thigh, q_shank)
        return out

    def frames(self, side: Side) -> LegFrames:
        return self._frames[side]

    def frames_anchored(self, side: Side, standing_idx: np.ndarray) -> LegFrames:
        """:meth:`frames` with the thigh–shank heading offset re-anchored on a standing period.

        The offset is re-tracked only while the knee moves briskly (walking); slow protocols after
        lying down and standing up can leave it several degrees off, which shows as knee rotation
        in standing and, with the knee bent, as varus/valgus. Standing straight, the knee is locked
        in extension (screw-home), so its axial rotation is taken to be what it was in the
        reference standing: the offset is shifted by the difference over ``standing_idx`` (grid
        indices), for use near that standing (e.g. the repetitions that follow it).
        """
        frames = self.frames(side)
        target = frames.knee_deg[self.reference_mask, 2].mean() if self.reference_mask.any() else 0.0
        shift_rad = np.deg2rad(frames.knee_deg[standing_idx, 2].mean() - target)
        leg = self.legs[side]
        a = self.fused.sensors[Placement.of(Segment.THIGH, side)]
        b = self.fused.sensors[Placement.of(Segment.SHANK, side)]
        q_thigh, q_shank = segment_orientations(
            a.q_world_sensor, b.q_world_sensor, leg.alignment.thigh.q_sensor_segment,
            leg.alignment.shank.q_sensor_segment, leg.heading_offset_rad - side.mirror * shift_rad,
        )
        return LegFrames(side, q_thigh, q_shank)

    def standing_femur_rotation_deg(self, side: Side) -> float | None:
        """The femur's internal rotation relative to the facing direction in the reference standing
        (None without a facing direction). Other protocols use it to recover the direction the
        person faces from the thigh's own heading (the two differ by this rotation)."""
        from imugait.assessment.measures import facing_rotation_deg

        leg = self.legs[side]
        if leg.facing_heading_rad is None or not self.reference_mask.any():
            return None
        return float(facing_rotation_deg(self.frames(side).q_world_thigh[self.reference_mask], leg.facing_heading_rad, side).mean())

    def facing_heading_rad(self, side: Side, idx: np.ndarray) -> tuple[float, bool]:
        """The direction the person faces while standing at grid samples ``idx`` (heading about z in
        the thigh sensor's world, rad), and whether it is known: the thigh's heading less its
        standing rotation from the reference standing. Without that rotation (no facing direction)
        the thigh's own heading is returned with ``False`` — it mixes a rotated femur's offset in."""
        from imugait.assessment.measures import heading_rad

        standing_rotation = self.standing_femur_rotation_deg(side)
        heading = heading_rad(self.frames(side).axis(Segment.THIGH, 0)[idx])
        return heading - side.mirror * np.deg2rad(standing_rotation or 0.0), standing_rotation is not None

    @cached_property
    def reference_mask(self) -> np.ndarray:
        """(M,) bool: the reference standing step (trimmed), or all False."""
        steps = [s for s in self.session.meta.steps if s.name == self.reference]
        if not steps:
            return np.zeros(self.t_s.shape, dtype=bool)
        return step_mask(self.t_s, steps[0], self.config.periods.standing_trim_s)

    def still(self, side: Side) -> np.ndarray:
        """(M,) bool: thigh and shank sensors of ``side`` both still."""
        out = np.ones(self.t_s.shape, dtype=bool)
        for segment in (Segment.THIGH, Segment.SHANK):
            s = self.fused.sensors[Placement.of(segment, side)]
            out &= still_mask(self.t_s, s.acc_mps2, s.gyr_radps, self.config.still, self.rate_hz)
        return out


def fuse(session: Session, config: BatteryCalibrationConfig | None = None) -> FusedSession:
    """Fuse every sensor once on one grid (:func:`~imugait.analysis.legs.fuse_for_legs`);
    gyroscope biases from the quiet standing of the walking test when there is one (as the walking
    analysis does), else the filter's own estimate."""
    config = config or BatteryCalibrationConfig()
    require_leg(session, "the assessment")
    reference = _reference_steps(session)
    steps = [replace(reference[0], name="stand")] if reference else None
    return fuse_for_legs(session, config.filter_kind, None, steps, config.periods).fused


def _reference_steps(session: Session) -> list:
    """The walking test's standing steps (``walking:stand_start`` first)."""
    return [s for s in protocol_steps(session.meta.steps, Protocol.WALKING) if parse_step(s.name)[1].startswith("stand")]


def calibrate_battery(
    session: Session, fused: FusedSession | None = None, config: BatteryCalibrationConfig | None = None,
    alignments: dict[Side, LegAlignment] | None = None,
) -> BatteryCalibration:
    """Calibrate every leg of ``session`` on its walking test (see the module docstring).

    ``alignments``: legs already calibrated on this session's walking test (e.g. by an earlier
    check of the guided run, whose session has since grown) are reused instead of fitted again;
    their heading offset is still re-tracked over the whole session.

    Raises
    ------
    CalibrationError
        No walking test or no quiet standing in the session, or no leg could be calibrated (each
        leg's reason is in the message).
    """
    config = config or BatteryCalibrationConfig()
    fused = fused or fuse(session, config)
    t = fused.t_s
    walking = np.zeros(t.shape, dtype=bool)
    for step in protocol_steps(session.meta.steps, Protocol.WALKING):
        walking |= step_mask(t, step)
    reference_steps = _reference_steps(session)
    reference = reference_steps[0].name if reference_steps else "automatic"
    legs, failures, warnings = {}, [], []
    for side in leg_sides(session):
        a = fused.sensors[Placement.of(Segment.THIGH, side)]
        b = fused.sensors[Placement.of(Segment.SHANK, side)]
        pairs = [(a.acc_mps2, a.gyr_radps), (b.acc_mps2, b.gyr_radps)]
        standing = standing_mask(t, pairs, [replace(s, name="stand") for s in reference_steps[:1]], config.periods,
                                 fused.rate_hz)
        moving = motion_mask(t, b.gyr_radps, config.periods, fused.rate_hz)
        if not walking.any():
            raise CalibrationError(
                "no walking test in this session to calibrate the sensors on: record the walking test "
                "(stand still 5 s, then walk) in the same session, or run the prone test on its own"
            )
        try:
            leg = calibrate_fused_leg(fused, side, standing, moving & walking, config.segment, (alignments or {}).get(side))
        except CalibrationError as exc:
            failures.append(str(exc))
            continue
        # Re-track the heading offset over every knee motion of the session, not only walking.
        track = track_heading_offset(leg.recording, moving, leg.alignment.axes)
        alignment = replace(leg.alignment, heading=track)
        q_thigh, _ = leg.orientations(track.heading_offset_rad)
        progression = find_progression(t, q_thigh, moving & walking, side=side, rate_hz=fused.rate_hz)
        facing = progression.bouts[0].heading_rad if progression.bouts else None
        if facing is None:
            warnings.append(f"{side.value} leg: no straight walking bout, so the facing direction is unknown")
        legs[side] = LegCalibration(side, alignment, track.heading_offset_rad, facing)
    if not legs:
        raise CalibrationError("; ".join(failures))
    return BatteryCalibration(session, fused, legs, reference, config, tuple(warnings + failures))
