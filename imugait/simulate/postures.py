"""Postures and movements of the assessment protocols, scripted for :mod:`imugait.simulate.body`.

Each ``script_*`` function appends one protocol to a :class:`~imugait.simulate.body.ScriptBuilder`
and marks its protocol steps with the names the assessment reads (``posture``, ``walking:…``,
``supine``, ``supine:left``, ``prone:rest``, ``prone:left``, ``squat``, ``single_leg_squat:left``,
``balance:left`` …; ``balance:<side>`` and ``single_leg_squat:<side>`` name the *stance* leg). What each protocol asks of the person is in :mod:`imugait.assessment`; the
parameters here are what the simulated person does (simulation inputs, not norms).

Angles follow the sign table (docs/conventions.md): hip internal rotation +, knee valgus is
negative knee adduction. In prone with the knee at 90°, and lying supine with the lower legs hanging
over the end of the table (knee 90°), hip *internal* rotation moves the shank *out* (the foot
lateral).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import Joint, Segment, Side
from imugait.simulate.body import (
    BodyState,
    ScriptBuilder,
    ankle_positions_m,
    place_on_point,
    state_at,
)
from imugait.simulate.timeline import PhaseKind, TimelinePhase, build_timeline
from imugait.simulate.walker import Walker, WalkerParams

HIP, KNEE = Joint.HIP, Joint.KNEE
FLEX, ADD, ROT = 0, 1, 2

TABLE_HIP_HEIGHT_M = 0.75
"""Height of the hip joint centres above the floor when lying on a treatment table."""


@dataclass(frozen=True)
class LegProtocolParams:
    """What one simulated leg does in the protocols (degrees, seconds; simulation inputs)."""

    posture_hip_rotation_deg: float = 0.0
    """Extra femur internal rotation when standing relaxed (the posture test) over quiet standing."""
    posture_knee_valgus_deg: float = 0.0
    """Extra knee valgus when standing relaxed over quiet standing (the calibration reference)."""
    supine_hip_rotation_deg: float = -10.0
    """Femur rotation at rest lying supine, legs straight (+ = internal: the feet fall inward)."""
    supine_internal_range_deg: float = 30.0
    """End of internal rotation reached lying supine, hip extended, the lower leg hanging over the
    end of the table (knee 90°): the shank turns out."""
    supine_external_range_deg: float = 38.0
    """End of external rotation reached in the same position (the shank turns in)."""
    prone_rest_hip_rotation_deg: float = 0.0
    """Femur rotation while lying prone with straight legs before the test."""
    prone_internal_range_deg: float = 35.0
    """End of internal rotation reached in prone (knee 90°: the shank falls out)."""
    prone_external_range_deg: float = 40.0
    """End of external rotation reached in prone (the shank falls in)."""
    squat_knee_valgus_deg: float = 0.0
    """Extra knee valgus at the bottom of the squat (relative to standing)."""
    squat_hip_rotation_deg: float = 0.0
    """Extra femur internal rotation at the bottom of the squat (relative to standing)."""
    single_leg_squat_knee_valgus_deg: float = 0.0
    """Extra knee valgus (3-D, negative knee adduction) at the bottom of a single-leg squat on this leg."""
    single_leg_squat_hip_rotation_deg: float = 0.0
    """Extra femur internal rotation at the bottom of a single-leg squat on this leg."""
    balance_knee_valgus_deg: float = 0.0
    """Extra knee valgus of this leg while balancing on it."""
    balance_sway_deg: float = 1.0
    """RMS tilt of the body about this leg's ankle while balancing on it."""
    balance_hold_s: float = 15.0
    """How long this leg holds single-leg stance (foot off the floor)."""


@dataclass(frozen=True)
class ProtocolParams:
    """The whole battery as the simulated person performs it."""

    left: LegProtocolParams = field(default_factory=LegProtocolParams)
    right: LegProtocolParams = field(default_factory=LegProtocolParams)
    weight_shift_deg: float = 0.0
    """Standing posture: both legs lean by this towards the right (+) or left (−): the pelvis over one foot."""
    posture_hold_s: float = 8.0
    supine_hold_s: float = 10.0
    supine_jitter_deg: float = 0.0
    """Slow random motion of every joint while supine (0 = lies still; > 0 makes 'not held still')."""
    supine_range_knee_flexion_deg: float = 90.0
    """Knee flexion of the lower legs hanging over the end of the table (supine rotation range)."""
    supine_range_sweeps: int = 2
    supine_range_end_hold_s: float = 1.5
    prone_knee_flexion_deg: float = 90.0
    prone_sweeps: int = 2
    prone_end_hold_s: float = 1.5
    """Pause at each end of the range (0 = swings through without stopping)."""
    prone_range_fraction: float = 1.0
    """Fraction of the range the sweep reaches (< 1: the shank is not taken to the end)."""
    squat_depth_deg: float = 95.0
    """Knee flexion at the bottom of each squat."""
    squat_reps: int = 3
    single_leg_squat_depth_deg: float = 60.0
    """Knee flexion gained at the bottom of each single-leg squat (over single-leg standing)."""
    single_leg_squat_reps: int = 3
    single_leg_squat_touch_down: bool = False
    """The free foot is put down between repetitions (balance not kept)."""
    balance_lift_knee_deg: float = 70.0
    """Knee flexion of the lifted leg."""

    def leg(self, side: Side) -> LegProtocolParams:
        return self.left if side is Side.LEFT else self.right


def walker_over(params: WalkerParams, phases: tuple[TimelinePhase, ...], rng: np.random.Generator,
                heading_rad: float = 0.0) -> Walker:
    """A walker following ``phases`` from ``heading_rad`` (the timeline and walker of ``simulate``)."""
    timeline = build_timeline(
        phases, stride_time_s=params.stride_time_s, speed_mps=params.speed_mps,
        stride_time_cv=params.stride_time_cv, rng=rng, initial_heading_rad=heading_rad,
    )
    return Walker(params, timeline, rng)


def standing_state(params: WalkerParams, rng: np.random.Generator, heading_rad: float = 0.0) -> BodyState:
    """Quiet standing exactly as the walker stands (its hip rotation offsets and static valgus)."""
    walker = walker_over(params, (TimelinePhase(PhaseKind.STAND, 1.0, "stand"),), rng, heading_rad)
    return state_at(walker.pose(np.zeros(1)), 0)


def _right_axis(state: BodyState) -> np.ndarray:
    """The subject's right, horizontal, from the pelvis (its Z axis)."""
    z = state.r_world_pelvis.apply([0.0, 0.0, 1.0])
    z[2] = 0.0
    return z / np.linalg.norm(z)


def shifted_state(params: WalkerParams, standing: BodyState, lean_deg: float) -> BodyState:
    """Both legs leaning ``lean_deg`` towards the right (+), feet where they stood: the pelvis moves
    over one foot with the pelvis level (stance-side hip adducts, the other abducts)."""
    mid = _feet_midpoint(params, standing)
    state = standing
    for side in Side:
        state = state.add_deg(HIP, side, [0.0, side.mirror * lean_deg, 0.0])
    return place_on_point(params, state, mid, None)


def _feet_midpoint(params: WalkerParams, state: BodyState) -> np.ndarray:
    ankles = ankle_positions_m(params, state)
    return 0.5 * (ankles[Side.LEFT] + ankles[Side.RIGHT])


def lying_state(standing: BodyState, prone: bool) -> BodyState:
    """The standing body turned to lie on a table: supine (face up) or prone (face down)."""
    r_lie = Rotation.from_rotvec((-np.pi / 2 if prone else np.pi / 2) * _right_axis(standing))
    origin = standing.pelvis_origin_m.copy()
    origin[2] = TABLE_HIP_HEIGHT_M
    return replace(standing, r_world_pelvis=r_lie * standing.r_world_pelvis, pelvis_origin_m=origin)


def squat_state(params: WalkerParams, standing: BodyState, pp: ProtocolParams, depth: float) -> BodyState:
    """``depth`` (0..1) of the way to the bottom of the squat, feet planted (:func:`_bend_legs`)."""
    legs = {side: (depth * pp.leg(side).squat_knee_valgus_deg, depth * pp.leg(side).squat_hip_rotation_deg) for side in Side}
    state = _bend_legs(standing, depth * pp.squat_depth_deg, legs)
    return place_on_point(params, state, _feet_midpoint(params, standing), None)


def _bend_legs(state: BodyState, kappa_deg: float, legs: dict[Side, tuple[float, float]]) -> BodyState:
    """Knee flexion ``kappa_deg`` on each leg of ``legs`` (``side: (valgus_deg, femur_rotation_deg)``);
    the shank leans forward by 0.4 κ, the thigh by 0.6 κ, the pelvis tilts forward by half the
    thigh's lean (a plausible squat, not a norm)."""
    thigh_lean, pelvis_tilt = 0.6 * kappa_deg, 0.3 * kappa_deg
    state = replace(state, r_world_pelvis=state.r_world_pelvis * Rotation.from_euler("ZXY", [-np.deg2rad(pelvis_tilt), 0, 0]))
    for side, (valgus_deg, rotation_deg) in legs.items():
        state = state.add_deg(HIP, side, [thigh_lean + pelvis_tilt, 0.0, rotation_deg])
        state = state.add_deg(KNEE, side, [kappa_deg, -valgus_deg, 0.0])
    return state


def single_leg_squat_state(params: WalkerParams, one_leg: BodyState, pp: ProtocolParams, stance: Side,
                           depth: float) -> BodyState:
    """``depth`` (0..1) of the way down a single-leg squat on ``stance`` from single-leg standing
    ``one_leg`` (the free leg keeps its angles to the pelvis); the stance foot stays planted."""
    leg = pp.leg(stance)
    legs = {stance: (depth * leg.single_leg_squat_knee_valgus_deg, depth * leg.single_leg_squat_hip_rotation_deg)}
    state = _bend_legs(one_leg, depth * pp.single_leg_squat_depth_deg, legs)
    return place_on_point(params, state, ankle_positions_m(params, one_leg)[stance], stance)


def balance_state(params: WalkerParams, standing: BodyState, pp: ProtocolParams, stance: Side) -> BodyState:
    """Standing on ``stance``: pelvis over that foot, the other knee bent and its foot lifted."""
    ankles = ankle_positions_m(params, standing)
    half_width_m = 0.5 * params.hip_separation_m
    leg_m = params.segment_length_m(Segment.THIGH) + params.segment_length_m(Segment.SHANK)
    lean_deg = np.rad2deg(np.arctan2(half_width_m, leg_m)) * stance.mirror
    state = shifted_state(params, standing, lean_deg)
    lifted = stance.other
    state = state.add_deg(HIP, lifted, [20.0, 0.0, 0.0])
    state = state.add_deg(KNEE, lifted, [pp.balance_lift_knee_deg, 0.0, 0.0])
    state = state.add_deg(KNEE, stance, [5.0, -pp.leg(stance).balance_knee_valgus_deg, 0.0])
    return place_on_point(params, state, ankles[stance], stance)


# --- the protocols -----------------------------------------------------------------------------


def script_posture(b: ScriptBuilder, pp: ProtocolParams) -> None:
    standing = b.state
    relaxed = standing
    for side in Side:
        leg = pp.leg(side)
        relaxed = relaxed.add_deg(HIP, side, [0.0, 0.0, leg.posture_hip_rotation_deg])
        relaxed = relaxed.add_deg(KNEE, side, [0.0, -leg.posture_knee_valgus_deg, 0.0])
    b.hold(2.0)
    b.move(2.0, shifted_state(b.params, relaxed, pp.weight_shift_deg))
    t0, t1 = b.hold(pp.posture_hold_s)
    b.mark("posture", t0, t1)
    b.move(2.0, standing)
    b.hold(1.0)


def script_walking(b: ScriptBuilder, walker: Walker) -> None:
    t0, _ = b.walk(walker)
    for phase, a, c in walker.timeline.phase_intervals:
        b.mark(f"walking:{phase.name}", t0 + a, t0 + c)


def script_supine(b: ScriptBuilder, pp: ProtocolParams) -> None:
    standing = b.state
    b.move(5.0, lying_state(standing, prone=False))
    b.hold(1.0)
    rest = b.state
    for side in Side:
        rest = rest.set_deg(HIP, side, ROT, pp.leg(side).supine_hip_rotation_deg)
    b.move(2.0, rest)
    t0, t1 = b.hold(pp.supine_hold_s, jitter_deg=pp.supine_jitter_deg)
    b.mark("supine", t0, t1)
    b.hold(0.5)


def script_supine_range(b: ScriptBuilder, pp: ProtocolParams, bends: int = 3) -> None:
    """Lying supine, hip extended, the lower legs hanging over the end of the table (knee 90°):
    each leg straightens and bends the knee, then turns the shank out (internal rotation) and in
    (external) to the end of the range, pausing there; marks ``supine:<side>``."""
    hanging = b.state
    for side in Side:
        hanging = hanging.set_deg(HIP, side, ROT, 0.0).set_deg(KNEE, side, FLEX, pp.supine_range_knee_flexion_deg)
    b.move(4.0, hanging)
    b.hold(2.0)
    for side in Side:
        leg = pp.leg(side)
        straight = hanging.set_deg(KNEE, side, FLEX, 10.0)
        t0 = b.t_s
        b.hold(1.0)
        for _ in range(bends):
            b.move(1.5, straight)
            b.hold(0.3)
            b.move(1.5, hanging)
            b.hold(0.3)
        b.hold(1.5)
        for _ in range(pp.supine_range_sweeps):
            for end_deg in (leg.supine_internal_range_deg, -leg.supine_external_range_deg):
                b.move(3.0, hanging.set_deg(HIP, side, ROT, end_deg))
                if pp.supine_range_end_hold_s > 0:
                    b.hold(pp.supine_range_end_hold_s)
                b.move(3.0, hanging)
        b.hold(1.0)
        b.mark(f"supine:{side.value}", t0, b.t_s)
        b.hold(1.0)


def script_prone(b: ScriptBuilder, pp: ProtocolParams, standing: BodyState, bends: int = 3) -> None:
    """Roll (or get) onto the front, rest, then each leg: knee bends, the sweep at 90°, lower."""
    prone = lying_state(standing, prone=True)
    for side in Side:
        prone = prone.set_deg(HIP, side, ROT, pp.leg(side).prone_rest_hip_rotation_deg)
    b.move(5.0, prone)
    t0, t1 = b.hold(4.0)
    b.mark("prone:rest", t0, t1)
    for side in Side:
        leg = pp.leg(side)
        rest = b.state
        bent = rest.set_deg(KNEE, side, FLEX, pp.prone_knee_flexion_deg).set_deg(HIP, side, ROT, 0.0)
        t0 = b.t_s
        for _ in range(bends):
            b.move(1.5, bent)
            b.hold(0.3)
            b.move(1.5, rest)
            b.hold(0.3)
        b.move(1.5, bent)
        b.hold(2.0)
        f = pp.prone_range_fraction
        for _ in range(pp.prone_sweeps):
            for end_deg in (f * leg.prone_internal_range_deg, -f * leg.prone_external_range_deg):
                b.move(3.0, bent.set_deg(HIP, side, ROT, end_deg))
                if pp.prone_end_hold_s > 0:
                    b.hold(pp.prone_end_hold_s)
                b.move(3.0, bent)
        b.hold(1.0)
        b.move(2.0, rest)
        t1 = b.t_s
        b.hold(1.5)
        b.mark(f"prone:{side.value}", t0, t1)


def script_stand_up(b: ScriptBuilder, standing: BodyState) -> None:
    b.move(6.0, standing)
    b.hold(2.0)


def script_squat(b: ScriptBuilder, pp: ProtocolParams) -> None:
    standing = b.state
    bottom = squat_state(b.params, standing, pp, 1.0)
    t0, _ = b.hold(2.0)
    for _ in range(pp.squat_reps):
        b.move(2.5, bottom)
        b.hold(1.0)
        b.move(2.5, standing)
        b.hold(1.0)
    b.mark("squat", t0, b.t_s)
    b.hold(1.0)


def script_single_leg_squat(b: ScriptBuilder, pp: ProtocolParams) -> None:
    """Per stance leg: stand, lift the other foot, squat on the stance leg ``single_leg_squat_reps``
    times (the free foot put down between them with ``single_leg_squat_touch_down``), put the foot
    down; marks ``single_leg_squat:<stance>``."""
    standing = b.state
    for stance in Side:
        one_leg = balance_state(b.params, standing, replace(pp, left=replace(pp.left, balance_knee_valgus_deg=0.0),
                                                           right=replace(pp.right, balance_knee_valgus_deg=0.0)), stance)
        bottom = single_leg_squat_state(b.params, one_leg, pp, stance, 1.0)
        t0, _ = b.hold(1.5)
        b.move(1.5, one_leg)
        b.hold(1.0)
        for i in range(pp.single_leg_squat_reps):
            b.move(2.0, bottom)
            b.hold(0.5)
            b.move(2.0, one_leg)
            b.hold(0.8)
            if pp.single_leg_squat_touch_down and i < pp.single_leg_squat_reps - 1:
                b.move(1.0, standing)
                b.hold(0.5)
                b.move(1.0, one_leg)
                b.hold(0.5)
        b.move(1.5, standing)
        _, t1 = b.hold(1.5)
        b.mark(f"single_leg_squat:{stance.value}", t0, t1)


def script_balance(b: ScriptBuilder, pp: ProtocolParams) -> None:
    standing = b.state
    for stance in Side:
        one_leg = balance_state(b.params, standing, pp, stance)
        ankle = ankle_positions_m(b.params, one_leg)[stance]
        t0, _ = b.hold(1.5)
        b.move(1.5, one_leg)
        b.hold(pp.leg(stance).balance_hold_s, sway_deg=pp.leg(stance).balance_sway_deg, pivot_m=ankle)
        b.move(1.5, standing)
        _, t1 = b.hold(1.5)
        b.mark(f"balance:{stance.value}", t0, t1)
