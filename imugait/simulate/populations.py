"""Who walks: walker populations drawn from the ranges of ``imugait/data/walker_populations.json``.

>>> from imugait.simulate.populations import Population, draw_walker_params, typical_walker_params
>>> typical_walker_params(Population.OLDER).speed_mps  # the middle of the older walkers' range
0.8

``adult`` is the accuracy cohort's free-speed adult; ``older`` a slower, older walker (0.6–1.0
m/s, longer stance, smaller sagittal excursion, shorter strides). Every range is sourced or
marked as a modelling choice in the data file.
"""

from __future__ import annotations

import dataclasses
from enum import Enum

import numpy as np

from imugait.data import load_json
from imugait.simulate.walker import WalkerParams

POPULATIONS_FILE = "walker_populations.json"


class Population(Enum):
    ADULT = "adult"
    OLDER = "older"


def population_ranges(population: Population) -> dict:
    """The ranges of ``population``: ``speed_mps``, ``cadence_spm``, ``stance_pct`` (None = the
    normative curves' timing), ``sagittal_scale``, ``stride_time_cv``; each ``(low, high)``."""
    entry = load_json(POPULATIONS_FILE)["populations"][population.value]
    keys = ("speed_mps", "cadence_spm", "stance_pct", "sagittal_scale", "stride_time_cv")
    return {k: None if entry[k] is None else tuple(entry[k]) for k in keys}


def typical_walker_params(population: Population, base: WalkerParams | None = None) -> WalkerParams:
    """``base`` (default :class:`WalkerParams`) with the middle of every range of ``population``."""
    r = population_ranges(population)
    middle = {k: None if v is None else 0.5 * (v[0] + v[1]) for k, v in r.items()}
    scale = middle.pop("sagittal_scale")
    return _with(base or WalkerParams(), middle, (scale, scale))


def draw_walker_params(population: Population, rng: np.random.Generator, base: WalkerParams | None = None) -> WalkerParams:
    """``base`` with speed, cadence, stance, stride-time CV and a per-side sagittal scale drawn
    uniformly from the ranges of ``population`` (fixed draw order: reproducible per generator)."""
    r = population_ranges(population)
    scale_range = r.pop("sagittal_scale")
    values = {k: None if v is None else float(rng.uniform(*v)) for k, v in r.items()}
    scales = (float(rng.uniform(*scale_range)), float(rng.uniform(*scale_range)))
    return _with(base or WalkerParams(), values, scales)


def _with(base: WalkerParams, values: dict, sagittal_scales: tuple[float, float]) -> WalkerParams:
    walker = dataclasses.replace(base, **values)
    return dataclasses.replace(
        walker,
        left=dataclasses.replace(walker.left, sagittal_scale=sagittal_scales[0]),
        right=dataclasses.replace(walker.right, sagittal_scale=sagittal_scales[1]),
    )
