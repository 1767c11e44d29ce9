"""Decoded messages of several sensors → per-sensor streams on the session clock → a Session.

Feed it what the decoders emit, with the host arrival time of each message::

    asm = SessionAssembler(AcquisitionConfig(), t0_host_s=time.monotonic())
    asm.handle(Placement.LEFT_THIGH, arrival_s, message)   # SampleBlock / DeviceAnnouncement / DeviceStatus
    asm.begin_step("walk", host_s); asm.end_step("walk", host_s)
    session = asm.assemble(subject_id="p01").session

While recording, :meth:`SessionAssembler.handle` returns the block's accepted samples mapped
causally (:class:`LiveSamples`) and fills the live buffers; :meth:`assemble` remaps everything
with the offline (centred-window) clock fit, so the session is as accurate at its start as in its
middle. Session time ``t_s`` is host time minus ``t0_host_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imugait.acquisition.clock import (
    ClockSyncConfig,
    MonotonicLiveTimes,
    OnlineClockMapper,
    fit_offline,
)
from imugait.acquisition.live_buffer import LiveBuffer, LiveWindow
from imugait.acquisition.sequence import SequenceTracker, gaps_from_seq
from imugait.conventions import Placement
from imugait.errors import ImugaitError, ValidationError
from imugait.model import (
    DeviceInfo,
    EventKind,
    GyroSampling,
    ImuStream,
    ProtocolStep,
    Session,
    SessionEvent,
    SessionMeta,
)
from imugait.protocol.messages import DeviceAnnouncement, DeviceStatus, SampleBlock


@dataclass(frozen=True)
class AcquisitionConfig:
    """Settings of acquisition."""

    clock: ClockSyncConfig = field(default_factory=ClockSyncConfig)
    nominal_rate_hz: float | None = None
    """Rate assumed for sensors that never announce one (needed without timestamps)."""
    live_window_s: float | None = 10.0
    """History kept per sensor for live views; None keeps no live buffers."""
    keep_samples: bool = True
    """Keep every sample for :meth:`SessionAssembler.assemble`. False keeps only counters, the
    online clock fit, the event log and the live buffers, so memory stays flat however long the
    acquisition runs; the session must then come from elsewhere (the recorder replays its log)."""

    def __post_init__(self) -> None:
        if self.nominal_rate_hz is not None and not (0 < self.nominal_rate_hz <= 10_000):
            raise ValidationError(f"nominal_rate_hz must be in (0, 10000], got {self.nominal_rate_hz!r}")
        if self.live_window_s is not None and not self.live_window_s > 0:
            raise ValidationError(f"live_window_s must be positive or None, got {self.live_window_s!r}")


@dataclass(frozen=True, eq=False)
class LiveSamples:
    """The accepted samples of one block, causally mapped to the session clock."""

    placement: Placement
    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    mag_uT: np.ndarray | None
    q_world_sensor: np.ndarray | None
    n_lost: int
    """Samples lost just before / inside this block (from the sequence counter)."""
    gyr_sampling: GyroSampling = GyroSampling.INSTANT
    """What the device's gyroscope samples stand for in time (its announcement's; the default when it
    announced nothing): how live fusion integrates them."""
    gyr_range_radps: float | None = None
    """The gyroscope's full-scale range (rad/s) as the device announced it (None: it announced
    none): live, rows at it are clipped (:mod:`imugait.analysis.clipping`), as offline."""


@dataclass(frozen=True)
class SensorHealth:
    """Running counters of one sensor, for live views and recovery reports."""

    placement: Placement
    n_received: int
    n_samples: int
    n_lost: int
    n_dropped: int
    """Received samples rejected as duplicates or because their counter/clock did not advance."""
    n_clock_steps: int
    drift_ppm: float
    last_arrival_s: float
    battery_percent: float | None
    error_flags: int
    device: DeviceInfo
    n_late: int = 0
    """Samples that arrived after later ones and were put back in their place."""


COALESCE_S = 1.0
"""Counting events of one sensor and kind closer than this to the previous one are added to it."""
_COUNTING = (EventKind.BYTES_DISCARDED, EventKind.DUPLICATES_DROPPED, EventKind.LATE_SAMPLES)


@dataclass(frozen=True, eq=False)
class Assembly:
    """What :meth:`SessionAssembler.assemble` built, with notes on anything left out."""

    session: Session
    health: tuple[SensorHealth, ...]
    notes: tuple[str, ...]


class _Track:
    """Everything received from one sensor."""

    def __init__(self, placement: Placement, config: AcquisitionConfig, protocol: str) -> None:
        self.placement = placement
        self.protocol = protocol
        self.announcement: DeviceAnnouncement | None = None
        self.status = DeviceStatus()
        self.tracker = SequenceTracker(config.nominal_rate_hz, placement.value)
        self.mapper = OnlineClockMapper(config.clock)
        self.live_times = MonotonicLiveTimes(config.clock.slew_fraction)
        self.live: LiveBuffer | None = None
        self.last_arrival_s = float("nan")
        self.points_us: list[int] = []
        self.points_arrival_s: list[float] = []
        self.chunks: list[tuple[int, SampleBlock, np.ndarray, np.ndarray, np.ndarray]] = []
        """(point index, block, keep mask, seq, t_device_us) per block with accepted samples."""

    @property
    def rate_hz(self) -> float | None:
        return self.announcement.sample_rate_hz if self.announcement else self.tracker.sample_rate_hz

    @property
    def gyr_sampling(self) -> GyroSampling:
        a = self.announcement
        return GyroSampling.INSTANT if a is None else a.gyr_sampling

    def device(self) -> DeviceInfo:
        a = self.announcement
        if a is None:
            return DeviceInfo(protocol=self.protocol)
        return DeviceInfo(device_id=a.device_id, model=a.model, firmware=a.firmware, protocol=self.protocol,
                          acc_range_mps2=a.acc_range_mps2, gyr_range_radps=a.gyr_range_radps,
                          gyr_sampling=a.gyr_sampling)


class SessionAssembler:
    """Per-sensor bookkeeping from decoded messages to a :class:`Session`.

    Parameters
    ----------
    config : AcquisitionConfig
    t0_host_s : host time (s, monotonic clock) that becomes ``t_s = 0``; default: the first
        arrival seen.
    protocols : protocol name per placement, stored in each stream's :class:`DeviceInfo`.
    """

    def __init__(self, config: AcquisitionConfig | None = None, t0_host_s: float | None = None,
                 protocols: dict[Placement, str] | None = None) -> None:
        self.config = config or AcquisitionConfig()
        self.t0_host_s = t0_host_s
        self._protocols = dict(protocols or {})
        self._tracks: dict[Placement, _Track] = {}
        self._steps: list[list] = []  # [name, begin_host_s, end_host_s | None]
        self._events: list[SessionEvent] = []

    # ----------------------------------------------------------------- input
    def handle(self, placement: Placement, arrival_s: float, message) -> LiveSamples | None:
        """Take one decoded message of ``placement`` that arrived at ``arrival_s`` (host s).

        Returns the mapped samples for a :class:`SampleBlock`, else None. Other message types
        (commands, acks) are ignored.
        """
        if not isinstance(placement, Placement):
            raise ValidationError(f"placement must be a Placement, not {placement!r}")
        if self.t0_host_s is None:
            self.t0_host_s = float(arrival_s)
        track = self._track(placement)
        track.last_arrival_s = float(arrival_s)
        if isinstance(message, DeviceAnnouncement):
            track.announcement = message
            track.tracker.sample_rate_hz = message.sample_rate_hz
        elif isinstance(message, DeviceStatus):
            track.status = message
        elif isinstance(message, SampleBlock):
            return self._add_block(track, float(arrival_s), message)
        return None

    def begin_step(self, name: str, host_s: float) -> None:
        """A protocol step (``standing``, ``walk`` …) starts at host time ``host_s``."""
        if any(s[0] == name and s[2] is None for s in self._steps):
            raise ValidationError(f"protocol step {name!r} has already begun and not ended")
        self._steps.append([name, float(host_s), None])

    def end_step(self, name: str, host_s: float) -> None:
        for s in reversed(self._steps):
            if s[0] == name and s[2] is None:
                s[2] = float(host_s)
                return
        raise ValidationError(f"protocol step {name!r} cannot end: it has not begun")

    def add_event(self, kind: EventKind, host_s: float, placement: Placement | None = None, count: int = 0,
                  value_s: float = 0.0, detail: str = "") -> None:
        """Add an entry to the session's event log at host time ``host_s`` (s).

        Counting events (discarded bytes, dropped duplicates, late samples) of one sensor within
        :data:`COALESCE_S` of the previous one of the same kind are added to it, so that a sensor
        streaming garbage makes one entry per second, not one per chunk.
        """
        if self.t0_host_s is None:
            self.t0_host_s = float(host_s)
        t_s = float(host_s) - self.t0_host_s
        if kind in _COUNTING:
            for k in range(len(self._events) - 1, -1, -1):
                e = self._events[k]
                if e.kind is kind and e.placement is placement:
                    if t_s - e.t_s <= COALESCE_S:
                        self._events[k] = SessionEvent(e.t_s, kind, placement, e.count + int(count), 0.0, e.detail)
                        return
                    break
        self._events.append(SessionEvent(t_s, kind, placement, int(count), float(value_s), detail))

    def events(self) -> tuple[SessionEvent, ...]:
        """The event log so far, in time order."""
        return tuple(sorted(self._events, key=lambda e: e.t_s))

    # ----------------------------------------------------------------- live
    def placements(self) -> tuple[Placement, ...]:
        return tuple(p for p in Placement if p in self._tracks)

    def held_sample_bytes(self) -> int:
        """Bytes of sample data kept for :meth:`assemble` (0 with ``keep_samples=False``): what
        grows with the length of an acquisition."""
        return sum(block.acc_mps2.nbytes + block.gyr_radps.nbytes + seq.nbytes + t.nbytes
                   for track in self._tracks.values() for _point, block, _keep, seq, t in track.chunks)

    def live_window(self, placement: Placement) -> LiveWindow | None:
        """The last ``live_window_s`` of ``placement`` (None before its first samples)."""
        track = self._tracks.get(placement)
        return None if track is None or track.live is None else track.live.snapshot()

    def health(self, placement: Placement) -> SensorHealth:
        t = self._tracks[placement]
        return SensorHealth(
            placement=placement, n_received=t.tracker.n_received, n_samples=t.tracker.n_kept,
            n_lost=t.tracker.n_lost, n_dropped=t.tracker.n_dropped, n_late=t.tracker.n_late,
            n_clock_steps=len(t.mapper.segment_starts) - 1 if t.mapper.segment_starts else 0,
            drift_ppm=t.mapper.drift_ppm, last_arrival_s=t.last_arrival_s,
            battery_percent=t.status.battery_percent, error_flags=t.status.error_flags, device=t.device(),
        )

    # ----------------------------------------------------------------- output
    def assemble(self, subject_id: str = "anonymous", recorded_at: str | None = None,
                 source: str = "record", notes: str = "") -> Assembly:
        """Map every sensor with the offline clock fit and build the session.

        Raises
        ------
        ImugaitError
            No sensor delivered at least two samples, or the samples were not kept
            (``keep_samples=False``).
        """
        if not self.config.keep_samples:
            raise ImugaitError("this acquisition kept no samples in memory (keep_samples=False): "
                               "build the session from its recording log")
        streams, remarks = [], []
        for placement in self.placements():
            stream, note = self._stream(self._tracks[placement])
            if note:
                remarks.append(note)
            if stream is not None:
                streams.append(stream)
        if not streams:
            raise ImugaitError("no sensor delivered at least 2 samples: nothing to assemble into a session")
        end_s = max(float(s.t_s[-1]) for s in streams)
        steps = []
        for name, begin, end in self._steps:
            t0, t1 = begin - self.t0_host_s, (end - self.t0_host_s) if end is not None else end_s
            if end is None:
                remarks.append(f"protocol step {name!r} had not ended; closed at the end of the data")
            if t1 > t0:
                steps.append(ProtocolStep(name, t0, t1))
        meta_kwargs = {} if recorded_at is None else {"recorded_at": recorded_at}
        meta = SessionMeta(subject_id=subject_id, steps=tuple(steps), source=source, notes=notes,
                           events=self.events(), **meta_kwargs)
        health = tuple(self.health(p) for p in self.placements())
        return Assembly(Session(streams, meta), health, tuple(remarks))

    # ----------------------------------------------------------------- internals
    def _track(self, placement: Placement) -> _Track:
        track = self._tracks.get(placement)
        if track is None:
            track = self._tracks[placement] = _Track(placement, self.config, self._protocols.get(placement, ""))
        return track

    def _add_block(self, track: _Track, arrival_s: float, block: SampleBlock) -> LiveSamples | None:
        n = block.n_samples
        if n == 0:
            return None
        _check_block(track.placement, block)
        got = track.tracker.process(block)
        p = track.placement
        n_late = got.n_late
        if got.n_dropped:
            self.add_event(EventKind.DUPLICATES_DROPPED, arrival_s, p, got.n_dropped,
                           detail="received again or not advancing; dropped")
        if n_late:
            self.add_event(EventKind.LATE_SAMPLES, arrival_s, p, n_late,
                           detail="arrived after later samples; put back in their place")
        n_fresh = got.seq.size - n_late
        if got.seq.size == 0:
            return None
        keep_samples = self.config.keep_samples
        # The common case — every accepted sample is newer than the ones before — needs no masks.
        fresh = None if n_late == 0 else ~got.late
        t_device_us = got.t_device_us if fresh is None else got.t_device_us[fresh]
        if n_fresh:
            point = len(track.points_us)
            last_us = int(t_device_us[-1])
            if keep_samples:
                track.points_us.append(last_us)
                track.points_arrival_s.append(arrival_s)
            if track.mapper.update(last_us, arrival_s, new_segment=block.device_restarted):
                self.add_event(EventKind.CLOCK_STEP, arrival_s, p,
                               detail="device clock jumped against the host clock; a new clock segment starts")
        else:  # only late samples: they belong with the newest clock point
            point = len(track.points_us) - 1
        if keep_samples:
            track.chunks.append((point, block, got.keep, got.seq, got.t_device_us))
        if not n_fresh:
            return None  # late samples go to the session, not to live views (those only move forward)
        if fresh is None:
            keep = got.keep
        else:
            keep = got.keep.copy()
            keep[keep] = fresh
        rows = slice(None) if n_fresh == n else keep
        t_s = self._live_times(track, t_device_us)
        mag = None if block.mag_uT is None else _rows(block.mag_uT, rows)
        q = None if block.q_world_sensor is None else _rows(block.q_world_sensor, rows)
        live = LiveSamples(track.placement, t_s, _rows(block.acc_mps2, rows), _rows(block.gyr_radps, rows),
                           mag, q, got.n_lost, track.gyr_sampling,
                           None if track.announcement is None else track.announcement.gyr_range_radps)
        if self.config.live_window_s is not None:
            if track.live is None:
                track.live = LiveBuffer(self.config.live_window_s, track.rate_hz or 1000.0)
            track.live.append(t_s, live.acc_mps2, live.gyr_radps, mag, q)
        return live

    def _live_times(self, track: _Track, t_device_us: np.ndarray) -> np.ndarray:
        """Session times (s) of a block's fresh samples: the causal fit's host times, kept from
        stepping back (:class:`MonotonicLiveTimes`), less ``t0_host_s``."""
        rate_hz = track.rate_hz
        period_s = 1.0 / rate_hz if rate_hz else None
        if t_device_us.size > _FEW_LIVE_SAMPLES:
            return track.live_times(t_device_us, track.mapper.to_host_s(t_device_us), period_s) - self.t0_host_s
        # A block of a few samples in plain floats: the same arithmetic as the arrays' (one
        # rounding per operation), without an array per step.
        t_list = t_device_us.tolist()
        host = track.live_times.of_lists(t_list, track.mapper.to_host_list(t_list), period_s)
        t0 = self.t0_host_s
        return np.array([t - t0 for t in host], dtype=float)

    def _stream(self, track: _Track) -> tuple[ImuStream | None, str]:
        name = track.placement.value
        if track.tracker.n_kept < 2:
            return None, f"{name}: left out, only {track.tracker.n_kept} sample(s) received"
        points_us = np.asarray(track.points_us, dtype=np.int64)
        points_y = np.asarray(track.points_arrival_s, dtype=float)
        starts = [*track.mapper.segment_starts, len(points_us)]
        t_all = np.concatenate([c[4] for c in track.chunks])
        point_of_sample = np.repeat([c[0] for c in track.chunks], [c[4].size for c in track.chunks])
        host = np.empty(t_all.size)
        for a, b in zip(starts[:-1], starts[1:], strict=True):
            mapping = fit_offline(points_us[a:b], points_y[a:b], self.config.clock)
            sel = (point_of_sample >= a) & (point_of_sample < b)
            host[sel] = mapping(t_all[sel])
        # Late samples were appended after newer ones: put every sample in counter order.
        seq_all = np.concatenate([c[3] for c in track.chunks])
        order = np.argsort(seq_all, kind="stable")
        t_s = host[order] - self.t0_host_s
        # A clock step can leave the next segment's first samples at or before the last ones.
        ok_sorted = t_s > np.maximum.accumulate(np.concatenate([[-np.inf], t_s]))[:-1]
        ok = order[ok_sorted]
        seq = seq_all[ok]
        notes = []
        if not ok_sorted.all():
            notes.append(f"{int((~ok_sorted).sum())} sample(s) dropped at clock steps")

        kept = np.concatenate([c[2] for c in track.chunks])  # the samples each block kept

        def stacked(attr: str) -> np.ndarray | None:
            parts = [getattr(c[1], attr) for c in track.chunks]
            if any(p is None for p in parts):
                if any(p is not None for p in parts):
                    notes.append(f"{attr} left out: only some blocks carried it")
                return None
            return np.concatenate([np.asarray(p) for p in parts])[kept][ok]

        acc, gyr = stacked("acc_mps2"), stacked("gyr_radps")
        mag, q = stacked("mag_uT"), stacked("q_world_sensor")
        if ok.size < 2:
            return None, f"{name}: left out, fewer than 2 samples after clock mapping"
        rate = track.rate_hz
        if not rate:
            span_s = float(t_s[ok_sorted][-1] - t_s[ok_sorted][0])
            rate = float(seq[-1] - seq[0]) / span_s
            notes.append(f"sample rate not announced; estimated {rate:.3f} Hz")
        stream = ImuStream(
            placement=track.placement, t_s=t_s[ok_sorted], acc_mps2=acc, gyr_radps=gyr, sample_rate_hz=rate,
            mag_uT=mag, q_world_sensor=q, device=track.device(), gaps=gaps_from_seq(seq),
        )
        return stream, (f"{name}: " + "; ".join(notes)) if notes else ""


def _rows(values: np.ndarray, rows: slice | np.ndarray) -> np.ndarray:
    """A copy of the block's rows the live view takes (all of them: a plain copy)."""
    if isinstance(rows, slice):
        return values.copy() if type(values) is np.ndarray else np.array(values)
    return np.asarray(values)[rows]


_FEW_LIVE_SAMPLES = 64
"""Up to this many fresh samples a block's live times are worked out in plain floats."""


def _check_block(placement: Placement, block: SampleBlock) -> None:
    n = block.n_samples
    acc, gyr, seq, t = block.acc_mps2, block.gyr_radps, block.seq, block.t_device_us
    # What the decoders make: arrays of the right shapes, no magnetometer or orientation.
    if (block.mag_uT is None and block.q_world_sensor is None and type(acc) is np.ndarray and acc.shape == (n, 3)
            and type(gyr) is np.ndarray and gyr.shape == (n, 3) and type(seq) is np.ndarray and seq.shape == (n,)
            and type(t) is np.ndarray and t.shape == (n,)):
        return
    for what, arr, shape in (("acc_mps2", block.acc_mps2, (n, 3)), ("gyr_radps", block.gyr_radps, (n, 3)),
                             ("mag_uT", block.mag_uT, (n, 3)), ("q_world_sensor", block.q_world_sensor, (n, 4)),
                             ("seq", block.seq, (n,)), ("t_device_us", block.t_device_us, (n,))):
        if arr is not None and _shape(arr) != shape:
            raise ValidationError(f"{placement.value}: block {what} has shape {_shape(arr)}, expected {shape}")


def _shape(values) -> tuple[int, ...]:
    return values.shape if type(values) is np.ndarray else np.shape(values)
