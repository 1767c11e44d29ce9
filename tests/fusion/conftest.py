"""Synthetic ground truth for the fusion tests, generated here (no data files).

A smooth random 3D rotation is drawn as sums of sinusoids in Z-Y-X Euler angles (heading over
the full circle, tilt up to ±60°), sampled at ``rate_hz``. The gyroscope is derived *exactly*
from consecutive truth orientations (``q_k = q_{k-1} ⊗ exp(ω_k·Ts)``, the update every filter
here uses: each sample is the mean rate over the interval ending at it,
``GyroSampling.INTERVAL_MEAN``, which the ``fused`` fixture tells the filters); the accelerometer
is ``Rᵀ·((0, 0, 9.81) + a_lin)``, the magnetometer ``Rᵀ·(field with 65° dip, north = +y)``, all in
the sensor frame, plus white noise and an optional constant gyro bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

GRAVITY_UP_MPS2 = np.array([0.0, 0.0, 9.81])
FIELD_UT = 45.0
DIP_DEG = 65.0
FIELD_WORLD_UT = FIELD_UT * np.array([0.0, np.cos(np.radians(DIP_DEG)), -np.sin(np.radians(DIP_DEG))])
"""Earth's field in ENU: horizontal part towards north (+y), pointing down (central Europe)."""


@dataclass(frozen=True)
class Synthetic:
    rate_hz: float
    q_world_sensor: np.ndarray  # (N, 4) truth, ENU
    gyr_radps: np.ndarray
    acc_mps2: np.ndarray
    mag_uT: np.ndarray

    @property
    def t_s(self) -> np.ndarray:
        return np.arange(self.q_world_sensor.shape[0]) / self.rate_hz


def _smooth(rng: np.random.Generator, t: np.ndarray, amplitude: float, f_max_hz: float, n: int = 4) -> np.ndarray:
    freqs = rng.uniform(0.05, f_max_hz, n)
    phases = rng.uniform(0, 2 * np.pi, n)
    amps = rng.uniform(0.3, 1.0, n)
    amps *= amplitude / amps.sum()
    return np.sum(amps[:, None] * np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None]), axis=0)


def _motion_clock(t: np.ndarray, rate_hz: float, every_s: float, rest_s: float) -> np.ndarray:
    """A clock that stands still for ``rest_s`` at the start of every ``every_s`` (smooth edges),
    so orientations driven by it hold still: rest phases like standing between walks."""
    phase = np.mod(t, every_s)
    ramp_s = 0.5
    speed = np.clip((phase - rest_s) / ramp_s, 0.0, 1.0)
    speed = 0.5 - 0.5 * np.cos(np.pi * speed)
    return np.cumsum(speed) / rate_hz


def make_synthetic(
    duration_s: float = 60.0,
    rate_hz: float = 200.0,
    seed: int = 0,
    lin_acc_rms_mps2: float = 0.0,
    gyr_bias_radps=(0.0, 0.0, 0.0),
    gyr_noise_radps: float = 0.005,
    acc_noise_mps2: float = 0.05,
    mag_noise_uT: float = 0.3,
    rest_every_s: float | None = None,
    rest_duration_s: float = 4.0,
) -> Synthetic:
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * rate_hz))
    t = np.arange(n) / rate_hz
    tau = t if rest_every_s is None else _motion_clock(t, rate_hz, rest_every_s, rest_duration_s)
    euler = np.column_stack([
        _smooth(rng, tau, np.pi, 0.4),             # heading, rad
        _smooth(rng, tau, np.radians(60), 0.8),    # pitch
        _smooth(rng, tau, np.radians(60), 0.8),    # roll
    ])
    r = Rotation.from_euler("ZYX", euler)
    q = r.as_quat(scalar_first=True)
    gyr = np.zeros((n, 3))
    gyr[1:] = (r[:-1].inv() * r[1:]).as_rotvec() * rate_hz
    lin = np.zeros((n, 3))
    if lin_acc_rms_mps2 > 0:
        # Gait-like: ~1–3 Hz, zero mean, scaled to the wanted RMS magnitude.
        lin = np.column_stack([_smooth(rng, t, 1.0, 3.0, n=6) for _ in range(3)])
        lin *= lin_acc_rms_mps2 / np.sqrt(np.mean(np.sum(lin**2, axis=1)))
    acc = r.inv().apply(GRAVITY_UP_MPS2 + lin)
    mag = r.inv().apply(np.tile(FIELD_WORLD_UT, (n, 1)))
    gyr = gyr + np.asarray(gyr_bias_radps) + rng.normal(0, gyr_noise_radps, (n, 3))
    acc = acc + rng.normal(0, acc_noise_mps2, (n, 3))
    mag = mag + rng.normal(0, mag_noise_uT, (n, 3))
    return Synthetic(rate_hz, q, gyr, acc, mag)


@pytest.fixture(scope="session")
def synthetic_clean() -> Synthetic:
    """40 s at 200 Hz, sensor noise only."""
    return make_synthetic(duration_s=40.0)


@pytest.fixture(scope="session")
def synthetic_gait() -> Synthetic:
    """40 s at 200 Hz with gait-like linear acceleration of 1.7 m/s² RMS, the gait-like level used in the project reference notes."""
    return make_synthetic(duration_s=40.0, seed=1, lin_acc_rms_mps2=1.7)


@pytest.fixture(scope="session")
def fused():
    """Cached batch runs: ``fused(data, kind, use_magnetometer) -> FusionResult``."""
    from imugait.fusion import FusionSettings, make_filter
    from imugait.model import GyroSampling

    cache: dict = {}

    def run(data: Synthetic, kind, use_magnetometer: bool = False):
        key = (id(data), kind, use_magnetometer)
        if key not in cache:
            settings = FusionSettings.from_rate(data.rate_hz, use_magnetometer=use_magnetometer,
                                                gyr_sampling=GyroSampling.INTERVAL_MEAN)
            cache[key] = make_filter(kind, settings).estimate(data.gyr_radps, data.acc_mps2, data.mag_uT)
        return cache[key]

    return run
