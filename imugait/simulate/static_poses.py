"""A sensor put through the intrinsic-calibration procedure, with known truth.

The sensor is placed in a sequence of still positions (by default the six faces up, in the order
of :mod:`imugait.calibration.procedure`), turned by hand between them, then rotated slowly through
all directions for the magnetometer. Signals come from the same sensor model as the walker
simulation (:func:`imugait.simulate.sensors.ideal_signals` and
:func:`~imugait.simulate.sensors.apply_sensor_errors`: ``measured = gain @ true + bias + noise``,
quantised); on top, the magnetometer gets hard and soft iron (``raw = S @ true + h``), which the
walker simulation leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import Placement
from imugait.model import DeviceInfo, ImuStream
from imugait.simulate.sensors import (
    EARTH_FIELD_UT,
    EARTH_FIELD_WORLD_UT,
    FINITE_DIFF_H_S,
    SensorErrors,
    SensorTruth,
    apply_sensor_errors,
    ideal_signals,
)

FACE_UP_AXES: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (1.0, 0.0, 0.0), (-1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, -1.0, 0.0),
)
"""Sensor axis pointing up in each position: z up, z down, x up, x down, y up, y down."""

_S = float(np.sqrt(0.5))
EDGE_UP_AXES: tuple[tuple[float, float, float], ...] = (
    (_S, _S, 0.0), (-_S, _S, 0.0), (_S, 0.0, _S), (-_S, 0.0, _S), (0.0, _S, _S), (0.0, -_S, _S),
)
"""Six positions resting on an edge (45° between two faces), which make misalignment observable."""


@dataclass(frozen=True)
class StaticPoseConfig:
    """The simulated procedure: positions, timing, sensor errors."""

    up_axes: tuple[tuple[float, float, float], ...] = FACE_UP_AXES
    """Sensor-frame direction pointing up in each still position, in order."""
    hold_s: float = 6.0
    transition_s: float = 3.0
    """Time to turn the sensor from one position to the next (also before the first)."""
    rotation_s: float = 35.0
    """Slow rotation through all directions after the positions; 0 for none."""
    tilt_sd_deg: float = 3.0
    """How far from exact each position is (a person, a table, a book)."""
    sample_rate_hz: float = 100.0
    errors: SensorErrors = field(default_factory=SensorErrors)
    mag_hard_iron_sd_uT: float = 15.0
    mag_soft_iron_sd: float = 0.03
    placement: Placement = Placement.LEFT_THIGH
    device_id: str = "SIM-IMU-0001"
    seed: int = 0


@dataclass(frozen=True)
class HoldTruth:
    """One still position: when, and which sensor direction pointed up (unit, sensor frame)."""

    t_start_s: float
    t_end_s: float
    up_axis: np.ndarray


@dataclass(frozen=True, eq=False)
class StaticPoseTruth:
    """What the calibration should find.

    Attributes
    ----------
    sensor : accelerometer gain and bias, gyroscope gain and constant bias (``SensorTruth``).
    gyr_bias_radps : (N, 3) rad/s, the gyroscope bias at every sample (constant + random walk).
    mag_hard_iron_uT : (3,) µT.
    mag_soft_iron : (3, 3): ``raw = mag_soft_iron @ true + mag_hard_iron_uT``.
    field_uT : true field strength, µT.
    holds : the still positions.
    rotation_interval_s : start and end of the rotation, or None.
    """

    sensor: SensorTruth
    gyr_bias_radps: np.ndarray
    mag_hard_iron_uT: np.ndarray
    mag_soft_iron: np.ndarray
    field_uT: float
    holds: tuple[HoldTruth, ...]
    rotation_interval_s: tuple[float, float] | None


def simulate_static_poses(config: StaticPoseConfig = StaticPoseConfig()) -> tuple[ImuStream, StaticPoseTruth]:
    """The stream of one sensor going through ``config``'s positions and rotation, and its truth."""
    rng = np.random.default_rng(config.seed)
    keyframes = [_pose(np.asarray(a, dtype=float), config.tilt_sd_deg, rng) for a in config.up_axes]
    start = Rotation.random(random_state=rng)
    schedule, holds, t = [], [], 0.0
    previous = start
    for axis, r in zip(config.up_axes, keyframes, strict=True):
        schedule.append(("turn", t, t + config.transition_s, previous, r))
        t += config.transition_s
        schedule.append(("hold", t, t + config.hold_s, r, r))
        holds.append(HoldTruth(t, t + config.hold_s, np.asarray(axis, dtype=float) / np.linalg.norm(axis)))
        t += config.hold_s
        previous = r
    rotation = None
    if config.rotation_s > 0:
        schedule.append(("rotate", t, t + config.rotation_s, previous, previous))
        rotation = (t, t + config.rotation_s)
        t += config.rotation_s
    duration_s = t

    h = FINITE_DIFF_H_S
    period_s = 1.0 / config.sample_rate_hz
    n = int(np.floor((duration_s - 2 * h) / period_s))
    times = h + period_s * np.arange(n)
    r3 = _orientation(np.concatenate([times - h, times, times + h]), schedule)
    acc, gyr, mag = ideal_signals(r3, np.zeros((n, 3)), EARTH_FIELD_WORLD_UT, h)

    soft = np.eye(3) + rng.normal(0.0, config.mag_soft_iron_sd, (3, 3))
    hard = rng.normal(0.0, config.mag_hard_iron_sd_uT, 3)
    measured = apply_sensor_errors(acc, gyr, mag @ soft.T + hard, config.errors, period_s, rng)
    errors = config.errors
    stream = ImuStream(
        placement=config.placement, t_s=times, acc_mps2=measured.acc_mps2, gyr_radps=measured.gyr_radps,
        mag_uT=measured.mag_uT, sample_rate_hz=config.sample_rate_hz,
        device=DeviceInfo(
            device_id=config.device_id, model="imugait simulator", protocol="simulated",
            acc_range_mps2=errors.acc_range_mps2, gyr_range_radps=errors.gyr_range_radps,
        ),
    )
    sensor = SensorTruth(
        placement=config.placement, q_segment_sensor=np.array([1.0, 0.0, 0.0, 0.0]),
        position_segment_m=np.zeros(3), gyr_bias_radps=measured.gyr_bias_radps,
        acc_bias_mps2=measured.acc_bias_mps2, acc_gain=measured.acc_gain, gyr_gain=measured.gyr_gain,
        clock_drift_ppm=0.0, clock_offset_s=0.0, n_lost=0,
    )
    truth = StaticPoseTruth(
        sensor=sensor, gyr_bias_radps=measured.gyr_bias_radps + measured.gyr_bias_walk_radps,
        mag_hard_iron_uT=hard, mag_soft_iron=soft, field_uT=EARTH_FIELD_UT, holds=tuple(holds),
        rotation_interval_s=rotation,
    )
    return stream, truth


def _pose(up_axis: np.ndarray, tilt_sd_deg: float, rng: np.random.Generator) -> Rotation:
    """``r_world_sensor`` with ``up_axis`` pointing (nearly) up, at a random heading."""
    up_axis = up_axis / np.linalg.norm(up_axis)
    align, _ = Rotation.align_vectors([[0.0, 0.0, 1.0]], [up_axis])
    heading = Rotation.from_euler("z", rng.uniform(0.0, 2 * np.pi))
    tilt = Rotation.from_rotvec(np.append(rng.normal(0.0, np.radians(tilt_sd_deg), 2), 0.0))
    return tilt * heading * align


def _orientation(t_s: np.ndarray, schedule: list) -> Rotation:
    """``r_world_sensor`` at every time, from the schedule of turns, holds and the rotation."""
    q = np.tile([1.0, 0.0, 0.0, 0.0], (t_s.size, 1))
    for i, (kind, t0, t1, r_from, r_to) in enumerate(schedule):
        sel = (t_s >= t0) & ((t_s <= t1) if i == len(schedule) - 1 else (t_s < t1))
        if not sel.any():
            continue
        u = (t_s[sel] - t0) / (t1 - t0)
        if kind == "hold":
            r = Rotation.from_quat(np.tile(r_from.as_quat(), (sel.sum(), 1)))
        elif kind == "turn":
            s = u * u * (3.0 - 2.0 * u)  # smoothstep: starts and ends at rest
            r = r_from * Rotation.from_rotvec(s[:, None] * (r_from.inv() * r_to).as_rotvec())
        else:
            r = r_from * _tumble(t_s[sel] - t0)
        q[sel] = r.as_quat(scalar_first=True)
    return Rotation.from_quat(q, scalar_first=True)


def _tumble(tau_s: np.ndarray) -> Rotation:
    """A slow hand rotation that points every face up and down within ~13 s (starts at identity)."""
    ramp = np.clip(tau_s / 2.0, 0.0, 1.0)
    ramp = ramp * ramp * (3.0 - 2.0 * ramp)  # ease in from rest over 2 s
    alpha = 2 * np.pi * tau_s / 11.0
    beta = 0.5 * np.pi * (1.0 - np.cos(2 * np.pi * tau_s / 13.0))
    gamma = 2 * np.pi * tau_s / 7.0
    return Rotation.from_euler("ZYZ", np.column_stack([alpha, beta, gamma]) * ramp[:, None])
