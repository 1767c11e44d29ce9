"""Vendor files made faithfully from their documented layouts (docs/formats.md), filled with a
physically consistent motion so importers can be checked against known values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

G = 9.80665
FIELD_WORLD_UT = np.array([20.0, 0.0, -40.0])


@dataclass(frozen=True)
class Motion:
    """A sensor swinging about a fixed axis: ``q_world_sensor`` (N, 4), scalar first; ``gyr_radps``
    and ``acc_mps2`` (specific force, no linear acceleration) in the sensor frame; ``mag_uT``."""

    t_s: np.ndarray
    q: np.ndarray
    gyr_radps: np.ndarray
    acc_mps2: np.ndarray
    mag_uT: np.ndarray


def swing(n: int = 300, rate_hz: float = 60.0, axis=(0.2, 1.0, 0.1), amplitude_deg: float = 30.0,
          tilt_deg: float = 10.0) -> Motion:
    t = np.arange(n) / rate_hz
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    freq = 0.9
    angle = np.deg2rad(amplitude_deg) * np.sin(2 * np.pi * freq * t)
    rate = np.deg2rad(amplitude_deg) * 2 * np.pi * freq * np.cos(2 * np.pi * freq * t)
    base = Rotation.from_rotvec([np.deg2rad(tilt_deg), 0, 0])
    r = base * Rotation.from_rotvec(angle[:, None] * axis)
    gyr = rate[:, None] * axis  # body-fixed axis: the rate is along it in the sensor frame
    acc = r.inv().apply([0.0, 0.0, G])
    mag = r.inv().apply(FIELD_WORLD_UT)
    return Motion(t, r.as_quat(scalar_first=True), gyr, acc, mag)


def write_dot_csv(path: Path, tag: str, m: Motion, *, t0_us: int = 2_268_972_329, synced: bool = True,
                  rate_hz: int = 60, mag_scale_uT: float = 50.0) -> Path:
    """A DOT SDK/app export in "custom mode 27" (quaternion, Euler, free acc, acc, gyr, mag)."""
    head = ["sep=,", f"DeviceTag:,{tag},,,,", "FirmwareVersion:,2.6.0,,,,", "AppVersion:,2023.6.0,,,,",
            f"SyncStatus:,{'Synced' if synced else 'Un-synced'},,,,", f"OutputRate:,{rate_hz}Hz,,,,",
            "FilterProfile:,General,,,,", "Measurement Mode:,Custom Mode 4,,,,",
            "StartTime:,2025-07-11 20:06:00.087 +0100,,,,", "Movella Technologies B. V. 2005-2025,,,,,", "",
            "PacketCounter,SampleTimeFine,Quat_W,Quat_X,Quat_Y,Quat_Z,Euler_X,Euler_Y,Euler_Z,FreeAcc_X,FreeAcc_Y,"
            "FreeAcc_Z,Acc_X,Acc_Y,Acc_Z,Gyr_X,Gyr_Y,Gyr_Z,Mag_X,Mag_Y,Mag_Z,Flag"]
    euler = Rotation.from_quat(m.q, scalar_first=True).as_euler("xyz", degrees=True)
    stf = (t0_us + np.rint(m.t_s * 1e6).astype(np.int64)) % 2**32
    rows = []
    for i in range(m.t_s.size):
        vals = [*m.q[i], *euler[i], 0.0, 0.0, 0.0, *m.acc_mps2[i], *np.rad2deg(m.gyr_radps[i]), *(m.mag_uT[i] / mag_scale_uT)]
        rows.append(", ".join([str(i + 1), str(int(stf[i])), *(f"{v:.9g}" for v in vals), "0"]))
    path.write_text("\n".join(head + rows) + "\n")
    return path


def write_ximu3_device(log: Path, serial: str, m: Motion, *, t0_us: int = 34_290_905, quat: np.ndarray | None = None,
                       interface: str = "USB") -> Path:
    """One x-IMU3 GUI device folder: Command.json, Inertial.csv (deg/s, g), Quaternion.csv."""
    d = log / f"x-IMU3 - {serial} ({interface})"
    d.mkdir(parents=True)
    ping = {"ping": {"deviceName": "x-IMU3", "interface": interface, "serialNumber": serial}}
    (d / "Command.json").write_text(json.dumps([ping, {"time": "2024-05-06 10:11:12"}]))
    ts = t0_us + np.rint(m.t_s * 1e6).astype(np.int64)
    rows = ["Timestamp (us),Gyroscope X (deg/s),Gyroscope Y (deg/s),Gyroscope Z (deg/s),Accelerometer X (g),"
            "Accelerometer Y (g),Accelerometer Z (g)"]
    rows += [",".join([str(ts[i]), *(f"{v:.6f}" for v in np.rad2deg(m.gyr_radps[i])), *(f"{v:.6f}" for v in m.acc_mps2[i] / G)])
             for i in range(ts.size)]
    (d / "Inertial.csv").write_text("\n".join(rows) + "\n")
    q = m.q if quat is None else quat
    rows = ["Timestamp (us),W Element,X Element,Y Element,Z Element"]
    rows += [",".join([str(ts[i]), *(f"{v:.6f}" for v in q[i])]) for i in range(ts.size)]
    (d / "Quaternion.csv").write_text("\n".join(rows) + "\n")
    return d


def write_apdm_h5(path: Path, sensors: dict[str, tuple[str, Motion]], *, t0_us: int = 1_700_000_000_000_000,
                  rate_hz: float = 128.0, version: int = 5, orientation: bool = True) -> Path:
    """An APDM Opal file (format version 5): ``sensors`` is case id -> (Label 0, motion)."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["FileFormatVersion"] = np.int32(version)
        f.create_group("Annotations")
        for cid, (label, m) in sensors.items():
            g = f.create_group(f"Sensors/{cid}")
            cfg = g.create_group("Configuration")
            cfg.attrs["Label 0"] = np.bytes_(label)
            cfg.attrs["Sample Rate"] = np.uint16(rate_hz)
            g["Time"] = (t0_us + np.rint(m.t_s * 1e6)).astype(np.uint64)
            g["Accelerometer"] = m.acc_mps2.astype(np.float32)
            g["Gyroscope"] = m.gyr_radps.astype(np.float32)
            g["Magnetometer"] = m.mag_uT.astype(np.float32)
            g["Temperature"] = np.full(m.t_s.size, 31.5, dtype=np.float32)
            if orientation:
                f[f"Processed/{cid}/Orientation"] = m.q.astype(np.float32)
    return path


def write_mvnx(path: Path, sensors: dict[str, Motion], *, rate_hz: float = 60.0, drop_frames: tuple[int, ...] = (),
               namespace: bool = True) -> Path:
    """An MVN Analyze MVNX (version 4) with calibration frames, then normal frames carrying the
    sensor data (segment data left out: the importer ignores it)."""
    labels = list(sensors)
    n = next(iter(sensors.values())).t_s.size
    ns = ' xmlns="http://www.xsens.com/mvn/mvnx"' if namespace else ""
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<mvnx version="4"{ns}>',
           '<mvn version="2022.0.0" build="42"/>', "<comment>imugait test fixture</comment>",
           f'<subject label="P01" frameRate="{rate_hz:g}" segmentCount="23" recDate="Mon Sep 09 11:37:04.456 2019" '
           'configuration="FullBody">', "<sensors>", *(f'<sensor label="{s}"/>' for s in labels), "</sensors>",
           f'<frames segmentCount="23" sensorCount="{len(labels)}" jointCount="22">',
           '<frame time="0" index="" tc="" ms="" type="identity"><orientation>1 0 0 0</orientation></frame>',
           '<frame time="0" index="" tc="" ms="" type="tpose"><orientation>1 0 0 0</orientation></frame>']
    for i in range(n):
        if i in drop_frames:
            continue
        t_ms = round(sensors[labels[0]].t_s[i] * 1000.0)
        def join(arrs):
            return " ".join(f"{v:.9g}" for a in arrs for v in a)
        out.append(
            f'<frame time="{t_ms}" index="{i}" tc="00:00:00:00" ms="{1568022000000 + t_ms}" type="normal">'
            f"<orientation>{' '.join(['1 0 0 0'] * 23)}</orientation>"
            f"<sensorFreeAcceleration>{join([np.zeros(3) for _ in labels])}</sensorFreeAcceleration>"
            f"<sensorMagneticField>{join([sensors[s].mag_uT[i] / 50.0 for s in labels])}</sensorMagneticField>"
            f"<sensorOrientation>{join([sensors[s].q[i] for s in labels])}</sensorOrientation>"
            "</frame>")
    out += ["</frames>", "</subject>", '<securityCode code="KeyCode"/>', "</mvnx>"]
    path.write_text("\n".join(out) + "\n")
    return path
