"""Where the single-leg squat's FPPA error comes from: `.venv/bin/python tests/assessment/fppa_diagnostic.py 0 6`
(seeds FROM TO of the subjects of test_supine_range_and_single_leg_squat.py, walking + single-leg
squat). Per leg: the facing-direction error, the FPPA error, and the FPPA error recomputed with the
true facing direction. Not collected by pytest; docs/assessment.md quotes it."""

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

sys.path.insert(0, str(Path(__file__).parent))
from test_supine_range_and_single_leg_squat import _subject  # noqa: E402

from imugait.assessment.calibration import calibrate_battery  # noqa: E402
from imugait.assessment.measures import (  # noqa: E402
    frontal_projection_angle_deg,
    heading_rad,
    repetition_bottoms,
)
from imugait.assessment.single_leg_squat import SingleLegSquatConfig  # noqa: E402
from imugait.assessment.steps import step_mask  # noqa: E402
from imugait.conventions import Segment, Side  # noqa: E402
from imugait.simulate.protocols import simulate_protocols  # noqa: E402


def main(first: int, last: int) -> None:
    config = SingleLegSquatConfig()
    rows = []
    for seed in range(first, last):
        sim = simulate_protocols(replace(_subject(seed), protocols=("walking", "single_leg_squat")))
        cal = calibrate_battery(sim.session)
        series = sim.truth.series
        t_true = series.t_s.to_numpy()

        def r_true(name: str, i, series=series) -> Rotation:
            return Rotation.from_quat(series[[f"q_world_{name}_{c}" for c in "wxyz"]].to_numpy()[i], scalar_first=True)

        for step in sim.session.meta.steps:
            if not step.name.startswith("single_leg_squat:"):
                continue
            side = Side(step.name.split(":")[1])
            idx = np.flatnonzero(step_mask(cal.t_s, step))
            base = idx[: int(round(config.baseline_s * cal.fused.rate_hz))]
            frames = cal.frames_anchored(side, base)
            depth = frames.knee_deg[:, 0] - frames.knee_deg[base, 0].mean()
            sel = np.r_[base, repetition_bottoms(depth, idx, config.min_depth_deg, config.rep_fraction)]
            n = len(base)
            i_true = np.searchsorted(t_true, cal.t_s[sel])
            anterior = r_true("pelvis", i_true[0]).apply([1.0, 0.0, 0.0])
            # the true facing in the thigh sensor's world: shifted by the thigh's heading difference
            world_shift = heading_rad(frames.axis(Segment.THIGH, 0)[base]) - heading_rad(
                r_true(f"{side.value}_thigh", i_true[:n]).apply([1.0, 0.0, 0.0]))
            true_facing = np.arctan2(anterior[1], anterior[0]) + world_shift
            facing, _ = cal.facing_heading_rad(side, base)

            def fppa(heading: float, sel=sel, frames=frames, side=side, n=n) -> float:
                v = frontal_projection_angle_deg(frames.axis(Segment.THIGH, 1)[sel], frames.axis(Segment.SHANK, 1)[sel],
                                                 heading, side)
                return float((v[n:] - v[:n].mean()).mean())

            truth = sim.truth.value("single_leg_squat_knee_valgus_peak_deg", side)
            facing_err = float(np.rad2deg(np.angle(np.exp(1j * (facing - true_facing)))))
            rows.append((facing_err * side.mirror, fppa(facing) - truth, fppa(true_facing) - truth))
            print(f"seed {seed} {side.value:5s} facing error {facing_err:+5.2f}°  FPPA error {rows[-1][1]:+5.2f}°  "
                  f"with the true facing {rows[-1][2]:+5.2f}°")
    r = np.array(rows)
    print("mean (facing error × side sign, + = turned towards the other leg), FPPA, FPPA at true facing:",
          r.mean(axis=0).round(2), " RMS:", np.sqrt((r**2).mean(axis=0)).round(2))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
