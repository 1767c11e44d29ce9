"""The walk-to-walk spread of a measurement: the smallest change between two sessions that a trend
calls a change.

Data with its source in ``imugait/data/walk_repeatability.json`` (measured by
``benchmarks/walk_repeatability.py`` on real repeated walks). A measurement without an entry has no
measured spread: the trend says so instead of judging its change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from imugait.data import load_json

SPREAD_FILE = "walk_repeatability.json"
SPREAD_SOURCE_ID = "walk_repeatability"
"""The id under which the report's ``sources`` list the data file's source."""


@dataclass(frozen=True)
class WalkToWalkSpread:
    """How much one leg's value of ``metric`` differs between walks minutes apart."""

    metric: str
    unit: str
    sd: float
    """Within-leg SD across walks, pooled over the legs (the measurement's unit)."""
    smallest_real_change: float
    """Minimal detectable change at 95 %, 1.96·√2·``sd`` (the measurement's unit)."""
    n_legs: int
    n_walks: int


@dataclass(frozen=True)
class SpreadTable:
    spreads: dict[str, WalkToWalkSpread]
    description: str
    source: str
    n_legs: int

    def smallest_real_change(self, metric: str) -> float | None:
        """The measurement's smallest real change, or None when no spread was measured for it."""
        spread = self.spreads.get(metric)
        return spread.smallest_real_change if spread else None

    @property
    def citation(self) -> str:
        return f"{self.description} Source: {self.source}"


@cache
def walk_to_walk_spreads() -> SpreadTable:
    """The packaged table (read once)."""
    doc = load_json(SPREAD_FILE)
    spreads = {name: WalkToWalkSpread(name, e["unit"], float(e["sd"]), float(e["smallest_real_change"]),
                                      int(e["n_legs"]), int(e["n_walks"]))
               for name, e in doc["measurements"].items()}
    return SpreadTable(spreads, doc["description"], doc["source"], int(doc["n_legs"]))
