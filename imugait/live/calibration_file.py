"""A live calibration saved between runs: the same sensors on the same person calibrate once.

One JSON file (``"format": "imugait.leg_calibration"``, ``format_version`` 1) holds a
:class:`~imugait.live.kinematics.LiveCalibration` — each leg's sensor-to-segment alignment
(:mod:`imugait.calibration.alignment_json`), what it is referred to (``standing`` or
``mid-stance``), its quality (good / fair / poor), the gyroscope biases measured while standing
and where the standing was — with the sensors it belongs to (per placement the device id it
announced and its address), the subject's pseudonymous id and the date. It follows the intrinsic
calibration files (:mod:`imugait.calibration.store`: format marker, integer version, ISO date,
software version, refusals naming the file and field, atomic writes); those describe one device,
this a pair of them on a leg, so it is a format of its own.

A run reusing it (``imugait live --calibration FILE``) refuses, in one line, a damaged file, a
newer format, and sensors other than the file's (:func:`sensor_mismatch`: the device id each
sensor announces, or its address when it announces none).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imugait import __version__
from imugait.analysis.expected_error import MID_STANCE, STANDING
from imugait.analysis.result import calibration_rating
from imugait.atomic import write_text_atomic
from imugait.calibration.alignment_json import alignment_from_dict, alignment_to_dict
from imugait.calibration.json_fields import array_field, json_array, read_json_file, typed_field
from imugait.conventions import Placement, Segment, Side
from imugait.errors import FormatError, ImugaitError, ValidationError
from imugait.live.config import LiveCalibration
from imugait.model import ProtocolStep

FORMAT_NAME = "imugait.leg_calibration"
FORMAT_VERSION = 1
REFERENCES = (STANDING, MID_STANCE)


@dataclass(frozen=True)
class SensorIdentity:
    """Which sensor was at a placement: the device id it announced ('' when its protocol has
    none) and where it was opened (serial path or BLE address; ``kind`` serial or ble)."""

    device_id: str
    address: str
    kind: str


@dataclass(frozen=True, eq=False)
class SavedCalibration:
    """A calibration file's content (see the module docstring)."""

    calibration: LiveCalibration
    sensors: Mapping[Placement, SensorIdentity]
    subject_id: str
    created_at: str
    """ISO 8601 date-time of the calibration."""
    software_version: str
    path: Path | None = None

    @property
    def sides(self) -> tuple[Side, ...]:
        return tuple(self.calibration.alignments)

    def describe(self) -> str:
        """``subject p01, 2026-12-05 10:12, left good (standing), right fair (standing)``."""
        legs = ", ".join(f"{side.value} {calibration_rating(a)} ({self.calibration.references.get(side, STANDING)})"
                         for side, a in self.calibration.alignments.items())
        return f"subject {self.subject_id}, {self.created_at[:16].replace('T', ' ')}, {legs}"


def calibration_to_dict(saved: SavedCalibration) -> dict[str, Any]:
    cal = saved.calibration
    step = cal.standing_step
    return {
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "created_at": saved.created_at,
        "software_version": saved.software_version, "subject_id": saved.subject_id,
        "sensors": {p.value: {"device_id": s.device_id, "address": s.address, "kind": s.kind}
                    for p, s in saved.sensors.items()},
        "gyr_bias_radps": {p.value: json_array(b) for p, b in cal.gyr_bias_radps.items()},
        "standing_step": None if step is None else {"name": step.name, "t_start_s": step.t_start_s, "t_end_s": step.t_end_s},
        "legs": {side.value: {"reference": cal.references.get(side, STANDING), "quality": calibration_rating(a),
                              "alignment": alignment_to_dict(a)} for side, a in cal.alignments.items()},
    }


def calibration_of_sensors(calibration: LiveCalibration, sensors: Mapping[Placement, SensorIdentity],
                           subject_id: str, path: Path | None = None) -> SavedCalibration:
    """``calibration`` with the ``sensors`` it belongs to (at least the thigh and shank of each of
    its legs), dated now: what a calibration file holds."""
    missing = [p.value for side in calibration.alignments for p in leg_placements(side) if p not in sensors]
    if missing:
        raise ValidationError(f"cannot save the calibration: no identity for the sensors {', '.join(missing)}")
    return SavedCalibration(calibration, dict(sensors), subject_id, _dt.datetime.now().astimezone().isoformat(
        timespec="seconds"), __version__, path)


def calibration_text(saved: SavedCalibration) -> str:
    """The calibration file's text (JSON, see :func:`calibration_to_dict`)."""
    return json.dumps(calibration_to_dict(saved), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


def save_calibration(path: str | os.PathLike, calibration: LiveCalibration,
                     sensors: Mapping[Placement, SensorIdentity], subject_id: str) -> SavedCalibration:
    """Write ``calibration`` of ``sensors`` (at least the thigh and shank of each of its legs)
    atomically to ``path``. Check the path first (:func:`imugait.output_guard.check_output`): this
    replaces a file that exists."""
    saved = calibration_of_sensors(calibration, sensors, subject_id, Path(path))
    write_text_atomic(path, calibration_text(saved))
    return saved


def load_calibration(path: str | os.PathLike) -> SavedCalibration:
    """Read a calibration file.

    Raises
    ------
    FormatError
        Missing, unreadable, not JSON, not a leg calibration, a newer (or older) format version, or
        a field of the wrong type, shape or value; the message names the file and the field.
    """
    p = Path(path)
    d = read_json_file(p, "the file is damaged: calibrate again")
    return calibration_from_dict(d, p.name, p)


def calibration_from_dict(d: Any, where: str, path: Path | None = None) -> SavedCalibration:
    """Inverse of :func:`calibration_to_dict`; ``where`` (the file) prefixes error messages."""
    if not isinstance(d, dict) or d.get("format") != FORMAT_NAME:
        raise FormatError(f"{where} is not an imugait leg calibration (no \"format\": \"{FORMAT_NAME}\")")
    version = typed_field(d, "format_version", int, where)
    if version != FORMAT_VERSION:
        hint = "upgrade imugait" if version > FORMAT_VERSION else "calibrate again"
        raise FormatError(f"{where} has leg calibration format version {version}; this imugait reads version "
                          f"{FORMAT_VERSION} ({hint})")
    created_at = typed_field(d, "created_at", str, where)
    try:
        _dt.datetime.fromisoformat(created_at)
    except ValueError:
        raise FormatError(f"{where}: field 'created_at' is not an ISO 8601 date-time ({created_at!r})") from None
    sensors = {}
    for name in _object(d, "sensors", where):
        entry = _object(d["sensors"], name, f"{where}: sensors")
        sensors[_placement(name, where)] = SensorIdentity(*(typed_field(entry, k, str, f"{where}: sensors: {name}")
                                                           for k in ("device_id", "address", "kind")))
    legs = _object(d, "legs", where)
    if not legs:
        raise FormatError(f"{where}: field 'legs' holds no leg")
    alignments, references = {}, {}
    for name in legs:
        side = _side(name, where)
        leg = _object(legs, name, f"{where}: legs")
        references[side] = typed_field(leg, "reference", str, f"{where}: legs: {name}")
        if references[side] not in REFERENCES:
            raise FormatError(f"{where}: legs: {name}: field 'reference' must be one of {REFERENCES}")
        typed_field(leg, "quality", str, f"{where}: legs: {name}")  # for the reader; recomputed from the alignment
        alignments[side] = alignment_from_dict(leg.get("alignment"), f"{where}: legs: {name}: alignment")
        if (alignments[side].thigh.placement, alignments[side].shank.placement) != leg_placements(side):
            raise FormatError(f"{where}: legs: {name}: the alignment is of other sensors than the {name} leg's")
        unknown = [p.value for p in leg_placements(side) if p not in sensors]
        if unknown:
            raise FormatError(f"{where}: legs: {name}: no sensor identity for {', '.join(unknown)}")
    biases = {_placement(name, where): array_field(_object(d, "gyr_bias_radps", where), name, (3,), f"{where}: gyr_bias_radps")
              for name in _object(d, "gyr_bias_radps", where)}
    step = None
    if d.get("standing_step") is not None:
        s = _object(d, "standing_step", where)
        try:
            step = ProtocolStep(typed_field(s, "name", str, where), *(float(typed_field(
                s, k, (int, float), f"{where}: standing_step")) for k in ("t_start_s", "t_end_s")))
        except ValidationError as exc:
            raise FormatError(f"{where}: standing_step: {exc}") from None
    calibration = LiveCalibration(alignments, biases, step, references)
    return SavedCalibration(calibration, sensors, typed_field(d, "subject_id", str, where), created_at,
                            typed_field(d, "software_version", str, where), path)


def leg_placements(side: Side) -> tuple[Placement, Placement]:
    return Placement.of(Segment.THIGH, side), Placement.of(Segment.SHANK, side)


def sensor_mismatch(saved: SavedCalibration, placement: Placement, device_id: str, address: str) -> str | None:
    """Why the sensor connected at ``placement`` (announcing ``device_id``, '' when it announced
    none; opened at ``address``) is not the one the calibration was made with (None when it is,
    or when the file has no sensor there)."""
    expected = saved.sensors.get(placement)
    if expected is None:
        return None
    name = saved.path.name if saved.path is not None else "the calibration"
    if expected.device_id and device_id:
        if device_id == expected.device_id:
            return None
        return (f"{name} was made with device {expected.device_id} at {placement.value}, but {placement.value} is device "
                f"{device_id}: calibrate again (without --calibration), or put the sensors where they were")
    if address == expected.address:
        return None
    return (f"{name} was made with the sensor at {expected.address} as {placement.value}, but {placement.value} is at "
            f"{address}{'' if device_id else ' (it announced no device id)'}: calibrate again (without --calibration)")


def check_legs(saved: SavedCalibration, placements: Collection[Placement]) -> None:
    """Refuse (one line) to reuse ``saved`` for the sensors at ``placements`` when a leg is
    connected whose calibration the file does not hold, or none of its legs is."""
    name = saved.path.name if saved.path is not None else "the calibration"
    legs = [side for side in Side if set(leg_placements(side)) <= set(placements)]
    missing = [side.value for side in legs if side not in saved.calibration.alignments]
    if missing:
        raise ImugaitError(f"{name} holds no calibration of the {' and '.join(missing)} leg: calibrate again "
                           f"(without --calibration)")
    if not legs:
        raise ImugaitError(f"{name} calibrates the {' and '.join(s.value for s in saved.sides)} leg, which is not "
                           f"connected")


def check_subject(saved: SavedCalibration, subject_id: str) -> None:
    """Refuse (one line) to reuse ``saved`` for another subject than the file's."""
    if subject_id != saved.subject_id:
        name = saved.path.name if saved.path is not None else "the calibration"
        raise ImugaitError(f"{name} is the calibration of subject {saved.subject_id!r}, not {subject_id!r}")


def _object(d: dict, name: str, where: str) -> dict:
    value = d.get(name)
    if not isinstance(value, dict):
        raise FormatError(f"{where}: field '{name}' must be a JSON object")
    return value


def _placement(name: str, where: str) -> Placement:
    try:
        return Placement(name)
    except ValueError:
        raise FormatError(f"{where}: {name!r} is not a placement") from None


def _side(name: str, where: str) -> Side:
    try:
        return Side(name)
    except ValueError:
        raise FormatError(f"{where}: {name!r} is not a side (left, right)") from None
