"""Fuse every sensor of a session and put all of them on one time grid.

Each sensor is fused at its own sample instants (the filters assume its own uniform rate), then
orientations are slerped and rates/accelerations interpolated onto a common grid, and the grid
samples that fall in a sensor's lost-sample gap are marked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.calibration.recording import LegRecording
from imugait.conventions import Placement, Segment, Side
from imugait.fusion.select import orient_stream
from imugait.fusion.settings import FilterKind, FilterTuning
from imugait.heap import reuse_freed_blocks
from imugait.model import GyroSampling, Session
from imugait.timebase import (
    common_grid,
    gap_mask,
    grid_position,
    grid_rate_hz,
    interp_vectors,
    sample_period_s,
    slerp_quats,
)


@dataclass(frozen=True, eq=False)
class SensorOnGrid:
    """One sensor on the common grid: ``q_world_sensor`` (M, 4) scalar first (its own world:
    heading arbitrary in 6-axis mode), ``gyr_radps`` and ``acc_mps2`` (M, 3) sensor frame,
    ``lost`` (M,) bool — inside a lost-sample gap; ``gyr_sampling`` what a gyroscope sample of its
    device stands for in time, for fusing its rows again (interpolated rates at instants are rates at
    the grid's instants; interval means stay those of the device's interval)."""

    q_world_sensor: np.ndarray
    gyr_radps: np.ndarray
    acc_mps2: np.ndarray
    lost: np.ndarray
    gyr_sampling: GyroSampling = GyroSampling.INSTANT


@dataclass(frozen=True, eq=False)
class FusedSession:
    """All sensors of a session fused and resampled: ``t_s`` (M,), one :class:`SensorOnGrid` each;
    ``first_row``: the index of ``t_s[0]`` in the grid these rows were cut from (0: the whole grid;
    :attr:`~imugait.calibration.recording.LegRecording.first_row`)."""

    t_s: np.ndarray
    sensors: dict[Placement, SensorOnGrid]
    rate_hz: float
    filter_kind: FilterKind
    first_row: int = 0

    def leg(self, side: Side) -> LegRecording:
        """The thigh and shank sensors of ``side`` as one :class:`LegRecording` on this grid."""
        a = self.sensors[Placement.of(Segment.THIGH, side)]
        b = self.sensors[Placement.of(Segment.SHANK, side)]
        return LegRecording(self.t_s, a.q_world_sensor, b.q_world_sensor, a.gyr_radps, b.gyr_radps, a.acc_mps2,
                            b.acc_mps2, self.rate_hz, self.first_row)

    def window(self, mask: np.ndarray, placement: Placement) -> SensorOnGrid:
        s = self.sensors[placement]
        return SensorOnGrid(s.q_world_sensor[mask], s.gyr_radps[mask], s.acc_mps2[mask], s.lost[mask], s.gyr_sampling)


def fuse_session(
    session: Session,
    kind: FilterKind = FilterKind.VQF_OFFLINE,
    t_s: np.ndarray | None = None,
    gyr_bias_radps: dict[Placement, np.ndarray] | None = None,
    use_magnetometer: bool = False,
    rate_hz: float | None = None,
    tuning: FilterTuning | None = None,
    upsample_hz: float | None = None,
) -> FusedSession:
    """Fuse each stream of ``session`` with ``kind`` (6-axis unless ``use_magnetometer``) and
    resample all onto ``t_s``
    (default: :func:`~imugait.timebase.common_grid`).

    ``gyr_bias_radps`` (3,) per placement, sensor frame, is subtracted from the gyroscope first
    (e.g. measured while standing still): a filter that never sees the sensor at rest cannot
    learn a large bias itself, and its heading then drifts. ``rate_hz``: the grid's rate — of
    ``t_s`` when given (measured from it when not), else the common grid's (default: the highest
    nominal rate); the result carries it (:attr:`FusedSession.rate_hz`).
    ``tuning``: of ``kind`` (None: the filter's defaults). ``upsample_hz``: the filters of streams
    slower than this step at about this rate on interpolated samples
    (:func:`~imugait.fusion.select.orient_stream`; None: off).

    Every filter runs before any sensor is put on the grid: a filter's own buffers (the offline
    VQF's are ≈ 160 MB for an hour at 200 Hz) are then the largest thing alive, not added to every
    sensor's grid arrays (the peak memory of an analysis, docs/benchmarks.md).
    """
    if t_s is None:
        rate_hz = grid_rate_hz(session.streams, rate_hz)
        t = common_grid(session.streams, rate_hz)
    else:
        t = t_s
        rate_hz = rate_hz or 1.0 / sample_period_s(t_s)
    biases = gyr_bias_radps or {}
    q_at_samples = {}
    # One filter's freed buffers are the next one's (the same sizes): kept in the heap for it, not
    # handed back and faulted in again (a third of the filters' system time; no higher peak).
    reuse_freed_blocks()
    for placement, stream in session.items():
        q_at_samples[placement] = orient_stream(stream, kind=kind, use_magnetometer=use_magnetometer,
                                                gyr_bias_radps=biases.get(placement), tuning=tuning,
                                                upsample_hz=upsample_hz).q_world_sensor
    sensors = {}
    for placement, stream in session.items():
        position = grid_position(stream.t_s, t)
        gyr = interp_vectors(stream.t_s, stream.gyr_radps, t, position)
        bias = biases.get(placement)
        if bias is not None:
            gyr -= bias
        sensors[placement] = SensorOnGrid(
            q_world_sensor=slerp_quats(stream.t_s, q_at_samples.pop(placement), t, position), gyr_radps=gyr,
            acc_mps2=interp_vectors(stream.t_s, stream.acc_mps2, t, position), lost=gap_mask(stream, t),
            gyr_sampling=stream.device.gyr_sampling,
        )
    return FusedSession(t_s=t, sensors=sensors, rate_hz=float(rate_hz), filter_kind=kind)
