"""Reading the fields of a calibration file's JSON object, with errors naming the file and field.

Shared by the intrinsic calibration files (:mod:`imugait.calibration.store`) and the leg
calibrations (:mod:`imugait.calibration.alignment_json`): every reader raises
:class:`~imugait.errors.FormatError` as ``"<where>: field '<name>' …"``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from imugait.errors import FormatError


def typed_field(d: dict, name: str, kind, where: str):
    """``d[name]``, which must be of ``kind`` (a type or tuple of types; a bool is never a number)."""
    if name not in d:
        raise FormatError(f"{where}: field '{name}' is missing")
    value = d[name]
    if isinstance(value, bool) is not (kind is bool) or not isinstance(value, kind):
        raise FormatError(f"{where}: field '{name}' has the wrong type ({type(value).__name__})")
    return value


def array_field(d: dict, name: str, shape: tuple[int | None, ...], where: str, finite: bool = True) -> np.ndarray:
    """``d[name]`` as a float array of ``shape`` (None: any length on that axis); null entries are
    NaN, refused (with any non-finite value) when ``finite``."""
    if name not in d:
        raise FormatError(f"{where}: field '{name}' is missing")
    try:
        arr = np.array(d[name], dtype=float)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: field '{name}' is not numeric") from None
    if arr.ndim != len(shape) or any(n is not None and n != m for n, m in zip(shape, arr.shape, strict=True)):
        raise FormatError(f"{where}: field '{name}' must have shape {shape}, got {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise FormatError(f"{where}: field '{name}' has non-finite values")
    return arr


def number_or_nan(d: dict, name: str, where: str) -> float:
    """``d[name]``: a number, or null for NaN (JSON has none)."""
    if d.get(name, 0.0) is None:
        return math.nan
    return float(typed_field(d, name, (int, float), where))


def json_number(value: float) -> float | None:
    """``value`` for JSON: NaN and ±inf as null."""
    return float(value) if math.isfinite(value) else None


def json_array(values: np.ndarray) -> list[Any]:
    """An array as (nested) lists, NaN and ±inf as null."""
    a = np.asarray(values, dtype=float)
    if a.ndim == 1:
        return [json_number(v) for v in a.tolist()]
    return [json_array(row) for row in a]


def read_json_file(path: str | os.PathLike, again: str) -> Any:
    """The JSON value in the calibration file ``path``; :class:`FormatError` when it is missing,
    unreadable or not valid JSON (the message ends with ``again``: what to do about it)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormatError(f"{p}: no such calibration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{p}: cannot read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{p.name} is not valid JSON (line {exc.lineno}: {exc.msg}); {again}") from None
