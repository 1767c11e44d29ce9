"""A live run's anatomical reference as the rows come: the first still standing period that has
ended — or, when the person walks without standing, how long they have walked (the wait before
the legs are calibrated against mid-stance instead) and whether they have stopped after a short walk
(the end of a pass)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from imugait.calibration.periods import PeriodConfig, motion_mask, standing_mask
from imugait.calibration.still import StillConfig, still_mask
from imugait.conventions import Placement, Segment, Side
from imugait.errors import CalibrationError
from imugait.live.reseed import stride_period_s
from imugait.model import ProtocolStep

LIVE_STANDING_STEP = "stand (found live)"
"""The step of a still period long enough to be trimmed as a named standing step."""
LIVE_STILL_STEP = "still (found live)"
"""The step of a shorter still period (at least ``min_standing_s``), used untrimmed — as offline
uses a still period it finds itself (no step named ``stand…``): not a named standing step."""

WALK_RHYTHM_SMOOTH_S = 0.2
"""The shank rate's magnitude is averaged over this long (s) before the end of a pass looks for a
stride rhythm in it (:func:`pass_ended`). Raw, the impact spikes of the MPU-9250 shanks left two
clear 10-m walks (NO.6/left/IMU_0, NO.6/right/IMU_0) at an autocorrelation of 0.48–0.50, under the
0.5 a walk needs, and they were never calibrated live (``analyze``: 6 of 8 and 6 of 7 strides
used); averaged, every leg of the real walks (76) is at 0.65 or more and the qmt recording's moves
to a chair (not a walk) at 0.29–0.39 (raw 0.24–0.38): ``benchmarks/walk_rhythm.py``; docs/live-history.md,
"Foot-impact spikes and the end of a pass"."""


@dataclass(frozen=True, eq=False)
class LiveStanding:
    """The standing reference: its step (session clock), grid rows ``k`` = [k0, k1), ``mask``
    (k1 - k0,) bool of the rows used (:func:`~imugait.calibration.periods.standing_mask`), and every
    sensor's mean gyroscope rate over them (rad/s, (3,))."""

    step: ProtocolStep
    k: tuple[int, int]
    mask: np.ndarray
    gyr_bias_radps: dict[Placement, np.ndarray]


def find_standing(rows: Mapping[str, np.ndarray], k0: int, placements: Sequence[Placement], rate_hz: float,
                  periods: PeriodConfig) -> LiveStanding | None:
    """The first still period of all sensors in ``rows`` (grid rows from ``k0``: ``t_s`` and every
    sensor's ``<placement>/acc_mps2``, ``<placement>/gyr_radps``) that has ended — the person moved
    on, a motion window ago — as :func:`~imugait.calibration.periods.standing_mask` takes it offline:
    handed to it as a named step (trimmed at both ends) when long enough for that, else — a still
    moment of at least ``min_standing_s`` before a walk, as at the start line of a 10-m walk test —
    as the still period it finds without a named step (untrimmed; step :data:`LIVE_STILL_STEP`).
    None when there is none yet."""
    t = rows["t_s"]
    raw = [(rows[f"{p.value}/acc_mps2"], rows[f"{p.value}/gyr_radps"]) for p in placements]
    still = np.logical_and.reduce([still_mask(t, acc, gyr, StillConfig(), rate_hz) for acc, gyr in raw])
    dt = 1.0 / rate_hz
    n_need = int(np.ceil((periods.min_standing_s + 2 * periods.standing_trim_s) / dt))
    n_min = int(np.ceil(periods.min_standing_s / dt))
    n_settle = int(np.ceil(periods.motion_window_s / dt))
    edges = np.diff(np.r_[0, still.astype(np.int8), 0])
    for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if stop - start < n_min or stop > t.size - n_settle:
            continue
        try:
            if stop - start >= n_need:
                step = ProtocolStep(LIVE_STANDING_STEP, float(t[start]), float(t[stop - 1]))
                standing = standing_mask(t, raw, [step], periods, rate_hz)
            else:  # the rows up to a motion window after it: this is their longest still period
                step = ProtocolStep(LIVE_STILL_STEP, float(t[start]), float(t[stop - 1]))
                n = stop + n_settle
                standing = np.zeros(t.size, dtype=bool)
                standing[:n] = standing_mask(t[:n], [(acc[:n], gyr[:n]) for acc, gyr in raw], (), periods, rate_hz)
        except CalibrationError:
            continue
        rows_used = np.flatnonzero(standing)
        i0, i1 = int(rows_used[0]), int(rows_used[-1]) + 1
        bias = {p: np.mean(gyr[standing], axis=0) for p, (_acc, gyr) in zip(placements, raw, strict=True)}
        return LiveStanding(step, (k0 + i0, k0 + i1), standing[i0:i1], bias)
    return None


def final_rows(n: int, rate_hz: float, periods: PeriodConfig) -> int:
    """Of ``n`` rows, how many have their whole centred motion window (the newest half window's do not)."""
    return n - int(np.ceil(0.5 * periods.motion_window_s / (1.0 / rate_hz)))


def final_motion(t_s: np.ndarray, gyr_shank_radps: np.ndarray, rate_hz: float, periods: PeriodConfig,
                 ended: bool = False) -> np.ndarray:
    """(n,) bool: a shank's motion mask (:func:`~imugait.calibration.periods.motion_mask`) over the
    rows ``t_s`` (M,) whose motion window has come (the first ``n`` ≤ M) — all of them when the
    stream has ``ended`` (the windows cut at its end, as offline at a recording's end)."""
    n_final = t_s.size if ended else final_rows(t_s.size, rate_hz, periods)
    if n_final <= 0:
        return np.zeros(0, dtype=bool)
    return motion_mask(t_s, gyr_shank_radps, periods, rate_hz)[:n_final]


def walked_s(rows: Mapping[str, np.ndarray], sides: Sequence[Side], rate_hz: float, periods: PeriodConfig,
             ended: bool = False) -> float:
    """The least knee motion (s) of the legs ``sides`` in ``rows`` (their shanks' motion mask, rows
    whose motion window has come only — every row when the stream has ``ended``)."""
    return min(float(_final_motion_of(rows, side, rate_hz, periods, ended).sum()) * (1.0 / rate_hz) for side in sides)


def pass_ended(t_s: np.ndarray, gyr_shank_radps: np.ndarray, final: np.ndarray, rate_hz: float, min_walk_s: float,
               still_s: float) -> bool:
    """Whether a leg's walk has just ended: over the rows ``t_s`` (M,) with its shank's gyroscope
    ``gyr_shank_radps`` (M, 3) and final motion ``final`` (n ≤ M,) bool (:func:`final_motion`),
    the motion lasted at least ``min_walk_s``, was walking (periodic:
    :func:`~imugait.live.reseed.stride_period_s` finds a stride in its rows, their magnitude averaged
    over :data:`WALK_RHYTHM_SMOOTH_S` — sitting down or fidgeting is not) and has been followed by ``still_s`` without motion (the person stopped: the
    end of a pass, e.g. of a 10-m walk test)."""
    dt = 1.0 / rate_hz
    n_still = int(np.ceil(still_s / dt))
    if final.size < n_still or final[final.size - n_still:].any() or np.count_nonzero(final) * dt < min_walk_s:
        return False
    return stride_period_s(t_s[:final.size][final], gyr_shank_radps[:final.size][final],
                           smooth_s=WALK_RHYTHM_SMOOTH_S) is not None


def passes_ended(rows: Mapping[str, np.ndarray], sides: Sequence[Side], rate_hz: float, periods: PeriodConfig,
                 min_walk_s: float, still_s: float, ended: bool = False) -> bool:
    """:func:`pass_ended` for every leg of ``sides`` in ``rows`` (as :func:`walked_s`); when the
    stream has ``ended``, every row is final and no stillness is waited for."""
    t = rows["t_s"]
    return all(pass_ended(t, rows[_shank(side)], _final_motion_of(rows, side, rate_hz, periods, ended), rate_hz,
                          min_walk_s, 0.0 if ended else still_s) for side in sides)


def _shank(side: Side) -> str:
    return f"{Placement.of(Segment.SHANK, side).value}/gyr_radps"


def _final_motion_of(rows: Mapping[str, np.ndarray], side: Side, rate_hz: float, periods: PeriodConfig,
                     ended: bool = False) -> np.ndarray:
    return final_motion(rows["t_s"], rows[_shank(side)], rate_hz, periods, ended)
