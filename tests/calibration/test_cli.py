import argparse
import json

import pytest

from imugait.calibration import read_calibration
from imugait.cli import calibrate
from imugait.errors import ImugaitError
from imugait.io.native import write_session
from imugait.model import Session


def _run(*argv: str) -> int:
    # Only this sub-command's parser: the shared CLI lists modules others are still writing.
    parser = argparse.ArgumentParser(prog="imugait")
    calibrate.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["calibrate", *argv])
    return args.func(args)


def test_registered_in_the_cli():
    from imugait.cli import COMMAND_MODULES

    assert "imugait.cli.calibrate" in COMMAND_MODULES


def test_emulate_end_to_end(tmp_path, capsys):
    out = tmp_path / "calibration"
    assert _run("imu", "--device", "DOT 01:A", "--emulate", "--speed", "40", "--out", str(out), "--seed", "3") == 0
    text = capsys.readouterr().out
    for expected in ("Z up", "Z down", "Rotate in all directions", "accepted", "wrote"):
        assert expected in text
    files = list(out.glob("*.json"))
    assert len(files) == 1 and files[0].name.startswith("DOT_01_A-")
    cal = read_calibration(files[0])
    assert cal.device_id == "DOT 01:A" and cal.n_positions == 6 and cal.mag_calibrated
    assert json.loads(files[0].read_text())["format"] == "imugait.imu_calibration"


def test_through_the_imugait_entry_point(tmp_path, capsys):
    from imugait.cli import main

    out = tmp_path / "cal"
    assert main(["calibrate", "imu", "--device", "D2", "--emulate", "--speed", "40", "--no-mag", "--out", str(out)]) == 0
    assert not read_calibration(out / "D2.json").mag_calibrated
    assert main(["calibrate", "imu", "--device", "D2"]) == 1
    assert "no sensor: give --port PATH" in capsys.readouterr().err


def test_from_recorded_session(tmp_path, six, capsys):
    stream, truth = six
    path = tmp_path / "procedure.parquet"
    write_session(Session([stream]), path)
    assert _run("imu", "--from", str(path), "--placement", "left_thigh", "--out", str(tmp_path / "cal")) == 0
    cal = read_calibration(tmp_path / "cal" / f"{stream.device.device_id}.json")
    assert abs(cal.acc_bias_mps2 - truth.sensor.acc_bias_mps2).max() < 0.01
    assert abs(cal.mag_hard_iron_uT - truth.mag_hard_iron_uT).max() < 0.5


def test_errors_are_actionable(tmp_path, six):
    with pytest.raises(ImugaitError, match="no sensor: give --port PATH"):
        _run("imu", "--device", "X")
    with pytest.raises(ImugaitError, match="choose one source of data"):
        _run("imu", "--emulate", "--from", "s.parquet")
    stream, _ = six
    path = tmp_path / "s.parquet"
    write_session(Session([stream]), path)
    with pytest.raises(ImugaitError, match="has no right_shank stream"):
        _run("imu", "--from", str(path), "--placement", "right_shank")
    with pytest.raises(ImugaitError, match="unknown placement"):
        _run("imu", "--from", str(path), "--placement", "elbow")


def test_an_existing_calibration_is_kept_without_force(tmp_path, six, capsys):
    stream, _ = six
    path = tmp_path / "procedure.parquet"
    write_session(Session([stream]), path)
    out = tmp_path / "cal"
    argv = ("imu", "--from", str(path), "--placement", "left_thigh", "--out", str(out))
    assert _run(*argv) == 0
    first = out / f"{stream.device.device_id}.json"
    before = first.read_bytes()
    capsys.readouterr()
    assert _run(*argv) == 0  # the procedure's result is not lost: written beside, under a dated name
    text = capsys.readouterr().out
    assert "exists and was kept (use --force to replace it)" in text
    assert first.read_bytes() == before
    dated = [p for p in out.iterdir() if p != first]
    assert len(dated) == 1 and dated[0].name.startswith(f"{stream.device.device_id}.") and dated[0].suffix == ".json"
    assert read_calibration(dated[0]).device_id == stream.device.device_id
    assert _run(*argv, "--force") == 0
    assert sorted(out.iterdir()) == sorted([first, dated[0]])
