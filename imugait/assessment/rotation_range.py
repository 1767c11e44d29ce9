"""Hip rotation range with the knee at 90°: the sweeps to the ends of the range, shared by the prone
and supine tests.

The rotation signal (femur internal rotation +, degrees) comes from each test's own calibration;
here the sweeps are found and checked: the knee near 90°, a sweep to each side beyond a minimum
excursion, and the end of the range held (the shin stopped there). Each end is the mean of the
repetitions that held it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from imugait.assessment.measures import runs
from imugait.assessment.result import Confidence, Metric, QualityIssue
from imugait.assessment.steps import Protocol
from imugait.conventions import Side
from imugait.timebase import sample_period_s


@dataclass(frozen=True)
class SweepConfig:
    """Engineering limits of a rotation-range test (not clinical thresholds)."""

    knee_target_deg: float = 90.0
    knee_tolerance_deg: float = 20.0
    """The knee counts as 'near 90°' within this."""
    min_sweep_knee_deg: float = 45.0
    """Samples with less knee flexion are not part of the sweep."""
    min_excursion_deg: float = 5.0
    """An excursion must go beyond this to count as a sweep to one side."""
    end_band_deg: float = 1.0
    end_hold_min_s: float = 1.2
    """The end of the range counts as reached when the shin stays within ``end_band_deg`` of its
    furthest point for this long (it stopped there)."""
    smoothing_s: float = 0.2
    max_sweep_sd_deg: float = 4.0
    """Repetitions agreeing within this (SD) give high confidence."""


@dataclass(frozen=True)
class SweepWords:
    """How a test's feedback names the position and the movement."""

    shin_at_90: str
    """e.g. 'points straight up' (prone), 'hangs straight down' (supine)."""
    move: str
    """e.g. 'let the shin fall slowly' (prone), 'turn the shin slowly' (supine)."""


def analyse_sweeps(
    protocol: Protocol, t_s: np.ndarray, rotation_deg: np.ndarray, knee_deg: np.ndarray, window: np.ndarray,
    side: Side, source: str, config: SweepConfig, words: SweepWords, capped: bool = False,
    rate_hz: float | None = None,
) -> tuple[list[Metric], list[QualityIssue]]:
    """Metrics ``<protocol>_internal_rotation_range_deg``, ``…_external_…`` and
    ``…_internal_minus_external_rotation_deg`` of one leg, and the quality issues.

    ``rotation_deg``, ``knee_deg``: (M,) on the grid ``t_s``; ``window``: (M,) bool, the leg's step;
    ``source``: which sensor the rotation comes from (for the metric's reference); ``capped``: the
    rotation carries a calibration error (confidence at most medium); ``rate_hz``: the grid's rate
    if known (measured from ``t_s`` otherwise).
    """
    name = protocol.value
    dt = sample_period_s(t_s, rate_hz)
    rotation = uniform_filter1d(rotation_deg, max(int(round(config.smoothing_s / dt)), 1), mode="nearest")
    active = window & (knee_deg >= config.min_sweep_knee_deg)
    if not active.any():
        return [], [QualityIssue(protocol, "knee_not_bent", f"{side.value} knee not bent — bend it until the shin "
                                 f"{words.shin_at_90}, then repeat", side)]
    issues = []
    upright = active & (np.abs(rotation) < 10.0)
    knee_upright = float(np.median(knee_deg[upright if upright.any() else active]))
    if abs(knee_upright - config.knee_target_deg) > config.knee_tolerance_deg:
        issues.append(QualityIssue(protocol, "knee_not_90", f"{side.value} knee not bent near 90° (it was "
                                   f"{knee_upright:.0f}°) — bend it until the shin {words.shin_at_90}, and repeat", side))
    metrics = []
    ranges = {}
    for direction, sign in (("internal", 1.0), ("external", -1.0)):
        peaks, held = [], []
        for a, b in runs(active & (sign * rotation > config.min_excursion_deg)):
            r = sign * rotation[a:b]
            peak = float(r.max())
            peaks.append(peak)
            held.append((r >= peak - config.end_band_deg).sum() * dt >= config.end_hold_min_s)
        word = "outward" if direction == "internal" else "inward"
        if not peaks:
            issues.append(QualityIssue(protocol, f"no_{direction}_sweep", f"{side.value} leg: no sweep to the end of "
                                       f"range detected ({word}) — {words.move} {word} as far as it goes", side))
            continue
        if not any(held):
            issues.append(QualityIssue(protocol, f"{direction}_end_not_held", f"{side.value} leg: the end of the "
                                       f"{word} range was not held — move slowly until the leg stops, pause 2 s there",
                                       side))
        use = [p for p, h in zip(peaks, held, strict=True) if h] or peaks
        sd = float(np.std(use, ddof=1)) if len(use) > 1 else float("nan")
        confidence = Confidence.HIGH if (any(held) and len(use) > 1 and sd <= config.max_sweep_sd_deg) else (
            Confidence.MEDIUM if any(held) else Confidence.LOW)
        if capped and confidence is Confidence.HIGH:
            confidence = Confidence.MEDIUM
        ranges[direction] = (float(np.mean(use)), len(use), confidence)
        metrics.append(Metric(protocol, f"{name}_{direction}_rotation_range_deg", side, float(np.mean(use)), len(use),
                              confidence, reference=f"shin vertical (from the {source} sensor)", sd=sd))
    if len(ranges) == 2:
        (vi, ni, ci), (ve, ne, ce) = ranges["internal"], ranges["external"]
        lowest = max((ci, ce), key=lambda c: list(Confidence).index(c))
        metrics.append(Metric(protocol, f"{name}_internal_minus_external_rotation_deg", side, vi - ve, min(ni, ne),
                              lowest, reference="internal range minus external range"))
    return metrics, issues


def principal_axis(gyr_radps: np.ndarray) -> np.ndarray:
    """(3,) unit axis about which (N, 3) angular rates mostly turn (sign arbitrary): the knee's
    flexion axis in the shank sensor's frame during knee bends."""
    _, vecs = np.linalg.eigh(gyr_radps.T @ gyr_radps)
    return vecs[:, -1]
