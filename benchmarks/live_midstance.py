"""Knee flexion of a walk without standing, live and with ``analyze --filter vqf_online``, against
the simulator's truth: the mid-stance calibration with a causal filter.

The simulator's corridor walk started on "go" (no standing at all; 40 s at 1.3 m/s, 200 Hz, lost
samples 0.2 %, the simulator's default sensor errors — gyroscope bias 0.01 rad/s per axis), one
walk per seed, fed to the live pipeline in 50-ms blocks, and analysed
offline with the online filter (the live calibration's settings) and with the default offline
filter. Per leg, over the samples after 15 s: the median |live − analyze (online)| and each
estimate's RMSE and bias (mean error) against the truth — the comparison of
``tests/live/test_live_calibration.py`` (seed 7) over more seeds.

Reproduce (from the repository root; ≈ 10 s CPU per seed)::

    .venv/bin/python benchmarks/live_midstance.py --seeds 1-7
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import machine, markdown_table

from imugait.analysis import analyze_session
from imugait.analysis.pipeline import AnalysisConfig
from imugait.conventions import Side
from imugait.fusion.settings import FilterKind
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.simulate import SensorErrors, SimulationConfig, corridor_walk, simulate

RATE_HZ = 200.0
FROM_S = 15.0


def live_knee_flexion(live: LiveKinematics, session, chunk_s: float = 0.05) -> dict[Side, tuple[np.ndarray, np.ndarray]]:
    """``(t_s, knee_flexion_deg)`` per leg as the live pipeline reports them: fed in blocks of
    ``chunk_s``, polled once at the end (the results do not depend on when it is polled,
    ``tests/live/test_live_calibration.py``; the walk fits the live history)."""
    live.feed_session(session, chunk_s=chunk_s)
    rows = live.poll().angles
    return {side: (np.concatenate([a.t_s for a in rows if a.side is side]),
                   np.concatenate([a.knee_flexion_deg for a in rows if a.side is side]))
            for side in {a.side for a in rows}}


def one_seed(seed: int) -> list[list[object]]:
    sim = simulate(SimulationConfig(seed=seed, sample_rate_hz=RATE_HZ, errors=SensorErrors(loss_probability=0.002),
                                    timeline=corridor_walk(1.3, 40.0, standing=False)))
    live = LiveKinematics(list(sim.session), LiveConfig(rate_hz=RATE_HZ))
    angles = live_knee_flexion(live, sim.session)
    results = {kind: analyze_session(sim.session, AnalysisConfig(filter_kind=kind, rate_hz=RATE_HZ,
                                                                 calibration=live.config.calibration))
               for kind in (FilterKind.VQF_ONLINE, FilterKind.VQF_OFFLINE)}
    rows = []
    for side in sorted(angles, key=lambda s: s.value):
        t, flexion = angles[side]
        keep = (t > FROM_S) & np.isfinite(flexion)
        t, flexion = t[keep], flexion[keep]
        truth = np.interp(t, sim.truth.series["t_s"], sim.truth.angle(side, "knee_flexion_deg"))
        online, offline = (np.interp(t, r.t_s, r.legs[side].angles_deg["knee_flexion_deg"]) for r in results.values())
        row: list[object] = [seed, side.value, f"{np.median(np.abs(flexion - online)):.2f}"]
        for estimate in (flexion, online, offline):
            error = estimate - truth
            row += [f"{np.sqrt(np.mean(error ** 2)):.2f}", f"{np.mean(error):+.2f}"]
        rows.append(row)
    return rows


def seeds_from_text(text: str) -> list[int]:
    """``1-7`` or ``1,3,5``."""
    if "-" in text:
        first, last = (int(x) for x in text.split("-"))
        return list(range(first, last + 1))
    return [int(x) for x in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seeds_from_text, default=[7], help="simulator seeds: 1-7 or 1,3,5 (default 7)")
    args = parser.parse_args()
    print(machine())
    rows = [row for seed in args.seeds for row in one_seed(seed)]
    print(markdown_table(["seed", "leg", "median |live − analyze online|", "live RMSE", "live bias",
                          "analyze online RMSE", "bias", "analyze offline RMSE", "bias"], rows))


if __name__ == "__main__":
    main()
