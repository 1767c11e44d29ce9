"""Delimited text files as cells of strings, and the checks every text importer shares.

Numbers are parsed by Python's ``float`` (correctly rounded), so a value written with ``repr``
reads back bit-exact. Every error names the file, the line and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imugait.errors import FormatError
from imugait.model import FILE_TIME_NOTE, Gap

_DELIMITERS = ("\t", ",", ";")


@dataclass(frozen=True)
class TextTable:
    """The data part of a delimited text file.

    Attributes
    ----------
    label : file name used in messages.
    preamble : the comment lines before the header, without their prefix and line end.
    header : column names (stripped); trailing unnamed empty columns are dropped.
    rows : cells as stripped strings, as many as the line had (at most the header's width; read
        them with :meth:`cell`, which gives ``""`` for a missing one). Not padded: a wide header
        over many short lines would otherwise take header width × lines of memory (a 16-KB file
        of 2,000 named columns and 4,192 one-number lines took 65 MB).
    line_numbers : (n_rows,) 1-based line of each row in the file.
    n_fields : (n_rows,) how many fields each row really had.
    ends_with_newline : False when the last line has no end-of-line (an interrupted write).
    """

    label: str
    preamble: tuple[str, ...]
    header: tuple[str, ...]
    rows: list[list[str]]
    line_numbers: np.ndarray
    n_fields: np.ndarray
    ends_with_newline: bool

    def column_index(self, name: str) -> int | None:
        try:
            return self.header.index(name)
        except ValueError:
            return None

    def cell(self, i: int, j: int) -> str:
        """Row ``i``, column ``j``; ``""`` where the line had fewer fields."""
        row = self.rows[i]
        return row[j] if j < len(row) else ""

    def drop_last_row(self) -> TextTable:
        return TextTable(
            self.label, self.preamble, self.header, self.rows[:-1], self.line_numbers[:-1],
            self.n_fields[:-1], True,
        )


def read_text_table(
    path: str | os.PathLike, *, label: str, comment_prefix: str | None = None, header_start: str | None = None
) -> TextTable:
    """Read a delimited file: optional ``comment_prefix`` lines, a header row, data rows.

    With ``header_start`` every line before the first one that starts with it is preamble (for
    exports whose metadata lines have no common prefix, such as Movella DOT's ``Key:,value``).

    The delimiter (tab, comma or semicolon) is the most frequent of them in the header row.
    Blank lines are skipped. Rows with more fields than the header raise :class:`FormatError`;
    shorter rows read as empty cells past their end and are reported in ``n_fields`` for the
    caller to judge.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FormatError(f"{label}: no such file") from None
    except UnicodeDecodeError as exc:
        raise FormatError(f"{label}: not a text file (byte {exc.start} is not UTF-8)") from None
    except OSError as exc:
        raise FormatError(f"{label}: cannot read ({exc.strerror})") from None
    lines = text.splitlines(keepends=True)
    preamble = []
    i = 0
    if header_start is not None:
        while i < len(lines) and not lines[i].lstrip().startswith(header_start):
            if lines[i].strip():
                preamble.append(lines[i].strip())
            i += 1
        if i == len(lines):
            raise FormatError(f"{label}: no header row starting with {header_start!r}")
    while i < len(lines) and (not lines[i].strip() or (comment_prefix and lines[i].lstrip().startswith(comment_prefix))):
        if lines[i].strip():
            preamble.append(lines[i].strip()[len(comment_prefix):].strip())
        i += 1
    if i == len(lines):
        raise FormatError(f"{label}: no header row (the file is empty or has only comments)")
    header_line = lines[i]
    delimiter = max(_DELIMITERS, key=header_line.count)
    reader = csv.reader(lines[i:], delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    while header and not header[-1]:
        header.pop()
    width = len(header)
    _check_header(header, label)
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    n_fields: list[int] = []
    for cells in reader:
        if not cells or all(not c.strip() for c in cells):
            continue
        cells = [c.strip() for c in cells]
        n = len(cells)
        while n > width and not cells[n - 1]:
            n -= 1
        line_no = i + reader.line_num
        if n > width:
            raise FormatError(f"{label}: line {line_no} has {n} fields but the header has {width}")
        rows.append(cells[:n])
        line_numbers.append(line_no)
        n_fields.append(n)
    return TextTable(
        label=label, preamble=tuple(preamble), header=tuple(header), rows=rows,
        line_numbers=np.asarray(line_numbers, dtype=np.int64), n_fields=np.asarray(n_fields, dtype=np.int64),
        ends_with_newline=text.endswith(("\n", "\r")),
    )


def _check_header(header: list[str], label: str) -> None:
    for k, name in enumerate(header):
        if not name:
            raise FormatError(f"{label}: header column {k + 1} has no name")
    seen = set()
    dups = sorted({h for h in header if h in seen or seen.add(h)})
    if dups:
        raise FormatError(f"{label}: duplicate column(s) {', '.join(dups)}")


def float_column(table: TextTable, name: str, *, is_missing: Callable[[str], bool] | None = None) -> np.ndarray:
    """Column ``name`` as ``(n_rows,)`` float64.

    Cells for which ``is_missing`` is true become NaN; without ``is_missing`` an empty cell is an
    error. A cell that is not a number raises :class:`FormatError` naming its line and column.
    """
    j = table.column_index(name)
    if j is None:
        raise FormatError(f"{table.label}: no {name} column")
    cells = [r[j] if j < len(r) else "" for r in table.rows]
    missing = np.array([is_missing(c) for c in cells] if is_missing else [c == "" for c in cells], dtype=bool)
    if is_missing is None and missing.any():
        k = int(np.argmax(missing))
        raise FormatError(f"{table.label}: line {table.line_numbers[k]}: column {name} is empty")
    try:
        values = np.array(["nan" if m else c for c, m in zip(cells, missing, strict=True)], dtype=str).astype(np.float64)
    except ValueError:
        for k, c in enumerate(cells):
            if not missing[k]:
                try:
                    float(c)
                except ValueError:
                    raise FormatError(
                        f"{table.label}: line {table.line_numbers[k]}: column {name} holds {c!r}, not a number"
                    ) from None
        raise
    return values.reshape(len(cells))


def gaps_from_steps(steps: np.ndarray) -> tuple[Gap, ...]:
    """Gaps from per-sample index steps.

    Parameters
    ----------
    steps : (N - 1,) int, how far the sample index advances from sample ``i`` to ``i + 1``
        (1 = consecutive; ``k > 1`` = ``k - 1`` samples lost after sample ``i``).
    """
    steps = np.asarray(steps, dtype=np.int64)
    return tuple(Gap(after_index=int(i), n_lost=int(steps[i] - 1)) for i in np.flatnonzero(steps > 1))


GAP_STEP_FACTOR = 1.5
"""A time step of at least this many nominal periods counts as lost samples (``rint(dt/period) - 1``)."""


def gaps_from_times(t_s: np.ndarray, period_s: float) -> tuple[Gap, ...]:
    """Gaps from time stamps: a step of at least :data:`GAP_STEP_FACTOR` periods is
    ``rint(dt / period) - 1`` lost samples (for formats whose only clock is a time column).

    Parameters
    ----------
    t_s : (N,) float64, s, strictly increasing.
    period_s : the nominal sample period, s.
    """
    steps_s = np.diff(np.asarray(t_s, dtype=np.float64))
    steps = np.where(steps_s >= GAP_STEP_FACTOR * period_s, np.rint(steps_s / period_s), 1).astype(np.int64)
    return gaps_from_steps(steps)


def stated_or_file_time(stated: str | None, path: str | os.PathLike) -> tuple[str, list[str]]:
    """``(recorded_at, notes)``: the time the file states, else its modification time with
    :data:`FILE_TIME_NOTE` to add to the session's notes."""
    return earliest_stated_or_file_time([stated], [path])


def earliest_stated_or_file_time(stated: Sequence[str | None],
                                 paths: Sequence[str | os.PathLike]) -> tuple[str, list[str]]:
    """``(recorded_at, notes)`` of a recording made of several files: the earliest time they state;
    when one of them states none, the earliest modification time of ``paths``, with
    :data:`FILE_TIME_NOTE` to add to the session's notes."""
    if stated and all(stated):
        return min(stated), []
    return min(modified_time_iso(p) for p in paths), [FILE_TIME_NOTE]


def modified_time_iso(path: str | os.PathLike) -> str:
    """The file's modification time as ISO 8601 UTC: the best available guess at when an
    exported recording was made, for formats that do not say."""
    return dt.datetime.fromtimestamp(Path(path).stat().st_mtime, dt.UTC).isoformat(timespec="seconds")


def optional_group(table: TextTable, cols: list[str]) -> bool:
    """True when all of ``cols`` are columns, False when none is; a partial group is an error."""
    present = [c for c in cols if c in table.header]
    if present and len(present) != len(cols):
        missing = ", ".join(c for c in cols if c not in table.header)
        raise FormatError(f"{table.label}: has {', '.join(present)} but no {missing} column")
    return bool(present)


def require_columns(table: TextTable, cols: list[str]) -> None:
    """:class:`FormatError` naming every one of ``cols`` that is not a column."""
    missing = [c for c in cols if c not in table.header]
    if missing:
        raise FormatError(f"{table.label}: no {', '.join(missing)} column{'s' if len(missing) > 1 else ''} "
                          f"(it has: {', '.join(table.header)})")


def drop_truncated_last_line(table: TextTable, used: list[str]) -> tuple[TextTable, int | None]:
    """Drop a last row that is a truncated write (no end-of-line, fewer fields than the header, or
    an empty used cell); returns the table and the dropped row's file line (or None)."""
    if not table.rows:
        return table, None
    last = len(table.rows) - 1
    idx = [table.column_index(c) for c in used]
    if not table.ends_with_newline or table.n_fields[-1] < len(table.header) or any(table.cell(last, j) == "" for j in idx):
        return table.drop_last_row(), int(table.line_numbers[-1])
    return table, None


def block(table: TextTable, cols: list[str]) -> np.ndarray:
    """Columns ``cols`` as ``(n_rows, len(cols))`` float64 (empty cells are errors)."""
    return np.column_stack([float_column(table, c) for c in cols])


def rate_from_times(t_s: np.ndarray) -> tuple[float, float]:
    """``(sample_rate_hz, period_s)`` from time stamps: the median step, the rate rounded to 9
    significant digits (float noise of the median step — 99.99999999999991 Hz — goes)."""
    period_s = float(np.median(np.diff(np.asarray(t_s, dtype=np.float64))))
    if not period_s > 0:
        raise FormatError(f"time stamps do not increase (median step {period_s!r} s)")
    return float(f"{1.0 / period_s:.9g}"), period_s
