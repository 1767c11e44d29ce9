"""Clipped samples: a sensor that reads at its full-scale range lost the part of the signal beyond it.

Offline (:func:`~imugait.analysis.pipeline.analyze_session`) and live (:mod:`imugait.live.grid`)
flag the grid rows the same way, with the range the device declares
(:attr:`~imugait.model.DeviceInfo.gyr_range_radps`, a decoder's announcement); without a declared
range nothing is flagged (a range is never guessed).
"""

from __future__ import annotations

import numpy as np

CLIP_FRACTION = 0.98
"""A sample within this fraction of a sensor's full-scale range counts as clipped.

Only a clipped **gyroscope** excludes a stride: the orientation integrates the rate, so a lost
peak is a lasting error. A clipped **accelerometer** (heel-strike impacts on a ±2 g sensor) is
reported but excludes nothing: the fusion uses the accelerometer only through a correction slow
against an impact (VQF's accelerometer low-pass, seconds), and during an impact it measures the
impact, not gravity, anyway. On the simulator, clipping 5–17 % of the shank accelerometer samples
at ±1.5 / ±1.2 g changed knee-flexion and hip-rotation RMSE by under 0.3° (docs/analysis.md)."""


def at_range(values: np.ndarray, full_scale: float | None) -> np.ndarray:
    """(M,) bool: rows of ``values`` (M, 3) — on the grid, in the sensor's unit — with a component
    within :data:`CLIP_FRACTION` of ``full_scale`` (the same unit; None or 0: unknown, no row)."""
    if not full_scale:
        return np.zeros(values.shape[0], dtype=bool)
    limit = CLIP_FRACTION * full_scale
    if values.size and values.max() < limit and values.min() > -limit:
        return np.zeros(values.shape[0], dtype=bool)  # (the common case: two passes, no masks)
    # Column by column: a row-wise max over three values is several times slower than this.
    out = np.abs(values[:, 0]) >= limit
    for k in range(1, values.shape[1]):
        out |= np.abs(values[:, k]) >= limit
    return out
