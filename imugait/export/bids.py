"""BIDS-motion export: one tracking system (``tracksys-imugait``) holding the calibrated segment
orientations and the joint angles of an analysed walk, with its sidecars and the gait events.

Layout (BIDS 1.10 motion; what the specification requires is data, with its source, in
``imugait/data/bids_motion.json`` — the tests check every file against it)::

    <root>/dataset_description.json
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_motion.tsv     no header row
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_motion.json
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_channels.tsv   one row per column above
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_channels.json  the reference frame
    <root>/sub-<S>/motion/sub-<S>_task-<T>_tracksys-imugait_events.tsv     initial contacts, toe-offs

Channels, in order: ``latency`` (LATENCY, s from the first sample), then per segment
``<placement>_quat_{x,y,z,w}`` (ORNT, units ``n/a``; the segment's ISB frame in the ``global``
reference frame below), then every angle (JNTANG, ``deg``, the project's sign table; component
= the JCS axis it turns about: flexion ``z``, adduction ``x``, rotation ``y``). Unknown values are
``n/a``. Reference frame ``global``: X along the line of progression, Y up, Z to the subject's
right (``SpatialAxes`` ``ASR``, right-handed) — see :mod:`imugait.export.common`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
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

BIDS_RULES = "bids_motion.json"
TRACKSYS = "imugait"
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


def bids_label(text: str) -> str:
    """A BIDS entity label: only letters and digits (``S-007`` -> ``S007``)."""
    label = re.sub(r"[^A-Za-z0-9]", "", text)
    if not label:
        raise ValidationError(f"{text!r} has no letter or digit to make a BIDS label from")
    return label


def export_bids(result: AnalysisResult, root: str | os.PathLike, task: str = "walking",
                subject: str | None = None, dataset_name: str = "imugait export") -> BidsFiles:
    """Write the dataset files under ``root`` (created; an existing dataset_description.json is kept)."""
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
    t = result.t_s
    rows, columns = [], []
    rows.append(("latency", "n/a", "LATENCY", "n/a", "s", "time from the first sample"))
    columns.append(t - t[0])
    orientations = ground_orientations(result)
    for placement, q in orientations.items():
        for k, comp in ((1, "quat_x"), (2, "quat_y"), (3, "quat_z"), (0, "quat_w")):
            rows.append((f"{placement.value}_{comp}", comp, "ORNT", placement.value, "n/a",
                         f"{placement.value.replace('_', ' ')} anatomical (ISB) frame in the global frame"))
            columns.append(q[:, k])
    angles = angle_channels(result)
    for ch in angles:
        kind = next((c for key, c in _COMPONENT.items() if key in ch.name), "n/a")
        joint = "knee" if ch.name.startswith("knee") else "hip"
        rows.append((ch.label, kind, "JNTANG", f"{ch.side.value}_{joint}", "deg", ch.description))
        columns.append(ch.values_deg)
    data = np.column_stack(columns)
    write_text(files.motion_tsv, "".join("\t".join("n/a" if not np.isfinite(v) else f"{v:.6g}" for v in row) + "\n"
                                         for row in data))
    header = list(rules["channels_tsv_initial_columns"]) + ["reference_frame", "description"]
    write_text(files.channels_tsv, "\t".join(header) + "\n" + "".join(
        "\t".join([*r[:5], "global" if r[2] == "ORNT" else "n/a", r[5]]) + "\n" for r in rows))
    write_text(files.channels_json, json.dumps({"reference_frame": {
        "Description": "reference frame of the orientation channels",
        "Levels": {"global": {
            "Description": "ground frame of the walk: X along the line of progression (the walking direction of "
                           "the current straight bout), Y up, Z to the subject's right; origin unspecified",
            "SpatialAxes": "ASR", "RotationRule": "right-hand", "RotationOrder": "n/a"}}}}, indent=2) + "\n")
    rate = sample_rate_hz(result)
    sidecar = {
        "TaskName": task_label,
        "TaskDescription": f"walking; data from imugait's analysis ({result.filter_kind.value} fusion, sensor-to-segment "
                           f"calibration), hip rotation reference: {result.hip_rotation_reference.value}",
        "SamplingFrequency": rate,
        "SamplingFrequencyEffective": rate,
        "TrackingSystemName": "imugait (thigh and shank IMUs)",
        "Manufacturer": "n/a",
        "SoftwareVersions": f"imugait {__version__}",
        "MissingValues": "n/a",
        "MotionChannelCount": len(rows),
        "LATENCYChannelCount": 1,
        "ORNTChannelCount": 4 * len(orientations),
        "JNTANGChannelCount": len(angles),
        "TrackedPointsCount": len(orientations),
    }
    write_text(files.motion_json, json.dumps(sidecar, indent=2) + "\n")
    events = gait_events(result)
    write_text(files.events_tsv, "onset\tduration\ttrial_type\tside\n" + "".join(
        f"{e.t_s - t[0]:.4f}\t0\t{e.kind}\t{e.side.value}\n" for e in events))
    if not files.dataset_description.exists():
        write_text(files.dataset_description, json.dumps({
            "Name": dataset_name, "BIDSVersion": rules["bids_version_written"], "DatasetType": "raw",
            "GeneratedBy": [{"Name": "imugait", "Version": __version__}]}, indent=2) + "\n")
    return files
