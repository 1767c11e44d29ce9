"""The sensor model: what a real IMU strapped on a segment would report.

Ideal signals come from the walker's pose (specific force and angular rate in the sensor frame,
the earth's field plus optional disturbance); then mounting, soft-tissue artefact (optional,
:mod:`imugait.simulate.soft_tissue`) and wobble, scale and axis misalignment, bias and bias drift,
noise, int16 quantisation with range saturation, a clock that runs off by some ppm, and lost
samples. Each sample is the signal at its instant (point sampling, the default) or, with
``SensorErrors.anti_alias = AntiAlias.ODR``, its mean over the sample interval (a low-pass tied to
the output rate, as many MEMS chips filter before they sample: docs/simulate.md, *Low-pass before
sampling*).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from enum import Enum

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import GRAVITY_MPS2, GRAVITY_WORLD_MPS2, Placement, Segment
from imugait.errors import ValidationError
from imugait.model import DeviceInfo, Gap, GyroSampling, ImuStream
from imugait.simulate.soft_tissue import SoftTissueArtefact, draw_soft_tissue
from imugait.simulate.walker import Walker

FINITE_DIFF_H_S = 5e-4
"""Half-step of the central differences giving angular rate and acceleration."""

EARTH_FIELD_UT = 48.0
EARTH_DIP_RAD = np.deg2rad(60.0)
EARTH_FIELD_WORLD_UT = EARTH_FIELD_UT * np.array([0.0, np.cos(EARTH_DIP_RAD), -np.sin(EARTH_DIP_RAD)])
"""A mid-latitude field: north along +y, pointing down (northern hemisphere)."""

SOFT_TISSUE_SPAWN_KEY = 0x57A
"""Extra spawn-key element of the generator the soft-tissue artefact is drawn from."""

ANTI_ALIAS_SUBSAMPLE_HZ = 400.0
"""Rate of the instants averaged into one sample with :attr:`AntiAlias.ODR` (at least this, a whole
number per sample interval): far above the body's and the artefact's content (≤ 20 Hz vibration)."""


class AntiAlias(Enum):
    """What the sensor does before it samples at its output data rate (ODR)."""

    NONE = "none"
    """Point samples: the signal at each sample's instant, nothing filtered (the default; a chip
    whose low-pass is set far wider than the output rate, e.g. an MPU-6050/9250 whose DLPF is
    set apart from its sample-rate divider)."""
    ODR = "odr"
    """A low-pass tied to the output rate: each accelerometer and gyroscope sample is the mean of
    the signal over the sample interval centred on the sample's instant (a box-car of one
    interval, −3 dB at 0.44 × ODR, near the Bosch BMI160/BMI270 "normal" filter's 0.40–0.44 × ODR;
    the filter's group delay taken out of the time stamps). The magnetometer's samples likewise."""


@dataclass(frozen=True)
class SensorErrors:
    """Error magnitudes of one sensor model (the draws per sensor are random, seeded)."""

    acc_noise_mps2: float = 0.02
    gyr_noise_radps: float = 0.004
    mag_noise_uT: float = 0.3
    gyr_bias_radps: float = 0.01
    """SD of the constant gyroscope bias per axis."""
    gyr_bias_walk_radps_per_sqrt_s: float = 2e-4
    acc_bias_mps2: float = 0.05
    scale_error: float = 0.01
    """SD of the per-axis scale-factor error (fraction)."""
    misalignment_rad: float = 0.005
    """SD of the axis non-orthogonality terms."""
    acc_range_mps2: float = 16.0 * GRAVITY_MPS2
    gyr_range_radps: float = np.deg2rad(2000.0)
    mag_range_uT: float = 4900.0
    quantise: bool = True
    clock_drift_ppm: float = 30.0
    """SD of the crystal error per sensor."""
    loss_probability: float = 0.0
    """Probability that a sample starts a lost burst."""
    loss_burst_mean: float = 2.0
    wobble_deg: float = 0.8
    """Soft-tissue wobble: rotation amplitude after each initial contact of the leg (the small
    legacy model; the soft-tissue artefact below has its own heel-strike vibration, so callers
    that turn that on set this to 0)."""
    soft_tissue_scale: float = 0.0
    """Soft-tissue artefact on thigh and shank sensors (:mod:`imugait.simulate.soft_tissue`):
    0 = none (default), 1 = amplitudes drawn from the sourced ranges of
    ``imugait/data/soft_tissue_artefact.json``, other values scale those amplitudes."""
    magnetic_disturbance_uT: float = 0.0
    """Peak of a local disturbance (e.g. steel) placed along the walking path."""
    anti_alias: AntiAlias = AntiAlias.NONE
    """Low-pass before sampling (:class:`AntiAlias`); draws nothing, so a sensor's other errors
    are the same either way."""

    def __post_init__(self) -> None:
        if not isinstance(self.anti_alias, AntiAlias):
            raise ValidationError(f"sensor errors: anti_alias must be an AntiAlias, got {self.anti_alias!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool | AntiAlias):
                continue
            if not (math.isfinite(value) and value >= 0.0):
                raise ValidationError(f"sensor errors: {f.name} must be a finite number >= 0, got {value!r}")
        if not self.loss_probability < 1.0:
            raise ValidationError(f"sensor errors: loss_probability must be below 1, got {self.loss_probability!r}")

    @classmethod
    def ideal(cls) -> SensorErrors:
        """No error of any kind: the signals are the exact physics (for consistency tests)."""
        return cls(
            acc_noise_mps2=0.0, gyr_noise_radps=0.0, mag_noise_uT=0.0, gyr_bias_radps=0.0,
            gyr_bias_walk_radps_per_sqrt_s=0.0, acc_bias_mps2=0.0, scale_error=0.0,
            misalignment_rad=0.0, quantise=False, clock_drift_ppm=0.0, wobble_deg=0.0,
        )


@dataclass(frozen=True)
class Mounting:
    """Where and how a sensor sits on its segment.

    ``position_segment_m`` is measured from the segment's proximal joint centre in the segment's
    ISB frame; ``r_segment_sensor`` is the sensor frame in the segment frame.
    """

    position_segment_m: np.ndarray
    r_segment_sensor: Rotation


@dataclass(frozen=True)
class SensorTruth:
    """The hidden parameters of one simulated sensor, for tests and calibration checks."""

    placement: Placement
    q_segment_sensor: np.ndarray
    position_segment_m: np.ndarray
    gyr_bias_radps: np.ndarray
    acc_bias_mps2: np.ndarray
    acc_gain: np.ndarray
    """(3, 3): measured = gain @ true + bias (scale and misalignment)."""
    gyr_gain: np.ndarray
    clock_drift_ppm: float
    clock_offset_s: float
    """True time of the sensor's first sample."""
    n_lost: int
    extra: dict = field(default_factory=dict)
    soft_tissue: SoftTissueArtefact | None = None
    """The artefact drawn for this sensor (None when the model is off)."""


def default_mounting(placement: Placement, walker: Walker, rng: np.random.Generator, random_rotation: bool) -> Mounting:
    """A sensor on the lateral side of the segment (front of the sacrum for the pelvis).

    With ``random_rotation`` the sensor is turned arbitrarily (uniform over all rotations), as a
    person might strap it on; otherwise its axes follow the segment's.
    """
    side = placement.side
    if placement.segment is Segment.PELVIS:
        position = np.array([-0.10, 0.05, 0.0])
    else:
        length = walker.params.segment_length_m(placement.segment)
        radius = 0.08 if placement.segment is Segment.THIGH else 0.05
        along = 0.5 if placement.segment is Segment.THIGH else 0.4
        position = np.array([0.0, -along * length, side.mirror * radius])
    r = Rotation.random(random_state=rng) if random_rotation else Rotation.identity()
    return Mounting(position, r)


def simulate_sensor(
    placement: Placement,
    walker: Walker,
    mounting: Mounting,
    errors: SensorErrors,
    sample_rate_hz: float,
    rng: np.random.Generator,
    soft_tissue: SoftTissueArtefact | None = None,
) -> tuple[ImuStream, SensorTruth]:
    """One sensor's stream (session clock = true time) and its hidden parameters.

    With ``soft_tissue`` the sensor turns and slides on its segment (rotation about the sensor's
    centre, displacement of that centre, both in the segment frame) before the signals are
    differentiated from its pose, so gyroscope and accelerometer see the same motion.
    """
    key = (placement.segment, placement.side)
    drift_ppm = float(rng.normal(0.0, errors.clock_drift_ppm)) if errors.clock_drift_ppm else 0.0
    offset_s = float(rng.uniform(0.0, 1.0 / sample_rate_hz))
    period_s = 1.0 / (sample_rate_hz * (1.0 + drift_ppm * 1e-6))
    h = FINITE_DIFF_H_S
    n = int(np.floor((walker.timeline.duration_s - offset_s - 2 * h) / period_s))
    t = offset_s + period_s * np.arange(n)

    # The instants each sample is made of: its own, or (ODR-tied low-pass) k instants spread evenly
    # over the interval centred on it, averaged below.
    k = _subsamples(errors.anti_alias, sample_rate_hz)
    t_sub = (t[:, None] + period_s * ((np.arange(k) + 0.5) / k - 0.5)).ravel() if k > 1 else t
    m = t_sub.size
    # Sensor orientation and position at t-h, t, t+h, one batch.
    t3 = np.concatenate([t_sub - h, t_sub, t_sub + h])
    pose = walker.pose(t3)
    r_seg = pose.r_world[key]
    r_skin = _wobble(walker, placement, t3, errors.wobble_deg, rng)
    position_segment_m = mounting.position_segment_m
    if soft_tissue is not None:
        r_sta, shift_m = soft_tissue.evaluate(walker, pose.angles_rad, t3)
        r_skin = r_sta * r_skin
        position_segment_m = position_segment_m + shift_m
    r_sensor = r_seg * r_skin * mounting.r_segment_sensor
    p_sensor = pose.origin_m[key] + r_seg.apply(position_segment_m)
    acc_world = (p_sensor[2 * m :] - 2 * p_sensor[m : 2 * m] + p_sensor[:m]) / h**2
    field_world = EARTH_FIELD_WORLD_UT + _disturbance_uT(p_sensor[m : 2 * m], errors.magnetic_disturbance_uT)
    acc, gyr, mag = ideal_signals(r_sensor, acc_world, field_world, h)
    if k > 1:
        acc, gyr, mag = (x.reshape(n, k, 3).mean(axis=1) for x in (acc, gyr, mag))
    measured = apply_sensor_errors(acc, gyr, mag, errors, period_s, rng)
    acc, gyr, mag = measured.acc_mps2, measured.gyr_radps, measured.mag_uT
    acc_gain, acc_bias = measured.acc_gain, measured.acc_bias_mps2
    gyr_gain, gyr_bias = measured.gyr_gain, measured.gyr_bias_radps

    keep = _kept_samples(n, errors.loss_probability, errors.loss_burst_mean, rng)
    gaps = _gaps(keep)
    device = DeviceInfo(
        device_id=f"SIM-{placement.value}",
        model="imugait simulator",
        protocol="simulated",
        acc_range_mps2=errors.acc_range_mps2,
        gyr_range_radps=errors.gyr_range_radps,
        # ideal_signals: the rate at each sample's instant, or its mean over the interval centred on it
        gyr_sampling=GyroSampling.INSTANT,
    )
    stream = ImuStream(
        placement=placement, t_s=t[keep], acc_mps2=acc[keep], gyr_radps=gyr[keep], mag_uT=mag[keep],
        sample_rate_hz=sample_rate_hz, device=device, gaps=gaps,
    )
    truth = SensorTruth(
        placement=placement,
        q_segment_sensor=mounting.r_segment_sensor.as_quat(scalar_first=True),
        position_segment_m=mounting.position_segment_m,
        gyr_bias_radps=gyr_bias, acc_bias_mps2=acc_bias, acc_gain=acc_gain, gyr_gain=gyr_gain,
        clock_drift_ppm=drift_ppm, clock_offset_s=offset_s, n_lost=int(n - keep.sum()),
        soft_tissue=soft_tissue,
    )
    return stream, truth


def simulate_worn_sensors(
    placements: tuple[Placement, ...],
    walker: Walker,
    seeds: list[np.random.SeedSequence],
    errors: SensorErrors,
    sample_rate_hz: float,
    random_mounting: bool,
    mountings: dict[Placement, Mounting] | None = None,
) -> tuple[list[ImuStream], dict[Placement, SensorTruth]]:
    """Every sensor of ``placements`` worn on ``walker`` (a walker or a scripted body), one seed each.

    A placement without an explicit mounting in ``mountings`` gets :func:`default_mounting` drawn
    from its own seeded generator, which then simulates the sensor (so each sensor's draws depend on
    its seed only). The soft-tissue artefact, when on, is drawn from a generator of its own
    (derived from the sensor's seed), so turning it on changes nothing else of the sensor.
    Returns the streams in placement order and each sensor's truth.
    """
    streams, sensors = [], {}
    for placement, seed in zip(placements, seeds, strict=True):
        rng = np.random.default_rng(seed)
        mounting = (mountings or {}).get(placement) or default_mounting(placement, walker, rng, random_mounting)
        soft_tissue = draw_soft_tissue(placement, errors.soft_tissue_scale, np.random.default_rng(_child(seed)))
        stream, truth = simulate_sensor(placement, walker, mounting, errors, sample_rate_hz, rng, soft_tissue)
        streams.append(stream)
        sensors[placement] = truth
    return streams, sensors


def _subsamples(anti_alias: AntiAlias, sample_rate_hz: float) -> int:
    """How many instants one sample averages: 1 for point samples, else at least
    :data:`ANTI_ALIAS_SUBSAMPLE_HZ` / ``sample_rate_hz``."""
    return 1 if anti_alias is AntiAlias.NONE else max(1, math.ceil(ANTI_ALIAS_SUBSAMPLE_HZ / sample_rate_hz))


def _child(seed: np.random.SeedSequence) -> np.random.SeedSequence:
    """A seed derived from ``seed`` without spawning from it (``seed`` stays untouched)."""
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, SOFT_TISSUE_SPAWN_KEY))


def ideal_signals(
    r_world_sensor: Rotation, acc_world_mps2: np.ndarray, field_world_uT: np.ndarray, h_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Error-free accelerometer, gyroscope and magnetometer signals from a sensor's motion.

    Parameters
    ----------
    r_world_sensor : Rotation of length 3N
        Sensor orientation at ``t - h``, ``t`` and ``t + h`` (three blocks of N, in that order).
    acc_world_mps2 : (N, 3) m/s², world frame: acceleration of the sensor at ``t``.
    field_world_uT : (N, 3) or (3,) µT, world frame: magnetic field at the sensor.
    h_s : half-step of the central differences, s.

    Returns
    -------
    acc_mps2, gyr_radps, mag_uT : (N, 3) each, sensor frame (specific force, angular rate, field).
    """
    n = len(r_world_sensor) // 3
    r_before, r_now, r_after = r_world_sensor[:n], r_world_sensor[n : 2 * n], r_world_sensor[2 * n :]
    gyr = (r_before.inv() * r_after).as_rotvec() / (2 * h_s)
    acc = r_now.inv().apply(acc_world_mps2 - GRAVITY_WORLD_MPS2)
    mag = r_now.inv().apply(field_world_uT)
    return acc, gyr, mag


@dataclass(frozen=True, eq=False)
class MeasuredSignals:
    """Signals after :func:`apply_sensor_errors`, with the error parameters that were drawn."""

    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    mag_uT: np.ndarray
    acc_gain: np.ndarray
    acc_bias_mps2: np.ndarray
    gyr_gain: np.ndarray
    gyr_bias_radps: np.ndarray
    gyr_bias_walk_radps: np.ndarray
    """(N, 3): random-walk part of the gyroscope bias; the bias at sample i is ``gyr_bias_radps + walk[i]``."""


def apply_sensor_errors(
    acc_mps2: np.ndarray, gyr_radps: np.ndarray, mag_uT: np.ndarray, errors: SensorErrors,
    period_s: float, rng: np.random.Generator,
) -> MeasuredSignals:
    """The sensor's error model: ``measured = gain @ true + bias (+ bias walk) + noise``, quantised.

    Inputs are ``(N, 3)`` ideal signals in the sensor frame (m/s², rad/s, µT); scale,
    misalignment and bias are drawn from ``rng`` with the SDs of ``errors``. The magnetometer gets
    noise and quantisation only.
    """
    n = acc_mps2.shape[0]
    acc_gain, acc_bias = _gain(rng, errors.scale_error, errors.misalignment_rad), rng.normal(0, errors.acc_bias_mps2, 3)
    gyr_gain, gyr_bias = _gain(rng, errors.scale_error, errors.misalignment_rad), rng.normal(0, errors.gyr_bias_radps, 3)
    bias_walk = np.cumsum(rng.normal(0.0, errors.gyr_bias_walk_radps_per_sqrt_s * np.sqrt(period_s), (n, 3)), axis=0)
    acc = acc_mps2 @ acc_gain.T + acc_bias + rng.normal(0.0, errors.acc_noise_mps2, (n, 3))
    gyr = gyr_radps @ gyr_gain.T + gyr_bias + bias_walk + rng.normal(0.0, errors.gyr_noise_radps, (n, 3))
    mag = mag_uT + rng.normal(0.0, errors.mag_noise_uT, (n, 3))
    if errors.quantise:
        acc = _quantise(acc, errors.acc_range_mps2)
        gyr = _quantise(gyr, errors.gyr_range_radps)
        mag = _quantise(mag, errors.mag_range_uT)
    return MeasuredSignals(acc, gyr, mag, acc_gain, acc_bias, gyr_gain, gyr_bias, bias_walk)


def _gain(rng: np.random.Generator, scale_sd: float, misalignment_sd: float) -> np.ndarray:
    off_diagonal = rng.normal(0.0, misalignment_sd, (3, 3))
    np.fill_diagonal(off_diagonal, 0.0)
    return np.eye(3) + np.diag(rng.normal(0.0, scale_sd, 3)) + off_diagonal


def _quantise(x: np.ndarray, full_scale: float) -> np.ndarray:
    """int16 counts over ±full_scale, saturating like a real converter."""
    lsb = full_scale / 32768.0
    return np.clip(np.round(x / lsb), -32768, 32767) * lsb


def _kept_samples(n: int, p_start: float, burst_mean: float, rng: np.random.Generator) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    if p_start <= 0:
        return keep
    starts = np.flatnonzero(rng.random(n) < p_start)
    lengths = rng.geometric(1.0 / max(burst_mean, 1.0), starts.size)
    for s, length in zip(starts, lengths, strict=True):
        keep[s : s + length] = False
    keep[0] = keep[-1] = True  # a stream starts and ends with a received sample
    return keep


def _gaps(keep: np.ndarray) -> tuple[Gap, ...]:
    kept_idx = np.flatnonzero(keep)
    jumps = np.diff(kept_idx) - 1
    return tuple(Gap(int(i), int(j)) for i, j in enumerate(jumps) if j > 0)


def _wobble(walker: Walker, placement: Placement, t_s: np.ndarray, amplitude_deg: float, rng) -> Rotation:
    """Soft-tissue wobble of the sensor on its segment: a damped oscillation after each heel strike."""
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    if amplitude_deg <= 0 or placement.side is None:
        return Rotation.identity(t_s.size)
    phase = walker.leg_phase(t_s, placement.side)
    since_contact_s = np.mod(phase, 1.0) * walker.params.stride_time_s
    frequency_hz = 12.0 if placement.segment is Segment.THIGH else 16.0
    decay_s = 0.05
    w = np.clip(walker.timeline.walking_weight(t_s), 0.0, 1.0)
    angle = (
        np.deg2rad(amplitude_deg) * w * np.exp(-since_contact_s / decay_s)
        * np.sin(2 * np.pi * frequency_hz * since_contact_s)
    )
    return Rotation.from_rotvec(angle[:, None] * axis)


def _disturbance_uT(position_m: np.ndarray, peak_uT: float) -> np.ndarray:
    """A dipole-like disturbance near a point 4 m along +x from the start, 0.5 m off the path."""
    if peak_uT <= 0:
        return np.zeros_like(position_m)
    source = np.array([4.0, 0.5, 0.3])
    d = position_m - source
    r2 = np.sum(d**2, axis=1, keepdims=True)
    falloff = 1.0 / (1.0 + r2 / 0.5**2) ** 1.5
    return peak_uT * falloff * np.array([1.0, -0.5, 0.8]) / np.linalg.norm([1.0, -0.5, 0.8])
