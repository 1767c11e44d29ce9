"""The offline walking analysis: one call from a session to per-stride metrics."""

from imugait.analysis.pipeline import AnalysisConfig, analyze_session, normalised_cycles
from imugait.analysis.result import AnalysisResult, LegReport

__all__ = ["AnalysisConfig", "AnalysisResult", "LegReport", "analyze_session", "normalised_cycles"]
