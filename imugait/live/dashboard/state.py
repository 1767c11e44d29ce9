"""What the dashboard shows, kept between pushes: bounded histories, the last strides, sensor
health, calibration, recording and step marks; and the JSON messages built from them.

The live pipeline's :class:`~imugait.live.updates.LiveUpdate` objects go in through
:meth:`DashboardState.take`; :meth:`DashboardState.delta` gives what is new since the previous
push, :meth:`DashboardState.snapshot` everything a page that just connected needs, and
:meth:`DashboardState.status` the ``/api/status`` answer. Every buffer is bounded (the last
``window_s`` of angles, the last ``strides_kept`` strides per leg), so memory stays flat however
long the run.

Times are on the session clock (s); ``arrival_host_s`` values on the host clock of the run;
``*_epoch_ms`` are wall-clock milliseconds for the page's latency measurement.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from imugait.conventions import Placement, Side
from imugait.gait.metrics import mean_n, right_minus_left
from imugait.live.acquisition import SensorStatus, lost_fraction
from imugait.live.dashboard.bands import MetricBand, stride_metric_bands
from imugait.live.updates import LegAngles, LegCalibrationState, LiveStride, LiveUpdate

SIDES = (Side.LEFT, Side.RIGHT)
ANGLE_NAMES = ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg", "hip_rotation_deg")
"""The per-sample angles a leg shows (the fields of :class:`~imugait.live.updates.LegAngles`)."""
_LATEST_NAMES = tuple((name, name.removesuffix("_deg") + "_t_s") for name in ANGLE_NAMES)
"""Each angle's name and the name of its time in :meth:`DashboardState.latest`."""
DECIMALS = 2
"""Angles and times go to the page rounded to this many decimals (0.01° / 10 ms is below what
anyone reads off a live curve and keeps the messages small)."""


def finite_list(values: np.ndarray, decimals: int = DECIMALS) -> list[float | None] | list[list[float | None]]:
    """``values`` rounded, NaN and ±inf as None (JSON has no NaN); (N,) → a list, (K, N) → K lists
    (rounded in one call: the dashboard's columns at each push)."""
    values = np.asarray(values, float)
    rounded = values.round(decimals).tolist()  # (what np.round calls)
    if values.ndim == 2:
        return [[v if math.isfinite(v) else None for v in row] for row in rounded]
    return [v if math.isfinite(v) else None for v in rounded]


def finite_or_none(value: float, decimals: int = DECIMALS) -> float | None:
    return round(float(value), decimals) if value is not None and math.isfinite(value) else None


@dataclass
class StepMark:
    """A named interval marked from the page (session time, s; ``t_end_s`` None while open)."""

    name: str
    t_begin_s: float
    t_end_s: float | None = None

    def as_json(self) -> dict:
        return {"name": self.name, "t_begin_s": finite_or_none(self.t_begin_s),
                "t_end_s": None if self.t_end_s is None else finite_or_none(self.t_end_s)}


class ArrivalLog:
    """When each sensor's samples came off the transport, to stamp the angles computed from them.

    An angle of a leg at session time ``t`` can only be computed once the leg's thigh and shank
    samples up to ``t`` have arrived: its arrival is the later of the two. Bounded: the last
    ``keep_s`` of session time per sensor.
    """

    def __init__(self, keep_s: float = 5.0) -> None:
        self.keep_s = keep_s
        self._blocks: dict[Placement, deque[tuple[float, float]]] = {}
        self._of_side: dict[Side, list[deque[tuple[float, float]]]] = {}
        """Each side's sensors' blocks (a stamp reads its own leg's sensors only)."""

    def add(self, placement: Placement, t_end_s: float, arrival_host_s: float) -> None:
        """A block of ``placement`` whose newest sample is at ``t_end_s`` arrived at ``arrival_host_s``."""
        blocks = self._blocks.get(placement)
        if blocks is None:
            blocks = self._blocks[placement] = deque()
            self._of_side.setdefault(placement.side, []).append(blocks)
        blocks.append((float(t_end_s), float(arrival_host_s)))
        while blocks and blocks[0][0] < t_end_s - self.keep_s:
            blocks.popleft()

    def arrival_host_s(self, side: Side, t_s: float) -> float | None:
        """Host time at which the last sample a ``side`` angle at ``t_s`` needs arrived (None if unknown):
        per sensor, the first block whose newest sample is at or after ``t_s``."""
        latest = None
        t_min = t_s - 1e-9
        for blocks in self._of_side.get(side, ()):
            # Searched from the newest block back (a sensor's blocks come in time order): the
            # angles stamped are the newest, so a few blocks are looked at, not the ``keep_s``.
            found = None
            for t_end, arrival in reversed(blocks):
                if t_end < t_min:
                    break
                found = arrival
            if found is None:
                return None
            latest = found if latest is None else max(latest, found)
        return latest


class _AngleHistory:
    """The last ``window_s`` of one leg's angles, as chunks (bounded): each chunk's times (N,) and
    its :data:`ANGLE_NAMES` as rows (4, N), stacked once when it comes (the history and the next
    push both read them)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.chunks: deque[tuple[np.ndarray, np.ndarray]] = deque()
        # Per angle: the newest chunk with a finite value and that value's (time, value). Found
        # as chunks come, not per push: while hip rotation is withheld (standing, turning) a
        # search from the newest chunk went back through the whole window at every push.
        self._finite: dict[str, tuple[tuple[np.ndarray, np.ndarray], tuple[float, float]]] = {}

    def add(self, chunk: tuple[np.ndarray, np.ndarray]) -> None:
        """Keep ``chunk`` (times (N,), rows (4, N), N > 0) and forget what left the window."""
        t_s, values = chunk
        self.chunks.append(chunk)
        finite = np.isfinite(values)
        if finite[:, -1].all():  # the usual chunk: every angle's last sample is its newest finite one
            newest_t_s = float(t_s[-1])
            for name, value in zip(ANGLE_NAMES, values[:, -1].tolist(), strict=True):
                self._finite[name] = (chunk, (newest_t_s, value))
        else:
            # Per angle the last finite sample (all four at once: a few numpy calls per chunk, not eight).
            last = finite.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1)
            for k in np.flatnonzero(finite.any(axis=1)).tolist():
                i = int(last[k])
                self._finite[ANGLE_NAMES[k]] = (chunk, (float(t_s[i]), float(values[k, i])))
        newest = float(t_s[-1])
        while self.chunks and float(self.chunks[0][0][-1]) < newest - self.window_s:
            dropped = self.chunks.popleft()
            # The newest chunk with a finite value left the window: no kept chunk has one.
            for name in [n for n, (chunk, _) in self._finite.items() if chunk is dropped]:
                del self._finite[name]

    def newest_t_s(self) -> float | None:
        return float(self.chunks[-1][0][-1]) if self.chunks else None

    def newest_finite(self, name: str) -> tuple[float, float] | None:
        """(time, value) of the newest finite sample of angle ``name`` kept (None if none is):
        hip rotation is NaN where the pipeline withholds it (standing, turning, pose-only legs)."""
        found = self._finite.get(name)
        return None if found is None else found[1]


def angles_json(chunks: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, list]:
    """Chunks of one leg's angles (times (N,), rows (4, N): :func:`angle_chunk`) as columns ``t_s``
    and :data:`ANGLE_NAMES`."""
    if not chunks:
        return {name: [] for name in ("t_s", *ANGLE_NAMES)}
    if len(chunks) == 1:  # a push's usual share
        t_s, rows = chunks[0]
    else:
        t_s, rows = np.concatenate([c[0] for c in chunks]), np.concatenate([c[1] for c in chunks], axis=1)
    out = {"t_s": finite_list(t_s, 3)}
    out.update(zip(ANGLE_NAMES, finite_list(rows), strict=True))
    return out


def angle_chunk(angles: LegAngles) -> tuple[np.ndarray, np.ndarray]:
    """(times (N,), the chunk's :data:`ANGLE_NAMES` as rows (4, N)), as the dashboard keeps it."""
    return angles.t_s, np.array([getattr(angles, name) for name in ANGLE_NAMES])


def stride_json(stride: LiveStride) -> dict:
    return {"side": stride.side.value, "index": stride.index,
            "t_initial_contact_s": finite_or_none(stride.t_initial_contact_s, 3),
            "t_toe_off_s": finite_or_none(stride.t_toe_off_s, 3),
            "t_next_initial_contact_s": finite_or_none(stride.t_next_initial_contact_s, 3),
            "used": stride.used, "exclusion": stride.exclusion, "final": stride.final,
            "metrics": {k: finite_or_none(v) for k, v in stride.metrics.items()}}


def sensor_json(s: SensorStatus) -> dict:
    return {"placement": s.placement.value, "kind": s.kind.value, "link_state": s.link_state.value,
            "device_id": s.device_id, "rate_hz": round(s.rate_hz, 1), "n_samples": s.n_samples,
            "n_lost": s.n_lost, "lost_pct": round(100.0 * lost_fraction(s), 2),
            "battery_percent": finite_or_none(s.battery_percent, 0) if s.battery_percent is not None else None,
            "reconnects": s.reconnects, "frame_errors": s.frame_errors,
            "outages": [{"t_s": round(t, 2), "duration_s": round(d, 2)} for t, d in s.outages]}


def calibration_json(c: LegCalibrationState) -> dict:
    return {"side": c.side.value, "phase": c.phase.name.lower(), "phase_text": c.phase.value,
            "quality": c.quality, "reference": c.reference, "message": c.message,
            "calibration_method": c.calibration_method}


def stride_summary(strides: Sequence[LiveStride], bands: Sequence[MetricBand]) -> list[dict]:
    """One row per band whose metric the strides carry: each side's mean over the used strides
    kept and its last stride's value, or the symmetry index of the two means, with the band and
    whether the value is outside it. Means and the symmetry index come from
    :func:`imugait.gait.metrics.mean_n` and :func:`~imugait.gait.metrics.right_minus_left`
    (what :func:`~imugait.gait.metrics.aggregate` and :func:`~imugait.gait.metrics.asymmetry`
    compute, over plain arrays: this runs at every new stride)."""
    if not strides:
        return []
    carried = set().union(*(s.metrics.keys() for s in strides))
    shown = [b for b in bands if b.metric in carried]
    if not shown:
        return []
    metrics = [b.metric for b in shown]
    used = {side: [s for s in strides if s.side is side and s.used] for side in SIDES}
    means = {side: [mean_n(np.array([s.metrics.get(m, np.nan) for s in used[side]], dtype=float))
                    for m in metrics] for side in SIDES if used[side]}
    # The symmetry index of sides that both have used strides (NaN where a mean is).
    si = (right_minus_left(np.array(metrics, dtype=str), *(np.array([mean for mean, _n in means[side]], dtype=float)
                                                         for side in SIDES))[1]
          if len(means) == len(SIDES) else np.full(len(metrics), np.nan))
    rows = []
    for k, band in enumerate(shown):
        row = band.as_json()
        for side in SIDES:
            mean, n = means[side][k] if side in means else (None, 0)
            last = used[side][-1].metrics.get(band.metric) if used[side] else None
            value = finite_or_none(mean) if mean is not None else None
            row[side.value] = {"mean": value, "n": n, "last": finite_or_none(last) if last is not None else None,
                               "outside": band.compare == "per_side" and _outside(value, band)}
        if band.compare == "symmetry_index":
            value = finite_or_none(float(si[k]))
            row["symmetry_index_pct"] = value
            row["outside"] = _outside(value, band)
        rows.append(row)
    return rows


def _outside(value: float | None, band: MetricBand) -> bool:
    if value is None:
        return False
    return (band.low is not None and value < band.low) or (band.high is not None and value > band.high)


class DashboardState:
    """Everything the page shows; fed by the run, read by the server (one event loop, no locks).

    Parameters
    ----------
    window_s : seconds of angles kept for the curves.
    strides_kept : strides kept per leg for the stride table.
    bands : the stride-table rows (default :func:`stride_metric_bands`).
    """

    def __init__(self, window_s: float = 10.0, strides_kept: int = 10,
                 bands: Sequence[MetricBand] | None = None) -> None:
        self.window_s = float(window_s)
        self.bands = tuple(stride_metric_bands() if bands is None else bands)
        self.arrivals = ArrivalLog()
        self.t_s = math.nan
        self._history = {side: _AngleHistory(window_s) for side in SIDES}
        self._pending: dict[Side, list[tuple[np.ndarray, np.ndarray]]] = {side: [] for side in SIDES}
        self._strides = {side: deque(maxlen=strides_kept) for side in SIDES}
        self._new_strides: list[LiveStride] = []
        self._summary: list[dict] = []
        self.calibration: dict[Side, LegCalibrationState] = {}
        self.n_strides: dict[Side, int] = dict.fromkeys(SIDES, 0)
        self.sensors: tuple[SensorStatus, ...] = ()
        self._sensors_changed = False
        self.marks: list[StepMark] = []
        self.recording: dict = {"active": False, "folder": None, "sessions": [], "error": ""}
        self.pipeline_error = ""
        self.calibration_file: dict = {"reused": None, "saved": None, "error": ""}
        """The calibration file reused (``--calibration``), the one this run's calibration was saved to, and why not."""
        self.samples_out_of_order = 0
        """Samples whose live time was not after their sensor's previous one (expected 0)."""
        self.finished = False
        """The sensors stopped (end of the run): the page stops expecting data."""

    # ------------------------------------------------------------------ input
    def take(self, update: LiveUpdate) -> None:
        """Add what the pipeline computed since its previous poll."""
        if math.isfinite(update.t_s):
            self.t_s = update.t_s
        for angles in update.angles:
            if angles.t_s.size:
                chunk = angle_chunk(angles)
                self._history[angles.side].add(chunk)
                self._pending[angles.side].append(chunk)
        for stride in update.strides:
            kept = self._strides[stride.side]
            again = next((i for i, s in enumerate(kept) if s.index == stride.index), None)
            if again is not None:  # a later version of a stride kept (LiveStride.final)
                kept[again] = stride
            elif not kept or stride.index > kept[-1].index:
                kept.append(stride)
            # (else a later version of a stride older than those kept: its run fitted again once
            # ended, when newer strides had come — sent on, not in the table any more)
            self._new_strides.append(stride)
        if update.strides:
            self._summary = stride_summary([s for side in SIDES for s in self._strides[side]], self.bands)
        for state in update.calibration:
            self.calibration[state.side] = state
        for side, n in update.n_strides.items():
            self.n_strides[side] = int(n)

    def set_sensors(self, status: tuple[SensorStatus, ...]) -> None:
        self.sensors = status
        self._sensors_changed = True

    # ------------------------------------------------------------------ output
    def latest(self) -> dict[str, dict]:
        """Per leg: the newest sample's time (``t_s``), and of each angle the newest computed value
        (degrees) with its time (``<angle>_t_s``); None before any."""
        out = {}
        for side in SIDES:
            history = self._history[side]
            newest = history.newest_t_s()
            entry: dict = {"t_s": None if newest is None else finite_or_none(newest, 3)}
            for name, t_name in _LATEST_NAMES:
                found = history.newest_finite(name)
                entry[name] = None if found is None else finite_or_none(found[1])
                entry[t_name] = None if found is None else finite_or_none(found[0], 3)
            entry["strides_completed"] = self.n_strides.get(side, 0)
            out[side.value] = entry
        return out

    def _common(self) -> dict:
        return {"t_s": finite_or_none(self.t_s, 3), "latest": self.latest(),
                "calibration": [calibration_json(self.calibration[s]) for s in SIDES if s in self.calibration],
                "calibration_file": self.calibration_file,
                "marks": [m.as_json() for m in self.marks], "recording": self.recording,
                "pipeline_error": self.pipeline_error, "finished": self.finished}

    def delta(self, host_to_epoch_s: float | None = None) -> dict:
        """What is new since the previous call (then forgotten). ``host_to_epoch_s`` (wall-clock
        minus host-clock seconds, now) stamps each leg's newest angle with the wall-clock time its
        last needed sample arrived (``arrival_epoch_ms``), for the page's latency measurement."""
        message = {"type": "update", **self._common(),
                   "angles": {side.value: angles_json(self._pending[side]) for side in SIDES if self._pending[side]}}
        if host_to_epoch_s is not None:
            stamps = {}
            for side in SIDES:
                if self._pending[side]:
                    arrival = self.arrivals.arrival_host_s(side, float(self._pending[side][-1][0][-1]))
                    if arrival is not None:
                        stamps[side.value] = (arrival + host_to_epoch_s) * 1e3
            message["arrival_epoch_ms"] = stamps
        if self._new_strides:
            message["strides"] = [stride_json(s) for s in self._new_strides]
            message["summary"] = self._summary
        if self._sensors_changed:
            message["sensors"] = [sensor_json(s) for s in self.sensors]
        for side in SIDES:
            self._pending[side] = []
        self._new_strides = []
        self._sensors_changed = False
        return message

    def snapshot(self, config: Mapping[str, object]) -> dict:
        """Everything a page that just connected needs (``config`` goes along unchanged)."""
        return {"type": "snapshot", **self._common(), "config": dict(config),
                "bands": [b.as_json() for b in self.bands],
                "angles": {side.value: angles_json(self._history[side].chunks) for side in SIDES},
                "strides": [stride_json(s) for side in SIDES for s in self._strides[side]],
                "summary": self._summary, "sensors": [sensor_json(s) for s in self.sensors]}

    def status(self) -> dict:
        """The ``GET /api/status`` answer: per leg the newest sample's time, the latest computed
        knee flexion and hip rotation (degrees, with their times; None before the first) and the
        strides completed; the sensors' health; the recording; samples that came out of time order."""
        latest = self.latest()
        return {"t_s": finite_or_none(self.t_s, 3),
                "legs": {side: {k: v[k] for k in ("t_s", "knee_flexion_deg", "knee_flexion_t_s", "hip_rotation_deg",
                                                  "hip_rotation_t_s", "strides_completed")}
                         for side, v in latest.items()},
                "sensors": [sensor_json(s) for s in self.sensors], "recording": self.recording,
                "calibration": [calibration_json(self.calibration[s]) for s in SIDES if s in self.calibration],
                "calibration_file": self.calibration_file, "samples_out_of_order": self.samples_out_of_order, "finished": self.finished}
