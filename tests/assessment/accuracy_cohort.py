"""Assessment accuracy on a simulated cohort: `.venv/bin/python tests/assessment/accuracy_cohort.py 0 20`
(seeds FROM TO; random protocol parameters per seed; prints error statistics per metric and any
quality issue raised — there should be none). Not collected by pytest; docs/assessment.md quotes it."""

import sys
from collections import defaultdict

import numpy as np

from imugait.assessment import assess_session
from imugait.simulate.postures import LegProtocolParams, ProtocolParams
from imugait.simulate.protocols import ProtocolSimConfig, simulate_protocols
from imugait.simulate.walker import SideParams, WalkerParams


def _leg(rng: np.random.Generator) -> LegProtocolParams:
    return LegProtocolParams(
        posture_knee_valgus_deg=rng.uniform(0, 4), posture_hip_rotation_deg=rng.uniform(-3, 3),
        supine_hip_rotation_deg=rng.uniform(-20, 15), prone_internal_range_deg=rng.uniform(20, 60),
        prone_external_range_deg=rng.uniform(20, 55), squat_knee_valgus_deg=rng.uniform(0, 10),
        squat_hip_rotation_deg=rng.uniform(-5, 10), balance_knee_valgus_deg=rng.uniform(0, 6),
        balance_sway_deg=rng.uniform(0.5, 3), balance_hold_s=rng.uniform(6, 20),
        supine_internal_range_deg=rng.uniform(15, 50), supine_external_range_deg=rng.uniform(20, 50),
        single_leg_squat_knee_valgus_deg=rng.uniform(0, 8), single_leg_squat_hip_rotation_deg=rng.uniform(-5, 10),
    )


def _side(rng: np.random.Generator) -> SideParams:
    return SideParams(hip_rotation_offset_deg=rng.uniform(-10, 15), knee_valgus_deg=rng.uniform(0, 5))


def main(first: int, last: int) -> None:
    errs = defaultdict(list)
    for seed in range(first, last):
        rng = np.random.default_rng(seed + 1000)
        cfg = ProtocolSimConfig(
            seed=seed, walker=WalkerParams(height_m=rng.uniform(1.55, 1.95), left=_side(rng), right=_side(rng)),
            protocol=ProtocolParams(left=_leg(rng), right=_leg(rng), weight_shift_deg=rng.uniform(-4, 4),
                                    single_leg_squat_depth_deg=rng.uniform(45, 75)),
        )
        sim = simulate_protocols(cfg)
        r = assess_session(sim.session)
        for v in sim.truth.values:
            m = r.metric(v.name, v.side)
            errs[v.name].append(np.nan if m is None else m.value - v.value)
        if r.issues:
            print(seed, [i.message for i in r.issues])
    for k, e in errs.items():
        e = np.array(e)
        print(f"{k:45s} n={len(e)} missing={np.isnan(e).sum()} mean={np.nanmean(e):+.2f} "
              f"rms={np.sqrt(np.nanmean(e**2)):.2f} max={np.nanmax(np.abs(e)):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
