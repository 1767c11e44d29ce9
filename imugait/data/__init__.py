"""Versioned, sourced data shipped with imugait (normative curves, anthropometry, thresholds, drills)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd


def data_path(name: str):
    """Path-like handle of a packaged data file."""
    return resources.files(__package__).joinpath(name)


@cache
def load_json(name: str) -> dict[str, Any]:
    with data_path(name).open("r", encoding="utf-8") as fh:
        return json.load(fh)


def load_csv(name: str) -> pd.DataFrame:
    with data_path(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


NORMATIVE_GAIT_CURVES = "normative_gait_kinematics.csv"
"""Normative joint-angle curves over the gait cycle (sources in its JSON companion)."""


@cache
def _normative_gait_table() -> pd.DataFrame:
    return load_csv(NORMATIVE_GAIT_CURVES)


def normative_gait_table() -> pd.DataFrame:
    """The normative curves table (0..100 % in ``gait_cycle_pct``; ``<joint>_<component>_mean_deg``
    and ``_sd_deg`` columns), read once; a copy, so callers may change it."""
    return _normative_gait_table().copy()
