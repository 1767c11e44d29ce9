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

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from imugait.analysis.expected_error import STANDING
from imugait.analysis.pipeline import (
    AnalysisConfig,
    CarriedCalibration,
    analyze_session,
    metric_columns,
)
from imugait.analysis.result import calibration_dict, document
from imugait.atomic import write_text_atomic
from imugait.calibration.segment import LegAlignment
from imugait.chunk_plan import CHUNK_S, OVERLAP_S, Window, windows
from imugait.conventions import Side
from imugait.errors import CalibrationError, ValidationError
from imugait.fusion.settings import FilterKind
from imugait.gait.metrics import aggregate, asymmetry
from imugait.model import Session, SessionMeta


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
    filter_kind: FilterKind
    calibrations: Mapping[Side, CarriedCalibration] = field(default_factory=dict)
    """Each leg's calibration as carried at the end (the best found; see the module)."""

    @property
    def pelvis_worn(self) -> bool:
        """A pelvis sensor was analysed: the strides carry the hip angles against the pelvis."""
        return "hip_rotation_pelvis_mean_deg" in self.cycles.columns

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``imugait analyze`` (docs/analysis.md), with what the chunked
        analysis has: the stride table and summaries, each leg's carried calibration and stride
        counts, and the windows; no per-sample series or normalised cycle curves."""
        doc = document(self.session_meta, self.filter_kind, self.pelvis_worn, self.cycles, self.aggregates,
                       self.asymmetry, self.warnings)
        for side, carried in self.calibrations.items():
            mine = self.cycles[self.cycles["side"] == side.value] if len(self.cycles) else self.cycles
            doc["legs"][side.value] = {"calibration": calibration_dict(carried.alignment, carried.reference, carried.sample_rate_hz),
                                       "n_strides": len(mine),
                                       "n_strides_used": int(mine["used"].sum()) if len(mine) else 0}
        doc["chunked"] = {"windows": [{"start_s": w.start_s, "core_start_s": w.core_start_s,
                                       "core_end_s": None if math.isinf(w.core_end_s) else w.core_end_s,
                                       "end_s": w.end_s} for w in self.windows]}
        return doc

    def write_json(self, path: str | Path) -> Path:
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=2, allow_nan=False))


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
                carried[side] = CarriedCalibration(leg.alignment, leg.reference, leg.sample_rate_hz)
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
    kind = (config or AnalysisConfig()).filter_kind
    return ChunkedResult(source.meta, cycles, aggregates, asymmetry(aggregates), tuple(warnings), tuple(plan), kind,
                         dict(carried))


def _rank(reference: str, alignment: LegAlignment) -> int:
    """How good a calibration is to carry: a standing reference beats mid-stance, a knee model
    beats the pose-only fallback; the first of the best is kept."""
    return 2 * (reference == STANDING) + alignment.measures_femur_rotation
