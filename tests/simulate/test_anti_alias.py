"""The sensor's low-pass before sampling (``SensorErrors.anti_alias``): off, the point samples of
before; on, a sinusoid above the Nyquist frequency is attenuated by the box-car's gain and one far
below passes."""

from dataclasses import dataclass, replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.simulate import AntiAlias, SensorErrors, SimulationConfig, simulate, walking_test
from imugait.simulate.sensors import Mounting, simulate_sensor

SHORT = walking_test(n_bouts=1, bout_s=6.0, stand_s=2.0)
PLACEMENT = Placement.LEFT_SHANK


def test_off_gives_the_point_samples_of_before():
    """Numbers of the simulator before the option existed (main 88e0da5, same config)."""
    default = simulate(SimulationConfig(timeline=SHORT, seed=21, sample_rate_hz=25.0))
    off = simulate(SimulationConfig(timeline=SHORT, seed=21, sample_rate_hz=25.0,
                                    errors=SensorErrors(anti_alias=AntiAlias.NONE)))
    before = {
        "gyr_radps": ([[0.680703974624, 0.357928850507, -0.404800485692],
                       [1.442368046387, 0.180029689689, -0.175768631945],
                       [0.964064314609, -0.025566346465, -0.336623561786]], 453.4191545525308),
        "acc_mps2": ([[4.721365673828, -8.978256225586, 0.574608398438],
                      [5.832275244141, -8.317456567383, 1.450886206055],
                      [6.143521459961, -11.540052001953, 2.1452046875]], 4090.4839595703124),
        "mag_uT": ([[-1.495361328125, 45.309448242188, -15.5517578125],
                    [3.140258789062, 47.25341796875, -7.327270507812],
                    [0.59814453125, 44.412231445312, -16.748046875]], 15470.111083984375),
    }
    for result in (default, off):
        stream = result.session[PLACEMENT]
        assert stream.n_samples == 249
        np.testing.assert_allclose(stream.t_s[[0, 100]], [0.01851492, 4.0184455], atol=1e-8)
        for name, (rows, total) in before.items():
            x = getattr(stream, name)
            np.testing.assert_allclose(x[[60, 110, 170]], rows, rtol=0, atol=1e-9)
            assert float(np.abs(x).sum()) == pytest.approx(total, rel=1e-12)
    for p in default.session:
        assert np.array_equal(default.session[p].acc_mps2, off.session[p].acc_mps2)


def test_on_changes_only_the_signals():
    """The option draws nothing: the same samples are kept at the same times, the same truth."""
    config = SimulationConfig(timeline=SHORT, seed=21, sample_rate_hz=25.0,
                              errors=SensorErrors(loss_probability=0.01))
    off, on = simulate(config), simulate(replace(config, errors=replace(config.errors, anti_alias=AntiAlias.ODR)))
    for p in off.session:
        assert np.array_equal(off.session[p].t_s, on.session[p].t_s)
        assert off.session[p].gaps == on.session[p].gaps
        np.testing.assert_array_equal(off.sensors[p].gyr_bias_radps, on.sensors[p].gyr_bias_radps)
    walking = slice(60, 200)
    assert not np.allclose(off.session[PLACEMENT].gyr_radps[walking], on.session[PLACEMENT].gyr_radps[walking])


def test_anti_alias_must_be_the_enum():
    with pytest.raises(ValidationError, match="anti_alias"):
        SensorErrors(anti_alias="odr")


@dataclass
class _Timeline:
    duration_s: float


@dataclass
class _Pose:
    r_world: dict
    origin_m: dict


class _Oscillator:
    """A body whose one segment turns about world z at the rate ``A sin(2π f t)`` and moves along
    z with the acceleration ``B sin(2π f t)``."""

    def __init__(self, frequency_hz: float, rate_radps: float = 1.0, acc_mps2: float = 1.0, duration_s: float = 8.0):
        self.f, self.a, self.b = frequency_hz, rate_radps, acc_mps2
        self.timeline = _Timeline(duration_s)

    def pose(self, t_s: np.ndarray) -> _Pose:
        w = 2 * np.pi * self.f
        angle = self.a / w * (1.0 - np.cos(w * t_s))
        z = -self.b / w**2 * np.sin(w * t_s)
        key = (PLACEMENT.segment, PLACEMENT.side)
        origin = np.column_stack([np.zeros_like(t_s), np.zeros_like(t_s), z])
        return _Pose({key: Rotation.from_rotvec(angle[:, None] * [0.0, 0.0, 1.0])}, {key: origin})


def _gain(t_s: np.ndarray, x: np.ndarray, frequency_hz: float) -> float:
    """Amplitude of the ``frequency_hz`` sinusoid in samples ``x`` taken at ``t_s`` (least squares)."""
    w = 2 * np.pi * frequency_hz
    design = np.column_stack([np.sin(w * t_s), np.cos(w * t_s), np.ones_like(t_s)])
    coef = np.linalg.lstsq(design, x, rcond=None)[0]
    return float(np.hypot(coef[0], coef[1]))


@pytest.mark.parametrize(("rate_hz", "frequency_hz"), [(25.0, 20.0), (25.0, 17.0), (50.0, 40.0), (25.0, 2.0)])
def test_a_sinusoid_is_attenuated_by_the_box_car(rate_hz, frequency_hz):
    """Gyroscope and accelerometer: gain 1 with point samples (the sinusoid aliases whole), the
    box-car's ``sinc(f / ODR)`` with the low-pass (0.23 at 0.8 × ODR, 0.99 at 0.08 × ODR)."""
    body = _Oscillator(frequency_hz)
    mounting = Mounting(np.zeros(3), Rotation.identity())
    expected = {AntiAlias.NONE: 1.0, AntiAlias.ODR: float(np.sinc(frequency_hz / rate_hz))}
    for anti_alias, gain in expected.items():
        errors = replace(SensorErrors.ideal(), anti_alias=anti_alias)
        stream, _ = simulate_sensor(PLACEMENT, body, mounting, errors, rate_hz, np.random.default_rng(1))
        assert _gain(stream.t_s, stream.gyr_radps[:, 2], frequency_hz) == pytest.approx(gain, abs=0.01)
        assert _gain(stream.t_s, stream.acc_mps2[:, 2], frequency_hz) == pytest.approx(gain, abs=0.01)
    if frequency_hz > rate_hz / 2:
        assert expected[AntiAlias.ODR] < 0.65  # above Nyquist: at most sinc(0.5) = 0.64 passes
    else:
        assert expected[AntiAlias.ODR] > 0.98
