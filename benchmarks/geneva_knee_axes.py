"""The Geneva walks' knee flexion axes: the anatomical marker model's, the functional one's, the pipeline's.

Part (d) of ``benchmarks/real_data.py`` compares the pipeline's knee flexion with two marker models
(``benchmarks/data/grouvel_2023/README.md``) that differ from each other by about 4° offset-free.
This script says, per walk (one leg of one trial), how far apart their knee flexion axes are and
what that does to knee flexion. It reads the markers the converter committed
(``<trial>_markers.csv``), or, given a folder, the dataset's synchronised files (the converter's
source; the same table), and runs ``analyze_session`` as part (d) does.

- The axes, each expressed in the anatomical femur frame (``convert_grouvel_2023.marker_frames``:
  X anterior, Y proximal along ``KJC`` → ``HJC``, Z to the right along ``KJC`` → ``KNE``) and
  averaged over the walk's marker frames: the functional (SARA) axis as the thigh cluster carries
  it, and the pipeline's calibrated thigh Z (its ``q_sensor_segment`` on the sensor's orientation
  as its cluster measures it, ``<trial>_sensors.csv``). Each as two angles: about the femur's long
  axis Y (+: the axis's lateral end turned anterior) and about its anterior axis X (+: the lateral
  end turned distal), and the angle between the pipeline's axis and each model's.
- Knee flexion by a fifth marker model, **anatomical with the pipeline's axes**: the anatomical
  frames (tracked by the CGM markers) with femur Z and tibia Z exchanged for the pipeline's thigh
  and shank Z as those frames carry them (``convert_grouvel_2023.functional_axis_frames`` with
  these axes). Against the anatomical model it is the flexion the axis difference alone changes
  (cross-talk: the axis's tilt times the knee's other rotations); the pipeline against it is
  what is left with the same axes, of which a gain (the pipeline's flexion ≈ a + g × the model's,
  least squares per walk) is the part that scales with flexion.

Reproduce (from the repository root)::

    .venv/bin/python benchmarks/geneva_knee_axes.py [--csv per_walk.csv]
    # or from the source (as in the data README):
    git clone https://github.com/ThomasAston/movetru && git -C movetru checkout f65a0d8
    .venv/bin/python benchmarks/geneva_knee_axes.py movetru/data/synchronised
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, markdown_table
from _optical import compare_series
from _real_loaders import GROUVEL_2023, SensorClock, grouvel_markers, grouvel_trials, load_grouvel
from convert_grouvel_2023 import (
    TRIALS,
    _poses,
    functional_axis_frames,
    functional_knees,
    marker_frames,
)
from scipy.spatial.transform import Rotation

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.conventions import Joint, Side, joint_angles_rad
from imugait.gait.cycles import N_NORMALISED, time_normalise

Z = np.array([0.0, 0.0, 1.0])
PHASES_PCT = tuple(range(0, 101, 10))
"""Where in the cycle the mean difference of knee flexion from the anatomical model is printed (%)."""


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def axis_angles_deg(axis: np.ndarray, side: Side) -> tuple[float, float]:
    """A flexion axis (3,) in a femur frame (X anterior, Y proximal, Z to the right on both sides)
    against that frame's Z, deg: its turn about Y (+: the lateral end anterior) and about X (+: the
    lateral end distal), the same meaning on both sides."""
    lateral = 1.0 if side is Side.RIGHT else -1.0
    return (lateral * float(np.rad2deg(np.arctan2(axis[0], axis[2]))),
            lateral * float(np.rad2deg(np.arctan2(-axis[1], axis[2]))))


def _between_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.rad2deg(np.arccos(np.clip(_unit(a) @ _unit(b), -1.0, 1.0))))


def _in_frame(frame: Rotation, lab: np.ndarray) -> np.ndarray:
    """Lab vectors (N, 3) in a moving frame (N), averaged over the frames: a unit vector (3,)."""
    return _unit(frame.inv().apply(lab).mean(axis=0))


def _cycles(t_s: np.ndarray, series: np.ndarray, cycles: pd.DataFrame) -> np.ndarray:
    """``series`` (N,) at ``t_s`` time-normalised over each cycle, concatenated."""
    return np.concatenate([time_normalise(t_s, series, c.t_first_s, c.t_last_s) for c in cycles.itertuples()])


def _ranges(t_s: np.ndarray, series: np.ndarray, cycles: pd.DataFrame) -> float:
    """Median over the cycles of each cycle's flexion range (deg)."""
    return float(np.median([np.ptp(time_normalise(t_s, series, c.t_first_s, c.t_last_s)) for c in cycles.itertuples()]))


def _free(a: np.ndarray, b: np.ndarray) -> float:
    return compare_series(pd.DataFrame({"knee_flexion_deg": a}), pd.DataFrame({"knee_flexion_deg": b}))["knee flexion"][1]


def _gain(estimate: np.ndarray, reference: np.ndarray) -> tuple[float, float]:
    """Least squares ``estimate ≈ a + g × reference``: g and the RMS residual (deg)."""
    ok = np.isfinite(estimate) & np.isfinite(reference)
    g, a = np.polyfit(reference[ok], estimate[ok], 1)
    return float(g), float(np.sqrt(np.mean((estimate[ok] - a - g * reference[ok]) ** 2)))


def walk_axes(trial: str, d: pd.DataFrame, knees: dict, config: AnalysisConfig) -> list[dict]:
    """Per leg of one converted walk: the axes' angles, and knee flexion by each model against the pipeline."""
    walks = load_grouvel(trial, SensorClock.OWN)
    result = analyze_session(walks[0].session, config)
    sensors = pd.read_csv(GROUVEL_2023 / f"{trial}_sensors.csv")
    reference = pd.read_csv(GROUVEL_2023 / f"{trial}_reference.csv")
    t_ref = reference["t_s"].to_numpy()
    if len(sensors) != len(d) or len(reference) != len(d):
        raise ValueError(f"{trial}: the converted files have other rows than the source's {len(d)} marker frames")
    anatomical = marker_frames(d)
    rows = []
    for walk in walks:
        side, s = walk.side, walk.side.value
        leg = result.legs[side]
        knee = knees[side]
        femur, tibia = anatomical[f"{s}_thigh"], anatomical[f"{s}_shank"]
        lab = {seg: Rotation.from_quat(sensors[[f"{s}_{seg}_q_{k}" for k in "wxyz"]].to_numpy(), scalar_first=True)
               * Rotation.from_quat(getattr(leg.alignment, seg).q_sensor_segment, scalar_first=True)
               for seg in ("thigh", "shank")}
        pipeline_femur, pipeline_tibia = _in_frame(femur, lab["thigh"].apply(Z)), _in_frame(tibia, lab["shank"].apply(Z))
        thigh_cluster, _ = _poses(d, s[0].upper(), knee.thigh_template_m, knee.shank_template_m)
        functional_femur = _in_frame(femur, thigh_cluster.rotation.apply(knee.axis.axis_1))
        with_pipeline_axes = functional_axis_frames(d, {**knees, side: replace(knee, axis_femur=pipeline_femur,
                                                                                 axis_tibia=pipeline_tibia)})
        recomputed = np.rad2deg(joint_angles_rad(with_pipeline_axes[f"{s}_thigh"].as_quat(scalar_first=True),
                                                 with_pipeline_axes[f"{s}_shank"].as_quat(scalar_first=True),
                                                 Joint.KNEE, side))[:, 0]
        pipe = _cycles(result.t_s, leg.angles_deg["knee_flexion_deg"], walk.cycles)
        models = {"anatomical": reference[f"{s}_knee_flexion_deg"].to_numpy(),
                  "functional": reference[f"{s}_knee_flexion_functional_deg"].to_numpy(),
                  "cluster-tracked": reference[f"{s}_knee_flexion_cluster_tracked_deg"].to_numpy(),
                  "pipeline axes": recomputed}
        cut = {m: _cycles(t_ref, v, walk.cycles) for m, v in models.items()}
        gain_anat, rest_anat = _gain(pipe, cut["anatomical"])
        gain_own, rest_own = _gain(pipe, cut["pipeline axes"])
        row = {"walk": walk.name, "participant": trial[:3], "side": s, "reference": leg.reference}
        for name, axis in (("functional", functional_femur), ("pipeline", pipeline_femur)):
            about_long, about_anterior = axis_angles_deg(axis, side)
            row.update({f"{name}_about_long_deg": about_long, f"{name}_about_anterior_deg": about_anterior,
                        f"{name}_vs_anatomical_deg": _between_deg(axis, Z)})
        row["pipeline_vs_functional_deg"] = _between_deg(pipeline_femur, functional_femur)
        row["pipeline_tibia_vs_anatomical_deg"] = _between_deg(pipeline_tibia, Z)
        gaps = {name: (series - cut["anatomical"]).reshape(-1, N_NORMALISED)
                for name, series in (("pipeline", pipe), *((m, cut[m]) for m in models if m != "anatomical"))}
        row["curves"] = {name: (gap - np.nanmean(gap)).mean(axis=0) for name, gap in gaps.items()}
        row.update({"range_pipeline_deg": _ranges(result.t_s, leg.angles_deg["knee_flexion_deg"], walk.cycles),
                    **{f"range_{m.replace(' ', '_')}_deg": _ranges(t_ref, v, walk.cycles) for m, v in models.items()},
                    "free_vs_anatomical_deg": _free(pipe, cut["anatomical"]),
                    "free_vs_functional_deg": _free(pipe, cut["functional"]),
                    "anatomical_vs_functional_deg": _free(cut["anatomical"], cut["functional"]),
                    "axes_alone_deg": _free(cut["pipeline axes"], cut["anatomical"]),
                    "free_vs_pipeline_axes_deg": _free(pipe, cut["pipeline axes"]),
                    "gain_vs_anatomical": gain_anat, "after_gain_vs_anatomical_deg": rest_anat,
                    "gain_vs_pipeline_axes": gain_own, "after_gain_vs_pipeline_axes_deg": rest_own})
        rows.append(row)
    return rows


def participant_axes(walks: dict[str, pd.DataFrame], kept: set[str], config: AnalysisConfig) -> list[dict]:
    """:func:`walk_axes` for one participant's converted walks among ``walks`` (all four walks'
    markers, by trial: the functional knees are fitted over all of them)."""
    knees, _ = functional_knees(list(walks.values()))
    return [row for trial, d in walks.items() if trial in kept for row in walk_axes(trial, d, knees, config)]


def _summary(table: pd.DataFrame, column: str, fmt: str = ".2f") -> str:
    v = table[column]
    return f"{v.median():{fmt}} ({v.quantile(0.1):{fmt}} … {v.quantile(0.9):{fmt}})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, nargs="?", default=None,
                        help="read the markers from the dataset's synchronised CSV files (<trial>.csv) in this folder "
                             "(default: the committed <trial>_markers.csv)")
    parser.add_argument("--csv", type=Path, default=None, help="write the per-walk table here")
    args = parser.parse_args()
    cpu0 = time.process_time()
    config = AnalysisConfig()
    kept = set(grouvel_trials())
    rows = []
    for participant in sorted({t[:3] for t in TRIALS}):
        walks = {t: grouvel_markers(t) if args.source is None else pd.read_csv(args.source / f"{t}.csv")
                 for t in TRIALS if t.startswith(participant)}
        rows += participant_axes(walks, kept, config)
    curves = {name: np.median([r["curves"][name] for r in rows], axis=0) for name in rows[0]["curves"]}
    table = pd.DataFrame([{k: v for k, v in r.items() if k != "curves"} for r in rows])
    if args.csv is not None:
        table.to_csv(args.csv, index=False, float_format="%.3f")
    print(f"Geneva knee flexion axes; {machine()}; {len(table)} walks; CPU {time.process_time() - cpu0:.1f} s\n")
    print("Axes in the anatomical femur frame, deg: median (10th … 90th percentile) over walks\n")
    print(markdown_table(
        ["axis", "about the long axis (+ lateral end anterior)", "about the anterior axis (+ lateral end distal)",
         "angle to the anatomical Z"],
        [[name, *(_summary(table, f"{name}_{k}_deg", "+.1f") for k in ("about_long", "about_anterior")),
          _summary(table, f"{name}_vs_anatomical_deg", ".1f")] for name in ("functional", "pipeline")], align="lrrr"))
    print(f"\n- the pipeline's thigh axis to the functional one: {_summary(table, 'pipeline_vs_functional_deg', '.1f')}°; "
          f"its shank axis to the anatomical tibia Z: {_summary(table, 'pipeline_tibia_vs_anatomical_deg', '.1f')}°")
    nearer = int((table["pipeline_vs_functional_deg"] < table["pipeline_vs_anatomical_deg"]).sum())
    print("- across walks, the pipeline's turn against the functional one's: about the long axis r = "
          f"{table['pipeline_about_long_deg'].corr(table['functional_about_long_deg']):.2f}, about the anterior axis "
          f"r = {table['pipeline_about_anterior_deg'].corr(table['functional_about_anterior_deg']):.2f}; the pipeline's "
          f"axis nearer the functional one than the anatomical Z on {nearer} of {len(table)} walks")
    for side, g in table.groupby("side"):
        print(f"- {side} legs ({len(g)}): pipeline about the long axis {g['pipeline_about_long_deg'].median():+.1f}°, "
              f"about the anterior {g['pipeline_about_anterior_deg'].median():+.1f}°; functional "
              f"{g['functional_about_long_deg'].median():+.1f}° / {g['functional_about_anterior_deg'].median():+.1f}°")
    print("\nKnee flexion, deg: median (10th … 90th percentile) over walks\n")
    print(markdown_table(["quantity", "value"], [
        ["range per cycle (median over a walk's cycles): pipeline", _summary(table, "range_pipeline_deg", ".1f")],
        ["… anatomical model", _summary(table, "range_anatomical_deg", ".1f")],
        ["… functional model", _summary(table, "range_functional_deg", ".1f")],
        ["… anatomical model with the pipeline's axes", _summary(table, "range_pipeline_axes_deg", ".1f")],
        ["anatomical vs functional model, offset-free", _summary(table, "anatomical_vs_functional_deg")],
        ["pipeline vs anatomical, offset-free", _summary(table, "free_vs_anatomical_deg")],
        ["pipeline vs functional, offset-free", _summary(table, "free_vs_functional_deg")],
        ["anatomical with the pipeline's axes vs anatomical (the axes alone: cross-talk)", _summary(table, "axes_alone_deg")],
        ["pipeline vs anatomical with the pipeline's axes, offset-free", _summary(table, "free_vs_pipeline_axes_deg")],
        ["gain g, pipeline ≈ a + g × anatomical", _summary(table, "gain_vs_anatomical", ".3f")],
        ["… residual after the gain", _summary(table, "after_gain_vs_anatomical_deg")],
        ["gain g, pipeline ≈ a + g × anatomical with the pipeline's axes", _summary(table, "gain_vs_pipeline_axes", ".3f")],
        ["… residual after the gain", _summary(table, "after_gain_vs_pipeline_axes_deg")],
    ], align="lr"))
    print("\nWhere in the cycle: knee flexion less the anatomical model's, each walk's mean over its cycles with "
          "its own offset removed, median over walks at each point of the cycle (deg); RMS of that median curve over "
          "its 101 points (the part the walks share)\n")
    lines = [["anatomical with the pipeline's axes" if name == "pipeline axes" else name,
              *(f"{curve[pct]:+.1f}" for pct in PHASES_PCT), f"{np.sqrt(np.mean(np.square(curve))):.2f}"]
             for name, curve in curves.items()]
    print(markdown_table(["less the anatomical model", *(f"{pct} %" for pct in PHASES_PCT), "RMS"], lines,
                         align="l" + "r" * (len(PHASES_PCT) + 1)))


if __name__ == "__main__":
    main()
