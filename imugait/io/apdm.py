"""APDM Opal ``.h5`` recordings (Mobility Lab / Moveo Explorer, HDF5 file format version 5).

Layout read (one group per sensor, named by its case id, e.g. ``1234`` or ``SI-000646``):

======================================== ====================== ==========================
dataset / attribute                      unit                   imported as
======================================== ====================== ==========================
``/`` attr ``FileFormatVersion``          —                      must be 5
``/Sensors/<id>/Configuration`` attr      —                      placement (``--map`` or the
``Label 0``                                                      label table below)
``/Sensors/<id>/Configuration`` attr      Hz                     ``sample_rate_hz``
``Sample Rate``
``/Sensors/<id>/Time``                    µs since 1970 UTC      ``t_s`` (t = 0 at the earliest
                                                                 sensor's first sample),
                                                                 ``recorded_at``; steps ≥ 1.5
                                                                 periods are gaps
``/Sensors/<id>/Accelerometer`` (N, 3)    m/s²                   ``acc_mps2``
``/Sensors/<id>/Gyroscope`` (N, 3)        rad/s                  ``gyr_radps``
``/Sensors/<id>/Magnetometer`` (N, 3)     µT                     ``mag_uT``
``/Processed/<id>/Orientation`` (N, 4)    scalar first           ``q_world_sensor`` if it turns
                                                                 gravity to +z (or its conjugate
                                                                 does); else left out
======================================== ====================== ==========================

Ignored: ``Temperature``, ``Barometer``, ``/Annotations``, other configuration attributes. Files
of format versions 3–4 (``/CaseIdList``, ``/<id>/Calibrated/…``) are refused with that reason.
Needs ``h5py`` (``pip install 'imugait[hdf5]'``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from imugait._optional import require
from imugait.conventions import Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._address_space import address_space_budget
from imugait.io._devices import ClockMode, pick_device, session_offsets, z_up_orientation
from imugait.io._hdf5_free_lists import switch_off_hdf5_free_lists
from imugait.io._text_table import gaps_from_times
from imugait.model import DeviceInfo, ImuStream, Session, SessionMeta

SUPPORTED_VERSION = 5
APDM_LABELS: dict[Placement, tuple[str, ...]] = {
    Placement.PELVIS: ("Lumbar", "Pelvis", "Sacrum"),
    Placement.LEFT_THIGH: ("Left Upper Leg", "Left Thigh"),
    Placement.RIGHT_THIGH: ("Right Upper Leg", "Right Thigh"),
    Placement.LEFT_SHANK: ("Left Lower Leg", "Left Shank", "Left Shin"),
    Placement.RIGHT_SHANK: ("Right Lower Leg", "Right Shank", "Right Shin"),
    Placement.LEFT_FOOT: ("Left Foot",),
    Placement.RIGHT_FOOT: ("Right Foot",),
}
"""Labels Mobility Lab / Moveo give the sensor positions used by imugait (the default mapping)."""
MEMORY_BUDGET_BYTES = 64 << 20
"""Address space a read may add beyond 16 × the file's size (``_address_space``): reading a
damaged header must fail, not take the machine's memory."""
MAX_EXPANSION = 100
"""A dataset may hold at most this many times the file's size (as float64): compressed IMU data
never shrinks 100-fold, so a larger declared shape is a damaged header, refused before reading."""


def read_apdm_h5(
    path: str | os.PathLike,
    placement_map: Mapping[Placement, str] | None = None,
    *,
    subject_id: str = "anonymous",
) -> Session:
    """Import an APDM ``.h5`` file as a session.

    ``placement_map``: placement -> the sensor's ``Label 0`` or case id; default: every placement
    whose label (:data:`APDM_LABELS`) is in the file.
    """
    h5py = require("h5py", "hdf5", "reading APDM .h5 files")
    switch_off_hdf5_free_lists()  # damaged files must not slow every later read (see the module)
    p = Path(path)
    label = p.name
    try:
        budget = MEMORY_BUDGET_BYTES + 16 * p.stat().st_size
    except FileNotFoundError:
        raise FormatError(f"{label}: no such file") from None
    with address_space_budget(budget):  # libhdf5 may trust a damaged size field (see the module)
        try:
            f = h5py.File(p, "r")
        except FileNotFoundError:
            raise FormatError(f"{label}: no such file") from None
        except OSError as exc:
            raise FormatError(f"{label}: not a readable HDF5 file ({exc}); truncated or not an APDM .h5?") from None
        try:
            with f:
                sensors, raw = _read_file(h5py, f, placement_map, label)
        except (RuntimeError, KeyError, OSError, UnicodeDecodeError) as exc:
            # h5py reports a damaged object header, heap or B-tree with these when it is reached (and
            # a member name whose bytes were damaged with a UnicodeDecodeError while listing a group)
            raise FormatError(f"{label}: damaged HDF5 file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
                              "truncated or overwritten?") from None
        except MemoryError:
            raise FormatError(f"{label}: reading it needs more than {budget >> 20} MB, far more than its size "
                              "explains (damaged file?)") from None
    offsets = session_offsets({pl: r["t_us"][0] * 1e-6 for pl, r in raw.items()}, ClockMode.SHARED, label)
    streams, notes = [], []
    for pl, r in raw.items():
        t_dev = r["t_us"] * 1e-6
        try:
            streams.append(ImuStream(
                placement=pl, t_s=t_dev - offsets[pl], acc_mps2=r["acc"], gyr_radps=r["gyr"], mag_uT=r["mag"],
                sample_rate_hz=r["rate"], q_world_sensor=r["q"],
                device=DeviceInfo(device_id=r["id"], model="APDM Opal", protocol="apdm-h5",
                                  gyr_sampling=source_gyr_sampling("apdm_h5")),  # interpolated to the time stamps
                gaps=gaps_from_times(t_dev, 1.0 / r["rate"]),
            ))
        except ValidationError as exc:
            raise ValidationError(f"{label}: sensor {r['id']} ({sensors[r['id']]}): {exc}") from None
        notes.append(f"{pl.value}={r['id']} ({sensors[r['id']]})" + "".join(f" ({n})" for n in r["notes"]))
    first_us = min(r["t_us"][0] for r in raw.values())
    recorded_at = dt.datetime.fromtimestamp(first_us * 1e-6, dt.UTC).isoformat(timespec="milliseconds")
    return Session(streams, SessionMeta(subject_id=subject_id, recorded_at=recorded_at, source="import:apdm-h5",
                                        notes="imported from " + ", ".join(notes)))


def _read_file(h5py, f, placement_map: Mapping[Placement, str] | None, label: str) -> tuple[dict[str, str], dict]:
    """Labels of the sensors by case id, and the chosen sensors' arrays by placement."""
    version = _attr(f, "FileFormatVersion", _attr(f, "File_Format_Version", None, label), label)
    if "Sensors" not in f:
        raise FormatError(f"{label}: no /Sensors group (APDM file format version {_text(version) or 'unknown'}); "
                          f"only version {SUPPORTED_VERSION} (Mobility Lab 2 / Moveo) files are read")
    if version is not None and _number(version, f"{label}: FileFormatVersion") != SUPPORTED_VERSION:
        raise FormatError(f"{label}: APDM file format version {_text(version)}; only {SUPPORTED_VERSION} is read")
    groups = _group(h5py, f.get("Sensors"), f"{label}: /Sensors")
    sensors = {}
    for cid, g in groups.items():
        g = _group(h5py, g, f"{label}: /Sensors/{cid}")
        config = g.get("Configuration")
        where = f"{label}: /Sensors/{cid}/Configuration"
        sensors[str(cid)] = _text(_attr(_group(h5py, config, where), "Label 0", b"", where)) if config is not None else ""
    mapping = dict(placement_map) if placement_map else _default_map(sensors, label)
    names = {cid: [cid, lab] for cid, lab in sensors.items()}
    chosen = {pl: pick_device(names, key, f"{label}") for pl, key in mapping.items()}
    return sensors, {pl: _read_sensor(h5py, f, cid, label) for pl, cid in chosen.items()}


def _attr(obj, name: str, default, where: str):
    """Attribute ``name`` of an HDF5 object (``default`` when absent); a FormatError when its stored
    type cannot be read (h5py raises TypeError or ValueError for a damaged datatype, e.g. an
    unknown string encoding)."""
    try:
        return obj.attrs.get(name, default)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{where}: attribute {name!r} cannot be read ({exc}; damaged file?)") from None


def _group(h5py, obj, where: str):
    if not isinstance(obj, h5py.Group):
        raise FormatError(f"{where} is not an HDF5 group (damaged file?)")
    return obj


def _array(h5py, g, name: str, where: str) -> np.ndarray:
    """Dataset ``name`` of group ``g`` as float64 (a FormatError if it is anything else)."""
    d = g.get(name)
    if not isinstance(d, h5py.Dataset):
        raise FormatError(f"{where}/{name} is not an HDF5 dataset (damaged file?)")
    file_bytes = d.file.id.get_filesize()
    if d.size * 8 > MAX_EXPANSION * file_bytes + (1 << 20):
        raise FormatError(f"{where}/{name} declares shape {d.shape}, far more values than the {file_bytes}-byte file "
                          "can hold (damaged file?)")
    try:
        return np.asarray(d[()], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{where}/{name} is not numeric ({exc})") from None


def _number(value, where: str) -> float:
    try:
        return float(np.asarray(value, dtype=np.float64).ravel()[0])
    except (TypeError, ValueError, IndexError):
        raise FormatError(f"{where}: {_text(value)!r} is not a number") from None


def _default_map(sensors: dict[str, str], label: str) -> dict[Placement, str]:
    by_label = {lab.strip().lower(): cid for cid, lab in sensors.items()}
    mapping = {pl: by_label[n.lower()] for pl, names in APDM_LABELS.items() for n in names if n.lower() in by_label}
    if not mapping:
        listing = ", ".join(f"{cid} ({lab or 'no label'})" for cid, lab in sensors.items())
        raise ValidationError(f"{label}: no sensor label imugait knows (sensors: {listing}); give --map PLACEMENT=LABEL")
    return mapping


def _read_sensor(h5py, f, cid: str, label: str) -> dict:
    g = f["Sensors"][cid]
    where = f"{label}: /Sensors/{cid}"
    for name in ("Time", "Accelerometer", "Gyroscope"):
        if name not in g:
            raise FormatError(f"{where} has no {name} dataset")
    t_us = _array(h5py, g, "Time", where).ravel()
    n = t_us.size
    arrays = {}
    for name in ("Accelerometer", "Gyroscope", "Magnetometer"):
        if name in g:
            a = _array(h5py, g, name, where)
            if a.shape != (n, 3):
                raise FormatError(f"{where}/{name} has shape {a.shape}, expected ({n}, 3) like Time (truncated file?)")
            arrays[name] = a
    if n < 2 or not np.all(np.isfinite(t_us)) or np.any(np.diff(t_us) <= 0):
        raise FormatError(f"{where}/Time does not increase (or has fewer than 2 samples, or is not finite)")
    config = g.get("Configuration")
    rate = _attr(_group(h5py, config, f"{where}/Configuration"), "Sample Rate", None, f"{where}/Configuration") \
        if config is not None else None
    rate = _number(rate, f"{where}/Configuration: Sample Rate") if rate is not None else 1e6 / float(np.median(np.diff(t_us)))
    if not (np.isfinite(rate) and rate > 0):
        raise FormatError(f"{where}/Configuration: Sample Rate {rate!r} Hz is not a positive number")
    notes, q = [], None
    processed = f.get(f"Processed/{cid}")
    if isinstance(processed, h5py.Group) and "Orientation" in processed:
        q_raw = _array(h5py, processed, "Orientation", f"{label}: /Processed/{cid}")
        if q_raw.shape == (n, 4):
            q, why = z_up_orientation(q_raw / np.linalg.norm(q_raw, axis=1, keepdims=True), arrays["Accelerometer"])
            if why:
                notes.append(f"orientation {why}")
        else:
            notes.append(f"orientation left out: shape {q_raw.shape}, expected ({n}, 4)")
    return {"id": cid, "t_us": t_us, "acc": arrays["Accelerometer"], "gyr": arrays["Gyroscope"],
            "mag": arrays.get("Magnetometer"), "rate": rate, "q": q, "notes": notes}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", "replace").rstrip("\x00").strip()
    if isinstance(value, np.ndarray):
        return _text(value.ravel()[0]) if value.size else ""
    return str(value).strip()
