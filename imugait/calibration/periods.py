"""Which parts of a recording calibrate a leg: upright standing, and knee motion.

Standing comes from the session's protocol steps when one is named ``stand…`` (trimmed and
checked for stillness), else from the longest stretch in which every given sensor is still.
Motion is where the shank turns fast enough (walking, knee bends).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import uniform_filter1d

from imugait.calibration.still import StillConfig, still_mask
from imugait.errors import CalibrationError
from imugait.model import ProtocolStep
from imugait.timebase import sample_period_s


@dataclass(frozen=True)
class PeriodConfig:
    min_standing_s: float = 1.0
    standing_trim_s: float = 0.5
    """Trimmed from both ends of an annotated standing step (people settle, then start moving)."""
    motion_window_s: float = 1.0
    motion_rms_min_radps: float = 1.0
    """Moving RMS of the shank's angular rate above which the leg is in motion."""


def standing_mask(
    t_s: np.ndarray,
    sensors: Iterable[tuple[np.ndarray, np.ndarray]] | Callable[[int], Iterable[tuple[np.ndarray, np.ndarray]]],
    steps: Sequence[ProtocolStep] = (),
    config: PeriodConfig | None = None,
    rate_hz: float | None = None,
) -> np.ndarray:
    """(M,) bool over ``t_s``: samples of upright standing in which every sensor is still.

    ``sensors`` holds ``(acc_mps2, gyr_radps)`` pairs (M, 3) of the sensors that must be still,
    taken one at a time (a generator keeps only one sensor's pair alive) — or is a function
    ``n ↦ pairs`` giving them over the first ``n`` samples of ``t_s`` only: then, when ``steps``
    name a standing period, the still test runs only up to the end of the first one (it is
    usually at the start; the test's windows and running sums there are the same as over the
    whole grid, so is the result), and over the whole grid only when that step is not still
    enough. ``rate_hz`` the grid's rate if known (measured from ``t_s`` otherwise).
    """
    config = config or PeriodConfig()
    period_s = sample_period_s(t_s, rate_hz)
    named = [step for step in steps if step.name.lower().startswith("stand")]
    if callable(sensors) and named:
        # Enough grid for the centred windows of every sample of the first named step.
        window = StillConfig().window_samples(1.0 / period_s)
        n = min(int(np.searchsorted(t_s, named[0].t_end_s - config.standing_trim_s, side="right")) + window + 1, t_s.size)
        still = np.zeros(t_s.shape, dtype=bool)
        still[:n] = _still(t_s[:n], sensors(n), period_s)
        chosen = _named_standing(t_s, still, named[:1], config, period_s)
        if chosen is not None:
            return chosen
    still = _still(t_s, sensors(t_s.size) if callable(sensors) else sensors, period_s)
    chosen = _named_standing(t_s, still, named, config, period_s)
    if chosen is not None:
        return chosen
    best = _longest_run(still)
    if best.sum() * period_s < config.min_standing_s:
        raise CalibrationError(
            f"no still standing period of at least {config.min_standing_s:g} s was found: stand "
            f"upright and still for a few seconds before walking"
        )
    return best


def _still(t_s: np.ndarray, sensors: Iterable[tuple[np.ndarray, np.ndarray]], period_s: float) -> np.ndarray:
    """(M,) bool: every sensor's ``(acc_mps2, gyr_radps)`` (M, 3) still over ``t_s`` (M,)."""
    still = np.ones(t_s.shape, dtype=bool)
    for acc, gyr in sensors:
        still &= still_mask(t_s, acc, gyr, StillConfig(), 1.0 / period_s)
    return still


def _named_standing(t_s: np.ndarray, still: np.ndarray, named: Sequence[ProtocolStep], config: PeriodConfig,
                    period_s: float) -> np.ndarray | None:
    """The still samples of the first standing step ``named`` with enough of them, or None."""
    for step in named:
        inside = (t_s >= step.t_start_s + config.standing_trim_s) & (t_s <= step.t_end_s - config.standing_trim_s)
        chosen = inside & still
        if chosen.sum() * period_s >= config.min_standing_s:
            return chosen
    return None


def motion_mask(
    t_s: np.ndarray, gyr_shank_radps: np.ndarray, config: PeriodConfig | None = None, rate_hz: float | None = None,
) -> np.ndarray:
    """(M,) bool: samples where the shank moves (moving RMS of |ω| above the threshold); ``rate_hz``
    the rate of ``t_s`` if known (measured from it otherwise)."""
    config = config or PeriodConfig()
    n_window = max(int(round(config.motion_window_s / sample_period_s(t_s, rate_hz))), 1)
    mean_square = uniform_filter1d(np.sum(gyr_shank_radps**2, axis=1), n_window, mode="nearest")
    rms = np.sqrt(np.maximum(mean_square, 0.0))  # the filter can leave -1e-17 where the rate is 0
    return rms > config.motion_rms_min_radps


def _longest_run(mask: np.ndarray) -> np.ndarray:
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = np.zeros_like(mask)
    if starts.size:
        k = int(np.argmax(stops - starts))
        out[starts[k] : stops[k]] = True
    return out

