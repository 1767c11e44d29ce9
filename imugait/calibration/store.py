"""Calibration files (``calibration/<device-id>.json``) and applying them to sessions.

The file is one JSON object with the fields of :class:`ImuCalibration` (unit in every name, arrays
as nested lists) plus ``"format": "imugait.imu_calibration"``. Writes are atomic; reads check the
marker, the version, every field's type and shape, and that the file belongs to the device asked
for, and raise :class:`~imugait.errors.FormatError` naming the file and the field.

File names: a device id made only of letters, digits, ``.``, ``-`` and ``_`` (not starting with
``.``) is used as it is; any other id is sanitised and gets a short hash of the original so that
two ids never share a file (``"BT 00:1A/7"`` → ``BT_00_1A_7-<8 hex>.json``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from imugait.atomic import write_text_atomic
from imugait.calibration.imu_calibration import CALIBRATION_FORMAT_VERSION, ImuCalibration
from imugait.calibration.json_fields import array_field, read_json_file, typed_field
from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.model import Session
from imugait.output_guard import safe_file_stem

FORMAT_NAME = "imugait.imu_calibration"
_ARRAY_SHAPES = {
    "gyr_bias_radps": (3,), "acc_bias_mps2": (3,), "acc_correction": (3, 3),
    "mag_hard_iron_uT": (3,), "mag_soft_iron": (3, 3),
}
_OPTIONAL_FLOATS = ("mag_field_uT", "mag_residual_rms_uT", "mag_coverage")


def calibration_filename(device_id: str) -> str:
    """File name (``<id>.json``) for a device id, safe on every file system."""
    return f"{safe_file_stem(device_id)}.json"


def calibration_to_dict(cal: ImuCalibration) -> dict[str, Any]:
    """JSON-ready dict of a calibration (``format`` marker first)."""
    d: dict[str, Any] = {"format": FORMAT_NAME}
    for f in fields(cal):
        value = getattr(cal, f.name)
        d[f.name] = value.tolist() if isinstance(value, np.ndarray) else value
    return d


def calibration_from_dict(d: Any, where: str) -> ImuCalibration:
    """Inverse of :func:`calibration_to_dict`; ``where`` (the file) prefixes error messages."""
    if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
        raise FormatError(f"{where} is not an imugait IMU calibration (no \"format\": \"{FORMAT_NAME}\")")
    version = d.get("format_version")
    if type(version) is not int:
        raise FormatError(f"{where}: 'format_version' must be an integer, got {version!r}")
    if version != CALIBRATION_FORMAT_VERSION:
        hint = "upgrade imugait" if version > CALIBRATION_FORMAT_VERSION else "calibrate the sensor again"
        raise FormatError(
            f"{where} has calibration format version {version}; this imugait reads version "
            f"{CALIBRATION_FORMAT_VERSION} ({hint})"
        )
    kwargs: dict[str, Any] = {}
    for name, shape in _ARRAY_SHAPES.items():
        kwargs[name] = array_field(d, name, shape, where)
    for name in ("device_id", "created_at", "acc_model", "software_version"):
        kwargs[name] = typed_field(d, name, str, where)
    kwargs["n_positions"] = typed_field(d, "n_positions", int, where)
    for name in ("acc_residual_rms_mps2", "still_s"):
        kwargs[name] = float(typed_field(d, name, (int, float), where))
    for name in _OPTIONAL_FLOATS:
        value = d.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise FormatError(f"{where}: '{name}' must be a number or null, got {value!r}")
        kwargs[name] = None if value is None else float(value)
    try:
        return ImuCalibration(format_version=version, **kwargs)
    except ValidationError as exc:
        raise FormatError(f"{where}: {exc}") from None


def write_calibration(cal: ImuCalibration, folder: str | os.PathLike, filename: str | None = None) -> Path:
    """Write ``cal`` to ``folder/<device-id>.json`` (or ``folder/filename``) atomically (the folder
    is created)."""
    target = Path(folder) / (filename or calibration_filename(cal.device_id))
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(calibration_to_dict(cal), indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    return write_text_atomic(target, text)


def read_calibration(path: str | os.PathLike) -> ImuCalibration:
    """Read a calibration file.

    Raises
    ------
    FormatError
        Missing, unreadable, not JSON, not a calibration, another format version, or a field of
        the wrong type, shape or value; the message names the file and the field.
    """
    p = Path(path)
    d = read_json_file(p, "calibrate the sensor again")
    return calibration_from_dict(d, p.name)


@dataclass
class CalibratedSession:
    """Result of :meth:`CalibrationStore.apply_to_session`.

    Attributes
    ----------
    session : the session with every calibrated stream corrected.
    corrected : placement → path of the calibration file that was applied.
    uncalibrated : placements left as recorded (no file for their device).
    """

    session: Session
    corrected: dict[Placement, Path]
    uncalibrated: tuple[Placement, ...]


class CalibrationStore:
    """A folder of calibration files, one per device (conventionally ``calibration/``)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path_for(self, device_id: str) -> Path:
        return self.folder / calibration_filename(device_id)

    def save(self, cal: ImuCalibration, filename: str | None = None) -> Path:
        """Write ``cal`` as the device's file (or as ``filename``, which :meth:`load` does not read)."""
        return write_calibration(cal, self.folder, filename)

    def load(self, device_id: str) -> ImuCalibration | None:
        """The calibration of ``device_id``, or None when there is no file for it.

        Raises
        ------
        FormatError
            The file exists but is invalid or belongs to another device.
        """
        path = self.path_for(device_id)
        if not path.is_file():
            return None
        cal = read_calibration(path)
        if cal.device_id != device_id:
            raise FormatError(f"{path.name} holds the calibration of device {cal.device_id!r}, not {device_id!r}")
        return cal

    def apply_to_session(self, session: Session) -> CalibratedSession:
        """Correct every stream whose device has a calibration file; leave the others as they are."""
        streams, corrected, missing = [], {}, []
        for placement, stream in session.items():
            device_id = stream.device.device_id
            cal = None if device_id == "unknown" else self.load(device_id)
            if cal is None:
                streams.append(stream)
                missing.append(placement)
                continue
            streams.append(cal.apply(stream))
            corrected[placement] = self.path_for(device_id)
        if not corrected:
            return CalibratedSession(session, corrected, tuple(missing))
        note = "intrinsic calibration applied: " + ", ".join(
            f"{p.value} ({session[p].device.device_id})" for p in corrected
        )
        notes = f"{session.meta.notes}\n{note}" if session.meta.notes else note
        return CalibratedSession(Session(streams, session.meta).with_meta(notes=notes), corrected, tuple(missing))
