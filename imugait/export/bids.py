"""BIDS-motion export: two tracking systems — ``tracksys-imugait`` holding the calibrated segment
orientations and joint angles of an analysed walk (with the gait events), and, when the session
is given, ``tracksys-imu`` holding the sensors' own data — with their sidecars.

Layout (BIDS 1.10 motion; what the specification requires is data, with its source, in
``imugait/data/bids_motion.json`` — the tests check every file against it)::

    <root>/dataset_description.json
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_motion.tsv     no header row
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_motion.json
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_channels.tsv   one row per column above
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_channels.json  the reference frame
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_events.tsv     initial contacts, toe-offs
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imu_{motion.tsv,motion.json,channels.tsv,channels.json}

``tracksys-imugait`` channels, in order: ``latency`` (LATENCY, s from the first sample), then per
segment ``<placement>_quat_{x,y,z,w}`` (ORNT, units ``n/a``; the segment's ISB frame in the
``global`` reference frame below), then every angle (JNTANG, ``deg``, the project's sign table;
component = the JCS axis it turns about: flexion ``z``, adduction ``x``, rotation ``y``). Unknown
values are ``n/a``. Reference frame ``global``: X along the line of progression, Y up, Z to the
subject's right (``SpatialAxes`` ``ASR``, right-handed) — see :mod:`imugait.export.common`.
``tracksys-imu``: see :func:`raw_channels`. Each system's latencies count from its own first
sample; its ``TaskDescription`` gives that sample's time on the session clock.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from imugait import __version__
from imugait.analysis.result import AnalysisResult
from imugait.data import load_json
from imugait.errors import ValidationError
from imugait.export.common import (
    angle_channels,
    gait_events,
    ground_orientations,
    sample_rate_hz,
    write_text,
)
from imugait.model import Session
from imugait.output_guard import check_outputs
from imugait.timebase import common_grid, gap_mask, grid_position, interp_vectors

BIDS_RULES = "bids_motion.json"
TRACKSYS = "imugait"
RAW_TRACKSYS = "imu"
_COMPONENT = {"flexion": "z", "adduction": "x", "rotation": "y"}


@dataclass(frozen=True)
class BidsFiles:
    root: Path
    dataset_description: Path
    motion_tsv: Path
    motion_json: Path
    channels_tsv: Path
    channels_json: Path
    events_tsv: Path
    raw: tuple[Path, ...] = ()
    """``tracksys-imu`` files (motion.tsv, channels.tsv, channels.json, motion.json) when written."""


def bids_label(text: str) -> str:
    """A BIDS entity label: only letters and digits (``S-007`` -> ``S007``)."""
    label = re.sub(r"[^A-Za-z0-9]", "", text)
    if not label:
        raise ValidationError(f"{text!r} has no letter or digit to make a BIDS label from")
    return label


def export_bids(result: AnalysisResult, root: str | os.PathLike, task: str = "walking",
                subject: str | None = None, dataset_name: str = "imugait export",
                session: Session | None = None, force: bool = False) -> BidsFiles:
    """Write the dataset files under ``root`` (created; an existing dataset_description.json is kept).

    With ``session`` (the analysed one) the sensors' own data is written too, as a second tracking
    system ``tracksys-imu`` (:func:`raw_channels`). This subject's and task's files are refused when
    they exist, unless ``force`` (before any is written); other subjects in the dataset are left alone."""
    rules = load_json(BIDS_RULES)
    sub = bids_label(subject or result.session_meta.subject_id)
    task_label = bids_label(task)
    root = Path(root)
    folder = root / f"sub-{sub}" / "motion"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"sub-{sub}_task-{task_label}_tracksys-{TRACKSYS}"
    files = BidsFiles(root, root / "dataset_description.json", folder / f"{stem}_motion.tsv",
                      folder / f"{stem}_motion.json", folder / f"{stem}_channels.tsv",
                      folder / f"{stem}_channels.json", folder / f"{stem}_events.tsv")
    check_outputs([files.motion_tsv, files.motion_json, files.channels_tsv, files.channels_json, files.events_tsv,
                   *(folder.glob(f"sub-{sub}_task-{task_label}_tracksys-imu_*") if session is not None else ())],
                  force=force)
    t = result.t_s
    rows, columns = [_latency_row()], [t - t[0]]
    orientations = ground_orientations(result)
    for placement, q in orientations.items():
        for k, comp in ((1, "quat_x"), (2, "quat_y"), (3, "quat_z"), (0, "quat_w")):
            rows.append((f"{placement.value}_{comp}", comp, "ORNT", placement.value, "n/a", "global",
                         f"{placement.value.replace('_', ' ')} anatomical (ISB) frame in the global frame"))
            columns.append(q[:, k])
    angles = angle_channels(result)
    for ch in angles:
        kind = next((c for key, c in _COMPONENT.items() if key in ch.name), "n/a")
        joint = "knee" if ch.name.startswith("knee") else "hip"
        rows.append((ch.label, kind, "JNTANG", f"{ch.side.value}_{joint}", "deg", "n/a", ch.description))
        columns.append(ch.values_deg)
    rate = sample_rate_hz(result)
    _write_system(files.motion_tsv, files.channels_tsv, files.channels_json, files.motion_json, rows, columns,
                  {"global": _GLOBAL_FRAME}, {
        "TaskName": task_label,
        "TaskDescription": f"walking; data from imugait's analysis ({result.filter_kind.value} fusion, sensor-to-segment "
                           f"calibration), hip rotation reference: {result.hip_rotation_reference.value}; first sample "
                           f"at {t[0]:.6f} s on the session clock",
        "SamplingFrequency": rate,
        "SamplingFrequencyEffective": rate,
        "TrackingSystemName": "imugait (segment orientations and joint angles from thigh and shank IMUs)",
        "Manufacturer": "n/a",
        "SoftwareVersions": f"imugait {__version__}",
        "TrackedPointsCount": len(orientations),
    })
    events = gait_events(result)
    write_text(files.events_tsv, "onset\tduration\ttrial_type\tside\n" + "".join(
        f"{e.t_s - t[0]:.4f}\t0\t{e.kind}\t{e.side.value}\n" for e in events))
    if session is not None:
        raw_stem = f"sub-{sub}_task-{task_label}_tracksys-{RAW_TRACKSYS}"
        t_raw, raw_rows, raw_columns = raw_channels(session)
        models = sorted({s.device.model for s in session.streams})
        paths = tuple(folder / f"{raw_stem}_{suffix}" for suffix in ("motion.tsv", "channels.tsv", "channels.json", "motion.json"))
        _write_system(*paths, raw_rows, raw_columns, {"sensor": _SENSOR_FRAME}, {
            "TaskName": task_label,
            "TaskDescription": f"walking; the body-worn IMUs' own data, resampled onto one uniform grid over the time "
                               f"all sensors overlap; first sample at {t_raw[0]:.6f} s on the session clock",
            "SamplingFrequency": float(f"{(t_raw.size - 1) / (t_raw[-1] - t_raw[0]):.9g}"),
            "TrackingSystemName": "body-worn IMUs",
            "Manufacturer": ", ".join(models),
            "SoftwareVersions": f"imugait {__version__}",
            "TrackedPointsCount": len(session),
        })
        files = replace(files, raw=paths)
    if not files.dataset_description.exists():
        write_text(files.dataset_description, json.dumps({
            "Name": dataset_name, "BIDSVersion": rules["bids_version_written"], "DatasetType": "raw",
            "GeneratedBy": [{"Name": "imugait", "Version": __version__}]}, indent=2) + "\n")
    return files


def raw_channels(session: Session) -> tuple[np.ndarray, list[tuple], list[np.ndarray]]:
    """The sensors' data on one grid: ``t_s`` (M,) (:func:`imugait.timebase.common_grid`: the
    time all sensors overlap, at the highest rate), channel rows and columns. Per sensor ACCEL
    (m/s², specific force), GYRO (rad/s), MAGN (µT, if recorded), in the sensor's own frame,
    linearly interpolated; samples inside a lost-sample gap are n/a (never invented)."""
    t = common_grid(session.streams)
    rows, columns = [_latency_row()], [t - t[0]]
    for placement, stream in session.items():
        position = grid_position(stream.t_s, t)
        lost = gap_mask(stream, t)
        for kind, values, channel_type, unit in (("acc", stream.acc_mps2, "ACCEL", "m/s^2"),
                                                 ("gyr", stream.gyr_radps, "GYRO", "rad/s"),
                                                 ("mag", stream.mag_uT, "MAGN", "uT")):
            if values is None:
                continue
            v = interp_vectors(stream.t_s, values, t, position)
            v[lost] = np.nan
            for k, comp in enumerate("xyz"):
                rows.append((f"{placement.value}_{kind}_{comp}", comp, channel_type, placement.value, unit, "sensor",
                             f"{placement.value.replace('_', ' ')} sensor {stream.device.device_id}"))
                columns.append(v[:, k])
    return t, rows, columns


def _latency_row() -> tuple:
    return ("latency", "n/a", "LATENCY", "n/a", "s", "n/a", "time from the first sample")


def _write_system(motion_tsv: Path, channels_tsv: Path, channels_json: Path, motion_json: Path,
                  rows: list[tuple], columns: list[np.ndarray], frames: dict, sidecar: dict) -> None:
    """One tracking system: the headerless data, its channels table and JSON, and its sidecar
    (the channel counts are added here, from ``rows``)."""
    rules = load_json(BIDS_RULES)
    data = np.column_stack(columns)
    write_text(motion_tsv, "".join("\t".join("n/a" if not np.isfinite(v) else f"{v:.6g}" for v in row) + "\n"
                                   for row in data))
    header = [*rules["channels_tsv_initial_columns"], "reference_frame", "description"]
    write_text(channels_tsv, "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows))
    write_text(channels_json, json.dumps({"reference_frame": {
        "Description": "reference frame of the spatial channels", "Levels": frames}}, indent=2) + "\n")
    counts = {f"{kind}ChannelCount": sum(r[2] == kind for r in rows)
              for kind in ("ACCEL", "GYRO", "MAGN", "ORNT", "JNTANG", "LATENCY") if any(r[2] == kind for r in rows)}
    write_text(motion_json, json.dumps({**sidecar, "MissingValues": "n/a", "MotionChannelCount": len(rows), **counts},
                                       indent=2) + "\n")


_GLOBAL_FRAME = {
    "Description": "ground frame of the walk: X along the line of progression (the walking direction of the current "
                   "straight bout), Y up, Z to the subject's right; origin unspecified",
    "SpatialAxes": "ASR", "RotationRule": "right-hand", "RotationOrder": "n/a"}
_SENSOR_FRAME = {"Description": "each sensor's own axes, as the device reports them (strapped at an unknown rotation)",
                 "RotationRule": "right-hand"}
