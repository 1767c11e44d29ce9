"""C3D export (ezc3d): joint angles as POINT data in the angle convention of gait labs, gait
events in the EVENT group.

**Angles** follow the Vicon Plug-in Gait convention that C3D readers (Mokka, Visual3D, Nexus,
ezc3d, btk) understand: an angle is a 3-component POINT in degrees whose label is listed in
``POINT:ANGLES`` (``POINT:ANGLE_UNITS = deg``), with X = flexion, Y = adduction, Z = internal
rotation — the same anatomical meaning on both sides (left signs mirrored), as in imugait's sign
table:

================================ =========================================================
``LKneeAngles`` / ``RKneeAngles``  knee flexion, adduction (varus +), tibia internal rotation
``LHipAngles`` / ``RHipAngles``    hip flexion, adduction, internal rotation vs the pelvis
                                   sensor (only when a pelvis sensor was worn)
``LThighProgressAngles`` / ``R…``  Z = femur internal rotation relative to the line of
                                   progression; X and Y are not computed and written as 0
================================ =========================================================

Samples where an angle is unknown (hip rotation outside straight walking) are invalid points
(residual −1; ezc3d reads them back as NaN). ``POINT:DESCRIPTIONS`` says what each one is.

**Events**: one per initial contact (``Foot Strike``) and toe-off (``Foot Off``), context
``Left`` / ``Right``, subject = the session's pseudonym. C3D times count from the first frame
(frame 1 = 0 s); the session time of frame 1 is in ``IMUGAIT:SESSION_T0_S``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from imugait._optional import require
from imugait.analysis.result import AnalysisResult
from imugait.conventions import Side
from imugait.export.common import gait_events, require_legs, sample_rate_hz
from imugait.output_guard import check_output

C3D_ANGLE_POINTS = (
    # (label suffix, imugait angles for X, Y, Z — None = not computed, written as 0)
    ("KneeAngles", ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg"),
     "knee flexion, adduction (varus +), tibia internal rotation vs femur, JCS, deg"),
    ("HipAngles", ("hip_flexion_deg", "hip_adduction_deg", "hip_rotation_pelvis_deg"),
     "hip flexion, adduction, internal rotation vs the pelvis sensor, JCS, deg"),
    ("ThighProgressAngles", (None, None, "hip_rotation_deg"),
     "Z: femur internal rotation vs the line of progression (X, Y not computed: 0), deg"),
)
_PREFIX = {Side.LEFT: "L", Side.RIGHT: "R"}
_CONTEXT = {Side.LEFT: "Left", Side.RIGHT: "Right"}


def export_c3d(result: AnalysisResult, path: str | os.PathLike, force: bool = False) -> Path:
    """Write ``path`` (.c3d): angle POINTs on the analysis grid, and the gait events. An existing
    file is refused unless ``force``."""
    ezc3d = require("ezc3d", "export", "writing C3D files")
    path = check_output(path, force=force)
    t = result.t_s
    labels, descriptions, blocks = [], [], []
    for side in require_legs(result):
        angles = result.legs[side].angles_deg
        for suffix, names, description in C3D_ANGLE_POINTS:
            if not any(n in angles for n in names if n is not None):
                continue
            xyz = np.column_stack([np.zeros(t.size) if n is None else np.asarray(angles[n], float) for n in names])
            labels.append(_PREFIX[side] + suffix)
            descriptions.append(f"{side.value} {description}")
            blocks.append(xyz)
    c3d = ezc3d.c3d()
    rate = sample_rate_hz(result)
    c3d["parameters"]["POINT"]["RATE"]["value"] = [rate]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = labels
    c3d["parameters"]["POINT"]["DESCRIPTIONS"]["value"] = descriptions
    c3d["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]  # for markers; angles use ANGLE_UNITS
    c3d.add_parameter("POINT", "ANGLES", labels)
    c3d.add_parameter("POINT", "ANGLE_UNITS", ["deg"])
    points = np.ones((4, len(labels), t.size))
    for k, xyz in enumerate(blocks):
        points[:3, k, :] = xyz.T  # NaN rows become invalid points (residual -1) when written
    c3d["data"]["points"] = points
    meta = result.session_meta
    c3d.add_parameter("SUBJECTS", "NAMES", [meta.subject_id])
    c3d.add_parameter("SUBJECTS", "USES_PREFIXES", 0)
    c3d.add_parameter("IMUGAIT", "SESSION_T0_S", [float(t[0])])
    c3d.add_parameter("IMUGAIT", "RECORDED_AT", [meta.recorded_at])
    c3d.add_parameter("IMUGAIT", "HIP_ROTATION_REFERENCE", [result.hip_rotation_reference.value])
    for event in gait_events(result):
        seconds = event.t_s - float(t[0])
        c3d.add_event([0, seconds], context=_CONTEXT[event.side], label=event.label,
                      description=event.kind, subject=meta.subject_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.c3d")  # ezc3d wants the .c3d suffix
    try:
        c3d.write(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
