"""The live pipeline's parts: the bounded history, refusals, reusing a calibration, a sensor that
stops sending."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from imugait.acquisition.assembler import LiveSamples
from imugait.conventions import Placement, Side
from imugait.errors import ValidationError
from imugait.fusion import FilterKind, FusionSettings, make_filter
from imugait.live.grid import LiveSensor
from imugait.live.history import History
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import CalibrationPhase, latest_strides
from imugait.model import GyroSampling
from imugait.timebase import sample_period_s


def test_history_keeps_the_newest_rows_in_order_whatever_the_block_sizes():
    h = History(5, {"x": (), "v": (2,)})
    rng = np.random.default_rng(1)
    n = 0
    for _ in range(40):
        k = int(rng.integers(0, 8))
        h.append({"x": np.arange(n, n + k, dtype=float), "v": np.column_stack([np.arange(n, n + k)] * 2)})
        n += k
        assert len(h) == min(n, 5) and h.n_appended == n and h.first_index == n - len(h)
        np.testing.assert_array_equal(h.tail("x"), np.arange(h.first_index, n))
        np.testing.assert_array_equal(h.since("v", n - 2)[:, 1], np.arange(max(n - 2, h.first_index), n))
    h.skip_to(n + 10)
    assert len(h) == 0 and h.n_appended == n + 10
    with pytest.raises(ValidationError, match="equally many rows"):
        h.append({"x": np.zeros(2), "v": np.zeros((3, 2))})


def test_a_packed_history_keeps_its_members_side_by_side_in_one_array():
    # (the live grid gathers a sensor's accelerations and rates at once from the packed column)
    h = History(4, {"t": (), "a": (3,), "g": (3,)}, packed={"ag": ("a", "g")})
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(30, 7))
    n = 0
    for k in (3, 1, 4, 0, 2, 5, 3, 4, 8):
        h.append({"t": rows[n:n + k, 0], "a": rows[n:n + k, 1:4], "g": rows[n:n + k, 4:7]})
        n += k
        np.testing.assert_array_equal(h.tail("ag"), rows[max(n - 4, 0):n, 1:7])
        np.testing.assert_array_equal(h.tail("a"), rows[max(n - 4, 0):n, 1:4])
        np.testing.assert_array_equal(h.since("g", n - 2), rows[n - 2:n, 4:7])
        np.testing.assert_array_equal(h.tail("t"), rows[max(n - 4, 0):n, 0])
    with pytest.raises(ValidationError, match="equally many rows"):
        h.append({"t": np.zeros(1), "ag": np.zeros((1, 6))})  # (appends name the members)
    with pytest.raises(ValidationError, match="packs float64 vector columns"):
        History(4, {"a": (3,), "n": ()}, packed={"an": ("a", "n")})


def test_refuses_sensors_without_a_leg_and_samples_of_another_sensor():
    with pytest.raises(ValidationError, match="thigh and a shank"):
        LiveKinematics([Placement.LEFT_THIGH, Placement.RIGHT_SHANK])
    live = LiveKinematics([Placement.LEFT_THIGH, Placement.LEFT_SHANK])
    block = LiveSamples(Placement.RIGHT_THIGH, np.array([0.0]), np.zeros((1, 3)), np.zeros((1, 3)), None, None, 0)
    with pytest.raises(ValidationError, match="right_thigh"):
        live.feed(block)
    with pytest.raises(ValidationError, match="positive"):
        LiveConfig(tick_s=0.0)


def test_before_standing_and_walking_it_says_what_to_do(live_run):
    live = LiveKinematics(list(live_run.session), LiveConfig(rate_hz=200.0))
    update = live.poll()
    assert not update.angles and not update.strides and np.isnan(update.t_s)
    assert {s.phase for s in update.calibration} == {CalibrationPhase.WAITING_FOR_STANDING}
    assert all("stand" in s.message for s in update.calibration)
    assert live.poll().calibration == ()  # only when it changes


def test_a_reused_calibration_gives_angles_from_the_first_second(live_run):
    earlier = live_run.live.calibration
    assert earlier is not None and set(earlier.alignments) == {Side.LEFT, Side.RIGHT}
    live = LiveKinematics(list(live_run.session), LiveConfig(rate_hz=200.0), calibration=earlier)
    live.feed_session(live_run.session, 0.05)
    update = live.poll()
    assert {s.phase for s in live.calibration_states()} == {CalibrationPhase.REUSED}
    angles = {a.side: a for a in update.angles}
    assert angles[Side.LEFT].t_s[0] < 1.5  # no wait for standing and walking
    assert {s.side for s in update.strides} == {Side.LEFT, Side.RIGHT}
    # Same sensors, same person, same recording: the strides of the walk are found again, with
    # knee flexion as before (the thigh-shank heading is re-tracked, so the rest differs a little).
    before = {(s.side, round(s.t_initial_contact_s, 3)): s for s in latest_strides(live_run.update.strides) if s.used}
    again = [s for s in latest_strides(update.strides) if (s.side, round(s.t_initial_contact_s, 3)) in before]
    assert len(again) >= 0.8 * len(before)
    for s in again:
        b = before[(s.side, round(s.t_initial_contact_s, 3))]
        assert s.metrics["knee_flexion_swing_peak_deg"] == pytest.approx(b.metrics["knee_flexion_swing_peak_deg"], abs=1.0)


def test_a_sensor_that_stops_no_longer_holds_the_others_back_when_asked(live_run):
    session = live_run.session
    cut = Placement.LEFT_SHANK
    short = session[cut]
    n = int(np.searchsorted(short.t_s, 20.0))
    streams = [s if s.placement is not cut else replace(s, t_s=s.t_s[:n], acc_mps2=s.acc_mps2[:n],
                                                      gyr_radps=s.gyr_radps[:n], mag_uT=None,
                                                      gaps=tuple(g for g in s.gaps if g.after_index < n - 1))
               for s in session.streams]
    stopped = type(session)(streams, session.meta)
    waiting = LiveKinematics(list(session), LiveConfig(rate_hz=200.0))
    waiting.feed_session(stopped, 0.05)
    moving_on = LiveKinematics(list(session), LiveConfig(rate_hz=200.0, stall_s=1.0))
    moving_on.feed_session(stopped, 0.05)
    assert waiting.grid.tail("t_s")[-1] <= 20.0
    assert moving_on.grid.tail("t_s")[-1] > 35.0
    after = moving_on.grid.tail("t_s") > 20.0
    assert moving_on.grid.tail(f"{cut.value}/lost")[after].all()
    assert not moving_on.grid.tail(f"{Placement.RIGHT_SHANK.value}/lost")[after].all()


def test_the_acquisition_observer_feeds_it_and_samples_out_of_order_are_dropped(live_run):
    live = LiveKinematics(list(live_run.session), LiveConfig(rate_hz=200.0))
    s = live_run.session[Placement.LEFT_THIGH]
    live.observe(Placement.LEFT_THIGH, object(), None)  # a message without samples
    live.observe(Placement.LEFT_THIGH, object(), LiveSamples(Placement.LEFT_THIGH, s.t_s[:10], s.acc_mps2[:10],
                                                             s.gyr_radps[:10], None, None, 0))
    # A block that steps back in time (a clock-mapping step): its old samples are dropped, the rest kept.
    live.feed(LiveSamples(Placement.LEFT_THIGH, s.t_s[5:15], s.acc_mps2[5:15], s.gyr_radps[5:15], None, None, 0))
    sensor = live._sensors[Placement.LEFT_THIGH]
    assert len(sensor.samples) == 15 and sensor.n_dropped == 5
    np.testing.assert_array_equal(sensor.samples.tail("t_s"), s.t_s[:15])


@pytest.mark.parametrize("sampling", list(GyroSampling))
def test_a_sensor_fuses_as_its_device_samples_the_gyroscope(sampling):
    # The blocks say what the device's gyroscope samples stand for (its announcement); the live
    # filter integrates them so, exactly as offline fusion with that setting does.
    rng = np.random.default_rng(4)
    n, rate_hz = 300, 100.0
    t = np.arange(n) / rate_hz
    gyr = np.column_stack([np.sin(2 * np.pi * 1.5 * t), 0.5 * np.cos(2 * np.pi * t), rng.normal(0, 0.1, n)])
    acc = np.tile([0.0, 0.0, 9.81], (n, 1)) + rng.normal(0, 0.05, (n, 3))
    sensor = LiveSensor(Placement.LEFT_THIGH, 1000)
    for i in range(0, n, 7):
        sensor.add(LiveSamples(Placement.LEFT_THIGH, t[i:i + 7], acc[i:i + 7], gyr[i:i + 7], None, None, 0, sampling))
        if i == 0:
            sensor.start_fusion(None, t[6])
    assert sensor.gyr_sampling is sampling
    settings = FusionSettings(sample_period_s=sample_period_s(t[:7]), gyr_sampling=sampling)
    offline = make_filter(FilterKind.VQF_ONLINE, settings).orientations(gyr, acc)
    np.testing.assert_allclose(sensor.samples.tail("q_world_sensor"), offline, atol=1e-9)
