"""``orient_stream``: a whole ImuStream through a filter, with the rate taken from ``t_s``."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.fusion import FilterKind, FusionSettings, make_filter, orient_stream
from imugait.fusion.evaluation import orientation_errors_rad
from imugait.fusion.select import _bridged_positions
from imugait.model import Gap, ImuStream


@pytest.fixture(scope="module")
def data():
    return make_synthetic(duration_s=20.0, rate_hz=100.0, seed=5)


def _stream(d, mag=True, t_s=None, rate_hz=None, gaps=()):
    return ImuStream(
        placement=Placement.LEFT_SHANK,
        t_s=d.t_s + 12.5 if t_s is None else t_s,
        acc_mps2=d.acc_mps2,
        gyr_radps=d.gyr_radps,
        mag_uT=d.mag_uT if mag else None,
        sample_rate_hz=d.rate_hz if rate_hz is None else rate_hz,
        gaps=gaps,
    )


def test_default_is_6d_offline_vqf(data):
    result = orient_stream(_stream(data))
    assert result.kind is FilterKind.VQF_OFFLINE
    assert not result.heading_is_magnetic
    assert result.q_world_sensor.shape == (data.t_s.size, 4)
    assert result.settings.sample_period_s == pytest.approx(0.01, abs=1e-9)
    # Same period as measured from t_s (differs from 1/100 in the last bits of float64).
    settings = FusionSettings(sample_period_s=result.settings.sample_period_s)
    expected = make_filter(FilterKind.VQF_OFFLINE, settings).estimate(
        data.gyr_radps, data.acc_mps2
    )
    np.testing.assert_allclose(result.q_world_sensor, expected.q_world_sensor, atol=1e-12)


def test_9d_heading_is_magnetic(data):
    result = orient_stream(_stream(data), kind=FilterKind.VQF_ONLINE, use_magnetometer=True)
    assert result.heading_is_magnetic
    _, heading, _ = orientation_errors_rad(result.q_world_sensor[500:], data.q_world_sensor[500:])
    assert np.degrees(np.sqrt(np.mean(heading**2))) < 1.0


def test_9d_without_magnetometer_names_the_sensor(data):
    with pytest.raises(ValidationError, match="left_shank: use_magnetometer=True but the stream has no magnetometer"):
        orient_stream(_stream(data, mag=False), use_magnetometer=True)


def test_rate_from_timestamps_wins_over_nominal(data):
    # A device configured for 100 Hz that really delivers 110 Hz: t_s is what the data is.
    t_s = np.arange(data.t_s.size) / 110.0
    with pytest.warns(UserWarning, match="t_s gives 110.00 Hz but the nominal rate is 100 Hz"):
        result = orient_stream(_stream(data, t_s=t_s))
    assert result.settings.sample_period_s == pytest.approx(1 / 110.0)


def test_small_jitter_does_not_warn(data, recwarn):
    rng = np.random.default_rng(0)
    t_s = data.t_s + rng.uniform(-1e-4, 1e-4, data.t_s.size)
    result = orient_stream(_stream(data, t_s=t_s))
    assert result.settings.sample_period_s == pytest.approx(0.01, rel=0.01)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_lost_samples_are_bridged_for_the_filter(data):
    """Dropping 5 samples mid-motion: the filter still integrates the rotation of the gap."""
    lost = np.arange(500, 505)
    keep = np.setdiff1d(np.arange(data.t_s.size), lost)
    stream = ImuStream(
        placement=Placement.LEFT_SHANK, t_s=data.t_s[keep], acc_mps2=data.acc_mps2[keep],
        gyr_radps=data.gyr_radps[keep], sample_rate_hz=data.rate_hz, gaps=(Gap(after_index=499, n_lost=5),),
    )
    with_gap = orient_stream(stream, kind=FilterKind.VQF_ONLINE).q_world_sensor
    assert with_gap.shape == (keep.size, 4)
    full = orient_stream(_stream(data, mag=False), kind=FilterKind.VQF_ONLINE).q_world_sensor[keep]
    after = slice(500, 700)  # the two seconds after the gap
    bridged_deg = np.rad2deg(orientation_errors_rad(with_gap[after], full[after])[0]).max()
    # Without bridging, the gap's rotation (0.05 s of motion) is simply missing from the estimate.
    naive = ImuStream(placement=Placement.LEFT_SHANK, t_s=data.t_s[: keep.size], acc_mps2=data.acc_mps2[keep],
                      gyr_radps=data.gyr_radps[keep], sample_rate_hz=data.rate_hz)
    naive_q = orient_stream(naive, kind=FilterKind.VQF_ONLINE).q_world_sensor
    naive_deg = np.rad2deg(orientation_errors_rad(naive_q[after], full[after])[0]).max()
    assert bridged_deg < 0.5
    assert naive_deg > 3 * bridged_deg


def test_not_a_stream():
    with pytest.raises(ValidationError, match="needs an ImuStream"):
        orient_stream(np.zeros((10, 3)))


@pytest.mark.parametrize("gaps", [(), (Gap(after_index=499, n_lost=5),)])
def test_gyroscope_bias_given_is_the_bias_removed_from_the_stream(data, gaps):
    bias = np.array([0.02, -0.01, 0.015])
    stream = _stream(data, mag=False, gaps=gaps)
    removed = ImuStream(placement=stream.placement, t_s=stream.t_s, acc_mps2=stream.acc_mps2,
                        gyr_radps=stream.gyr_radps - bias, sample_rate_hz=stream.sample_rate_hz, gaps=gaps)
    given = orient_stream(stream, gyr_bias_radps=bias).q_world_sensor
    np.testing.assert_array_equal(given, orient_stream(removed).q_world_sensor)
    assert not np.allclose(given, orient_stream(stream).q_world_sensor, atol=1e-3)


def test_bridged_positions_count_every_gap_before_each_sample(data):
    """Each real sample's place in the stream with its lost samples put back: its index plus all
    samples lost before it (summed in one pass; one pass per gap took a lossy hour seconds)."""
    rng = np.random.default_rng(3)
    n = data.t_s.size
    after = np.sort(rng.choice(np.arange(n - 2), 300, replace=False))
    lost = rng.integers(1, 6, after.size)
    stream = _stream(data, gaps=tuple(Gap(int(a), int(k)) for a, k in zip(after, lost, strict=True)))
    expected = np.array([i + int(lost[after < i].sum()) for i in range(n)])
    np.testing.assert_array_equal(_bridged_positions(stream), expected)
    np.testing.assert_array_equal(_bridged_positions(_stream(data)), np.arange(n))
