"""Convert comfortable-speed walks of the Geneva dataset (Grouvel et al. 2023) into ``benchmarks/data/grouvel_2023/``.

Source: the dataset's synchronised CSV files (``SYNC_DATA/<trial>.csv``), as redistributed in GitHub
``ThomasAston/movetru`` @ f65a0d81da797ece819671f18d3a536717203a94, ``data/synchronised/``. Dataset:
Grouvel G, Carcreff L, Moissenet F, Armand S, *A dataset of asymptomatic human gait and movements
obtained from markers, IMUs, insoles and force plates*, Sci Data 2023 10:180
(doi:10.1038/s41597-023-02077-3); Yareta doi:10.26037/yareta:xkxgaw6ewjdhfntdhtj7upepxy (CC BY 4.0).
Run once (see ``benchmarks/data/grouvel_2023/README.md``)::

    .venv/bin/python benchmarks/convert_grouvel_2023.py /path/to/movetru/data/synchronised

What a synchronised file holds, as found here (the article says all columns are at 100 Hz; for the
IMU columns that is not so): marker trajectories (mm) at 100 Hz over the capture volume (3–4.5 s),
and in the *same rows* the IMU signals (g, °/s) resampled to that many rows over the whole
synchronised IMU crop (8–15 s: the 10-m walk), their instants in
``x_Time`` (s, 22–40 ms apart). The two are therefore on different clocks; the article gives the
IMU-to-marker synchronisation a precision of 0.1 s and recommends users to redo it. Each IMU sits
on a cluster of four markers (``LT1``–``LT4`` …), so it is redone here from the data: the offset
between the clocks is the one at which each leg sensor's gyroscope best matches its cluster's
angular rate (a constant sensor-to-cluster rotation fitted per sensor; pooled relative residual).

What it writes per trial (``P02_S01_Gait_01`` …), and checks before writing:

- ``<trial>_imu.csv``: generic CSV (``docs/formats.md``), ``t_s = x_Time − x_Time[0]``, the leg
  sensors ``left_thigh`` (``P6_LT``), ``left_shank`` (``LS``), ``right_thigh`` (``RT``),
  ``right_shank`` (``RS``): acc g → m/s² (× 9.80665; the file's values are specific force, checked:
  rotated into the lab by the fitted cluster orientation their mean over the walk points up at
  ≈ 9.8 m/s²), gyro °/s → rad/s; 7 significant digits.
- ``<trial>_reference.csv``: the marker-based angles at the 100-Hz marker frames, ``t_s`` on the IMU
  clock above (frame / 100 − offset): per side ``<side>_knee_flexion_deg``, ``_knee_adduction_deg``,
  ``_knee_rotation_deg`` (thigh → shank), ``_hip_rotation_deg`` (femur against the line of
  progression, the pipeline's meaning without a pelvis sensor) and ``_hip_rotation_pelvis_deg``
  (femur against the pelvis), by imugait's JCS and sign table (:func:`imugait.conventions.joint_angles_rad`)
  on ISB segment frames built from the dataset's markers and joint centres (:func:`marker_frames`);
  then the same five per side by three further marker models, their infix before the unit
  (``<side>_knee_flexion_functional_deg`` …): ``_functional`` (the knee's axis from the thigh and
  shank clusters' relative motion by SARA over the participant's walks, its centre on it nearest
  ``KJC``, the segments tracked by the clusters: :func:`functional_frames`), ``_functional_axis``
  (the anatomical frames with only that axis exchanged: :func:`functional_axis_frames`) and
  ``_cluster_tracked`` (the anatomical frames carried by the clusters: :func:`cluster_tracked_frames`).
- ``functional_knee.csv``: per participant and side the functional knee fit (:func:`functional_knees`).
- ``<trial>_sensors.csv``: each kept sensor's orientation in the lab (scalar-first quaternion)
  at the marker frames, ``t_s`` as in the reference: its cluster's orientation (relative to the
  cluster's first frame) times the fitted constant sensor-to-cluster rotation. With the pipeline's
  own sensor-to-segment calibration it gives angles free of the IMU's orientation estimation
  (``benchmarks/real_data.py``, part d's decomposition).
- ``cycles.csv``: per trial and side the gait cycles inside the marker window, heel strike to
  heel strike, heel strikes by Zeni et al. 2008 (heel marker's largest lead on the pelvis centre
  along the walking direction).
- ``sync.csv``: per trial the offset, the per-sensor relative residual of the gyroscope against the
  cluster rate, the IMU rate, and the walking direction in the lab (rad).
- ``<trial>_markers.csv``, for every walk of ``TRIALS`` (also ``P10_S01_Gait_02``, which has no
  IMU files: its markers are in its participant's functional knee fit): the markers the marker models
  read (:data:`MARKERS`), mm to 0.01 mm, the dataset's column names (``LASI_x`` …), one row per
  100-Hz marker frame, as in the source (the rows of ``<trial>_reference.csv``). With them the
  marker models are rebuilt without the source (``benchmarks/geneva_knee_axes.py``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from _functional_knee import (
    ClusterPose,
    FunctionalAxis,
    cluster_pose,
    cluster_template,
    pointing,
    sara_axis,
)
from scipy.signal import find_peaks
from scipy.spatial.transform import Rotation

from imugait.conventions import GRAVITY_MPS2, Joint, Side, joint_angles_rad, progression_quat

OUT = Path(__file__).resolve().parent / "data" / "grouvel_2023"
MARKER_RATE_HZ = 100.0
SENSORS = {"left_thigh": "LT", "left_shank": "LS", "right_thigh": "RT", "right_shank": "RS"}
TRIALS = [f"P{p:02d}_S01_Gait_{k:02d}" for p in range(2, 11) for k in range(1, 5)]
"""Comfortable-speed walks 1–4 of participants 2–10 (participant 1's file has no ``x_Time``: its
IMU clock is unknown)."""
MAX_RESIDUAL = 0.35
"""A sensor whose gyroscope matches its cluster's rate worse than this (relative RMS residual at
the best offset) is not used: the synchronisation or the sensor is not trusted."""
OFFSET_STEP_S = 0.002
MARKERS = ("LASI", "RASI", "LPSI", "RPSI",
           *(f"{s}{m}" for s in "LR" for m in ("HJC", "KJC", "KNE", "AJC", "ANK")),
           *(f"{s}{c}{i}" for s in "LR" for c in "TS" for i in range(1, 5)))
"""The markers (and the dataset's virtual joint centres) the marker models read: the pelvis
(:func:`marker_frames`, :func:`reference_angles`), the femur and tibia (:func:`marker_frames`) and
the thigh and shank clusters (:func:`functional_knees`, :func:`functional_frames`,
:func:`cluster_tracked_frames`); not the heels (``cycles.csv`` is committed) nor the feet."""
MARKER_DECIMALS = 2
"""Decimals (mm) of the committed markers: 0.01 mm, far below the markers' own noise, but what
makes ``benchmarks/geneva_knee_axes.py`` print the same table from them as from the source (at
0.1 mm its per-walk values moved by up to 0.03° and one printed digit: docs/validation.md)."""


def _marker(d: pd.DataFrame, name: str) -> np.ndarray:
    return d[[f"{name}_x", f"{name}_y", f"{name}_z"]].to_numpy(float) / 1000.0


def write_markers(trial: str, d: pd.DataFrame) -> Path:
    """One walk's :data:`MARKERS` from its synchronised file ``d`` to ``<trial>_markers.csv`` (mm,
    :data:`MARKER_DECIMALS`); the path."""
    path = OUT / f"{trial}_markers.csv"
    d[[f"{m}_{k}" for m in MARKERS for k in "xyz"]].to_csv(path, index=False, float_format=f"%.{MARKER_DECIMALS}f")
    return path


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _frame(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> Rotation:
    return Rotation.from_matrix(np.stack([x, y, z], axis=-1))


def marker_frames(d: pd.DataFrame) -> dict[str, Rotation]:
    """ISB frames (X anterior, Y up/proximal, Z right) in the lab (z up) from the CGM markers and the
    dataset's joint centres: pelvis from the ASIS and PSIS; femur Y from knee to hip joint centre,
    Z along the knee joint centre → lateral knee marker (to the right on both sides); tibia Y from
    ankle to knee joint centre, Z along the ankle joint centre → lateral malleolus marker."""
    frames = {}
    lasi, rasi = _marker(d, "LASI"), _marker(d, "RASI")
    z = _unit(rasi - lasi)
    forward = (lasi + rasi) / 2 - (_marker(d, "LPSI") + _marker(d, "RPSI")) / 2
    y = _unit(np.cross(z, forward))
    frames["pelvis"] = _frame(np.cross(y, z), y, z)
    for side, s in (("left", "L"), ("right", "R")):
        right = 1.0 if side == "right" else -1.0
        for seg, (prox, dist, lateral, origin) in {
            "thigh": (f"{s}HJC", f"{s}KJC", f"{s}KNE", f"{s}KJC"),
            "shank": (f"{s}KJC", f"{s}AJC", f"{s}ANK", f"{s}AJC"),
        }.items():
            frames[f"{side}_{seg}"] = _axis_first_frames(_marker(d, prox) - _marker(d, dist),
                                                         right * (_marker(d, lateral) - _marker(d, origin)), y_first=True)
    return frames


@dataclass(frozen=True)
class FunctionalKnee:
    """One participant's knee by its clusters' relative motion: the thigh (``<S>T1``–``4``) and
    shank (``<S>S1``–``4``) clusters' templates (local shapes, m), the SARA axis between them
    (:func:`_functional_knee.sara_axis`, pointing to the right), and the knee joint centre on
    that axis nearest the dataset's ``KJC`` (its mean in the thigh cluster), in both clusters'
    local coordinates (m). ``axis_femur``, ``axis_tibia``: the same axis, unit, in the anatomical
    model's femur and tibia frames (:func:`marker_frames`; the mean over the walks' frames): the
    functional axis carried by the anatomical markers (:func:`functional_axis_frames`).
    ``thigh_to_femur``, ``shank_to_tibia``: the anatomical model's femur and tibia frames in the
    thigh and shank clusters (the mean rotation over the walks' frames): the anatomical frames
    carried by the clusters (:func:`cluster_tracked_frames`)."""

    thigh_template_m: np.ndarray
    shank_template_m: np.ndarray
    axis: FunctionalAxis
    centre_thigh_m: np.ndarray
    centre_shank_m: np.ndarray
    axis_femur: np.ndarray
    axis_tibia: np.ndarray
    thigh_to_femur: Rotation
    shank_to_tibia: Rotation


def _poses(d: pd.DataFrame, s: str, thigh_template_m: np.ndarray, shank_template_m: np.ndarray
           ) -> tuple[ClusterPose, ClusterPose]:
    return (cluster_pose(_cluster_points(d, f"{s}T"), thigh_template_m),
            cluster_pose(_cluster_points(d, f"{s}S"), shank_template_m))


def _concatenate(poses: list[ClusterPose]) -> ClusterPose:
    return ClusterPose(Rotation.concatenate([p.rotation for p in poses]), np.concatenate([p.origin_m for p in poses]),
                       np.concatenate([p.rms_m for p in poses]))


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.rad2deg(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def functional_knees(walks: list[pd.DataFrame]) -> tuple[dict[Side, FunctionalKnee], list[dict]]:
    """Per side, the functional knee over all frames of one participant's walks (marker data of
    each walk, the same clusters: templates from the first walk's first frame); and per side a
    record of the fit: SARA residual (mm) and conditioning, frames, each walk's own axis's angle
    to it, and its angle to the anatomical model's femur Z (``KJC`` → ``KNE``, mean in the
    thigh cluster)."""
    out, notes = {}, []
    for side, s in ((Side.LEFT, "L"), (Side.RIGHT, "R")):
        templates = (cluster_template(_cluster_points(walks[0], f"{s}T")[0]),
                     cluster_template(_cluster_points(walks[0], f"{s}S")[0]))
        poses = [_poses(d, s, *templates) for d in walks]
        thigh, shank = _concatenate([p[0] for p in poses]), _concatenate([p[1] for p in poses])
        right = np.concatenate([_unit(_marker(d, "RASI") - _marker(d, "LASI")) for d in walks])
        axis = pointing(sara_axis(thigh, shank), thigh, right)
        kjc = np.concatenate([_marker(d, f"{s}KJC") for d in walks])
        centre_thigh, centre_shank = axis.nearest_points(thigh.to_local(kjc).mean(axis=0))
        anatomical = [marker_frames(d) for d in walks]
        in_femur = np.concatenate([f[f"{side.value}_thigh"].inv().apply(p[0].rotation.apply(axis.axis_1))
                                   for f, p in zip(anatomical, poses, strict=True)]).mean(axis=0)
        in_tibia = np.concatenate([f[f"{side.value}_shank"].inv().apply(p[1].rotation.apply(axis.axis_2))
                                   for f, p in zip(anatomical, poses, strict=True)]).mean(axis=0)
        thigh_to_femur = Rotation.concatenate([p[0].rotation.inv() * f[f"{side.value}_thigh"]
                                               for f, p in zip(anatomical, poses, strict=True)]).mean()
        shank_to_tibia = Rotation.concatenate([p[1].rotation.inv() * f[f"{side.value}_shank"]
                                               for f, p in zip(anatomical, poses, strict=True)]).mean()
        out[side] = FunctionalKnee(*templates, axis, centre_thigh, centre_shank, _unit(in_femur), _unit(in_tibia),
                                   thigh_to_femur, shank_to_tibia)
        kne = thigh.to_local(np.concatenate([_marker(d, f"{s}KNE") for d in walks]))
        lateral = (1.0 if side is Side.RIGHT else -1.0) * (kne - thigh.to_local(kjc)).mean(axis=0)
        each = [pointing(sara_axis(*p), p[0], _unit(_marker(d, "RASI") - _marker(d, "LASI"))).axis_1
                for p, d in zip(poses, walks, strict=True)]
        notes.append({"side": side.value, "frames": len(thigh.origin_m), "residual_mm": round(1e3 * axis.residual_rms_m, 1),
                      "conditioning": round(axis.conditioning, 3),
                      "walk_axes_deg": " ".join(f"{_angle_deg(a, axis.axis_1):.1f}" for a in each),
                      "vs_anatomical_deg": round(_angle_deg(axis.axis_1, lateral), 1)})
    return out, notes


def functional_frames(d: pd.DataFrame, knees: dict[Side, FunctionalKnee]) -> dict[str, Rotation]:
    """ISB frames in the lab like :func:`marker_frames` (the same pelvis), but each knee's axis and
    centre functional: femur Z along the knee's functional axis (to the right; the primary axis,
    so flexion is about it), Y from the functional knee centre towards ``HJC`` made normal to it;
    tibia Y from ``AJC`` to the functional knee centre (primary, as ISB's tibia), Z along the
    axis as the shank cluster carries it, made normal to Y."""
    frames = {"pelvis": marker_frames(d)["pelvis"]}
    for side, s in ((Side.LEFT, "L"), (Side.RIGHT, "R")):
        knee = knees[side]
        thigh, shank = _poses(d, s, knee.thigh_template_m, knee.shank_template_m)
        y_raw = _marker(d, f"{s}HJC") - thigh.to_lab(knee.centre_thigh_m)
        frames[f"{side.value}_thigh"] = _axis_first_frames(y_raw, thigh.rotation.apply(knee.axis.axis_1), y_first=False)
        y_raw = shank.to_lab(knee.centre_shank_m) - _marker(d, f"{s}AJC")
        frames[f"{side.value}_shank"] = _axis_first_frames(y_raw, shank.rotation.apply(knee.axis.axis_2), y_first=True)
    return frames


def _axis_first_frames(y_raw: np.ndarray, z: np.ndarray, y_first: bool) -> Rotation:
    """ISB frame from a long axis ``y_raw`` and a flexion axis ``z`` (N, 3, lab): with ``y_first`` Y
    along ``y_raw`` and Z made normal to it, else Z along ``z`` and Y made normal to it."""
    x = _unit(np.cross(y_raw, z))
    if y_first:
        y = _unit(y_raw)
        return _frame(x, y, np.cross(x, y))
    z = _unit(z)
    return _frame(x, np.cross(z, x), z)


def functional_axis_frames(d: pd.DataFrame, knees: dict[Side, FunctionalKnee]) -> dict[str, Rotation]:
    """The anatomical model's frames (:func:`marker_frames`) with only the knee's axis exchanged:
    femur Z along the functional axis as the anatomical femur frame carries it (primary), Y its
    long axis made normal; tibia Y its long axis (primary), Z the functional axis as the anatomical
    tibia frame carries it. The segments are tracked by the CGM markers, as in the anatomical
    model; what differs from it is the axis alone (from :func:`functional_frames`, the markers
    that track the segments and the knee centre)."""
    frames = marker_frames(d)
    for side in Side:
        knee, thigh, shank = knees[side], frames[f"{side.value}_thigh"], frames[f"{side.value}_shank"]
        frames[f"{side.value}_thigh"] = _axis_first_frames(thigh.apply([0.0, 1.0, 0.0]),
                                                           thigh.apply(knee.axis_femur), y_first=False)
        frames[f"{side.value}_shank"] = _axis_first_frames(shank.apply([0.0, 1.0, 0.0]),
                                                           shank.apply(knee.axis_tibia), y_first=True)
    return frames


def cluster_tracked_frames(d: pd.DataFrame, knees: dict[Side, FunctionalKnee]) -> dict[str, Rotation]:
    """The anatomical model's femur and tibia frames (:func:`marker_frames`) as constant rotations
    of the thigh and shank clusters (their mean over the participant's walks), so carried by the
    clusters: the anatomical axes, the clusters' tracking (pelvis as in the anatomical model)."""
    frames = {"pelvis": marker_frames(d)["pelvis"]}
    for side, s in ((Side.LEFT, "L"), (Side.RIGHT, "R")):
        knee = knees[side]
        thigh, shank = _poses(d, s, knee.thigh_template_m, knee.shank_template_m)
        frames[f"{side.value}_thigh"] = thigh.rotation * knee.thigh_to_femur
        frames[f"{side.value}_shank"] = shank.rotation * knee.shank_to_tibia
    return frames


def _quat(r: Rotation) -> np.ndarray:
    return r.as_quat(scalar_first=True)


def _angles(f: dict[str, Rotation], prog: np.ndarray, suffix: str) -> dict[str, np.ndarray]:
    """Per side knee flexion, adduction, rotation, femur rotation against the line of progression
    and against the pelvis (deg), the names ``<side>_<angle><suffix>_deg``."""
    out = {}
    for side in Side:
        s = side.value
        knee = np.rad2deg(joint_angles_rad(_quat(f[f"{s}_thigh"]), _quat(f[f"{s}_shank"]), Joint.KNEE, side))
        hip_prog = np.rad2deg(joint_angles_rad(prog, _quat(f[f"{s}_thigh"]), Joint.HIP, side))
        hip_pelvis = np.rad2deg(joint_angles_rad(_quat(f["pelvis"]), _quat(f[f"{s}_thigh"]), Joint.HIP, side))
        out.update({f"{s}_knee_flexion{suffix}_deg": knee[:, 0], f"{s}_knee_adduction{suffix}_deg": knee[:, 1],
                    f"{s}_knee_rotation{suffix}_deg": knee[:, 2], f"{s}_hip_rotation{suffix}_deg": hip_prog[:, 2],
                    f"{s}_hip_rotation_pelvis{suffix}_deg": hip_pelvis[:, 2]})
    return out


def reference_angles(d: pd.DataFrame, knees: dict[Side, FunctionalKnee] | None = None) -> tuple[pd.DataFrame, float]:
    """Marker-based angles (deg) per marker frame, and the walking direction (rad, lab). With
    ``knees`` also the functional model's (:func:`functional_frames`), ``_functional`` before the
    unit in their names; the anatomical model's columns first, as before."""
    pelvis_centre = sum(_marker(d, m) for m in ("LASI", "RASI", "LPSI", "RPSI")) / 4
    step = pelvis_centre[-1] - pelvis_centre[0]
    heading = float(np.arctan2(step[1], step[0]))
    prog = progression_quat(np.full(len(d), heading))
    out = _angles(marker_frames(d), prog, "")
    if knees is not None:
        out.update(_angles(functional_frames(d, knees), prog, "_functional"))
        out.update(_angles(functional_axis_frames(d, knees), prog, "_functional_axis"))
        out.update(_angles(cluster_tracked_frames(d, knees), prog, "_cluster_tracked"))
    return pd.DataFrame(out), heading


def heel_strikes(d: pd.DataFrame, heading: float) -> dict[Side, np.ndarray]:
    """Marker frames of heel strike per side (Zeni 2008: the heel's largest lead on the pelvis
    centre along the walking direction), strides at least 0.6 s apart."""
    direction = np.array([np.cos(heading), np.sin(heading), 0.0])
    centre = sum(_marker(d, m) for m in ("LASI", "RASI", "LPSI", "RPSI")) / 4
    out = {}
    for side, s in ((Side.LEFT, "L"), (Side.RIGHT, "R")):
        lead = (_marker(d, f"{s}HEE") - centre) @ direction
        peaks, _ = find_peaks(lead, distance=int(0.6 * MARKER_RATE_HZ), prominence=0.1)
        out[side] = peaks
    return out


def _cluster_points(d: pd.DataFrame, prefix: str) -> np.ndarray:
    """A four-marker cluster's markers (N, 4, 3), m."""
    return np.stack([_marker(d, f"{prefix}{i}") for i in range(1, 5)], axis=1)


def _cluster_rate(d: pd.DataFrame, prefix: str) -> tuple[Rotation, np.ndarray]:
    """Orientation of a four-marker cluster (relative to its first frame) and its angular rate
    (rad/s, cluster frame), central differences at the marker rate."""
    pts = _cluster_points(d, prefix)
    r = cluster_pose(pts, cluster_template(pts[0])).rotation
    w = (r[:-1].inv() * r[1:]).as_rotvec() * MARKER_RATE_HZ
    return r, np.vstack([w[:1], 0.5 * (w[1:] + w[:-1]), w[-1:]])


def _kabsch(target: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Rotation A minimising |target − A source| (rows are vectors)."""
    u, _, vt = np.linalg.svd(source.T @ target)
    fix = np.diag([1.0, 1.0, np.sign(np.linalg.det(vt.T @ u.T))])
    return vt.T @ fix @ u.T


def _residual(rate: np.ndarray, gyr: np.ndarray, tau: np.ndarray, offset: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Relative RMS residual of the gyroscope (at IMU instants ``tau``) against the cluster rate at
    marker time ``tau + offset``; the fitted rotation and the IMU rows used."""
    t_marker = np.arange(len(rate)) / MARKER_RATE_HZ
    inside = np.flatnonzero((tau + offset >= 0.0) & (tau + offset <= t_marker[-1]))
    if inside.size < 30:
        return np.inf, np.eye(3), inside
    x = np.stack([np.interp(tau[inside] + offset, t_marker, rate[:, k]) for k in range(3)], axis=1)
    y = gyr[inside]
    a = _kabsch(x, y)
    return float(np.sqrt(np.mean(np.sum((x - y @ a.T) ** 2, axis=1)) / np.mean(np.sum(x**2, axis=1)))), a, inside


def synchronise(d: pd.DataFrame, tau: np.ndarray, sensors: dict[str, str]
                ) -> tuple[float, dict[str, float], dict[str, float], dict[str, Rotation]]:
    """Offset (s) with marker time = IMU time + offset, the per-sensor relative residual there,
    per sensor the vertical component of its mean specific force in the lab (m/s²), and per sensor
    its orientation in the lab at every marker frame as its cluster measures it (cluster
    orientation ⊗ the fitted sensor-to-cluster rotation)."""
    rates = {p: _cluster_rate(d, s) for p, s in sensors.items()}
    gyrs = {p: np.deg2rad(d[[f"P6_{s}_gyro_{a}" for a in "xyz"]].to_numpy(float)) for p, s in sensors.items()}
    marker_span = (len(d) - 1) / MARKER_RATE_HZ

    def pooled(offset: float) -> float:
        return float(np.mean([_residual(rates[p][1], gyrs[p], tau, offset)[0] for p in sensors]))

    coarse = np.arange(-tau[-1], marker_span, 0.01)
    best = coarse[int(np.argmin([pooled(o) for o in coarse]))]
    fine = np.arange(best - 0.02, best + 0.02 + 1e-9, OFFSET_STEP_S)
    offset = float(fine[int(np.argmin([pooled(o) for o in fine]))])
    residual, up, orientation = {}, {}, {}
    for p, s in sensors.items():
        res, a, rows = _residual(rates[p][1], gyrs[p], tau, offset)
        residual[p] = res
        orientation[p] = rates[p][0] * Rotation.from_matrix(a)
        acc = d[[f"P6_{s}_acc_{k}" for k in "xyz"]].to_numpy(float)[rows] * GRAVITY_MPS2
        t_marker = np.arange(len(d)) / MARKER_RATE_HZ
        frame = np.clip(np.searchsorted(t_marker, tau[rows] + offset), 0, len(d) - 1)
        up[p] = float(np.mean((rates[p][0][frame].apply(acc @ a.T))[:, 2]))
    return offset, residual, up, orientation


def convert(trial: str, d: pd.DataFrame, knees: dict[Side, FunctionalKnee]) -> tuple[dict, pd.DataFrame] | None:
    """One walk's files (``d``: its synchronised CSV; ``knees``: its participant's functional knees)."""
    tau = d["x_Time"].to_numpy(float) - float(d["x_Time"].iloc[0])
    sensors = {p: s for p, s in SENSORS.items() if f"P6_{s}_gyro_x" in d}
    offset, residual, up, orientation = synchronise(d, tau, sensors)
    kept = {p: s for p, s in sensors.items() if residual[p] <= MAX_RESIDUAL}
    legs = [side for side in Side if f"{side.value}_thigh" in kept and f"{side.value}_shank" in kept]
    for p in kept:
        if not 8.5 < up[p] < 11.0:
            raise ValueError(f"{trial}: {p}'s mean specific force in the lab has a vertical {up[p]:.2f} m/s², not ≈ +9.8")
    imu = {"t_s": tau}
    for side in legs:
        for seg in ("thigh", "shank"):
            s = SENSORS[f"{side.value}_{seg}"]
            for k in "xyz":
                imu[f"{side.value}_{seg}_acc_{k}"] = d[f"P6_{s}_acc_{k}"].to_numpy(float) * GRAVITY_MPS2
                imu[f"{side.value}_{seg}_gyr_{k}"] = np.deg2rad(d[f"P6_{s}_gyro_{k}"].to_numpy(float))
    if not legs:
        return None
    pd.DataFrame(imu).to_csv(OUT / f"{trial}_imu.csv", index=False, float_format="%.7g")
    angles, heading = reference_angles(d, knees)
    angles.insert(0, "t_s", np.arange(len(d)) / MARKER_RATE_HZ - offset)
    keep = ["t_s"] + [c for c in angles.columns if any(c.startswith(f"{s.value}_") for s in legs)]
    angles[keep].to_csv(OUT / f"{trial}_reference.csv", index=False, float_format="%.4f")
    sensor_q = {"t_s": angles["t_s"].to_numpy()}
    for side in legs:
        for seg in ("thigh", "shank"):
            q = orientation[f"{side.value}_{seg}"].as_quat(scalar_first=True)
            sensor_q.update({f"{side.value}_{seg}_q_{k}": q[:, i] for i, k in enumerate("wxyz")})
    pd.DataFrame(sensor_q).to_csv(OUT / f"{trial}_sensors.csv", index=False, float_format="%.6f")
    cycles = []
    for side, strikes in heel_strikes(d, heading).items():
        if side not in legs:
            continue
        for k, (a, b) in enumerate(zip(strikes[:-1], strikes[1:], strict=True), start=1):
            cycles.append({"trial": trial, "side": side.value, "cycle": k,
                           "t_first_s": round(a / MARKER_RATE_HZ - offset, 4), "t_last_s": round(b / MARKER_RATE_HZ - offset, 4)})
    sync = {"trial": trial, "offset_s": round(offset, 3), "imu_rate_hz": round(float(1.0 / np.median(np.diff(tau))), 2),
            "marker_window_s": round((len(d) - 1) / MARKER_RATE_HZ, 2), "imu_span_s": round(float(tau[-1]), 2),
            "legs": " ".join(s.value for s in legs), "heading_rad": round(heading, 5)}
    sync.update({f"residual_{p}": round(residual[p], 3) for p in sensors})
    return sync, pd.DataFrame(cycles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="folder holding the synchronised CSV files (<trial>.csv)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    syncs, cycles, axes = [], [], []
    for participant in sorted({t[:3] for t in TRIALS}):
        walks = {t: pd.read_csv(args.source / f"{t}.csv") for t in TRIALS if t.startswith(participant)}
        knees, notes = functional_knees(list(walks.values()))
        axes += [{"participant": participant, **n} for n in notes]
        for trial, d in walks.items():
            write_markers(trial, d)
            got = convert(trial, d, knees)
            if got is None:
                print(f"{trial}: no leg with both sensors matching their clusters — skipped")
                continue
            syncs.append(got[0])
            cycles.append(got[1])
            print(got[0])
    pd.DataFrame(syncs).to_csv(OUT / "sync.csv", index=False)
    pd.concat(cycles).to_csv(OUT / "cycles.csv", index=False)
    pd.DataFrame(axes).to_csv(OUT / "functional_knee.csv", index=False)
    print(pd.DataFrame(axes).to_string(index=False))


if __name__ == "__main__":
    main()
