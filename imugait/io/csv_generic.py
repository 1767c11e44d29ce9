"""Generic CSV: one shared time column and per-sensor SI columns, in and out.

Layout (``docs/formats.md``): ``t_s`` (s) and, for each sensor, ``<placement>_acc_{x,y,z}``
(m/s²), ``<placement>_gyr_{x,y,z}`` (rad/s), optionally ``<placement>_mag_{x,y,z}`` (µT) and
``<placement>_q_{w,x,y,z}`` (scalar-first orientation of the sensor in the world frame), where
``<placement>`` is a :class:`~imugait.conventions.Placement` value (``left_thigh``, ``pelvis`` …).
All axes are the sensor frame. An empty or ``NaN`` cell is a missing sample of that sensor.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from imugait.atomic import atomic_path
from imugait.conventions import Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._text_table import (
    TextTable,
    float_column,
    gaps_from_times,
    rate_from_times,
    read_text_table,
    stated_or_file_time,
)
from imugait.model import DeviceInfo, ImuStream, Session, SessionMeta

TIME_COLUMN = "t_s"
MIN_PLAUSIBLE_RATE_HZ = 5.0
"""A median time step giving a lower rate is taken as a time column in the wrong unit (gait
sensors sample at 50-1000 Hz): refused, with the unit it looks like."""
_TIME_UNITS = (("milliseconds", 1e3), ("microseconds", 1e6), ("nanoseconds", 1e9))
_AXES = {"acc": "xyz", "gyr": "xyz", "mag": "xyz", "q": "wxyz"}
_COLUMN = re.compile(r"^(?P<placement>.+)_(?P<kind>acc|gyr|mag|q)_(?P<axis>[wxyz])$")


def read_csv_session(
    path: str | os.PathLike, *, subject_id: str = "anonymous", recorded_at: str | None = None
) -> Session:
    """Import a generic CSV file as a session.

    Parameters
    ----------
    path : the CSV file (comma, tab or semicolon separated; header row first).
    subject_id : pseudonym stored in the session metadata.
    recorded_at : ISO 8601 start of the recording; default: the file's modification time (UTC),
        since a generic CSV does not say when it was recorded.

    Returns
    -------
    Session
        One stream per placement. A sensor's rows with any empty/NaN cell are dropped from that
        stream; its nominal sample rate is ``1 / median(dt)`` over its own samples (to 9 significant
        digits), and time steps of ``>= 1.5`` periods are recorded as gaps of ``rint(dt / period) - 1`` lost samples.

    Raises
    ------
    FormatError
        No ``t_s`` column, unknown column names, an incomplete sensor, a non-numeric cell.
    ValidationError
        ``t_s`` not increasing, or sensor data that fails the model's checks.
    """
    p = Path(path)
    table = read_text_table(p, label=p.name)
    short = np.flatnonzero(table.n_fields < len(table.header))
    if short.size:
        k = int(short[0])
        raise FormatError(
            f"{p.name}: line {table.line_numbers[k]} has {table.n_fields[k]} fields but the header has {len(table.header)}"
        )
    layout = _parse_columns(table)
    t = float_column(table, TIME_COLUMN)
    if t.size < 2:
        raise FormatError(f"{p.name}: needs at least 2 data rows, found {t.size}")
    _check_time(t, table)
    streams = []
    for placement, kinds in layout.items():
        streams.append(_stream(table, t, placement, kinds))
    when, time_notes = stated_or_file_time(recorded_at, p)
    try:
        meta = SessionMeta(subject_id=subject_id, recorded_at=when, source="import:csv",
                           notes="; ".join([f"imported from {p.name}", *time_notes]))
        return Session(streams, meta)
    except ValidationError as exc:
        raise ValidationError(f"{p.name}: {exc}") from None


def _is_missing(cell: str) -> bool:
    return cell == "" or cell.lower() == "nan"


def _parse_columns(table: TextTable) -> dict[Placement, dict[str, list[str]]]:
    """``{placement: {kind: [column names in axis order]}}``, checked for completeness."""
    if TIME_COLUMN not in table.header:
        raise FormatError(f"{table.label}: no {TIME_COLUMN} column (time in seconds)")
    found: dict[Placement, dict[str, set[str]]] = {}
    unknown = []
    for name in table.header:
        if name == TIME_COLUMN:
            continue
        m = _COLUMN.match(name)
        try:
            placement = Placement(m["placement"]) if m else None
        except ValueError:
            placement = None
        if placement is None or m["axis"] not in _AXES[m["kind"]]:
            unknown.append(name)
            continue
        found.setdefault(placement, {}).setdefault(m["kind"], set()).add(m["axis"])
    if unknown:
        raise FormatError(
            f"{table.label}: unknown column(s) {', '.join(unknown)}; expected t_s and "
            f"<placement>_<acc|gyr|mag>_<x|y|z> or <placement>_q_<w|x|y|z> with placement one of "
            f"{', '.join(p.value for p in Placement)}"
        )
    if not found:
        raise FormatError(f"{table.label}: no sensor columns (e.g. left_thigh_acc_x)")
    layout: dict[Placement, dict[str, list[str]]] = {}
    for placement in Placement:
        kinds = found.get(placement)
        if kinds is None:
            continue
        for kind in ("acc", "gyr"):
            if kind not in kinds:
                raise FormatError(f"{table.label}: {placement.value} has no {kind} columns ({placement.value}_{kind}_x, _y, _z)")
        for kind, axes in kinds.items():
            lacking = [a for a in _AXES[kind] if a not in axes]
            if lacking:
                cols = ", ".join(f"{placement.value}_{kind}_{a}" for a in lacking)
                raise FormatError(f"{table.label}: {placement.value} lacks column(s) {cols}")
        layout[placement] = {k: [f"{placement.value}_{k}_{a}" for a in _AXES[k]] for k in _AXES if k in kinds}
    return layout


def _check_time(t: np.ndarray, table: TextTable) -> None:
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        k = int(bad[0])
        raise ValidationError(f"{table.label}: line {table.line_numbers[k]}: t_s is {float(t[k])!r}")
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise ValidationError(
            f"{table.label}: t_s does not increase at line {table.line_numbers[k]} ({float(t[k - 1])!r} s then {float(t[k])!r} s)"
        )
    step = float(np.median(np.diff(t)))
    rate_hz = 1.0 / step
    if rate_hz < MIN_PLAUSIBLE_RATE_HZ:
        guess = next((f"; it looks like {unit} (that would be {scale * rate_hz:.4g} Hz): divide t_s by {scale:g}"
                      for unit, scale in _TIME_UNITS if MIN_PLAUSIBLE_RATE_HZ <= scale * rate_hz <= 10_000.0), "")
        raise ValidationError(
            f"{table.label}: t_s steps by {step:g} (median), a sample rate of {rate_hz:.3g} Hz — below the "
            f"{MIN_PLAUSIBLE_RATE_HZ:g} Hz an IMU for gait samples at; t_s must be in seconds{guess}"
        )


def _stream(table: TextTable, t: np.ndarray, placement: Placement, kinds: dict[str, list[str]]) -> ImuStream:
    blocks = {k: np.column_stack([float_column(table, c, is_missing=_is_missing) for c in cols]) for k, cols in kinds.items()}
    keep = ~np.any(np.isnan(np.column_stack(list(blocks.values()))), axis=1)
    where = f"{table.label}: {placement.value}"
    if keep.sum() < 2:
        raise ValidationError(f"{where}: fewer than 2 complete samples")
    t_kept = t[keep]
    rate_hz, period_s = rate_from_times(t_kept)
    try:
        return ImuStream(
            placement=placement, t_s=t_kept, acc_mps2=blocks["acc"][keep], gyr_radps=blocks["gyr"][keep],
            sample_rate_hz=rate_hz,
            mag_uT=blocks["mag"][keep] if "mag" in blocks else None,
            q_world_sensor=blocks["q"][keep] if "q" in blocks else None,
            gaps=gaps_from_times(t_kept, period_s),
            device=DeviceInfo(gyr_sampling=source_gyr_sampling("csv_generic")),  # the user declares it
        )
    except ValidationError as exc:
        raise ValidationError(f"{table.label}: {exc}") from None


def write_csv_session(session: Session, path: str | os.PathLike) -> Path:
    """Export ``session`` to the generic CSV layout (atomically), readable by :func:`read_csv_session`.

    Rows are the sorted union of all streams' ``t_s``; a sensor's cells are empty in rows where
    it has no sample. Floats are written in shortest round-trip form, so values read back
    bit-exact. Not kept: device info, protocol steps, and gaps (re-derived from the time steps on
    import) — use the native format for a lossless copy.
    """
    t_all = np.unique(np.concatenate([s.t_s for s in session.streams]))
    columns: dict[str, np.ndarray] = {TIME_COLUMN: t_all}
    for placement, s in session.items():
        rows = np.searchsorted(t_all, s.t_s)
        parts = {"acc": s.acc_mps2, "gyr": s.gyr_radps, "mag": s.mag_uT, "q": s.q_world_sensor}
        for kind, data in parts.items():
            if data is None:
                continue
            for k, axis in enumerate(_AXES[kind]):
                col = np.full(t_all.shape, np.nan)
                col[rows] = data[:, k]
                columns[f"{placement.value}_{kind}_{axis}"] = col
    target = Path(path)
    with atomic_path(target) as tmp:
        pd.DataFrame(columns).to_csv(tmp, index=False, na_rep="", lineterminator="\n")
    return target
