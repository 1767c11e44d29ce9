"""Where the Geneva walks' hip-rotation error comes from, walk by walk (issue 10).

Reproduce (from the repository root; the committed ``benchmarks/data/grouvel_2023`` only, ≈ 10 s CPU;
prints Markdown)::

    .venv/bin/python benchmarks/geneva_hip.py            # the worst 10 walks; --all: every walk

A walk is one leg of one trial (65). Its *bias* is the mean over its marker cycles of the
pipeline's femur rotation against the line of progression minus the **functional** marker
model's (``benchmarks/_geneva.py``, part (d) of ``real_data.py``), over the points where the
pipeline gives one. It is split into three parts that add up exactly, each the mean of a
difference of two hip rotations over the same points:

(a) *femur frame*: the cluster frames (the thigh sensor's orientation measured by its marker
    cluster times the pipeline's own ``q_sensor_segment``) against the markers' line of progression,
    minus the functional model — the calibration's femur frame about its long axis against SARA's
    (both ride on the thigh cluster, so this is nearly a constant per walk).
(b) *walking direction*: the pipeline's hip rotation minus the same fused femur against the
    markers' walking direction (the pelvis centre's displacement over the marker window, the
    converter's ``heading_rad``), carried into the thigh sensor's world at each marker frame by the
    fused thigh's heading against its cluster. So (b) is the pipeline's line of progression (the
    thigh's swing direction, its normative lateral lean removed, a drifting line over the bout)
    against the markers', as the thigh sees it. Of it, *the thigh's swing*: the thigh's own swing
    over the cycles in the lab (its cluster), less the normative lean, against the markers' line;
    the rest is the bout's direction against the cycles'.
(c) *the rest of the orientation estimation*: the fused femur against the markers' line minus the
    cluster frames against it — what the fusion gets wrong other than the heading, which (b) took.
(d) *the calibration path* is not a number: the reference pose (standing or mid-stance), what fixed
    the knee's heading offset (``HeadingSource``) and the calibration's rating are listed, and the
    parts' mean over walks of each kind printed.

Also per walk, measured only: the knee's heading offset error (the shank's fused heading against
its cluster minus the thigh's, + lateral: the knee-centre heading, which turns the fitted flexion
axis, docs/accuracy.md); the thigh's and the shank's swing lean in the lab (the principal horizontal
direction of the cluster-measured long axis over the walk's cycles against the markers' walking
direction, + lateral; the pipeline removes ≈ 2.5° from the thigh's). Then the same bias with two
walking directions that are not the pipeline's: the fused shank's swing (which follows the femur's
rotation: printed, its lean against the markers' femur rotation) and the markers' line carried into
the thigh's world through the shank's (what a direction true in the shank's world would give, the
knee's heading offset error then entering). docs/validation.md, *The Geneva walks' hip-rotation
tail, walk by walk*.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from _common import machine, markdown_table
from _optical import marker_model_walk
from _real_loaders import GROUVEL_2023, OpticalWalk, grouvel_trials, load_grouvel
from scipy.spatial.transform import Rotation, Slerp

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.analysis.result import LegReport
from imugait.conventions import Joint, joint_angles_rad, progression_quat
from imugait.gait.cycles import time_normalise
from imugait.kinematics.swing_tilt import (
    heading_correction_rad,
    principal_horizontal_direction,
    swing_extent,
)
from imugait.quaternion import quat_multiply

MODEL = "functional"
"""The marker model the bias is taken against (``_optical.MARKER_MODELS``)."""

PARTS = {"a_frame_deg": "(a) femur frame", "b_direction_deg": "(b) walking direction",
         "c_fusion_deg": "(c) rest of fusion"}


@dataclass(frozen=True)
class WalkFrames:
    """One walk at the marker frames ``t_s`` (N,): the fused femur (thigh sensor's world) and the
    cluster-measured one (lab), the fused shank and the cluster one, and the pipeline's walking
    direction (rad, thigh sensor's world)."""

    t_s: np.ndarray
    r_world_femur: Rotation
    r_lab_femur: Rotation
    r_world_tibia: Rotation
    r_lab_tibia: Rotation
    progression_rad: np.ndarray


def _walk_frames(walk: OpticalWalk, leg: LegReport, t_grid_s: np.ndarray, sensors: pd.DataFrame) -> WalkFrames:
    t = sensors["t_s"].to_numpy()
    at = np.clip(t, t_grid_s[0], t_grid_s[-1])
    fused, lab = [], []
    for seg, q_world in (("thigh", leg.q_world_thigh), ("shank", leg.q_world_shank)):
        q_sensor = sensors[[f"{walk.side.value}_{seg}_q_{k}" for k in "wxyz"]].to_numpy()
        lab.append(Rotation.from_quat(quat_multiply(q_sensor, getattr(leg.alignment, seg).q_sensor_segment),
                                      scalar_first=True))
        fused.append(Slerp(t_grid_s, Rotation.from_quat(q_world, scalar_first=True))(at))
    heading = leg.progression.heading_rad
    known = np.isfinite(heading)
    return WalkFrames(t, fused[0], lab[0], fused[1], lab[1], np.interp(t, t_grid_s[known], np.unwrap(heading[known])))


def _heading_rad(r: Rotation) -> np.ndarray:
    """Heading (rad, about world z) of the x axis of the rotations ``r`` (N)."""
    x = r.apply([1.0, 0.0, 0.0])
    return np.arctan2(x[:, 1], x[:, 0])


def _wrap_deg(angle_rad: float | np.ndarray) -> float | np.ndarray:
    return np.rad2deg(np.angle(np.exp(1j * np.asarray(angle_rad))))


def _hip_deg(walk: OpticalWalk, heading_rad: np.ndarray, r_femur: Rotation) -> np.ndarray:
    return np.rad2deg(joint_angles_rad(progression_quat(heading_rad), r_femur.as_quat(scalar_first=True),
                                       Joint.HIP, walk.side))[:, 2]


def _cycle_points(walk: OpticalWalk, t_s: np.ndarray, series: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each series (N,) at ``t_s`` time-normalised over the walk's cycles, concatenated."""
    return {name: np.concatenate([time_normalise(t_s, v, c.t_first_s, c.t_last_s) for c in walk.cycles.itertuples()])
            for name, v in series.items()}


def _swing_direction_rad(long_axis: np.ndarray, near_rad: float) -> float:
    """Principal horizontal direction (rad) of the long axes (N, 3), the sign nearer ``near_rad``."""
    d = principal_horizontal_direction(long_axis[:, :2])
    h = float(np.arctan2(d[1], d[0]))
    return h if abs(_wrap_deg(h - near_rad)) <= 90.0 else h + np.pi


def _mean_over_cycles(walk: OpticalWalk, t_s: np.ndarray, values: np.ndarray, ok: np.ndarray) -> float:
    return float(np.mean(_cycle_points(walk, t_s, {"x": values})["x"][ok]))


def walk_parts(walk: OpticalWalk, leg: LegReport, t_grid_s: np.ndarray, sensors: pd.DataFrame,
               walking_rad: float) -> dict[str, float]:
    """The walk's hip-rotation bias against the functional model, its parts (a)–(c) and the
    measured-only quantities of the module docstring (deg)."""
    f = _walk_frames(walk, leg, t_grid_s, sensors)
    lateral = -walk.side.mirror  # + lateral: anticlockwise (seen from above) is lateral on the left
    world_from_lab = np.unwrap(_heading_rad(f.r_world_femur * f.r_lab_femur.inv()))
    shank_from_lab = np.unwrap(_heading_rad(f.r_world_tibia * f.r_lab_tibia.inv()))
    cycles = (f.t_s >= walk.cycles["t_first_s"].min()) & (f.t_s <= walk.cycles["t_last_s"].max())
    # The thigh's own swing over the cycles, in the lab (its cluster), as the pipeline turns it.
    long_axis = f.r_lab_femur[cycles].apply([0.0, 1.0, 0.0])
    swing_rad = _swing_direction_rad(long_axis, walking_rad)
    extent = swing_extent(long_axis[:, :2] @ np.array([np.cos(swing_rad), np.sin(swing_rad)]))
    swing_line_rad = swing_rad + float(heading_correction_rad(walk.side, extent))
    shank_rad = _swing_direction_rad(f.r_lab_tibia[cycles].apply([0.0, 1.0, 0.0]), walking_rad)
    lab_line = np.full(f.t_s.size, walking_rad)
    series = {"pipeline": _hip_deg(walk, f.progression_rad, f.r_world_femur),
              "markers' line": _hip_deg(walk, lab_line + world_from_lab, f.r_world_femur),
              "thigh's swing line": _hip_deg(walk, swing_line_rad + world_from_lab, f.r_world_femur),
              "markers' line via the shank": _hip_deg(walk, lab_line + shank_from_lab, f.r_world_femur),
              "cluster": _hip_deg(walk, lab_line, f.r_lab_femur),
              "knee heading": np.rad2deg(shank_from_lab - world_from_lab)}
    # The fused shank's swing over the pipeline's bouts (thigh's world): a walking direction measured only.
    in_bout = np.zeros(t_grid_s.size, dtype=bool)
    for b in leg.progression.bouts:
        in_bout[b.start:b.stop] = True
    shank_long = Rotation.from_quat(leg.q_world_shank[in_bout], scalar_first=True).apply([0.0, 1.0, 0.0])
    fused_shank_rad = _swing_direction_rad(shank_long, float(np.mean(f.progression_rad[cycles])))
    series["fused shank's swing"] = _hip_deg(walk, np.full(f.t_s.size, fused_shank_rad), f.r_world_femur)
    points = _cycle_points(walk, f.t_s, series)
    reference = marker_model_walk(walk, MODEL).reference
    marked = np.concatenate([reference.loc[reference["cycle"] == c.cycle, "hip_rotation_deg"].to_numpy()
                             for c in walk.cycles.itertuples()])
    own = np.concatenate([time_normalise(t_grid_s, leg.angles_deg["hip_rotation_deg"], c.t_first_s, c.t_last_s)
                          for c in walk.cycles.itertuples()])
    ok = np.isfinite(own) & np.isfinite(marked)
    mean = {name: float(np.mean(v[ok])) for name, v in points.items()}
    markers = float(np.mean(marked[ok]))
    rmse = lambda name: float(np.sqrt(np.mean((points[name] - marked)[ok] ** 2)))  # noqa: E731
    return {"bias_deg": float(np.mean(own[ok])) - markers,
            "a_frame_deg": mean["cluster"] - markers,
            "b_direction_deg": float(np.mean(own[ok])) - mean["markers' line"],
            "b_swing_deg": mean["thigh's swing line"] - mean["markers' line"],
            "c_fusion_deg": mean["markers' line"] - mean["cluster"],
            "check_deg": mean["pipeline"] - float(np.mean(own[ok])),
            "rmse_deg": float(np.sqrt(np.mean((own - marked)[ok] ** 2))),
            "markers_hip_deg": markers,
            "knee_heading_error_deg": lateral * mean["knee heading"],
            "thigh_swing_lean_deg": lateral * float(_wrap_deg(swing_rad - walking_rad)),
            "normative_lean_deg": lateral * float(np.rad2deg(swing_rad - swing_line_rad)),
            "shank_swing_lean_deg": lateral * float(_wrap_deg(shank_rad - walking_rad)),
            "via_shank_bias_deg": mean["markers' line via the shank"] - markers,
            "via_shank_rmse_deg": rmse("markers' line via the shank"),
            "fused_shank_bias_deg": mean["fused shank's swing"] - markers,
            "fused_shank_rmse_deg": rmse("fused shank's swing")}


def trial_rows(trial: str, config: AnalysisConfig | None = None) -> list[dict]:
    """One row per walk (leg) of the Geneva ``trial``: :func:`walk_parts` and the calibration path."""
    walking_rad = float(pd.read_csv(GROUVEL_2023 / "sync.csv").set_index("trial").loc[trial, "heading_rad"])
    walks = load_grouvel(trial)
    result = analyze_session(walks[0].session, config or AnalysisConfig())
    sensors = pd.read_csv(GROUVEL_2023 / f"{trial}_sensors.csv")
    rows = []
    for walk in walks:
        leg = result.legs[walk.side]
        quality = leg.alignment.quality
        rows.append({"walk": walk.name, "participant": trial[:3], **walk_parts(walk, leg, result.t_s, sensors, walking_rad),
                     "reference": leg.reference, "heading_source": quality.heading_source.value,
                     "calibration": leg.calibration_quality, "thigh_walking_turn_deg": quality.thigh_walking_turn_deg,
                     "thigh_axis_cross_check_deg": quality.thigh_axis_cross_check_deg})
    return rows


def geneva_hip_table(config: AnalysisConfig | None = None) -> pd.DataFrame:
    """One row per Geneva walk (:func:`trial_rows` of every trial)."""
    return pd.DataFrame([row for trial in grouvel_trials() for row in trial_rows(trial, config)])


def _spread(values: pd.Series) -> str:
    return f"{values.mean():+.2f} ± {values.std():.2f}"


def _error_row(label: str, bias: pd.Series, rmse: pd.Series) -> list[str]:
    return [label, _spread(bias), f"{bias.abs().max():.1f}",
            f"{rmse.median():.2f} / {rmse.quantile(0.9):.2f} / {rmse.max():.2f}"]


def _slope(x: pd.Series, y: pd.Series) -> str:
    return f"{np.polyfit(x, y, 1)[0]:+.2f} per degree (r {np.corrcoef(x, y)[0, 1]:+.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--all", action="store_true", help="every walk in the per-walk table (default: the worst 10)")
    args = parser.parse_args()
    cpu0 = time.process_time()
    df = geneva_hip_table()
    cpu_s = time.process_time() - cpu0
    print(f"Geneva hip rotation, walk by walk; {machine()}; {dt.date.today()}; {len(df)} walks; analysis defaults; "
          f"CPU {cpu_s:.1f} s\n")
    print(f"The parts add up to the bias to {df[list(PARTS)].sum(axis=1).sub(df['bias_deg']).abs().max():.1e}° "
          f"(largest over walks); the recomputed pipeline's hip rotation matches its own to "
          f"{df['check_deg'].abs().max():.1e}°.\n")
    shown = df if args.all else df.reindex(df["bias_deg"].abs().sort_values(ascending=False).index[:10])
    print(("Every walk" if args.all else "The 10 walks of largest |bias|") + " against the functional marker model "
          "(deg; bias and parts + = the pipeline reads more internal rotation; (b) of which the thigh's swing: the "
          "thigh's own swing over the cycles in the lab, less the normative lean, against the markers' line; lean and "
          "knee heading + = lateral):\n")
    print(markdown_table(
        ["walk", "bias", "(a) femur frame", "(b) walking direction", "of which the thigh's swing", "(c) rest of fusion",
         "thigh swing lean (lab)", "knee heading error", "reference", "heading source", "calibration"],
        [[r.walk, f"{r.bias_deg:+.1f}", f"{r.a_frame_deg:+.1f}", f"{r.b_direction_deg:+.1f}", f"{r.b_swing_deg:+.1f}",
          f"{r.c_fusion_deg:+.1f}", f"{r.thigh_swing_lean_deg:+.1f}", f"{r.knee_heading_error_deg:+.1f}", r.reference,
          r.heading_source, r.calibration] for r in shown.itertuples()], align="lrrrrrrrlll"))
    print("\nOver all walks: mean ± SD and correlation with the bias and with parts (a) and (b):\n")
    df["b_rest_deg"] = df["b_direction_deg"] - df["b_swing_deg"]
    columns = {"bias_deg": "bias", **PARTS, "b_swing_deg": "(b) of which the thigh's swing",
               "b_rest_deg": "(b) the rest (the bout's direction against the cycles')",
               "thigh_swing_lean_deg": "thigh swing lean (lab)", "normative_lean_deg": "normative lean removed",
               "shank_swing_lean_deg": "shank swing lean (lab)", "knee_heading_error_deg": "knee heading error",
               "thigh_axis_cross_check_deg": "thigh axis cross-check"}
    print(markdown_table(["quantity", "mean ± SD", "r with bias", "r with (a)", "r with (b)"],
                         [[label, _spread(df[c]), *(f"{np.corrcoef(df[c], df[o])[0, 1]:+.2f}"
                                                    for o in ("bias_deg", "a_frame_deg", "b_direction_deg"))]
                          for c, label in columns.items()]))
    print("\n(d) The calibration path, and the person: the parts' mean ± SD over the walks of each kind:\n")
    rows = []
    for key in ("reference", "heading_source", "calibration", "participant"):
        for value, g in df.groupby(key):
            rows.append([f"{key} = {value}", len(g), _spread(g["bias_deg"]), *(_spread(g[c]) for c in PARTS),
                         _spread(g["thigh_swing_lean_deg"]), _spread(g["knee_heading_error_deg"])])
    print(markdown_table(["walks of", "n", "bias", *PARTS.values(), "thigh swing lean", "knee heading error"], rows))
    print("\nOther walking directions, measured here (none is the pipeline's): hip rotation against the functional "
          "model, bias mean ± SD, largest |bias|, RMSE median / 90th pct / largest over walks:\n")
    print(markdown_table(["walking direction", "bias", "largest |bias|", "RMSE"], [
        _error_row("the pipeline's: the thigh's swing, normative lean removed, a drifting line over the bout",
                   df["bias_deg"], df["rmse_deg"]),
        _error_row("the fused shank's swing over the bouts, in the thigh's world", df["fused_shank_bias_deg"],
                   df["fused_shank_rmse_deg"]),
        _error_row("the markers' line, true in the shank's world, carried into the thigh's by the knee's heading offset",
                   df["via_shank_bias_deg"], df["via_shank_rmse_deg"]),
    ], align="lrrr"))
    print("\nWhat each swing direction does with the hip's own rotation (the markers' mean femur rotation per walk, "
          f"{_spread(df['markers_hip_deg'])}°): the thigh's swing lean (lab) moves by "
          f"{_slope(df['markers_hip_deg'], df['thigh_swing_lean_deg'])}, the shank's by "
          f"{_slope(df['markers_hip_deg'], df['shank_swing_lean_deg'])} (+ lateral: the shank swings in the knee's "
          "flexion plane, which turns with the femur).")


if __name__ == "__main__":
    main()
