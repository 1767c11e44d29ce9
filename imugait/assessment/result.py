"""Results of the assessment: flat measured metrics, quality feedback, per-protocol and whole.

The report stage compares :class:`Metric` values with the thresholds in ``imugait/data``; this
stage only measures. Every metric name carries its unit (``prone_internal_rotation_range_deg``);
signs follow docs/conventions.md (internal rotation +, knee adduction = varus +, valgus named as
such is + when the knee caves in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from imugait import __version__
from imugait.analysis.confidence import Confidence
from imugait.assessment.steps import Protocol
from imugait.conventions import Side
from imugait.model import SessionMeta

SCHEMA = "imugait.assessment"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Metric:
    """One measured number: ``name`` (unit in the name), ``side`` (None: both / whole body),
    ``value``, ``n`` (repetitions or samples it summarises), ``confidence``, and ``reference``
    (what it is relative to, e.g. ``"line of progression"``)."""

    protocol: Protocol
    name: str
    side: Side | None
    value: float
    n: int
    confidence: Confidence
    reference: str = ""
    sd: float = math.nan
    """Spread over the repetitions, same unit (NaN when n < 2)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol.value, "name": self.name, "side": self.side.value if self.side else None,
            "value": _finite(self.value), "sd": _finite(self.sd), "n": self.n,
            "confidence": self.confidence.value, "reference": self.reference,
        }


@dataclass(frozen=True)
class QualityIssue:
    """Feedback on how a step was done. ``repeat``: the step should be done again (its metrics
    are missing or untrustworthy); otherwise a note."""

    protocol: Protocol
    code: str
    message: str
    side: Side | None = None
    repeat: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol.value, "code": self.code, "message": self.message,
                "side": self.side.value if self.side else None, "repeat": self.repeat}


@dataclass(frozen=True, eq=False)
class ProtocolResult:
    protocol: Protocol
    metrics: tuple[Metric, ...] = ()
    issues: tuple[QualityIssue, ...] = ()
    t_start_s: float = math.nan
    t_end_s: float = math.nan
    detection: str = "steps"
    """How the protocol's data was found: ``steps`` (annotated) or ``automatic``."""

    @property
    def passed(self) -> bool:
        """True when no issue asks for the step to be repeated."""
        return not any(i.repeat for i in self.issues)

    def metric(self, name: str, side: Side | None = None) -> Metric | None:
        for m in self.metrics:
            if m.name == name and m.side is side:
                return m
        return None


@dataclass(frozen=True, eq=False)
class AssessmentResult:
    """All protocols found in a session. ``walking`` is the full walking analysis when run."""

    session_meta: SessionMeta
    protocols: dict[Protocol, ProtocolResult]
    calibration_reference: str = ""
    walking: Any = None
    """The :class:`~imugait.analysis.AnalysisResult` of the walking test, or None."""
    warnings: tuple[str, ...] = field(default_factory=tuple)

    @property
    def metrics(self) -> list[Metric]:
        """Every measured metric of every protocol, flat, in battery order."""
        return [m for r in self.protocols.values() for m in r.metrics]

    @property
    def issues(self) -> list[QualityIssue]:
        return [i for r in self.protocols.values() for i in r.issues]

    def metric(self, name: str, side: Side | None = None) -> Metric | None:
        for m in self.metrics:
            if m.name == name and m.side is side:
                return m
        return None

    def to_dict(self) -> dict[str, Any]:
        meta = self.session_meta
        return {
            "schema": SCHEMA, "schema_version": SCHEMA_VERSION, "software_version": __version__,
            "session": {"subject_id": meta.subject_id, "recorded_at": meta.recorded_at, "source": meta.source},
            "calibration_reference": self.calibration_reference,
            "protocols": {
                p.value: {"passed": r.passed, "detection": r.detection, "t_start_s": _finite(r.t_start_s),
                          "t_end_s": _finite(r.t_end_s)}
                for p, r in self.protocols.items()
            },
            "metrics": [m.to_dict() for m in self.metrics],
            "issues": [i.to_dict() for i in self.issues],
            "warnings": list(self.warnings),
        }


def _finite(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None
