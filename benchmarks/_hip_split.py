"""Where a leg's hip-rotation error comes from, with the simulator's truth (``benchmarks/accuracy.py``
with ``--sta``), and the soft-tissue artefact's truth it needs.

Hip rotation is the thigh's anatomical frame against the line of progression. With the truth the
pipeline's error splits, sample by sample, into parts that add up exactly (each one a difference of
two hip-rotation series that differ in one thing only, :func:`hip_rotation_split`):

* **line of progression**: the pipeline's walking direction against the true one, in the fused
  thigh sensor's world (its heading drift followed sample by sample);
* **thigh frame**: the calibration's thigh frame (its turn about the femur, i.e. the flexion axis's
  direction in the thigh sensor) against the frame where the sensor sits on its bone in the
  anatomical pose, where the sourced artefact is zero;
* **artefact**: the sensor's turn on its bone at each instant (perfect orientations and progression,
  the anatomical-pose frame): the floor a calibration on the bone leaves;
* **rest**: the fused orientation's own error (its inclination; its heading drift is in the first part).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import (
    Joint,
    Placement,
    Segment,
    Side,
    joint_angles_rad,
    progression_quat,
    quat,
    rotation,
)


def bone_skin(sim, placement: Placement, pose, t_s: np.ndarray) -> Rotation:
    """The soft-tissue artefact's turn of ``placement``'s sensor on its bone at ``t_s`` (N,)
    (segment frame; ``pose`` = ``sim.walker.pose(t_s)``): the sensor's orientation is
    ``r_world_segment · this · r_segment_sensor``."""
    return sim.sensors[placement].soft_tissue.evaluate(sim.walker, pose.angles_rad, t_s)[0]


def mean_rotation(r: Rotation) -> Rotation:
    """The mean of small rotations ``r`` (N,) (mean rotation vector: the artefact's turns are a few degrees)."""
    return Rotation.from_rotvec(r.as_rotvec().mean(axis=0))


def _hip_rotation_deg(r_world_progression: Rotation, r_world_thigh: Rotation, side: Side) -> np.ndarray:
    """Hip rotation (sign table) of the thigh frames against the progression frames (N,), deg."""
    return np.rad2deg(joint_angles_rad(quat(r_world_progression), quat(r_world_thigh), Joint.HIP, side))[:, 2]


def hip_rotation_split(sim, result, side: Side) -> dict[str, float]:
    """The hip-rotation error of ``side`` split into parts that add up (module docstring), over the
    samples it is scored on (``leg.in_bout``, as ``score_leg``). Empty without the artefact.

    ``hip_split_<part>_mean_deg``: each part's mean over those samples (``progression``, ``frame``,
    ``sta``, ``rest``: their sum is the pipeline's per-sample mean error ``hip_split_error_mean_deg``);
    ``hip_split_error_sd_deg``: the pipeline's error without its mean. RMSEs with one part made
    perfect: ``hip_true_progression_rmse_deg`` (the true line of progression),
    ``hip_true_frame_rmse_deg`` (the anatomical-pose thigh frame), ``hip_true_both_rmse_deg`` (both:
    the artefact and the fusion left), ``hip_walk_frame_rmse_deg`` (both, the frame where the
    sensor sat on average over these samples: the within-stride artefact and the fusion, the floor
    no IMU-only calibration passes). ``hip_sta_reference_turn_deg``: the sensor's mean turn on the
    bone over the analysis' reference samples (``leg.standing``: standing still, or the mid-stances)
    in hip-rotation sign, i.e. what a frame set there would carry.
    ``hip_split_frame_vs_walk_mean_deg``: the calibration's thigh frame against the frame where the
    sensor sat on average over these samples (true progression both): what a constant frame could
    still win; ``hip_sta_hip_driven_mean_deg``: the mean of the hip-flexion-driven share of the
    sensor's turn about the femur's long axis (:func:`_hip_driven_turn_deg`);
    ``hip_heading_error_deg``: the knee-centre heading's mean error (:func:`_heading_error_deg`).
    """
    thigh = Placement.of(Segment.THIGH, side)
    if sim.sensors[thigh].soft_tissue is None:
        return {}
    leg = result.legs[side]
    t = result.t_s
    pipeline_deg = leg.angles_deg["hip_rotation_deg"]
    inside = leg.in_bout & np.isfinite(pipeline_deg)
    if not np.any(inside):
        return {}
    truth = sim.truth
    t_in = t[inside]
    true_deg = np.interp(t_in, truth.series["t_s"].to_numpy(), truth.angle(side, "hip_rotation_progression_deg"))
    pose = sim.walker.pose(t_in)
    r_world_bone = pose.r_world[(Segment.THIGH, side)]
    r_bone_skin = bone_skin(sim, thigh, pose, t_in)
    r_segment_sensor = Rotation.from_quat(sim.sensors[thigh].q_segment_sensor, scalar_first=True)
    r_frame = leg.alignment.thigh.r_sensor_segment
    r_fused_thigh = rotation(leg.q_world_thigh[inside])  # the calibrated thigh frame, fused world
    r_fused_sensor = r_fused_thigh * r_frame.inv()
    # The fused world's heading against the true world's, from the thigh sensor itself (drift included).
    r_fused_true = r_fused_sensor * (r_world_bone * r_bone_skin * r_segment_sensor).inv()
    turn_z = Rotation.from_euler("z", r_fused_true.as_euler("ZYX")[:, :1])
    true_progression_fused = turn_z * pose.r_world_progression
    estimated = progression_quat(leg.progression.heading_rad[inside])
    hip = {
        "pipeline": _hip_rotation_deg(rotation(estimated), r_fused_thigh, side),
        "true_progression": _hip_rotation_deg(true_progression_fused, r_fused_thigh, side),
        "true_both": _hip_rotation_deg(true_progression_fused, r_fused_sensor * r_segment_sensor.inv(), side),
        "sta": _hip_rotation_deg(pose.r_world_progression, r_world_bone * r_bone_skin, side),
    }
    skin_walk = mean_rotation(r_bone_skin)
    hip["walk_frame"] = _hip_rotation_deg(true_progression_fused,
                                          r_fused_sensor * (skin_walk * r_segment_sensor).inv(), side)
    error = {name: series - true_deg for name, series in hip.items()}
    parts = {"progression": error["pipeline"] - error["true_progression"],
             "frame": error["true_progression"] - error["true_both"],
             "sta": error["sta"], "rest": error["true_both"] - error["sta"]}
    out = {"hip_split_error_mean_deg": float(error["pipeline"].mean()),
           "hip_split_error_sd_deg": float(error["pipeline"].std())}
    out |= {f"hip_split_{name}_mean_deg": float(part.mean()) for name, part in parts.items()}
    out |= {"hip_true_progression_rmse_deg": rmse(error["true_progression"]),
            "hip_true_frame_rmse_deg": rmse(error["pipeline"] - parts["frame"]),
            "hip_true_both_rmse_deg": rmse(error["true_both"]),
            "hip_walk_frame_rmse_deg": rmse(error["walk_frame"])}
    r_reference = _reference_skin(sim, thigh, t[leg.standing]) if np.any(leg.standing) else Rotation.identity()
    out["hip_sta_reference_turn_deg"] = float(np.mean(
        _hip_rotation_deg(pose.r_world_progression, r_world_bone * r_reference, side) - true_deg))
    out["hip_split_frame_vs_walk_mean_deg"] = float(np.mean(error["true_progression"] - error["walk_frame"]))
    out["hip_sta_hip_driven_mean_deg"] = _hip_driven_turn_deg(sim, thigh, pose, r_world_bone, true_deg)
    out["hip_heading_error_deg"] = _heading_error_deg(sim, leg, side, pose, t_in, inside)
    return out


def _hip_driven_turn_deg(sim, thigh: Placement, pose, r_world_bone: Rotation, true_deg: np.ndarray) -> float:
    """The mean of the hip-flexion-driven share of the thigh sensor's turn about the femur's long
    axis (the sourced model drives each component by knee and hip flexion), in hip-rotation sign:
    what a turn measured against the knee-flexion rate alone leaves."""
    hip_flexion = pose.angles_rad[(Joint.HIP, thigh.side)][:, 0]
    rotvec = np.zeros((hip_flexion.size, 3))
    rotvec[:, 1] = sim.sensors[thigh].soft_tissue.rotation_per_rad[1, 1] * hip_flexion
    turned = _hip_rotation_deg(pose.r_world_progression, r_world_bone * Rotation.from_rotvec(rotvec), thigh.side)
    return float(np.mean(turned - true_deg))


def _heading_error_deg(sim, leg, side: Side, pose, t_s: np.ndarray, inside: np.ndarray) -> float:
    """The mean over the grid's samples ``inside`` (at ``t_s``, ``pose`` = ``sim.walker.pose(t_s)``)
    of the calibration's heading offset between the thigh's and the shank's fused worlds (the
    knee-centre heading) against the true one (each fused sensor against the simulator's
    orientation of that sensor), deg."""
    drift = []
    for segment, q_world_segment, frame in ((Segment.THIGH, leg.q_world_thigh, leg.alignment.thigh),
                                            (Segment.SHANK, leg.q_world_shank, leg.alignment.shank)):
        placement = Placement.of(segment, side)
        r_segment_sensor = Rotation.from_quat(sim.sensors[placement].q_segment_sensor, scalar_first=True)
        r_true = pose.r_world[(segment, side)] * bone_skin(sim, placement, pose, t_s) * r_segment_sensor
        # Both fused frames are in the thigh sensor's world (the shank's with the calibration's heading).
        r_fused = rotation(q_world_segment[inside]) * frame.r_sensor_segment.inv()
        drift.append((r_fused * r_true.inv()).as_euler("ZYX")[:, 0])
    return float(np.rad2deg(np.mean(np.angle(np.exp(1j * (drift[1] - drift[0]))))))


def _reference_skin(sim, placement: Placement, t_s: np.ndarray) -> Rotation:
    """The sensor's mean turn on its bone over the instants ``t_s``."""
    return mean_rotation(bone_skin(sim, placement, sim.walker.pose(t_s), t_s))


def rmse(x: np.ndarray) -> float:
    """Root mean square of the finite values of ``x`` (NaN when there are none)."""
    x = x[np.isfinite(x)]
    return float(np.sqrt(np.mean(x**2))) if x.size else np.nan


HIP_LIMIT_DEG = 4.0
"""The hip-rotation limit with the soft-tissue artefact (issue 10) the split table counts against."""
PARTS = (("progression", "line of progression (the pipeline's walking direction against the true one)"),
         ("frame", "thigh frame (the calibration's turn about the femur against the bone's, anatomical pose)"),
         ("sta", "artefact (the sensor's turn on the bone, against the anatomical pose)"),
         ("rest", "rest (the fused orientation's inclination)"))
COUNTERFACTUALS = (("hip_rotation_rmse_deg", "pipeline"),
                   ("hip_true_progression_rmse_deg", "the true line of progression"),
                   ("hip_true_frame_rmse_deg", "the anatomical-pose thigh frame"),
                   ("hip_true_both_rmse_deg", "both (the artefact and the fusion left)"),
                   ("hip_walk_frame_rmse_deg", "both, the frame where the sensor sat on average over the walking"))


def hip_split_table(rows) -> str:
    """Hip rotation with the artefact, split (:func:`hip_rotation_split`): each part's mean error
    over the legs, and the RMSE with one part made perfect."""
    from _common import markdown_table, spread_cells

    total = np.array([r["hip_split_error_mean_deg"] for r in rows])
    body = []
    for name, label in PARTS:
        part = np.array([r[f"hip_split_{name}_mean_deg"] for r in rows])
        slope = np.polyfit(part, total, 1)[0] if np.ptp(part) > 0 else np.nan
        share = 1.0 - np.var(total - part) / np.var(total) if np.var(total) > 0 else np.nan
        body.append([label, f"{np.median(part):+.2f} / {np.median(np.abs(part)):.2f} / {np.percentile(np.abs(part), 95):.2f}°",
                     f"{np.std(part):.2f}°", f"{slope:+.2f}, {share:+.2f}"])
    body.append(["pipeline (their sum)", f"{np.median(total):+.2f} / {np.median(np.abs(total)):.2f} / "
                 f"{np.percentile(np.abs(total), 95):.2f}°", f"{np.std(total):.2f}°", "—"])
    split = markdown_table(["mean hip-rotation error per leg, part", "median (signed) / median and 95th pct of the absolute value",
                            "SD over legs", "pipeline's mean on the part: slope, variance explained"],
                           body, align="lrrr")
    body = []
    for key, label in COUNTERFACTUALS:
        v = np.array([r[key] for r in rows])
        body.append([label, *spread_cells(v, rows, HIP_LIMIT_DEG), f"{np.sqrt(np.mean(v ** 2)):.2f}°"])
    turn = np.array([r["hip_sta_reference_turn_deg"] for r in rows])
    sd = np.array([r["hip_split_error_sd_deg"] for r in rows])
    notes = (f"\n\nPipeline's error without its mean (SD): {np.median(sd):.2f} / {np.percentile(sd, 95):.2f} / "
             f"{sd.max():.2f}°. The sensor's turn on the bone at the analysis' reference samples, hip-rotation "
             f"sign: |median| {np.median(np.abs(turn)):.2f}°, |95th pct| {np.percentile(np.abs(turn), 95):.2f}°.")
    return (split + "\n\n" + markdown_table(["hip rotation RMSE per leg, with", "median / 95th pct / worst",
                                             f"legs over {HIP_LIMIT_DEG:g}°", "legs pooled"],
                                            body, align="lrrr") + notes + "\n\n" + tail_table(rows))


TAIL_COLUMNS = (("hip_rotation_rmse_deg", "RMSE", ".2f"), ("hip_split_error_mean_deg", "mean error", "+.2f"),
                ("hip_split_progression_mean_deg", "line of progression", "+.2f"),
                ("hip_split_frame_vs_walk_mean_deg", "thigh frame against the walking's mean frame", "+.2f"),
                ("hip_heading_error_deg", "knee-centre heading error", "+.2f"),
                ("hip_sta_hip_driven_mean_deg", "artefact's hip-driven turn (mean)", "+.2f"),
                ("hip_walk_frame_rmse_deg", "RMSE with the walking's mean frame and the true progression", ".2f"))


def tail_table(rows) -> str:
    """The legs over :data:`HIP_LIMIT_DEG` one by one (worst first): their mean error's main parts —
    the line of progression, the thigh frame against the frame where the sensor sat on average over
    the walking (what a constant frame could still win) — and two of its causes with the truth: the
    knee-centre heading's error and the artefact's hip-driven turn, which the thigh-turn
    compensation (knee-driven) does not model."""
    from _common import markdown_table

    tail = sorted((r for r in rows if r["hip_rotation_rmse_deg"] > HIP_LIMIT_DEG),
                  key=lambda r: -r["hip_rotation_rmse_deg"])
    if not tail:
        return f"No leg over {HIP_LIMIT_DEG:g}°."
    body = [[f"{r['walker']} {r['side']}", *(f"{r.get(key, np.nan):{spec}}°" for key, _, spec in TAIL_COLUMNS)]
            for r in tail]
    return markdown_table([f"leg over {HIP_LIMIT_DEG:g}°", *(label for _, label, _ in TAIL_COLUMNS)], body)
