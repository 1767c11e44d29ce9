"""The command line as a careless or unlucky user meets it: bad options, outputs over inputs or
over earlier results, missing or read-only folders, a full disk, files that are not what they
claim. Each probe asserts the exit code, a one-line message naming the value, and that no input
or earlier output changed. The table of these probes is docs/reliability.md."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from imugait.cli import main
from imugait.io.native import read_session, write_session
from imugait.model import Session


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _error_line(capsys) -> str:
    """The last line on stderr (argparse prints the usage first), checked to be the only error."""
    err = capsys.readouterr().err.strip().splitlines()
    assert err, "an error message was expected"
    assert "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> Path:
    """A short simulated walk (10 s, both legs), written once for the module."""
    folder = tmp_path_factory.mktemp("walk")
    assert main(["simulate", "--out", str(folder / "sim"), "--bouts", "1", "--bout-s", "6", "--stand-s", "2",
                 "--seed", "4"]) == 0
    return folder / "sim" / "session.parquet"


@pytest.fixture
def session_copy(walk, tmp_path) -> Path:
    copy = tmp_path / "s.parquet"
    copy.write_bytes(walk.read_bytes())
    return copy


# ----------------------------------------------------------------------------- bad options

BAD_OPTIONS = [
    (["simulate", "--out", "X", "--rate", "0"], "--rate: 0 is out of range; allowed: a number in [20, 1000] Hz"),
    (["simulate", "--out", "X", "--rate", "-100"], "--rate: -100 is out of range"),
    (["simulate", "--out", "X", "--rate", "5"], "--rate: 5 is out of range"),
    (["simulate", "--out", "X", "--rate", "nan"], "--rate: nan is not a finite number"),
    (["simulate", "--out", "X", "--rate", "fast"], "--rate: 'fast' is not a number"),
    (["simulate", "--out", "X", "--drift-ppm", "-5"], "--drift-ppm: -5 is out of range; allowed: a number in [0, 1000] ppm"),
    (["simulate", "--out", "X", "--seed", "-1"], "--seed: -1 is out of range; allowed: an integer in [0, 4294967295]"),
    (["simulate", "--out", "X", "--bout-s", "1e9"], "--bout-s: 1e9 is out of range; allowed: a number in [2, 600] s"),
    (["simulate", "--out", "X", "--bouts", "0"], "--bouts: 0 is out of range"),
    (["simulate", "--out", "X", "--loss", "1.5"], "--loss: 1.5 is out of range; allowed: a number in [0, 0.5]"),
    (["simulate", "--out", "X", "--right-hip-rotation", "inf"], "--right-hip-rotation: inf is not a finite number"),
    (["record", "--out", "X", "--duration", "2", "--emulate", "4", "--rate", "0"], "--rate: 0 is out of range"),
    (["record", "--out", "X", "--duration", "-3", "--emulate", "4"], "--duration: -3 is out of range"),
    (["record", "--out", "X", "--duration", "3", "--emulate", "4", "--speed", "1000"], "--speed: 1000 is out of range"),
    (["record", "--out", "X", "--duration", "3", "--emulate", "9"], "--emulate: 9 is out of range"),
    (["stream", "--duration", "-1"], "--duration: -1 is out of range; allowed: a number in (0, 86400] s"),
    (["scan", "--timeout", "-1"], "--timeout: -1 is out of range; allowed: a number in (0, 60] s"),
    (["orient", "S", "--out", "o.csv", "--rate", "-5"], "--rate: -5 is out of range; allowed: a number in [1, 1000] Hz"),
    (["orient", "S", "--out", "o.csv", "--rate", "1e7"], "--rate: 1e7 is out of range"),
    (["analyze", "S", "--calibration-dir", "/nonexistent"], "--calibration-dir: /nonexistent is not an existing folder"),
    (["assess", "--emulate", "--loss", "2"], "--loss: 2 is out of range"),
    (["assess", "--emulate", "--countdown", "-1"], "--countdown: -1 is out of range"),
    (["calibrate", "imu", "--emulate", "--hold-s", "0"], "--hold-s: 0 is out of range"),
    (["import", "xsens", "D", "--map", "left_thigh=A", "--out", "o.parquet", "--rate-hz", "0"], "--rate-hz: 0 is out of range"),
    (["demo", "--duration", "1e9"], "--duration: 1e9 is out of range"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_option_is_a_one_line_error_naming_value_and_range(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert message in _error_line(capsys)
    assert list(tmp_path.iterdir()) == []  # nothing was written


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--right-hip-rotation", "500", "walker: hip_rotation_offset_deg 500 outside -40..40"),
    ("--right-knee-valgus", "-300", "walker: knee_valgus_deg -300 outside -20..20"),
    ("--left-stance-valgus", "90", "walker: knee_dynamic_valgus_deg 90 outside -20..20"),
])
def test_walker_out_of_its_model_is_refused(option, value, message, capsys, tmp_path):
    assert main(["simulate", "--out", str(tmp_path / "x"), option, value]) == 1
    assert message in _error_line(capsys)
    assert not (tmp_path / "x" / "session.parquet").exists()


def test_simulated_duration_is_bounded(capsys, tmp_path):
    assert main(["simulate", "--out", str(tmp_path / "x"), "--bouts", "20", "--bout-s", "600"]) == 1
    assert "at most 3600 s can be simulated" in _error_line(capsys)


def test_emulated_walk_is_bounded(capsys, tmp_path):
    assert main(["record", "--emulate", "4", "--duration", "3590", "--playback", "100", "--out", str(tmp_path / "r")]) == 1
    assert "is too long: at most 3600 s" in _error_line(capsys)
    assert not (tmp_path / "r").exists()


# ----------------------------------------------------------------------------- outputs over inputs

OVER_INPUT = [
    ["analyze", "{s}", "--out", "{s}"],
    ["analyze", "{s}", "--angles-csv", "{s}"],
    ["report", "{s}", "--html", "{s}"],
    ["report", "{s}", "--json", "{s}"],
    ["orient", "{s}", "--out", "{s}"],
    ["assess", "--from", "{s}", "--out", "{s}"],
    ["assess", "--from", "{s}", "--html", "{s}"],
]


@pytest.mark.parametrize("argv", OVER_INPUT, ids=[" ".join(a) for a in OVER_INPUT])
@pytest.mark.parametrize("force", [False, True])
def test_a_command_never_writes_over_its_input(argv, force, session_copy, capsys):
    before = _digest(session_copy)
    args = [a.format(s=session_copy) for a in argv] + (["--force"] if force else [])
    assert main(args) == 1
    assert "is this command's input: refusing to write over it" in _error_line(capsys)
    assert _digest(session_copy) == before


def test_input_through_another_name_is_recognised(session_copy, tmp_path, capsys):
    link = tmp_path / "link.json"
    link.symlink_to(session_copy)
    hard = tmp_path / "hard.json"
    os.link(session_copy, hard)
    before = _digest(session_copy)
    for out in (link, hard, tmp_path / "." / "s.parquet"):
        assert main(["analyze", str(session_copy), "--out", str(out), "--force"]) == 1
        assert "this command's input" in _error_line(capsys)
    assert _digest(session_copy) == before


def _csv(path: Path, step_s: float = 0.01, n: int = 300) -> Path:
    rng = np.random.default_rng(0)
    cols = {"t_s": np.arange(n) * step_s}
    for kind, mean in (("acc", (0.0, 0.0, 9.81)), ("gyr", (0.0, 0.0, 0.0))):
        for axis, m in zip("xyz", mean, strict=True):
            cols[f"left_thigh_{kind}_{axis}"] = m + 0.1 * rng.normal(size=n)
    pd.DataFrame(cols).to_csv(path, index=False)
    return path


def test_import_never_replaces_its_source(tmp_path, capsys):
    source = _csv(tmp_path / "walk.csv")
    before = _digest(source)
    assert main(["import", "csv", str(source), "--out", str(source), "--force"]) == 1
    assert "walk.csv is this command's input" in _error_line(capsys)
    assert _digest(source) == before


def test_two_outputs_on_one_file_are_refused(session_copy, tmp_path, capsys):
    out = tmp_path / "r.out"
    assert main(["report", str(session_copy), "--html", str(out), "--json", str(out)]) == 1
    assert "given for two outputs" in _error_line(capsys)
    assert not out.exists()


# ----------------------------------------------------------------------------- existing outputs


def test_existing_output_needs_force(tmp_path, capsys):
    source = _csv(tmp_path / "walk.csv")
    out = tmp_path / "walk.parquet"
    out.write_bytes(b"an earlier import")
    assert main(["import", "csv", str(source), "--out", str(out)]) == 1
    assert _error_line(capsys) == f"imugait import: error: {out} exists: use --force to replace it"
    assert out.read_bytes() == b"an earlier import"
    assert main(["import", "csv", str(source), "--out", str(out), "--force"]) == 0
    assert len(read_session(out)) == 1


def test_analyze_checks_every_output_before_the_work(session_copy, tmp_path, capsys):
    angles = tmp_path / "angles.csv"
    angles.write_text("earlier")
    out = tmp_path / "a.json"
    assert main(["analyze", str(session_copy), "--out", str(out), "--angles-csv", str(angles)]) == 1
    assert f"{angles} exists: use --force" in _error_line(capsys)
    assert not out.exists() and angles.read_text() == "earlier"


def test_default_analysis_output_next_to_the_session_needs_force(session_copy, capsys):
    default = session_copy.with_name("s.analysis.json")
    default.write_text("earlier")
    assert main(["analyze", str(session_copy)]) == 1
    assert "s.analysis.json exists: use --force to replace it" in _error_line(capsys)
    assert default.read_text() == "earlier"


def test_simulate_never_replaces_a_session_without_force(tmp_path, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "session.parquet").write_bytes(b"a real session")
    assert main(["simulate", "--out", str(folder), "--bouts", "1", "--bout-s", "6"]) == 1
    assert "session.parquet exists: use --force to replace it" in _error_line(capsys)
    assert (folder / "session.parquet").read_bytes() == b"a real session"
    assert not (folder / "truth").exists()


def test_simulate_never_writes_into_a_recording(tmp_path, capsys):
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "recording.imulog").write_bytes(b"IMUGAITLOG")
    (folder / "session.parquet").write_bytes(b"the recording's session")
    assert main(["simulate", "--out", str(folder), "--force"]) == 1
    assert "holds a recording (recording.imulog): it is never replaced" in _error_line(capsys)
    assert (folder / "session.parquet").read_bytes() == b"the recording's session"


def test_record_never_replaces_a_session(tmp_path, capsys):
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "session.parquet").write_bytes(b"a real session")
    assert main(["record", "--emulate", "2", "--duration", "2", "--out", str(folder)]) == 1
    assert "a session is never replaced by a recording" in _error_line(capsys)
    assert (folder / "session.parquet").read_bytes() == b"a real session"
    assert not (folder / "recording.imulog").exists()


def test_demo_refuses_earlier_reports_before_recording_and_keeps_recordings(tmp_path, capsys):
    (tmp_path / "recording").mkdir()
    (tmp_path / "recording" / "session.parquet").write_bytes(b"an earlier recording")
    (tmp_path / "report.html").write_text("earlier report")
    assert main(["demo", "--out", str(tmp_path), "--duration", "30", "--speed", "5"]) == 1
    assert "report.html exists: use --force to replace it" in _error_line(capsys)
    assert (tmp_path / "report.html").read_text() == "earlier report"
    assert (tmp_path / "recording" / "session.parquet").read_bytes() == b"an earlier recording"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recording", "report.html"]


def test_demo_new_recording_goes_beside_the_old_one(tmp_path):
    from imugait.cli.demo import _new_recording_folder

    assert _new_recording_folder(tmp_path) == tmp_path / "recording"
    (tmp_path / "recording").mkdir()
    (tmp_path / "recording-2").mkdir()
    assert _new_recording_folder(tmp_path) == tmp_path / "recording-3"


# ----------------------------------------------------------------------------- where outputs go


@pytest.mark.parametrize("kind", ["folder", "missing folder"])
def test_output_that_cannot_be_a_file(session_copy, tmp_path, capsys, kind):
    if kind == "folder":
        out, expected = tmp_path, f"{tmp_path} is a folder: give a file name for the output"
    else:
        out, expected = tmp_path / "nope" / "a.json", f"cannot write {tmp_path / 'nope' / 'a.json'}: folder"
    assert main(["analyze", str(session_copy), "--out", str(out)]) == 1
    assert expected in _error_line(capsys)


def _full_disk(monkeypatch):
    """Every text write writes half, then fails as on a full disk."""
    real = Path.write_text

    def write_text(self, text, *args, **kwargs):
        real(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_text", write_text)


def test_full_disk_leaves_the_previous_result_intact(session_copy, tmp_path, capsys, monkeypatch):
    out = tmp_path / "a.json"
    out.write_text('{"an": "earlier result"}')
    _full_disk(monkeypatch)
    assert main(["analyze", str(session_copy), "--out", str(out), "--force"]) == 1
    line = _error_line(capsys)
    assert f"{out}: No space left on device [ENOSPC]" in line and "existing files were left as they were" in line
    assert out.read_text() == '{"an": "earlier result"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "s.parquet"]  # no temporary file left


def test_read_only_folder_is_a_one_line_error(session_copy, tmp_path, capsys, monkeypatch):
    import tempfile

    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(tmp_path))

    out = tmp_path / "a.json"
    out.write_text("earlier")
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert main(["analyze", str(session_copy), "--out", str(out), "--force"]) == 1
    assert f"{out}: Read-only file system [EROFS]" in _error_line(capsys)
    assert out.read_text() == "earlier"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_chmod_read_only_folder_is_refused_before_the_work(session_copy, tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["analyze", str(session_copy), "--out", str(folder / "a.json")]) == 1
        assert "is not writable" in _error_line(capsys)
    finally:
        folder.chmod(0o700)


def test_unreadable_input_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    source = _csv(tmp_path / "walk.csv")

    def denied(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(source))

    monkeypatch.setattr("imugait.io.csv_generic.read_csv_session", denied)  # what read_recording calls
    assert main(["import", "csv", str(source), "--out", str(tmp_path / "o.parquet")]) == 1
    assert _error_line(capsys) == f"imugait import: error: {source}: Permission denied [EACCES]"


# ----------------------------------------------------------------------------- inputs that are not what they claim


def test_previous_report_that_is_binary(session_copy, tmp_path, capsys):
    binary = tmp_path / "prev.report.json"
    binary.write_bytes(bytes(range(256)) * 4)
    assert main(["report", str(session_copy), "--previous", str(binary)]) == 1
    assert "not a JSON report (not UTF-8 text)" in _error_line(capsys)


@pytest.mark.parametrize("rows", [5, 30, 60])
def test_session_too_short_to_analyse(walk, tmp_path, capsys, rows):
    session = read_session(walk)
    short = Session([s.slice_time(0.0, s.t_s[rows - 1] + 1e-6) for s in session.streams], session.meta)
    path = write_session(short, tmp_path / "short.parquet")
    assert main(["analyze", str(path)]) == 1
    line = _error_line(capsys)
    assert f"too short to analyse: {rows} samples (" in line and "at least 3 s of walking" in line


def test_csv_time_in_milliseconds_is_refused_with_the_fix(tmp_path, capsys):
    source = _csv(tmp_path / "ms.csv", step_s=10.0)  # 100 Hz written in ms
    assert main(["import", "csv", str(source), "--out", str(tmp_path / "o.parquet")]) == 1
    line = _error_line(capsys)
    assert "a sample rate of 0.1 Hz" in line
    assert "it looks like milliseconds (that would be 100 Hz): divide t_s by 1000" in line
    assert not (tmp_path / "o.parquet").exists()


def test_record_on_a_full_disk_stops_with_one_line_and_stays_recoverable(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "rec"
    real, calls = os.write, {"n": 0}

    def write(fd, data):  # the log's header and first 50 records fit, then the disk is full
        if not os.readlink(f"/proc/self/fd/{fd}").endswith("recording.imulog"):
            return real(fd, data)  # os.write of the emulated sensors' pseudo-terminals
        calls["n"] += 1
        if calls["n"] > 51:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr("imugait.acquisition.recorder.os.write", write)
    code = main(["record", "--emulate", "2", "--duration", "8", "--speed", "4", "--out", str(folder)])
    assert code == 1
    line = _error_line(capsys)
    assert line.startswith("imugait record: error: recording stopped: cannot write")
    assert "No space left on device [ENOSPC]" in line and f"imugait recover {folder}" in line
    monkeypatch.undo()
    assert main(["recover", str(folder)]) == 0
    assert "50 records" in capsys.readouterr().out
    assert len(read_session(folder / "session.parquet")) == 2


def test_calibrate_refuses_an_existing_calibration_before_the_procedure(tmp_path, capsys):
    existing = tmp_path / "D1.json"
    existing.write_text("an earlier calibration")
    assert main(["calibrate", "imu", "--device", "D1", "--emulate", "--out", str(tmp_path)]) == 1
    assert f"{existing} exists: use --force to replace it" in _error_line(capsys)
    assert existing.read_text() == "an earlier calibration"


def _commands(parser, prefix=()):
    """(name path, parser) of every sub-command, recursively."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*prefix, name))
    if prefix:
        yield prefix, parser


WRITING_OPTIONS = {"--out", "--out-dir", "--html", "--json", "--angles-csv"}
NEVER_FORCED = {("record",)}
"""Commands whose outputs are recordings: never replaced, so no --force."""


def test_every_writing_command_has_force():
    from imugait.cli import build_parser

    missing = []
    for path, parser in _commands(build_parser()):
        options = {o for a in parser._actions for o in a.option_strings}
        if options & WRITING_OPTIONS and "--force" not in options and path not in NEVER_FORCED:
            missing.append(" ".join(path))
    assert missing == []


def test_guided_assessment_never_records_over_a_session(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "session.parquet").write_bytes(b"an earlier run")
    assert main(["assess", "--emulate", "--out", str(folder), "--force"]) == 1
    assert "a session is never replaced by a recording" in _error_line(capsys)
    assert (folder / "session.parquet").read_bytes() == b"an earlier run"
    (folder / "session.parquet").unlink()
    (folder / "report.html").write_text("an earlier report")
    assert main(["assess", "--emulate", "--out", str(folder)]) == 1
    assert "report.html exists: use --force to replace it" in _error_line(capsys)
    assert sorted(p.name for p in folder.iterdir()) == ["report.html"]
