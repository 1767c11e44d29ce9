"""The windows of a chunked analysis (:mod:`imugait.analysis.chunked`) and when ``imugait
analyze`` uses it: plain numbers and arithmetic, importable without the analysis (the command
line states them in its help)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from imugait.errors import ValidationError

CHUNK_S = 1800.0
"""Default core of a window (s): 30 min, about 0.45× the raw samples of one hour per window."""
OVERLAP_S = 120.0
"""Default margin on either side of a core (s): longer than a walking bout's edge effects
(the filter's settling, a bout's heading window, a stride's search) on the simulator's walks."""
CHUNKED_ABOVE_S = 3600.0
"""``imugait analyze`` analyses a recording longer than this (s) in windows: the whole analysis
of one hour of four sensors at 200 Hz peaks at ≈ 0.8 GB (3.6× the raw samples) and grows with
the length; in windows it stays ≈ 0.5–0.65 GB up to 8 h (docs/benchmarks.md)."""


@dataclass(frozen=True)
class Window:
    """One piece of the recording: strides that begin in ``[core_start_s, core_end_s)`` are kept
    from the analysis of ``[start_s, end_s)``."""

    start_s: float
    core_start_s: float
    core_end_s: float
    end_s: float


def windows(t_start_s: float, t_end_s: float, chunk_s: float = CHUNK_S, overlap_s: float = OVERLAP_S) -> list[Window]:
    """Equal cores of at most ``chunk_s`` covering the span, each with ``overlap_s`` either side
    (cut to the span). The last core is open at the end so the last sample's stride counts."""
    if not (chunk_s > 0 and overlap_s >= 0 and math.isfinite(chunk_s) and math.isfinite(overlap_s)):
        raise ValidationError(f"chunks need chunk_s > 0 and overlap_s >= 0, got {chunk_s!r} and {overlap_s!r}")
    span = t_end_s - t_start_s
    n = max(1, math.ceil(span / chunk_s - 1e-9))
    edges = [t_start_s + span * k / n for k in range(n + 1)]
    edges[-1] = math.inf
    return [Window(max(t_start_s, a - overlap_s), a, b, min(t_end_s + 1.0, b + overlap_s)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


__all__ = ["CHUNKED_ABOVE_S", "CHUNK_S", "OVERLAP_S", "Window", "windows"]
