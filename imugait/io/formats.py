"""One dispatch from a recording's format to its reader: ``read_recording(path, format, …)``.

The ``import`` command and ``batch`` manifests both go through :func:`read_recording`, so a
format is added once, here (its reader, the options it takes), and both can read it.

Options are the reader's own settings given by name; values may be strings (a CSV manifest
cell) and are converted here: ``rate_hz`` (float), ``allow_truncated`` / ``pair_by_name``
(``true``/``false``), ``corrupted_gyro`` (``warn``, ``drop_leg``, ``keep``), ``clock``
(``shared`` or ``start``: DOT, x-IMU3), ``steps``
(``NAME=START:END``, several separated by ``;``) and ``walk`` (an MPU-9250 walk id such as
``NO.1/left/IMU_10``). Every format takes ``gyr_sampling`` (``instant`` or ``interval_mean``): what
every sensor's gyroscope samples stand for, replacing the format's declaration
(``imugait/data/gyr_sampling.json``; docs/formats.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.model import GyroSampling, Session


class SourceFormat(StrEnum):
    """Formats :func:`read_recording` reads (``docs/formats.md`` describes each)."""

    NATIVE = "native"
    CSV = "csv"
    XSENS = "xsens"
    HUGADB = "hugadb"
    QMT = "qmt"
    MPU9250 = "mpu9250"
    DOT = "dot"
    XIMU3 = "ximu3"
    APDM = "apdm"
    MVNX = "mvnx"


PlacementMap = Mapping[Placement, str]


@dataclass(frozen=True)
class _Reader:
    read: Callable[[Path, PlacementMap | None, str | None, dict[str, Any]], Session]
    options: frozenset[str] = frozenset()
    needs_map: bool = False
    read_motion_only: Callable[[Path], Session] | None = None
    """A reader that leaves the magnetometer and device-orientation columns undecoded, where the
    format can (native files); other formats read everything and drop them after."""


def read_recording(
    path: str | os.PathLike,
    fmt: SourceFormat | str,
    *,
    placement_map: PlacementMap | None = None,
    subject_id: str | None = None,
    recorded_at: str | None = None,
    options: Mapping[str, Any] | None = None,
    motion_only: bool = False,
) -> Session:
    """Read the recording at ``path`` in format ``fmt`` as a session.

    Parameters
    ----------
    path : file or folder, as the format's reader takes it (Xsens: the folder of exports;
        MPU-9250: the dataset's zip or folder, with ``options["walk"]``).
    fmt : a :class:`SourceFormat` or its value.
    placement_map : placement -> sensor id, file stem or struct name (Xsens needs one; HuGaDB
        and qmt have defaults; native, CSV and MPU-9250 take none).
    subject_id : pseudonym; default the reader's (the file's own for native sessions).
    recorded_at : ISO 8601 start of the recording; replaces what the reader found.
    options : the reader's settings by name (see the module docstring).
    motion_only : the session without magnetometers and device orientations
        (:meth:`~imugait.model.Session.motion_only`), what the 6-axis analysis uses; a native
        file's other columns are then not decoded (``read_session(..., motion_only=True)``).

    Raises
    ------
    ValidationError
        Unknown format, an option the format does not take, a missing placement map.
    FormatError
        From the reader: the file is not what the format says.
    """
    try:
        kind = SourceFormat(fmt)
    except ValueError:
        known = ", ".join(f.value for f in SourceFormat)
        raise ValidationError(f"unknown format {fmt!r}; known formats: {known}") from None
    reader = _READERS[kind]
    opts = {k: v for k, v in (options or {}).items() if v is not None and v != ""}
    declared = _gyr_sampling(opts.pop("gyr_sampling", None))
    unknown = sorted(set(opts) - reader.options)
    if unknown:
        takes = ", ".join(sorted(reader.options)) or "none"
        raise ValidationError(f"format {kind.value} takes no option {', '.join(unknown)} "
                              f"(it takes: {takes}; every format takes gyr_sampling)")
    if reader.needs_map and not placement_map:
        raise ValidationError(f"format {kind.value} needs a placement map (PLACEMENT=SENSOR for every sensor)")
    if placement_map and not (reader.needs_map or kind in _MAP_OPTIONAL):
        raise ValidationError(f"format {kind.value} takes no placement map")
    if motion_only and reader.read_motion_only is not None:
        session = reader.read_motion_only(Path(path))
    else:
        session = reader.read(Path(path), placement_map or None, subject_id, opts)
        session = session.motion_only() if motion_only else session
    if declared is not None:
        session = declare_gyr_sampling(session, declared, "option gyr_sampling")
    overrides = {}
    if recorded_at:
        overrides["recorded_at"] = recorded_at
    if subject_id and session.meta.subject_id != subject_id:  # native files carry their own subject
        overrides["subject_id"] = subject_id
    if not overrides:
        return session
    return Session(session.streams, replace(session.meta, **overrides))


def declare_gyr_sampling(session: Session, sampling: GyroSampling, how: str) -> Session:
    """``session`` with every sensor's gyroscope samples declared ``sampling``, and a note saying
    so and ``how`` (``--gyr-sampling``, a manifest's option) appended to its notes."""
    note = f"gyroscope samples declared {sampling.value} at import ({how})"
    session = session.with_gyr_sampling(sampling)
    return Session(session.streams, replace(session.meta, notes="; ".join(n for n in (session.meta.notes, note) if n)))


def _gyr_sampling(value: Any) -> GyroSampling | None:
    if value is None or isinstance(value, GyroSampling):
        return value
    try:
        return GyroSampling(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(g.value for g in GyroSampling)
        raise ValidationError(f"option gyr_sampling: expected one of {allowed}, got {value!r}") from None


def _float(opts: dict[str, Any], name: str) -> float | None:
    value = opts.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"option {name}: expected a number, got {value!r}") from None


def _bool(opts: dict[str, Any], name: str) -> bool:
    value = opts.get(name, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0"}:
        return False
    raise ValidationError(f"option {name}: expected true or false, got {value!r}")


def _read_native(path, _map, _subject, _opts) -> Session:
    from imugait.io.native import read_session

    return read_session(path)


def _read_native_motion(path) -> Session:
    from imugait.io.native import read_session

    return read_session(path, motion_only=True)


def _read_csv(path, _map, subject, _opts) -> Session:
    from imugait.io.csv_generic import read_csv_session

    return read_csv_session(path, **({"subject_id": subject} if subject else {}))


def _read_xsens(path, mapping, subject, opts) -> Session:
    from imugait.io.xsens import read_xsens_dir

    return read_xsens_dir(path, mapping, sample_rate_hz=_float(opts, "rate_hz"),
                          **({"subject_id": subject} if subject else {}))


def _read_hugadb(path, mapping, subject, opts) -> Session:
    from imugait.io.hugadb import HUGADB_RATE_HZ, read_hugadb

    rate = _float(opts, "rate_hz")
    return read_hugadb(path, mapping, subject_id=subject, sample_rate_hz=HUGADB_RATE_HZ if rate is None else rate,
                       corrupted_gyro=str(opts.get("corrupted_gyro", "warn")).replace("-", "_"),
                       allow_truncated=_bool(opts, "allow_truncated"))


def _read_qmt(path, mapping, subject, opts) -> Session:
    from imugait.io.qmt import parse_steps, read_qmt_mat

    steps = opts.get("steps", ())
    if isinstance(steps, str):
        steps = [s.strip() for s in steps.split(";") if s.strip()]
    return read_qmt_mat(path, mapping, steps=parse_steps(steps), sample_rate_hz=_float(opts, "rate_hz"),
                        **({"subject_id": subject} if subject else {}))


def _read_mpu9250(path, _map, subject, opts) -> Session:
    from imugait.io.mpu9250_walks import read_mpu9250_walk

    if not opts.get("walk"):
        raise ValidationError("format mpu9250 needs the option walk (e.g. NO.1/left/IMU_10)")
    return read_mpu9250_walk(path, str(opts["walk"]), subject_id=subject,
                             allow_truncated=_bool(opts, "allow_truncated"),
                             fix_known_pairs=not _bool(opts, "pair_by_name"))


def _clock(opts: dict[str, Any]):
    from imugait.io._devices import ClockMode

    value = opts.get("clock")
    if value is None:
        return None
    try:
        return ClockMode(str(value).strip().lower())
    except ValueError:
        raise ValidationError(f"option clock: expected shared or start, got {value!r}") from None


def _read_dot(path, mapping, subject, opts) -> Session:
    from imugait.io.movella_dot import read_dot_dir

    return read_dot_dir(path, mapping, clock=_clock(opts), sample_rate_hz=_float(opts, "rate_hz"),
                        **({"subject_id": subject} if subject else {}))


def _read_ximu3(path, mapping, subject, opts) -> Session:
    from imugait.io.ximu3 import read_ximu3

    clock = _clock(opts)
    return read_ximu3(path, mapping, **({"clock": clock} if clock else {}), **({"subject_id": subject} if subject else {}))


def _read_apdm(path, mapping, subject, _opts) -> Session:
    from imugait.io.apdm import read_apdm_h5

    return read_apdm_h5(path, mapping, **({"subject_id": subject} if subject else {}))


def _read_mvnx(path, mapping, subject, _opts) -> Session:
    from imugait.io.mvnx import read_mvnx

    return read_mvnx(path, mapping, **({"subject_id": subject} if subject else {}))


_READERS: dict[SourceFormat, _Reader] = {
    SourceFormat.NATIVE: _Reader(_read_native, read_motion_only=_read_native_motion),
    SourceFormat.CSV: _Reader(_read_csv),
    SourceFormat.XSENS: _Reader(_read_xsens, frozenset({"rate_hz"}), needs_map=True),
    SourceFormat.HUGADB: _Reader(_read_hugadb, frozenset({"rate_hz", "corrupted_gyro", "allow_truncated"})),
    SourceFormat.QMT: _Reader(_read_qmt, frozenset({"steps", "rate_hz"})),
    SourceFormat.MPU9250: _Reader(_read_mpu9250, frozenset({"walk", "allow_truncated", "pair_by_name"})),
    SourceFormat.DOT: _Reader(_read_dot, frozenset({"clock", "rate_hz"}), needs_map=True),
    SourceFormat.XIMU3: _Reader(_read_ximu3, frozenset({"clock"}), needs_map=True),
    SourceFormat.APDM: _Reader(_read_apdm),
    SourceFormat.MVNX: _Reader(_read_mvnx),
}
_MAP_OPTIONAL = frozenset({SourceFormat.HUGADB, SourceFormat.QMT, SourceFormat.APDM, SourceFormat.MVNX})
