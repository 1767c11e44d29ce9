"""Recovery skips only damaged records and says what it skipped; the recorder stops cleanly when
the disk is full or the folder read-only, and what it wrote stays recoverable."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from imugait.acquisition import Recorder, recover_with_report
from imugait.acquisition.logfile import MAGIC, LoggedMessage, read_log
from imugait.acquisition.recorder import LOG_NAME, SESSION_NAME, RecordingStopped, replay
from imugait.cli import main as cli_main
from imugait.errors import ImugaitError
from imugait.io.native import read_session
from imugait.model import EventKind
from imugait.protocol.messages import SampleBlock

from .blockgen import LIMBS, message_stream


def _record(folder, seconds=20.0, seed=2):
    messages, truth = message_stream(seconds, seed=seed, loss_probability=0.0)
    rec = Recorder(folder, subject_id="p01", t0_host_s=0.0)
    for p, arrival_s, msg in messages:
        rec.handle(p, arrival_s, msg)
    rec.close()
    return folder / LOG_NAME, truth


def _record_offsets(data: bytes) -> list[int]:
    """Start offset of every record after the magic (by walking the intact log)."""
    import struct

    offsets, pos = [], len(MAGIC)
    while pos < len(data):
        offsets.append(pos)
        pos += 11 + struct.unpack_from("<I", data, pos + 3)[0]
    return offsets


def _block_record_in_middle(log) -> tuple[int, int, LoggedMessage]:
    """(start, end, entry) of a sample block about halfway through the log."""
    data = log.read_bytes()
    offsets = _record_offsets(data)
    entries = read_log(log).entries  # entry k is record k + 1 (record 0 is the header)
    k = len(entries) // 2
    while not isinstance(entries[k].message, SampleBlock):
        k += 1
    return offsets[k + 1], offsets[k + 2], entries[k]


@pytest.mark.parametrize("where", ["payload", "length", "marker"])
def test_one_flipped_byte_loses_only_its_record(tmp_path, where):
    log, truth = _record(tmp_path / "s")
    full = read_log(log)
    start, end, damaged = _block_record_in_middle(log)
    data = bytearray(log.read_bytes())
    at = {"payload": start + 11 + 20, "length": start + 4, "marker": start}[where]
    data[at] ^= 0x40
    log.write_bytes(bytes(data))

    report = recover_with_report(tmp_path / "s")
    assert report.records == len(full.entries) - 1  # everything after the damage is kept
    assert report.ignored_bytes == 0 and report.clean_end is False
    [skip] = report.skipped
    assert (skip.span.start_byte, skip.span.end_byte) == (start, end)
    assert skip.span.n_records == 1
    assert skip.span.records_exact == (where == "payload")
    lost = damaged.message.n_samples
    assert skip.samples_lost == {damaged.placement: lost}
    session = report.session
    for p in LIMBS:
        expected = int(truth[p].received.sum()) - (lost if p is damaged.placement else 0)
        assert session[p].n_samples == expected
    assert session[damaged.placement].n_lost_total == lost
    assert f"skipped bytes {start}-{end}" in session.meta.notes
    assert session.meta.source == "record:recovered"


def test_recover_cli_reports_the_skipped_span_and_keeps_the_rest(tmp_path, capsys):
    log, _ = _record(tmp_path / "s", seconds=30.0)
    start, end, damaged = _block_record_in_middle(log)
    data = bytearray(log.read_bytes())
    data[start + 40] ^= 0xFF
    log.write_bytes(bytes(data))
    before = log.read_bytes()

    assert cli_main(["recover", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert f"skipped bytes {start}-{end} ({end - start} bytes, 1 record(s)" in out
    assert f"samples lost: {damaged.placement.value} {damaged.message.n_samples}" in out
    assert log.read_bytes() == before  # the log itself is never changed
    session = read_session(tmp_path / "s" / SESSION_NAME)
    assert "skipped bytes" in session.meta.notes
    # Run again: the session it wrote is an output now, replaced only with --force.
    assert cli_main(["recover", str(tmp_path / "s")]) == 1
    assert "use --force to replace it" in capsys.readouterr().err
    assert cli_main(["recover", str(tmp_path / "s"), "--out", str(log)]) == 1
    assert "this command's input" in capsys.readouterr().err
    assert log.read_bytes() == before


def test_garbage_between_records_is_skipped(tmp_path):
    log, _ = _record(tmp_path / "s")
    start, _end, _ = _block_record_in_middle(log)
    data = log.read_bytes()
    garbage = bytes(np.random.default_rng(1).integers(0, 256, 777, dtype=np.uint8)) + b"\xa5\x5a\x02"
    log.write_bytes(data[:start] + garbage + data[start:])
    report = recover_with_report(log)
    assert report.records == len(read_log(log).entries) == len(_entries_of(data))
    [skip] = report.skipped
    assert skip.span.n_bytes == len(garbage) and skip.samples_lost == {}


def _entries_of(data: bytes):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / LOG_NAME
        p.write_bytes(data)
        return read_log(p).entries


class _FullDisk:
    """``os.write`` that accepts ``allowed`` calls, then writes half of one and fails (ENOSPC)."""

    def __init__(self, allowed: int, code: int = errno.ENOSPC) -> None:
        self.allowed, self.code, self.real = allowed, code, os.write

    def __call__(self, fd, data):
        if self.allowed > 0:
            self.allowed -= 1
            return self.real(fd, data)
        if self.allowed == 0:
            self.allowed -= 1
            return self.real(fd, bytes(data)[: len(data) // 2])  # a torn record, as on a full disk
        raise OSError(self.code, os.strerror(self.code))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EIO])
def test_recorder_stops_on_a_failed_write_and_what_was_written_is_recoverable(tmp_path, monkeypatch, code):
    messages, _ = message_stream(20.0, seed=3, loss_probability=0.0)
    rec = Recorder(tmp_path / "s", subject_id="p01", t0_host_s=0.0)
    monkeypatch.setattr("imugait.acquisition.recorder.os.write", _FullDisk(200, code))
    with pytest.raises(RecordingStopped, match="recording stopped: cannot write .*recover") as info:
        for p, arrival_s, msg in messages:
            rec.handle(p, arrival_s, msg)
    assert errno.errorcode[code] in str(info.value) and "\n" not in str(info.value)
    assert rec.records_written == 201  # the header and 200 messages
    # Every later call refuses with the same reason, never a traceback from the OS.
    with pytest.raises(RecordingStopped):
        rec.handle(*messages[-1])
    with pytest.raises(RecordingStopped):
        rec.sync_if_due()
    with pytest.raises(RecordingStopped):
        rec.finalise()
    rec.close()
    monkeypatch.undo()
    report = recover_with_report(tmp_path / "s")
    assert report.records == 200 and report.ignored_bytes > 0  # the torn half record is the tail


def test_recorder_in_a_read_only_folder_is_a_clear_error(tmp_path, monkeypatch):
    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("imugait.acquisition.recorder.os.open", read_only)
    with pytest.raises(ImugaitError, match="cannot start a recording in .*Read-only file system"):
        Recorder(tmp_path / "ro")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_recorder_in_a_chmod_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ImugaitError, match="cannot start a recording"):
            Recorder(folder)
    finally:
        folder.chmod(0o700)


def test_recorder_never_replaces_a_session(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / SESSION_NAME).write_bytes(b"a real session")
    with pytest.raises(ImugaitError, match="never replaced"):
        Recorder(folder)
    assert (folder / SESSION_NAME).read_bytes() == b"a real session"
    assert not (folder / LOG_NAME).exists()


def test_finalise_on_a_full_disk_keeps_the_complete_log(tmp_path, monkeypatch):
    messages, _ = message_stream(5.0, seed=4, loss_probability=0.0)
    rec = Recorder(tmp_path / "s", subject_id="p01", t0_host_s=0.0)
    for p, arrival_s, msg in messages:
        rec.handle(p, arrival_s, msg)

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("imugait.acquisition.recorder.write_session", full)
    with pytest.raises(RecordingStopped, match=r"the recording is complete in .*No space left on device \[ENOSPC\].*"
                                               r"imugait recover"):
        rec.finalise()
    monkeypatch.undo()
    report = recover_with_report(tmp_path / "s")
    assert report.clean_end and report.records == len(messages)


def test_a_byte_flipped_anywhere_after_the_header_costs_at_most_its_record(tmp_path):
    log, _ = _record(tmp_path / "s", seconds=30.0, seed=6)
    data = log.read_bytes()
    offsets = _record_offsets(data)
    full = read_log(log).entries
    rng = np.random.default_rng(13)
    checked_events = 0
    for at in rng.integers(offsets[1], len(data), 40):
        damaged = bytearray(data)
        damaged[at] ^= 1 << int(rng.integers(0, 8))
        log.write_bytes(bytes(damaged))
        contents = read_log(log)
        k = int(np.searchsorted(offsets, at, side="right")) - 2  # the entry whose record holds the byte
        kept = [e for i, e in enumerate(full) if i != k]
        assert len(contents.entries) == len(kept), f"flip at byte {at}"
        assert all(a.arrival_s == b.arrival_s for a, b in zip(contents.entries, kept, strict=True))
        if k == len(full) - 1:  # the last record: a damaged tail, not a skipped span
            assert contents.ignored_bytes > 0 and not contents.skipped
        else:
            [span] = contents.skipped
            assert span.start_byte == offsets[k + 1] and span.end_byte == offsets[k + 2]
        if checked_events < 5:  # the session's event log says what was skipped (assembling is slower)
            checked_events += 1
            events = replay(contents).session.meta.events
            skipped = [e for e in events if e.kind is EventKind.LOG_DAMAGE_SKIPPED]
            if k == len(full) - 1:
                assert not skipped and any(e.kind is EventKind.LOG_UNFINISHED and e.count > 0 for e in events)
            else:
                assert [e.count for e in skipped] == [offsets[k + 2] - offsets[k + 1]]


def test_a_damaged_header_is_a_format_error(tmp_path):
    from imugait.errors import FormatError

    log, _ = _record(tmp_path / "s")
    data = bytearray(log.read_bytes())
    data[len(MAGIC) + 20] ^= 0x01
    log.write_bytes(bytes(data))
    with pytest.raises(FormatError, match="header record is missing or unreadable"):
        recover_with_report(log)
