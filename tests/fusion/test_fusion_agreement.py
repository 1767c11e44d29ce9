"""Per-sample ``update`` and batch ``estimate`` advance the same state and must agree."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_synthetic

from imugait.errors import ValidationError
from imugait.fusion import BatchOnlyError, FilterKind, FusionSettings, make_filter

CAUSAL = [k for k in FilterKind if k.causal]
# VQF's batch call runs the same C++ update as its per-sample call; the ahrs wrappers' batch is a
# loop over the very step `update` uses. Both should agree to rounding.
TOLERANCE = {FilterKind.VQF_ONLINE: 1e-6}
DEFAULT_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def data():
    return make_synthetic(duration_s=8.0, seed=3, lin_acc_rms_mps2=1.0)


def _per_sample(f, d, use_mag):
    return np.array([
        f.update(d.gyr_radps[i], d.acc_mps2[i], d.mag_uT[i] if use_mag else None)
        for i in range(d.gyr_radps.shape[0])
    ])


@pytest.mark.parametrize("use_mag", [False, True], ids=["6d", "9d"])
@pytest.mark.parametrize("kind", CAUSAL)
def test_update_equals_batch(kind, use_mag, data):
    settings = FusionSettings.from_rate(data.rate_hz, use_magnetometer=use_mag)
    online = make_filter(kind, settings)
    q_update = _per_sample(online, data, use_mag)
    batch = make_filter(kind, settings)
    result = batch.estimate(data.gyr_radps, data.acc_mps2, data.mag_uT)
    tol = TOLERANCE.get(kind, DEFAULT_TOLERANCE)
    np.testing.assert_allclose(q_update, result.q_world_sensor, atol=tol, rtol=0)
    # The diagnostics of the last batch sample are the running filter's status.
    status = online.status()
    if result.diagnostics.gyr_bias_radps is not None:
        np.testing.assert_allclose(result.diagnostics.gyr_bias_radps[-1], status.gyr_bias_radps, atol=tol)
    if result.diagnostics.rest_detected is not None:
        assert bool(result.diagnostics.rest_detected[-1]) == status.rest_detected


@pytest.mark.parametrize("kind", CAUSAL)
def test_batch_in_chunks_continues_the_state(kind, data):
    settings = FusionSettings.from_rate(data.rate_hz)
    whole = make_filter(kind, settings).estimate(data.gyr_radps, data.acc_mps2).q_world_sensor
    f = make_filter(kind, settings)
    cut = 700
    first = f.estimate(data.gyr_radps[:cut], data.acc_mps2[:cut]).q_world_sensor
    second = f.estimate(data.gyr_radps[cut:], data.acc_mps2[cut:]).q_world_sensor
    np.testing.assert_allclose(np.vstack([first, second]), whole, atol=TOLERANCE.get(kind, DEFAULT_TOLERANCE))


@pytest.mark.parametrize("use_mag", [False, True], ids=["6d", "9d"])
@pytest.mark.parametrize("kind", CAUSAL)
def test_orientations_equal_estimate_to_the_bit(kind, use_mag, data):
    """The lean entry the live pipeline uses (no diagnostics) gives ``estimate``'s orientations
    exactly, block after block (4-sample blocks, as a sensor streams), and leaves the same state."""
    settings = FusionSettings.from_rate(data.rate_hz, use_magnetometer=use_mag)
    full, lean = make_filter(kind, settings), make_filter(kind, settings)
    n = 400
    for start in range(0, n, 4):
        rows = slice(start, start + 4)
        mag = data.mag_uT[rows] if use_mag else None
        q_full = full.estimate(data.gyr_radps[rows], data.acc_mps2[rows], mag, check_units=False).q_world_sensor
        q_lean = lean.orientations(data.gyr_radps[rows], data.acc_mps2[rows], mag, check_units=False)
        assert q_lean.tobytes() == q_full.tobytes(), f"block at sample {start}"
    a, b = full.status(), lean.status()
    assert (a.rest_detected, a.mag_disturbed) == (b.rest_detected, b.mag_disturbed)
    assert (a.gyr_bias_radps is None) == (b.gyr_bias_radps is None)
    if a.gyr_bias_radps is not None:
        assert a.gyr_bias_radps.tobytes() == b.gyr_bias_radps.tobytes()


def test_orientations_check_their_input_as_estimate(data):
    f = make_filter(FilterKind.VQF_ONLINE, FusionSettings.from_rate(data.rate_hz))
    bad = data.gyr_radps[:4].copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValidationError, match="NaN"):
        f.orientations(bad, data.acc_mps2[:4])
    with pytest.raises(ValidationError, match="deg/s"):
        f.orientations(np.rad2deg(data.gyr_radps[:400]) * 10, data.acc_mps2[:400])


@pytest.mark.parametrize("kind", list(FilterKind))
def test_reset_starts_over(kind, data):
    f = make_filter(kind, FusionSettings.from_rate(data.rate_hz))
    a = f.estimate(data.gyr_radps, data.acc_mps2).q_world_sensor
    f.reset()
    b = f.estimate(data.gyr_radps, data.acc_mps2).q_world_sensor
    np.testing.assert_array_equal(a, b)


def test_offline_vqf_has_no_per_sample_update(data):
    f = make_filter(FilterKind.VQF_OFFLINE, FusionSettings.from_rate(data.rate_hz))
    with pytest.raises(BatchOnlyError, match="VQF_ONLINE"):
        f.update(data.gyr_radps[0], data.acc_mps2[0])


def test_offline_vqf_is_closer_to_truth_than_online(data):
    # Offline VQF uses future samples too: on the same data it must not be worse than online.
    from imugait.fusion.evaluation import orientation_errors_rad

    settings = FusionSettings.from_rate(data.rate_hz)
    errs = {}
    for kind in (FilterKind.VQF_ONLINE, FilterKind.VQF_OFFLINE):
        q = make_filter(kind, settings).estimate(data.gyr_radps, data.acc_mps2).q_world_sensor
        errs[kind] = np.sqrt(np.mean(orientation_errors_rad(q, data.q_world_sensor)[2] ** 2))
    assert errs[FilterKind.VQF_OFFLINE] < errs[FilterKind.VQF_ONLINE]
