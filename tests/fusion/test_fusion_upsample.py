"""``orient_stream(..., upsample_hz=...)``: the filter fed samples interpolated between the
recorded ones, one orientation per recorded sample; off by default."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.fusion import orient_stream
from imugait.fusion.upsample import upsample_factor, upsampled_inputs
from imugait.model import DeviceInfo, Gap, GyroSampling, ImuStream


@pytest.fixture(scope="module")
def data():
    return make_synthetic(duration_s=20.0, rate_hz=25.0, seed=3)


def _stream(d, gaps=(), sampling=GyroSampling.INSTANT):
    return ImuStream(placement=Placement.LEFT_SHANK, t_s=d.t_s, acc_mps2=d.acc_mps2, gyr_radps=d.gyr_radps,
                     mag_uT=None, sample_rate_hz=d.rate_hz, gaps=gaps,
                     device=DeviceInfo(device_id="x", model="x", protocol="x", gyr_sampling=sampling))


def test_factor():
    assert upsample_factor(1 / 25, None) == 1
    assert upsample_factor(1 / 25, 100.0) == 4
    assert upsample_factor(1 / 45, 100.0) == 3  # at least the rate asked for
    assert upsample_factor(1 / 100, 100.0) == 1
    assert upsample_factor(1 / 200, 100.0) == 1
    with pytest.raises(ValidationError, match="upsample_hz"):
        upsample_factor(1 / 25, -5.0)


@pytest.mark.parametrize("sampling", list(GyroSampling))
def test_recorded_samples_kept_and_rows_aligned(data, sampling):
    gyr, acc, _ = upsampled_inputs(data.gyr_radps, data.acc_mps2, None, 4, sampling)
    assert gyr.shape == acc.shape == ((data.t_s.size - 1) * 4 + 1, 3)
    np.testing.assert_allclose(acc[::4], data.acc_mps2)
    if sampling is GyroSampling.INSTANT:
        np.testing.assert_allclose(gyr[::4], data.gyr_radps)
    else:  # a mean over the interval before a sample stands half a sample earlier: fine row 4k-2
        np.testing.assert_allclose(gyr[2::4], data.gyr_radps[1:])


def test_off_by_default_and_one_row_per_sample(data):
    stream = _stream(data, sampling=GyroSampling.INTERVAL_MEAN)
    off = orient_stream(stream)
    up = orient_stream(stream, upsample_hz=100.0)
    assert up.q_world_sensor.shape == off.q_world_sensor.shape
    assert up.settings == off.settings  # the recording's settings, not the fine grid's
    assert not np.allclose(up.q_world_sensor, off.q_world_sensor)
    # No gain where the data is already that fast: the same call as without.
    np.testing.assert_array_equal(orient_stream(stream, upsample_hz=20.0).q_world_sensor, off.q_world_sensor)


def test_close_to_the_truth_and_to_the_plain_filter(data):
    """The synthetic gyroscope is exact interval means (INTERVAL_MEAN): upsampling must not lose
    the orientation (the plain filter integrates it exactly; an interpolation does not)."""
    stream = _stream(data, sampling=GyroSampling.INTERVAL_MEAN)
    truth_z = [_gravity_in_sensor(q) for q in data.q_world_sensor]
    for result in (orient_stream(stream), orient_stream(stream, upsample_hz=100.0)):
        fused_z = [_gravity_in_sensor(q) for q in result.q_world_sensor]
        tilt_deg = np.rad2deg(np.arccos(np.clip(np.sum(np.multiply(truth_z, fused_z), axis=1), -1, 1)))
        assert np.sqrt(np.mean(tilt_deg[125:] ** 2)) < 0.5  # both ≈ 0.09° here


def test_gaps_bridged_then_upsampled(data):
    keep = np.ones(data.t_s.size, dtype=bool)
    keep[100:103] = False
    d = data
    stream = ImuStream(placement=Placement.LEFT_SHANK, t_s=d.t_s[keep], acc_mps2=d.acc_mps2[keep],
                       gyr_radps=d.gyr_radps[keep], mag_uT=None, sample_rate_hz=d.rate_hz,
                       gaps=(Gap(after_index=99, n_lost=3),))
    result = orient_stream(stream, upsample_hz=100.0)
    assert result.q_world_sensor.shape == (int(keep.sum()), 4)
    assert result.diagnostics.rest_detected.shape == (int(keep.sum()),)


def _gravity_in_sensor(q):
    w, x, y, z = q
    # third row of R(q): the world's up axis in the sensor frame
    return np.array([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)])
