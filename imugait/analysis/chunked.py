"""Long recordings in bounded memory: the analysis run on overlapping time windows.

:func:`~imugait.analysis.pipeline.analyze_session` holds the whole recording several times over
(samples, the grid, orientations, angles): about 3.5× the raw samples, 6 GB for 8 hours of four
sensors at 200 Hz. :func:`analyze_in_chunks` reads and analyses one window at a time — a core of
``chunk_s`` plus ``overlap_s`` on either side — and keeps of each window only the strides that
begin in its core, so its memory is that of one window whatever the recording's length.

Each window is fused, and its line of progression, events and strides found, as a recording of
its own: the overlap lets the filter settle and gives the strides at the core's edges their whole
bout. The legs' **calibration is carried**: made on the first window (as the whole analysis makes
it on the first standing and the first minute of walking) and reused in the later ones, where
only the thigh–shank heading offset is tracked anew — a later window without a standing period
keeps the standing reference (calibrating each window on its own put knee rotation 1.4° off on
average, 2.6° RMS, where only the recording's ends were standing). A better calibration found
later (standing instead of mid-stance, a knee model instead of the pose-only fallback) replaces
it from then on. The per-stride values differ slightly from one whole-recording analysis (the
windows' fusion; docs/benchmarks.md gives the measured differences). A window in which nothing can be analysed (sitting, sensors off) is reported in
``warnings`` and skipped; the whole fails only when no window could be analysed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import pandas as pd

from imugait.analysis.expected_error import STANDING
from imugait.analysis.pipeline import (
    AnalysisConfig,
    CarriedCalibration,
    analyze_session,
    metric_columns,
)
from imugait.calibration.segment import LegAlignment
from imugait.conventions import Side
from imugait.errors import CalibrationError, ValidationError
from imugait.gait.metrics import aggregate, asymmetry
from imugait.model import Session, SessionMeta

CHUNK_S = 1800.0
"""Default core of a window (s): 30 min, about 0.45× the raw samples of one hour per window."""
OVERLAP_S = 120.0
"""Default margin on either side of a core (s): longer than a walking bout's edge effects
(the filter's settling, a bout's heading window, a stride's search) on the simulator's walks."""


class SessionSource(Protocol):
    """Where the windows come from: the span of the recording and its samples by time."""

    meta: SessionMeta
    t_start_s: float
    t_end_s: float

    def read(self, t_start_s: float, t_end_s: float) -> Session:
        """The samples with ``t_start_s <= t < t_end_s`` of every sensor, as a session."""
        ...


class SessionInMemory:
    """A :class:`SessionSource` over a session already in memory (tests, short recordings)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.meta = session.meta
        self.t_start_s = session.t_start_s
        self.t_end_s = session.t_end_s

    def read(self, t_start_s: float, t_end_s: float) -> Session:
        return self.session.slice_time(t_start_s, t_end_s)


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


@dataclass(frozen=True, eq=False)
class ChunkedResult:
    """The stride table and its summaries from all windows (no per-sample series: they would
    not be bounded). ``cycles`` has the columns of :attr:`AnalysisResult.cycles`, strides
    numbered per side across the recording."""

    session_meta: SessionMeta
    cycles: pd.DataFrame
    aggregates: pd.DataFrame
    asymmetry: pd.DataFrame
    warnings: tuple[str, ...]
    windows: tuple[Window, ...]


def analyze_in_chunks(
    source: SessionSource,
    config: AnalysisConfig | None = None,
    chunk_s: float = CHUNK_S,
    overlap_s: float = OVERLAP_S,
    progress: Callable[[str], None] | None = None,
) -> ChunkedResult:
    """Analyse ``source`` window by window (see the module); memory is that of one window.

    Raises
    ------
    CalibrationError
        No window could be analysed (each window's reason is in the message).
    """
    report = progress or (lambda _stage: None)
    parts: list[pd.DataFrame] = []
    warnings: list[str] = []
    failures: list[str] = []
    plan = windows(source.t_start_s, source.t_end_s, chunk_s, overlap_s)
    carried: dict[Side, CarriedCalibration] = {}
    for k, w in enumerate(plan):
        where = f"{w.core_start_s:.0f}–{min(w.core_end_s, source.t_end_s):.0f} s"
        report(f"window {k + 1} of {len(plan)} ({where})")
        try:
            result = analyze_session(source.read(w.start_s, w.end_s), config, carried=carried)
        except (CalibrationError, ValidationError) as exc:
            failures.append(f"{where}: {exc}")
            continue
        for side, leg in result.legs.items():
            if side not in carried or _rank(leg.reference, leg.alignment) > _rank(carried[side].reference, carried[side].alignment):
                carried[side] = CarriedCalibration(leg.alignment, leg.reference)
        warnings += [f"{where}: {text}" for text in result.warnings]
        cycles = result.cycles
        if len(cycles):
            start = cycles["t_initial_contact_s"]
            parts.append(cycles[(start >= w.core_start_s) & (start < w.core_end_s)])
        del result, cycles
    if not parts and failures:
        raise CalibrationError("no part of the recording could be analysed — " + "; ".join(failures))
    warnings += [f"{text} (not analysed)" for text in failures]
    cycles = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame([])
    if len(cycles):
        order = {side.value: i for i, side in enumerate(Side)}
        cycles = cycles.sort_values(["side", "t_initial_contact_s"], key=lambda c: c.map(order) if c.name == "side" else c,
                                    kind="stable", ignore_index=True)
        cycles["stride"] = cycles.groupby("side").cumcount()
    aggregates = aggregate(cycles, metric_columns(cycles))
    return ChunkedResult(source.meta, cycles, aggregates, asymmetry(aggregates), tuple(warnings), tuple(plan))


def _rank(reference: str, alignment: LegAlignment) -> int:
    """How good a calibration is to carry: a standing reference beats mid-stance, a knee model
    beats the pose-only fallback; the first of the best is kept."""
    return 2 * (reference == STANDING) + alignment.measures_femur_rotation
