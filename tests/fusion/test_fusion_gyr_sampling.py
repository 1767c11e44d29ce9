"""How a gyroscope sample is integrated: the rate at its instant (``GyroSampling.INSTANT``, fed
as the trapezoid with the sample before) or the mean over its interval (``INTERVAL_MEAN``, fed as
it is). A point-sampled rate fed as an interval mean makes the orientation lead by half a sample.

The rotation here is about the vertical only (gravity stays on the sensor's z axis), so no filter's
accelerometer correction acts on it and the heading is the gyroscope's integral alone; every error
is the integration's.
"""

from __future__ import annotations

import numpy as np
import pytest

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.fusion import FilterKind, FusionSettings, VqfTuning, make_filter, orient_stream
from imugait.model import DeviceInfo, GyroSampling, ImuStream
from imugait.quaternion import quat_about_z

RATE_HZ = 50.0
SWING_RAD = 1.0
SWING_HZ = 2.0
"""A leg-like swing about the vertical: peak rate 12.6 rad/s, a lead of 10 ms is 7° at its peak."""


def _angle_rad(t_s: np.ndarray) -> np.ndarray:
    return SWING_RAD * np.sin(2 * np.pi * SWING_HZ * t_s)


def _turn(sampling: GyroSampling, seconds: float = 4.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """t_s, gyr, acc, and the true angle about z; the gyroscope as ``sampling`` delivers it."""
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    gyr = np.zeros((t.size, 3))
    if sampling is GyroSampling.INSTANT:
        gyr[:, 2] = SWING_RAD * 2 * np.pi * SWING_HZ * np.cos(2 * np.pi * SWING_HZ * t)
    else:  # the exact rotation over the interval ending at each sample (none before the first)
        gyr[1:, 2] = np.diff(_angle_rad(t)) * RATE_HZ
    acc = np.tile([0.0, 0.0, 9.81], (t.size, 1))
    return t, gyr, acc, _angle_rad(t)


def _heading_change_rad(q: np.ndarray) -> np.ndarray:
    """Rotation about z since the first sample (q is a pure rotation about z here)."""
    psi = np.unwrap(2.0 * np.arctan2(q[:, 3], q[:, 0]))
    return psi - psi[0]


def _rms_deg(x: np.ndarray) -> float:
    return float(np.degrees(np.sqrt(np.mean(x**2))))


def _error_deg(kind: FilterKind, data: GyroSampling, told: GyroSampling) -> float:
    t, gyr, acc, angle = _turn(data)
    settings = FusionSettings.from_rate(RATE_HZ, gyr_sampling=told)
    q = make_filter(kind, settings).estimate(gyr, acc).q_world_sensor
    return _rms_deg(_heading_change_rad(q) - (angle - angle[0]))


EXACT_MAX_DEG = {FilterKind.VQF_ONLINE: 0.01, FilterKind.VQF_OFFLINE: 0.01}
"""Exact increments integrated: VQF applies each as a rotation (exact); the ahrs filters step the
quaternion to first order (``q + ½ q ⊗ ω Ts``, normalised), 0.16° RMS here."""
EXACT_AHRS_MAX_DEG = 0.25


@pytest.mark.parametrize("kind", list(FilterKind))
def test_point_samples_integrated_as_such_do_not_lead(kind):
    # As the trapezoid: 0.2° RMS (VQF), 0.4° (ahrs' first-order step adds its own); taken as
    # interval means: the half-sample lead, 8.8° RMS of the heading change since the first sample.
    assert _error_deg(kind, GyroSampling.INSTANT, GyroSampling.INSTANT) < 0.5
    assert _error_deg(kind, GyroSampling.INSTANT, GyroSampling.INTERVAL_MEAN) > 5.0


@pytest.mark.parametrize("kind", list(FilterKind))
def test_interval_means_are_integrated_as_they_come(kind):
    assert _error_deg(kind, GyroSampling.INTERVAL_MEAN, GyroSampling.INTERVAL_MEAN) < EXACT_MAX_DEG.get(
        kind, EXACT_AHRS_MAX_DEG)
    # ... and averaged as if they were point samples they lag by half a sample.
    assert _error_deg(kind, GyroSampling.INTERVAL_MEAN, GyroSampling.INSTANT) > 3.0


def test_the_lead_is_half_a_sample():
    t, gyr, acc, _ = _turn(GyroSampling.INSTANT)
    lags_s = np.linspace(-0.02, 0.02, 81)

    def best_lag_s(sampling: GyroSampling) -> float:
        q = make_filter(FilterKind.VQF_ONLINE, FusionSettings.from_rate(RATE_HZ, gyr_sampling=sampling)).estimate(
            gyr, acc).q_world_sensor
        est = _heading_change_rad(q)
        errors = [_rms_deg(est - (_angle_rad(t + lag) - _angle_rad(np.array([lag]))[0])) for lag in lags_s]
        return float(lags_s[int(np.argmin(errors))])

    assert abs(best_lag_s(GyroSampling.INTERVAL_MEAN) - 0.5 / RATE_HZ) <= 0.001
    assert abs(best_lag_s(GyroSampling.INSTANT)) <= 0.001


def test_orient_stream_integrates_as_the_device_samples():
    t, gyr, acc, _ = _turn(GyroSampling.INSTANT)
    placement = Placement.RIGHT_SHANK
    results = {}
    for sampling in GyroSampling:
        stream = ImuStream(placement, t, acc, gyr, RATE_HZ, device=DeviceInfo(gyr_sampling=sampling))
        result = orient_stream(stream, FilterKind.VQF_ONLINE)
        assert result.settings.gyr_sampling is sampling
        results[sampling] = result.q_world_sensor
        expected = make_filter(FilterKind.VQF_ONLINE, result.settings).estimate(gyr, acc).q_world_sensor
        np.testing.assert_array_equal(results[sampling], expected)
    assert not np.allclose(results[GyroSampling.INSTANT], results[GyroSampling.INTERVAL_MEAN], atol=1e-3)


def test_offline_vqf_calls_are_each_a_whole_recording():
    # Offline VQF keeps no state between calls: the first sample of a call is not averaged with
    # the previous call's last one.
    _, gyr, acc, _ = _turn(GyroSampling.INSTANT)
    f = make_filter(FilterKind.VQF_OFFLINE, FusionSettings.from_rate(RATE_HZ))
    f.estimate(gyr[:50], acc[:50])
    again = f.estimate(gyr[50:], acc[50:]).q_world_sensor
    fresh = make_filter(FilterKind.VQF_OFFLINE, FusionSettings.from_rate(RATE_HZ)).estimate(gyr[50:], acc[50:])
    np.testing.assert_array_equal(again, fresh.q_world_sensor)


def test_reseed_forgets_the_sample_before_the_gap():
    # Two runs differing only in the last gyroscope sample before a re-seeding must go on alike
    # after it (VQF's bias estimation and rest detection off: nothing else remembers that sample).
    _, gyr, acc, _ = _turn(GyroSampling.INSTANT)
    settings = FusionSettings.from_rate(RATE_HZ, tuning=VqfTuning(motion_bias_estimation=False,
                                                                 rest_bias_estimation=False,
                                                                 mag_disturbance_rejection=False))
    other = gyr[:60].copy()
    other[-1, 2] += 5.0
    after = []
    for before in (gyr[:60], other):
        f = make_filter(FilterKind.VQF_ONLINE, settings)
        f.estimate(before, acc[:60])
        f.reseed(quat_about_z(0.3))
        after.append(f.estimate(gyr[80:], acc[80:]).q_world_sensor)
    np.testing.assert_array_equal(after[0], after[1])


def test_settings_refuse_a_sampling_that_is_not_the_enum():
    with pytest.raises(ValidationError, match="GyroSampling"):
        FusionSettings.from_rate(100.0, gyr_sampling="instant")
    with pytest.raises(ValidationError, match="GyroSampling"):
        DeviceInfo(gyr_sampling="interval_mean")
