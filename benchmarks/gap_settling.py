"""How far a lost-sample gap puts the fused orientation off, and for how long (the basis of
``imugait.gait.cycles.LONG_GAP_S`` and ``GAP_MARGIN_FACTOR``).

The artefact cohort's walkers (``_cohort.py``, soft-tissue artefact ×1, the default walk) are
recorded without lost samples at one rate. In each thigh and shank stream, gaps of the given lengths
are cut (a ``Gap``, as a receiver records lost samples) centred on 3 of the sensor's swing peaks
(the largest angular rate within ±0.3 s, above 3 rad/s for a shank, 1.5 for a thigh) and at 3
random instants, at least 2 s from the start and 10 s from the end. Each stream is fused by
``orient_stream`` (offline VQF, the gap bridged as ``analyze`` bridges it) and compared with the
same stream fused without the gap: the *added* inclination error (angle between the two estimates'
vertical, deg) and, on the whole orientation, the angle between the two.

Per (segment, placement of the gap, gap length) the table gives: the added inclination error at its
largest within 2 s after the gap (median, 95th pct), at its largest on either side (median), the
time after the gap's end until it stays within 1° (median, 95th pct) and within 2° (95th pct), the
time before the gap's start from which it is above 1° (95th pct), and the 95th pct of the whole
orientation's added error (heading included) 2 s after the gap. Then, for the shank, the median of
the largest added error on either side per gap length, swing peaks and random instants pooled. Then the share of the gaps longer
than ``--long-ms`` whose inclination is within 1° on both sides outside ``--factor`` × the gap's
duration (at most ``--max-s``).

Reproduce (from the repository root; docs/accuracy.md, *Long lost-sample gaps*)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gap_settling.py --walkers 0:20 --rate 60
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gap_settling.py --walkers 20:40 --rate 60 --gaps-ms 67,100,167,233,333
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gap_settling.py --walkers 0:20 --seed 7 --rate 60 --gaps-ms 67,100,167,233,333
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gap_settling.py --walkers 20:30 --rate 100 --gaps-ms 70,100,170,230,330
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gap_settling.py --walkers 0:10 --rate 60 --gaps-ms 500,1000,1500
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/gap_settling.py --walkers 0:10 --rate 25 --gaps-ms 40,80,120,160,240
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import pandas as pd
from _cohort import CohortVariant, draw_walker

from imugait.conventions import Placement, Segment, Side
from imugait.fusion.evaluation import orientation_errors_rad
from imugait.fusion.select import orient_stream
from imugait.gait.cycles import GAP_MARGIN_FACTOR, GAP_MARGIN_MAX_S, LONG_GAP_S
from imugait.model import Gap, ImuStream
from imugait.simulate import simulate

SWING_RATE_RADPS = {Segment.SHANK: 3.0, Segment.THIGH: 1.5}
"""A swing peak: the largest rate within ±0.3 s, above this (rad/s)."""


def with_gap(stream: ImuStream, start: int, n_lost: int) -> tuple[ImuStream, np.ndarray]:
    """``stream`` with samples ``start … start + n_lost - 1`` lost, and the indices kept."""
    keep = np.r_[0:start, start + n_lost:stream.n_samples]
    cut = replace(stream, t_s=stream.t_s[keep], acc_mps2=stream.acc_mps2[keep], gyr_radps=stream.gyr_radps[keep],
                  mag_uT=None if stream.mag_uT is None else stream.mag_uT[keep], q_world_sensor=None,
                  gaps=(Gap(start - 1, n_lost),))
    return cut, keep


def _last_above(err: np.ndarray, t_s: np.ndarray, limit: float) -> float:
    over = np.flatnonzero(err > limit)
    return float(t_s[over[-1]]) if over.size else 0.0


def gap_rows(walker: int, seed: int, rate_hz: float, gaps_ms: list[float], per_kind: int = 3) -> list[dict]:
    """One row per cut gap of one walker (see the module docstring)."""
    spec = draw_walker(walker, seed, CohortVariant(sta_scale=1.0, sample_rate_hz=rate_hz))
    config = replace(spec.config, errors=replace(spec.config.errors, loss_probability=0.0))
    sim = simulate(config)
    rng = np.random.default_rng([walker, 99])
    rows = []
    for side in Side:
        for segment in (Segment.SHANK, Segment.THIGH):
            stream = sim.session[Placement.of(segment, side)]
            q_clean = orient_stream(stream).q_world_sensor
            fs, n = stream.sample_rate_hz, stream.n_samples
            rate = np.linalg.norm(stream.gyr_radps, axis=1)
            half = int(0.3 * fs)
            first, last = int(2 * fs), n - int(10 * fs)
            peaks = [i for i in range(first, last)
                     if rate[i] > SWING_RATE_RADPS[segment] and rate[i] == rate[max(i - half, 0):i + half].max()]
            rng.shuffle(peaks)
            starts = [("swing", i) for i in peaks[:per_kind]]
            starts += [("random", int(rng.integers(first, last))) for _ in range(per_kind)]
            for ms in gaps_ms:
                k = max(int(round(ms / 1000 * fs)), 1)
                for kind, centre in starts:
                    start = centre - k // 2
                    cut, keep = with_gap(stream, start, k)
                    q = orient_stream(cut).q_world_sensor
                    # total and inclination error against the gapless fusion (the world frames are the same)
                    total_rad, _, inclination_rad = orientation_errors_rad(q, q_clean[keep])
                    err = np.rad2deg(inclination_rad)
                    after, before = err[start:], err[:start]
                    t_after = stream.t_s[keep][start:] - stream.t_s[start + k]
                    t_before = stream.t_s[start] - stream.t_s[keep][:start]
                    whole = np.rad2deg(total_rad)[start:]
                    rows.append({
                        "walker": walker, "side": side.value, "segment": segment.value, "kind": kind,
                        "gap_ms": 1000 * k / fs, "n_lost": k,
                        "peak_after_deg": float(after[t_after <= 2.0].max()),
                        "worst_deg": float(max(after.max(), before.max() if before.size else 0.0)),
                        "settle_1deg_s": _last_above(after, t_after, 1.0),
                        "settle_2deg_s": _last_above(after, t_after, 2.0),
                        "before_1deg_s": _last_above(before[::-1], t_before[::-1], 1.0),
                        "whole_2s_deg": float(np.interp(2.0, t_after, whole)),
                    })
    return rows


def _p(q: float):
    return lambda x: float(np.percentile(x, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--walkers", default="0:20", help="walker range a:b (default 0:20)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rate", type=float, default=60.0, help="sample rate, Hz (default 60)")
    parser.add_argument("--gaps-ms", default="17,33,50,67,83,100,133,167,233,333")
    parser.add_argument("--long-ms", type=float, default=1000 * LONG_GAP_S)
    parser.add_argument("--factor", type=float, default=GAP_MARGIN_FACTOR)
    parser.add_argument("--max-s", type=float, default=GAP_MARGIN_MAX_S)
    parser.add_argument("--csv", help="also write the rows to this CSV file")
    args = parser.parse_args()
    a, b = (int(x) for x in args.walkers.split(":"))
    gaps = [float(x) for x in args.gaps_ms.split(",")]
    df = pd.DataFrame([row for w in range(a, b) for row in gap_rows(w, args.seed, args.rate, gaps)])
    if args.csv:
        df.to_csv(args.csv, index=False)
    table = df.groupby(["segment", "kind", "gap_ms"]).agg(
        n=("worst_deg", "size"), peak_med=("peak_after_deg", "median"), peak_p95=("peak_after_deg", _p(95)),
        worst_med=("worst_deg", "median"), settle1_med=("settle_1deg_s", "median"),
        settle1_p95=("settle_1deg_s", _p(95)), settle2_p95=("settle_2deg_s", _p(95)),
        before1_p95=("before_1deg_s", _p(95)), whole_2s_p95=("whole_2s_deg", _p(95)))
    print(f"walkers {a}–{b - 1}, seed {args.seed}, {args.rate:g} Hz (deg, s)")
    print(table.round(2).to_string())
    pooled = df[df["segment"] == Segment.SHANK.value].groupby("gap_ms")["worst_deg"].median()
    print("\nshank, swing peaks and random instants pooled, largest added error on either side, median (deg): "
          + ", ".join(f"{ms:.0f} ms {v:.2f}" for ms, v in pooled.items()))
    long = df[df["gap_ms"] > args.long_ms]
    if len(long):
        margin = np.minimum(args.factor * long["gap_ms"] / 1000, args.max_s)
        within = (np.maximum(long["settle_1deg_s"], long["before_1deg_s"]) <= margin).mean()
        print(f"\ngaps longer than {args.long_ms:g} ms: {len(long)}; inclination within 1° on both sides outside "
              f"{args.factor:g} × the gap (at most {args.max_s:g} s): {100 * within:.1f} %")


if __name__ == "__main__":
    main()
