"""A scripted body: postures held and moved between, and walking, on one continuous clock.

The walker (:mod:`imugait.simulate.walker`) only stands and walks. The assessment protocols also
lie, squat and balance, so this module drives the same pelvis → thigh → shank chain
(:func:`~imugait.simulate.walker.chain_pose`) from a *script*: a sequence of pieces, each a
function of time giving the pelvis orientation and position and the joint angles (sign table).

* :class:`BodyState` — one instant of the body (a keyframe).
* ``hold`` — keep a state, optionally with a slow random jitter of every joint angle (a person
  who does not keep still) or a sway of the whole body about a pivot (balance).
* ``move`` — from the current state to a target with a quintic smoothstep (starts and ends at rest).
* ``walk`` — a :class:`~imugait.simulate.walker.Walker` over its own timeline (it starts and ends
  standing, so it joins the scripted standing pose continuously).

A :class:`ScriptedBody` offers what :func:`~imugait.simulate.sensors.simulate_sensor` needs from a
walker (``pose``, ``params``, ``timeline.duration_s``/``walking_weight``, ``leg_phase``), so the
sensor model is reused as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation, Slerp

from imugait.conventions import Joint, Segment, Side
from imugait.simulate.timeline import smoothstep
from imugait.simulate.walker import Pose, Walker, WalkerParams, chain_pose

JOINT_KEYS = tuple((joint, side) for joint in (Joint.HIP, Joint.KNEE) for side in Side)


@dataclass(frozen=True, eq=False)
class BodyState:
    """The body at one instant: pelvis frame in the world, pelvis origin (m), joint angles (rad).

    ``angles_rad`` maps ``(Joint, Side)`` to (3,) flexion, adduction, internal rotation (sign table).
    """

    r_world_pelvis: Rotation
    pelvis_origin_m: np.ndarray
    angles_rad: dict[tuple[Joint, Side], np.ndarray]

    def add_deg(self, joint: Joint, side: Side, delta_deg: np.ndarray | list[float]) -> BodyState:
        """A copy with ``delta_deg`` (3,) added to one joint's angles."""
        angles = dict(self.angles_rad)
        angles[(joint, side)] = angles[(joint, side)] + np.deg2rad(np.asarray(delta_deg, dtype=float))
        return replace(self, angles_rad=angles)

    def set_deg(self, joint: Joint, side: Side, component: int, value_deg: float) -> BodyState:
        """A copy with one angle component (0 flexion, 1 adduction, 2 rotation) set, degrees."""
        angles = dict(self.angles_rad)
        a = angles[(joint, side)].copy()
        a[component] = np.deg2rad(value_deg)
        angles[(joint, side)] = a
        return replace(self, angles_rad=angles)


def state_at(pose: Pose, i: int) -> BodyState:
    """The :class:`BodyState` of sample ``i`` of a pose (e.g. a walker's)."""
    return BodyState(
        r_world_pelvis=pose.r_world[(Segment.PELVIS, None)][i],
        pelvis_origin_m=np.array(pose.origin_m[(Segment.PELVIS, None)][i]),
        angles_rad={k: np.array(pose.angles_rad[k][i]) for k in JOINT_KEYS},
    )


def ankle_positions_m(params: WalkerParams, state: BodyState) -> dict[Side, np.ndarray]:
    """Ankle joint centres (3,) of a state, m, world frame."""
    pose = pose_of_states(params, np.zeros(1), [state])
    out = {}
    for side in Side:
        r_shank = pose.r_world[(Segment.SHANK, side)]
        knee = pose.origin_m[(Segment.SHANK, side)]
        out[side] = (knee + r_shank.apply([0.0, -params.segment_length_m(Segment.SHANK), 0.0]))[0]
    return out


def place_on_point(params: WalkerParams, state: BodyState, target_m: np.ndarray, stance: Side | None) -> BodyState:
    """Translate ``state`` so that the stance ankle (or the midpoint of both, ``stance=None``) is at
    ``target_m`` — feet planted while the joints change."""
    ankles = ankle_positions_m(params, state)
    anchor = ankles[stance] if stance is not None else 0.5 * (ankles[Side.LEFT] + ankles[Side.RIGHT])
    return replace(state, pelvis_origin_m=state.pelvis_origin_m + (np.asarray(target_m) - anchor))


def pose_of_states(params: WalkerParams, t_s: np.ndarray, states: list[BodyState]) -> Pose:
    """A :class:`Pose` from one state per instant."""
    r_pelvis = Rotation.concatenate([s.r_world_pelvis for s in states])
    origin = np.array([s.pelvis_origin_m for s in states])
    angles = {k: np.array([s.angles_rad[k] for s in states]) for k in JOINT_KEYS}
    return _pose(params, t_s, r_pelvis, origin, angles)


def _pose(params, t_s, r_pelvis, origin, angles) -> Pose:
    return chain_pose(params, t_s, r_pelvis, origin, angles, Rotation.identity(len(t_s)))


@dataclass(frozen=True, eq=False)
class _Piece:
    t_start_s: float
    t_end_s: float
    evaluate: Callable[[np.ndarray], tuple[Rotation, np.ndarray, dict]]
    """Local time (s from the piece start) → pelvis rotations, origins (N, 3), angles (N, 3) each."""
    walker: Walker | None = None


@dataclass(frozen=True)
class _Timeline:
    """The part of a walker timeline the sensor model reads."""

    duration_s: float
    walking_weight: Callable[[np.ndarray], np.ndarray]


@dataclass
class ScriptBuilder:
    """Builds a :class:`ScriptedBody` piece by piece; ``mark`` records protocol steps."""

    params: WalkerParams
    start: BodyState
    rng: np.random.Generator
    pieces: list[_Piece] = field(default_factory=list)
    marks: list[tuple[str, float, float]] = field(default_factory=list)
    t_s: float = 0.0

    def __post_init__(self) -> None:
        self.state = self.start

    def hold(
        self, duration_s: float, jitter_deg: float = 0.0, sway_deg: float = 0.0, pivot_m: np.ndarray | None = None
    ) -> tuple[float, float]:
        """Keep the current state for ``duration_s``.

        ``jitter_deg``: SD of slow random motion of every joint angle (not holding still).
        ``sway_deg``: RMS tilt of the whole body about ``pivot_m`` (a stance ankle), slow and random.
        Both fade in and out over 1 s so that the piece joins its neighbours continuously.
        """
        state, t0 = self.state, self.t_s
        n = max(int(np.ceil(duration_s / 0.01)) + 1, 4)
        grid = np.linspace(0.0, duration_s, n)
        envelope = np.minimum(smoothstep(grid / 1.0), smoothstep((duration_s - grid) / 1.0))
        jitter = sway = None
        if jitter_deg > 0:
            noise = gaussian_filter1d(self.rng.standard_normal((n, 12)), sigma=0.4 / 0.01, axis=0)
            noise *= np.deg2rad(jitter_deg) / np.maximum(noise.std(axis=0), 1e-12)
            jitter = CubicSpline(grid, noise * envelope[:, None])
        if sway_deg > 0:
            noise = gaussian_filter1d(self.rng.standard_normal((n, 2)), sigma=0.5 / 0.01, axis=0)
            noise -= noise.mean(axis=0)
            noise *= envelope[:, None]
            noise *= np.deg2rad(sway_deg) / max(np.sqrt(np.mean(np.sum(noise**2, axis=1))), 1e-12)
            sway = CubicSpline(grid, noise)
        pivot = np.asarray(pivot_m if pivot_m is not None else state.pelvis_origin_m, dtype=float)

        def evaluate(tau: np.ndarray):
            m = tau.size
            r_pelvis = Rotation.concatenate([state.r_world_pelvis] * m)
            origin = np.tile(state.pelvis_origin_m, (m, 1))
            angles = {k: np.tile(state.angles_rad[k], (m, 1)) for k in JOINT_KEYS}
            if jitter is not None:
                j = jitter(np.clip(tau, 0.0, duration_s))
                for i, k in enumerate(JOINT_KEYS):
                    angles[k] = angles[k] + j[:, 3 * i : 3 * i + 3]
            if sway is not None:
                s = sway(np.clip(tau, 0.0, duration_s))
                r_sway = Rotation.from_rotvec(np.column_stack([s, np.zeros(m)]))
                r_pelvis = r_sway * r_pelvis
                origin = pivot + r_sway.apply(origin - pivot)
            return r_pelvis, origin, angles

        self.pieces.append(_Piece(t0, t0 + duration_s, evaluate))
        self.t_s += duration_s
        return t0, self.t_s

    def move(self, duration_s: float, target: BodyState) -> tuple[float, float]:
        """Move from the current state to ``target`` (smoothstep: at rest at both ends)."""
        a, b, t0 = self.state, target, self.t_s
        slerp = Slerp([0.0, 1.0], Rotation.concatenate([a.r_world_pelvis, b.r_world_pelvis]))

        def evaluate(tau: np.ndarray):
            u = np.clip(smoothstep(tau / duration_s), 0.0, 1.0)
            origin = a.pelvis_origin_m + u[:, None] * (b.pelvis_origin_m - a.pelvis_origin_m)
            angles = {k: a.angles_rad[k] + u[:, None] * (b.angles_rad[k] - a.angles_rad[k]) for k in JOINT_KEYS}
            return slerp(u), origin, angles

        self.pieces.append(_Piece(t0, t0 + duration_s, evaluate))
        self.t_s += duration_s
        self.state = target
        return t0, self.t_s

    def walk(self, walker: Walker) -> tuple[float, float]:
        """A walker's whole timeline; its first pose must be the current state (see :func:`state_at`)."""
        t0 = self.t_s
        duration_s = walker.timeline.duration_s

        def evaluate(tau: np.ndarray):
            pose = walker.pose(np.clip(tau, 0.0, duration_s))
            angles = {k: pose.angles_rad[k] for k in JOINT_KEYS}
            return pose.r_world[(Segment.PELVIS, None)], pose.origin_m[(Segment.PELVIS, None)], angles

        self.pieces.append(_Piece(t0, t0 + duration_s, evaluate, walker))
        self.t_s += duration_s
        self.state = state_at(walker.pose(np.array([duration_s])), 0)
        return t0, self.t_s

    def mark(self, name: str, t_start_s: float, t_end_s: float) -> None:
        self.marks.append((name, float(t_start_s), float(t_end_s)))

    def build(self) -> ScriptedBody:
        return ScriptedBody(self.params, tuple(self.pieces), tuple(self.marks))


class ScriptedBody:
    """A body following a script (see the module docstring); duck-types a walker for the sensor model."""

    def __init__(self, params: WalkerParams, pieces: tuple[_Piece, ...], marks: tuple[tuple[str, float, float], ...]):
        self.params = params
        self.pieces = pieces
        self.marks = marks
        self._starts = np.array([p.t_start_s for p in pieces])
        self.timeline = _Timeline(pieces[-1].t_end_s, self._walking_weight)

    def _index(self, t_s: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self._starts, t_s, side="right") - 1, 0, len(self.pieces) - 1)

    def _walking_weight(self, t_s: np.ndarray) -> np.ndarray:
        t_s = np.atleast_1d(np.asarray(t_s, dtype=float))
        out = np.zeros(t_s.shape)
        idx = self._index(t_s)
        for k in np.unique(idx):
            piece = self.pieces[k]
            if piece.walker is not None:
                sel = idx == k
                out[sel] = piece.walker.timeline.walking_weight(t_s[sel] - piece.t_start_s)
        return out

    def leg_phase(self, t_s: np.ndarray, side: Side) -> np.ndarray:
        """Gait phase while walking (0 elsewhere); the sensor model's soft-tissue wobble uses it."""
        t_s = np.asarray(t_s, dtype=float)
        out = np.zeros(t_s.shape)
        idx = self._index(t_s)
        for k in np.unique(idx):
            piece = self.pieces[k]
            if piece.walker is not None:
                sel = idx == k
                out[sel] = piece.walker.leg_phase(t_s[sel] - piece.t_start_s, side)
        return out

    def pose(self, t_s: np.ndarray) -> Pose:
        """The body at the instants ``t_s`` (N,), s."""
        t_s = np.asarray(t_s, dtype=float)
        n = t_s.size
        q = np.zeros((n, 4))
        origin = np.zeros((n, 3))
        angles = {k: np.zeros((n, 3)) for k in JOINT_KEYS}
        idx = self._index(t_s)
        for k in np.unique(idx):
            sel = idx == k
            piece = self.pieces[k]
            r, o, a = piece.evaluate(t_s[sel] - piece.t_start_s)
            q[sel] = r.as_quat()
            origin[sel] = o
            for key in JOINT_KEYS:
                angles[key][sel] = a[key]
        return _pose(self.params, t_s, Rotation.from_quat(q), origin, angles)
