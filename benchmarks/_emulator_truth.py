"""What the emulator knows and the host does not, for the real-time benchmarks: when each sample
was taken (its true time on the host's clock) and when each frame was written to its port.

:class:`TruthEmulatorProcess` is :class:`~imugait.emulate.process.SerialEmulatorProcess` whose
child logs, per device, ``time.monotonic()`` just after each write with the bytes written so far
(the clock both processes share: the child's :class:`~imugait.emulate.clock.ScaledClock` at
speed 1 is ``time.monotonic``) and the walker's time origin (``world_t0_s``: a sample of true time
``t`` is taken at host time ``world_t0_s + t``). It wraps the product's child entry point
(``_serve_serial``) rather than copying it, so it runs with any revision's ``imugait``.

:func:`time_errors_ms` compares the host's sample times with the truth; :func:`write_to_push_ms`
measures from the emulator's write to the push that carried what it brought.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from imugait.emulate import process as _process
from imugait.emulate.clock import ScaledClock
from imugait.emulate.emulator import SerialEmulator
from imugait.emulate.process import SerialEmulatorProcess


class _LoggingClock(ScaledClock):
    """A scaled clock that logs each write's time and the bytes written so far, per device
    (``_Playback._produced`` calls ``produced``)."""

    instances: list[_LoggingClock] = []

    def __init__(self, playback: float = 1.0) -> None:
        super().__init__(playback)
        self.writes: dict[str, list[tuple[float, int]]] = {}
        _LoggingClock.instances.append(self)

    def produced(self, placement, n_bytes: int) -> None:
        log = self.writes.setdefault(placement.value, [])
        log.append((time.monotonic(), (log[-1][1] if log else 0) + n_bytes))


class _TruthEmulator(SerialEmulator):
    instances: list[_TruthEmulator] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _TruthEmulator.instances.append(self)


def _serve_logged(conn, devices, speed, disconnects, log_path: str) -> None:
    """The product's child with the logging clock and emulator; the log written to ``log_path``
    once it has reported what was sent."""
    _process.ScaledClock, _process.SerialEmulator = _LoggingClock, _TruthEmulator
    _process._serve_serial(conn, devices, speed, disconnects)
    emulator, clock = _TruthEmulator.instances[-1], _LoggingClock.instances[-1]
    Path(log_path).write_text(json.dumps({"world_t0_s": emulator.world_t0_s, "writes": clock.writes}))


class TruthEmulatorProcess(SerialEmulatorProcess):
    """:class:`SerialEmulatorProcess` (speed 1) that also knows, after :meth:`stop`,
    ``world_t0_s`` and ``writes`` (placement value → [(monotonic time after the write, bytes
    written so far)])."""

    def __init__(self, devices, log_path: Path, **kwargs) -> None:
        import multiprocessing

        super().__init__(devices, speed=1.0, **kwargs)
        self._log_path = Path(log_path)
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_logged, args=(child, dict(devices), 1.0, (), str(log_path)),
                                        daemon=True, name="imugait-emulator")
        self.world_t0_s: float | None = None
        self.writes: dict[str, list[tuple[float, int]]] = {}

    def stop(self) -> dict:
        sent = super().stop()
        log = json.loads(self._log_path.read_text())
        self.world_t0_s, self.writes = log["world_t0_s"], log["writes"]
        return sent


def time_errors_ms(times_s: dict, truth, sent: dict, world_t0_s: float) -> dict:
    """Per placement, ms: each sample's host time (``times_s``: placement → host times in
    order, s) minus the host time it was taken (``world_t0_s`` + its true time), matched in order
    with what the device sent first (``sent``: placement → SentRecord; no sample may be lost:
    the run's status says so)."""
    out = {}
    for p, t_s in times_s.items():
        index = sent[p].source_index
        if len(t_s) > index.size:
            raise RuntimeError(f"{p.value}: {len(t_s)} samples received, {index.size} sent")
        out[p] = 1e3 * (np.asarray(t_s) - (world_t0_s + truth[p].t_s[index[:len(t_s)]]))
    return out


def error_summary(errors_ms: dict, skip_s: float = 0.0, rate_hz: float = 200.0) -> dict:
    """Median, 95th percentile and max of |error| per sensor (ms), after ``skip_s`` of samples,
    and a leg's thigh − shank error (same sample instants: the simulated sensors share a grid)."""
    skip = int(skip_s * rate_hz)
    out = {}
    for p, e in errors_ms.items():
        e = e[skip:]
        out[p.value] = [float(np.median(e)), float(np.percentile(e, 95)), float(np.max(e)), float(np.min(e))]
    for side in ("left", "right"):
        thigh = next((e for p, e in errors_ms.items() if p.value == f"{side}_thigh"), None)
        shank = next((e for p, e in errors_ms.items() if p.value == f"{side}_shank"), None)
        if thigh is not None and shank is not None:
            n = min(thigh.size, shank.size)
            d = (thigh[:n] - shank[:n])[skip:]
            out[f"{side} thigh − shank"] = [float(np.median(d)), float(np.percentile(np.abs(d), 95)),
                                            float(np.max(np.abs(d))), float(np.min(d))]
    return out


def write_to_push_ms(chunks: list, pushes: list, writes: dict) -> np.ndarray:
    """For every write of the emulator (a device's frames): ms from the write to the end of the
    first push whose poll started after the chunk holding its last byte was handled (the push that
    carries what it brought). ``chunks``: (placement value, bytes handled so far, monotonic time
    handled); ``pushes``: (poll start, push end); writes never handled in the run are left out."""
    poll_s = np.array([a for a, _b in pushes])
    end_s = np.array([b for _a, b in pushes])
    out = []
    for p, log in writes.items():
        read = [(n, t) for q, n, t in chunks if q == p]
        n_read, t_read = np.array([n for n, _t in read]), np.array([t for _n, t in read])
        for t_write, n_written in log:
            k = int(np.searchsorted(n_read, n_written))
            j = int(np.searchsorted(poll_s, t_read[k])) if k < n_read.size else end_s.size
            if j < end_s.size:
                out.append(1000 * (end_s[j] - t_write))
    return np.array(out)
