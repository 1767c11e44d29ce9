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
