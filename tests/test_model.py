import numpy as np
import pytest

from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.errors import ValidationError
from imugait.model import Gap, ImuStream, ProtocolStep, Session, SessionMeta


def stream(placement=Placement.LEFT_THIGH, n=200, **overrides):
    t = np.arange(n) / 100.0
    kw = dict(
        placement=placement,
        t_s=t,
        acc_mps2=np.tile([0.0, 0.0, GRAVITY_MPS2], (n, 1)),
        gyr_radps=np.zeros((n, 3)),
        sample_rate_hz=100.0,
    )
    kw.update(overrides)
    return ImuStream(**kw)


def test_valid_stream_is_read_only_float64():
    s = stream(gaps=(Gap(10, 3),))
    assert s.t_s.dtype == np.float64 and s.n_lost_total == 3
    with pytest.raises(ValueError):
        s.acc_mps2[0, 0] = 1.0


def test_a_stream_copies_what_its_caller_could_change_and_takes_frozen_arrays_as_they_are():
    gyr = np.zeros((200, 3))
    s = stream(gyr_radps=gyr)
    gyr[0, 0] = 1.0  # the caller's array, still writeable: the stream has its own copy
    assert s.gyr_radps[0, 0] == 0.0 and s.gyr_radps is not gyr
    frozen = np.zeros((200, 3))
    frozen.flags.writeable = False  # read-only and owning its memory: nothing can change it
    assert stream(gyr_radps=frozen).gyr_radps is frozen
    base = np.zeros((400, 3))
    view = base[:200]
    view.flags.writeable = False  # read-only, but its base can still be written: copied
    taken = stream(gyr_radps=view).gyr_radps
    base[0, 0] = 1.0
    assert taken is not view and taken[0, 0] == 0.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (dict(acc_mps2=np.zeros((200, 2))), r"left_thigh: acc_mps2 must have shape \(200, 3\)"),
        (dict(gyr_radps=np.full((200, 3), np.nan)), "left_thigh: gyr_radps has NaN"),
        (dict(t_s=np.r_[np.arange(100), np.arange(100)] / 100.0), "not strictly increasing at sample 100"),
        (dict(gyr_radps=np.full((200, 3), 120.0)), "deg/s instead of rad/s"),
        (dict(acc_mps2=np.tile([0.0, 0.0, 1.0], (200, 1))), "in g instead of m/s"),
        (dict(mag_uT=np.full((200, 3), 1e5)), "magnetometer magnitude"),
        (dict(sample_rate_hz=-5.0), "sample_rate_hz"),
        (dict(gaps=(Gap(199, 1),)), "invalid gap"),
        (dict(q_world_sensor=np.tile([2.0, 0, 0, 0], (200, 1))), "not a unit quaternion"),
    ],
)
def test_validation_names_sensor_and_problem(overrides, message):
    with pytest.raises(ValidationError, match=message):
        stream(**overrides)


def test_session_rejects_duplicates_and_orders_placements():
    with pytest.raises(ValidationError, match="right_shank: placement appears twice"):
        Session([stream(Placement.RIGHT_SHANK), stream(Placement.RIGHT_SHANK)])
    s = Session([stream(Placement.RIGHT_SHANK), stream(Placement.LEFT_THIGH)])
    assert list(s) == [Placement.LEFT_THIGH, Placement.RIGHT_SHANK]
    with pytest.raises(KeyError, match="no pelvis sensor"):
        s[Placement.PELVIS]


def test_meta_validation_and_slicing():
    with pytest.raises(ValidationError, match="t_start_s < t_end_s"):
        ProtocolStep("walk", 5.0, 2.0)
    with pytest.raises(ValidationError, match="ISO 8601"):
        SessionMeta(recorded_at="yesterday")
    s = stream(gaps=(Gap(50, 2), Gap(150, 1)))
    part = s.slice_time(0.4, 1.0)
    assert part.n_samples == 60 and part.gaps == (Gap(10, 2),)
