"""Feeding a filter samples interpolated between the recorded ones (an option for low rates).

At 25 Hz a swinging shank turns ~15° between samples; a filter integrates one rate per step and
corrects with one accelerometer sample per step. :func:`upsampled_inputs` puts ``factor - 1``
samples between every two recorded ones (shape-preserving cubic, PCHIP, per axis), so the filter
steps at ``factor`` times the rate; the caller keeps every ``factor``-th orientation (the
recorded instants). Offline only: the interpolation needs the next sample.

A gyroscope sample that is the rate at its instant (``GyroSampling.INSTANT``) is interpolated at
the instants; one that is the mean over the interval before it (``INTERVAL_MEAN``) stands at the
interval's middle. Either way the fine samples are rates at their instants (``INSTANT``).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import PchipInterpolator

from imugait.errors import ValidationError
from imugait.model import GyroSampling


def upsample_factor(sample_period_s: float, upsample_hz: float | None) -> int:
    """How many filter steps per recorded sample reach at least ``upsample_hz`` (Hz); 1 (none)
    when None or when the data is already that fast."""
    if upsample_hz is None:
        return 1
    if not (isinstance(upsample_hz, int | float) and math.isfinite(upsample_hz) and upsample_hz > 0):
        raise ValidationError(f"upsample_hz must be a positive rate in Hz or None, got {upsample_hz!r}")
    return max(1, math.ceil(upsample_hz * sample_period_s - 1e-9))


def upsampled_inputs(gyr_radps: np.ndarray, acc_mps2: np.ndarray, mag_uT: np.ndarray | None, factor: int,
                     gyr_sampling: GyroSampling) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(gyr, acc, mag) at ``factor`` times the rate: ``(N - 1) * factor + 1`` rows, recorded sample
    ``i`` at row ``i * factor``; (N, 3) arrays in, sensor frame, units kept. The gyroscope rows
    are rates at their instants (feed them as ``GyroSampling.INSTANT``)."""
    n = gyr_radps.shape[0]
    fine = np.arange((n - 1) * factor + 1) / factor  # in recorded samples
    at = np.arange(n, dtype=np.float64)
    if n < 2:  # one sample: nothing between
        return gyr_radps, acc_mps2, mag_uT
    gyr_at = at - 0.5 if gyr_sampling is GyroSampling.INTERVAL_MEAN else at
    gyr = PchipInterpolator(gyr_at, gyr_radps, axis=0, extrapolate=True)(fine)
    acc = PchipInterpolator(at, acc_mps2, axis=0)(fine)
    mag = None if mag_uT is None else PchipInterpolator(at, mag_uT, axis=0)(fine)
    return gyr, acc, mag
