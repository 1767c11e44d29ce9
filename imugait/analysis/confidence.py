"""How much a measured value can be trusted: one :class:`Confidence` for the assessment and the
report, and one mapping from a leg's calibration quality to it.

The mapping is data (``imugait/data/thresholds.json``, ``confidence_rules.calibration_quality_to_confidence``,
with its source); the walking analysis rates calibrations ``good`` / ``fair`` / ``poor``
(:mod:`imugait.analysis.result`), the assessment's walking metrics and the report's walking
measurements both take their confidence from it through :func:`calibration_confidence`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from enum import StrEnum

from imugait.data import load_json

UNTRUSTED_REASON = "most strides had values no walking produces (sensors moved or mislabelled)"
"""Why a leg's results are not trusted (``LegReport.trusted`` False), in the report's words."""
RESTRAP_ADVICE = "check that both sensors are strapped firmly on this leg and record the walk again"
"""What to redo when a leg's strides had values no walking produces (the analysis' warning, the report)."""


class Confidence(StrEnum):
    """How much a measured value can be trusted (rules in docs/assessment.md)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return list(Confidence).index(self)

    @staticmethod
    def lowest(*values: Confidence) -> Confidence:
        return max(values, key=lambda c: c.rank)


def parse_calibration_confidence(raw: Mapping[str, str]) -> dict[str, Confidence]:
    """The data file's ``calibration_quality_to_confidence`` table as enums."""
    return {quality: Confidence(value) for quality, value in raw.items()}


@functools.cache
def _packaged_mapping() -> dict[str, Confidence]:
    raw = load_json("thresholds.json")["confidence_rules"]["calibration_quality_to_confidence"]
    return parse_calibration_confidence(raw)


def calibration_confidence(quality: str, mapping: Mapping[str, Confidence] | None = None) -> Confidence:
    """Confidence of metrics from a leg whose calibration was rated ``quality``; LOW for a rating
    the table does not know. ``mapping``: the table (default: the packaged one)."""
    table = _packaged_mapping() if mapping is None else mapping
    return table.get(quality, Confidence.LOW)
