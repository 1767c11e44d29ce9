"""Recordings started and stopped while a live run goes on ("takes"), and the step marks in them.

A live run acquires without a recorder; :class:`Takes` gets every decoded message from the live
acquisition's observer and, while a take runs, hands it to a crash-safe
:class:`~imugait.acquisition.recorder.Recorder` in its own folder: the first in ``FOLDER`` (as
``imugait record --out FOLDER``), the next ones in ``FOLDER-2``, ``FOLDER-3`` … A take started
after the sensors connected gets each sensor's last device announcement and status first, so its
session knows the devices. A folder that holds a recording or a session is skipped, never reused.

Times: ``host_s`` on the run's host clock; a take's session clock starts when the take starts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from imugait.acquisition.recorder import Recorder, RecordingStopped, check_recording_folder
from imugait.conventions import Placement
from imugait.errors import ImugaitError
from imugait.protocol.messages import DeviceAnnouncement, DeviceStatus

MAX_TAKES = 9999


class Takes:
    """Takes in ``root``, ``root-2``, ``root-3`` … (each created when its take starts).

    Parameters
    ----------
    root : folder of the first take.
    clock : the run's host clock (s).
    subject_id, notes : stored in each take's session.
    """

    def __init__(self, root: str | os.PathLike, clock: Callable[[], float], subject_id: str = "anonymous",
                 notes: str = "") -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ImugaitError(f"{self.root} is a file: give a folder for the recordings")
        self.clock = clock
        self.subject_id = subject_id
        self.notes = notes
        self.recorder: Recorder | None = None
        self.sessions: list[Path] = []
        """Sessions written by the takes so far, in order."""
        self.error = ""
        """Why the last take stopped early ('' when it did not)."""
        self._known: dict[Placement, list] = {}
        self._open_steps: list[str] = []

    @property
    def active(self) -> bool:
        return self.recorder is not None

    @property
    def folder(self) -> Path | None:
        return None if self.recorder is None else self.recorder.folder

    def _next_folder(self) -> Path:
        for n in range(1, MAX_TAKES + 1):
            folder = self.root if n == 1 else self.root.with_name(f"{self.root.name}-{n}")
            try:
                return check_recording_folder(folder)
            except ImugaitError:
                continue
        raise ImugaitError(f"{self.root} and {MAX_TAKES - 1} numbered folders beside it hold recordings: "
                           "choose another folder")

    # ------------------------------------------------------------------ control
    def start(self) -> Path:
        """Start a take in the next free ``take-N`` folder; returns the folder."""
        if self.recorder is not None:
            raise ImugaitError(f"a recording is already running in {self.recorder.folder}")
        self.error = ""
        now = self.clock()
        # As ``imugait record``: no sample kept in memory (flat however long the take), the session
        # replayed from the log when the take ends.
        self.recorder = Recorder(self._next_folder(), subject_id=self.subject_id, t0_host_s=now, notes=self.notes,
                                 keep_samples=False)
        for placement, messages in self._known.items():
            for message in messages:
                if message is not None:
                    self.recorder.handle(placement, now, message)
        for name in self._open_steps:  # a step marked before the take began goes on in it
            self.recorder.begin_step(name, now)
        return self.recorder.folder

    def stop(self) -> Path | None:
        """End the take: close open steps, finalise; returns the session written (None when the
        take had stopped on an error: its log in the take's folder stays recoverable)."""
        return self.finish(self.detach())

    def detach(self) -> Recorder | None:
        """End the take now — its open steps closed at this instant, the messages from now on in
        no take — and return its recorder for :meth:`finish` (None if no take ran or it failed).
        :meth:`finish` can run in another thread: finalising replays the whole log (about a
        CPU-second per 2 minutes of take), which must not hold a live run's event loop."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        try:
            now = self.clock()
            for name in self._open_steps:
                recorder.end_step(name, now)
        except ImugaitError as exc:
            self._failed(recorder, exc)
            return None
        return recorder

    def finish(self, recorder: Recorder | None) -> Path | None:
        """Finalise a take :meth:`detach` returned: its session written (appended to
        :attr:`sessions`), or None with :attr:`error` saying why."""
        if recorder is None:
            return None
        try:
            path = recorder.finalise()
        except ImugaitError as exc:
            self._failed(recorder, exc)
            return None
        self.sessions.append(path)
        return path

    def _failed(self, recorder: Recorder, exc: ImugaitError) -> None:
        if isinstance(exc, RecordingStopped):
            self.error = str(exc)
        else:  # the log is complete and closed, but holds no samples to make a session of
            self.error = (f"the take in {recorder.folder} ended before it held samples ({exc}); no session was "
                          "written — start the take once the sensors stream")
        recorder.close()

    def begin_step(self, name: str) -> None:
        """A step starts now (in the running take, if any)."""
        if name in self._open_steps:
            raise ImugaitError(f"step {name!r} is already marked and not ended")
        self._open_steps.append(name)
        if self.recorder is not None:
            self.recorder.begin_step(name, self.clock())

    def end_step(self, name: str) -> None:
        if name in self._open_steps:
            self._open_steps.remove(name)
            if self.recorder is not None:
                self.recorder.end_step(name, self.clock())

    # ------------------------------------------------------------------ messages
    def handle(self, placement: Placement, message) -> None:
        """Every decoded message of the run (the live acquisition's observer calls this)."""
        if isinstance(message, DeviceAnnouncement):
            self._known.setdefault(placement, [None, None])[0] = message
        elif isinstance(message, DeviceStatus):
            self._known.setdefault(placement, [None, None])[1] = message
        if self.recorder is None:
            return
        try:
            self.recorder.handle(placement, self.clock(), message)
        except RecordingStopped as exc:  # disk full, folder gone: keep streaming, say so
            self.error = str(exc)
            recorder, self.recorder = self.recorder, None
            recorder.close()

    def close(self) -> None:
        """Finalise a take still running (end of the run)."""
        if self.recorder is not None:
            self.stop()

