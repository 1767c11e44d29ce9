"""The simulated protocol timeline: standing, straight walking bouts, 180° turns.

Three recipes: :func:`walking_test` (the assessment's walk: stand, bouts of given seconds, stand),
:func:`ten_metre_walk` (1–3 passes of 10 m with 180° turns) and :func:`corridor_walk` (2–6 minutes
up and down a 30 m corridor); the last two with or without standing before and after.

The timeline is turned into smooth functions of time on a fine grid (gait phase, walking weight,
heading, position along the path) so that the walker can be evaluated at any instant and its
derivatives are smooth.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.ndimage import gaussian_filter1d

from imugait.data import load_json
from imugait.errors import ValidationError

GRID_DT_S = 0.002
"""Fine grid on which the timeline is integrated; splines make it smooth in between."""
WALK_RAMP_S = 1.2
"""Duration of the smooth start (and stop) of walking from (and to) rest."""


class PhaseKind(Enum):
    STAND = "stand"
    WALK = "walk"
    TURN = "turn"


@dataclass(frozen=True)
class TimelinePhase:
    kind: PhaseKind
    duration_s: float
    name: str

    def __post_init__(self) -> None:
        if not (self.duration_s > 0):
            raise ValidationError(f"timeline phase {self.name!r}: duration_s must be > 0")


def walking_test(
    n_bouts: int = 2, bout_s: float = 12.0, stand_s: float = 5.0, turn_s: float = 2.5
) -> tuple[TimelinePhase, ...]:
    """Stand, then ``n_bouts`` straight bouts separated by 180° turns, then stand."""
    if n_bouts < 1:
        raise ValidationError("a walking test needs at least one bout")
    return _walk_with_turns([bout_s] * n_bouts, True, stand_s, turn_s)


def ten_metre_walk(
    speed_mps: float,
    passes: int = 2,
    standing: bool = True,
    distance_m: float | None = None,
    stand_s: float = 5.0,
    turn_s: float = 2.5,
) -> tuple[TimelinePhase, ...]:
    """A 10-m walk test: ``passes`` straight passes of ``distance_m`` (default 10 m,
    ``imugait/data/walker_populations.json``) with a 180° turn between passes.

    Each pass lasts what ``distance_m`` takes at ``speed_mps``, plus half the start or stop ramp
    where it starts from or ends at rest. ``standing=False`` leaves out the standing periods
    before and after: walking starts at the first instant and stops at the last, as in a clinical
    recording started on "go".
    """
    if not 1 <= passes <= 10:
        raise ValidationError("a 10-m walk needs 1..10 passes")
    distance_m = distance_m if distance_m is not None else _clinical_walk("ten_metre_walk_distance_m")
    straight_s = distance_m / speed_mps
    bouts = [straight_s + 0.5 * WALK_RAMP_S * ((i == 0) + (i == passes - 1)) for i in range(passes)]
    return _walk_with_turns(bouts, standing, stand_s, turn_s)


def corridor_walk(
    speed_mps: float,
    duration_s: float,
    standing: bool = True,
    corridor_m: float | None = None,
    stand_s: float = 5.0,
    turn_s: float = 2.5,
) -> tuple[TimelinePhase, ...]:
    """A corridor walk (2- or 6-minute walk test): up and down a ``corridor_m`` corridor (default
    30 m, ``imugait/data/walker_populations.json``) with a 180° turn at each end, for at most
    ``duration_s`` of walking (the walk stops at the end of the last whole length, or earlier when
    the time is up). ``standing`` as in :func:`ten_metre_walk`."""
    corridor_m = corridor_m if corridor_m is not None else _clinical_walk("corridor_length_m")
    straight_s = corridor_m / speed_mps
    if duration_s < straight_s:
        raise ValidationError(f"a corridor walk of {duration_s:g} s does not reach the end of a {corridor_m:g} m corridor")
    bouts: list[float] = []
    remaining_s = duration_s
    while remaining_s > 0:
        bout = straight_s + (0.5 * WALK_RAMP_S if not bouts else 0.0)
        if remaining_s - bout - turn_s < max(0.5 * straight_s, WALK_RAMP_S + 1.0):
            bouts.append(min(remaining_s, bout + 0.5 * WALK_RAMP_S))  # the last length, ending in the stop
            break
        bouts.append(bout)
        remaining_s -= bout + turn_s
    return _walk_with_turns(bouts, standing, stand_s, turn_s)


def _walk_with_turns(
    bouts_s: list[float], standing: bool, stand_s: float, turn_s: float
) -> tuple[TimelinePhase, ...]:
    phases = [TimelinePhase(PhaseKind.STAND, stand_s, "stand_start")] if standing else []
    for i, bout_s in enumerate(bouts_s):
        if i:
            phases.append(TimelinePhase(PhaseKind.TURN, turn_s, f"turn_{i}"))
        phases.append(TimelinePhase(PhaseKind.WALK, bout_s, f"walk_{i + 1}"))
    if standing:
        phases.append(TimelinePhase(PhaseKind.STAND, stand_s, "stand_end"))
    return tuple(phases)


def _clinical_walk(name: str) -> float:
    return float(load_json("walker_populations.json")["clinical_walks"][name]["value"])


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Quintic 0→1 ramp with zero first and second derivative at both ends."""
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10.0 - 15.0 * x + 6.0 * x**2)


@dataclass(frozen=True)
class TimelineSignals:
    """Smooth functions of time (seconds from the start of the simulation)."""

    duration_s: float
    walking_weight: CubicSpline
    """0 while standing, 1 while walking or turning, smooth ramps in between."""
    turn_weight: CubicSpline
    """1 during a turn (speed is reduced there), 0 otherwise."""
    stride_phase: CubicSpline
    """Cumulative gait phase of the right leg in cycles (integer = right initial contact)."""
    heading_rad: CubicSpline
    """Walking direction about world z (0 = +x)."""
    position_xy_m: CubicSpline
    """Pelvis position along the path on the floor, (2,) per t."""
    phase_intervals: tuple[tuple[TimelinePhase, float, float], ...]


def build_timeline(
    phases: tuple[TimelinePhase, ...],
    stride_time_s: float,
    speed_mps: float,
    stride_time_cv: float,
    rng: np.random.Generator,
    ramp_s: float = WALK_RAMP_S,
    initial_heading_rad: float = 0.0,
) -> TimelineSignals:
    """Integrate the timeline into smooth signals (see :class:`TimelineSignals`)."""
    bounds = np.cumsum([0.0] + [p.duration_s for p in phases])
    duration_s = float(bounds[-1])
    t = np.arange(0.0, duration_s + 5 * GRID_DT_S, GRID_DT_S)
    moving = np.zeros_like(t)
    turning = np.zeros_like(t)
    turn_progress = np.zeros_like(t)
    n_turns_before = np.zeros_like(t)
    for p, t0, t1 in zip(phases, bounds[:-1], bounds[1:], strict=True):
        inside = (t >= t0) & (t < t1)
        if p.kind is not PhaseKind.STAND:
            moving[inside] = 1.0
        if p.kind is PhaseKind.TURN:
            turning[inside] = 1.0
            turn_progress[inside] = smoothstep((t[inside] - t0) / (t1 - t0))
        n_turns_before[t >= t1] += p.kind is PhaseKind.TURN
    # Ramps into and out of walking: a smooth start and stop rather than a jump.
    walking_weight = _smooth_ramp(moving, ramp_s)
    turn_weight = _smooth_ramp(turning, 0.6)
    heading = initial_heading_rad + np.pi * (n_turns_before + turn_progress)

    # Stride-to-stride variability: a slow random modulation of the stride frequency.
    noise = gaussian_filter1d(rng.standard_normal(t.size), sigma=stride_time_s / GRID_DT_S)
    noise *= 1.0 / max(np.std(noise), 1e-12)
    freq_hz = (1.0 / stride_time_s) * (1.0 + stride_time_cv * noise) * walking_weight
    freq_hz *= 1.0 - 0.25 * turn_weight  # shorter, slower steps while turning
    phase = np.concatenate([[0.0], np.cumsum(0.5 * (freq_hz[1:] + freq_hz[:-1]) * GRID_DT_S)])

    speed = speed_mps * walking_weight * (1.0 - 0.7 * turn_weight)
    step = 0.5 * (speed[1:] + speed[:-1]) * GRID_DT_S
    mid_heading = 0.5 * (heading[1:] + heading[:-1])
    xy = np.zeros((t.size, 2))
    xy[1:, 0] = np.cumsum(step * np.cos(mid_heading))
    xy[1:, 1] = np.cumsum(step * np.sin(mid_heading))

    intervals = tuple((p, float(a), float(b)) for p, a, b in zip(phases, bounds[:-1], bounds[1:], strict=True))
    return TimelineSignals(
        duration_s=duration_s,
        walking_weight=CubicSpline(t, walking_weight),
        turn_weight=CubicSpline(t, turn_weight),
        stride_phase=CubicSpline(t, phase),
        heading_rad=CubicSpline(t, heading),
        position_xy_m=CubicSpline(t, xy),
        phase_intervals=intervals,
    )


def _smooth_ramp(indicator: np.ndarray, ramp_s: float) -> np.ndarray:
    """Turn a 0/1 indicator into a smooth weight that ramps over ``ramp_s`` inside each run of 1s."""
    n_ramp = max(int(round(ramp_s / GRID_DT_S)), 1)
    out = np.zeros_like(indicator)
    edges = np.flatnonzero(np.diff(np.r_[0.0, indicator, 0.0]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        idx = np.arange(start, stop)
        rise = smoothstep((idx - start) / n_ramp)
        fall = smoothstep((stop - 1 - idx) / n_ramp)
        out[start:stop] = np.minimum(rise, fall)
    return out
