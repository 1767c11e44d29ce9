"""Counterfactuals of the hip-rotation tail with the soft-tissue artefact (issue 10; docs/accuracy.md,
*The artefact's tails leg by leg*): the benchmark cohort of ``accuracy.py --sta literature`` analysed
again with one cause at a time made perfect, to bound what fixing it could win on the simulator.

* ``--true-heading``: every knee-centre heading track the calibration makes is replaced by the true
  heading offset between the thigh's and the shank's fused worlds (each fused sensor against the
  simulator's orientation of that sensor);
* ``--no-hip-drive long-axis``: the walkers simulated with the hip-flexion-driven share of the thigh
  sensor's turn about the femur's long axis set to zero; ``all``: on every axis of the thigh's
  artefact rotation (its translations and the shank's artefact unchanged). This changes the
  recording, not the pipeline: a bound, not a fix.

The pipeline itself is not changed and nothing is tuned. Per-leg scores as ``accuracy.py``'s
(``score_leg`` and the hip split, ``_hip_split.py``); compare with its ``--csv``.

Reproduce (docs/accuracy.md)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hip_tail_counterfactuals.py --true-heading --jobs 2 --csv F
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hip_tail_counterfactuals.py --no-hip-drive long-axis --jobs 2
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hip_tail_counterfactuals.py --true-heading --no-hip-drive all --jobs 2 [--ten-metre]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from unittest import mock

import numpy as np
from _cohort import CohortVariant, calibration_config, draw_walker, score_leg
from _common import markdown_table, spread_cells
from _hip_split import HIP_LIMIT_DEG, bone_skin, hip_rotation_split
from scipy.spatial.transform import Rotation

import imugait.analysis.legs as analysis_legs
import imugait.calibration.segment as calibration_segment
import imugait.simulate.sensors as simulate_sensors
from imugait.analysis import AnalysisConfig, analyze_session
from imugait.conventions import Placement, Segment, Side
from imugait.simulate import simulate

HIP_DRIVE = {"none": None, "long-axis": (1,), "all": (0, 1, 2)}
"""``--no-hip-drive``: the axes (x anterior, y long axis, z flexion axis) of the thigh's artefact
rotation whose hip-driven share is set to zero."""


def true_heading_offset_rad(sim, side: Side, rec) -> np.ndarray:
    """The true heading offset (M,) of the shank sensor's fused world against the thigh's over the
    leg recording ``rec`` (what ``HeadingTrack.heading_offset_rad`` estimates)."""
    yaw = []
    for segment, q_fused in ((Segment.THIGH, rec.q_world_thigh_sensor), (Segment.SHANK, rec.q_world_shank_sensor)):
        placement = Placement.of(segment, side)
        pose = sim.walker.pose(rec.t_s)
        r_segment_sensor = Rotation.from_quat(sim.sensors[placement].q_segment_sensor, scalar_first=True)
        r_true = pose.r_world[(segment, side)] * bone_skin(sim, placement, pose, rec.t_s) * r_segment_sensor
        yaw.append((Rotation.from_quat(q_fused, scalar_first=True) * r_true.inv()).as_euler("ZYX")[:, 0])
    return np.unwrap(yaw[0] - yaw[1])


def _patches(sim_holder: dict, true_heading: bool, hip_axes: tuple[int, ...] | None) -> ExitStack:
    """The counterfactuals as patches of the simulator's artefact draw and the calibration's heading
    track (``sim_holder``: ``sim`` and the leg's ``side``, set as the analysis goes)."""
    stack = ExitStack()
    if hip_axes is not None:
        draw = simulate_sensors.draw_soft_tissue

        def without_hip_drive(placement, scale, rng):
            artefact = draw(placement, scale, rng)
            if artefact is None or placement.segment is not Segment.THIGH:
                return artefact
            rotation_per_rad = artefact.rotation_per_rad.copy()
            rotation_per_rad[list(hip_axes), 1] = 0.0
            return dataclasses.replace(artefact, rotation_per_rad=rotation_per_rad)

        stack.enter_context(mock.patch.object(simulate_sensors, "draw_soft_tissue", without_hip_drive))
    if true_heading:
        calibrate, track = analysis_legs.calibrate_leg, calibration_segment.track_heading_offset_from_centre

        def calibrate_noting_side(thigh, shank, *args, **kwargs):
            sim_holder["side"] = thigh.side
            return calibrate(thigh, shank, *args, **kwargs)

        def true_track(rec, motion, centre, config=None):
            estimated = track(rec, motion, centre, config)
            offset = true_heading_offset_rad(sim_holder["sim"], sim_holder["side"], rec)
            # The same branch of the angle as the estimate.
            offset -= 2.0 * np.pi * np.round((offset.mean() - estimated.heading_offset_rad.mean()) / (2.0 * np.pi))
            return dataclasses.replace(estimated, heading_offset_rad=offset)

        stack.enter_context(mock.patch.object(analysis_legs, "calibrate_leg", calibrate_noting_side))
        stack.enter_context(mock.patch.object(calibration_segment, "track_heading_offset_from_centre", true_track))
    return stack


def evaluate(index: int, seed: int, ten_metre: bool, true_heading: bool, hip_drive: str) -> list[dict]:
    """Walker ``index`` of the artefact cohort with the counterfactuals: one row per leg."""
    spec = draw_walker(index, seed, CohortVariant(sta_scale=1.0, ten_metre_passes=2 if ten_metre else 0))
    holder: dict = {}
    with _patches(holder, true_heading, HIP_DRIVE[hip_drive]):
        sim = simulate(spec.config)
        holder["sim"] = sim
        result = analyze_session(sim.session, AnalysisConfig(calibration=calibration_config()))
    rows = []
    for side in Side:
        if side in result.legs:
            rows.append({"walker": f"w{index:03d}", "side": side.value}
                        | score_leg(sim, result, side) | hip_rotation_split(sim, result, side))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--walkers", type=int, default=40, help="cohort size (default 40)")
    parser.add_argument("--seed", type=int, default=2026, help="cohort seed (default 2026)")
    parser.add_argument("--ten-metre", action="store_true", help="the 2-pass 10-m walk without standing")
    parser.add_argument("--true-heading", action="store_true", help="the true knee-centre heading")
    parser.add_argument("--no-hip-drive", choices=list(HIP_DRIVE), default="none",
                        help="set the thigh artefact's hip-driven share to zero on these axes")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--csv", help="write the per-leg scores to this CSV file")
    args = parser.parse_args()
    work = [(i, args.seed, args.ten_metre, args.true_heading, args.no_hip_drive) for i in range(args.walkers)]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = [row for leg_rows in pool.map(evaluate, *zip(*work, strict=True)) for row in leg_rows]
    rmse = np.array([r["hip_rotation_rmse_deg"] for r in rows])
    print(f"Hip rotation with the artefact, counterfactuals: true heading {args.true_heading}, hip-driven share "
          f"removed on {args.no_hip_drive}; {'2-pass 10-m walk' if args.ten_metre else 'stand, bouts, stand'}; "
          f"seed {args.seed}, {args.walkers} walkers, {len(rows)} legs\n")
    print(markdown_table(["hip rotation RMSE per leg", "median / 95th pct / worst", f"legs over {HIP_LIMIT_DEG:g}°",
                          "legs over 3°", "legs pooled"],
                         [["counterfactual", *spread_cells(rmse, rows, HIP_LIMIT_DEG), str(int(np.sum(rmse > 3.0))),
                           f"{np.sqrt(np.mean(rmse ** 2)):.2f}°"]]))
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
