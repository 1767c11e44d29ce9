"""Live fusion and the live time grid: each sensor's samples as they arrive → rows of one grid.

The offline flow fuses each sensor at its own sample instants (:func:`imugait.fusion.select.orient_stream`)
and resamples everything onto one grid (:func:`imugait.kinematics.prepare.fuse_session`,
:func:`imugait.timebase.common_grid`). This module does the same while the samples stream:

* :class:`LiveSensor` keeps one sensor's newest samples (bounded), and once the gyroscope bias is
  known runs the online filter (VQF online) over them, continuing its state block after block.
  Samples lost before a block are bridged for the filter as offline (interpolated samples at the
  lost instants, their orientations dropped).
* :class:`LiveGrid` is the grid of the offline analysis (start: the latest first sample of all
  sensors; spacing ``1 / rate_hz``); a grid instant is ready once every sensor has a sample at or
  after it, and its values are interpolated with the same functions as offline (linear for rates
  and accelerations, normalised linear for orientations), so a ready row never changes.

With ``stall_s``, a sensor whose newest sample is that much older than the newest of all no longer
holds the grid back: its values are held at its last sample and marked lost.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from imugait.acquisition.assembler import LiveSamples
from imugait.analysis.clipping import CLIP_FRACTION, at_range
from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.fusion.base import OrientationFilter
from imugait.fusion.select import make_filter
from imugait.fusion.settings import FilterKind, FusionSettings
from imugait.live.history import History
from imugait.live.reseed import mean_heading_rad, reseed_orientation, stride_period_s
from imugait.model import GyroSampling
from imugait.timebase import grid_position, lerp_rows, nlerp_rows, sample_period_s

STRIDE_LOOKBACK_S = 5.0
"""How far before a gap the sensor's stride period is measured (s), for the re-seeding window."""
SENSOR_COLUMNS = {"t_s": (), "acc_mps2": (3,), "gyr_radps": (3,), "q_world_sensor": (4,), "n_lost_before": ()}
IMU = "acc_gyr"
"""A sensor's accelerations and rates side by side (one gather interpolates both: :meth:`LiveGrid.rows`)."""


class LiveSensor:
    """One sensor's newest samples (at most ``capacity``) and its online orientation filter.

    ``reseed_after_s``: after a gap in the samples longer than this (s), the filter is re-seeded
    (:mod:`imugait.live.reseed`) from the first ``reseed_window_s`` of samples after it instead of
    bridging the gap; those samples are held (not fused, not ready for the grid) until the window
    has come. ``partner``: the other sensor of the leg, whose turn across the gap is carried over
    (set by the caller). None: every gap is bridged, as offline."""

    def __init__(self, placement: Placement, capacity: int, kind: FilterKind = FilterKind.VQF_ONLINE,
                 reseed_after_s: float | None = None, reseed_window_s: float = 1.0) -> None:
        self.placement = placement
        self.kind = kind
        self.gyr_sampling = GyroSampling.INSTANT
        """What the device's gyroscope samples stand for in time (the blocks' until fusion starts):
        how the filter integrates them."""
        self.gyr_range_radps: float | None = None
        """The gyroscope's full-scale range (rad/s) the blocks carry (the newest declared; None
        while none is): the grid's rows at it are clipped (:meth:`LiveGrid.rows`)."""
        self.samples = History(capacity, SENSOR_COLUMNS, {"n_lost_before": np.int64},
                               packed={IMU: ("acc_mps2", "gyr_radps")})
        self.gyr_bias_radps = np.zeros(3)
        self._filter: OrientationFilter | None = None
        self._n_fused = 0  # absolute index of the first sample not yet fused
        self.n_dropped = 0
        """Samples dropped because they did not come after the newest one kept."""
        self.reseed_after_s, self.reseed_window_s = reseed_after_s, float(reseed_window_s)
        self.partner: LiveSensor | None = None
        self.held = False
        """Samples after a long gap wait for the re-seeding window (``ready_t_s`` stops before them)."""
        self.reseeds: list[tuple[float, float]] = []
        """(time of the first sample after the gap, length of the gap) of every re-seeding (s)."""
        self._last_t_s = -np.inf  # the newest sample's time (read at every feed: kept, not looked up)
        self._unfused_q = np.full((64, 4), np.nan)  # (a block's orientations before fusion: made once, copied in)

    @property
    def fusing(self) -> bool:
        return self._filter is not None

    @property
    def last_t_s(self) -> float:
        return self._last_t_s

    @property
    def n_ready(self) -> int:
        """Absolute index after the newest sample whose values are final (the samples held for a
        re-seeding are not)."""
        return self._n_fused if self.held else self.samples.n_appended

    @property
    def ready_t_s(self) -> float:
        """Time of the newest sample whose values are final."""
        if not self.held:
            return self._last_t_s
        return float(self.samples.since("t_s", self.n_ready - 1)[0]) if self.n_ready > self.samples.first_index \
            else -np.inf

    @property
    def first_t_s(self) -> float:
        return float(self.samples.tail("t_s")[0]) if len(self.samples) else np.inf

    def add(self, block: LiveSamples) -> None:
        """Keep the block's samples (and fuse them when the filter runs)."""
        t = np.asarray(block.t_s, dtype=np.float64)
        # Samples not after the newest kept one (a clock-mapping step back) cannot be placed in
        # time order: dropped and counted, never allowed to stop a live run.
        keep = t > self.last_t_s
        keep[1:] &= t[1:] > t[:-1]
        acc, gyr = block.acc_mps2, block.gyr_radps
        if block.gyr_range_radps is not None:
            self.gyr_range_radps = block.gyr_range_radps
        if not (t.size and np.count_nonzero(keep) == keep.size):  # (all kept is the common case: no copies then)
            self.n_dropped += int(t.size - keep.sum())
            if not np.count_nonzero(keep):
                return
            t, acc, gyr = t[keep], np.asarray(acc)[keep], np.asarray(gyr)[keep]
        lost = np.zeros(t.size, dtype=np.int64)
        lost[0] = max(int(block.n_lost), 0)
        if t.size > self._unfused_q.shape[0]:
            self._unfused_q = np.full((t.size, 4), np.nan)
        self.samples.append({"t_s": t, "acc_mps2": acc, "gyr_radps": gyr,
                             "q_world_sensor": self._unfused_q[:t.size], "n_lost_before": lost})
        self._last_t_s = float(t[-1])
        if self._filter is not None:
            self._fuse()
        else:
            self.gyr_sampling = block.gyr_sampling

    def start_fusion(self, gyr_bias_radps: np.ndarray | None, t_until_s: float) -> None:
        """Start the filter on every kept sample, ``gyr_bias_radps`` (3,) removed from the gyroscope
        first (as :func:`~imugait.kinematics.prepare.fuse_session` does). The sample period is the
        median step of the kept samples up to ``t_until_s`` (as
        :func:`~imugait.fusion.select.stream_sample_period_s`; up to a fixed instant, so that it
        does not depend on how many samples happen to have arrived)."""
        t = self.samples.tail("t_s")
        t = t[t <= t_until_s]
        if t.size < 2:
            raise ValidationError(f"{self.placement.value}: fusion needs at least two samples to know the rate")
        self.gyr_bias_radps = np.zeros(3) if gyr_bias_radps is None else np.asarray(gyr_bias_radps, dtype=float)
        period_s = sample_period_s(t)
        self._filter = make_filter(self.kind, FusionSettings(sample_period_s=period_s, gyr_sampling=self.gyr_sampling))
        self._n_fused = self.samples.first_index
        self._fuse(check_units=True)

    def retry(self) -> None:
        """Fuse the held samples if their re-seeding can be decided now (the partner's samples it
        waited for may have come)."""
        if self.held:
            self._fuse()

    def _fuse(self, check_units: bool = False) -> None:
        """Fuse the samples not yet fused (re-seeding after long gaps); units are checked on the
        first (long) stretch only."""
        first = self.samples.first_index
        start = max(self._n_fused, first)
        stop = self.samples.n_appended
        while start < stop:
            gap = self._long_gap(start, stop)
            if gap is None:
                self._fuse_span(start, stop, check_units)
                return
            self._fuse_span(start, gap, check_units)
            self.held = True
            if not self._reseed(gap):
                return  # wait for the window after the gap (and the partner's samples over it)
            self.held = False
            self._fuse_span(gap, stop, False, fresh=True)
            start = self._n_fused

    def _long_gap(self, start: int, stop: int) -> int | None:
        """Absolute index of the first sample in ``start .. stop - 1`` after a gap longer than
        ``reseed_after_s`` (one with a sample before it kept), None if none."""
        if self.reseed_after_s is None or self._filter is None:
            return None
        lo = max(start, self.samples.first_index + 1)
        if lo >= stop:
            return None
        n_lost = self.samples.since("n_lost_before", lo)[:stop - lo]
        if not np.count_nonzero(n_lost):
            return None
        t = self.samples.since("t_s", lo - 1)[:stop - lo + 1]
        long = (n_lost > 0) & (np.diff(t) > self.reseed_after_s)
        return lo + int(np.argmax(long)) if np.count_nonzero(long) else None

    def _reseed(self, k: int) -> bool:
        """Re-seed the filter for the samples from absolute index ``k`` on (the first after a
        gap), if the window after it has come; False to wait."""
        t_all = self.samples.tail("t_s")
        i = k - self.samples.first_index
        # A whole number of strides (the sensor's period over the last seconds before the gap).
        before = t_all[:i] >= t_all[i - 1] - STRIDE_LOOKBACK_S
        period = stride_period_s(t_all[:i][before], self.samples.tail("gyr_radps")[:i][before])
        window_s = self.reseed_window_s if period is None else period * np.ceil(self.reseed_window_s / period - 0.25)
        t_end = t_all[i] + window_s
        if t_all[-1] < t_end:
            return False
        turn = self._partner_turn_rad(t_all[i - 1], t_all[i], window_s)
        if turn is None:
            return False
        j = i + int(np.searchsorted(t_all[i:], t_end, side="right"))
        bias = self.gyr_bias_radps + self._filter.status().gyr_bias_radps
        gyr = self.samples.tail("gyr_radps")[i:j] - bias
        dt = np.diff(t_all[i - 1:j])
        dt[0] = self._filter.settings.sample_period_s
        before = (t_all >= t_all[i - 1] - window_s) & (np.arange(t_all.size) < i)
        heading = mean_heading_rad(self.samples.tail("q_world_sensor")[before]) + turn
        try:
            self._filter.reseed(reseed_orientation(gyr, self.samples.tail("acc_mps2")[i:j], dt, heading))
        except NotImplementedError:
            return True  # this filter bridges the gap as offline
        self.reseeds.append((float(t_all[i]), float(t_all[i] - t_all[i - 1])))
        return True

    def _partner_turn_rad(self, t_before_s: float, t_after_s: float, window_s: float) -> float | None:
        """How much the partner turned (heading, rad) from the window before ``t_before_s`` to the
        window after ``t_after_s``: 0 without a partner that streamed on, None to wait for its samples."""
        partner = self.partner
        if partner is None or not partner.fusing or partner.held:
            return 0.0
        if partner.ready_t_s < t_after_s + window_s:
            return None
        t = partner.samples.tail("t_s")
        q = partner.samples.tail("q_world_sensor")
        before = (t >= t_before_s - window_s) & (t <= t_before_s)
        after = (t >= t_after_s) & (t <= t_after_s + window_s)
        turn = mean_heading_rad(q[after]) - mean_heading_rad(q[before])
        return float(np.angle(np.exp(1j * turn))) if np.isfinite(turn) else 0.0

    def _fuse_span(self, start: int, stop: int, check_units: bool, fresh: bool = False) -> None:
        """Fuse the samples ``start .. stop - 1`` (absolute), bridging their lost samples as
        offline; ``fresh``: the filter was re-seeded, nothing is bridged before ``start``."""
        n_new = stop - start
        if n_new <= 0:
            return
        has_previous = not fresh and start > self.samples.first_index and self._n_fused == start
        take = n_new + int(has_previous)
        first_row = start - int(has_previous)
        # (the first row's count is not used: it is the previous, fused sample or the first kept one)
        if not np.count_nonzero(self.samples.since("n_lost_before", first_row)[1:take]):
            # (the common case: the new rows only, the same values as sliced from the rows below)
            q = self._filter.orientations(self.samples.since("gyr_radps", start)[:n_new] - self.gyr_bias_radps,
                                          self.samples.since("acc_mps2", start)[:n_new], check_units=check_units)
        else:  # bridge lost samples for the filter (see orient_stream)
            t = self.samples.since("t_s", first_row)[:take]
            gyr = self.samples.since("gyr_radps", first_row)[:take] - self.gyr_bias_radps
            acc = self.samples.since("acc_mps2", first_row)[:take]
            lost = self.samples.since("n_lost_before", first_row)[:take].copy()
            lost[0] = 0
            real = np.arange(take) + np.cumsum(lost)
            t_full = np.interp(np.arange(real[-1] + 1), real, t)
            bridged = [np.column_stack([np.interp(t_full, t, x[:, k]) for k in range(3)]) for x in (gyr, acc)]
            # Fed from just after the previous sample: the lost instants before the first new one too.
            first = int(has_previous)
            q_full = self._filter.orientations(bridged[0][first:], bridged[1][first:], check_units=check_units)
            q = q_full[real[first:] - first]
        self.samples.since("q_world_sensor", start)[:n_new] = q
        self._n_fused = stop


class LiveGrid:
    """The common grid of ``placements`` at ``rate_hz``; see the module docstring."""

    def __init__(self, placements: Collection[Placement], rate_hz: float, stall_s: float | None = None) -> None:
        if not placements:
            raise ValidationError("a live grid needs at least one sensor")
        if not rate_hz > 0:
            raise ValidationError(f"a live grid needs a rate above 0 Hz, got {rate_hz!r}")
        self.placements = tuple(placements)
        self.rate_hz = float(rate_hz)
        self.stall_s = np.inf if stall_s is None else float(stall_s)
        self.t0_s: float | None = None
        self._names = [tuple(f"{p.value}/{c}" for c in ("acc_mps2", "gyr_radps", "q_world_sensor", "lost", "lost_s",
                                                       "clipped"))
                       for p in self.placements]  # (an enum's value is a slow lookup: once, not per row batch)
        self._sensors_of: tuple[Mapping[Placement, LiveSensor], tuple[LiveSensor, ...]] | None = None

    def _in_order(self, sensors: Mapping[Placement, LiveSensor]) -> tuple[LiveSensor, ...]:
        """``sensors`` in the order of ``placements`` (looked up once per mapping: hashing an enum
        member is a Python call, and ``n_ready`` runs at every feed)."""
        if self._sensors_of is None or self._sensors_of[0] is not sensors:
            self._sensors_of = (sensors, tuple(sensors[p] for p in self.placements))
        return self._sensors_of[1]

    def start(self, sensors: Mapping[Placement, LiveSensor]) -> bool:
        """Fix the grid's start once every sensor has sent a sample; True when it is fixed."""
        if self.t0_s is None and all(len(sensors[p].samples) for p in self.placements):
            self.t0_s = max(sensors[p].first_t_s for p in self.placements)
        return self.t0_s is not None

    def t_s(self, k0: int, k1: int) -> np.ndarray:
        """Grid instants ``k0 .. k1 - 1`` (s)."""
        return self.t0_s + np.arange(k0, k1) / self.rate_hz

    def n_ready(self, sensors: Mapping[Placement, LiveSensor]) -> int:
        """Grid instants ready so far (each live sensor has a sample at or after them)."""
        if self.t0_s is None:
            return 0
        last = [sensor.ready_t_s for sensor in self._in_order(sensors)]
        if self.stall_s == np.inf:
            oldest = min(last)  # (every sensor holds the grid: the same as the filter below)
        else:
            newest = max(last)
            oldest = min(t for t in last if t >= newest - self.stall_s)
        return max(int(np.floor((oldest - self.t0_s) * self.rate_hz + 1e-9)) + 1, 0)

    def rows(self, sensors: Mapping[Placement, LiveSensor], k0: int, k1: int,
             with_orientation: bool = True) -> dict[str, np.ndarray]:
        """Grid rows ``k0 .. k1 - 1``: ``t_s`` and per placement ``<placement>/acc_mps2``,
        ``/gyr_radps`` (bias removed), ``/lost``, ``/lost_s`` (the length of the lost stretch a lost
        row lies in, s; 0 elsewhere), ``/clipped`` (the gyroscope at its declared range, as offline:
        :func:`~imugait.analysis.clipping.at_range`) and, ``with_orientation``, ``/q_world_sensor``."""
        t = self.t_s(k0, k1)
        out: dict[str, np.ndarray] = {"t_s": t}
        # Each sensor's neighbouring samples are gathered, then the four sensors' rows are
        # interpolated in one stack (element by element the arithmetic of interp_vectors and
        # slerp_quats: the same values, a quarter of the numpy calls).
        imu_before, imu_after, q_before, q_after, fractions = [], [], [], [], []
        for sensor, (*_values, lost_name, lost_s_name, _clipped) in zip(self._in_order(sensors), self._names, strict=True):
            s = sensor.samples
            n_held = s.n_appended - sensor.n_ready  # samples after the ready ones (re-seeding)
            t_all = s.tail("t_s")[:len(s) - n_held]
            # Only the samples from the one before the first instant on are needed.
            first = max(int(t_all.searchsorted(t[0], side="right")) - 1, 0) if t.size else 0
            n = t_all.size - first
            t_src = t_all[first:]
            if t_src.size < 2:  # one sample only: hold it
                t_src = np.concatenate([t_src, t_src + 1.0 / self.rate_hz])
                imu, q_src, n_lost = (np.repeat(s.tail(name, 1 + n_held)[:1], 2, axis=0)
                                      for name in (IMU, "q_world_sensor", "n_lost_before"))
            else:
                imu, q_src, n_lost = s.tail(IMU, n + n_held)[:n], s.tail("q_world_sensor", n + n_held)[:n], \
                    s.tail("n_lost_before", n + n_held)[:n]
            i, frac = grid_position(t_src, t)
            # Accelerations and rates in one gather (``take``: see interp_vectors).
            imu_before.append(imu.take(i, axis=0))
            imu_after.append(imu.take(i + 1, axis=0))
            if with_orientation:
                q_before.append(q_src.take(i, axis=0))
                q_after.append(q_src.take(i + 1, axis=0))
            fractions.append(frac)
            if not (t.size and t[-1] > t_src[-1]) and not np.count_nonzero(n_lost[1:]):
                # (the common case, and the same values: no gap among these samples, none stalled)
                out[lost_name] = np.zeros(t.size, dtype=bool)
                out[lost_s_name] = np.zeros(t.size)
                continue
            # Inside a gap: between a sample and the next one that had samples lost before it
            # (as timebase.gap_mask), or past the last sample of a stalled sensor.
            gap_after = np.append(n_lost[1:] > 0, False)
            t_after = t_src[np.minimum(i + 1, t_src.size - 1)]
            inside = (t > t_src[i]) & (t < t_after)
            stalled = t > t_src[-1]
            lost = (gap_after[i] & inside) | stalled
            out[lost_name] = lost
            # How long the lost stretch around each lost row is (known once the sample after it has
            # come: that is when its rows are ready); past a sensor's newest sample (rows released
            # without it, ``stall_s``), how long it has been silent by then.
            span_s = t_after - t_src[i]
            out[lost_s_name] = np.where(stalled, t - t_src[-1], np.where(lost, span_s, 0.0))
        frac = np.concatenate(fractions)
        acc_gyr = lerp_rows(np.concatenate(imu_before), np.concatenate(imu_after), frac)
        q = nlerp_rows(np.concatenate(q_before), np.concatenate(q_after), frac) if with_orientation else None
        m = t.size
        in_order = self._in_order(sensors)
        # A batch far from every declared range (the common case) has no clipped row: one look at
        # all sensors' rates, not each sensor's (a batch is a few rows: the calls are the cost).
        declared = [sensor.gyr_range_radps for sensor in in_order if sensor.gyr_range_radps]
        none_clipped = not declared or not m or (
            float(np.abs(acc_gyr[:, 3:]).max()) + max(max(map(abs, sensor.gyr_bias_radps.tolist())) for sensor in in_order)
            < CLIP_FRACTION * min(declared))
        for j, (sensor, (acc_name, gyr_name, q_name, _lost, _lost_s, clipped_name)) in enumerate(
                zip(in_order, self._names, strict=True)):
            rows = acc_gyr[j * m:(j + 1) * m]
            out[acc_name] = rows[:, :3] if with_orientation else rows[:, :3].copy()  # (appended: copied then)
            out[gyr_name] = rows[:, 3:] - sensor.gyr_bias_radps
            out[clipped_name] = np.zeros(m, dtype=bool) if none_clipped else at_range(out[gyr_name], sensor.gyr_range_radps)
            if with_orientation:
                out[q_name] = q[j * m:(j + 1) * m]
        return out


def grid_history(placements: Collection[Placement], capacity: int) -> History:
    """A bounded history of :meth:`LiveGrid.rows` (with orientations)."""
    columns: dict[str, tuple[int, ...]] = {"t_s": ()}
    for p in placements:
        columns.update({f"{p.value}/acc_mps2": (3,), f"{p.value}/gyr_radps": (3,), f"{p.value}/q_world_sensor": (4,),
                        f"{p.value}/lost": (), f"{p.value}/lost_s": (), f"{p.value}/clipped": ()})
    return History(capacity, columns, {f"{p.value}/{c}": np.bool_ for p in placements for c in ("lost", "clipped")})
