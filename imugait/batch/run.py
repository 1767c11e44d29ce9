"""A batch run: the sessions still to do, submitted to Dask, their records gathered, the tables
and the cohort summary rebuilt."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imugait.batch.cohort import write_cohort_html
from imugait.batch.inputs import BatchInput
from imugait.batch.outputs import read_record, read_records, write_failed, write_tables
from imugait.batch.task import TaskSettings, failed_record, fingerprint, run_session
from imugait.errors import FormatError


@dataclass(frozen=True)
class BatchReport:
    """What a run did: ``analysed`` and ``failed`` this run, ``skipped`` (current results kept),
    and the files written."""

    analysed: tuple[str, ...]
    failed: tuple[str, ...]
    skipped: tuple[str, ...]
    files: dict[str, Path]


def pending(inputs: Sequence[BatchInput], settings: TaskSettings, force: bool = False,
            retry_failed: bool = False) -> tuple[list[tuple[BatchInput, str]], list[str]]:
    """``([(input, fingerprint) to run], [session ids skipped])``: a session is skipped when its
    stored result has the same fingerprint (same input files, filter, calibration files, imugait
    version) — unless ``force``, or it failed and ``retry_failed``."""
    todo, skipped = [], []
    for item in inputs:
        fp = fingerprint(item, settings)
        try:
            old = read_record(settings.out_dir, item.session_id)
        except FormatError:
            old = None  # an unreadable result is redone
        current = old is not None and old.get("fingerprint") == fp
        if current and not force and not (retry_failed and old.get("status") == "failed"):
            skipped.append(item.session_id)
        else:
            todo.append((item, fp))
    return todo, skipped


def run_batch(
    client: Any,
    inputs: Sequence[BatchInput],
    settings: TaskSettings,
    *,
    force: bool = False,
    retry_failed: bool = False,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> BatchReport:
    """Analyse ``inputs`` on the Dask ``client``'s workers into ``settings.out_dir``.

    ``on_start(n_to_run, n_skipped)`` is called once before the work starts, ``on_done(record)``
    as each session finishes (in completion order), for a progress bar.
    """
    from distributed import as_completed

    settings = replace(settings, out_dir=settings.out_dir.absolute())  # workers may have another cwd
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    todo, skipped = pending(inputs, settings, force, retry_failed)
    if on_start:
        on_start(len(todo), len(skipped))
    futures = {
        client.submit(run_session, item, settings, fp, key=f"imugait-batch-{item.session_id}-{fp[:12]}", pure=False):
            (item, fp)
        for item, fp in todo
    }
    analysed, failed = [], []
    for future in as_completed(futures):
        item, fp = futures.pop(future)
        try:
            record = future.result()
        except Exception as exc:  # noqa: BLE001 — the worker died (memory, a crash in native code) or the task was lost
            record = {"session": item.session_id, "source": str(item.path), "format": item.format.value,
                      "input": item.describe(), "fingerprint": fp, **failed_record("worker", exc)}
            write_failed(settings.out_dir, item.session_id, record)
        future.release()
        (analysed if record["status"] == "analysed" else failed).append(item.session_id)
        if on_done:
            on_done(record)
    files = finish(settings.out_dir)
    return BatchReport(tuple(analysed), tuple(failed), tuple(skipped), files)


def finish(out_dir: Path) -> dict[str, Path]:
    """Rebuild the summary and errors tables and the cohort summary from every stored result."""
    records = read_records(out_dir)
    files = write_tables(out_dir, records)
    files["cohort.html"] = write_cohort_html(out_dir / "cohort.html", records)
    return files
