"""The fault-injection matrix of recording: a real full disk and a real read-only file system
(small tmpfs mounts, where this process may mount), SIGKILL at 50 random moments, two recorders
on one folder. Failed writes injected at the file-write layer are in ``test_recover_resync.py``."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter

import numpy as np
import pytest

from imugait.acquisition.logfile import LoggedMessage, read_log
from imugait.acquisition.recorder import (
    LOG_NAME,
    Recorder,
    RecordingStopped,
    check_recording_folder,
    recover,
    recover_with_report,
)
from imugait.cli import main as cli_main
from imugait.conventions import Placement
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import emulated_devices, walker_simulation
from imugait.emulate.wire import WireEmulation, acquire_over_wire
from imugait.errors import FormatError, ImugaitError
from imugait.io.native import read_session
from imugait.model import EventKind
from imugait.protocol.messages import SampleBlock

from .blockgen import message_stream

N_KILLS = 50


@contextlib.contextmanager
def _tmpfs(path, size: str, read_only: bool = False):
    """A real small file system at ``path``; skips the test where mounting is not allowed."""
    path.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}" + (",ro" if read_only else ""), "tmpfs",
                           str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_real_full_disk_while_recording(tmp_path):
    walk = walker_simulation(2, 30.0, sample_rate_hz=100.0, seed=12)
    devices = emulated_devices(walk, DeviceSettings(samples_per_block=10, autostart=True))
    wire = WireEmulation(devices)
    with _tmpfs(tmp_path / "disk", "96k") as disk:
        rec = Recorder(disk / "r", t0_host_s=wire.clock())
        with pytest.raises(RecordingStopped) as info:
            asyncio.run(asyncio.wait_for(acquire_over_wire(wire, rec), 120.0))
        message = str(info.value)
        assert "No space left on device [ENOSPC]" in message and "imugait recover" in message
        assert "\n" not in message
        rec.close()
        report = recover_with_report(disk / "r")
    # Everything written before the disk filled is back; the end is marked in the event log.
    assert report.records == rec.records_written - 1  # every record but the header
    assert sum(s.n_samples for s in report.session.streams) > 0
    kinds = [e.kind for e in report.session.meta.events]
    assert EventKind.LOG_UNFINISHED in kinds
    for p, stream in report.session.items():
        sent = devices[p].sent()
        n = stream.n_samples
        q = devices[p].stream  # the recovered samples are the first ones the device sent
        assert np.allclose(stream.acc_mps2, q.acc_mps2[sent.source_index[:n]], atol=0.01)


def test_a_real_read_only_file_system(tmp_path, capsys):
    with _tmpfs(tmp_path / "ro", "64k", read_only=True) as ro:
        with pytest.raises(ImugaitError, match=r"cannot start a recording in .* is not writable \(a read-only"):
            Recorder(ro / "r")
        # The command line refuses with the same check before it opens any sensor.
        with pytest.raises(ImugaitError, match=r"cannot start a recording in .* is not writable"):
            check_recording_folder(ro / "r")
        assert cli_main(["record", "--emulate", "1", "--duration", "5", "--out", str(ro / "r")]) == 1
        assert "is not writable" in capsys.readouterr().err
        assert not any(ro.iterdir())


def test_two_recorders_on_one_folder(tmp_path, capsys):
    messages, _ = message_stream(5.0, seed=8, loss_probability=0.0)
    folder = tmp_path / "s"
    first = Recorder(folder, t0_host_s=0.0)
    for m in messages[:100]:
        first.handle(*m)
    with pytest.raises(ImugaitError, match="being recorded right now by another recorder") as info:
        Recorder(folder, t0_host_s=0.0)
    assert "\n" not in str(info.value)
    assert cli_main(["record", "--emulate", "1", "--duration", "5", "--out", str(folder)]) == 1
    assert "being recorded right now" in capsys.readouterr().err
    with pytest.raises(ImugaitError, match="being recorded right now"):
        recover(folder)
    for m in messages[100:]:  # the first recorder is not disturbed
        first.handle(*m)
    session = read_log(folder / LOG_NAME)
    assert len(session.entries) == len(messages)
    first.finalise()
    with pytest.raises(ImugaitError, match="never overwritten"):  # stopped: now it is an old recording
        Recorder(folder)


def _child_records(folder, messages, report_fd: int) -> None:
    """In a forked child: record ``messages``, writing the records fsynced after each sync."""
    try:
        rec = Recorder(folder, subject_id="kill", t0_host_s=0.0, fsync_interval_s=0.001)
        os.write(report_fd, f"{rec.records_synced}\n".encode())
        synced = rec.records_synced
        for p, arrival_s, msg in messages:
            rec.handle(p, arrival_s, msg)
            if rec.records_synced != synced:
                synced = rec.records_synced
                os.write(report_fd, f"{synced}\n".encode())
        rec.sync()
        os.write(report_fd, f"{rec.records_synced}\nend\n".encode())
        while True:  # wait for the kill
            time.sleep(1.0)
    finally:
        os._exit(3)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_at_50_random_moments_loses_nothing_fsynced(tmp_path):
    """Each kill lands after a random number of the child's fsync reports (0-59) plus a random
    0-3 ms, so the moments spread over the recording on any machine, mid-write included."""
    messages, _ = message_stream(8.0, seed=9, loss_probability=0.01)
    rng = np.random.default_rng(21)
    outcomes = []
    for k in range(N_KILLS):
        folder = tmp_path / f"k{k}"
        after_reports, extra_s = int(rng.integers(0, 60)), float(rng.uniform(0.0, 0.003))
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child_records(folder, messages, write_fd)
        os.close(write_fd)
        with os.fdopen(read_fd) as reports:
            lines = []
            while len(lines) < after_reports:  # the child may report fewer syncs (a fast machine): "end" says so
                line = reports.readline()
                if not line or line.strip() == "end":
                    break
                lines.append(line)
            time.sleep(extra_s)
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            lines += reports.readlines()  # what it reported before it died
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        numbers = [int(line) for line in lines if line.strip() and line.strip() != "end"]
        synced = numbers[-1] if numbers else 0
        outcomes.append(_check_killed_recording(folder, messages, synced))
    counts = Counter(outcomes)
    assert counts["recovered"] >= N_KILLS // 2, counts


def _check_killed_recording(folder, messages, synced: int) -> str:
    log = folder / LOG_NAME
    try:
        contents = read_log(log)
    except FormatError:
        assert synced == 0  # killed before the header was on disk
        return "no log"
    entries = contents.entries
    assert 1 + len(entries) >= synced  # every record reported fsynced is there (header included)
    for e, (p, arrival_s, msg) in zip(entries, messages, strict=False):  # a prefix, in order, intact
        assert isinstance(e, LoggedMessage) and e.placement is p and e.arrival_s == arrival_s
        assert type(e.message) is type(msg)
    blocks = [m for m in messages[:len(entries)] if isinstance(m[2], SampleBlock)]
    if not any(len([b for q, _t, b in blocks if q is p]) for p in Placement):
        return "header only"
    try:
        session = recover(folder)
    except ImugaitError as exc:
        assert "no sensor delivered at least 2 samples" in str(exc)
        return "too short"
    for p, stream in session.items():
        received = np.unique(np.concatenate([b.seq for q, _t, b in blocks if q is p]))
        assert stream.n_samples == received.size
        assert stream.n_lost_total == int(received[-1] - received[0] + 1 - received.size)
    assert any(e.kind is EventKind.LOG_UNFINISHED for e in session.meta.events)
    return "recovered"



@pytest.mark.parametrize(("playback", "when"), [(1.0, "recording"), (10.0, "recording"), (100.0, "preparing")])
def test_ctrl_c_at_any_playback(tmp_path, capsys, monkeypatch, playback, when):
    """Ctrl-C while the emulated walk is being prepared ends at once (exit 130, nothing written);
    during the recording it stops cleanly: exit 0, the session written, Ctrl-C in its event log."""
    folder = tmp_path / "r"
    log = folder / LOG_NAME
    stop = threading.Event()

    if when == "preparing":  # Ctrl-C lands inside the walk's preparation, however fast the machine
        import imugait.emulate.sensors as emulated

        prepare = emulated.emulated_walk

        def interrupted_preparation(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)  # raised in this (the main) thread as it goes on
            return prepare(*args, **kwargs)

        monkeypatch.setattr(emulated, "emulated_walk", interrupted_preparation)

    def press_ctrl_c():  # once records arrive (the handler is installed before the sensors open)
        while not stop.wait(0.02) and not (log.exists() and log.stat().st_size > 4_000):
            pass
        if not stop.is_set():
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c) if when == "recording" else None
    if presser is not None:
        presser.start()
    started = time.monotonic()
    try:
        code = cli_main(["record", "--emulate", "1", "--playback", f"{playback:g}", "--rate", "50",
                         "--duration", "20", "--out", str(folder)])
    finally:
        stop.set()
        if presser is not None:
            presser.join()
    assert time.monotonic() - started < 120.0  # a hang guard only
    out, err = capsys.readouterr()
    if when == "preparing":
        assert code == 130 and err.strip().endswith("imugait record: interrupted")
        assert not log.exists()
        return
    assert code == 0 and "interrupted (Ctrl-C)" in out
    session = read_session(folder / "session.parquet")
    [interrupted] = [e for e in session.meta.events if e.kind is EventKind.INTERRUPTED]
    assert 0 < interrupted.t_s < 20.0
    assert session.meta.source == "record" and session[Placement.LEFT_THIGH].n_samples > 0


def test_a_real_full_disk_while_recording_over_pseudo_terminals(tmp_path):
    """The disk fills while four sensors stream over the carrier users have (real pyserial on
    pseudo-terminals): the acquisition stops with one line, the ports close, and everything
    written before is recovered — the first samples each device sent, in order."""
    from imugait.acquisition.sources import SensorSource, SourceKind
    from imugait.emulate.emulator import SerialEmulator
    from imugait.live.acquisition import LiveAcquisition, LiveConfig

    walk = walker_simulation(4, 40.0, sample_rate_hz=100.0, seed=13)
    devices = emulated_devices(walk, DeviceSettings(samples_per_block=4))

    async def record(emulator, folder):
        sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
        rec = Recorder(folder, t0_host_s=emulator.clock())
        try:
            async with LiveAcquisition(sources, LiveConfig(host_clock=emulator.clock), recorder=rec) as live:
                await live.run(until=lambda: emulator.finished, tick_s=0.05)
        finally:
            rec.close()
        return rec

    with _tmpfs(tmp_path / "disk", "96k") as disk, SerialEmulator(devices, speed=4.0) as emulator:
        with pytest.raises(RecordingStopped) as info:
            asyncio.run(asyncio.wait_for(record(emulator, disk / "r"), 300.0))
        assert not emulator.finished  # it stopped because the disk was full, not at the walk's end
        message = str(info.value)
        assert "No space left on device [ENOSPC]" in message and "imugait recover" in message
        assert "\n" not in message
        report = recover_with_report(disk / "r")
    assert EventKind.LOG_UNFINISHED in [e.kind for e in report.session.meta.events]
    assert sum(s.n_samples for s in report.session.streams) > 0
    _assert_the_first_samples_sent(report.session, devices)


@contextlib.contextmanager
def _ext4_turning_read_only(path, size_mb: int = 16):
    """A real ext4 file system at ``path`` mounted ``errors=remount-ro``; yields a function that
    turns it read-only at once (the kernel's own "file system error" path, as after a failing
    disk), whatever files are open for writing. Skips where loop mounts are not allowed."""
    for tool in ("mkfs.ext4", "mount", "findmnt"):
        if shutil.which(tool) is None:
            pytest.skip(f"no {tool} command")
    image = path.with_name(path.name + ".img")
    with open(image, "wb") as f:
        f.truncate(size_mb << 20)
    made = subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot make an ext4 image here: {made.stderr.decode().strip()}")
    path.mkdir()
    done = subprocess.run(["mount", "-o", "loop,errors=remount-ro", str(image), str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot loop-mount an ext4 image here (needs root and loop devices): {done.stderr.decode().strip()}")
    try:
        source = subprocess.run(["findmnt", "-n", "-o", "SOURCE", str(path)], capture_output=True, text=True).stdout.strip()
        trigger = f"/sys/fs/ext4/{os.path.basename(source)}/trigger_fs_error"
        if not os.path.exists(trigger):
            pytest.skip(f"this kernel has no {trigger}")

        def turn_read_only() -> None:
            with open(trigger, "w") as f:
                f.write("imugait test: the disk turns read-only\n")

        yield turn_read_only
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_file_system_turning_read_only_while_recording_over_pseudo_terminals(tmp_path):
    """The folder's file system turns read-only while four sensors stream over real pyserial on
    pseudo-terminals (ext4 remounting itself read-only, with the log open for writing): the
    acquisition stops with one line naming EROFS and `imugait recover`, the ports close, and
    everything written before is recovered — the first samples each device sent, in order."""
    from imugait.acquisition.sources import SensorSource, SourceKind
    from imugait.emulate.emulator import SerialEmulator
    from imugait.live.acquisition import LiveAcquisition, LiveConfig

    walk = walker_simulation(4, 40.0, sample_rate_hz=100.0, seed=14)
    devices = emulated_devices(walk, DeviceSettings(samples_per_block=4))
    turned_at_records: list[int] = []

    async def record(emulator, folder, turn_read_only):
        sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
        rec = Recorder(folder, t0_host_s=emulator.clock())

        def until() -> bool:  # checked by the loop between reads: turn read-only once 400 records are in
            if not turned_at_records and rec.records_written >= 400:
                turned_at_records.append(rec.records_written)
                turn_read_only()
            return emulator.finished

        try:
            async with LiveAcquisition(sources, LiveConfig(host_clock=emulator.clock), recorder=rec) as live:
                await live.run(until=until, tick_s=0.05)
        finally:
            rec.close()
        return rec

    with _ext4_turning_read_only(tmp_path / "disk") as turn_read_only, \
            SerialEmulator(devices, speed=4.0) as emulator:
        with pytest.raises(RecordingStopped) as info:
            asyncio.run(asyncio.wait_for(record(emulator, tmp_path / "disk" / "r", turn_read_only), 300.0))
        assert turned_at_records and not emulator.finished
        message = str(info.value)
        assert "Read-only file system [EROFS]" in message and "imugait recover" in message
        assert "\n" not in message
        # recover only reads: it works on the read-only disk itself
        report = recover_with_report(tmp_path / "disk" / "r")
    assert EventKind.LOG_UNFINISHED in [e.kind for e in report.session.meta.events]
    assert report.records >= turned_at_records[0] - 1  # every record written before (less the header)
    _assert_the_first_samples_sent(report.session, devices)


def _assert_the_first_samples_sent(session, devices) -> None:
    """Every sensor of the recovered ``session`` holds the first samples its device sent, in
    order, none lost on the way."""
    for p, stream in session.items():
        sent = devices[p].sent()
        n = stream.n_samples
        assert 0 < n <= sent.seq.size
        assert stream.n_lost_total == 0
        assert np.allclose(stream.acc_mps2, devices[p].stream.acc_mps2[sent.source_index[:n]], atol=0.01)
