"""Where the mid-stance reference's samples fall in the gait cycle, by sample rate, on the simulator.

A leg without a standing period is referred to its mid-stance: 25–35 % of each stride from the
pipeline's own initial contacts (:func:`imugait.analysis.reference.midstance_mask`), given the
normative knee flexion there (:func:`~imugait.analysis.reference.refer_to_upright`). Its knee
flexion bias is then the norm less the true flexion at those very samples — and that depends on
where in the cycle they are, that is, on the initial contacts. This prints, per sample rate, the
2-pass 10-m walk of the cohort's first walkers (``benchmarks/_cohort.py``) without and with
standing periods, median over legs: the detected initial contact's error against the truth, the
mid-stance samples' place in the true cycle, the true knee flexion there, the knee-flexion
bias (pipeline − truth, inside the bouts; mean ± SD over legs), and how well each leg's bias
follows what its reference predicts (the norm less its true flexion at its mid-stance samples).
For comparison, not the pipeline's: the bias the same walks without standing would have with a
landmark reference — the knee turned so that the stance minimum (10–50 %) of its mean cycle reads
the norm's (6.2° at 41 %), a reference that does not depend on when the contacts are.

Reproduce (from the repository root; docs/validation.md, "The mid-stance reference's samples")::

    .venv/bin/python benchmarks/midstance_phase.py                 # 10 walkers, 200/100/50/32 Hz
    .venv/bin/python benchmarks/midstance_phase.py --walkers 4 --rates 100 32
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence

import numpy as np
from _cohort import CohortVariant, _event_errors_ms, calibration_config, draw_walker
from _common import machine, markdown_table
from _optical import norm_stance_minimum_deg, stance_minimum_deg

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.analysis.expected_error import MID_STANCE
from imugait.analysis.reference import MIDSTANCE_END, MIDSTANCE_START, midstance_knee_flexion_deg
from imugait.conventions import Side
from imugait.simulate import simulate, ten_metre_walk


def leg_scores(sim, result, side: Side) -> dict[str, float]:
    """One leg: initial contact error (ms, + late), the reference samples' place in the true cycle
    (%, NaN for a standing reference), the true knee flexion there, and the knee-flexion bias."""
    leg, t = result.legs[side], result.t_s
    t_truth = sim.truth.series["t_s"].to_numpy()
    true_deg = np.interp(t, t_truth, sim.truth.angle(side, "knee_flexion_deg"))
    events = sim.truth.events[(sim.truth.events["side"] == side.value) & sim.truth.events["steady"]]
    errors_ms, _ = _event_errors_ms(events.loc[events["event"] == "initial_contact", "t_s"].to_numpy(),
                                    leg.events.initial_contact_s)
    midstance = leg.reference == MID_STANCE
    place = 100.0 * np.mod(sim.walker.leg_phase(t[leg.standing], side), 1.0)
    bias_deg = float(np.mean((leg.angles_deg["knee_flexion_deg"] - true_deg)[leg.in_bout]))
    # A landmark reference instead (not the pipeline's): the same frames, the knee turned so that
    # the stance minimum of its mean cycle (true contacts) reads the norm's — a constant shift.
    cycles = sim.truth.cycles[(sim.truth.cycles["side"] == side.value) & sim.truth.cycles["steady"]]
    minimum_deg = stance_minimum_deg(t, leg.angles_deg["knee_flexion_deg"], cycles["t_initial_contact_s"].to_numpy(),
                                     cycles["t_next_initial_contact_s"].to_numpy())
    landmark_deg = bias_deg - (minimum_deg - norm_stance_minimum_deg())
    return {"ic_ms": float(np.mean(errors_ms)) if errors_ms.size else np.nan,
            "place_pct": float(place.mean()) if midstance else np.nan,
            "true_deg": float(true_deg[leg.standing].mean()) if midstance else np.nan,
            "bias_deg": bias_deg, "landmark_deg": landmark_deg if midstance else np.nan}


def run(walkers: int, rates: Sequence[float]) -> list[list[str]]:
    body = []
    for rate in rates:
        scores: dict[bool, list[dict]] = {False: [], True: []}
        for i in range(walkers):
            spec = draw_walker(i, variant=CohortVariant(ten_metre_passes=2))
            for standing in (False, True):
                timeline = ten_metre_walk(spec.config.walker.speed_mps, passes=2, standing=standing)
                sim = simulate(dataclasses.replace(spec.config, sample_rate_hz=rate, timeline=timeline))
                result = analyze_session(sim.session, AnalysisConfig(calibration=calibration_config()))
                scores[standing] += [leg_scores(sim, result, side) for side in Side if side in result.legs]
        without, with_ = ({k: np.array([s[k] for s in scores[b]]) for k in scores[b][0]} for b in (False, True))
        expected = midstance_knee_flexion_deg() - without["true_deg"]
        fit = f"{np.polyfit(expected, without['bias_deg'], 1)[0]:+.2f}, r {np.corrcoef(expected, without['bias_deg'])[0, 1]:.2f}"
        body.append([f"{rate:g}", f"{np.median(without['ic_ms']):+.1f}", f"{np.median(without['place_pct']):.1f}",
                     f"{np.median(without['true_deg']):.2f}",
                     f"{without['bias_deg'].mean():+.2f} ± {without['bias_deg'].std():.2f}",
                     f"{with_['bias_deg'].mean():+.2f} ± {with_['bias_deg'].std():.2f}", fit,
                     f"{without['landmark_deg'].mean():+.2f} ± {without['landmark_deg'].std():.2f}",
                     str(without["bias_deg"].size)])
    return body


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walkers", type=int, default=10, help="cohort walkers (default 10)")
    parser.add_argument("--rates", type=float, nargs="+", default=[200.0, 100.0, 50.0, 32.0], help="sample rates, Hz")
    args = parser.parse_args(argv)
    cpu0 = time.process_time()
    body = run(args.walkers, args.rates)
    print(f"Mid-stance reference by sample rate; {machine()}; 2-pass 10-m walk of walkers 0–{args.walkers - 1}, "
          f"CPU {time.process_time() - cpu0:.0f} s. Mid-stance = {100 * MIDSTANCE_START:.0f}–{100 * MIDSTANCE_END:.0f} % "
          f"of the stride from the detected initial contact, referred to the norm's {midstance_knee_flexion_deg():.2f}°. "
          "Medians over legs; bias = pipeline − truth inside the bouts, mean ± SD over legs.\n")
    print(markdown_table(["Hz", "initial contact error (ms, + late)", "mid-stance samples in the true cycle (%)",
                          "true knee flexion there (°)", "knee flexion bias, no standing (°)",
                          "knee flexion bias, with standing (°)",
                          "bias without standing against norm − true flexion there, per leg: slope, r",
                          "the same walks with a stance-minimum reference instead (not the pipeline's): bias (°)", "legs"],
                         body, align="rrrrrrrrr"))


if __name__ == "__main__":
    main()
