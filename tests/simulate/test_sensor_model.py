"""The sensor model's error sources do what they say, and runs are reproducible."""

import numpy as np
import pytest

from imugait.conventions import Placement
from imugait.simulate import SensorErrors, SimulationConfig, simulate, walking_test

SHORT = walking_test(n_bouts=1, bout_s=6.0, stand_s=2.0)


def run(**kwargs):
    return simulate(SimulationConfig(timeline=SHORT, **kwargs))


def test_same_seed_same_bits_other_seed_other_bits():
    a, b, c = run(seed=11), run(seed=11), run(seed=12)
    for p in a.session:
        assert np.array_equal(a.session[p].gyr_radps, b.session[p].gyr_radps)
        assert np.array_equal(a.session[p].t_s, b.session[p].t_s)
    assert not np.array_equal(a.session[Placement.LEFT_THIGH].acc_mps2, c.session[Placement.LEFT_THIGH].acc_mps2)


def test_lost_samples_are_counted_not_interpolated():
    errors = SensorErrors(loss_probability=0.01, loss_burst_mean=2.0)
    result = run(errors=errors, seed=4)
    for p, stream in result.session.items():
        truth = result.sensors[p]
        assert stream.n_lost_total == truth.n_lost > 0
        # Every gap shows as a jump of (n_lost + 1) sample periods in t_s.
        period = np.median(np.diff(stream.t_s))
        for gap in stream.gaps:
            jump = stream.t_s[gap.after_index + 1] - stream.t_s[gap.after_index]
            assert jump == pytest.approx((gap.n_lost + 1) * period, rel=1e-6)


def test_clock_drift_changes_the_sample_period():
    result = run(errors=SensorErrors(clock_drift_ppm=50.0), seed=9)
    for p, stream in result.session.items():
        ppm = result.sensors[p].clock_drift_ppm
        period = (stream.t_s[-1] - stream.t_s[0]) / (stream.n_samples - 1)
        assert period == pytest.approx(1.0 / (100.0 * (1 + ppm * 1e-6)), rel=1e-9)


def test_quantisation_and_saturation():
    errors = SensorErrors(gyr_range_radps=2.0, acc_range_mps2=20.0)
    stream = run(errors=errors, seed=2).session[Placement.RIGHT_SHANK]
    lsb = 2.0 / 32768
    counts = stream.gyr_radps / lsb
    np.testing.assert_allclose(counts, np.round(counts), atol=1e-6)
    assert stream.gyr_radps.max() == pytest.approx(32767 * lsb)  # a swinging shank saturates ±2 rad/s
    assert stream.acc_mps2.min() >= -20.0


def test_gyro_bias_is_what_the_truth_says():
    errors = SensorErrors(
        gyr_bias_radps=0.02, gyr_noise_radps=0.001, gyr_bias_walk_radps_per_sqrt_s=0.0, quantise=False,
        wobble_deg=0.0,
    )
    result = run(errors=errors, seed=6)
    for p, stream in result.session.items():
        still = stream.t_s < 1.5
        np.testing.assert_allclose(stream.gyr_radps[still].mean(axis=0), result.sensors[p].gyr_bias_radps, atol=5e-4)


def test_random_mountings_differ_between_sensors():
    result = run(seed=1)
    qs = np.array([s.q_segment_sensor for s in result.sensors.values()])
    assert np.linalg.matrix_rank(qs) == 4  # four unrelated rotations
