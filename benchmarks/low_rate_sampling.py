"""How a low-rate sensor's samples are taken: point samples (what the simulator gives at any rate)
against means over each sample's interval (a sensor that low-passes before it samples).

The artefact cohort's walkers (``_cohort.py``, soft-tissue artefact ×1) are recorded at 200 Hz
without lost samples or clock drift, and each recording is made into two sessions at 200/K Hz:
every K-th sample (point sampling, as the simulator samples at that rate) and the mean of the K
samples of each interval (gyroscope declared ``GyroSampling.INTERVAL_MEAN``, the accelerometer's
mean half an interval late, as a box-car filter makes it). The 200-Hz session and both low-rate
ones are analysed and scored against the same truth (``score_leg``, ``knee_flexion_split``).

Reproduce (from the repository root; docs/accuracy.md, *Orientation at 25–50 Hz*)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/low_rate_sampling.py --walkers 0:20 --factor 8 --jobs 2
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd
from _cohort import CohortVariant, draw_walker, knee_flexion_split, score_leg

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.conventions import Side
from imugait.model import GyroSampling, ImuStream, Session
from imugait.simulate import simulate

RATE_HZ = 200.0
SCORES = ("knee_flexion_rmse_deg", "knee_flexion_oracle_rmse_deg", "knee_rotation_rmse_deg", "hip_rotation_rmse_deg",
          "ic_median_abs_error_ms")


def low_rate(stream: ImuStream, factor: int, interval_mean: bool) -> ImuStream:
    """``stream`` at ``1/factor`` of its rate, stamped at each interval's last sample: that sample
    (point sampling) or the mean over the interval's ``factor`` samples."""
    n = (stream.n_samples // factor) * factor
    last = slice(factor - 1, n, factor)

    def take(x: np.ndarray | None) -> np.ndarray | None:
        if x is None:
            return None
        return x[:n].reshape(-1, factor, 3).mean(axis=1) if interval_mean else x[last]

    device = replace(stream.device, gyr_sampling=GyroSampling.INTERVAL_MEAN) if interval_mean else stream.device
    return replace(stream, t_s=stream.t_s[last], gyr_radps=take(stream.gyr_radps), acc_mps2=take(stream.acc_mps2),
                   mag_uT=take(stream.mag_uT), sample_rate_hz=stream.sample_rate_hz / factor, gaps=(), device=device)


def walker_rows(index: int, factor: int) -> list[dict]:
    spec = draw_walker(index, 2026, CohortVariant(sta_scale=1.0, sample_rate_hz=RATE_HZ))
    config = replace(spec.config, errors=replace(spec.config.errors, loss_probability=0.0, clock_drift_ppm=0.0))
    sim = simulate(config)
    sessions = {f"{RATE_HZ:g} Hz": sim.session}
    for name, mean in (("point samples", False), ("interval means", True)):
        sessions[f"{RATE_HZ / factor:g} Hz, {name}"] = Session(
            [low_rate(s, factor, mean) for s in sim.session.streams], sim.session.meta)
    rows = []
    for label, session in sessions.items():
        result = analyze_session(session, AnalysisConfig())
        for side in Side:
            if side in result.legs:
                scores = score_leg(sim, result, side) | knee_flexion_split(sim, result, side)
                rows.append({"walker": spec.label, "side": side.value, "session": label} | {k: scores[k] for k in SCORES})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--walkers", default="0:20", help="walker indices FIRST:END (default 0:20)")
    parser.add_argument("--factor", type=int, default=8, help="200 Hz / this = the low rate (default 8: 25 Hz)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--csv", default=None, help="write the per-leg scores here")
    args = parser.parse_args()
    first, end = (int(x) for x in args.walkers.split(":"))
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [r for walker in pool.map(walker_rows, range(first, end), [args.factor] * (end - first)) for r in walker]
    df = pd.DataFrame(rows)
    if args.csv:
        df.to_csv(args.csv, index=False)
    by = df.groupby("session", sort=False)[list(SCORES)]
    print(f"walkers w{first:03d}–w{end - 1:03d}, {len(df) // 3} legs; per leg, median / 95th pct\n")
    print("| session | " + " | ".join(SCORES) + " |")
    print("|---|" + "---:|" * len(SCORES))
    for name, median in by.median().iterrows():
        p95 = by.quantile(0.95).loc[name]
        print(f"| {name} | " + " | ".join(f"{median[k]:.2f} / {p95[k]:.2f}" for k in SCORES) + " |")


if __name__ == "__main__":
    main()
