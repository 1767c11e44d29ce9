"""qmt example ``.mat`` files (``full_body_example_data.mat`` of the qmt toolbox, TU Berlin):
one MATLAB struct per IMU with ``acc`` (m/s²), ``gyr`` (rad/s) and ``quat``, and a shared time
vector ``t`` (s).

The structs are named after body segments (``upper_leg_left``, ``lower_leg_right``, ``hip`` …);
:data:`QMT_DEFAULT_MAP` assigns the thighs, shanks and pelvis. Values are already SI and are
taken as they are. The ``quat`` fields are **not** imported: in no quaternion convention (scalar
first or last, either direction) do they turn the standing accelerometer readings of the sensors
into one common vertical, so they are not sensor-in-world orientations with z up.
``docs/formats.md`` describes it all.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import scipy.io

from imugait.conventions import Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._mat_check import MatStructureError, check_mat5
from imugait.io._text_table import gaps_from_times, rate_from_times, stated_or_file_time
from imugait.model import DeviceInfo, ImuStream, ProtocolStep, Session, SessionMeta

QMT_DEFAULT_MAP: dict[Placement, str] = {
    Placement.PELVIS: "hip",
    Placement.LEFT_THIGH: "upper_leg_left", Placement.LEFT_SHANK: "lower_leg_left",
    Placement.RIGHT_THIGH: "upper_leg_right", Placement.RIGHT_SHANK: "lower_leg_right",
}
"""Placements of the example file's segments (``foot_left``/``foot_right`` can be mapped too)."""


def qmt_segments(path: str | os.PathLike) -> tuple[str, ...]:
    """Names of the structs in the file that hold ``acc`` and ``gyr`` (the IMUs), in file order."""
    return tuple(_imus(_load(Path(path))))


def read_qmt_mat(
    path: str | os.PathLike, placement_map: Mapping[Placement, str] | None = None, *,
    subject_id: str = "qmt-example", steps: Iterable[ProtocolStep] = (), sample_rate_hz: float | None = None,
) -> Session:
    """Import a qmt ``.mat`` file as a session.

    Parameters
    ----------
    path : the ``.mat`` file (MATLAB v5/v7; v7.3 files are HDF5 and not read).
    placement_map : placement -> struct name; default :data:`QMT_DEFAULT_MAP`.
    subject_id : pseudonym for the metadata.
    steps : protocol steps on the file's clock (the importer adds none of its own).
    sample_rate_hz : nominal rate; default ``1 / median(diff(t))`` to 9 significant digits.

    Returns
    -------
    Session
        ``t_s`` = the file's ``t`` unchanged (the example starts at 40 s); a time step of at least
        1.5 periods is a gap of ``round(dt / period) - 1`` lost samples; ``source =
        "import:qmt-mat"``; ``recorded_at`` the MAT header's "Created on" time (local, no zone),
        else the file's modification time.
    """
    p = Path(path)
    mapping = dict(placement_map if placement_map is not None else QMT_DEFAULT_MAP)
    if not mapping:
        raise ValidationError("a qmt import needs at least one placement, e.g. left_thigh=upper_leg_left")
    m = _load(p)
    imus = _imus(m)
    t = _time(m, p.name)
    rate = sample_rate_hz if sample_rate_hz is not None else rate_from_times(t)[0]
    gaps = gaps_from_times(t, 1.0 / rate)
    streams = []
    for pl, name in mapping.items():
        if name not in imus:
            raise FormatError(f"{p.name}: no IMU struct {name!r} (--map {pl.value}={name}); it has: {', '.join(imus)}")
        acc, gyr = imus[name]
        for what, arr in (("acc", acc), ("gyr", gyr)):
            if arr.shape != (t.size, 3):
                raise FormatError(f"{p.name}: {name}.{what} has shape {arr.shape}, expected ({t.size}, 3) like t")
        try:
            streams.append(ImuStream(placement=pl, t_s=t, acc_mps2=acc, gyr_radps=gyr, sample_rate_hz=rate,
                                     device=DeviceInfo(device_id=f"qmt-{name}", model="qmt example",
                                                       protocol="qmt-mat",
                                                       gyr_sampling=source_gyr_sampling("qmt_mat")),
                                     gaps=gaps))
        except ValidationError as exc:
            raise ValidationError(f"{p.name}: {name}: {exc}") from None
    steps = tuple(steps)
    _check_steps(steps, t, 1.0 / rate, p.name)
    recorded_at, time_notes = stated_or_file_time(_created(m), p)
    meta = SessionMeta(
        subject_id=subject_id, recorded_at=recorded_at, steps=steps,
        source="import:qmt-mat",
        notes=f"imported from {p.name}: " + "; ".join([*(f"{pl.value}={name}" for pl, name in mapping.items()),
                                                       *time_notes]),
    )
    try:
        return Session(streams, meta)
    except ValidationError as exc:
        raise ValidationError(f"{p.name}: {exc}") from None


def parse_steps(items: Iterable[str]) -> tuple[ProtocolStep, ...]:
    """``["walk=95:115", ...]`` -> protocol steps (times in s on the file's clock)."""
    out = []
    for item in items:
        name, sep, span = item.partition("=")
        start, colon, end = span.partition(":")
        try:
            if not (sep and colon):
                raise ValueError
            t_start_s, t_end_s = float(start), float(end)
        except ValueError:
            raise ValidationError(f"--step {item!r}: expected NAME=START:END in seconds, e.g. walk=95:115") from None
        out.append(ProtocolStep(name.strip(), t_start_s, t_end_s))
    return tuple(out)


def _check_steps(steps: Iterable[ProtocolStep], t: np.ndarray, period_s: float, label: str) -> None:
    """Each step must lie within the file's time (to a sample period): a step on another clock (the
    example file starts at 40 s, not 0) would otherwise be stored and cover nothing, or part of it."""
    first, last = float(t[0]), float(t[-1])
    for step in steps:
        if step.t_start_s < first - period_s or step.t_end_s > last + period_s:
            raise ValidationError(
                f"{label}: --step {step.name}={step.t_start_s:g}:{step.t_end_s:g} is not within the file's time, "
                f"{first:g} to {last:g} s (steps are in s on the file's own clock)")


def _load(p: Path) -> dict:
    if not p.is_file():
        raise FormatError(f"{p.name}: no such file")
    data = p.read_bytes()
    try:
        check_mat5(data)  # scipy's reader may crash the interpreter on a damaged structure
    except MatStructureError as exc:
        raise FormatError(f"{p.name}: not a readable MATLAB .mat file ({exc})") from None
    try:
        return scipy.io.loadmat(io.BytesIO(data), squeeze_me=True, struct_as_record=False)
    except NotImplementedError:
        raise FormatError(f"{p.name} is a MATLAB v7.3 (HDF5) file; save it with save(..., '-v7')") from None
    except Exception as exc:  # noqa: BLE001 — scipy's reader is not hardened: a damaged file raises
        # IndexError, KeyError, UnboundLocalError, ZeroDivisionError … from inside it (found by fuzzing)
        raise FormatError(f"{p.name}: not a readable MATLAB .mat file ({type(exc).__name__}: {exc})") from None


def _created(m: dict) -> str | None:
    """``Created on: Mon Nov  1 02:25:01 2021`` from the MAT header (local time, no zone)."""
    header = m.get("__header__", b"")
    text = header.decode("latin-1") if isinstance(header, bytes) else str(header)
    match = re.search(r"Created on:\s*(\w{3} \w{3} +\d{1,2} \d\d:\d\d:\d\d \d{4})", text)
    try:
        return dt.datetime.strptime(" ".join(match[1].split()), "%a %b %d %H:%M:%S %Y").isoformat() if match else None
    except ValueError:
        return None


def _imus(m: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for name, value in m.items():
        fields = getattr(value, "_fieldnames", None) or ()
        if not name.startswith("__") and "acc" in fields and "gyr" in fields:
            out[name] = (_float(value.acc), _float(value.gyr))
    return out


def _float(value) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return np.empty((0, 0))


def _time(m: dict, label: str) -> np.ndarray:
    if "t" not in m:
        raise FormatError(f"{label}: no time vector t")
    t = _float(m["t"]).reshape(-1)
    if t.size < 2 or not np.all(np.isfinite(t)):
        raise FormatError(f"{label}: t must hold at least 2 finite times (s)")
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise FormatError(f"{label}: t does not increase at sample {k} ({float(t[k - 1])!r} s then {float(t[k])!r} s)")
    return t
