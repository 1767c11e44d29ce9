"""Crash-safe recording: every message goes to an append-only log first; the session comes last.

::

    with Recorder("sessions/p01", subject_id="p01") as rec:      # creates sessions/p01/recording.imulog
        rec.handle(Placement.LEFT_THIGH, time.monotonic(), message)   # for every decoded message
        rec.begin_step("walk", time.monotonic()); ...; rec.end_step("walk", time.monotonic())
        rec.sync_if_due()                                           # call often, also when idle
        path = rec.finalise()                                       # sessions/p01/session.parquet

Each record is written with one ``os.write`` (so a killed process loses nothing the OS already
has) and the file is ``fsync``-ed at least every ``fsync_interval_s`` (so a power loss costs at
most that much). :func:`recover` turns the log of a session that never reached
:meth:`Recorder.finalise` into a session: everything up to the last intact record.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from imugait.acquisition.assembler import AcquisitionConfig, Assembly, LiveSamples, SessionAssembler
from imugait.acquisition.clock import ClockSyncConfig
from imugait.acquisition.logfile import (
    MAGIC,
    LogContents,
    LoggedMessage,
    LoggedStep,
    RecordKind,
    json_record,
    message_record,
    read_log,
    step_record,
)
from imugait.conventions import Placement
from imugait.errors import ImugaitError, ValidationError
from imugait.io.native import write_session
from imugait.model import Session
from imugait.protocol.messages import DeviceAnnouncement, DeviceStatus, SampleBlock

LOG_NAME = "recording.imulog"
SESSION_NAME = "session.parquet"
LOG_FORMAT_VERSION = 1


class Recorder:
    """Append everything that arrives to ``folder/recording.imulog``; build the session at the end.

    Parameters
    ----------
    folder : path of the session folder (created; must not already hold a recording log).
    subject_id : pseudonym stored in the session.
    config : AcquisitionConfig (clock fit, live buffers, nominal rate).
    t0_host_s : host time (s, :func:`time.monotonic`) of ``t_s = 0``; default: now.
    protocols : protocol name per placement (stored in the device info of each stream).
    fsync_interval_s : longest time written data may wait for an ``fsync``.
    notes : free text stored in the session metadata.
    """

    def __init__(self, folder: str | os.PathLike, subject_id: str = "anonymous",
                 config: AcquisitionConfig | None = None, t0_host_s: float | None = None,
                 protocols: dict[Placement, str] | None = None, fsync_interval_s: float = 1.0,
                 notes: str = "") -> None:
        if not fsync_interval_s > 0:
            raise ValidationError(f"fsync_interval_s must be positive, got {fsync_interval_s!r}")
        self.folder = Path(folder)
        self.log_path = self.folder / LOG_NAME
        self.folder.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic() if t0_host_s is None else float(t0_host_s)
        self.config = config or AcquisitionConfig()
        self.assembler = SessionAssembler(self.config, t0, protocols)
        self.fsync_interval_s = float(fsync_interval_s)
        self.header = {
            "log_format_version": LOG_FORMAT_VERSION,
            "t0_host_s": t0,
            "recorded_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "subject_id": subject_id,
            "notes": notes,
            "protocols": {p.value: name for p, name in (protocols or {}).items()},
            "nominal_rate_hz": self.config.nominal_rate_hz,
            "clock": asdict(self.config.clock),
        }
        try:
            self._fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise ImugaitError(
                f"{self.log_path} already exists: a recording is never overwritten — choose a new "
                f"folder, or run `imugait recover {self.folder}` if that recording was interrupted"
            ) from None
        self.records_written = 0
        self.records_synced = 0
        """Records known to be on disk (fsync returned after they were written)."""
        self._write(MAGIC + json_record(RecordKind.HEADER, self.header))
        self.sync()

    # ----------------------------------------------------------------- recording
    def handle(self, placement: Placement, arrival_s: float, message) -> LiveSamples | None:
        """Log one decoded message and pass it to the assembler (see :class:`SessionAssembler`)."""
        if isinstance(message, SampleBlock | DeviceAnnouncement | DeviceStatus):
            if not isinstance(placement, Placement):
                raise ValidationError(f"placement must be a Placement, not {placement!r}")
            self._write(message_record(LoggedMessage(placement, float(arrival_s), message)))
        live = self.assembler.handle(placement, arrival_s, message)
        self.sync_if_due()
        return live

    def begin_step(self, name: str, host_s: float) -> None:
        self.assembler.begin_step(name, host_s)
        self._write(step_record(LoggedStep(name, "begin", float(host_s))))

    def end_step(self, name: str, host_s: float) -> None:
        self.assembler.end_step(name, host_s)
        self._write(step_record(LoggedStep(name, "end", float(host_s))))

    def sync_if_due(self) -> bool:
        """``fsync`` when the last one is older than ``fsync_interval_s``; True if it synced."""
        if self.records_synced < self.records_written and time.monotonic() - self._last_sync >= self.fsync_interval_s:
            self.sync()
            return True
        return False

    def sync(self) -> None:
        """Flush the log to disk now."""
        self._check_open()
        os.fsync(self._fd)
        self.records_synced = self.records_written
        self._last_sync = time.monotonic()

    # ----------------------------------------------------------------- ending
    def finalise(self, path: str | os.PathLike | None = None) -> Path:
        """Close the log and write the session (default ``folder/session.parquet``)."""
        self._check_open()
        self._write(json_record(RecordKind.END, {"finalised_at": _dt.datetime.now(_dt.UTC).isoformat()}))
        self.sync()
        self.close()
        assembly = self.assemble()
        return write_session(assembly.session, self.folder / SESSION_NAME if path is None else path)

    def assemble(self) -> Assembly:
        """The session so far (clock mapping applied), without closing anything."""
        h = self.header
        return self.assembler.assemble(subject_id=h["subject_id"], recorded_at=h["recorded_at"],
                                       source="record", notes=h["notes"])

    def close(self) -> None:
        """Close the log without building a session (it stays recoverable)."""
        if self._fd is not None:
            if self.records_synced < self.records_written:
                os.fsync(self._fd)
                self.records_synced = self.records_written
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        self._check_open()
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self.records_written += 1

    def _check_open(self) -> None:
        if getattr(self, "_fd", None) is None:
            raise ImugaitError(f"the recording in {self.folder} is closed")


@dataclass(frozen=True, eq=False)
class RecoveryReport:
    """What :func:`recover_with_report` found in a log."""

    log_path: Path
    assembly: Assembly
    clean_end: bool
    records: int
    valid_bytes: int
    ignored_bytes: int
    problem: str

    @property
    def session(self) -> Session:
        return self.assembly.session


def recover_with_report(path: str | os.PathLike) -> RecoveryReport:
    """Rebuild the session from a recording log, with what was kept and what was ignored.

    Parameters
    ----------
    path : a session folder or its ``recording.imulog``.

    Raises
    ------
    FormatError
        Not a recording log, or no header.
    ImugaitError
        The log holds no sensor with at least two samples.
    """
    p = Path(path)
    log_path = p / LOG_NAME if p.is_dir() else p
    contents = read_log(log_path)
    assembly = replay(contents)
    return RecoveryReport(log_path, assembly, contents.clean_end, len(contents.entries),
                          contents.valid_bytes, contents.ignored_bytes, contents.problem)


def recover(path: str | os.PathLike) -> Session:
    """The session in a recording log (folder or file), up to its last intact record."""
    return recover_with_report(path).session


def replay(contents: LogContents) -> Assembly:
    """Feed a log's entries through a fresh assembler, as the recorder did while recording."""
    h = contents.header
    protocols = {Placement(k): v for k, v in dict(h.get("protocols", {})).items()}
    clock = ClockSyncConfig(**dict(h.get("clock", {})))
    config = AcquisitionConfig(clock=clock, nominal_rate_hz=h.get("nominal_rate_hz"), live_window_s=None)
    asm = SessionAssembler(config, float(h["t0_host_s"]), protocols)
    for e in contents.entries:
        if isinstance(e, LoggedStep):
            try:
                (asm.begin_step if e.event == "begin" else asm.end_step)(e.name, e.host_s)
            except ValidationError:
                continue  # an unmatched mark cannot make a step; the samples still count
        else:
            asm.handle(e.placement, e.arrival_s, e.message)
    return asm.assemble(subject_id=str(h.get("subject_id", "anonymous")), recorded_at=h.get("recorded_at"),
                        source="record" if contents.clean_end else "record:recovered", notes=str(h.get("notes", "")))
