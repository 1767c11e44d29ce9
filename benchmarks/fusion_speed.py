"""Fusion speed: samples/s of each filter's batch path, as a ratio to the ahrs Madgwick
per-sample loop, and the time one hour of four sensors at 200 Hz would take.

Reproduce (from the repository root, one core, prints a Markdown table)::

    .venv/bin/python benchmarks/fusion_speed.py
    .venv/bin/python benchmarks/fusion_speed.py --seconds 30 --repeat 5

All filters see the same synthetic 200 Hz data (smooth rotation, gait-like linear acceleration,
noise). The baseline is the plain loop users write around ahrs (``q = Madgwick().updateIMU(q,
gyr[i], acc[i])``); every other row is ``make_filter(kind, settings).estimate(...)``, i.e.
imugait's batch path including input validation. The ``update()`` column is the per-call cost of
the live path. Slow (pure-Python) filters run on ``--seconds`` of data, fast ones on 10× that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
from _common import best_time_s, machine, markdown_table, synthetic_imu
from ahrs.filters import Madgwick

from imugait.fusion import FilterKind, FusionSettings, make_filter

RATE_HZ = 200.0
HOUR_4_SENSORS = 3600 * RATE_HZ * 4
"""Samples in one hour of four sensors at 200 Hz."""
FAST = {FilterKind.VQF_ONLINE, FilterKind.VQF_OFFLINE}


def baseline_madgwick(gyr: np.ndarray, acc: np.ndarray) -> None:
    m = Madgwick(frequency=RATE_HZ)
    q = np.array([1.0, 0.0, 0.0, 0.0])
    for i in range(gyr.shape[0]):
        q = m.updateIMU(q, gyr[i], acc[i])


def update_cost_us(kind: FilterKind, gyr, acc, mag, use_mag: bool, n: int = 2000) -> float | None:
    if not kind.causal:
        return None
    f = make_filter(kind, FusionSettings.from_rate(RATE_HZ, use_magnetometer=use_mag))
    t0 = time.perf_counter()
    for i in range(n):
        f.update(gyr[i], acc[i], mag[i] if use_mag else None)
    return (time.perf_counter() - t0) / n * 1e6


def fmt_duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="data for the slow filters, s (default 60)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args()

    gyr_s, acc_s, mag_s, _ = synthetic_imu(args.seconds, RATE_HZ, seed=0)
    gyr_f, acc_f, mag_f, _ = synthetic_imu(10 * args.seconds, RATE_HZ, seed=0)

    t_base = best_time_s(lambda: baseline_madgwick(gyr_s, acc_s), args.repeat)
    base_rate = gyr_s.shape[0] / t_base
    rows = [["ahrs Madgwick, plain per-sample loop (baseline)", "6D", f"{base_rate:,.0f}", "1.00",
             fmt_duration(HOUR_4_SENSORS / base_rate), f"{t_base / gyr_s.shape[0] * 1e6:.0f}"]]
    for kind in FilterKind:
        for use_mag in (False, True):
            gyr, acc, mag = (gyr_f, acc_f, mag_f) if kind in FAST else (gyr_s, acc_s, mag_s)
            settings = FusionSettings.from_rate(RATE_HZ, use_magnetometer=use_mag)

            def run(kind=kind, settings=settings, gyr=gyr, acc=acc, mag=mag):
                make_filter(kind, settings).estimate(gyr, acc, mag)

            rate = gyr.shape[0] / best_time_s(run, args.repeat)
            cost = update_cost_us(kind, gyr, acc, mag, use_mag)
            rows.append([
                f"{kind.value} `estimate`", "9D" if use_mag else "6D", f"{rate:,.0f}", f"{rate / base_rate:.2f}",
                fmt_duration(HOUR_4_SENSORS / rate), "batch only" if cost is None else f"{cost:.1f}",
            ])
    print(f"Fusion speed, synthetic {RATE_HZ:g} Hz data, one core; {machine()}; {dt.date.today()}")
    print(f"slow filters on {args.seconds:g} s, VQF on {10 * args.seconds:g} s of data; best of {args.repeat}\n")
    print(markdown_table(
        ["filter and path", "mode", "samples/s", "× baseline", "1 h × 4 sensors @ 200 Hz", "update() µs/call"],
        rows,
    ))


if __name__ == "__main__":
    main()
