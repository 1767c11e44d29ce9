"""The expected errors a report states, from the cohort's per-leg CSVs: print them, check the data
file against them, or write them into it.

``imugait/data/calibration_expected_error.json`` holds, per sample rate, the 95th percentile over
the 80 legs of the simulated cohort with the literature soft-tissue artefact, for a standing
reference (the default cohort) and a mid-stance one (the 2-pass 10-m walk without standing), and
the same with the pose-only fallback forced. The cohort is seeded, so the CSVs are reproduced by
the commands below. Reproduce (from the repository root; ≈ 16 cohort runs of 30–90 s with two
processes on a quiet machine)::

    mkdir -p /tmp/ee && for r in 25 50 60 100; do
      for pose in "" "--pose-only"; do p=${pose:+p}
        OMP_NUM_THREADS=1 .venv/bin/python benchmarks/accuracy.py --madgwick 0 --jobs 2 --sta literature \\
            $pose --sample-rate $r --csv /tmp/ee/${p}s$r.csv
        OMP_NUM_THREADS=1 .venv/bin/python benchmarks/accuracy.py --madgwick 0 --jobs 2 --sta literature \\
            $pose --ten-metre --sample-rate $r --csv /tmp/ee/${p}m$r.csv
      done
    done
    .venv/bin/python benchmarks/expected_error.py /tmp/ee --check   # or --write to store them

A file ``s<rate>.csv`` is the standing cohort at that rate, ``m<rate>.csv`` the 10-m walk,
``ps`` / ``pm`` the same with ``--pose-only``. ``lps`` / ``lpm`` are the standing and 10-m cohorts
recorded by sensors that low-pass at their rate (``--anti-alias odr``)::

    for r in 25 50 60 100; do
      OMP_NUM_THREADS=1 .venv/bin/python benchmarks/accuracy.py --madgwick 0 --jobs 2 --sta literature \
          --anti-alias odr --sample-rate $r --csv /tmp/ee/lps$r.csv
      OMP_NUM_THREADS=1 .venv/bin/python benchmarks/accuracy.py --madgwick 0 --jobs 2 --sta literature \
          --anti-alias odr --ten-metre --sample-rate $r --csv /tmp/ee/lpm$r.csv
    done

they are an entry's ``low_pass`` figures; ``lpps`` / ``lppm`` likewise with ``--pose-only``. Only the numbers are
written; each entry's source text (when, which commit) is kept as it is and is the writer's to
update.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA_FILE = ROOT / "imugait" / "data" / "calibration_expected_error.json"
COLUMNS = {
    "knee_flexion_rmse_deg": "knee_flexion_rmse_deg",
    "knee_adduction_rmse_deg": "knee_adduction_rezeroed_rmse_deg",
    "knee_rotation_rmse_deg": "knee_rotation_rmse_deg",
    "hip_rotation_rmse_deg": "hip_rotation_rmse_deg",
    "hip_rotation_walk_mean_error_deg": "hip_rotation_walk_mean_error_deg",
}
"""The data file's key → the per-leg CSV's column (``accuracy.py --csv``)."""
REFERENCES = {"standing": "s", "mid-stance": "m"}
POSE_ONLY_NO_HIP = ("hip_rotation_rmse_deg", "hip_rotation_walk_mean_error_deg")
"""Not measured by the pose-only fallback (no knee model sets the thigh's rotation): null."""


def percentile_95(csv_path: Path, keys: tuple[str, ...] = tuple(COLUMNS)) -> dict[str, float]:
    """The 95th percentile over the legs of each error in ``keys`` (absolute values; non-finite legs
    left out)."""
    legs = pd.read_csv(csv_path)
    missing = [c for c in COLUMNS.values() if c not in legs.columns]
    if missing:
        raise SystemExit(f"{csv_path}: not a per-leg CSV of accuracy.py --csv (no {', '.join(missing)})")
    return {key: round(float(np.nanpercentile(np.abs(legs[col].to_numpy(float)), 95)), 2)
            for key, col in COLUMNS.items() if key in keys}


LOW_PASS_PREFIX = "lp"
"""File-name prefix of the runs with sensors that low-pass at their rate (``--anti-alias odr``)."""


def measured(runs: Path, rate_hz: float, pose_only: bool, low_pass: bool = False) -> dict[str, dict[str, float | None]] | None:
    """The references' errors at one rate from ``runs``, or None when a CSV is missing."""
    prefix = (LOW_PASS_PREFIX if low_pass else "") + ("p" if pose_only else "")
    paths = {ref: runs / f"{prefix}{letter}{rate_hz:g}.csv" for ref, letter in REFERENCES.items()}
    if not all(p.is_file() for p in paths.values()):
        return None
    out = {}
    for ref, path in paths.items():
        keys = tuple(k for k in COLUMNS if not (pose_only and k in POSE_ONLY_NO_HIP))
        errors: dict[str, float | None] = dict(percentile_95(path, keys))
        out[ref] = {key: errors.get(key) for key in COLUMNS}
    return out


def compare(doc: dict, runs: Path, write: bool) -> list[str]:
    """Every entry of the data file with CSVs in ``runs``: its numbers set (``write``) or the
    differences listed."""
    differences = []
    for key, pose_only in (("by_sample_rate", False), ("pose_only_by_sample_rate", True)):
        for entry in doc[key]:
            differences += _compare_entry(entry, runs, pose_only, write, f"{key} {entry['sample_rate_hz']:g} Hz")
            low_pass = entry.get("low_pass")
            if low_pass is None and write and measured(runs, entry["sample_rate_hz"], pose_only, low_pass=True):
                low_pass = entry["low_pass"] = {"source": "", "references": {}}
            if low_pass is not None:
                differences += _compare_entry(low_pass, runs, pose_only, write,
                                              f"{key} {entry['sample_rate_hz']:g} Hz low_pass", entry["sample_rate_hz"])
    return differences


def _compare_entry(entry: dict, runs: Path, pose_only: bool, write: bool, name: str,
                   low_pass_rate_hz: float | None = None) -> list[str]:
    """One entry's (or its ``low_pass`` part's, with ``low_pass_rate_hz``) numbers against the CSVs."""
    rate_hz = entry["sample_rate_hz"] if low_pass_rate_hz is None else low_pass_rate_hz
    found = measured(runs, rate_hz, pose_only, low_pass=low_pass_rate_hz is not None)
    if found is None:
        print(f"{name}: no CSVs in {runs}, left as it is")
        return []
    print(f"{name}: {json.dumps(found)}")
    differences = [f"{name} {ref} {angle}: file {entry['references'].get(ref, {}).get(angle)}, CSV {value}"
                   for ref, errors in found.items() for angle, value in errors.items()
                   if entry["references"].get(ref, {}).get(angle) != value]
    if write:
        entry["references"] = found
    return differences


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, help="folder of the per-leg CSVs (s<rate>.csv, m<rate>.csv, ps…, pm…)")
    action = ap.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="exit 1 when the data file differs from the CSVs")
    action.add_argument("--write", action="store_true", help="store the CSVs' numbers in the data file")
    ap.add_argument("--data-file", type=Path, default=DATA_FILE)
    args = ap.parse_args(argv)
    doc = json.loads(args.data_file.read_text(encoding="utf-8"))
    differences = compare(doc, args.runs, args.write)
    if args.write:
        args.data_file.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"written to {args.data_file}")
    for line in differences:
        print(line)
    if args.check:
        print("the data file matches the CSVs" if not differences else f"{len(differences)} numbers differ")
        return 1 if differences else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
