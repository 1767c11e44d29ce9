"""Does the fused orientation lead the truth by half a sample? The gyroscope integrated as the rate
at each sample's instant (``GyroSampling.INSTANT``: the trapezoid with the sample before) against
the same samples taken as interval means (``INTERVAL_MEAN``: ``ω_k·Ts`` over the interval ending at
``t_k``, how every filter integrated them before 2026-12-06). docs/validation.md, "The gyroscope
sample's instant".

Reproduce (from the repository root; ≈ 1 min CPU; prints Markdown)::

    .venv/bin/python benchmarks/gyr_sampling.py [--hinge-only]

(a) Simulator (its gyroscope is the rate at each instant), ideal sensors, the default walking test,
    seed 1, at 100, 50 and 32 Hz: each lower-limb sensor fused with offline VQF 6-axis
    (``orient_stream``) and compared with the simulator's orientation of that sensor at ``t + shift``
    (heading aligned, total RMSE over straight walking); mean over the four sensors.
(b) Kiel pp054 (``benchmarks/data/kiel_pp054``, 200 Hz) resampled to 100, 50 and 32 Hz by linear
    interpolation, through ``analyze_session``: knee flexion over its two reference cycles.
(c) Geneva (``benchmarks/data/grouvel_2023``, 25–45 Hz): per walk the pipeline's per-sample knee
    flexion against the markers' over the cycles' span, shifted by a lag (pipeline at ``t + lag``):
    the lag of the least offset-free RMSE.
(d) dfjimu mechanical hinge (``../shared/datasets/dfjimu``, 50 Hz, optical orientations; skipped
    when absent): ``benchmarks/real_data.py`` part (a)'s hinge angle with the default heading
    alignment, against the markers', shifted by a lag as in (c). Which kind of sample the data
    are is not stated at any source found (``imugait/data/gyr_sampling.json``); a lag of the optical
    clock against the IMU's looks the same as a half sample of integration, so this measures both
    together. ``--hinge-only`` runs (d) alone (≈ 15 s CPU).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
from _common import machine, markdown_table
from _optical import compare_with_reference
from _real_loaders import (
    GROUVEL_2023,
    dfjimu_paths,
    grouvel_trials,
    load_dfjimu,
    load_grouvel,
    load_kiel_pp054,
    with_gyr_sampling,
)
from scipy.spatial.transform import Rotation

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.fusion import FilterKind
from imugait.fusion.evaluation import WorldAlignment, orientation_rmse
from imugait.fusion.select import orient_stream
from imugait.model import GyroSampling, Session
from imugait.simulate import SensorErrors, SimulationConfig, simulate
from imugait.timebase import grid_position, interp_vectors

RATES_HZ = (100.0, 50.0, 32.0)
SHIFTS = (0.0, 0.25, 0.5, 0.75)
"""Truth shifts, in samples."""
LAGS_MS = np.arange(-40.0, 40.1, 2.5)
WAYS = {"instant (trapezoid)": GyroSampling.INSTANT, "interval mean (before)": GyroSampling.INTERVAL_MEAN}


def simulator_rows() -> list[list[str]]:
    rows = []
    for rate in RATES_HZ:
        sim = simulate(SimulationConfig(errors=SensorErrors.ideal(), sample_rate_hz=rate, seed=1))
        for label, sampling in WAYS.items():
            errors = np.zeros(len(SHIFTS))
            for stream in sim.session.streams:
                stream = replace(stream, device=replace(stream.device, gyr_sampling=sampling))
                q = orient_stream(stream, FilterKind.VQF_OFFLINE).q_world_sensor
                walking = sim.walker.timeline.walking_weight(stream.t_s) > 0.99
                key = (stream.placement.segment, stream.placement.side)
                mounting = Rotation.from_quat(sim.sensors[stream.placement].q_segment_sensor, scalar_first=True)
                for i, shift in enumerate(SHIFTS):
                    truth = sim.walker.pose(stream.t_s + shift / rate).r_world[key] * mounting
                    rmse, _ = orientation_rmse(q, truth.as_quat(scalar_first=True), movement=walking,
                                               world=WorldAlignment.HEADING, sensor_to_marker=False)
                    errors[i] += rmse.total_deg / len(sim.session.streams)
            rows.append([f"{rate:.0f}", label, *(f"{e:.2f}" for e in errors)])
    return rows


def resampled(session: Session, rate_hz: float) -> Session:
    """Every stream linearly interpolated to ``rate_hz`` over its own span."""
    streams = []
    for s in session.streams:
        t = np.arange(s.t_s[0], s.t_s[-1] + 1e-9, 1.0 / rate_hz)
        position = grid_position(s.t_s, t)
        streams.append(replace(s, t_s=t, acc_mps2=interp_vectors(s.t_s, s.acc_mps2, t, position),
                               gyr_radps=interp_vectors(s.t_s, s.gyr_radps, t, position),
                               mag_uT=None if s.mag_uT is None else interp_vectors(s.t_s, s.mag_uT, t, position),
                               sample_rate_hz=rate_hz, gaps=()))
    return Session(streams, session.meta)


def kiel_rows() -> list[list[str]]:
    rows = []
    for distal in (False, True):
        walk = load_kiel_pp054(distal_shanks=distal)
        for label, sampling in WAYS.items():
            cells = []
            for rate in (200.0, *RATES_HZ):
                session = walk.session if rate == 200.0 else resampled(walk.session, rate)
                result = analyze_session(with_gyr_sampling(session, sampling), AnalysisConfig())
                both = next(c for c in compare_with_reference(result, walk) if c.cycle == 0)
                cells.append(f"{both.rmse_deg:.2f} / {both.offset_free_rmse_deg:.2f} / {both.bias_deg:+.2f}")
            rows.append([walk.name if label.startswith("instant") else "", label, *cells])
    return rows


def geneva_rows() -> list[list[str]]:
    rows = []
    for label, sampling in WAYS.items():
        best, at_zero, at_best = [], [], []
        for trial in grouvel_trials():
            walks = load_grouvel(trial)
            result = analyze_session(with_gyr_sampling(walks[0].session, sampling), AnalysisConfig())
            reference = pd.read_csv(GROUVEL_2023 / f"{trial}_reference.csv")
            t_ref = reference["t_s"].to_numpy()
            for walk in walks:
                span = (t_ref >= walk.cycles["t_first_s"].min()) & (t_ref <= walk.cycles["t_last_s"].max())
                ref = reference[f"{walk.side.value}_knee_flexion_deg"].to_numpy()[span]
                estimate = result.legs[walk.side].angles_deg["knee_flexion_deg"]
                free = []
                for lag_ms in LAGS_MS:
                    d = np.interp(t_ref[span] + lag_ms * 1e-3, result.t_s, estimate) - ref
                    d = d[np.isfinite(d)]
                    free.append(float(np.sqrt(np.mean((d - d.mean()) ** 2))))
                best.append(LAGS_MS[int(np.argmin(free))])
                at_zero.append(free[int(np.flatnonzero(LAGS_MS == 0.0)[0])])
                at_best.append(min(free))
        best = np.array(best)
        rows.append([label, str(best.size), f"{np.median(best):+.1f}", str(int((best <= -10).sum())),
                     str(int(((best > -10) & (best < 10)).sum())), str(int((best >= 10).sum())),
                     f"{np.median(at_zero):.2f} / {np.quantile(at_zero, 0.9):.2f}",
                     f"{np.median(at_best):.2f} / {np.quantile(at_best, 0.9):.2f}"])
    return rows


HINGE_LAGS_MS = np.arange(-40.0, 40.1, 2.5)


def hinge_rows() -> list[list[str]]:
    """Per dfjimu 1-DoF trial and way of integrating: the offset-free hinge-angle RMSE at lag 0 and
    the lag (estimate at ``t + lag``) of its least value."""
    from real_data import hinge_outcome

    rows = []
    for path in dfjimu_paths():
        trial = load_dfjimu(path)
        clock_ms = gyro_marker_lag_ms(trial)
        for label, sampling in WAYS.items():
            out = hinge_outcome(trial, FilterKind.VQF_OFFLINE, sampling)
            ref, est = np.unwrap(out.hinge_ref_deg, period=360.0), np.unwrap(out.hinge_est_deg, period=360.0)
            free = []
            for lag_ms in HINGE_LAGS_MS:
                d = (np.interp(out.t_s + lag_ms * 1e-3, out.t_s, est) - ref)[out.valid]
                free.append(float(np.sqrt(np.mean((d - d.mean()) ** 2))))
            best = int(np.argmin(free))
            at_zero = free[int(np.flatnonzero(HINGE_LAGS_MS == 0.0)[0])]
            rows.append([trial.name if label.startswith("instant") else "",
                         " / ".join(f"{x:+.1f}" for x in clock_ms) if label.startswith("instant") else "",
                         label, f"{at_zero:.2f}", f"{HINGE_LAGS_MS[best]:+.1f}", f"{free[best]:.2f}"])
    return rows


def gyro_marker_lag_ms(trial) -> tuple[float, float]:
    """Per sensor of a dfjimu trial, ``real_data.gyro_marker_lag_s`` in ms (no orientation filter)."""
    from real_data import _sensor_to_marker, gyro_marker_lag_s

    lags = []
    for q_ref, gyr in ((trial.q_ref1, trial.gyr1_radps), (trial.q_ref2, trial.gyr2_radps)):
        a, ok = _sensor_to_marker(q_ref, gyr, trial.rate_hz)
        lags.append(1e3 * gyro_marker_lag_s(q_ref, gyr, trial.rate_hz, a, ok))
    return lags[0], lags[1]


def print_hinge() -> None:
    print("\n(d) dfjimu hinge (50 Hz): offset-free hinge-angle RMSE (deg, default heading alignment) against the "
          "markers, the estimate at t + lag\n")
    rows = hinge_rows()
    if rows:
        print(markdown_table(["trial", "gyroscope vs markers, lag (ms), sensor 1 / 2", "integrated as", "at lag 0",
                              "best lag (ms)", "at the best lag"], rows, align="lrlrrr"))
    else:
        print("skipped: no ../shared/datasets/dfjimu/data_1D_*.mat")


def main() -> None:
    import sys

    cpu0 = time.process_time()
    print(f"Gyroscope sample's instant; {machine()}\n")
    if "--hinge-only" in sys.argv[1:]:
        print_hinge()
        print(f"\nCPU {time.process_time() - cpu0:.0f} s")
        return
    print("(a) Simulator, ideal sensors, offline VQF 6-axis: orientation RMSE (deg, mean of 4 sensors) against the "
          "truth shifted by a fraction of a sample (a filter whose orientation leads is best against a later truth)\n")
    print(markdown_table(["Hz", "integrated as", *(f"truth at t + {s:g} Ts" for s in SHIFTS)], simulator_rows(),
                         align="ll" + "r" * len(SHIFTS)))
    print("\n(b) Kiel pp054 knee flexion, both cycles: RMSE / offset-free RMSE / bias (deg), by rate\n")
    print(markdown_table(["recording", "integrated as", "200 Hz", "100 Hz", "50 Hz", "32 Hz"], kiel_rows(),
                         align="llrrrr"))
    print("\n(c) Geneva, 65 walks: per walk the lag (pipeline at t + lag) of the least per-sample offset-free knee "
          "flexion RMSE; that RMSE at lag 0 and at the best lag, median / 90th percentile (deg)\n")
    print(markdown_table(["integrated as", "walks", "best lag median (ms)", "≤ −10 ms", "between", "≥ +10 ms",
                          "offset-free at 0 ms", "at the best lag"], geneva_rows(), align="lrrrrrrr"))
    print_hinge()
    print(f"\nCPU {time.process_time() - cpu0:.0f} s")


if __name__ == "__main__":
    main()
