"""Movella (Xsens) DOT CSV exports — the Movella DOT app's "export" and the DOT SDK's logger —
one file per sensor, merged into a session.

File layout (DOT SDK ``XsensDotLogger``; the app writes the same): metadata lines
``sep=,``, ``DeviceTag:,<tag>``, ``FirmwareVersion:,…``, ``AppVersion:,…``, ``SyncStatus:,Synced``,
``OutputRate:,60Hz``, ``FilterProfile:,…``, ``Measurement Mode:,…``, ``StartTime:,…``, a copyright
line, a blank line; then the header row starting ``PacketCounter,SampleTimeFine,…`` and rows
``1, 2268972329, …`` (comma and space). Which columns follow depends on the measurement mode.

Used: ``SampleTimeFine`` (µs, uint32, wraps), ``Acc_X..Z`` (m/s², specific force) and ``Gyr_X..Z``
(**°/s**, converted to rad/s) — or, in the delta-quantity modes ("high fidelity"), ``dq_W..Z`` and
``dv[1..3]`` (orientation and velocity increments over one output period: rate = rotation vector
of dq × rate, specific force = dv × rate); optional ``Mag_X..Z`` (normalised to the field at the
last magnetic calibration, ×50 µT nominal like Xsens MT, ``mag_normalised``) and ``Quat_W..Z``
(sensor in the DOT's ENU local earth frame, scalar first). Ignored: ``PacketCounter``, ``Euler_*``,
``FreeAcc_*``, ``Cal_FreeAcc_*``, ``Status``, ``Flag``, clip counts. Orientation-only modes
(Euler/quaternion + free acceleration) carry no angular rate and are refused.

Either way a gyroscope sample is the mean rate over its output period (the rate quantities come
from the strapdown-integrated increments: Movella DOT user manual §4.2), so the streams carry
``GyroSampling.INTERVAL_MEAN``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._devices import ClockMode, pick_device, session_offsets, z_up_orientation
from imugait.io._text_table import (
    block,
    drop_truncated_last_line,
    earliest_stated_or_file_time,
    float_column,
    gaps_from_times,
    optional_group,
    read_text_table,
)
from imugait.io.xsens import XSENS_MAG_NOMINAL_UT
from imugait.model import DeviceInfo, ImuStream, Session, SessionMeta

SAMPLE_TIME_MODULUS = 2**32
"""SampleTimeFine is a 32-bit µs counter (wraps every 71.6 min)."""

_XYZ = ("X", "Y", "Z")
_META = re.compile(r"^\s*([A-Za-z ]+?)\s*:\s*,?\s*([^,]*)")


@dataclass(frozen=True, eq=False)
class DotFile:
    """One parsed DOT export, on the device clock (``t_device_s``, unwrapped SampleTimeFine)."""

    path: Path
    tag: str
    meta: dict[str, str]
    sample_rate_hz: float
    t_device_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    mag_normalised: np.ndarray | None
    q_world_sensor: np.ndarray | None
    notes: tuple[str, ...]

    @property
    def synced(self) -> bool:
        return self.meta.get("syncstatus", "").strip().lower() == "synced"


def read_dot_file(path: str | os.PathLike, *, sample_rate_hz: float | None = None) -> DotFile:
    """Parse one DOT CSV export. A truncated last line is dropped (and noted); anything else
    wrong raises :class:`FormatError` naming the file, line and column."""
    p = Path(path)
    label = f"DOT file {p.name}"
    table = read_text_table(p, label=label, header_start="PacketCounter")
    meta = {m[1].strip().lower().replace(" ", ""): m[2].strip() for m in map(_META.match, table.preamble) if m}
    rate = sample_rate_hz or _header_rate(meta, label)
    if "SampleTimeFine" not in table.header:
        raise FormatError(f"{label}: no SampleTimeFine column")
    rate_cols = [f"Acc_{a}" for a in _XYZ] + [f"Gyr_{a}" for a in _XYZ]
    delta_cols = [f"dq_{a}" for a in "WXYZ"] + [f"dv[{k}]" for k in (1, 2, 3)]
    has_rates = optional_group(table, rate_cols)
    has_deltas = not has_rates and optional_group(table, delta_cols)
    if not (has_rates or has_deltas):
        mode = meta.get("measurementmode", "unknown")
        raise FormatError(
            f"{label}: no Acc_X..Z and Gyr_X..Z (nor dq/dv) columns — measurement mode {mode!r} records orientation "
            f"or free acceleration only; record with a mode that includes rate quantities (acc + gyr)"
        )
    has_mag = optional_group(table, [f"Mag_{a}" for a in _XYZ])
    has_quat = optional_group(table, [f"Quat_{a}" for a in "WXYZ"])
    used = ["SampleTimeFine", *(rate_cols if has_rates else delta_cols), *([f"Mag_{a}" for a in _XYZ] if has_mag else []),
            *([f"Quat_{a}" for a in "WXYZ"] if has_quat else [])]
    table, dropped = drop_truncated_last_line(table, used)
    if len(table.rows) < 2:
        raise FormatError(f"{label}: needs at least 2 samples, found {len(table.rows)}")
    t = _unwrap_us(float_column(table, "SampleTimeFine"), table.line_numbers, label) * 1e-6
    if has_rates:
        acc = block(table, rate_cols[:3])
        gyr = np.deg2rad(block(table, rate_cols[3:]))
    else:
        dq = block(table, delta_cols[:4])
        gyr = Rotation.from_quat(dq, scalar_first=True).as_rotvec() * rate
        acc = block(table, delta_cols[4:]) * rate
    notes = [f"dropped truncated last line {dropped}"] if dropped else []
    q = None
    if has_quat:
        q, why = z_up_orientation(block(table, [f"Quat_{a}" for a in "WXYZ"]), acc)
        if why:
            notes.append(f"Quat_W..Z {why}")
    return DotFile(
        path=p, tag=meta.get("devicetag", "") or p.stem, meta=meta, sample_rate_hz=float(rate), t_device_s=t,
        acc_mps2=acc, gyr_radps=gyr, mag_normalised=block(table, [f"Mag_{a}" for a in _XYZ]) if has_mag else None,
        q_world_sensor=q, notes=tuple(notes),
    )


def read_dot_dir(
    folder: str | os.PathLike,
    placement_map: Mapping[Placement, str],
    *,
    subject_id: str = "anonymous",
    clock: ClockMode | None = None,
    sample_rate_hz: float | None = None,
    mag_field_uT: float = XSENS_MAG_NOMINAL_UT,
) -> Session:
    """Import the DOT exports in ``folder`` as a session.

    Parameters
    ----------
    placement_map : placement -> the sensor's ``DeviceTag`` or a ``_``-separated part of its file
        name (the tag, or the MAC address as the app names files).
    clock : ``SHARED``: SampleTimeFine is one clock for all sensors (the DOT app's synchronisation;
        the default when every file says ``SyncStatus: Synced``); ``START``: each sensor's first
        sample is t = 0 (the default otherwise). Sessions keep the device clocks' gaps:
        a time step of ≥ 1.5 periods is a :class:`~imugait.model.Gap`, never interpolated.
    """
    if not placement_map:
        raise ValidationError("a DOT import needs at least one placement, e.g. left_thigh=<DeviceTag>")
    d = Path(folder)
    if not d.is_dir():
        raise FormatError(f"{d}: not a folder")
    candidates = sorted(f for f in d.iterdir() if f.is_file() and f.suffix.lower() == ".csv")
    # Only the head of every file is read to find the sensors; only the mapped files are parsed,
    # so another CSV in the folder does not stop the import.
    names = {f.name: [t for t in (_device_tag(f), f.stem, *re.split(r"[_\-\s]+", f.stem)) if t] for f in candidates}
    chosen = {pl: read_dot_file(d / pick_device(names, key, f"DOT import from {d}"), sample_rate_hz=sample_rate_hz)
              for pl, key in placement_map.items()}
    if clock is None:
        clock = ClockMode.SHARED if all(f.synced for f in chosen.values()) else ClockMode.START
    offsets = session_offsets({pl: float(f.t_device_s[0]) for pl, f in chosen.items()}, clock, f"DOT import from {d}")
    streams, notes = [], []
    for pl, f in chosen.items():
        try:
            streams.append(ImuStream(
                placement=pl, t_s=f.t_device_s - offsets[pl], acc_mps2=f.acc_mps2, gyr_radps=f.gyr_radps,
                sample_rate_hz=f.sample_rate_hz,
                mag_uT=None if f.mag_normalised is None else f.mag_normalised * mag_field_uT,
                q_world_sensor=f.q_world_sensor,
                device=DeviceInfo(device_id=f.tag, model="Movella DOT", firmware=f.meta.get("firmwareversion", ""),
                                  protocol="movella-dot-csv", mag_normalised=f.mag_normalised is not None,
                                  gyr_sampling=source_gyr_sampling("movella_dot")),
                gaps=gaps_from_times(f.t_device_s, 1.0 / f.sample_rate_hz),
            ))
        except ValidationError as exc:
            raise ValidationError(f"DOT file {f.path.name}: {exc}") from None
        notes.append(f"{pl.value}={f.path.name}" + "".join(f" ({n})" for n in f.notes))
    recorded_at, time_notes = earliest_stated_or_file_time([_start_time(f) for f in chosen.values()],
                                                           [f.path for f in chosen.values()])
    meta = SessionMeta(
        subject_id=subject_id, recorded_at=recorded_at, source="import:movella-dot",
        notes="; ".join([f"imported from {', '.join(notes)}", f"clock: {clock.value}", *time_notes]),
    )
    return Session(streams, meta)


def _device_tag(path: Path) -> str:
    """The ``DeviceTag`` of a DOT export from its first lines ("" if it has none)."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            for _ in range(20):
                m = _META.match(fh.readline())
                if m and m[1].strip().lower().replace(" ", "") == "devicetag":
                    return m[2].strip()
    except OSError:
        pass
    return ""


def _header_rate(meta: dict[str, str], label: str) -> float:
    m = re.match(r"\s*([0-9.]+)\s*hz", meta.get("outputrate", ""), re.IGNORECASE)
    if not m:
        raise FormatError(f"{label}: no 'OutputRate:,<n>Hz' line; pass the rate explicitly (--rate-hz)")
    try:
        rate = float(m[1])
    except ValueError:  # the pattern also matches "1.2.3" and "."
        rate = float("nan")
    if not (math.isfinite(rate) and rate > 0):
        raise FormatError(f"{label}: OutputRate {m[1]!r} Hz is not a positive number; pass the rate explicitly (--rate-hz)")
    return rate


def _unwrap_us(raw: np.ndarray, lines: np.ndarray, label: str) -> np.ndarray:
    bad = np.flatnonzero((raw != np.rint(raw)) | (raw < 0) | (raw >= SAMPLE_TIME_MODULUS))
    if bad.size:
        k = int(bad[0])
        raise FormatError(f"{label}: line {lines[k]}: SampleTimeFine {raw[k]!r} is not a 32-bit µs count")
    steps = np.diff(raw.astype(np.int64)) % SAMPLE_TIME_MODULUS
    back = np.flatnonzero((steps == 0) | (steps > SAMPLE_TIME_MODULUS // 2))
    if back.size:
        i = int(back[0]) + 1
        raise FormatError(f"{label}: SampleTimeFine repeats or steps back at line {lines[i]}; is this several recordings?")
    return raw[0] + np.concatenate([[0.0], np.cumsum(steps)]).astype(np.float64)


def _start_time(f: DotFile) -> str | None:
    """The ``StartTime`` the file states, or None."""
    text = f.meta.get("starttime", "")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).isoformat(timespec="milliseconds")
        except ValueError:
            continue
    return None

