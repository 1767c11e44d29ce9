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
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from imugait.acquisition.assembler import AcquisitionConfig, Assembly, LiveSamples, SessionAssembler
from imugait.acquisition.clock import ClockSyncConfig
from imugait.acquisition.logfile import (
    MAGIC,
    LogContents,
    LoggedEvent,
    LoggedMessage,
    LoggedStep,
    RecordKind,
    SkippedSpan,
    event_record,
    json_record,
    message_record,
    read_log,
    step_record,
)
from imugait.conventions import Placement
from imugait.errors import FormatError, ImugaitError, ValidationError, describe_os_error
from imugait.io.native import write_session
from imugait.model import EventKind, Session, SessionEvent
from imugait.output_guard import RECORDING_LOG_NAME
from imugait.protocol.messages import DeviceAnnouncement, DeviceStatus, SampleBlock


class RecordingStopped(ImugaitError):
    """The recording could not go on (disk full, read-only folder): its log stays recoverable."""


try:
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - not POSIX: no advisory locks, the O_EXCL create still guards
    _fcntl = None


def _being_recorded(log_path: Path) -> bool:
    """True while a :class:`Recorder` (in any process) holds ``log_path`` open for writing."""
    if _fcntl is None:
        return False
    try:
        fd = os.open(log_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        _fcntl.flock(fd, _fcntl.LOCK_SH | _fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # closing drops the shared lock if it was taken
    return False


def _busy(folder: Path) -> ImugaitError:
    return ImugaitError(f"{folder / LOG_NAME} is being recorded right now by another recorder: two recorders never "
                        "share a folder — choose another folder, or stop that recording first")


def _log_exists(folder: Path) -> ImugaitError:
    return ImugaitError(f"{folder / LOG_NAME} already exists: a recording is never overwritten — choose a new "
                        f"folder, or run `imugait recover {folder}` if that recording was interrupted")


LOG_NAME = RECORDING_LOG_NAME
SESSION_NAME = "session.parquet"
LOG_FORMAT_VERSION = 1


def check_recording_folder(folder: str | os.PathLike) -> Path:
    """Refuse ``folder`` for a new recording when it is a file or already holds a recording log or
    a session: a recording is never replaced (not even with ``--force``).

    Raises
    ------
    ImugaitError
        With what is there and what to do.
    """
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise ImugaitError(f"{p} is a file, not a folder: give a new folder for the recording")
    if (p / LOG_NAME).exists():
        raise _busy(p) if _being_recorded(p / LOG_NAME) else _log_exists(p)
    if (p / SESSION_NAME).exists():
        raise ImugaitError(f"{p / SESSION_NAME} already exists: a session is never replaced by a recording — "
                           "choose a new folder")
    existing = next(a for a in (p, *p.absolute().parents) if a.exists())
    if not os.access(existing, os.W_OK):
        # Checked before any sensor is opened (a read-only file system, a folder without write
        # permission); the recorder's own open still catches what this cannot foresee.
        raise ImugaitError(f"cannot start a recording in {p}: {existing} is not writable (a read-only file system, "
                           "or no permission) — choose another folder")
    return p


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
    keep_samples : keep every sample in memory (the default). False keeps memory flat however long
        the recording: live views, counters and the event log still work, and :meth:`finalise`
        builds the session by replaying the closed log (the same session; building it takes about
        as much memory at the end as keeping the samples would have taken all along).
    """

    def __init__(self, folder: str | os.PathLike, subject_id: str = "anonymous",
                 config: AcquisitionConfig | None = None, t0_host_s: float | None = None,
                 protocols: dict[Placement, str] | None = None, fsync_interval_s: float = 1.0,
                 notes: str = "", keep_samples: bool = True) -> None:
        if not fsync_interval_s > 0:
            raise ValidationError(f"fsync_interval_s must be positive, got {fsync_interval_s!r}")
        self.folder = check_recording_folder(folder)
        self.log_path = self.folder / LOG_NAME
        t0 = time.monotonic() if t0_host_s is None else float(t0_host_s)
        self.config = replace(config or AcquisitionConfig(), keep_samples=keep_samples)
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
        self.error = ""
        """Why the recording stopped early ('' while it runs): the disk was full, the folder read-only …"""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            if _fcntl is not None:  # held until the log is closed: a second recorder or recover sees it
                _fcntl.flock(self._fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        except FileExistsError:  # created between the check and here (another recorder starting)
            raise (_busy if _being_recorded(self.log_path) else _log_exists)(self.folder) from None
        except OSError as exc:
            raise ImugaitError(f"cannot start a recording in {self.folder}: {describe_os_error(exc, with_file=False)}") from None
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

    def add_event(self, kind: EventKind, host_s: float, placement: Placement | None = None, count: int = 0,
                  value_s: float = 0.0, detail: str = "") -> None:
        """Log an event the data cannot show (a link drop, discarded bytes, a device reset, Ctrl-C)
        and add it to the session's event log (see :meth:`SessionAssembler.add_event`)."""
        t_s = float(host_s) - float(self.assembler.t0_host_s)
        event = SessionEvent(t_s, kind, placement, int(count), float(value_s), detail)
        self._write(event_record(LoggedEvent(float(host_s), event)))
        self.assembler.add_event(kind, host_s, placement, count, value_s, detail)

    def sync_if_due(self) -> bool:
        """``fsync`` when the last one is older than ``fsync_interval_s``; True if it synced.

        Raises :class:`RecordingStopped` once a write has failed, so that a loop calling it ends."""
        if self.error:
            raise RecordingStopped(self.error)
        if self.records_synced < self.records_written and time.monotonic() - self._last_sync >= self.fsync_interval_s:
            self.sync()
            return True
        return False

    def sync(self) -> None:
        """Flush the log to disk now."""
        self._check_open()
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self._fail(exc)
        self.records_synced = self.records_written
        self._last_sync = time.monotonic()

    # ----------------------------------------------------------------- ending
    def finalise(self, path: str | os.PathLike | None = None) -> Path:
        """Close the log and write the session (default ``folder/session.parquet``).

        Raises
        ------
        RecordingStopped
            A write failed (the log up to there stays recoverable), or the session file could not
            be written (the log is complete: ``imugait recover`` writes it later).
        """
        self._check_open()
        self._write(json_record(RecordKind.END, {"finalised_at": _dt.datetime.now(_dt.UTC).isoformat()}))
        self.sync()
        self.close()
        assembly = self.assemble()
        target = self.folder / SESSION_NAME if path is None else Path(path)
        try:
            return write_session(assembly.session, target)
        except OSError as exc:
            raise RecordingStopped(
                f"the recording is complete in {self.log_path} but {target} could not be written "
                f"({describe_os_error(exc, with_file=False)}); make room, then run `imugait recover {self.folder}`"
            ) from None

    def assemble(self) -> Assembly:
        """The session so far (clock mapping applied), without closing anything."""
        if not self.config.keep_samples:
            if self._fd is not None:
                raise ImugaitError("this recording keeps no samples in memory (keep_samples=False): its session "
                                   "is built from the log when the recording ends")
            return replay(read_log(self.log_path))
        h = self.header
        return self.assembler.assemble(subject_id=h["subject_id"], recorded_at=h["recorded_at"],
                                       source="record", notes=h["notes"])

    def close(self) -> None:
        """Close the log without building a session (it stays recoverable). Never raises for a
        failing disk: what could be written stays, and :attr:`error` says what went wrong."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                if self.records_synced < self.records_written:
                    os.fsync(fd)
                    self.records_synced = self.records_written
            except OSError as exc:
                self.error = self.error or self._describe(exc)
            finally:
                os.close(fd)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        self._check_open()
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            self._fail(exc)
        self.records_written += 1

    def _check_open(self) -> None:
        if self.error:
            raise RecordingStopped(self.error)
        if getattr(self, "_fd", None) is None:
            raise ImugaitError(f"the recording in {self.folder} is closed")

    def _describe(self, exc: OSError) -> str:
        return (f"recording stopped: cannot write {self.log_path}: {describe_os_error(exc, with_file=False)}; the "
                f"{self.records_written} record(s) written before are kept — make room (or make the folder "
                f"writable), then run `imugait recover {self.folder}`")

    def _fail(self, exc: OSError) -> None:
        """Stop at the first failed write (a full disk, a read-only or vanished folder): keep the
        log as it is — a torn last record is skipped by :func:`recover` — and refuse to go on."""
        self.error = self._describe(exc)
        self.close()
        raise RecordingStopped(self.error) from None


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
    skipped: tuple[SkippedRecords, ...] = ()
    """Damaged records in the middle of the log that were skipped (reading went on after them)."""

    @property
    def session(self) -> Session:
        return self.assembly.session


@dataclass(frozen=True)
class SkippedRecords:
    """A damaged span of the log that recovery skipped, and the samples it cost.

    ``samples_lost`` per placement: the samples missing where reading resumed, by each sensor's
    counter (or clock) — the skipped records' samples plus any lost on the radio just there.
    Sensors that lost none, and sensors with no block after the span (nothing tells what was
    lost), are not listed.
    """

    span: SkippedSpan
    samples_lost: dict[Placement, int]

    def describe(self) -> str:
        s = self.span
        records = f"{s.n_records} record(s)" if s.records_exact else f"at least {s.n_records} record(s)"
        lost = ", ".join(f"{p.value} {n}" for p, n in self.samples_lost.items()) or "none seen"
        return (f"skipped bytes {s.start_byte}-{s.end_byte} ({s.n_bytes} bytes, {records}; {s.reason}); "
                f"samples lost: {lost}")


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
        The log is being recorded right now, or holds no sensor with at least two samples.
    """
    p = Path(path)
    log_path = p / LOG_NAME if p.is_dir() else p
    if _being_recorded(log_path):
        raise ImugaitError(f"{log_path} is being recorded right now: recover it once that recording has stopped "
                           "(or was killed)")
    contents = read_log(log_path)
    assembly, skipped = _replay(contents)
    return RecoveryReport(log_path, assembly, contents.clean_end, len(contents.entries),
                          contents.valid_bytes, contents.ignored_bytes, contents.problem, skipped)


def recover(path: str | os.PathLike) -> Session:
    """The session in a recording log (folder or file), up to its last intact record."""
    return recover_with_report(path).session


def replay(contents: LogContents) -> Assembly:
    """Feed a log's entries through a fresh assembler, as the recorder did while recording.

    Skipped damaged spans are written into the session's notes (``recovered: skipped …``)."""
    return _replay(contents)[0]


def _host_s(entry: LoggedMessage | LoggedStep | LoggedEvent) -> float:
    return entry.arrival_s if isinstance(entry, LoggedMessage) else entry.host_s


def _assembler_for(header: dict) -> SessionAssembler:
    """The assembler the recorder used, from the log's header; a FormatError if the header's
    settings cannot be right (its record passed the CRC, so it was written like that)."""
    try:
        protocols = {Placement(k): str(v) for k, v in dict(header.get("protocols", {})).items()}
        clock = ClockSyncConfig(**{k: float(v) for k, v in dict(header.get("clock", {})).items()})
        rate = header.get("nominal_rate_hz")
        config = AcquisitionConfig(clock=clock, nominal_rate_hz=None if rate is None else float(rate), live_window_s=None)
        t0_host_s = float(header["t0_host_s"])
        if not math.isfinite(t0_host_s):
            raise ValueError(f"t0_host_s is {t0_host_s}")
        return SessionAssembler(config, t0_host_s, protocols)
    except (KeyError, TypeError, ValueError) as exc:  # ValidationError too
        raise FormatError(f"the log's header holds settings that cannot be right ({type(exc).__name__}: {exc})") from None


def _replay(contents: LogContents) -> tuple[Assembly, tuple[SkippedRecords, ...]]:
    h = contents.header
    asm = _assembler_for(h)
    spans_at: dict[int, list[int]] = {}
    for k, span in enumerate(contents.skipped):
        spans_at.setdefault(span.entry_index, []).append(k)
    lost: list[dict[Placement, int]] = [{} for _ in contents.skipped]
    watching: dict[Placement, tuple[int, int]] = {}  # placement → (span, lost count before it)
    for index, e in enumerate(contents.entries):
        for k in spans_at.get(index, ()):
            watching.update({p: (k, asm.health(p).n_lost) for p in asm.placements()})
        if isinstance(e, LoggedEvent):
            v = e.event
            asm.add_event(v.kind, e.host_s, v.placement, v.count, v.value_s, v.detail)
        elif isinstance(e, LoggedStep):
            try:
                (asm.begin_step if e.event == "begin" else asm.end_step)(e.name, e.host_s)
            except ValidationError:
                continue  # an unmatched mark cannot make a step; the samples still count
        else:
            asm.handle(e.placement, e.arrival_s, e.message)
            if isinstance(e.message, SampleBlock) and e.placement in watching:
                k, before = watching.pop(e.placement)
                if n := asm.health(e.placement).n_lost - before:
                    lost[k][e.placement] = n
    skipped = tuple(SkippedRecords(span, lost[k]) for k, span in enumerate(contents.skipped))
    last_host_s = max((_host_s(e) for e in contents.entries), default=float(h["t0_host_s"]))
    for s in skipped:
        after = contents.entries[s.span.entry_index] if s.span.entry_index < len(contents.entries) else None
        asm.add_event(EventKind.LOG_DAMAGE_SKIPPED, last_host_s if after is None else _host_s(after),
                      count=s.span.n_bytes, detail=s.describe())
    if not contents.clean_end:
        asm.add_event(EventKind.LOG_UNFINISHED, last_host_s, count=contents.ignored_bytes,
                      detail=("the recording log ends without its END record (the recorder was stopped or killed)"
                              + (f"; {contents.ignored_bytes} byte(s) after the last intact record ignored: "
                                 f"{contents.problem}" if contents.ignored_bytes else "")))
    notes = [str(h.get("notes", ""))] + [f"recovered: {s.describe()}" for s in skipped]
    clean = contents.clean_end and not skipped
    assembly = asm.assemble(subject_id=str(h.get("subject_id", "anonymous")), recorded_at=h.get("recorded_at"),
                            source="record" if clean else "record:recovered", notes="; ".join(n for n in notes if n))
    return assembly, skipped
