"""The batch output folder: one result file per session, written atomically, and the tables
built from them.

Layout (``docs/batch.md``)::

    OUT/strides/session=<id>/strides.parquet   per-stride metrics of a session that was analysed;
                                               its Parquet metadata holds the session's record
    OUT/failed/<id>.json                       the record of a session that failed
    OUT/summary.parquet, summary.csv           one row per analysed session
    OUT/errors.parquet, errors.csv             session, stage, message of every failure
    OUT/cohort.html                            the cohort summary

A session's result is exactly one file, replaced atomically (:mod:`imugait.atomic`): a run killed
at any point leaves each session either with its complete previous result, its complete new one,
or none (never both an analysed and a failed result: the old one is removed before the new one
is written). The tables are rebuilt from the per-session files at the end of every run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from imugait.atomic import atomic_path, write_text_atomic
from imugait.conventions import Side
from imugait.errors import FormatError
from imugait.report.present import KEY_METRICS

RECORD_KEY = b"imugait.batch.session"
RECORD_SCHEMA = "imugait.batch.session"
RECORD_SCHEMA_VERSION = 1
STRIDES_DIR = "strides"
FAILED_DIR = "failed"
STRIDES_FILE = "strides.parquet"
PARTITION = "session"
ERROR_COLUMNS = ("session", "source", "stage", "message")


def strides_path(out: Path, sid: str) -> Path:
    return out / STRIDES_DIR / f"{PARTITION}={sid}" / STRIDES_FILE


def failed_path(out: Path, sid: str) -> Path:
    return out / FAILED_DIR / f"{sid}.json"


def write_analysed(out: Path, sid: str, cycles: pd.DataFrame, record: dict[str, Any]) -> Path:
    """The session's strides (``cycles`` of its analysis, plus ``subject``) with ``record`` in the
    file's metadata, replacing any earlier result of the session."""
    failed_path(out, sid).unlink(missing_ok=True)
    target = strides_path(out, sid)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = cycles.assign(subject=record["subject"])
    table = pa.Table.from_pandas(rows, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[RECORD_KEY] = json.dumps(record, allow_nan=False).encode("utf-8")
    with atomic_path(target) as tmp:
        pq.write_table(table.replace_schema_metadata(meta), tmp, compression="zstd")
    return target


def write_failed(out: Path, sid: str, record: dict[str, Any]) -> Path:
    """The record of a failed session, replacing any earlier result of the session."""
    strides = strides_path(out, sid)
    strides.unlink(missing_ok=True)
    if strides.parent.is_dir() and not any(strides.parent.iterdir()):
        strides.parent.rmdir()
    target = failed_path(out, sid)
    target.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(target, json.dumps(record, indent=1, allow_nan=False))


def read_record(out: Path, sid: str) -> dict[str, Any] | None:
    """The stored record of session ``sid`` (analysed or failed), or None."""
    strides, failed = strides_path(out, sid), failed_path(out, sid)
    if strides.is_file():
        return _strides_record(strides)
    if failed.is_file():
        return _json_record(failed)
    return None


def read_records(out: Path) -> list[dict[str, Any]]:
    """Every stored session record in ``out``, analysed ones first, each sorted by session id. An
    unreadable result file is left out (the next run redoes its session)."""
    files = [(f, _strides_record) for f in sorted((out / STRIDES_DIR).glob(f"{PARTITION}=*/{STRIDES_FILE}"))]
    files += [(f, _json_record) for f in sorted((out / FAILED_DIR).glob("*.json"))]
    records = []
    for f, read in files:
        try:
            records.append(read(f))
        except FormatError:
            continue
    return records


def read_strides(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The per-stride dataset of a batch output folder as one table, ``session`` a string column.

    Sessions may differ in columns (a pelvis sensor adds hip angles); the schemas are unified and
    a column a session lacks is null there.
    """
    files = sorted((Path(out) / STRIDES_DIR).glob(f"{PARTITION}=*/{STRIDES_FILE}"))
    if not files:
        return pd.DataFrame(columns=[PARTITION])
    schema = pa.unify_schemas([pq.read_schema(f).remove_metadata() for f in files])
    partitioning = ds.partitioning(pa.schema([(PARTITION, pa.string())]), flavor="hive")
    dataset = ds.dataset([str(f) for f in files], schema=schema.append(pa.field(PARTITION, pa.string())),
                         format="parquet", partitioning=partitioning, partition_base_dir=str(Path(out) / STRIDES_DIR))
    return dataset.to_table(columns=columns).to_pandas()


def summary_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per analysed session: what it was, how it went per leg, and the mean of each key
    metric per side (``left_hip_rotation_mean_deg`` …) over the session's used strides."""
    rows = []
    for r in records:
        if r["status"] != "analysed":
            continue
        row = {k: r.get(k) for k in ("session", "subject", "recorded_at", "source", "format", "duration_s",
                                      "analysis_s", "analysis_cpu_s", "filter")}
        row["n_warnings"] = len(r["warnings"])
        row["warnings"] = " | ".join(r["warnings"])
        for side in Side:
            leg = r["legs"].get(side.value, {})
            row[f"{side.value}_strides"] = leg.get("strides", 0)
            row[f"{side.value}_strides_used"] = leg.get("strides_used", 0)
            row[f"{side.value}_calibration"] = leg.get("calibration", "")
            row[f"{side.value}_trusted"] = leg.get("trusted")
        means = {(a["side"], a["metric"]): a["mean"] for a in r["aggregates"]}
        for metric, _label in KEY_METRICS:
            for side in Side:
                row[f"{side.value}_{metric}"] = means.get((side.value, metric))
        rows.append(row)
    return pd.DataFrame(rows)


def errors_table(records: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [{"session": r["session"], "source": r["source"], **r["error"]} for r in records if r["status"] == "failed"]
    return pd.DataFrame(rows, columns=list(ERROR_COLUMNS))


def write_tables(out: Path, records: list[dict[str, Any]]) -> dict[str, Path]:
    """``summary`` and ``errors`` as Parquet and CSV, atomically; returns the written paths."""
    written = {}
    for name, table in (("summary", summary_table(records)), ("errors", errors_table(records))):
        for suffix in (".parquet", ".csv"):
            path = out / f"{name}{suffix}"
            with atomic_path(path) as tmp:
                if suffix == ".csv":
                    table.to_csv(tmp, index=False)
                else:
                    table.to_parquet(tmp, index=False)
            written[f"{name}{suffix}"] = path
    return written


def _strides_record(path: Path) -> dict[str, Any]:
    try:
        raw = (pq.read_schema(path).metadata or {}).get(RECORD_KEY)
        if raw is None:
            raise FormatError(f"{path}: no batch record in the file's metadata")
        return json.loads(raw)
    except (pa.ArrowException, OSError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: unreadable batch result ({exc})") from None


def _json_record(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FormatError(f"{path}: unreadable batch result ({exc})") from None
