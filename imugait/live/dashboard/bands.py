"""The stride metrics a live view compares, with their reference bands from the packaged thresholds.

A metric's band is the mildest level of its walking threshold in ``imugait/data/thresholds.json``
(:meth:`~imugait.report.thresholds.Threshold.reference_band`), with the threshold's source; no
number here. Metrics the thresholds file lists without a verified norm (``not_available``) are
shown with the file's reason instead of a band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from imugait.report.drill_data import load_report_data
from imugait.report.thresholds import ComparisonKind, Population, SideHandling

WALKING_PROTOCOL = "walking"
DESCRIPTIVE_METRICS = ("stride_time_s", "knee_flexion_range_deg", "double_support_pct")
"""Shown for each side without any comparison (no threshold uses them). A stride's double support
comes with a later version than its first (:mod:`imugait.live.double_support`): the last stride's
cell is empty until then."""
UNITS = {"pct": "%"}
"""A descriptive metric's unit as shown, where its name's suffix is not it."""


@dataclass(frozen=True)
class MetricBand:
    """One row of the live stride table.

    ``low``/``high`` is the range that raises no finding (None for an open end); ``compare`` says
    what is compared with it: ``per_side`` (each side's mean), ``symmetry_index`` (100 (R − L) /
    mean of both, %), or ``none`` (no verified norm; ``note`` says why).
    """

    metric: str
    title: str
    unit: str
    compare: str
    low: float | None
    high: float | None
    source: str
    """Citation of the band's source ('' without a band)."""
    note: str = ""

    def as_json(self) -> dict:
        return {"metric": self.metric, "title": self.title, "unit": self.unit, "compare": self.compare,
                "low": self.low, "high": self.high, "source": self.source, "note": self.note}


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def stride_metric_bands(population: Population = Population.UNKNOWN) -> tuple[MetricBand, ...]:
    """The walking thresholds compared per side or as a symmetry index, then the descriptive
    metrics. The hip-rotation side difference has no norm and is left out (the table shows both
    sides next to each other); a view shows only the rows whose metric the strides carry."""
    data = load_report_data().thresholds
    rows: list[MetricBand] = []
    for t in data.thresholds:
        if t.protocol != WALKING_PROTOCOL or t.side_handling not in (SideHandling.PER_SIDE,
                                                                      SideHandling.SYMMETRY_INDEX):
            continue
        if t.comparison is ComparisonKind.NOT_AVAILABLE:
            rows.append(MetricBand(t.metric, t.title, t.unit, "none", None, None, "", t.reason))
            continue
        band = t.reference_band(population)
        if band is None:
            continue
        rows.append(MetricBand(t.metric, t.title, t.unit, t.side_handling.value, _finite_or_none(band[0]),
                               _finite_or_none(band[1]), data.citation(t.source)))
    rows += [MetricBand(m, m.replace("_", " "), UNITS.get(unit, unit), "none", None, None, "")
             for m, unit in ((m, m.rsplit("_", 1)[-1]) for m in DESCRIPTIVE_METRICS)]
    return tuple(rows)
