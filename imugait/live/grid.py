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
from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.fusion.base import OrientationFilter
from imugait.fusion.select import make_filter
from imugait.fusion.settings import FilterKind, FusionSettings
from imugait.live.history import History
from imugait.timebase import grid_position, interp_vectors, slerp_quats

SENSOR_COLUMNS = {"t_s": (), "acc_mps2": (3,), "gyr_radps": (3,), "q_world_sensor": (4,), "n_lost_before": ()}


class LiveSensor:
    """One sensor's newest samples (at most ``capacity``) and its online orientation filter."""

    def __init__(self, placement: Placement, capacity: int, kind: FilterKind = FilterKind.VQF_ONLINE) -> None:
        self.placement = placement
        self.kind = kind
        self.samples = History(capacity, SENSOR_COLUMNS, {"n_lost_before": np.int64})
        self.gyr_bias_radps = np.zeros(3)
        self._filter: OrientationFilter | None = None
        self._n_fused = 0  # absolute index of the first sample not yet fused
        self.n_dropped = 0
        """Samples dropped because they did not come after the newest one kept."""

    @property
    def fusing(self) -> bool:
        return self._filter is not None

    @property
    def last_t_s(self) -> float:
        return float(self.samples.tail("t_s", 1)[0]) if len(self.samples) else -np.inf

    @property
    def first_t_s(self) -> float:
        return float(self.samples.tail("t_s")[0]) if len(self.samples) else np.inf

    def add(self, block: LiveSamples) -> None:
        """Keep the block's samples (and fuse them when the filter runs)."""
        t = np.asarray(block.t_s, dtype=np.float64)
        # Samples not after the newest kept one (a clock-mapping step back) cannot be placed in
        # time order: dropped and counted, never allowed to stop a live run.
        keep = t > self.last_t_s
        keep &= np.r_[True, np.diff(t) > 0]
        self.n_dropped += int(t.size - keep.sum())
        if not keep.any():
            return
        t = t[keep]
        lost = np.zeros(t.size, dtype=np.int64)
        lost[0] = max(int(block.n_lost), 0)
        self.samples.append({"t_s": t, "acc_mps2": np.asarray(block.acc_mps2)[keep],
                             "gyr_radps": np.asarray(block.gyr_radps)[keep],
                             "q_world_sensor": np.full((t.size, 4), np.nan), "n_lost_before": lost})
        if self._filter is not None:
            self._fuse()

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
        period_s = float(np.median(np.diff(t)))
        self._filter = make_filter(self.kind, FusionSettings(sample_period_s=period_s))
        self._n_fused = self.samples.first_index
        self._fuse(check_units=True)

    def _fuse(self, check_units: bool = False) -> None:
        """Fuse the samples not yet fused; units are checked on the first (long) stretch only."""
        start = max(self._n_fused, self.samples.first_index)
        n_new = self.samples.n_appended - start
        if n_new <= 0:
            return
        has_previous = start > self.samples.first_index and self._n_fused == start
        take = n_new + int(has_previous)
        t = self.samples.tail("t_s", take)
        gyr = self.samples.tail("gyr_radps", take) - self.gyr_bias_radps
        acc = self.samples.tail("acc_mps2", take)
        lost = self.samples.tail("n_lost_before", take).copy()
        lost[0] = 0  # the first row is the previous (already fused) sample or the first kept one
        real = np.arange(take) + np.cumsum(lost)
        if real[-1] == take - 1:
            q = self._filter.estimate(gyr[int(has_previous):], acc[int(has_previous):], check_units=check_units).q_world_sensor
        else:  # bridge lost samples for the filter (see orient_stream)
            t_full = np.interp(np.arange(real[-1] + 1), real, t)
            bridged = [np.column_stack([np.interp(t_full, t, x[:, k]) for k in range(3)]) for x in (gyr, acc)]
            # Fed from just after the previous sample: the lost instants before the first new one too.
            first = int(has_previous)
            q_full = self._filter.estimate(bridged[0][first:], bridged[1][first:], check_units=check_units).q_world_sensor
            q = q_full[real[first:] - first]
        self.samples.tail("q_world_sensor", n_new)[:] = q
        self._n_fused = self.samples.n_appended


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
        last = {p: sensors[p].last_t_s for p in self.placements}
        newest = max(last.values())
        live = [t for t in last.values() if t >= newest - self.stall_s]
        return max(int(np.floor((min(live) - self.t0_s) * self.rate_hz + 1e-9)) + 1, 0)

    def rows(self, sensors: Mapping[Placement, LiveSensor], k0: int, k1: int,
             with_orientation: bool = True) -> dict[str, np.ndarray]:
        """Grid rows ``k0 .. k1 - 1``: ``t_s`` and per placement ``<placement>/acc_mps2``,
        ``/gyr_radps`` (bias removed), ``/lost``, ``/lost_s`` (the length of the lost stretch a lost
        row lies in, s; 0 elsewhere) and, ``with_orientation``, ``/q_world_sensor``."""
        t = self.t_s(k0, k1)
        out: dict[str, np.ndarray] = {"t_s": t}
        for p in self.placements:
            s = sensors[p].samples
            t_all = s.tail("t_s")
            # Only the samples from the one before the first instant on are needed.
            first = max(int(np.searchsorted(t_all, t[0], side="right")) - 1, 0) if t.size else 0
            n = len(s) - first
            t_src = s.tail("t_s", n)
            if t_src.size < 2:  # one sample only: hold it
                t_src = np.r_[t_src, t_src + 1.0 / self.rate_hz]
                n_rows = {name: np.repeat(s.tail(name, 1), 2, axis=0) for name in SENSOR_COLUMNS}
            else:
                n_rows = {name: s.tail(name, n) for name in SENSOR_COLUMNS}
            position = grid_position(t_src, t)
            out[f"{p.value}/acc_mps2"] = interp_vectors(t_src, n_rows["acc_mps2"], t, position)
            out[f"{p.value}/gyr_radps"] = interp_vectors(t_src, n_rows["gyr_radps"], t, position) - sensors[p].gyr_bias_radps
            if with_orientation:
                out[f"{p.value}/q_world_sensor"] = slerp_quats(t_src, n_rows["q_world_sensor"], t, position)
            # Inside a gap: between a sample and the next one that had samples lost before it
            # (as timebase.gap_mask), or past the last sample of a stalled sensor.
            i, _frac = position
            gap_after = np.r_[n_rows["n_lost_before"][1:] > 0, False]
            inside = (t > t_src[i]) & (t < t_src[np.minimum(i + 1, t_src.size - 1)])
            stalled = t > t_src[-1]
            lost = (gap_after[i] & inside) | stalled
            out[f"{p.value}/lost"] = lost
            # How long the lost stretch around each lost row is (known once the sample after it has
            # come: that is when its rows are ready); past a sensor's newest sample (rows released
            # without it, ``stall_s``), how long it has been silent by then.
            span_s = t_src[np.minimum(i + 1, t_src.size - 1)] - t_src[i]
            out[f"{p.value}/lost_s"] = np.where(stalled, t - t_src[-1], np.where(lost, span_s, 0.0))
        return out


def grid_history(placements: Collection[Placement], capacity: int) -> History:
    """A bounded history of :meth:`LiveGrid.rows` (with orientations)."""
    columns: dict[str, tuple[int, ...]] = {"t_s": ()}
    for p in placements:
        columns.update({f"{p.value}/acc_mps2": (3,), f"{p.value}/gyr_radps": (3,), f"{p.value}/q_world_sensor": (4,),
                        f"{p.value}/lost": (), f"{p.value}/lost_s": ()})
    return History(capacity, columns, {f"{p.value}/lost": np.bool_ for p in placements})
