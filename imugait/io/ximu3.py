"""x-IMU3 (x-io Technologies) CSV logs, as written by the x-IMU3 GUI's data logger: one folder
per device inside the log folder, one CSV per message type, merged into a session.

Device folder: ``x-IMU3 - <serial> (<interface>)`` holding ``Command.json`` (the ``ping``
response: device name, interface, ``serialNumber``; the device ``time``) and message files with a
header row and a ``Timestamp (us)`` first column (the device clock, µs):

=========================== ======================================================= =============
file                        columns                                                 imported as
=========================== ======================================================= =============
``Inertial.csv``            ``Timestamp (us)``, ``Gyroscope X/Y/Z (deg/s)``,         gyr (rad/s),
                            ``Accelerometer X/Y/Z (g)``                              acc (× 9.80665)
``Quaternion.csv``          ``Timestamp (us)``, ``W/X/Y/Z Element``                   q_world_sensor, when its
                                                                                    time stamps are the
                                                                                    inertial ones and it
                                                                                    turns gravity to +z
``Magnetometer.csv``        ``Timestamp (us)``, ``X/Y/Z Axis (a.u.)``                 not imported: its own
                                                                                    (slower) time stamps
=========================== ======================================================= =============

Every other message file (``EulerAngles``, ``EarthAcceleration``, ``HighGAccelerometer``,
``Temperature``, ``Battery``, ``Rssi``, ``Notification`` …) is ignored. The rate is the median
inertial time step (to 9 significant digits); a step of ≥ 1.5 periods is a gap, never interpolated.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.data.gyr_sampling import ximu3_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._devices import ClockMode, pick_device, session_offsets, z_up_orientation
from imugait.io._text_table import (
    block,
    drop_truncated_last_line,
    earliest_stated_or_file_time,
    gaps_from_times,
    rate_from_times,
    read_text_table,
    require_columns,
)
from imugait.model import DeviceInfo, ImuStream, Session, SessionMeta

TIMESTAMP = "Timestamp (us)"
GYR_COLUMNS = [f"Gyroscope {a} (deg/s)" for a in "XYZ"]
ACC_COLUMNS = [f"Accelerometer {a} (g)" for a in "XYZ"]
QUAT_COLUMNS = [f"{a} Element" for a in "WXYZ"]
_FOLDER = re.compile(r"^(?P<name>.+?)\s+(?:-\s+)?(?P<serial>[0-9A-Fa-f-]{6,})(?:\s+\((?P<interface>[^)]*)\))?$")


@dataclass(frozen=True, eq=False)
class Ximu3Device:
    """One device folder, on the device clock."""

    folder: Path
    serial: str
    device_name: str
    time: str | None
    t_device_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    q_world_sensor: np.ndarray | None
    notes: tuple[str, ...]


def read_ximu3_device(folder: str | os.PathLike) -> Ximu3Device:
    """Parse one device folder (``Inertial.csv`` required)."""
    d = Path(folder)
    command = _command(d)
    ping = next((r["ping"] for r in command if isinstance(r, dict) and "ping" in r), {})
    m = _FOLDER.match(d.name)
    serial = str(ping.get("serialNumber") or ping.get("sn") or (m["serial"] if m else d.name))
    inertial_path = d / "Inertial.csv"
    if not inertial_path.is_file():
        raise FormatError(f"x-IMU3 folder {d.name}: no Inertial.csv (the gyroscope and accelerometer log)")
    table = read_text_table(inertial_path, label=f"x-IMU3 {d.name}/Inertial.csv")
    require_columns(table, [TIMESTAMP, *GYR_COLUMNS, *ACC_COLUMNS])
    table, dropped = drop_truncated_last_line(table, [TIMESTAMP, *GYR_COLUMNS, *ACC_COLUMNS])
    if len(table.rows) < 2:
        raise FormatError(f"{table.label}: needs at least 2 samples, found {len(table.rows)}")
    t_us = block(table, [TIMESTAMP])[:, 0]
    steps = np.diff(t_us)
    if np.any(steps <= 0):
        i = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise FormatError(f"{table.label}: timestamp does not increase at line {table.line_numbers[i]}")
    acc = block(table, ACC_COLUMNS) * GRAVITY_MPS2
    gyr = np.deg2rad(block(table, GYR_COLUMNS))
    notes = [f"dropped truncated last line {dropped} of Inertial.csv"] if dropped else []
    q = _quaternion(d, t_us, acc, notes)
    time = next((str(r["time"]) for r in command if isinstance(r, dict) and "time" in r), None)
    return Ximu3Device(d, serial, str(ping.get("deviceName", "x-IMU3")), time, t_us * 1e-6, acc, gyr, q, tuple(notes))


def read_ximu3(
    log_folder: str | os.PathLike,
    placement_map: Mapping[Placement, str],
    *,
    subject_id: str = "anonymous",
    clock: ClockMode = ClockMode.SHARED,
) -> Session:
    """Import an x-IMU3 GUI log folder (one sub-folder per device) — or one device folder.

    Parameters
    ----------
    placement_map : placement -> device serial number (``F7E4-5410-EC7B-D7E7``, from Command.json
        or the folder name) or the device folder's name.
    clock : ``SHARED`` (default): the devices' time stamps are one clock (x-IMU3 devices
        synchronised by the GUI); ``START``: each device's first sample is t = 0.
    """
    if not placement_map:
        raise ValidationError("an x-IMU3 import needs at least one placement, e.g. left_thigh=F7E4-5410-EC7B-D7E7")
    root = Path(log_folder)
    if not root.is_dir():
        raise FormatError(f"{root}: not a folder")
    folders = [root] if (root / "Inertial.csv").is_file() else sorted(
        f for f in root.iterdir() if f.is_dir() and (f / "Inertial.csv").is_file())
    if not folders:
        raise FormatError(f"{root}: no x-IMU3 device folder (a folder with Inertial.csv) in it")
    by_name = {f.name: f for f in folders}
    names = {n: _names(f) for n, f in by_name.items()}  # only the mapped devices' files are parsed
    chosen = {pl: read_ximu3_device(by_name[pick_device(names, key, f"x-IMU3 import from {root}")])
              for pl, key in placement_map.items()}
    offsets = session_offsets({pl: float(d.t_device_s[0]) for pl, d in chosen.items()}, clock, f"x-IMU3 import from {root}")
    streams, notes = [], []
    for pl, d in chosen.items():
        rate, period = rate_from_times(d.t_device_s)
        try:
            streams.append(ImuStream(
                placement=pl, t_s=d.t_device_s - offsets[pl], acc_mps2=d.acc_mps2, gyr_radps=d.gyr_radps,
                sample_rate_hz=rate, q_world_sensor=d.q_world_sensor,
                device=DeviceInfo(device_id=d.serial, model=d.device_name, protocol="x-imu3-csv",
                                  gyr_sampling=ximu3_gyr_sampling(rate)),  # averaged when decimated
                gaps=gaps_from_times(d.t_device_s, period),
            ))
        except ValidationError as exc:
            raise ValidationError(f"x-IMU3 {d.folder.name}: {exc}") from None
        notes.append(f"{pl.value}={d.folder.name}" + "".join(f" ({n})" for n in d.notes))
    recorded_at, time_notes = earliest_stated_or_file_time([_stated_time(d) for d in chosen.values()],
                                                           [d.folder / "Inertial.csv" for d in chosen.values()])
    meta = SessionMeta(subject_id=subject_id, recorded_at=recorded_at, source="import:x-imu3",
                       notes="; ".join([f"imported from {', '.join(notes)}", f"clock: {clock.value}", *time_notes]))
    return Session(streams, meta)


def _names(d: Path) -> list[str]:
    """What ``--map`` may call a device folder: its serial number, folder name and device name."""
    ping = next((r["ping"] for r in _command(d) if isinstance(r, dict) and isinstance(r.get("ping"), dict)), {})
    m = _FOLDER.match(d.name)
    return [str(v) for v in (ping.get("serialNumber"), ping.get("sn"), m["serial"] if m else None, d.name,
                             ping.get("deviceName")) if v]


def _command(d: Path) -> list:
    path = d / "Command.json"
    if not path.is_file():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(f"x-IMU3 {d.name}/Command.json is not JSON ({exc})") from None
    return doc if isinstance(doc, list) else []


def _quaternion(d: Path, t_us: np.ndarray, acc: np.ndarray, notes: list[str]) -> np.ndarray | None:
    path = d / "Quaternion.csv"
    if not path.is_file():
        return None
    table = read_text_table(path, label=f"x-IMU3 {d.name}/Quaternion.csv")
    require_columns(table, [TIMESTAMP, *QUAT_COLUMNS])
    table, _ = drop_truncated_last_line(table, [TIMESTAMP, *QUAT_COLUMNS])
    tq = block(table, [TIMESTAMP])[:, 0]
    n = min(tq.size, t_us.size)
    if n < t_us.size - 1 or not np.array_equal(tq[:n], t_us[:n]):
        notes.append("Quaternion.csv left out: its time stamps are not the inertial ones")
        return None
    q = np.full((t_us.size, 4), np.nan)
    q[:n] = block(table, QUAT_COLUMNS)[:n]
    if n < t_us.size:  # the quaternion file lost its last row to the interrupted write
        q[n:] = q[n - 1]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    q, why = z_up_orientation(q, acc)
    if why:
        notes.append(f"Quaternion.csv {why}")
    return q


def _stated_time(d: Ximu3Device) -> str | None:
    """The time the device folder states, or None."""
    if d.time:
        try:
            return dt.datetime.strptime(d.time, "%Y-%m-%d %H:%M:%S").isoformat()
        except ValueError:
            pass
    return None
