"""The report of an assessment: every protocol's metrics against the sourced thresholds.

The walking test enters once: as the walking analysis (its aggregates, curves and calibration
quality), not again as the walking metrics of :attr:`AssessmentResult.metrics` — those are the
same aggregates.
"""

from __future__ import annotations

from imugait.assessment.result import AssessmentResult
from imugait.assessment.steps import Protocol


def assessment_report(result: AssessmentResult, **kwargs):
    """:func:`~imugait.report.report.build_report` of ``result`` (``kwargs``: previous, population,
    pain_reported …)."""
    from imugait.report.measurements import measurements_from_metrics
    from imugait.report.report import build_report

    walking = result.walking if Protocol.WALKING in result.protocols else None  # searched for, not found: no walking
    others = [m for m in result.metrics if m.protocol is not Protocol.WALKING or walking is None]
    meta = result.session_meta
    return build_report(walking, measurements=measurements_from_metrics(others),
                        subject_id=meta.subject_id, recorded_at=meta.recorded_at, **kwargs)
