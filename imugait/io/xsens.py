"""Xsens MT Manager text exports: one ``.txt`` per sensor, merged into a session.

File layout: ``//`` comment lines (one gives the rate: ``// Sample rate: 120.0Hz`` or
``// Update Rate: 100.0Hz``), a header row, tab/comma/semicolon separated values. Columns used:
``PacketCounter`` or ``Counter``; ``Acc_X..Z`` (m/s², specific force); ``Gyr_X..Z`` (rad/s);
optional ``Mag_X..Z`` (normalised, unitless); optional ``Quat_q0..q3`` (scalar first, sensor in
the Xsens local earth frame, z up). Other columns are ignored.

Time comes from the 16-bit packet counter, unwrapped, divided by the rate; missing counter values
become :class:`~imugait.model.Gap` entries (never interpolated). Sensors recorded together in MT
Manager share one counter, so ``t_s`` is aligned across files: ``t_s = 0`` is the first sample of
the earliest sensor.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imugait.conventions import Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._text_table import (
    TextTable,
    block,
    drop_truncated_last_line,
    earliest_stated_or_file_time,
    float_column,
    gaps_from_steps,
    optional_group,
    read_text_table,
)
from imugait.model import DeviceInfo, ImuStream, Session, SessionMeta

COUNTER_MODULUS = 65536
"""The packet counter is 16 bit."""
MAX_COUNTER_STEP = COUNTER_MODULUS // 2
"""A larger forward step is taken as a restarted or merged counter, not a gap (which it could
not be told apart from): the import refuses it rather than guess."""
XSENS_MAG_NOMINAL_UT = 50.0
"""µT per normalised Xsens magnetometer unit. Xsens normalises the field to the earth's field
strength at calibration (MTi/MTx user manual MT0100P, 'a.u. normalized to earth field strength');
50 µT is a round mid-latitude magnitude (the earth's field is ~25–65 µT). Directions are exact,
the absolute magnitude is only nominal — hence ``DeviceInfo.mag_normalised = True``."""

_RATE = re.compile(r"(?:sample|update)\s*rate\s*:\s*([0-9]+(?:\.[0-9]*)?)\s*hz", re.IGNORECASE)
_FIRMWARE = re.compile(r"firmware\s*version\s*:\s*(\S+)", re.IGNORECASE)
_DEVICE_ID = re.compile(r"^[0-9A-Fa-f]{8}$")
_COUNTER_NAMES = ("PacketCounter", "Counter")
_SUFFIXES = (".txt", ".csv")


@dataclass(frozen=True, eq=False)
class XsensFile:
    """One parsed export file, before it is placed on the session clock.

    Attributes
    ----------
    path, device_id, sample_rate_hz, firmware : where it came from.
    counter : (N,) int64, packet counter unwrapped to a monotonic count (starts at the raw value).
    acc_mps2, gyr_radps : (N, 3) float64, sensor frame.
    mag_normalised : (N, 3) float64, unitless, sensor frame, or None.
    q_world_sensor : (N, 4) float64, scalar first, or None.
    dropped_line : file line of a truncated last line that was skipped, or None.
    """

    path: Path
    device_id: str
    sample_rate_hz: float
    firmware: str
    counter: np.ndarray
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    mag_normalised: np.ndarray | None
    q_world_sensor: np.ndarray | None
    dropped_line: int | None


def read_xsens_file(path: str | os.PathLike, *, sample_rate_hz: float | None = None) -> XsensFile:
    """Parse one MT Manager text export.

    ``sample_rate_hz`` is needed only when the file's header does not state the rate (it
    overrides the header otherwise). A last line without end-of-line or with fewer fields than the
    header is a truncated write and is dropped (reported in ``dropped_line``); any other empty or
    non-numeric cell in a used column raises :class:`FormatError`.
    """
    p = Path(path)
    label = f"xsens file {p.name}"
    table = read_text_table(p, label=label, comment_prefix="//")
    rate = sample_rate_hz if sample_rate_hz is not None else _header_rate(table)
    if not (np.isfinite(rate) and rate > 0):
        raise FormatError(f"{label}: invalid sample rate {rate!r} Hz")
    counter_name = next((c for c in _COUNTER_NAMES if c in table.header), None)
    if counter_name is None:
        raise FormatError(f"{label}: no PacketCounter (or Counter) column")
    for col in (*_xyz("Acc"), *_xyz("Gyr")):
        if col not in table.header:
            raise FormatError(f"{label}: no {col} column")
    has_mag = optional_group(table, _xyz("Mag"))
    has_quat = optional_group(table, [f"Quat_q{k}" for k in range(4)])
    used = [counter_name, *_xyz("Acc"), *_xyz("Gyr"), *(_xyz("Mag") if has_mag else []),
            *([f"Quat_q{k}" for k in range(4)] if has_quat else [])]
    table, dropped = drop_truncated_last_line(table, used)
    if len(table.rows) < 2:
        raise FormatError(f"{label}: needs at least 2 samples, found {len(table.rows)}")
    return XsensFile(
        path=p,
        device_id=device_id_from_name(p),
        sample_rate_hz=float(rate),
        firmware=next((m[1] for m in map(_FIRMWARE.search, table.preamble) if m), ""),
        counter=_unwrap_counter(float_column(table, counter_name), table),
        acc_mps2=block(table, _xyz("Acc")),
        gyr_radps=block(table, _xyz("Gyr")),
        mag_normalised=block(table, _xyz("Mag")) if has_mag else None,
        q_world_sensor=block(table, [f"Quat_q{k}" for k in range(4)]) if has_quat else None,
        dropped_line=dropped,
    )


def read_xsens_dir(
    folder: str | os.PathLike,
    placement_map: Mapping[Placement, str],
    *,
    subject_id: str = "anonymous",
    sample_rate_hz: float | None = None,
    mag_field_uT: float = XSENS_MAG_NOMINAL_UT,
) -> Session:
    """Import the files of one Xsens recording as a session.

    Parameters
    ----------
    folder : the folder holding one export file per sensor.
    placement_map : placement -> sensor id (``00B40C45``) or file stem; see :func:`find_sensor_file`.
    subject_id : pseudonym for the metadata.
    sample_rate_hz : only for files whose header lacks the rate.
    mag_field_uT : µT per normalised magnetometer unit (default :data:`XSENS_MAG_NOMINAL_UT`).

    Returns
    -------
    Session
        ``t_s = (counter - first counter of the earliest sensor) / rate``; gaps from missing
        counter values; ``source = "import:xsens"``; ``recorded_at`` is the earliest file's
        modification time (the exports do not state it reliably).
    """
    if not placement_map:
        raise ValidationError("an Xsens import needs at least one placement, e.g. left_thigh=00B40C45")
    files = {pl: read_xsens_file(find_sensor_file(folder, key), sample_rate_hz=sample_rate_hz)
             for pl, key in placement_map.items()}
    rates = {f.sample_rate_hz for f in files.values()}
    if len(rates) > 1:
        listing = ", ".join(f"{f.path.name}: {f.sample_rate_hz:g} Hz" for f in files.values())
        raise FormatError(f"Xsens files have different sample rates ({listing}); their counters cannot share a clock")
    # Starting counters are compared modulo 2**16 relative to the first file, so a recording that
    # straddles a wrap still lines up.
    ref = next(iter(files.values())).counter[0]
    offsets = {pl: ((f.counter[0] - ref + MAX_COUNTER_STEP) % COUNTER_MODULUS) - MAX_COUNTER_STEP for pl, f in files.items()}
    origin = min(offsets.values())
    streams, notes = [], []
    for pl, f in files.items():
        count = f.counter - f.counter[0] + (offsets[pl] - origin)
        try:
            streams.append(ImuStream(
                placement=pl, t_s=count / f.sample_rate_hz, acc_mps2=f.acc_mps2, gyr_radps=f.gyr_radps,
                sample_rate_hz=f.sample_rate_hz,
                mag_uT=None if f.mag_normalised is None else f.mag_normalised * mag_field_uT,
                q_world_sensor=f.q_world_sensor,
                device=DeviceInfo(device_id=f.device_id, model="Xsens", firmware=f.firmware,
                                  protocol="xsens-mtmanager-text", mag_normalised=f.mag_normalised is not None,
                                  gyr_sampling=source_gyr_sampling("xsens_mt_text")),  # device dependent: the default
                gaps=gaps_from_steps(np.diff(f.counter)),
            ))
        except ValidationError as exc:
            raise ValidationError(f"xsens file {f.path.name}: {exc}") from None
        notes.append(f"{pl.value}={f.path.name}" + (f" (dropped truncated last line {f.dropped_line})" if f.dropped_line else ""))
    # The text export states no date: the files' times stand in, and the notes say so.
    recorded_at, time_notes = earliest_stated_or_file_time([None], [f.path for f in files.values()])
    meta = SessionMeta(
        subject_id=subject_id, recorded_at=recorded_at, source="import:xsens",
        notes="; ".join([f"imported from {', '.join(notes)}", *time_notes]),
    )
    return Session(streams, meta)


def find_sensor_file(folder: str | os.PathLike, key: str) -> Path:
    """The one ``.txt``/``.csv`` file in ``folder`` whose stem is ``key`` or contains it as a
    ``_``/``-``-separated part (``00B40C45`` matches ``MT_00B40C45_000.txt``); case-insensitive."""
    d = Path(folder)
    if not d.is_dir():
        raise FormatError(f"{d}: not a folder")
    want = key.strip().lower()
    candidates = sorted(f for f in d.iterdir() if f.is_file() and f.suffix.lower() in _SUFFIXES)
    hits = [f for f in candidates if f.stem.lower() == want or want in re.split(r"[_\-\s.]+", f.stem.lower())]
    if not hits:
        have = ", ".join(f.name for f in candidates) or "none"
        raise FormatError(f"no file in {d} matches sensor {key!r} (files: {have})")
    if len(hits) > 1:
        raise FormatError(f"several files in {d} match sensor {key!r}: {', '.join(f.name for f in hits)}")
    return hits[0]


def device_id_from_name(path: str | os.PathLike) -> str:
    """The 8-hex-digit Xsens device id in a file name (``MT_00B40C45_000.txt`` -> ``00B40C45``),
    preferring a part with letters (``20240101`` is more likely a date); else the file stem."""
    stem = Path(path).stem
    parts = [s for s in re.split(r"[_\-\s.]+", stem) if _DEVICE_ID.match(s)]
    if not parts:
        return stem
    with_letters = [s for s in parts if re.search(r"[A-Fa-f]", s)]
    return (with_letters or parts)[-1].upper()


def _xyz(prefix: str) -> list[str]:
    return [f"{prefix}_{a}" for a in "XYZ"]


def _header_rate(table: TextTable) -> float:
    for line in table.preamble:
        m = _RATE.search(line)
        if m:
            return float(m[1])
    raise FormatError(f"{table.label}: no '// Sample rate: ...Hz' or '// Update Rate: ...Hz' header line; pass the rate explicitly")


def _unwrap_counter(raw: np.ndarray, table: TextTable) -> np.ndarray:
    bad = np.flatnonzero((raw != np.rint(raw)) | (raw < 0) | (raw >= COUNTER_MODULUS))
    if bad.size:
        k = int(bad[0])
        raise FormatError(f"{table.label}: line {table.line_numbers[k]}: packet counter {float(raw[k])!r} is not an integer in 0..65535")
    c = raw.astype(np.int64)
    steps = np.diff(c) % COUNTER_MODULUS
    for k, why in ((np.flatnonzero(steps == 0), "repeats"), (np.flatnonzero(steps > MAX_COUNTER_STEP), "jumps back")):
        if k.size:
            i = int(k[0]) + 1
            raise FormatError(
                f"{table.label}: packet counter {why} at line {table.line_numbers[i]} ({c[i - 1]} then {c[i]}); "
                f"is this several recordings in one file?"
            )
    return c[0] + np.concatenate([[0], np.cumsum(steps)])
