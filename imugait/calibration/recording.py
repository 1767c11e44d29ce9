"""A leg's two sensors on one time grid: what every leg calibration step takes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.timebase import sample_period_s


@dataclass(frozen=True, eq=False)
class LegRecording:
    """A leg's thigh and shank sensors on one uniform time grid (every array's first axis is
    ``t_s``), with the grid's rate carried along instead of re-derived from ``t_s``.

    ``q_world_*_sensor`` (M, 4) scalar-first 6-axis orientations (each in its own world frame);
    ``gyr_*_radps``, ``acc_*_mps2`` (M, 3) sensor frames; ``rate_hz`` the grid's sample rate;
    ``first_row`` the index of the first row in the grid it was cut from (0: the whole grid): the
    heading windows (:mod:`imugait.calibration.heading`) start at multiples of their step from that
    grid's first row, so a recording cut from a longer grid (the live history) has the windows the
    whole grid has.
    """

    t_s: np.ndarray
    q_world_thigh_sensor: np.ndarray
    q_world_shank_sensor: np.ndarray
    gyr_thigh_radps: np.ndarray
    gyr_shank_radps: np.ndarray
    acc_thigh_mps2: np.ndarray
    acc_shank_mps2: np.ndarray
    rate_hz: float
    first_row: int = 0

    @classmethod
    def on_grid(cls, t_s: np.ndarray, *arrays: np.ndarray) -> LegRecording:
        """From a grid and the six arrays in field order, the rate taken from the grid once."""
        return cls(t_s, *arrays, rate_hz=1.0 / sample_period_s(t_s))
