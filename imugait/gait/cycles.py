"""Strides from events: segmentation, exclusion with a reason, and time normalisation.

A stride runs from one initial contact to the next of the same leg; its toe-off is the one before
the mid-swing between them. A stride is used only when it lies inside a straight walking bout and
is steady (the first and last of a bout only when their duration and swing are the bout's — in a
bout too short for a median, the leg's), has a plausible duration, and its data are good (few lost
samples, no clipping, no long lost-sample gap near it). Excluded strides keep their reason: they are
reported, never averaged in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from imugait.gait.events import LegEvents
from imugait.timebase import sample_period_s, spans_mask

N_NORMALISED = 101
"""Points of a time-normalised cycle (0, 1, …, 100 % of the stride)."""

LONG_GAP_S = 0.09
"""A lost-sample gap longer than this (s) leaves the fused orientation off around it, not only in
its own stride: the filter is fed samples interpolated across the gap (``orient_stream``), a
straight line that misses the rotation there, and offline VQF carries the error forwards and
backwards in time. Measured on the simulated cohort (walkers w000–w019 at 60 Hz with the
soft-tissue artefact; gaps cut into lossless recordings at the thigh's and shank's swing peaks and
at random instants, fused with and without them): the shank's added inclination error, at its
largest on either side, has a median of 0.48° for 67-ms gaps, 0.92° for 83 ms and 1.38° for 100 ms
(w020–w039: 0.60° at 67 ms, 1.67° at 100 ms) — from about 90 ms on a gap typically costs more than
1°. Details: docs/accuracy.md."""

GAP_MARGIN_FACTOR = 40.0
"""Strides within this many times a long gap's duration of it (either side; at most
:data:`GAP_MARGIN_MAX_S`) are excluded (``Exclusion.NEAR_LONG_GAP``): a 233-ms gap excludes those
within 9.3 s. Same measurement: the inclination was back within 1° of the gapless fusion on both
sides within 40 × the gap's duration for 98.9 % of the gaps of 100–333 ms (95th percentile 32 ×;
w020–w039: 98.1 %)."""

GAP_MARGIN_MAX_S = 12.0
"""The margin's longest (s): after gaps of 0.5–1.5 s the inclination was back within 1° after
9.4–11.6 s (95th percentile; VQF's accelerometer correction, not the gap, sets the pace then)."""


class Exclusion(Enum):
    """Why a stride is not used (``NONE``: it is used)."""

    NONE = ""
    NOT_IN_BOUT = "not inside a straight walking bout (turn, standing or start/stop)"
    BOUT_EDGE = "first or last stride of a bout, not yet steady"
    MISSING_EVENT = "toe-off not found"
    IRREGULAR = "stride time far from the bout's median"
    LOST_SAMPLES = "too many lost samples"
    NEAR_LONG_GAP = ("near a long lost-sample gap (the fused orientation is off around it: the filter could not "
                     "follow the rotation during the gap)")
    CLIPPED = "sensor range exceeded (clipped data)"
    IMPLAUSIBLE_KNEE_FLEXION = "knee flexion beyond what walking produces (a sensor moved or a wrong calibration)"
    IMPLAUSIBLE_KNEE_ADDUCTION = "knee ab/adduction swings like flexion (a wrong knee axis)"
    IMPLAUSIBLE_HIP_ROTATION = "femur rotation beyond the hip's range of motion"
    IMPLAUSIBLE_KNEE_ROTATION = ("knee rotation in stance beyond the knee's range of motion (a thigh or shank frame "
                                 "turned about its long axis: a wrong calibration or a sensor turned on its strap)")
    HIP_ROTATION_OUTLIER = "femur rotation far from the leg's other strides"
    KNEE_TIMING_OUTLIER = ("thigh and shank out of step with the leg's other strides (the two sensors' clocks "
                           "slipped apart: knee angles unreliable)")

    @property
    def implausible(self) -> bool:
        """The stride's values are not walking (:mod:`imugait.gait.plausibility`)."""
        return self in _IMPLAUSIBLE


_IMPLAUSIBLE = frozenset({Exclusion.IMPLAUSIBLE_KNEE_FLEXION, Exclusion.IMPLAUSIBLE_KNEE_ADDUCTION,
                          Exclusion.IMPLAUSIBLE_HIP_ROTATION, Exclusion.IMPLAUSIBLE_KNEE_ROTATION,
                          Exclusion.HIP_ROTATION_OUTLIER,
                          Exclusion.KNEE_TIMING_OUTLIER})


@dataclass(frozen=True)
class StrideConfig:
    min_stride_s: float = 0.6
    max_stride_s: float = 2.5
    max_relative_deviation: float = 0.3
    """Strides whose duration differs from the bout median by more than this fraction."""
    max_edge_deviation: float = 0.1
    """The first and last strides of a bout (from standing or a turn, into a stop or a turn) are
    used only when their duration and their shank's forward swing rate are both within this
    fraction of the bout's medians: a clinical 10-m pass has only 4–8 strides per leg, too few to
    drop two unseen. Gait started from standing reaches its steady state within the first step
    (Brenière & Do 1986, J Biomech 19:1035); an edge stride that still speeds up or slows down
    shows it in a shorter or weaker swing. Engineering limit."""
    max_bout_overhang: float = 0.1
    """A stride may reach this fraction of its duration past its bout's ends: a bout ends a margin
    before a turn (``ProgressionConfig.turn_margin_s``) and a stride that only touches that margin
    counts to the bout, as an edge stride judged by its steadiness. Engineering limit."""
    min_bout_strides_for_edges: int = 4
    """Edge strides are judged against their bout's medians in bouts of at least this many strides
    (a median of fewer says little). In a shorter bout — a short clinical walk, whose one straight
    bout may hold 2–3 strides a leg — they are judged against the medians of all the leg's strides
    in the recording (those into turns and stops too) when there are at least this many, and left
    out otherwise: a 5.7-s walk of 3–4 strides a leg (``benchmarks/data/kiel_pp054``) used none."""
    max_lost_fraction: float = 0.1
    """Short gaps are bridged well (fusion integrates across them, angles are interpolated) …"""
    max_gap_s: float = 0.06
    """… but a stride with a gap longer than this loses its peaks and events: excluded."""
    long_gap_s: float = LONG_GAP_S
    """A gap longer than this (s) also excludes the strides near it (:data:`LONG_GAP_S`): those
    within ``gap_margin_factor`` × its duration of it, either side, at most ``gap_margin_max_s``
    (:data:`GAP_MARGIN_FACTOR`, :data:`GAP_MARGIN_MAX_S`)."""
    gap_margin_factor: float = GAP_MARGIN_FACTOR
    gap_margin_max_s: float = GAP_MARGIN_MAX_S


@dataclass(frozen=True)
class Stride:
    t_initial_contact_s: float
    t_toe_off_s: float
    t_next_initial_contact_s: float
    exclusion: Exclusion
    swing_peak_radps: float = float("nan")
    """The shank's forward swing rate at this stride's mid-swing."""

    @property
    def used(self) -> bool:
        return self.exclusion is Exclusion.NONE

    @property
    def stride_time_s(self) -> float:
        return self.t_next_initial_contact_s - self.t_initial_contact_s


def segment_strides(
    t_s: np.ndarray,
    events: LegEvents,
    bout_id: np.ndarray,
    lost: np.ndarray,
    clipped: np.ndarray,
    config: StrideConfig | None = None,
    open_end: bool = False,
    rate_hz: float | None = None,
    gap_lost: np.ndarray | None = None,
) -> list[Stride]:
    """Strides of one leg.

    Parameters
    ----------
    t_s : (M,) grid, s. events : the leg's events.
    bout_id : (M,) int, index of the straight bout a sample belongs to, -1 outside bouts.
    lost, clipped : (M,) bool per sample (any of the leg's sensors).
    open_end : the causal (live) variant: the data end while the person may still be walking, so
        the last stride of the last bout is judged as an inner stride (duration against the bout's
        median), not as the bout's last; offline every bout has ended.
    rate_hz : the grid's sample rate if known (measured from ``t_s`` otherwise, when a stride has
        lost samples).
    gap_lost : (M,) bool, the lost samples whose long runs also exclude the strides near them
        (:func:`near_long_gaps`); None: ``lost`` (live passes its rows without angles in ``lost``,
        which are no lost-sample gap).
    """
    config = config or StrideConfig()
    ic = events.initial_contact_s
    to = events.toe_off_s
    strides, bouts = [], []
    # Grid index of every contact, and running counts of lost and clipped samples: each stride's
    # share of them is a difference of two counts, not a pass over its samples.
    at = np.searchsorted(t_s, ic)
    n_lost = np.r_[0, np.cumsum(lost, dtype=np.int64)]
    n_near_gap = np.r_[0, np.cumsum(near_long_gaps(t_s, lost if gap_lost is None else gap_lost, config, rate_hz), dtype=np.int64)]
    n_clipped = np.r_[0, np.cumsum(clipped, dtype=np.int64)]
    stride_bouts = _stride_bouts(bout_id, at[:-1], at[1:], config.max_bout_overhang)
    for k in range(len(ic) - 1):
        t0, t1 = ic[k], ic[k + 1]
        if not (np.isfinite(t0) and np.isfinite(t1)):
            continue
        duration = t1 - t0
        if not (config.min_stride_s <= duration <= config.max_stride_s):
            continue  # not a stride at all: the leg stopped or an event was missed
        i0, i1 = int(at[k]), int(at[k + 1])
        stride_lost = int(n_lost[i1] - n_lost[i0])
        bout = int(stride_bouts[k])
        if bout < 0:
            reason = Exclusion.NOT_IN_BOUT
        elif not np.isfinite(to[k + 1]):
            reason = Exclusion.MISSING_EVENT
        elif (stride_lost / max(i1 - i0, 1) > config.max_lost_fraction
              or (_longest_run(lost[i0:i1]) * sample_period_s(t_s, rate_hz) if stride_lost else 0.0) > config.max_gap_s):
            reason = Exclusion.LOST_SAMPLES
        elif n_near_gap[i1] > n_near_gap[i0]:
            reason = Exclusion.NEAR_LONG_GAP
        elif n_clipped[i1] > n_clipped[i0]:
            reason = Exclusion.CLIPPED
        else:
            reason = Exclusion.NONE
        peak = float(events.mid_swing_peak_radps[k + 1]) if events.mid_swing_peak_radps is not None else np.nan
        strides.append(Stride(float(t0), float(to[k + 1]), float(t1), reason, peak))
        bouts.append(bout)
    _mark_bout_edges_and_irregular(strides, bouts, config, open_bout=bouts[-1] if open_end and bouts else None)
    return strides


def _stride_bouts(bout_id: np.ndarray, i0: np.ndarray, i1: np.ndarray, max_overhang: float) -> np.ndarray:
    """For the spans ``[i0, i1)`` (K,) of the grid: the bout their samples (``bout_id`` (M,), -1
    outside bouts) belong to, or -1 — one bout only, at most ``max_overhang`` of them outside it.
    All spans at once: counts from a running sum, the smallest and largest id by ``reduceat``."""
    out = np.full(i0.size, -1, dtype=np.int64)
    ok = i1 > i0
    if not ok.any():
        return out
    a, b = i0[ok], i1[ok]
    ids = np.r_[bout_id, -1]  # i1 may be the grid's length
    n_inside = np.r_[0, np.cumsum(bout_id >= 0, dtype=np.int64)]
    bounds = np.column_stack([a, b]).ravel()
    largest = np.maximum.reduceat(ids, bounds)[::2]
    smallest = np.minimum.reduceat(np.where(ids >= 0, ids, np.iinfo(np.int64).max), bounds)[::2]
    inside = n_inside[b] - n_inside[a]
    one = (inside > 0) & (smallest == largest) & ~(1.0 - inside / (b - a) > max_overhang)
    out[np.flatnonzero(ok)[one]] = largest[one]
    return out


def near_long_gaps(t_s: np.ndarray, lost: np.ndarray, config: StrideConfig, rate_hz: float | None = None) -> np.ndarray:
    """(M,) bool: the samples of the grid ``t_s`` (M,) s near a run of ``lost`` (M,) bool longer
    than ``config.long_gap_s`` — within ``config.gap_margin_factor`` × its duration of it, at most
    ``config.gap_margin_max_s`` — and the run's own samples. A run of *m* grid rows is a gap of
    *m* − 1 rows' duration: the lost samples' own duration, as :data:`LONG_GAP_S` was measured."""
    out = np.zeros(t_s.size, dtype=bool)
    if not lost.any():
        return out
    edges = np.diff(np.r_[0, lost.astype(np.int8), 0])
    start, stop = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    # A sensor's n lost samples leave a hole of n + 1 of its periods between the samples received;
    # the grid rows strictly inside it (``gap_mask``) span n of its periods less one grid row:
    # a run of m rows is a gap of (m - 1) rows' duration (n samples at the grid's rate).
    duration_s = (stop - start - 1) * sample_period_s(t_s, rate_hz)
    long = duration_s > config.long_gap_s
    if not long.any():
        return out
    margin_s = np.minimum(config.gap_margin_factor * duration_s[long], config.gap_margin_max_s)
    lo = np.searchsorted(t_s, t_s[start[long]] - margin_s, side="left")
    hi = np.searchsorted(t_s, t_s[stop[long] - 1] + margin_s, side="right")
    return spans_mask(t_s.size, lo, hi)


def _longest_run(mask: np.ndarray) -> int:
    """The number of samples in the longest run of True in ``mask``."""
    if not mask.any():
        return 0
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return int(runs.max())


def _mark_bout_edges_and_irregular(strides: list[Stride], bouts: list[int], config: StrideConfig,
                                   open_bout: int | None = None) -> None:
    by_bout: dict[int, list[int]] = {}
    for i, (s, b) in enumerate(zip(strides, bouts, strict=True)):
        if s.exclusion is not Exclusion.NOT_IN_BOUT:
            by_bout.setdefault(b, []).append(i)
    for bout, members in by_bout.items():
        last_is_edge = bout != open_bout
        median = np.median([strides[i].stride_time_s for i in members])
        # The steady stride an edge stride is judged against: its bout's, or in a short bout the leg's.
        short = len(members) < config.min_bout_strides_for_edges
        pool = strides if short else [strides[i] for i in members]
        edge_median = np.median([p.stride_time_s for p in pool])
        edge_median_peak = np.median([p.swing_peak_radps for p in pool])
        for rank, i in enumerate(members):
            s = strides[i]
            if not s.used:
                continue
            deviation = abs(s.stride_time_s - median) / median
            if rank == 0 or (rank == len(members) - 1 and last_is_edge):
                edge_deviation = abs(s.stride_time_s - edge_median) / edge_median
                peak_deviation = abs(s.swing_peak_radps - edge_median_peak) / edge_median_peak
                if (len(pool) < config.min_bout_strides_for_edges or edge_deviation > config.max_edge_deviation
                        or not peak_deviation <= config.max_edge_deviation):
                    strides[i] = _excluded(s, Exclusion.BOUT_EDGE)
            elif deviation > config.max_relative_deviation:
                strides[i] = _excluded(s, Exclusion.IRREGULAR)


def _excluded(s: Stride, reason: Exclusion) -> Stride:
    return replace(s, exclusion=reason)


def time_normalise(t_s: np.ndarray, values: np.ndarray, t_start_s: float, t_end_s: float) -> np.ndarray:
    """Values (M,) or (M, K) resampled to :data:`N_NORMALISED` points from ``t_start_s`` to
    ``t_end_s`` (0–100 % of the cycle), linear interpolation."""
    grid = np.linspace(t_start_s, t_end_s, N_NORMALISED)
    # Only the stride's own samples (and one either side) take part: linear in the recording.
    i0 = max(int(np.searchsorted(t_s, t_start_s)) - 1, 0)
    i1 = min(int(np.searchsorted(t_s, t_end_s)) + 1, len(t_s))
    t_s = t_s[i0:i1]
    values = np.asarray(values[i0:i1], dtype=float)
    if values.ndim == 1:
        return np.interp(grid, t_s, values)
    return np.column_stack([np.interp(grid, t_s, values[:, k]) for k in range(values.shape[1])])
