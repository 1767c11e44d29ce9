"""What a batch run analyses: native session files and folders, and manifests of recordings in
other formats (``docs/batch.md`` documents the manifest).

Every input becomes a :class:`BatchInput` with a session id that names its results in the
output folder; ids are unique within a run.
"""

from __future__ import annotations

import csv
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io import SourceFormat, parse_placement_map, read_recording
from imugait.model import Session

SESSION_SUFFIXES = (".parquet", ".imugait")
"""A file given as an input (or found in a folder) with one of these suffixes is a native session."""
MANIFEST_SUFFIXES = (".csv", ".toml")
"""A file given as an input with one of these suffixes is a manifest."""
MANIFEST_COLUMNS = ("session", "path", "format", "map", "subject", "date")
"""Manifest columns with a meaning of their own; any other column is an option of the format's reader."""

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class BatchInput:
    """One recording to analyse: where it is, how to read it, and the id of its results."""

    session_id: str
    path: Path
    format: SourceFormat = SourceFormat.NATIVE
    placement_map: tuple[tuple[Placement, str], ...] = ()
    subject_id: str | None = None
    recorded_at: str | None = None
    options: tuple[tuple[str, Any], ...] = field(default=())

    def read(self, motion_only: bool = False) -> Session:
        """The session, through the one format dispatch of :mod:`imugait.io.formats`;
        ``motion_only``: without magnetometers and device orientations (``read_recording``'s)."""
        return read_recording(self.path, self.format, placement_map=dict(self.placement_map) or None,
                              subject_id=self.subject_id, recorded_at=self.recorded_at, options=dict(self.options),
                              motion_only=motion_only)

    def describe(self) -> dict[str, Any]:
        """The input as plain JSON values (stored with its results, part of its fingerprint)."""
        return {
            "path": str(self.path), "format": self.format.value,
            "map": {p.value: key for p, key in self.placement_map},
            "subject": self.subject_id, "date": self.recorded_at,
            "options": {k: v for k, v in self.options},
        }


def collect_inputs(paths: Iterable[str | Path], exclude: Path | None = None) -> list[BatchInput]:
    """The recordings named by ``paths``: session files, folders (searched recursively for session
    files; ``exclude``, the output folder, is skipped) and manifests (``.csv``, ``.toml``).

    Raises
    ------
    ValidationError
        A path that does not exist, a file that is neither a session nor a manifest, a folder
        without sessions, two inputs with the same session id.
    FormatError
        A manifest that cannot be read.
    """
    found: list[BatchInput] = []
    for raw in paths:
        p = Path(raw).absolute()  # workers may run elsewhere: they get absolute paths
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.suffix in SESSION_SUFFIXES and f.is_file()
                           and not f.name.startswith(".") and not _inside(f, exclude))
            if not files:
                raise ValidationError(f"{p}: no session files ({', '.join(SESSION_SUFFIXES)}) in this folder")
            found += [BatchInput(session_id(f.relative_to(p).with_suffix("").as_posix()), f) for f in files]
        elif p.suffix in SESSION_SUFFIXES and p.is_file():
            found.append(BatchInput(session_id(p.stem), p))
        elif p.suffix in MANIFEST_SUFFIXES and p.is_file():
            found += read_manifest(p)
        elif not p.exists():
            raise ValidationError(f"{p}: no such file or folder")
        else:
            raise ValidationError(
                f"{p}: not a session ({', '.join(SESSION_SUFFIXES)}), a folder or a manifest "
                f"({', '.join(MANIFEST_SUFFIXES)}); recordings in other formats are listed in a manifest")
    _check_unique(found)
    return found


def read_manifest(path: str | Path) -> list[BatchInput]:
    """The recordings a CSV or TOML manifest lists; relative paths are relative to the manifest."""
    p = Path(path)
    rows = _toml_rows(p) if p.suffix == ".toml" else _csv_rows(p)
    out = []
    for i, row in enumerate(rows, 1):
        where = f"{p.name}, entry {i}"
        try:
            out.append(_entry(row, p.parent, where))
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc}") from None
    if not out:
        raise ValidationError(f"{p}: the manifest lists no recordings")
    return out


def session_id(text: str) -> str:
    """A session id safe as a folder name: letters, digits, ``._-``; anything else becomes ``_``
    (``s01/walk 1`` → ``s01_walk_1``)."""
    sid = _UNSAFE.sub("_", text).strip("._")
    if not sid:
        raise ValidationError(f"cannot make a session id from {text!r}")
    return sid


def _entry(row: Mapping[str, Any], base: Path, where: str) -> BatchInput:
    if not row.get("path"):
        raise ValidationError("has no path")
    path = Path(str(row["path"]))
    path = path if path.is_absolute() else (base / path).absolute()
    fmt = str(row.get("format") or SourceFormat.NATIVE.value).strip().lower()
    try:
        kind = SourceFormat(fmt)
    except ValueError:
        raise ValidationError(f"unknown format {fmt!r}; known: {', '.join(f.value for f in SourceFormat)}") from None
    options = {k: v for k, v in row.items() if k not in MANIFEST_COLUMNS and v not in (None, "")}
    sid = row.get("session") or (path.stem + (f"_{options['walk']}" if "walk" in options else ""))
    return BatchInput(
        session_id=session_id(str(sid)), path=path, format=kind,
        placement_map=tuple(_placement_map(row.get("map")).items()),
        subject_id=str(row["subject"]) if row.get("subject") else None,
        recorded_at=_date(row.get("date")),
        options=tuple(sorted(options.items())),
    )


def _placement_map(value: Any) -> dict[Placement, str]:
    """A map cell: ``left_thigh=A;left_shank=B`` (``;``, ``,`` or spaces between), a TOML table
    ``{left_thigh = "A"}`` or a list ``["left_thigh=A"]``."""
    if not value:
        return {}
    if isinstance(value, Mapping):
        items = [f"{k}={v}" for k, v in value.items()]
    elif isinstance(value, str):
        items = [s for s in re.split(r"[;,\s]+", value) if s]
    else:
        items = [str(v) for v in value]
    return parse_placement_map(items)


def _date(value: Any) -> str | None:
    """ISO 8601 text; a bare TOML date or date-time is accepted too. Checked by the session model."""
    if value in (None, ""):
        return None
    text = value.isoformat() if hasattr(value, "isoformat") else str(value).strip()
    return text if "T" in text or " " in text else f"{text}T00:00:00"


def _csv_rows(p: Path) -> list[dict[str, Any]]:
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "path" not in [c.strip() for c in reader.fieldnames]:
                raise FormatError(f"{p.name}: a CSV manifest needs a header row with a 'path' column")
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FormatError(f"{p.name}: cannot read the manifest ({exc})") from None


def _toml_rows(p: Path) -> list[dict[str, Any]]:
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise FormatError(f"{p.name}: cannot read the manifest ({exc})") from None
    rows = doc.get("recording")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise FormatError(f"{p.name}: a TOML manifest lists its recordings as [[recording]] tables")
    defaults = {k: v for k, v in doc.items() if k != "recording"}
    return [{**defaults, **r} for r in rows]


def _check_unique(inputs: list[BatchInput]) -> None:
    counts = Counter(i.session_id for i in inputs)
    twice = sorted(sid for sid, n in counts.items() if n > 1)
    if twice:
        raise ValidationError(
            f"two inputs have the session id {', '.join(twice)}; give each its own id in a manifest's "
            f"'session' column (or list the folders above them)")


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
