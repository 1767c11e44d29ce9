"""One session's work, as a Dask worker runs it: read → intrinsic calibration → analyse → write.

The analysis is :func:`imugait.analysis.analyze_session`, exactly what ``imugait analyze`` runs,
so a session's strides in the batch output are the ones ``analyze`` gives. Every failure is
caught and stored as the session's record with the stage it happened in; nothing a session does
can stop the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imugait import __version__
from imugait.analysis import AnalysisConfig, analyze_session
from imugait.analysis.result import AnalysisResult
from imugait.batch.inputs import BatchInput
from imugait.batch.outputs import RECORD_SCHEMA, RECORD_SCHEMA_VERSION, write_analysed, write_failed
from imugait.errors import ImugaitError
from imugait.fusion.settings import FilterKind

# analyze_session's progress messages → the stage named in the errors table.
_STAGE_BY_PROGRESS = (
    ("finding the standing reference", "fusion"),
    ("calibrating", "leg calibration"),
    ("hip angles", "pelvis"),
    ("gait cycles", "gait metrics"),
)


@dataclass(frozen=True)
class TaskSettings:
    """What every session of a run shares."""

    out_dir: Path
    filter_kind: FilterKind = FilterKind.VQF_OFFLINE
    calibration_dir: Path | None = None
    """Per-device calibration files applied before analysis, as ``imugait analyze`` does."""


def fingerprint(item: BatchInput, settings: TaskSettings) -> str:
    """SHA-256 of everything a session's result depends on: the input as listed, the size and
    modification time of its files, the filter, the calibration files and the imugait version.
    A stored result with the same fingerprint is current."""
    doc = {
        "input": item.describe(),
        "files": _files_state(item.path),
        "filter": settings.filter_kind.value,
        "calibration": _files_state(settings.calibration_dir) if settings.calibration_dir else None,
        "imugait": __version__,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def run_session(item: BatchInput, settings: TaskSettings, fingerprint_hex: str) -> dict[str, Any]:
    """Analyse one session and write its result file; returns its record (never raises for a
    session's own problem: the record then says ``failed`` with the stage and message)."""
    record: dict[str, Any] = {
        "schema": RECORD_SCHEMA, "schema_version": RECORD_SCHEMA_VERSION, "session": item.session_id,
        "source": str(item.path), "format": item.format.value, "input": item.describe(),
        "fingerprint": fingerprint_hex, "imugait": __version__, "filter": settings.filter_kind.value,
        "worker_pid": os.getpid(), "finished_at": None,
    }
    stage = "read"
    t0, c0 = time.perf_counter(), time.thread_time()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            session = item.read(motion_only=True)  # the analysis fuses 6-axis: native files' other columns not decoded
            stage = "intrinsic calibration"
            session = apply_calibration_files(session, settings.calibration_dir)

            def progress(message: str) -> None:
                nonlocal stage
                stage = next((name for prefix, name in _STAGE_BY_PROGRESS if message.startswith(prefix)), stage)

            stage = "fusion"
            result = analyze_session(session, AnalysisConfig(filter_kind=settings.filter_kind), progress=progress)
        stage = "write"
        record.update(_analysed(result, session, [str(w.message) for w in caught]))
        record["analysis_s"] = round(time.perf_counter() - t0, 3)
        record["analysis_cpu_s"] = round(time.thread_time() - c0, 3)  # this task's thread only
        record["finished_at"] = _now()
        write_analysed(settings.out_dir, item.session_id, result.cycles, record)
    except Exception as exc:  # noqa: BLE001 — one bad session never stops the run
        record.update(failed_record(stage, exc))
        record["finished_at"] = _now()
        write_failed(settings.out_dir, item.session_id, record)
    return record


def failed_record(stage: str, exc: BaseException) -> dict[str, Any]:
    """The ``status``/``error`` part of a failed session's record. Our own errors carry a message a
    person can act on; anything else is a bug, and its traceback is kept for the report."""
    message = str(exc) if isinstance(exc, ImugaitError) else f"{type(exc).__name__}: {exc}"
    error = {"stage": stage, "message": message}
    if not isinstance(exc, ImugaitError):
        error["traceback"] = "".join(traceback.format_exception(exc)[-6:])
    return {"status": "failed", "error": error}


def apply_calibration_files(session, folder: Path | None):
    """The session with the per-device calibrations in ``folder`` applied (as ``imugait
    analyze`` loads a session); unchanged without a folder."""
    if folder is None or not Path(folder).is_dir():
        return session
    from imugait.calibration.store import CalibrationStore

    return CalibrationStore(folder).apply_to_session(session).session


def _analysed(result: AnalysisResult, session, reader_warnings: list[str]) -> dict[str, Any]:
    meta = result.session_meta
    legs = {
        side.value: {
            "strides": len(leg.strides), "strides_used": int(sum(s.used for s in leg.strides)),
            "calibration": leg.calibration_quality, "trusted": leg.trusted, "reference": leg.reference,
        }
        for side, leg in result.legs.items()
    }
    aggregates = [
        {"side": a.side, "metric": a.metric, "mean": _finite(a.mean), "sd": _finite(a.sd), "n": int(a.n)}
        for a in result.aggregates.itertuples()
    ]
    duration = max(float(s.t_s[-1] - s.t_s[0]) for s in session.streams)
    return {
        "status": "analysed", "subject": meta.subject_id, "recorded_at": meta.recorded_at,
        "duration_s": round(duration, 3), "legs": legs, "aggregates": aggregates,
        "warnings": reader_warnings + list(result.warnings), "pelvis_worn": result.pelvis_worn,
    }


def _finite(x: float) -> float | None:
    x = float(x)
    return x if x == x and abs(x) != float("inf") else None


def _files_state(path: Path | None) -> list[tuple[str, int, int]]:
    if path is None:
        return []
    p = Path(path)
    if p.is_file():
        st = p.stat()
        return [(p.name, st.st_size, st.st_mtime_ns)]
    if p.is_dir():
        return [(f.relative_to(p).as_posix(), f.stat().st_size, f.stat().st_mtime_ns)
                for f in sorted(p.rglob("*")) if f.is_file()]
    return []


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
