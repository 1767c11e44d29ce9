"""`imugait calibrate imu` on live sensors: the emulated sensor streamed over a pty in our protocol
through live acquisition into the guided procedure, Ctrl-C, incomplete procedures, still checks."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

import numpy as np
import pytest

from imugait.acquisition.assembler import LiveSamples
from imugait.calibration import ProcedureConfig, read_calibration
from imugait.cli import calibrate
from imugait.conventions import Placement
from imugait.emulate import sensors
from imugait.emulate.emulator import SerialEmulator
from imugait.errors import CalibrationError, ImugaitError
from imugait.live.calibration_guide import LiveGuide
from imugait.protocol.messages import DeviceAnnouncement
from imugait.simulate.static_poses import StaticPoseConfig, simulate_static_poses

SPEED = "40"  # 92 s of procedure in about 2.5 s


def _parser() -> argparse.ArgumentParser:
    # Only this sub-command's parser: the shared CLI lists modules others are still writing.
    parser = argparse.ArgumentParser(prog="imugait")
    calibrate.register(parser.add_subparsers(dest="command"))
    return parser


def _run(*argv: str) -> int:
    args = _parser().parse_args(["calibrate", *argv])
    return args.func(args)


def _moving_holds():
    """The sensor is put down 'Z up' four times but nudged by 20° after 3 s each time: it is
    never held still for 5 s, and it moves while the step is still 'Z up'."""
    tilted = (np.sin(np.radians(20.0)), 0.0, np.cos(np.radians(20.0)))
    config = StaticPoseConfig(up_axes=((0.0, 0.0, 1.0), tilted) * 2, hold_s=3.0, transition_s=2.0,
                              rotation_s=0.0, seed=1)
    return simulate_static_poses(config)


def test_emulated_sensor_over_a_pty_gives_the_simulators_calibration(tmp_path, capsys):
    out = tmp_path / "calibration"
    assert _run("imu", "--emulate", "--playback", SPEED, "--seed", "3", "--out", str(out)) == 0
    text = capsys.readouterr().out
    for expected in ("emulated ×40", "Rotate in all directions", "Z down: held still", "accepted", "wrote"):
        assert expected in text
    # The device id defaults to the one the emulated sensor announces over the wire.
    announced = f"{sensors.EMULATED_DEVICE_ID + 3:016x}"
    cal = read_calibration(out / f"{announced}.json")
    assert cal.device_id == announced and cal.n_positions == 6 and cal.mag_calibrated

    stream, truth = sensors.simulated_procedure(hold_s=5.0, rotation_s=30.0, edges=False, no_mag=False, seed=3)
    # Tolerances of the offline calibration tests (docs/calibration.md).
    assert np.abs(cal.acc_bias_mps2 - truth.sensor.acc_bias_mps2).max() < 0.01
    scale = np.linalg.norm(np.linalg.inv(cal.acc_correction), axis=1)
    assert np.abs(scale / np.linalg.norm(truth.sensor.acc_gain, axis=1) - 1.0).max() < 0.002
    held = np.zeros(stream.n_samples, dtype=bool)
    for hold in truth.holds:  # the bias wanders: compare with its mean where it was measured
        held |= (stream.t_s >= hold.t_start_s) & (stream.t_s <= hold.t_start_s + 6.0)
    assert np.abs(cal.gyr_bias_radps - truth.gyr_bias_radps[held].mean(axis=0)).max() < 1e-3
    assert np.abs(cal.mag_hard_iron_uT - truth.mag_hard_iron_uT).max() < 0.5


def test_guide_reports_not_still_when_the_sensor_moves_during_a_position():
    stream, truth = _moving_holds()
    guide = LiveGuide(ProcedureConfig(hold_s=5.0, with_rotation=False))
    states = []
    args = _parser().parse_args(["calibrate", "imu", "--emulate", "--playback", SPEED])

    async def main():
        async with asyncio.timeout(300.0):  # a hang guard
            return await calibrate.guided_acquisition(
                args, guide, {stream.placement: sensors.emulated_sensor(stream)}, on_state=states.append)

    run = asyncio.run(main())
    assert not run.interrupted and not guide.done
    running = [s for s in states if s.phase == "running"]
    assert running and all(s.title == "Z up" and s.step_number == 1 for s in running)
    # Still for a while in the position asked for, then moved while the step was still Z up.
    i_still = next(i for i, s in enumerate(running) if s.stillness == "still" and s.still_s > 2.0 and s.matches_step)
    moved = [s for s in running[i_still:] if s.stillness == "not still"]
    assert moved and moved[0].still_s == 0.0 and moved[0].overall == 0.0
    assert max(s.still_s for s in running) < 5.0 and not any(s.accepted for s in states)
    with pytest.raises(CalibrationError, match="not held still for 5 s"):
        guide.finish()


def test_incomplete_procedure_writes_nothing_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(sensors, "simulated_procedure", lambda *args: _moving_holds())
    out = tmp_path / "calibration"
    with pytest.raises(CalibrationError, match=r"not completed \(the emulation ended\).*Z up.*not held still "
                                               r"for 5 s.*nothing was written"):
        _run("imu", "--emulate", "--playback", SPEED, "--out", str(out))
    assert not out.exists()


def test_ctrl_c_on_a_serial_sensor_writes_nothing(tmp_path, monkeypatch, capsys):
    # A real-time emulated sensor on a pty, opened like any serial sensor with --port; a real
    # SIGINT arrives once the guide has samples (its handler is installed by then).
    stream, truth = simulate_static_poses(StaticPoseConfig(rotation_s=0.0, seed=2))
    observe = LiveGuide.observe

    def observe_then_interrupt(self, placement, message, live):
        observe(self, placement, message, live)
        if self.n_samples >= 50 and not getattr(self, "_interrupted", False):
            self._interrupted = True
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(LiveGuide, "observe", observe_then_interrupt)
    out = tmp_path / "calibration"
    with SerialEmulator({Placement.LEFT_THIGH: sensors.emulated_sensor(stream)}, speed=1.0) as emulator:
        code = _run("imu", "--port", emulator.paths[Placement.LEFT_THIGH], "--out", str(out))
    assert code == calibrate.INTERRUPTED_EXIT
    text = capsys.readouterr().out
    assert "interrupted (Ctrl-C) during step 1 of 7 (Z up): nothing was written" in text
    assert f"{sensors.EMULATED_DEVICE_ID:016x}" in text  # the id the sensor announced
    assert not out.exists()


def _block(t_s: np.ndarray, mag: bool = True) -> LiveSamples:
    n = t_s.size
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    return LiveSamples(Placement.LEFT_THIGH, t_s, acc, np.zeros((n, 3)), np.tile([20.0, 0.0, -40.0], (n, 1))
                       if mag else None, None, 0)


def test_guide_learns_id_and_rate_from_the_announcement_or_asks_for_the_id():
    guide = LiveGuide()
    assert guide.state.phase == "waiting" and guide.state.stillness == "no data"
    guide.observe(Placement.LEFT_THIGH, DeviceAnnouncement("abc", "m", "f", 50.0, 160.0, 35.0, 0.0), None)
    guide.observe(Placement.LEFT_THIGH, None, _block(np.arange(4) / 50.0))
    assert guide.procedure.sample_rate_hz == 50.0 and guide.state.device_id == "abc"
    assert guide.procedure.steps[-1].title == "Y down"  # mag range 0: no rotation step

    silent = LiveGuide()  # a vendor protocol that never announces itself
    for i in range(30):
        silent.observe(Placement.LEFT_THIGH, None, _block((4 * i + np.arange(4)) / 100.0))
    assert silent.failed and "give --device ID" in silent.state.prompt
    with pytest.raises(CalibrationError, match="give --device ID"):
        silent.finish()

    named = LiveGuide(device_id="WT901-7")
    for i in range(30):
        named.observe(Placement.LEFT_THIGH, None, _block((4 * i + np.arange(4)) / 100.0))
    assert named.procedure.sample_rate_hz == pytest.approx(100.0)  # estimated from the first second
    assert named.state.phase == "running" and named.state.stillness == "still"
    assert named.procedure.steps[-1].title == "Rotate in all directions"


def test_needs_exactly_one_source():
    with pytest.raises(ImugaitError, match="no sensor: give --port PATH"):
        _run("imu")
    with pytest.raises(ImugaitError, match="choose one source of data, not --emulate and --port"):
        _run("imu", "--emulate", "--port", "/dev/null")
