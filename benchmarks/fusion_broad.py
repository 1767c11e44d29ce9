"""Orientation accuracy on BROAD (Laidig et al. 2021): every filter, 6D and 9D, against optical truth.

Reproduce (from the repository root; reads ``../shared/datasets/broad/*.hdf5``, ≈ 2 min)::

    .venv/bin/python benchmarks/fusion_broad.py
    .venv/bin/python benchmarks/fusion_broad.py --max-seconds 60     # quick look

Method (BROAD's error definitions, implemented in :mod:`imugait.fusion.evaluation`):

1. Run each filter with its default tuning (no per-trial or per-dataset tuning: BROAD's paper
   reports the best *common* parameters per filter, so ahrs' defaults are a handicap for
   Madgwick/Mahony/EKF that this table does not hide).
2. Estimate the two constant rotations no filter can know, by alternating least squares on all
   samples with optical tracking: the world heading offset (about z only — both frames are
   z-up, and a fitted tilt would hide inclination errors; needed for 6D, whose heading is
   arbitrary, and applied to 9D alike) and the sensor-to-marker rotation.
3. Error quaternion in the world frame ``q_est ⊗ q_ref⁻¹``; split into heading (about vertical)
   and inclination (about a horizontal axis); RMSE over the ``movement`` samples with a valid
   optical quaternion. Totals are the RMSE of the whole error angle.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
from _common import machine, markdown_table

from imugait.fusion import FilterKind, FusionSettings, make_filter
from imugait.fusion.broad import BROAD_DIR, BROAD_TRIAL_COUNT, broad_trial_paths, load_broad_trial
from imugait.fusion.evaluation import orientation_rmse

KINDS = [FilterKind.VQF_OFFLINE, FilterKind.VQF_ONLINE, FilterKind.MADGWICK, FilterKind.MAHONY, FilterKind.EKF]
MODES = {"6D": False, "9D": True}


def evaluate(trial, kind: FilterKind, use_mag: bool):
    settings = FusionSettings.from_rate(trial.rate_hz, use_magnetometer=use_mag)
    result = make_filter(kind, settings).estimate(trial.gyr_radps, trial.acc_mps2, trial.mag_uT)
    rmse, alignment = orientation_rmse(result.q_world_sensor, trial.q_ref, trial.movement)
    return rmse, alignment


def cell(r) -> str:
    return f"{r.total_deg:.2f} ({r.inclination_deg:.2f} / {r.heading_deg:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=None, help="use only the first N s of each trial")
    args = parser.parse_args()

    paths = broad_trial_paths()
    if not paths:
        raise SystemExit(f"no BROAD trials in {BROAD_DIR} (see ../shared/datasets/README.md)")
    results: dict[tuple[str, FilterKind, str], object] = {}
    marker_deg: dict[str, float] = {}
    t0 = time.perf_counter()
    for path in paths:
        trial = load_broad_trial(path, t_end_s=args.max_seconds)
        for kind in KINDS:
            for mode, use_mag in MODES.items():
                rmse, alignment = evaluate(trial, kind, use_mag)
                results[(trial.name, kind, mode)] = rmse
                if kind is FilterKind.VQF_OFFLINE and mode == "6D":
                    w = abs(alignment.q_sensor_marker[0])
                    marker_deg[trial.name] = float(np.degrees(2 * np.arccos(min(1.0, w))))
    names = [p.stem for p in paths]
    elapsed = time.perf_counter() - t0

    print(f"BROAD orientation RMSE, deg: total (inclination / heading); {machine()}; {dt.date.today()}")
    print(f"{len(names)} of {BROAD_TRIAL_COUNT} BROAD trials present in {BROAD_DIR}; "
          f"{'whole trials' if args.max_seconds is None else f'first {args.max_seconds:g} s'}; {elapsed:.0f} s\n")
    rows = []
    for name in names:
        for kind in KINDS:
            row = [name if kind is KINDS[0] else "", kind.value]
            for mode in MODES:
                r = results[(name, kind, mode)]
                ref = results[(name, FilterKind.VQF_OFFLINE, mode)]
                row += [cell(r), f"{r.total_deg / ref.total_deg:.2f}"]
            rows.append(row)
    header = ["trial", "filter", "6D total (incl / head)", "6D ÷ VQF off", "9D total (incl / head)", "9D ÷ VQF off"]
    print(markdown_table(header, rows, align="llrrrr"))

    print(f"\nMean over the {len(names)} trials (ratio = mean total ÷ VQF offline's mean total)\n")
    rows = []
    for kind in KINDS:
        row = [kind.value]
        for mode in MODES:
            mean = {k: np.mean([getattr(results[(n, kind, mode)], k) for n in names])
                    for k in ("total_deg", "inclination_deg", "heading_deg")}
            ref = np.mean([results[(n, FilterKind.VQF_OFFLINE, mode)].total_deg for n in names])
            row += [f"{mean['total_deg']:.2f} ({mean['inclination_deg']:.2f} / {mean['heading_deg']:.2f})",
                    f"{mean['total_deg'] / ref:.2f}"]
        rows.append(row)
    print(markdown_table(["filter", "6D total (incl / head)", "6D ratio", "9D total (incl / head)", "9D ratio"], rows))

    print("\nFitted sensor-to-marker rotation (VQF offline 6D), deg — BROAD's opt_quat is pre-aligned, "
          "so this should be small: " + ", ".join(f"{n[:2]}: {marker_deg[n]:.2f}" for n in names))


if __name__ == "__main__":
    main()
