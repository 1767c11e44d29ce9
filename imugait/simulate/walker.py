"""A walker: pelvis, thighs and shanks driven by normative gait curves plus clinical offsets.

All angles follow the sign table of ``docs/conventions.md``; segment frames are ISB (X anterior,
Y superior, Z right). :meth:`Walker.pose` evaluates the whole body at any instants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from imugait.conventions import (
    Joint,
    Segment,
    Side,
    pelvis_rotation_from_angles,
    progression_rotation,
    relative_rotation_from_angles,
)
from imugait.data import load_json
from imugait.errors import ValidationError
from imugait.simulate.curves import GaitCurves, normative_curves
from imugait.simulate.timeline import GRID_DT_S, TimelineSignals

SIDE_LIMITS_DEG = {"hip_rotation_offset_deg": 40.0, "knee_valgus_deg": 20.0, "knee_dynamic_valgus_deg": 20.0}
"""Largest magnitude of each per-leg offset the walker model is meant for (deg): beyond them the
body model leaves the range of the normative curves it is built on, and the segment
orientations stop being a plausible person."""


@dataclass(frozen=True)
class SideParams:
    """What a clinician varies per leg. Degrees because that is how people think of them.

    Raises ``ValidationError`` for an offset beyond :data:`SIDE_LIMITS_DEG` or a non-finite one.
    """

    hip_rotation_offset_deg: float = 0.0
    """Added to hip internal rotation (+ = more internally rotated femur), standing and walking."""
    knee_valgus_deg: float = 0.0
    """Static knee valgus (+ = knee caves in; knee adduction gets -this)."""
    knee_dynamic_valgus_deg: float = 0.0
    """Extra valgus in stance, peaking mid-stance (dynamic knee valgus)."""
    sagittal_scale: float = 1.0
    """Scales this leg's hip and knee flexion excursion (asymmetry)."""

    def __post_init__(self) -> None:
        for name, limit in SIDE_LIMITS_DEG.items():
            value = getattr(self, name)
            if not abs(value) <= limit:  # also refuses NaN
                raise ValidationError(f"walker: {name} {value:g} outside -{limit:g}..{limit:g}")
        if not 0.3 <= self.sagittal_scale <= 1.5:
            raise ValidationError(f"walker: sagittal_scale {self.sagittal_scale:g} outside 0.3..1.5")


@dataclass(frozen=True)
class WalkerParams:
    """A simulated person. Lengths in m, speed in m/s, cadence in steps/min."""

    height_m: float = 1.75
    speed_mps: float = 1.3
    cadence_spm: float = 110.0
    left: SideParams = field(default_factory=SideParams)
    right: SideParams = field(default_factory=SideParams)
    stride_time_cv: float = 0.02
    """Coefficient of variation of stride time."""
    angle_variability_deg: float = 1.0
    """SD of slow random deviations of every joint angle from its curve (stride to stride)."""
    standing_knee_flexion_deg: float = 0.0
    """Knee flexion while standing (the calibration pose asks for straight knees)."""
    heel_strike_knee_deg: float = 1.5
    """Size of the quick knee flexion at heel strike that the smoothed normative curves lack (the
    impact is what makes the shank's angular rate dip sharply at initial contact; Aminian et al.
    2002, J Biomech 35:689): a raised-cosine pulse, peak shank acceleration about 11 g. A modelling
    parameter, not a clinical norm."""
    heel_strike_time_s: float = 0.04
    """Duration of the heel-strike pulse."""
    stance_pct: float | None = None
    """Stance as % of the stride (initial contact to toe-off). None keeps the normative curves'
    timing (59 %); a slower, older walker has a longer stance: the curves are then time-warped
    smoothly so that their toe-off falls here (see :func:`stance_warp`)."""

    def __post_init__(self) -> None:
        checks = [
            (1.0 <= self.height_m <= 2.3, f"height_m {self.height_m} outside 1.0..2.3"),
            (0.2 <= self.speed_mps <= 2.5, f"speed_mps {self.speed_mps} outside 0.2..2.5"),
            (60.0 <= self.cadence_spm <= 160.0, f"cadence_spm {self.cadence_spm} outside 60..160"),
            (0.0 <= self.stride_time_cv <= 0.2, "stride_time_cv outside 0..0.2"),
            (self.stance_pct is None or 52.0 <= self.stance_pct <= 70.0, f"stance_pct {self.stance_pct} outside 52..70"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValidationError(f"walker: {message}")

    def side(self, side: Side) -> SideParams:
        return self.left if side is Side.LEFT else self.right

    @property
    def stride_time_s(self) -> float:
        return 120.0 / self.cadence_spm

    def segment_length_m(self, segment: Segment) -> float:
        fractions = load_json("anthropometry.json")["segment_length_fraction_of_height"]
        return fractions[segment.value]["value"] * self.height_m

    @property
    def hip_separation_m(self) -> float:
        fractions = load_json("anthropometry.json")["segment_length_fraction_of_height"]
        return 0.5 * fractions["hip_width"]["value"] * self.height_m

    @property
    def pelvis_height_m(self) -> float:
        fractions = load_json("anthropometry.json")["segment_length_fraction_of_height"]
        return fractions["hip_joint_height"]["value"] * self.height_m


@dataclass(frozen=True)
class Pose:
    """The body at ``t_s`` (N,): rotations are anatomical frames in the world, positions in m."""

    t_s: np.ndarray
    r_world: dict[tuple[Segment, Side | None], Rotation]
    origin_m: dict[tuple[Segment, Side | None], np.ndarray]
    """Proximal joint centre of each segment (pelvis: midpoint of the hip joint centres)."""
    r_world_progression: Rotation
    angles_rad: dict[tuple[Joint, Side], np.ndarray]
    """Driving joint angles (N, 3) flexion, adduction, rotation (sign table)."""


class Walker:
    """A walker following a timeline. Deterministic for a given ``rng`` state."""

    def __init__(
        self,
        params: WalkerParams,
        timeline: TimelineSignals,
        rng: np.random.Generator,
        curves: GaitCurves | None = None,
    ) -> None:
        self.params = params
        self.timeline = timeline
        self.curves = curves or normative_curves()
        # Slow random deviations of each driving angle: stride-to-stride variability.
        t = timeline.stride_phase.x
        self._wobble_angles = {}
        for joint in (Joint.HIP, Joint.KNEE):
            for side in Side:
                noise = gaussian_filter1d(
                    rng.standard_normal((t.size, 3)), sigma=0.5 * params.stride_time_s / GRID_DT_S, axis=0
                )
                noise *= np.deg2rad(params.angle_variability_deg) / np.maximum(noise.std(axis=0), 1e-12)
                self._wobble_angles[(joint, side)] = CubicSpline(t, noise)

    def leg_phase(self, t_s: np.ndarray, side: Side) -> np.ndarray:
        """Cumulative gait phase of ``side`` in cycles; integers are its initial contacts."""
        phase = self.timeline.stride_phase(t_s)
        return phase if side is Side.RIGHT else phase - 0.5

    @property
    def stance_fraction(self) -> float:
        """Toe-off as a fraction of the stride (``params.stance_pct``, else the curves')."""
        if self.params.stance_pct is None:
            return self.curves.toe_off_fraction
        return self.params.stance_pct / 100.0

    def curve_phase(self, phase: np.ndarray) -> np.ndarray:
        """The phase at which to read the normative curves for leg phase ``phase``."""
        if self.params.stance_pct is None:
            return phase
        return stance_warp(phase, self.stance_fraction, self.curves.toe_off_fraction)

    def joint_angles_rad(self, t_s: np.ndarray, joint: Joint, side: Side) -> np.ndarray:
        """Driving angles (N, 3) of ``joint`` on ``side``, rad, sign table."""
        p = self.params
        sp = p.side(side)
        c = self.curves
        w = np.clip(self.timeline.walking_weight(t_s), 0.0, 1.0)
        phase = self.leg_phase(t_s, side)
        curve_phase = self.curve_phase(phase)
        tilt_standing = c.mean_rad("pelvis_tilt")
        if joint is Joint.HIP:
            walking = np.stack(
                [
                    c.angles_rad("hip_flexion", curve_phase),
                    c.angles_rad("hip_adduction", curve_phase),
                    c.angles_rad("hip_rotation", curve_phase),
                ],
                axis=-1,
            )
            flex_mean = c.mean_rad("hip_flexion")
            walking[:, 0] = flex_mean + sp.sagittal_scale * (walking[:, 0] - flex_mean)
            # Standing: thigh vertical under a pelvis tilted as in gait on average.
            standing = np.array([tilt_standing, 0.0, 0.0])
            offset = np.array([0.0, 0.0, np.deg2rad(sp.hip_rotation_offset_deg)])
        else:
            walking = np.stack(
                [
                    c.angles_rad("knee_flexion", curve_phase),
                    c.angles_rad("knee_adduction", curve_phase),
                    c.angles_rad("knee_rotation", curve_phase),
                ],
                axis=-1,
            )
            walking[:, 0] *= sp.sagittal_scale
            since_contact_s = np.mod(phase, 1.0) * p.stride_time_s
            pulse = np.where(
                since_contact_s < p.heel_strike_time_s,
                0.5 * (1.0 - np.cos(2.0 * np.pi * since_contact_s / p.heel_strike_time_s)),
                0.0,
            )
            walking[:, 0] += np.deg2rad(p.heel_strike_knee_deg) * pulse
            stance = np.mod(phase, 1.0) / self.stance_fraction
            bump = np.where(stance < 1.0, np.sin(np.pi * np.clip(stance, 0.0, 1.0)) ** 2, 0.0)
            walking[:, 1] -= np.deg2rad(sp.knee_dynamic_valgus_deg) * bump
            standing = np.array([np.deg2rad(p.standing_knee_flexion_deg), 0.0, 0.0])
            offset = np.array([0.0, -np.deg2rad(sp.knee_valgus_deg), 0.0])
        angles = (1.0 - w)[:, None] * standing + w[:, None] * walking + offset
        return angles + w[:, None] * self._wobble_angles[(joint, side)](t_s)

    def pelvis_angles_rad(self, t_s: np.ndarray) -> np.ndarray:
        """Pelvis relative to the progression frame (N, 3): anterior tilt, obliquity (right up +),
        rotation (right forward +), rad."""
        c = self.curves
        w = np.clip(self.timeline.walking_weight(t_s), 0.0, 1.0)
        phase = self.curve_phase(self.leg_phase(t_s, Side.RIGHT))
        tilt_mean = c.mean_rad("pelvis_tilt")
        tilt = tilt_mean + w * (c.angles_rad("pelvis_tilt", phase) - tilt_mean)
        obliquity = w * c.angles_rad("pelvis_obliquity", phase)
        rotation = w * c.angles_rad("pelvis_rotation", phase)
        return np.stack([tilt, obliquity, rotation], axis=-1)

    def pose(self, t_s: np.ndarray) -> Pose:
        """Evaluate the body at the instants ``t_s`` (N,), s."""
        t_s = np.asarray(t_s, dtype=float)
        p = self.params
        tl = self.timeline
        heading = tl.heading_rad(t_s)
        r_prog = progression_rotation(heading)
        w = np.clip(tl.walking_weight(t_s), 0.0, 1.0)
        phase_r = self.leg_phase(t_s, Side.RIGHT)

        pelvis_angles = self.pelvis_angles_rad(t_s)
        r_world_pelvis = r_prog * pelvis_rotation_from_angles(pelvis_angles)

        xy = tl.position_xy_m(t_s)
        bob = 0.02 * w * np.cos(4.0 * np.pi * phase_r)  # two vertical oscillations per stride
        sway = 0.02 * w * np.sin(2.0 * np.pi * phase_r)  # towards the stance leg
        pelvis_origin = np.column_stack([xy, p.pelvis_height_m + bob]) + r_prog.apply(
            np.column_stack([np.zeros_like(sway), np.zeros_like(sway), sway])
        )
        angles = {}
        for side in Side:
            angles[(Joint.HIP, side)] = self.joint_angles_rad(t_s, Joint.HIP, side)
            angles[(Joint.KNEE, side)] = self.joint_angles_rad(t_s, Joint.KNEE, side)
        return chain_pose(p, t_s, r_world_pelvis, pelvis_origin, angles, r_prog)


def stance_warp(phase: np.ndarray, stance_fraction: float, curve_toe_off_fraction: float) -> np.ndarray:
    """Map leg phase to curve phase so that the curves' toe-off falls at ``stance_fraction``.

    ``q(p) = p - c sin(2 pi p) / (2 pi)`` within each cycle: smooth and periodic (initial contacts
    stay where they are), monotonic for ``|c| < 1``; ``c`` solves ``q(stance) = curve toe-off``.
    """
    c = 2.0 * np.pi * (stance_fraction - curve_toe_off_fraction) / np.sin(2.0 * np.pi * stance_fraction)
    if not abs(c) < 0.95:
        raise ValidationError(f"stance {100 * stance_fraction:.1f} % is too far from the curves' "
                              f"{100 * curve_toe_off_fraction:.1f} % to warp smoothly")
    return phase - c * np.sin(2.0 * np.pi * phase) / (2.0 * np.pi)


def chain_pose(
    params: WalkerParams,
    t_s: np.ndarray,
    r_world_pelvis: Rotation,
    pelvis_origin_m: np.ndarray,
    angles_rad: dict[tuple[Joint, Side], np.ndarray],
    r_world_progression: Rotation,
) -> Pose:
    """The body from the pelvis down: thighs and shanks chained by the joint angles (sign table).

    ``r_world_pelvis`` (N rotations) and ``pelvis_origin_m`` (N, 3) place the pelvis (midpoint of
    the hip joint centres); ``angles_rad`` holds (N, 3) hip and knee angles per side. Shared by the
    walker and the scripted postures of :mod:`imugait.simulate.body`.
    """
    p = params
    r_world = {(Segment.PELVIS, None): r_world_pelvis}
    origin = {(Segment.PELVIS, None): pelvis_origin_m}
    for side in Side:
        hip, knee = angles_rad[(Joint.HIP, side)], angles_rad[(Joint.KNEE, side)]
        r_thigh = r_world_pelvis * relative_rotation_from_angles(hip, Joint.HIP, side)
        r_shank = r_thigh * relative_rotation_from_angles(knee, Joint.KNEE, side)
        hip_centre = pelvis_origin_m + r_world_pelvis.apply([0.0, 0.0, side.mirror * 0.5 * p.hip_separation_m])
        knee_centre = hip_centre + r_thigh.apply([0.0, -p.segment_length_m(Segment.THIGH), 0.0])
        r_world[(Segment.THIGH, side)] = r_thigh
        r_world[(Segment.SHANK, side)] = r_shank
        origin[(Segment.THIGH, side)] = hip_centre
        origin[(Segment.SHANK, side)] = knee_centre
    return Pose(t_s=t_s, r_world=r_world, origin_m=origin, r_world_progression=r_world_progression, angles_rad=angles_rad)
