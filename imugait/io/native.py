"""The native session file: one Parquet file per session, readable with pandas alone.

Layout (``docs/formats.md`` is the reference):

* Long format, one row per sample, rows grouped by stream in the order of :class:`Placement`
  and by time within a stream. Columns: ``placement`` (string, dictionary-encoded), ``t_s``,
  ``acc_{x,y,z}_mps2``, ``gyr_{x,y,z}_radps``, ``mag_{x,y,z}_uT`` and
  ``q_world_sensor_{w,x,y,z}``; all float64. The magnetometer and quaternion columns are null
  for the rows of a stream that has none (every column is always present).
* Parquet key-value metadata: ``imugait.format_version`` (``"1"``), ``imugait.session`` (JSON:
  session metadata and per stream its sample rate, device, gaps, row count, SHA-256 of its
  samples and, since 2026-12-05, of each column group apart) and ``imugait.session_sha256``
  (SHA-256 of that JSON text).

Integrity: Parquet page checksums are written and verified; on top, the per-stream hashes and
the metadata hash are verified on every read, so a flipped byte is an error, never silently
wrong data. Writes are atomic (temporary file, fsync, ``os.replace``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from imugait.atomic import atomic_path
from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io._session_json import (
    device_from_dict,
    device_to_dict,
    gaps_from_list,
    gaps_to_list,
    meta_from_dict,
    meta_to_dict,
)
from imugait.model import ImuStream, Session

FORMAT_VERSION = 1
"""Bumped whenever a reader of the previous version could not read a new file correctly."""

KEY_VERSION = b"imugait.format_version"
KEY_SESSION = b"imugait.session"
KEY_SESSION_SHA256 = b"imugait.session_sha256"
GROUP_HASHES = "sha256_groups"
"""Key of a stream entry: the SHA-256 of each of its column groups apart (optional; files written
before 2026-12-05 lack it, and readers of format version 1 ignore it)."""
MOTION_GROUPS = (True, True, True, False, False)
"""The column groups (``COLUMN_GROUPS``) a 6-axis analysis needs: time, accelerometer, gyroscope."""

ACC_COLUMNS = ("acc_x_mps2", "acc_y_mps2", "acc_z_mps2")
GYR_COLUMNS = ("gyr_x_radps", "gyr_y_radps", "gyr_z_radps")
MAG_COLUMNS = ("mag_x_uT", "mag_y_uT", "mag_z_uT")
QUAT_COLUMNS = ("q_world_sensor_w", "q_world_sensor_x", "q_world_sensor_y", "q_world_sensor_z")
FLOAT_COLUMNS = ("t_s", *ACC_COLUMNS, *GYR_COLUMNS, *MAG_COLUMNS, *QUAT_COLUMNS)
COLUMNS = ("placement", *FLOAT_COLUMNS)

_PARQUET_MAGIC = b"PAR1"
_MIN_THRIFT_LIMIT = 1 << 16
"""Thrift decoding limits (list elements, string bytes) are the file's size, at least this."""


COMPRESSION = "lz4_raw"
"""Parquet codec of newly written files. LZ4 (Parquet's ``LZ4_RAW``) decodes about twice as fast
as zstd, which the format used before 2026-12-05 (an hour of four sensors at 200 Hz: 0.20
against 0.44 s of CPU to decode, of the ≈ 1.5 s ``read_session`` takes), for files ≈ 40 % larger
(123 against 87 MB; the samples themselves are 230 MB). The codec is recorded in the file, so
files written with zstd read exactly as before and older imugait versions read the new ones: the
format version is unchanged."""

ROW_GROUP_ROWS = 1 << 16
"""Rows per Parquet row group: a time window of a long recording
(:mod:`imugait.io.native_ranges`) decodes only the groups it touches. (Parquet's default, 1 M
rows, made each window decode up to a million rows per sensor; 64 k rows cost +1.3 % file size
and no read time on an hour of four sensors.)"""


def write_session(session: Session, path: str | os.PathLike) -> Path:
    """Write ``session`` to ``path`` (conventionally ``*.parquet``), atomically.

    Parameters
    ----------
    session : Session
        Any valid session; every stream's arrays are stored bit-exact as float64.
    path : path-like
        Target file; an existing file is replaced only once the new one is complete on disk.

    Returns
    -------
    Path
        ``path`` as a :class:`~pathlib.Path`.
    """
    if not isinstance(session, Session):
        raise ValidationError(f"write_session needs a Session, got {type(session).__name__}")
    table = _session_table(session)
    target = Path(path)
    with atomic_path(target) as tmp:
        pq.write_table(
            table, tmp, compression=COMPRESSION, write_page_checksum=True,
            use_dictionary=["placement"], write_statistics=["placement", "t_s"], row_group_size=ROW_GROUP_ROWS,
        )
    return target


def read_session(path: str | os.PathLike, *, motion_only: bool = False) -> Session:
    """Read a session written by :func:`write_session`, verifying checksums and hashes.

    Parameters
    ----------
    path : path-like
        The native session file.
    motion_only : bool
        Leave out the magnetometer and the devices' own orientations (``mag_uT`` and
        ``q_world_sensor`` are None in every stream): what a 6-axis analysis
        (:func:`~imugait.analysis.analyze_session`) reads. Their columns are then not decoded,
        hashed or checked — in files that hash each column group apart (written since
        2026-12-05); an older file is read and verified whole and the two groups dropped after.

    Raises
    ------
    FormatError
        The file is missing, truncated, corrupt, not an imugait session, of another format
        version, or lacks columns; the message names the file and the problem.
    """
    pf, header, name = open_native(path)
    return _session_from_file(pf, header, name, motion_only)


def open_native(path: str | os.PathLike) -> tuple[pq.ParquetFile, dict[str, Any], str]:
    """The file opened for reading (page checksums verified), its checked session header and
    its name for messages; raises :class:`FormatError` as :func:`read_session` does."""
    p = Path(path)
    name = p.name
    size = _check_container(p)
    try:
        # a footer of n bytes holds at most n thrift list elements and n bytes of strings; without
        # these limits a damaged 9-KB footer declaring a million-element list took 177 MB (fuzzing)
        limit = max(size, _MIN_THRIFT_LIMIT)
        pf = pq.ParquetFile(p, page_checksum_verification=True, thrift_string_size_limit=limit,
                            thrift_container_size_limit=limit)
        kv = pf.schema_arrow.metadata or {}
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FormatError(f"{name} is corrupt: cannot read the Parquet footer ({_reason(exc)})") from None
    header = _read_header(kv, name)
    missing = [c for c in COLUMNS if c not in pf.schema_arrow.names]
    if missing:
        raise FormatError(f"{name}: missing column(s) {', '.join(missing)}")
    for col in FLOAT_COLUMNS:
        if pf.schema_arrow.field(col).type != pa.float64():
            raise FormatError(f"{name}: column {col} is {pf.schema_arrow.field(col).type}, expected double")
    return pf, header, name


def _reason(exc: BaseException) -> str:
    """pyarrow's message on one line (thrift errors span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_container(p: Path) -> int:
    """The file's size, once its first and last four bytes are Parquet's magic."""
    name = p.name
    try:
        size = p.stat().st_size
        with open(p, "rb") as f:
            head = f.read(4)
            f.seek(max(size - 4, 0))
            tail = f.read(4)
    except FileNotFoundError:
        raise FormatError(f"{p}: no such file") from None
    except OSError as exc:
        raise FormatError(f"{p}: cannot read ({exc.strerror})") from None
    if head != _PARQUET_MAGIC:
        hint = ""
        if head.lstrip()[:1] in (b"{", b"["):
            hint = (
                "; it looks like JSON (an analysis or report result?): give the session's .parquet file "
                "it was made from"
            )
        raise FormatError(f"{name} is not a Parquet file (an imugait session starts with 'PAR1'){hint}")
    if size < 12 or tail != _PARQUET_MAGIC:
        raise FormatError(f"{name} is truncated: no Parquet footer (interrupted write or incomplete copy)")
    return size


def _read_header(kv: dict[bytes, bytes], name: str) -> dict[str, Any]:
    if KEY_VERSION not in kv:
        raise FormatError(f"{name} is a Parquet file but not an imugait session (no imugait.format_version metadata)")
    raw_version = kv[KEY_VERSION].decode("utf-8", "replace")
    try:
        version = int(raw_version)
    except ValueError:
        raise FormatError(f"{name}: unreadable imugait.format_version {raw_version!r}") from None
    if version != FORMAT_VERSION:
        hint = "upgrade imugait to read it" if version > FORMAT_VERSION else "convert it with the imugait that wrote it"
        raise FormatError(f"{name} has format version {version}; this imugait reads version {FORMAT_VERSION} ({hint})")
    text = kv.get(KEY_SESSION)
    if text is None:
        raise FormatError(f"{name}: no imugait.session metadata")
    expected = kv.get(KEY_SESSION_SHA256, b"").decode("ascii", "replace")
    if hashlib.sha256(text).hexdigest() != expected:
        raise FormatError(f"{name} is corrupt: the session metadata does not match its checksum")
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{name}: session metadata is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or not isinstance(header.get("streams"), list):
        raise FormatError(f"{name}: session metadata has no 'streams' list")
    return header


def _session_table(session: Session) -> pa.Table:
    placements = list(session)
    codes = np.concatenate([np.full(s.n_samples, i, dtype=np.int8) for i, s in enumerate(session.streams)])
    columns: dict[str, pa.Array] = {
        "placement": pa.DictionaryArray.from_arrays(
            pa.array(codes, type=pa.int8()), pa.array([p.value for p in placements], type=pa.string())
        )
    }
    for col, values in zip(FLOAT_COLUMNS, _stacked_columns(session), strict=True):
        columns[col] = values
    streams = []
    for s in session.streams:
        streams.append({
            "placement": s.placement.value,
            "n_samples": s.n_samples,
            "sample_rate_hz": float(s.sample_rate_hz),
            "has_mag": s.mag_uT is not None,
            "has_quat": s.q_world_sensor is not None,
            "device": device_to_dict(s.device),
            "gaps": gaps_to_list(s.gaps),
            "sha256": _stream_sha256(s),
            GROUP_HASHES: _group_sha256s(s),
        })
    try:
        text = json.dumps(
            {"format_version": FORMAT_VERSION, "meta": meta_to_dict(session.meta), "streams": streams},
            ensure_ascii=False, allow_nan=False, separators=(",", ":"),
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        # DeviceInfo and SessionMeta fields are not validated by the model; NaN ranges or
        # numpy scalars other than float64 end up here.
        raise ValidationError(f"session metadata cannot be stored: {exc}") from None
    kv = {
        KEY_VERSION: str(FORMAT_VERSION).encode("ascii"),
        KEY_SESSION: text,
        KEY_SESSION_SHA256: hashlib.sha256(text).hexdigest().encode("ascii"),
    }
    return pa.table(columns).replace_schema_metadata(kv)


def _stacked_columns(session: Session) -> list[pa.Array]:
    """The float columns in ``FLOAT_COLUMNS`` order, streams concatenated, nulls where absent."""
    blocks: list[list[np.ndarray]] = [[] for _ in FLOAT_COLUMNS]
    valid: list[list[np.ndarray]] = [[] for _ in FLOAT_COLUMNS]
    for s in session.streams:
        n = s.n_samples
        parts = [s.t_s[:, None], s.acc_mps2, s.gyr_radps, s.mag_uT, s.q_world_sensor]
        widths = [1, 3, 3, 3, 4]
        j = 0
        for part, width in zip(parts, widths, strict=True):
            for k in range(width):
                blocks[j].append(np.zeros(n) if part is None else part[:, k])
                valid[j].append(np.full(n, part is not None))
                j += 1
    out = []
    for data, ok in zip(blocks, valid, strict=True):
        mask = ~np.concatenate(ok)
        out.append(pa.array(np.concatenate(data), type=pa.float64(), mask=mask if mask.any() else None))
    return out


def _stream_sha256(s: ImuStream) -> str:
    return _arrays_sha256(_stream_arrays(s))


def _stream_arrays(s: ImuStream) -> tuple[np.ndarray | None, ...]:
    """The stream's arrays in ``COLUMN_GROUPS`` order (None where absent)."""
    return (s.t_s, s.acc_mps2, s.gyr_radps, s.mag_uT, s.q_world_sensor)


def _group_sha256s(s: ImuStream) -> dict[str, str]:
    """SHA-256 of each present column group alone, by ``GROUP_NAMES``: what lets a reader verify
    the groups it decodes without decoding the others."""
    return {key: _arrays_sha256((arr,)) for key, arr in zip(GROUP_NAMES, _stream_arrays(s), strict=True)
            if arr is not None}


def _arrays_sha256(arrays: tuple[np.ndarray | None, ...]) -> str:
    """SHA-256 of the little-endian float64 bytes of the present arrays, in order."""
    h = hashlib.sha256()
    for arr in arrays:
        if arr is not None:
            h.update(np.ascontiguousarray(arr, dtype="<f8"))  # the buffer itself, no bytes copy
    return h.hexdigest()


COLUMN_GROUPS = (("t_s",), ACC_COLUMNS, GYR_COLUMNS, MAG_COLUMNS, QUAT_COLUMNS)
GROUP_NAMES = ("t_s", "acc", "gyr", "mag", "quat")
READ_BATCH_ROWS = 1 << 16
"""The file is decoded in batches of this many rows, each copied straight into the streams'
arrays: the peak while reading is the samples plus one batch. (Decoding the whole table first held
it, null magnetometer and quaternion columns included, next to the arrays made from it — about
3.5× the samples — and Arrow's allocator kept much of that after the table was freed.)"""


def stream_layout(pf: pq.ParquetFile, header: dict[str, Any], name: str) -> tuple[list[int], list[int], list[Placement], list[list]]:
    """Per stream of the header: its row count, first row, placement and which column groups
    (``COLUMN_GROUPS``) it has (True; the magnetometer's and quaternions' flags as stored)."""
    entries = header["streams"]
    counts = [e.get("n_samples") if isinstance(e, dict) else None for e in entries]
    if not all(type(c) is int and c >= 0 for c in counts):
        raise FormatError(f"{name}: session metadata has a stream without a valid n_samples")
    if sum(counts) != pf.metadata.num_rows:
        raise FormatError(f"{name}: metadata lists {sum(counts)} samples but the file holds {pf.metadata.num_rows} rows")
    offsets = np.cumsum([0, *counts[:-1]]).tolist()
    placements = [_stream_placement(entry, name, i) for i, entry in enumerate(entries)]
    flags = [[True, True, True, e.get("has_mag"), e.get("has_quat")] for e in entries]
    return counts, offsets, placements, flags


def _session_from_file(pf: pq.ParquetFile, header: dict[str, Any], name: str, motion_only: bool) -> Session:
    """The session of the file; ``motion_only``: only the groups of ``MOTION_GROUPS``, the others
    None in every stream."""
    entries = header["streams"]
    counts, offsets, placements, flags = stream_layout(pf, header, name)
    # A subset is decoded only where every stream's groups can be verified apart.
    if motion_only and not all(isinstance(e.get(GROUP_HASHES), dict) for e in entries):
        return _session_from_file(pf, header, name, False).motion_only()
    wanted = MOTION_GROUPS if motion_only else (True,) * len(COLUMN_GROUPS)
    groups = [g for g, want in enumerate(wanted) if want]
    arrays = [[np.empty((n, len(COLUMN_GROUPS[g])) if len(COLUMN_GROUPS[g]) > 1 else n) if f[g] is True and wanted[g]
               else None for g in range(len(COLUMN_GROUPS))] for n, f in zip(counts, flags, strict=True)]
    nulls = [[0] * len(COLUMN_GROUPS) for _ in entries]
    labelled = [True] * len(entries)
    columns = ["placement", *(c for g in groups for c in COLUMN_GROUPS[g])]
    row = 0
    try:
        for batch in pf.iter_batches(batch_size=READ_BATCH_ROWS, columns=columns, use_threads=False):
            end = row + batch.num_rows
            for i, (placement, offset, n) in enumerate(zip(placements, offsets, counts, strict=True)):
                lo, hi = max(offset, row), min(offset + n, end)
                if lo >= hi:
                    continue
                part = batch.slice(lo - row, hi - lo)
                labelled[i] &= carries_label(part.column(0), placement.value)
                k = 1
                for g in groups:
                    cols = COLUMN_GROUPS[g]
                    for j in range(len(cols)):
                        column = part.column(k + j)
                        nulls[i][g] += column.null_count
                        target = arrays[i][g]  # (n,) for the time, (n, k) for the others
                        if target is not None and not column.null_count:
                            rows = slice(lo - offset, hi - offset)
                            if target.ndim == 1:
                                target[rows] = column.to_numpy()
                            else:
                                target[rows, j] = column.to_numpy()
                    k += len(cols)
            row = end
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FormatError(f"{name} is corrupt: {_reason(exc)}") from None
    pa.default_memory_pool().release_unused()
    streams = []
    for i, (entry, placement, offset, n) in enumerate(zip(entries, placements, offsets, counts, strict=True)):
        where = f"{name}: {placement.value}"
        if not labelled[i]:
            raise FormatError(f"{where}: rows {offset}..{offset + n - 1} do not all carry this placement")
        for g, cols in enumerate(COLUMN_GROUPS):
            if wanted[g]:
                check_nulls(cols, flags[i][g], nulls[i][g], n, where)
            else:
                check_flag(flags[i][g], where)
        for arr in arrays[i]:
            if arr is not None:  # read-only arrays of their own: the stream takes them without a copy
                arr.flags.writeable = False
        _verify_hashes(arrays[i], entry, wanted, where)
        streams.append(_stream_from_blocks(arrays[i], entry, placement, name, i))
        arrays[i] = []
    try:
        return Session(streams, meta_from_dict(header.get("meta", {}), name))
    except ValidationError as exc:
        raise FormatError(f"{name}: {exc}") from None


def _verify_hashes(blocks: list[np.ndarray | None], entry: dict, wanted: tuple[bool, ...], where: str) -> None:
    """The stream's hash over all its groups when all were read; else each read group's own."""
    if all(wanted):
        ok = _arrays_sha256(tuple(blocks)) == entry.get("sha256")
    else:
        stored = entry[GROUP_HASHES]
        ok = all(_arrays_sha256((arr,)) == stored.get(key)
                 for key, arr, want in zip(GROUP_NAMES, blocks, wanted, strict=True) if want and arr is not None)
    if not ok:
        raise FormatError(f"{where}: samples do not match their checksum (the file is corrupt)")


def carries_label(column: pa.Array, value: str) -> bool:
    """Every row of ``column`` (a slice of the placement column) is ``value``; a null is not.
    Dictionary-encoded (as written): the rows' codes against the dictionary's entries equal to
    ``value`` — no string per row (comparing in Arrow decoded them: 6× the CPU). Otherwise (a file
    rewritten by another tool) compared in Arrow."""
    if not pa.types.is_dictionary(column.type):
        return bool(pc.all(pc.equal(column, value), skip_nulls=False).as_py())
    if column.null_count:
        return False
    codes = np.flatnonzero(column.dictionary.to_numpy(zero_copy_only=False) == value)
    return bool(np.isin(column.indices.to_numpy(), codes).all())


def _stream_placement(entry: dict, name: str, i: int) -> Placement:
    try:
        return Placement(entry.get("placement"))
    except ValueError:
        raise FormatError(f"{name}: stream {i} has an unknown placement {entry.get('placement')!r}") from None


def check_flag(present: Any, where: str) -> None:
    """A column group's presence flag (``has_mag``, ``has_quat``; True for the others) is a bool."""
    if not isinstance(present, bool):
        raise FormatError(f"{where}: metadata has no has_mag/has_quat flag")


def check_nulls(cols: tuple[str, ...], present: Any, nulls: int, n: int, where: str) -> None:
    """Present columns have no nulls; absent ones (no magnetometer, no quaternions) only nulls."""
    check_flag(present, where)
    if present and nulls:
        raise FormatError(f"{where}: {cols[0][:3]} columns have {nulls} missing values")
    if not present and nulls != n * len(cols):
        raise FormatError(f"{where}: {cols[0][:3]} columns hold values the metadata says are absent")


def _stream_from_blocks(blocks: list[np.ndarray | None], entry: dict, placement: Placement, name: str, i: int) -> ImuStream:
    t, acc, gyr, mag, q = blocks
    try:
        return ImuStream(
            placement=placement, t_s=t, acc_mps2=acc, gyr_radps=gyr,
            sample_rate_hz=float(entry.get("sample_rate_hz", float("nan"))),
            mag_uT=mag, q_world_sensor=q,
            device=device_from_dict(entry.get("device", {}), name, f"streams[{i}].device"),
            gaps=gaps_from_list(entry.get("gaps", []), name, f"streams[{i}].gaps"),
        )
    except (ValidationError, TypeError, ValueError) as exc:
        raise FormatError(f"{name}: stored data is invalid: {exc}") from None
