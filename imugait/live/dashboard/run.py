"""A live run with the web dashboard: sensors → live acquisition → live pipeline → page.

::

    async with LiveDashboard(opener, LiveKinematics, DashboardConfig(record_dir="take")) as dash:
        print(dash.url)                      # http://127.0.0.1:PORT/?token=…
        interrupted = await dash.run(duration_s=60.0)
    # the sessions recorded from the page: dash.takes.sessions

Each decoded message goes, on the event loop, to the takes (recording from the page) and its
samples to the pipeline (``feed``); every ``push_interval_s`` the pipeline is polled and what is
new goes to every page (at least 20 updates/s, by default 40). The serial ports are read as their
bytes come (``serial_reads=READINESS``, the default), or all at once at each push just before the
poll (``PUSH_TICK``: one wake-up for the reads, the poll and the push — about 2 points of a core
less — with the ticks' intervals spread around ``push_interval_s`` so that the read times lock to
no sensor's frames, :mod:`imugait.live.ticks`; the samples' times are noisier by up to about a
millisecond, docs/live-history.md, "Thirteenth round"). The pipeline is made for the opened
sensors' placements by ``make_pipeline`` (the live kinematics,
:class:`imugait.live.kinematics.LiveKinematics`, or anything with the :class:`LivePipeline`
methods); without one the page shows the sensors, recording and marks but no angles. After :meth:`LiveDashboard.run`
returns the page stays served (marked finished) until the context ends.

The end of a walk: the page's *Walk done* and a take stopped from the page tell the pipeline the
walk has ended (``end_pass()``: a leg still waiting for its calibration is calibrated on the walk so
far, and every calibrated leg's walk ends — its last strides given, every one final; the stream goes
on, the next walking is a new walk). When the stream ends (``duration_s``, the end
of an emulation, every sensor's link closed, ``stop`` or Ctrl-C) the pipeline's ``end()`` runs (in a
worker thread, the page still served) and what it gives is polled and pushed with the run's end, so
``/api/status`` shows it once it says ``finished``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from imugait.acquisition.assembler import LiveSamples
from imugait.conventions import Placement
from imugait.errors import ImugaitError, ValidationError
from imugait.live.acquisition import LiveAcquisition, SensorStatus
from imugait.live.calibration_file import (
    SavedCalibration,
    SensorIdentity,
    calibration_of_sensors,
    calibration_text,
    check_legs,
    save_calibration,
    sensor_mismatch,
)
from imugait.live.dashboard.server import DashboardServer, Hub, bind, build_app, new_token, url_of
from imugait.live.dashboard.state import DashboardState, StepMark
from imugait.live.run import OpenedSensors, SensorOpener, stop_on_sigint
from imugait.live.takes import Takes
from imugait.live.ticks import TICK_SPREAD_FRACTION, PushTicks, SerialReads
from imugait.live.updates import CalibrationPhase, LiveUpdate
from imugait.output_guard import safe_file_stem
from imugait.protocol.messages import DeviceAnnouncement

LOOPBACK = "127.0.0.1"
MIN_UPDATES_PER_S = 20.0
DRAIN_AFTER_EMULATION_S = 2.0
"""Host seconds an ended emulation may take to deliver its last bytes before the run stops."""


class LivePipeline(Protocol):
    """The live pipeline as the dashboard uses it (:class:`imugait.live.kinematics.LiveKinematics`).
    Optional: ``recalibrate()`` (the page's button), ``calibration`` (a
    :class:`~imugait.live.kinematics.LiveCalibration` once every leg is calibrated, to save),
    ``end_pass()`` (the walk has ended: *Walk done*, a take stopped), ``end()`` (the stream has
    ended: called before the run says it is finished) and ``finish_ticks()`` (work a poll left
    for after its push: called once the push is sent)."""

    def feed(self, samples: LiveSamples) -> None: ...
    def poll(self) -> LiveUpdate: ...


@dataclass(frozen=True)
class DashboardConfig:
    """Settings of a dashboard run.

    ``host`` other than the loopback serves the local network (anyone there with the token can
    watch and record: the command line warns). ``record_dir``: folder for the takes started from
    the page (None: recording is off); ``record_at_start`` starts the first take at once.
    ``calibration``: the calibration the pipeline reuses (made with
    :func:`~imugait.live.calibration_file.load_calibration`): the connected sensors must be its own,
    else the run stops with :attr:`LiveDashboard.refusal`. ``save_calibration``: a file (checked
    by the caller, :func:`~imugait.output_guard.check_output`) that this run's calibration is
    written to once every leg is calibrated — again after each recalibration.
    """

    host: str = LOOPBACK
    port: int = 0
    push_interval_s: float = 0.025
    status_interval_s: float = 0.25
    window_s: float = 10.0
    strides_kept: int = 10
    record_dir: Path | None = None
    record_at_start: bool = False
    subject_id: str = "anonymous"
    notes: str = ""
    calibration: SavedCalibration | None = None
    save_calibration: Path | None = None
    serial_reads: SerialReads = SerialReads.READINESS
    """When the serial ports are read: at each readiness event (the default; the push at a fixed
    interval), or at the push tick, just before the poll (spread ticks)."""

    def __post_init__(self) -> None:
        spread = TICK_SPREAD_FRACTION if self.serial_reads is SerialReads.PUSH_TICK else 0.0
        if not (0 < self.push_interval_s and self.push_interval_s * (1 + spread) <= 1.0 / MIN_UPDATES_PER_S):
            raise ValidationError(f"push_interval_s must be in (0, {1 / MIN_UPDATES_PER_S / (1 + spread):g}] (at least "
                                  f"{MIN_UPDATES_PER_S:g} updates/s"
                                  + (f", with the ticks' spread of ±{spread:.0%}" if spread else "")
                                  + f"), got {self.push_interval_s!r}")
        if not (0 < self.window_s <= 600 and 0 < self.status_interval_s <= 5 and self.strides_kept >= 1):
            raise ValidationError("window_s must be in (0, 600], status_interval_s in (0, 5], strides_kept >= 1")
        if not 0 <= self.port <= 65535:
            raise ValidationError(f"port must be in [0, 65535], got {self.port}")
        if self.record_at_start and self.record_dir is None:
            raise ValidationError("record_at_start needs a record_dir")

    @property
    def loopback_only(self) -> bool:
        return self.host in (LOOPBACK, "localhost", "::1")


class LiveDashboard:
    """One live run with its dashboard; an async context manager (opens the sensors and the server)."""

    def __init__(self, opener: SensorOpener,
                 make_pipeline: Callable[[tuple[Placement, ...]], LivePipeline | None] | None = None,
                 config: DashboardConfig | None = None) -> None:
        self.config = config or DashboardConfig()
        self.pipeline: LivePipeline | None = None
        self.pipeline_error = ""
        """Why the pipeline stopped during the run ('' while it works): the run goes on without angles."""
        self.samples_out_of_order = 0
        self.samples_fed: dict[Placement, int] = {}
        """Samples of each sensor handed to the pipeline (every sample the acquisition received,
        while a pipeline runs)."""
        """Samples that came at or before an earlier sample of their sensor (0 since the live clock
        mapping is monotonic; the recording keeps them)."""
        self._last_fed_t_s: dict[Placement, float] = {}
        self.interrupted = False
        """The run was stopped (Ctrl-C, ``stop``, or a :attr:`refusal`)."""
        self.refusal = ""
        """Why the run stopped at once ('' if it did not): the sensors are not the reused calibration's."""
        self._unchecked: set[Placement] = set()
        """Sensors not yet checked against the reused calibration (they check in with their first message)."""
        self._addresses: dict[Placement, str] = {}
        self._stop: asyncio.Event | None = None
        self._finished_at: float | None = None
        """Host time the emulation was first seen finished."""
        self._make_pipeline = make_pipeline
        self.token = new_token()
        self.state = DashboardState(self.config.window_s, self.config.strides_kept)
        self.url = ""
        self.takes: Takes | None = None
        self.live: LiveAcquisition | None = None
        self.opened: OpenedSensors | None = None
        self.hub: Hub | None = None
        self._opener = opener
        self._stack = contextlib.AsyncExitStack()
        self._clock: Callable[[], float] = time.monotonic

    # ------------------------------------------------------------------ lifecycle
    async def __aenter__(self) -> LiveDashboard:
        try:
            await self._open()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def _open(self) -> None:
        config = self.config
        sock = bind(config.host, config.port)
        self._stack.callback(sock.close)
        self.opened = await self._opener(self._stack)
        self._clock = self.opened.clock
        placements = tuple(s.placement for s in self.opened.sources)
        if config.calibration is not None:
            check_legs(config.calibration, placements)
            self._addresses = {s.placement: s.address for s in self.opened.sources}
            self._unchecked = {p for p in placements if p in config.calibration.sensors}
            self.state.calibration_file["reused"] = str(config.calibration.path)
        if self._make_pipeline is not None:
            self.pipeline = self._make_pipeline(placements)
        if config.record_dir is not None:
            self.takes = Takes(config.record_dir, self._clock, config.subject_id, config.notes)
            self._stack.callback(self.takes.close)
        # The takes record (each its own recorder); the acquisition itself keeps no samples, so
        # memory stays flat however long the dashboard runs.
        self.live = LiveAcquisition(self.opened.sources, self.opened.live_config(keep_samples=False,
                                                                                 serial_reads=config.serial_reads),
                                    observer=self._observe)
        self.hub = Hub(self.state, {"window_s": config.window_s, "recording_enabled": self.takes is not None,
                                    "push_interval_s": config.push_interval_s})
        app = build_app(self.hub, self.token, self)
        self.url = url_of(sock, config.host, self.token)
        await self._stack.enter_async_context(DashboardServer(app, sock, self.hub))
        await self._stack.enter_async_context(self.live)
        self.hub.config["t0_epoch_ms"] = (self.live.t0_host_s + self._host_to_epoch_s()) * 1e3
        if config.record_at_start:
            self.start_recording()

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    def _host_to_epoch_s(self) -> float:
        """Wall-clock minus host-clock seconds now (host times → the page's clock; meaningful when
        the host clock runs at real speed, as for real sensors and real-time benchmarks)."""
        return time.time() - self._clock()

    # ------------------------------------------------------------------ the run
    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None,
                  on_tick: Callable[[tuple[SensorStatus, ...], float], None] | None = None) -> bool:
        """Acquire and push until ``duration_s`` of session time, the end of an emulation, ``stop``
        or Ctrl-C; returns whether it was stopped (Ctrl-C or ``stop``)."""
        if self.live is None:
            raise ImugaitError("open the dashboard (async with) before running it")
        live, opened = self.live, self.opened
        stop = self._stop = stop or asyncio.Event()
        if self.refusal:
            stop.set()
        pusher = asyncio.create_task(self._push_loop(), name="dashboard-push")
        tick = None if on_tick is None else (lambda st: on_tick(st, self._clock() - live.t0_host_s))
        try:
            with stop_on_sigint(stop):
                await live.run(duration_s, stop, until=self._emulation_done if opened.emulator else None,
                               on_tick=tick)
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher
        live.read_ports()  # what came since the last tick (ports read at the tick), before the end
        if self.takes is not None and self.takes.active:
            await self._stop_take()
        await self._end_stream()
        self.state.finished = True
        self._push(with_status=True)  # (polls first: what end() gave goes out with the end)
        self.interrupted = stop.is_set()
        return self.interrupted

    def _emulation_done(self) -> bool:
        """The emulation has played everything and the host has it (or had time to get it)."""
        emulator = self.opened.emulator
        if not emulator.finished:
            return False
        now = self._clock()
        if self._finished_at is None:
            self._finished_at = now
        counts = emulator.finished_counts or {}
        got = {s.placement: s.n_samples for s in self.live.status()}
        arrived = all(got.get(p, 0) >= n for p, n in counts.items())
        return arrived or now - self._finished_at >= DRAIN_AFTER_EMULATION_S * getattr(self._clock, "speed", 1.0)

    async def _push_loop(self) -> None:
        """Push every ``push_interval_s`` (on a schedule, so the work of a push does not lower the
        rate; a push that ran late is not made up twice). Reading at the push tick: the ports are
        read first, the ticks' intervals spread on the host clock (:class:`PushTicks`); else every
        ``push_interval_s`` of real time."""
        at_tick = self.live.reads_at_tick
        ticks = PushTicks(self._clock, self.config.push_interval_s, TICK_SPREAD_FRACTION if at_tick else 0.0,
                          on_clock=at_tick)
        next_status = time.monotonic()
        try:
            while True:
                await ticks.tick(self.live.read_ports if at_tick else None)
                now = time.monotonic()
                with_status = now >= next_status
                if with_status:
                    next_status = now + self.config.status_interval_s
                self._push(with_status)
                ticks.advance()
        finally:
            ticks.release()

    def _push(self, with_status: bool) -> None:
        if self.pipeline is not None:
            try:
                update = self.pipeline.poll()
                self.state.take(update)
            except Exception as exc:  # as in feed
                self._pipeline_failed(exc)
            else:
                if any(c.phase is CalibrationPhase.CALIBRATED for c in update.calibration):
                    self._save_calibration()
        elif self.live is not None:  # no angles: the session time is the acquisition's
            self.state.t_s = self._session_s()
        if with_status and self.live is not None:
            self.state.set_sensors(self.live.status())
        if self.takes is not None:  # a take can also stop on its own (disk full)
            self._recording_changed()
        self.hub.broadcast(self.state.delta(self._host_to_epoch_s()))
        # What the poll left for after the push (the strides' final versions: the next push has them).
        finish = getattr(self.pipeline, "finish_ticks", None)
        if finish is not None:
            try:
                finish()
            except Exception as exc:  # as in poll
                self._pipeline_failed(exc)

    def _observe(self, placement: Placement, message: Any, samples: LiveSamples | None) -> None:
        if placement in self._unchecked:  # the announcement comes first; a sensor without one is known by its address
            if isinstance(message, DeviceAnnouncement):
                self._check_sensor(placement, message.device_id)
            elif samples is not None and samples.t_s.size:
                self._check_sensor(placement, "")
        if self.takes is not None:
            self.takes.handle(placement, message)
        if samples is None or samples.t_s.size == 0:
            return
        self.state.arrivals.add(placement, float(samples.t_s[-1]), self._clock())
        self._count_out_of_order(samples)
        if self.pipeline is not None:
            try:
                self.pipeline.feed(samples)
            except Exception as exc:  # the sensors and a recording go on without angles
                self._pipeline_failed(exc)
            else:
                self.samples_fed[placement] = self.samples_fed.get(placement, 0) + samples.t_s.size

    def _count_out_of_order(self, samples: LiveSamples) -> None:
        """Count samples at or before the sensor's previous one (``samples_out_of_order``, in
        ``/api/status``). The acquisition's live times only go forward (clock corrections are
        slewed, :class:`~imugait.acquisition.clock.MonotonicLiveTimes`), so this stays 0; should
        one come, the pipeline leaves it out (``LiveKinematics`` drops and counts it in its grid)."""
        last = self._last_fed_t_s.get(samples.placement, -math.inf)
        n_old = int(np.count_nonzero(samples.t_s <= last))  # what .sum() gives, without its reduction's overhead
        if n_old:
            self.samples_out_of_order += n_old
            self.state.samples_out_of_order = self.samples_out_of_order
        self._last_fed_t_s[samples.placement] = max(last, float(samples.t_s[-1]))

    def _check_sensor(self, placement: Placement, device_id: str) -> None:
        """Stop the run (:attr:`refusal`) when the sensor at ``placement`` is not the reused calibration's."""
        self._unchecked.discard(placement)
        why = sensor_mismatch(self.config.calibration, placement, device_id, self._addresses.get(placement, ""))
        if why and not self.refusal:
            self.refusal = why
            self.pipeline = None  # no angle from a calibration of other sensors
            self.state.pipeline_error = why
            if self._stop is not None:
                self._stop.set()

    def _save_calibration(self) -> None:
        """Write the run's calibration to ``config.save_calibration`` once every leg is calibrated
        here (not reused); a failure is shown, and the run goes on."""
        path = self.config.save_calibration
        calibration = getattr(self.pipeline, "calibration", None)
        states = self.state.calibration.values()
        if path is None or calibration is None or any(c.phase is not CalibrationPhase.CALIBRATED for c in states):
            return
        try:
            save_calibration(path, calibration, self._sensor_identities(), self.config.subject_id)
        except (OSError, ImugaitError) as exc:
            self.state.calibration_file["error"] = f"not saved: {exc}"
        else:
            self.state.calibration_file.update(saved=str(path), error="")

    def _sensor_identities(self) -> dict[Placement, SensorIdentity]:
        return {s.placement: SensorIdentity(s.device_id, s.address, s.kind.value) for s in self.live.status()}

    def calibration_download(self) -> tuple[str, str]:
        """(file name, text) of the run's calibration as a calibration file, calibrated here or
        reused (the page's *Save calibration* button; ``--calibration FILE`` reads it back)."""
        calibration = getattr(self.pipeline, "calibration", None)
        phases = {c.phase for c in self.state.calibration.values()}
        if calibration is None or self.live is None or not phases <= {CalibrationPhase.CALIBRATED,
                                                                      CalibrationPhase.REUSED}:
            raise ImugaitError("no calibration to save yet: every leg is calibrated first (stand still, then walk)")
        saved = calibration_of_sensors(calibration, self._sensor_identities(), self.config.subject_id)
        stem = safe_file_stem(f"imugait-calibration-{self.config.subject_id or 'subject'}-{saved.created_at[:10]}")
        return stem + ".json", calibration_text(saved)

    async def _end_stream(self) -> None:
        """The stream has ended: the pipeline's ``end()`` (it waits for the legs' calibrations:
        run in a worker thread, so the page is served meanwhile; nothing feeds it any more)."""
        end = getattr(self.pipeline, "end", None)
        if end is None:
            return
        try:
            await asyncio.to_thread(end)
        except Exception as exc:  # as in feed
            self._pipeline_failed(exc)

    def _pipeline_failed(self, exc: Exception) -> None:
        self.pipeline = None
        self.pipeline_error = f"{type(exc).__name__}: {exc}"
        self.state.pipeline_error = self.pipeline_error

    # ------------------------------------------------------------------ controls (the page's buttons)
    def _session_s(self) -> float:
        return self._clock() - self.live.t0_host_s if self.live is not None else math.nan

    def _recording_changed(self) -> None:
        takes = self.takes
        self.state.recording = {"active": takes.active, "folder": str(takes.folder) if takes.folder else None,
                                "sessions": [str(p) for p in takes.sessions], "error": takes.error}

    def start_recording(self) -> None:
        if self.takes is None:
            raise ImugaitError("recording is off: start the run with a folder for the recordings (--record DIR)")
        self.takes.start()
        self._recording_changed()

    def stop_recording(self) -> Awaitable[None]:
        """Stop the take (the page's button): the walk it recorded has ended (:meth:`walk_done`'s
        ``end_pass``). The take ends now; it is finalised in a worker thread, so the pushes and
        the sensors go on meanwhile (about a CPU-second per 2 minutes of take, docs/live-history.md
        "Single late angles"): await the result for its session."""
        if self.takes is None or not self.takes.active:
            raise ImugaitError("no recording is running")
        finishing = self._stop_take()
        self._end_pass()
        return finishing

    def _stop_take(self) -> Awaitable[None]:
        recorder = self.takes.detach()
        self._recording_changed()
        return self._finish_take(recorder)

    async def _finish_take(self, recorder) -> None:
        await asyncio.to_thread(self.takes.finish, recorder)
        self._recording_changed()

    def walk_done(self) -> None:
        """The walk has ended (the page's *Walk done*: the person stopped, turned, or the walk is
        over as far as the clinician is concerned): every leg still waiting for its calibration is
        calibrated on the walk buffered, if it was a walk of at least ``min_motion_s`` (the legs
        say so, or why not, on the page), and every calibrated leg's walk ends — its last strides
        come at once, every stride of it final. The stream goes on: the next walking is a new walk."""
        if getattr(self.pipeline, "end_pass", None) is None:
            raise ImugaitError("there is no live walk to end (no leg with a thigh and a shank sensor, or the angles "
                               "stopped)")
        self._end_pass()

    def _end_pass(self) -> None:
        end_pass = getattr(self.pipeline, "end_pass", None)
        if end_pass is None:
            return
        try:
            end_pass()
        except Exception as exc:  # as in feed
            self._pipeline_failed(exc)

    def recalibrate(self) -> None:
        """Drop the calibration and calibrate again from the next standing and walking (the page's button)."""
        recalibrate = getattr(self.pipeline, "recalibrate", None)
        if recalibrate is None:
            raise ImugaitError("there is no live calibration to redo (no leg with a thigh and a shank sensor, or the "
                               "angles stopped)")
        recalibrate()

    def begin_step(self, name: str) -> None:
        if any(m.name == name and m.t_end_s is None for m in self.state.marks):
            raise ImugaitError(f"step {name!r} is already marked and not ended")
        if self.takes is not None:
            self.takes.begin_step(name)
        self.state.marks.append(StepMark(name, self._session_s()))
        del self.state.marks[:-50]  # the last 50 marks are shown (bounded)

    def end_step(self, name: str) -> None:
        mark = next((m for m in reversed(self.state.marks) if m.name == name and m.t_end_s is None), None)
        if mark is None:
            raise ImugaitError(f"step {name!r} cannot end: it has not begun")
        if self.takes is not None:
            self.takes.end_step(name)
        mark.t_end_s = self._session_s()
