"""OpenSim / OpenSense export: segment orientations as an OpenSense orientations ``.sto``, the IMU
placer and IK setup files, and imugait's joint angles as a ``.mot``.

Files (``<stem>`` = the session's name), all in one folder:

=============================== ===========================================================
``<stem>_orientations.sto``     ``DataType=Quaternion``: ``time`` + one column per virtual IMU,
                                ``w,x,y,z`` per cell — each calibrated segment frame in ground
``<stem>_calibration.sto``      one row: the neutral pose (every IMU aligned with its body)
``<stem>_imu_placer.xml``       ``IMUPlacer`` setup (calibration file above, no heading change)
``<stem>_ik_setup.xml``         ``IMUInverseKinematicsTool`` setup over the whole recording
``<stem>_angles.mot``           imugait's angles, degrees, the project's sign table
=============================== ===========================================================

**Virtual IMUs.** The analysis has already calibrated each sensor to its segment, so what is
exported is the anatomical frame (ISB: X anterior, Y proximal, Z right — OpenSim's body-frame
convention) of each segment, expressed in the ground frame of :mod:`imugait.export.common`
(X = line of progression, Y up, Z right — OpenSim's ground convention). They are named
``<body>_imu`` with the body names of gait2392 / Rajagopal 2015 (``femur_r_imu``,
``tibia_l_imu``, ``pelvis_imu``), which is how OpenSense matches an IMU to a body. Because the
frames are anatomical, the neutral pose *is* the calibration: the calibration file holds the
identity for every IMU, the placer then attaches each IMU aligned with its body, and
``sensor_to_opensim_rotations`` is ``0 0 0`` (the data is already Y-up).

The ``.mot`` holds imugait's own angles under imugait's names (``right_knee_flexion_deg`` …), not a
model's coordinates: model coordinate signs differ between models (gait2392's knee flexion is
negative, Rajagopal's positive), so naming them as coordinates would invite a silent sign error.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from imugait.analysis.result import AnalysisResult
from imugait.conventions import Placement, Segment
from imugait.export.common import angle_channels, ground_orientations, sample_rate_hz, write_text
from imugait.output_guard import check_outputs

OPENSIM_BODY = {Segment.PELVIS: "pelvis", Segment.THIGH: "femur", Segment.SHANK: "tibia", Segment.FOOT: "calcn"}
"""imugait segment -> body name in gait2392 and Rajagopal 2015 (``_r`` / ``_l`` added per side)."""


def imu_label(placement: Placement) -> str:
    """``femur_r_imu`` for the right thigh, ``pelvis_imu`` for the pelvis."""
    body = OPENSIM_BODY[placement.segment]
    if placement.side is not None:
        body += "_" + placement.side.value[0]
    return f"{body}_imu"


@dataclass(frozen=True)
class OpenSimFiles:
    orientations: Path
    calibration: Path
    placer_setup: Path
    ik_setup: Path
    angles: Path

    @property
    def all(self) -> tuple[Path, ...]:
        return (self.orientations, self.calibration, self.placer_setup, self.ik_setup, self.angles)


def export_opensim(
    result: AnalysisResult,
    out_dir: str | os.PathLike,
    stem: str = "session",
    model_file: str = "Rajagopal_2015.osim",
    force: bool = False,
) -> OpenSimFiles:
    """Write the five files into ``out_dir`` (created if needed).

    ``model_file`` is the model the setup files name (resolved by OpenSim relative to the setup
    file); the placer writes ``<stem>_calibrated_model.osim`` and IK ``<stem>_ik.mot`` into
    ``<stem>_ik/``. Existing files of those names are refused unless ``force`` (before any is written).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    q = ground_orientations(result)
    labels = [imu_label(p) for p in q]
    files = OpenSimFiles(
        orientations=out / f"{stem}_orientations.sto", calibration=out / f"{stem}_calibration.sto",
        placer_setup=out / f"{stem}_imu_placer.xml", ik_setup=out / f"{stem}_ik_setup.xml",
        angles=out / f"{stem}_angles.mot",
    )
    check_outputs(files.all, force=force)
    rate = sample_rate_hz(result)
    t = result.t_s
    write_text(files.orientations, orientations_sto(t, labels, list(q.values()), rate))
    identity = np.array([[1.0, 0.0, 0.0, 0.0]])
    write_text(files.calibration, orientations_sto(t[:1], labels, [identity] * len(labels), rate))
    calibrated = f"{stem}_calibrated_model.osim"
    write_text(files.placer_setup, placer_setup_xml(model_file, files.calibration.name, calibrated))
    write_text(files.ik_setup, ik_setup_xml(calibrated, files.orientations.name, f"{stem}_ik",
                                                   f"{stem}_ik.mot", float(t[0]), float(t[-1])))
    channels = angle_channels(result)
    write_text(files.angles, mot_text(f"{stem}_angles", t, [c.label for c in channels],
                                             np.column_stack([c.values_deg for c in channels])))
    return files


def orientations_sto(t_s: np.ndarray, labels: list[str], quats: list[np.ndarray], rate_hz: float) -> str:
    """OpenSense orientations file text: header, ``time`` + one ``w,x,y,z`` cell per IMU."""
    head = [f"DataRate={rate_hz:.6f}", "DataType=Quaternion", "version=3", "OpenSimVersion=4.5", "endheader",
            "\t".join(["time", *labels])]
    rows = []
    for i, ti in enumerate(t_s):
        cells = [",".join(f"{v:.9f}" for v in qk[i]) for qk in quats]
        rows.append("\t".join([f"{ti:.6f}", *cells]))
    return "\n".join(head + rows) + "\n"


def mot_text(name: str, t_s: np.ndarray, labels: list[str], values: np.ndarray) -> str:
    """An OpenSim Storage (``.mot``) in degrees: ``time`` + ``labels``; NaN written as ``NaN``."""
    values = np.asarray(values, dtype=float).reshape(t_s.size, len(labels))
    head = [name, "version=1", f"nRows={t_s.size}", f"nColumns={len(labels) + 1}", "inDegrees=yes", "endheader",
            "\t".join(["time", *labels])]
    rows = ["\t".join([f"{ti:.6f}", *("NaN" if not np.isfinite(v) else f"{v:.6f}" for v in row)])
            for ti, row in zip(t_s, values, strict=True)]
    return "\n".join(head + rows) + "\n"


def placer_setup_xml(model_file: str, calibration_file: str, output_model_file: str) -> str:
    return _document("IMUPlacer", [
        ("model_file", model_file),
        ("orientation_file_for_calibration", calibration_file),
        ("sensor_to_opensim_rotations", "0 0 0"),
        ("base_imu_label", ""),  # no heading alignment: X already is the line of progression
        ("base_heading_axis", "x"),
        ("output_model_file", output_model_file),
    ])


def ik_setup_xml(model_file: str, orientations_file: str, results_dir: str, output_motion_file: str,
                 t_start_s: float, t_end_s: float) -> str:
    return _document("IMUInverseKinematicsTool", [
        ("results_directory", results_dir),
        ("model_file", model_file),
        ("time_range", f"{t_start_s:.6f} {t_end_s:.6f}"),
        ("orientations_file", orientations_file),
        ("sensor_to_opensim_rotations", "0 0 0"),
        ("output_motion_file", output_motion_file),
    ], name="imugait_ik")


def _document(tool: str, elements: list[tuple[str, str]], name: str | None = None) -> str:
    attr = f' name="{escape(name)}"' if name else ""
    body = "\n".join(f"\t\t<{k}>{escape(v)}</{k}>" for k, v in elements)
    return (f'<?xml version="1.0" encoding="UTF-8" ?>\n<OpenSimDocument Version="40500">\n'
            f"\t<{tool}{attr}>\n{body}\n\t</{tool}>\n</OpenSimDocument>\n")
