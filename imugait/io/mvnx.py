"""Xsens MVN ``.mvnx`` (MVN Analyze/Animate XML export): the **sensor** data of the body-worn
trackers, not MVN's own body model.

Read from the XML (namespace ``http://www.xsens.com/mvn/mvnx``, MVNX version 4; tags are matched
without it):

=============================================== ============================================
element / attribute                             use
=============================================== ============================================
``subject@frameRate``                           ``sample_rate_hz``
``frame@ms`` of the first normal frame          ``recorded_at`` (Unix time, ms; else file time)
``sensors/sensor@label`` (``Pelvis``,           the sensors, in the order of every per-frame
``LeftUpperLeg``, ``RightLowerLeg`` …)          sensor array; chosen by ``--map`` (default below)
``frame@type="normal"``, ``@index``             one sample; ``t_s`` = index / frameRate (``@time``
                                                is whole ms, too coarse to differentiate);
                                                a skipped ``index`` is a gap (other frame types —
                                                identity, tpose, tpose-isb — are calibration
                                                poses: ignored)
``sensorOrientation`` (4 per sensor)            ``q_world_sensor`` (scalar first; MVN's global
                                                frame is z up) — and the angular rate
``sensorFreeAcceleration`` (3 per sensor)       m/s², global frame, gravity removed → specific
                                                force in the sensor frame
``sensorMagneticField`` (3 per sensor)          normalised (a.u.) → ×50 µT nominal,
                                                ``mag_normalised``
=============================================== ============================================

MVNX (since MVN 2018) no longer carries the sensors' raw angular rate or acceleration, so both
are reconstructed: ``gyr_radps`` is the body-frame rate of ``sensorOrientation`` (central
differences of consecutive orientations, one-sided at the ends and beside gaps) and
``acc_mps2 = R_world_sensorᵀ (free_acc + [0, 0, g])`` with g = 9.80665 m/s². They are therefore
MVN's filtered estimates, not raw sensor output. Ignored: segment data (``orientation``,
``position``, ``velocity``, ``acceleration``, ``angularVelocity``, ``jointAngle*``,
``centerOfMass``, ``footContacts``) and the calibration frames.
"""

from __future__ import annotations

import datetime as dt
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._devices import pick_device
from imugait.io._text_table import gaps_from_steps, stated_or_file_time
from imugait.io.xsens import XSENS_MAG_NOMINAL_UT
from imugait.model import DeviceInfo, ImuStream, Session, SessionMeta

MVNX_DEFAULT_MAP: dict[Placement, str] = {
    Placement.PELVIS: "Pelvis",
    Placement.LEFT_THIGH: "LeftUpperLeg", Placement.LEFT_SHANK: "LeftLowerLeg", Placement.LEFT_FOOT: "LeftFoot",
    Placement.RIGHT_THIGH: "RightUpperLeg", Placement.RIGHT_SHANK: "RightLowerLeg", Placement.RIGHT_FOOT: "RightFoot",
}
"""MVN's sensor labels for imugait's placements (used for those present when no map is given)."""
_FIELDS = {"sensorOrientation": 4, "sensorFreeAcceleration": 3, "sensorMagneticField": 3}


def read_mvnx(
    path: str | os.PathLike,
    placement_map: Mapping[Placement, str] | None = None,
    *,
    subject_id: str = "anonymous",
    mag_field_uT: float = XSENS_MAG_NOMINAL_UT,
) -> Session:
    """Import the sensor data of an ``.mvnx`` file (streamed: the XML is never held whole)."""
    p = Path(path)
    label = p.name
    subject: dict[str, str] = {}
    sensors: list[str] = []
    index, first_ms = [], None
    data: dict[str, list[np.ndarray]] = {k: [] for k in _FIELDS}
    try:
        for _event, el in ET.iterparse(p, events=("end",)):
            tag = el.tag.rsplit("}", 1)[-1]
            if tag == "sensor" and "label" in el.attrib:
                sensors.append(el.attrib["label"])
            elif tag == "frame":
                if el.attrib.get("type", "normal") == "normal":
                    _frame(el, label, len(sensors), index, data)
                    if first_ms is None and el.attrib.get("ms"):
                        first_ms = el.attrib["ms"]
                el.clear()
            elif tag == "subject":
                subject = dict(el.attrib)
    except FileNotFoundError:
        raise FormatError(f"{label}: no such file") from None
    except ET.ParseError as exc:
        raise FormatError(f"{label}: not well-formed XML ({exc}); truncated or not an MVNX file?") from None
    except (LookupError, ValueError) as exc:  # the XML declaration names an encoding expat cannot read
        raise FormatError(f"{label}: not readable XML ({exc}); not an MVNX file?") from None
    if not sensors:
        raise FormatError(f"{label}: no <sensors> list (not an MVNX file, or one without sensor data)")
    if len(index) < 2:
        raise FormatError(f"{label}: fewer than 2 normal frames")
    missing = [k for k, v in data.items() if k != "sensorMagneticField" and not v]
    if missing:
        raise FormatError(f"{label}: the frames have no {', '.join(missing)} (export MVNX with sensor data)")
    try:
        rate = float(subject.get("frameRate", "nan"))
    except ValueError:
        rate = float("nan")
    if not 0 < rate < 1e6:
        raise FormatError(f"{label}: no valid subject frameRate attribute (a rate in Hz)")
    idx = np.asarray(index, dtype=np.int64)
    steps = np.diff(idx)
    if np.any(steps <= 0):
        raise FormatError(f"{label}: frame index does not increase after frame {int(idx[np.argmax(steps <= 0)])}")
    # Time from the frame index: the ``time`` attribute is rounded to whole ms (16, 17, 17 ms … at
    # 60 Hz), which would put ±3 % noise on every reconstructed rate.
    t = (idx - idx[0]) / rate
    arrays = {k: np.stack(v) for k, v in data.items() if v}
    mapping = dict(placement_map) if placement_map else {pl: n for pl, n in MVNX_DEFAULT_MAP.items() if n in sensors}
    if not mapping:
        raise ValidationError(f"{label}: none of MVN's leg sensor labels found (sensors: {', '.join(sensors)}); "
                              f"give --map PLACEMENT=LABEL")
    streams, notes = [], []
    for pl, key in mapping.items():
        name = pick_device({s: [s] for s in sensors}, key, label)
        k = sensors.index(name)
        q = arrays["sensorOrientation"][:, k]
        norm = np.linalg.norm(q, axis=1, keepdims=True)
        bad = np.flatnonzero(~(np.isfinite(norm[:, 0]) & (norm[:, 0] > 0.5) & (norm[:, 0] < 2.0)))
        if bad.size:
            raise FormatError(f"{label}: sensor {name}: sensorOrientation of frame {index[bad[0]]} is not a unit "
                              f"quaternion {q[bad[0]].tolist()}")
        q = q / norm
        r = Rotation.from_quat(q, scalar_first=True)
        acc = r.inv().apply(arrays["sensorFreeAcceleration"][:, k] + [0.0, 0.0, GRAVITY_MPS2])
        mag = arrays["sensorMagneticField"][:, k] * mag_field_uT if "sensorMagneticField" in arrays else None
        try:
            streams.append(ImuStream(
                placement=pl, t_s=t, acc_mps2=acc, gyr_radps=body_rate_radps(q, t, steps), sample_rate_hz=rate,
                mag_uT=mag, q_world_sensor=q,
                device=DeviceInfo(device_id=name, model="Xsens MVN", firmware=subject.get("version", ""),
                                  protocol="mvnx", mag_normalised=mag is not None,
                                  gyr_sampling=source_gyr_sampling("mvnx")),  # central differences: instants
                gaps=gaps_from_steps(steps),
            ))
        except ValidationError as exc:
            raise ValidationError(f"{label}: sensor {name}: {exc}") from None
        notes.append(f"{pl.value}={name}")
    recorded_at, time_notes = stated_or_file_time(_stated_time(first_ms), p)
    meta = SessionMeta(subject_id=subject_id, recorded_at=recorded_at, source="import:mvnx",
                       notes="; ".join([f"imported from {label}: {', '.join(notes)}", "gyr and acc reconstructed from "
                                        "MVN's sensor orientation and free acceleration", *time_notes]))
    return Session(streams, meta)


def body_rate_radps(q_world_sensor: np.ndarray, t_s: np.ndarray, index_steps: np.ndarray) -> np.ndarray:
    """(N, 3) angular rate in the sensor frame from orientations (N, 4): central differences,
    one-sided at both ends and next to a gap (``index_steps`` > 1) so no rate spans lost frames."""
    r = Rotation.from_quat(q_world_sensor, scalar_first=True)
    n = len(r)
    fwd = np.full((n, 3), np.nan)
    step_rate = (r[:-1].inv() * r[1:]).as_rotvec() / np.diff(t_s)[:, None]
    ok = index_steps == 1
    fwd[:-1][ok] = step_rate[ok]  # rate over (k, k+1)
    bwd = np.full((n, 3), np.nan)
    bwd[1:][ok] = step_rate[ok]  # rate over (k-1, k)
    out = np.where(np.isnan(fwd), bwd, np.where(np.isnan(bwd), fwd, 0.5 * (fwd + bwd)))
    if np.isnan(out).any():  # a frame with gaps on both sides: no rate can be measured
        bad = int(np.flatnonzero(np.isnan(out).any(axis=1))[0])
        raise FormatError(f"frame {bad} stands alone between two gaps: its angular rate cannot be reconstructed")
    return out


def _frame(el, label: str, n_sensors: int, index: list, data: dict) -> None:
    try:
        value = int(el.attrib["index"])
    except (KeyError, ValueError):
        raise FormatError(f"{label}: a normal frame without a numeric index (after {len(index)} frames)") from None
    if not 0 <= value < 2**53:
        raise FormatError(f"{label}: frame index {value} is out of range (after {len(index)} frames)")
    index.append(value)
    for child in el:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag in _FIELDS:
            width = _FIELDS[tag]
            try:
                values = np.array(child.text.split(), dtype=np.float64)
            except (AttributeError, ValueError):
                raise FormatError(f"{label}: frame {index[-1]}: {tag} is not a list of numbers") from None
            if values.size != width * n_sensors:
                raise FormatError(f"{label}: frame {index[-1]}: {tag} has {values.size} values, expected "
                                  f"{width} x {n_sensors} sensors")
            data[tag].append(values.reshape(n_sensors, width))
    for tag, rows in data.items():
        if rows and len(rows) != len(index):
            raise FormatError(f"{label}: frame {index[-1]} has no {tag}")


def _stated_time(first_ms: str | None) -> str | None:
    """The first frame's Unix time (ms) as ISO 8601 UTC, or None."""
    try:
        return dt.datetime.fromtimestamp(int(first_ms) / 1000.0, dt.UTC).isoformat(timespec="milliseconds")
    except (TypeError, ValueError, OverflowError):
        return None
