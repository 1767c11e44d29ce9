"""Crash-safe recording: finalise, torn and garbage tails, SIGKILL mid-recording, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from imugait.acquisition import Recorder, recover, recover_with_report
from imugait.acquisition.logfile import LoggedMessage, LoggedStep, read_log
from imugait.acquisition.recorder import LOG_NAME
from imugait.cli import main as cli_main
from imugait.errors import FormatError, ImugaitError
from imugait.io.native import read_session
from imugait.protocol.messages import SampleBlock

from .blockgen import LIMBS, message_stream

REPO = Path(__file__).resolve().parents[2]


def _record(folder, messages, finalise=True):
    rec = Recorder(folder, subject_id="p01", t0_host_s=0.0)
    rec.begin_step("walk", 2.0)
    for p, arrival_s, msg in messages:
        rec.handle(p, arrival_s, msg)
    rec.end_step("walk", 20.0)
    if finalise:
        return rec, rec.finalise()
    rec.close()
    return rec, None


def _same_message(a: LoggedMessage, placement, arrival_s, msg) -> bool:
    if a.placement is not placement or a.arrival_s != arrival_s or type(a.message) is not type(msg):
        return False
    if not isinstance(msg, SampleBlock):
        return a.message == msg
    return all(
        (x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y))
        for x, y in ((a.message.seq, msg.seq), (a.message.t_device_us, msg.t_device_us),
                     (a.message.acc_mps2, msg.acc_mps2), (a.message.gyr_radps, msg.gyr_radps),
                     (a.message.mag_uT, msg.mag_uT), (a.message.q_world_sensor, msg.q_world_sensor))
    )


def test_finalise_writes_a_readable_session_with_the_right_counts(tmp_path):
    messages, truth = message_stream(30.0, seed=1, loss_probability=0.02)
    rec, path = _record(tmp_path / "s1", messages)
    assert path == tmp_path / "s1" / "session.parquet"
    session = read_session(path)
    assert session.meta.subject_id == "p01" and session.meta.source == "record"
    assert session.step("walk").t_start_s == 2.0
    for p in LIMBS:
        assert session[p].n_samples == int(truth[p].received.sum())
        assert session[p].n_lost_total == int((~truth[p].received).sum())
    # The log replays to the same session the recorder built in memory.
    again = recover(tmp_path / "s1")
    for p in LIMBS:
        np.testing.assert_array_equal(again[p].t_s, session[p].t_s)
    with pytest.raises(ImugaitError, match="never overwritten"):
        Recorder(tmp_path / "s1")


@pytest.mark.parametrize("cut", ["torn", "garbage"])
def test_torn_or_garbage_tail_is_ignored_and_reported(tmp_path, cut):
    messages, _ = message_stream(20.0, seed=2, loss_probability=0.0)
    _record(tmp_path / "s", messages, finalise=False)
    log = tmp_path / "s" / LOG_NAME
    full = read_log(log)
    data = log.read_bytes()
    if cut == "torn":
        data = data[:-7]  # the last record loses its end
        expected_entries = len(full.entries) - 1
    else:
        data = data + os.urandom(333)
        expected_entries = len(full.entries)
    log.write_bytes(data)
    report = recover_with_report(tmp_path / "s")
    assert report.records == expected_entries
    assert report.ignored_bytes == (len(data) - report.valid_bytes) and report.ignored_bytes > 0
    assert report.problem
    assert report.session.meta.source == "record:recovered"
    n_blocks = sum(1 for e in read_log(log).entries if isinstance(e, LoggedMessage) and isinstance(e.message, SampleBlock))
    assert n_blocks > 0


def test_not_a_log_is_a_format_error(tmp_path):
    bad = tmp_path / LOG_NAME
    bad.write_bytes(b"PAR1 not a log")
    with pytest.raises(FormatError, match="not an imugait recording log"):
        recover(bad)


def test_sigkill_mid_recording_recovers_everything_synced(tmp_path):
    folder = tmp_path / "killed"
    seed = 5
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.acquisition.record_child", str(folder), str(seed)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
    )
    synced, n_reports = 0, 0
    try:
        for line in child.stdout:
            if line.startswith("SYNCED"):
                synced = int(line.split()[1])
                n_reports += 1
                if n_reports >= 6:
                    break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert synced > 10

    messages, _ = message_stream(600.0, seed=seed, loss_probability=0.01)
    contents = read_log(folder / LOG_NAME)
    assert not contents.clean_end
    # Records on disk: header + entries; at least everything the child saw fsynced.
    assert 1 + len(contents.entries) >= synced
    step, *logged = contents.entries
    assert isinstance(step, LoggedStep) and step.name == "walk"
    assert all(_same_message(e, *m) for e, m in zip(logged, messages, strict=False))
    report = recover_with_report(folder)
    blocks = [m for m in messages[:len(logged)] if isinstance(m[2], SampleBlock)]
    for p in report.session:
        from_log = [b for q, _t, b in blocks if q is p]
        received = np.unique(np.concatenate([b.seq for b in from_log]))
        assert report.session[p].n_samples == received.size
        assert report.session[p].n_lost_total == int(received[-1] - received[0] + 1 - received.size)


def test_cli_recover_prints_what_was_recovered(tmp_path, capsys):
    messages, truth = message_stream(20.0, seed=3, loss_probability=0.01)
    _record(tmp_path / "s", messages, finalise=False)
    log = tmp_path / "s" / LOG_NAME
    log.write_bytes(log.read_bytes()[:-5])
    out = tmp_path / "recovered.parquet"
    assert cli_main(["recover", str(tmp_path / "s"), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    session = read_session(out)
    for p in LIMBS:
        assert p.value in text
    assert "torn" in text and "bytes ignored" in text
    assert sum(s.n_samples for s in session.streams) <= sum(int(t.received.sum()) for t in truth.values())
    assert cli_main(["recover", str(tmp_path / "s"), "--out", str(out)]) == 1  # never overwrite


def test_what_an_announced_gyroscope_sample_stands_for_is_logged_and_recovered(tmp_path):
    # (A Movella DOT announces interval-mean rates; an enum in the JSON record once stopped every
    # recording with an announcement.)
    from imugait.conventions import Placement
    from imugait.model import GyroSampling
    from imugait.protocol.movella_dot import announcement

    block = SampleBlock(seq=np.arange(3), t_device_us=np.arange(3) * 16_667,
                        acc_mps2=np.tile([0.0, 0.0, 9.81], (3, 1)), gyr_radps=np.zeros((3, 3)))
    messages = [(Placement.LEFT_THIGH, 0.0, announcement("D1", 60.0)), (Placement.LEFT_THIGH, 0.05, block)]
    _record(tmp_path / "dot", messages, finalise=False)
    logged = [e.message for e in read_log(tmp_path / "dot" / LOG_NAME).entries if isinstance(e, LoggedMessage)]
    assert logged[0] == announcement("D1", 60.0) and logged[0].gyr_sampling is GyroSampling.INTERVAL_MEAN
    assert recover(tmp_path / "dot")[Placement.LEFT_THIGH].device.gyr_sampling is GyroSampling.INTERVAL_MEAN
