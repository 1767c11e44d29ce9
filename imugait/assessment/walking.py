"""The walking test inside the battery: the walking analysis on the walking steps, as metrics."""

from __future__ import annotations

import math
from dataclasses import replace

from imugait.analysis import AnalysisConfig, AnalysisResult, analyze_session
from imugait.analysis.confidence import calibration_confidence
from imugait.assessment.result import Metric, ProtocolResult
from imugait.assessment.steps import Protocol, parse_step, protocol_steps
from imugait.model import Session

PROTOCOL = Protocol.WALKING

INSTRUCTIONS: tuple[str, ...] = (
    "Stand tall and still for 5 seconds, feet hip-width apart, weight on both feet.",
    "Walk at your usual pace in a straight line for about 10 metres.",
    "Turn around and walk back.",
    "Stop and stand still for 5 seconds.",
)

"""The walking analysis rates each leg's sensor calibration; its metrics inherit that rating."""


def walking_session(session: Session) -> Session:
    """The walking test cut out of a battery session, its steps renamed as the walking analysis
    expects them (``walking:stand_start`` → ``stand_start``)."""
    steps = protocol_steps(session.meta.steps, PROTOCOL)
    if not steps:
        return session
    t0, t1 = min(s.t_start_s for s in steps), max(s.t_end_s for s in steps)
    streams = [s.slice_time(t0, t1) for s in session.streams]
    renamed = tuple(replace(s, name=parse_step(s.name)[1] or "walk") for s in steps)
    return Session(streams, replace(session.meta, steps=renamed))


def measure(session: Session, config: AnalysisConfig | None = None) -> tuple[ProtocolResult, AnalysisResult]:
    """Run the walking analysis on the walking steps; per-side aggregates become metrics."""
    part = walking_session(session)
    result = analyze_session(part, config)
    metrics = []
    for side, leg in result.legs.items():
        confidence = calibration_confidence(leg.calibration_quality)
        rows = result.aggregates[result.aggregates["side"] == side.value]
        for row in rows.itertuples(index=False):
            if not math.isfinite(row.mean):
                continue
            reference = "line of progression" if row.metric.startswith("hip_rotation") else ""
            metrics.append(Metric(PROTOCOL, row.metric, side, float(row.mean), int(row.n), confidence, reference, float(row.sd)))
    detection = "steps" if part is not session else "automatic"
    return ProtocolResult(PROTOCOL, tuple(metrics), (), float(result.t_s[0]), float(result.t_s[-1]), detection), result
