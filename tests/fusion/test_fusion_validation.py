"""Bad input is refused where it enters, with a message that says what to do."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.errors import ImugaitError, ValidationError
from imugait.fusion import (
    BatchOnlyError,
    EkfTuning,
    FilterKind,
    FusionSettings,
    MadgwickTuning,
    MahonyTuning,
    VqfTuning,
    make_filter,
)

N = 50
GYR = np.zeros((N, 3))
ACC = np.tile([0.0, 0.0, 9.81], (N, 1))
MAG = np.tile([0.0, 20.0, -40.0], (N, 1))


@pytest.fixture(params=list(FilterKind), ids=lambda k: k.value)
def filt(request):
    return make_filter(request.param, FusionSettings.from_rate(100.0))


@pytest.mark.parametrize(
    ("gyr", "acc", "match"),
    [
        (np.zeros((N, 2)), ACC, r"gyr_radps must have shape \(N, 3\)"),
        (GYR, ACC.T, r"acc_mps2 must have shape \(N, 3\)"),
        (GYR, ACC[:-1], "acc_mps2 has 49 samples but gyr_radps has 50"),
        (np.zeros(3), ACC, r"gyr_radps must have shape \(N, 3\)"),
        (np.zeros((0, 3)), np.zeros((0, 3)), "N >= 1"),
    ],
)
def test_batch_shapes(filt, gyr, acc, match):
    with pytest.raises(ValidationError, match=match):
        filt.estimate(gyr, acc)


def test_batch_nan_names_the_sample(filt):
    acc = ACC.copy()
    acc[7, 1] = np.nan
    with pytest.raises(ValidationError, match="acc_mps2 has NaN.*sample 7"):
        filt.estimate(GYR, acc)


def test_batch_units(filt):
    with pytest.raises(ValidationError, match="in g instead of m/s²"):
        filt.estimate(GYR, ACC / 9.81)
    gyr = GYR.copy()
    gyr[3] = [0.0, 0.0, 300.0]
    with pytest.raises(ValidationError, match="deg/s instead of rad/s"):
        filt.estimate(gyr, ACC)


@pytest.mark.parametrize("kind", [k for k in FilterKind if k.causal])
def test_update_shapes(kind):
    f = make_filter(kind, FusionSettings.from_rate(100.0))
    with pytest.raises(ValidationError, match=r"gyr_radps must be one sample of shape \(3,\)"):
        f.update(np.zeros((1, 3)), ACC[0])
    with pytest.raises(ValidationError, match=r"acc_mps2 must be one sample"):
        f.update(GYR[0], np.zeros(4))
    with pytest.raises(ValidationError, match="NaN"):
        f.update(GYR[0], [np.nan, 0.0, 9.81])


@pytest.mark.parametrize("kind", list(FilterKind))
def test_magnetometer_required_in_9d(kind):
    f = make_filter(kind, FusionSettings.from_rate(100.0, use_magnetometer=True))
    with pytest.raises(ValidationError, match="use_magnetometer=True but got no mag_uT"):
        f.estimate(GYR, ACC)
    with pytest.raises(ValidationError, match=r"mag_uT must have shape \(N, 3\)"):
        f.estimate(GYR, ACC, MAG[:, :2])


def test_magnetometer_ignored_in_6d():
    settings = FusionSettings.from_rate(100.0)
    with_mag = make_filter(FilterKind.VQF_ONLINE, settings).estimate(GYR, ACC, MAG).q_world_sensor
    without = make_filter(FilterKind.VQF_ONLINE, settings).estimate(GYR, ACC).q_world_sensor
    np.testing.assert_array_equal(with_mag, without)


@pytest.mark.parametrize("period", [0.0, -0.01, float("nan"), 200.0, "0.005"])
def test_settings_period(period):
    with pytest.raises(ValidationError, match="sample_period_s"):
        FusionSettings(sample_period_s=period)


def test_settings_rate():
    assert FusionSettings.from_rate(200.0).sample_period_s == pytest.approx(0.005)
    with pytest.raises(ValidationError, match="sample_rate_hz"):
        FusionSettings.from_rate(0.0)


def test_tuning_must_match_the_filter():
    settings = FusionSettings.from_rate(100.0, tuning=MadgwickTuning(gain=0.1))
    with pytest.raises(ValidationError, match="MadgwickTuning cannot tune the vqf_online filter"):
        make_filter(FilterKind.VQF_ONLINE, settings)
    with pytest.raises(ValidationError, match="tuning must be one of"):
        FusionSettings.from_rate(100.0, tuning={"tauAcc": 1.0})
    assert make_filter(FilterKind.MADGWICK, settings).tuning.gain == 0.1
    assert make_filter(FilterKind.VQF_OFFLINE, FusionSettings.from_rate(100.0)).tuning == VqfTuning()


def test_make_filter_kind():
    with pytest.raises(ValidationError, match="kind must be a FilterKind"):
        make_filter("vqf", FusionSettings.from_rate(100.0))


def test_errors_are_the_projects():
    assert issubclass(BatchOnlyError, ImugaitError)
    assert issubclass(ValidationError, ImugaitError)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: MahonyTuning(k_i=0.0), "MahonyTuning.k_i must be a positive number"),
        (lambda: MadgwickTuning(gain=-0.1), "MadgwickTuning.gain must be a positive number"),
        (lambda: VqfTuning(tau_acc_s=float("nan")), "VqfTuning.tau_acc_s"),
        (lambda: EkfTuning(var_acc=0), "EkfTuning.var_acc"),
        (lambda: EkfTuning(mag_dip_deg=120.0), r"mag_dip_deg must be in \[-90, 90\]"),
    ],
)
def test_tuning_values(make, match):
    with pytest.raises(ValidationError, match=match):
        make()
