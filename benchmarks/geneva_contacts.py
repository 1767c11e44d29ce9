"""The Geneva walks' initial contacts against their force plates: which reference, which clock.

Part (d) of ``benchmarks/real_data.py`` compares the pipeline's initial contacts with the markers'
heel strikes of ``cycles.csv`` (Zeni et al. 2008, by the converter): +34 ms late in the median.
The dataset's c3d files also hold three force plates (AMTI, 1000 Hz, on the cameras' clock: the
analog samples start with the first marker frame) in the middle of the walkway: a foot that lands
on one with its heel gives a contact that no marker rule defines. This script

1. (``--source``, once) reads the c3d files and the synchronised CSV files of the dataset (GitHub
   ``ThomasAston/movetru`` @ f65a0d8, ``data/raw/mocap`` and ``data/synchronised``: the source the
   converter reads, ``benchmarks/data/grouvel_2023/README.md``) and writes into
   ``benchmarks/data/grouvel_2023``:

   - ``contacts.csv``: per clean force-plate strike (the vertical force below 20 N for 100 ms, then
     above it for 200 ms reaching 200 N; the heel marker of exactly one foot over the plate
     and below 12 cm 30 ms after the onset) the onset at 10, 20 (``force_plate_s``) and 50 N
     (linear between the 1-ms samples), and the heel strike by the marker rules below — every time
     in s on the IMU clock of the converted files (marker time − ``sync.csv``'s offset);
   - ``sensor_clocks.csv``: per trial and sensor (thighs, shanks and the feet, whose IMU the
     converter does not keep) the clock offset at which that sensor's gyroscope alone best matches
     its cluster's angular rate (the converter's residual, 0.5-ms grid, parabola at the minimum),
     and the offset less the pooled one of ``sync.csv`` (ms).

2. (always) runs ``analyze_session`` on the converted walks as part (d) does and prints how far
   each marker rule and the pipeline's contacts lie from the force plates' contacts, with the
   converter's pooled clock offset and with the shank's own (the dip is the shank sensor's).

Reproduce (from the repository root)::

    git clone https://github.com/ThomasAston/movetru && git -C movetru checkout f65a0d8
    .venv/bin/python benchmarks/geneva_contacts.py --source movetru/data    # writes the two files, ≈ 1 min CPU
    .venv/bin/python benchmarks/geneva_contacts.py                          # reads them, ≈ 10 s CPU
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import machine, markdown_table
from _real_loaders import (
    GROUVEL_2023,
    SensorClock,
    grouvel_sensor_clocks_ms,
    grouvel_trials,
    load_grouvel,
)

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.conventions import Side

PLATE_THRESHOLDS_N = (10.0, 20.0, 50.0)
"""Force-plate onsets written; 20 N is the contact (Zeni et al. 2008 took 20 N too)."""
MATCH_S = 0.15
"""An event is paired with a plate's contact only this close."""
CLOCK_SENSORS = {"left_thigh": "LT", "left_shank": "LS", "right_thigh": "RT", "right_shank": "RS",
                 "left_foot": "LF", "right_foot": "RF"}
MARKER_RULES = {
    "zeni_s": "Zeni, the converter's (cycles.csv): the heel marker's largest lead on the pelvis centre",
    "zeni_dataset_s": "Zeni, the dataset's own events in the c3d (checked by hand by its authors)",
    "heel_lowest_s": "the heel marker at its lowest (within 250 ms before to 150 ms after the plate's contact)",
    "heel_within_10mm_s": "the heel marker first within 10 mm of its height over the next 300 ms of stance",
    "heel_braked_s": "the heel marker's largest upward acceleration (its descent stopped)",
    "toe_fastest_down_s": "the toe marker's fastest descent",
}


def _onset_s(fz_n: np.ndarray, i0: int, threshold_n: float, rate_hz: float) -> float:
    """The rising crossing of ``threshold_n`` of the loading that is above 20 N from sample ``i0``:
    back from ``i0`` while above it, forward while not (s, linear between the samples)."""
    i = i0
    while i > 0 and fz_n[i - 1] > threshold_n:
        i -= 1
    while i > 0 and fz_n[i] <= threshold_n:
        i += 1
    return (i - 1 + (threshold_n - fz_n[i - 1]) / (fz_n[i] - fz_n[i - 1])) / rate_hz


def plate_strikes(c: dict, d: pd.DataFrame) -> list[dict]:
    """Clean heel strikes on the force plates of one walk (``c``: its c3d as ``ezc3d`` reads it;
    marker clock, s): plate, side, onsets."""
    from convert_grouvel_2023 import _marker

    p = c["parameters"]
    analog = c["data"]["analogs"][0]
    rate_hz = float(p["ANALOG"]["RATE"]["value"][0])
    corners_m = np.asarray(p["FORCE_PLATFORM"]["CORNERS"]["value"]) / 1000.0  # (xyz, corner, plate)
    channels = np.asarray(p["FORCE_PLATFORM"]["CHANNEL"]["value"])  # (6, plate), 1-based, Fz third
    heels = {side: _marker(d, f"{s}HEE") for side, s in ((Side.LEFT, "L"), (Side.RIGHT, "R"))}
    out = []
    before, after = int(0.1 * rate_hz), int(0.2 * rate_hz)
    for k in range(channels.shape[1]):
        fz_n = -analog[channels[2, k] - 1]  # the plate's Fz is negative under load
        # The plates' small offsets (the dataset's zeroing left a few N), from 100 ms unloaded at
        # the start or else at the end; a plate loaded at both is left out.
        zero_n = next((float(np.median(x)) for x in (fz_n[:before], fz_n[-before:]) if abs(np.median(x)) < 50.0), None)
        if zero_n is None:
            continue
        fz_n = fz_n - zero_n
        above = fz_n > 20.0
        for i0 in np.flatnonzero(above[1:] & ~above[:-1]) + 1:
            if i0 < before or above[i0 - before:i0].any() or not above[i0:i0 + after].all() \
                    or fz_n[i0:i0 + int(0.3 * rate_hz)].max() < 200.0:
                continue
            onset_s = _onset_s(fz_n, i0, 20.0, rate_hz)
            frame = min(int(round(onset_s * 100.0)) + 3, len(d) - 1)
            x, y = corners_m[0, :, k], corners_m[1, :, k]
            on = [side for side, h in heels.items() if x.min() - 0.02 <= h[frame, 0] <= x.max() + 0.02
                  and y.min() - 0.02 <= h[frame, 1] <= y.max() + 0.02 and h[frame, 2] < 0.12]
            if len(on) != 1:
                continue
            # The foot off the plate: the force back below 20 N (linear between samples), the
            # foot's toe marker still over the plate then (the whole stance on this plate).
            end = i0 + np.flatnonzero(~above[i0:])[:1]
            off_s = np.nan
            if end.size and end[0] < len(fz_n):
                i1 = int(end[0])
                toe = _marker(d, f"{on[0].value[0].upper()}TOE")[min(int(round(i1 / rate_hz * 100.0)), len(d) - 1)]
                if x.min() - 0.02 <= toe[0] <= x.max() + 0.02 and y.min() - 0.02 <= toe[1] <= y.max() + 0.02:
                    off_s = (i1 - 1 + (fz_n[i1 - 1] - 20.0) / (fz_n[i1 - 1] - fz_n[i1])) / rate_hz
            out.append({"plate": k + 1, "side": on[0].value, "foot_off_s": off_s,
                        **{f"force_plate_{t:.0f}n_s": _onset_s(fz_n, i0, t, rate_hz) for t in PLATE_THRESHOLDS_N}})
    return out


def marker_events(d: pd.DataFrame, side: Side, contact_s: float, zeni_frames: np.ndarray,
                  dataset_s: np.ndarray) -> dict[str, float]:
    """The heel strike nearest ``contact_s`` (marker clock, s) by each of ``MARKER_RULES``."""
    from convert_grouvel_2023 import MARKER_RATE_HZ, _marker

    s = side.value[0].upper()
    t = np.arange(len(d)) / MARKER_RATE_HZ
    heel, toe = _marker(d, f"{s}HEE"), _marker(d, f"{s}TOE")
    win = np.flatnonzero((t > contact_s - 0.25) & (t < contact_s + 0.15))
    stance = np.flatnonzero((t > contact_s) & (t < contact_s + 0.3))
    near = win[heel[win, 2] < np.nanmin(heel[stance, 2]) + 0.010]

    def nearest(times: np.ndarray) -> float:
        return float(times[np.argmin(np.abs(times - contact_s))]) if times.size else np.nan

    return {"zeni_s": nearest(zeni_frames / MARKER_RATE_HZ), "zeni_dataset_s": nearest(dataset_s),
            "heel_lowest_s": t[win[np.nanargmin(heel[win, 2])]],
            "heel_within_10mm_s": t[near[0]] if near.size else np.nan,
            "heel_braked_s": t[win[np.nanargmax(np.gradient(np.gradient(heel[:, 2]))[win])]],
            "toe_fastest_down_s": t[win[np.nanargmin(np.gradient(toe[:, 2])[win])]]}


def sensor_clocks(d: pd.DataFrame, pooled_s: float) -> list[dict]:
    """Each sensor's own clock offset (marker time = IMU time + offset) near the pooled one."""
    from convert_grouvel_2023 import _cluster_rate, _residual

    tau = d["x_Time"].to_numpy(float) - float(d["x_Time"].iloc[0])
    grid = np.arange(pooled_s - 0.06, pooled_s + 0.06 + 1e-9, 0.0005)
    out = []
    for sensor, s in CLOCK_SENSORS.items():
        if f"P6_{s}_gyro_x" not in d or f"{s}1_x" not in d:
            continue
        rate = _cluster_rate(d, s)[1]
        gyr = np.deg2rad(d[[f"P6_{s}_gyro_{a}" for a in "xyz"]].to_numpy(float))
        res = np.array([_residual(rate, gyr, tau, o)[0] for o in grid])
        k = int(np.argmin(res))
        frac = 0.0
        if 0 < k < len(grid) - 1:
            y0, y1, y2 = res[k - 1:k + 2]
            frac = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
        out.append({"sensor": sensor, "offset_s": round(float(grid[k] + frac * 0.0005), 5),
                    "minus_pooled_ms": round(float((grid[k] + frac * 0.0005 - pooled_s) * 1e3), 2),
                    "residual": round(float(res[k]), 3), "at_grid_edge": k in (0, len(grid) - 1)})
    return out


def write_from_source(source: Path) -> None:
    """``contacts.csv`` and ``sensor_clocks.csv`` from the dataset's c3d and synchronised files."""
    from convert_grouvel_2023 import heel_strikes

    sync = pd.read_csv(GROUVEL_2023 / "sync.csv").set_index("trial")
    contacts, clocks = [], []
    import ezc3d

    for trial in grouvel_trials():
        d = pd.read_csv(source / "synchronised" / f"{trial}.csv")
        c = ezc3d.c3d(str(source / "raw" / "mocap" / f"{trial}.c3d"))
        offset_s = float(sync.loc[trial, "offset_s"])
        zeni = heel_strikes(d, float(sync.loc[trial, "heading_rad"]))
        ev = c["parameters"]["EVENT"]
        for strike in plate_strikes(c, d):
            side = Side(strike["side"])
            context = side.value.capitalize()
            dataset_s = np.array([t for t, label, ctx in zip(np.asarray(ev["TIMES"]["value"])[1], ev["LABELS"]["value"],
                                                              ev["CONTEXTS"]["value"], strict=True)
                                  if label == "Foot Strike" and ctx == context])
            rules = marker_events(d, side, strike["force_plate_20n_s"], zeni[side], dataset_s)
            row = {"trial": trial, "side": side.value, "plate": strike["plate"],
                   "force_plate_s": strike.pop("force_plate_20n_s")} | strike | rules
            contacts.append({k: round(v - offset_s, 4) if k.endswith("_s") else v for k, v in row.items()})
        clocks += [{"trial": trial, **c} for c in sensor_clocks(d, offset_s)]
        print(trial, len(contacts), flush=True)
    pd.DataFrame(contacts).to_csv(GROUVEL_2023 / "contacts.csv", index=False)
    pd.DataFrame(clocks).to_csv(GROUVEL_2023 / "sensor_clocks.csv", index=False)


def plate_contact_errors_ms(trial: str, side: Side, contacts_s: np.ndarray,
                            clock: SensorClock = SensorClock.POOLED) -> list[dict]:
    """The pipeline's initial contacts (``contacts_s``: s, found on the walk loaded with its sensors
    on ``clock``, ``load_grouvel(trial, clock)``) against that leg's force-plate contacts
    (``contacts.csv``): per strike, the nearest contact less the plate's (ms, + later) on the
    converter's pooled clock and on the shank's own."""
    plates = pd.read_csv(GROUVEL_2023 / "contacts.csv")
    plates = plates[(plates["trial"] == trial) & (plates["side"] == side.value)]
    contacts_s = contacts_s[np.isfinite(contacts_s)]
    shank = f"{side.value}_shank"
    own_ms = grouvel_sensor_clocks_ms(trial).get(shank, np.nan)
    read_ms = grouvel_sensor_clocks_ms(trial, clock).get(shank, 0.0 if clock is SensorClock.POOLED else np.nan)
    out = []
    for plate_s in plates["force_plate_s"]:
        if not contacts_s.size:
            continue
        nearest_ms = float(contacts_s[np.argmin(np.abs(contacts_s - plate_s))] - plate_s) * 1e3
        if abs(nearest_ms) <= 1e3 * MATCH_S:
            out.append({"pooled_ms": nearest_ms - read_ms, "own_clock_ms": nearest_ms - read_ms + own_ms})
    return out


def plate_toe_off_errors_ms(trial: str, side: Side, toe_offs_s: np.ndarray) -> list[float]:
    """The pipeline's toe-offs (IMU clock of the converted walk, s) against that leg's force-plate
    foot-offs (``contacts.csv``, the whole stance on one plate): per foot-off, the nearest toe-off
    less it (ms, + later), on the converter's pooled clock (the toe-off is found on the thigh's
    and the shank's rates, whose own clocks differ)."""
    plates = pd.read_csv(GROUVEL_2023 / "contacts.csv")
    offs = plates[(plates["trial"] == trial) & (plates["side"] == side.value)]["foot_off_s"].dropna()
    toe_offs_s = toe_offs_s[np.isfinite(toe_offs_s)]
    errors = [float(toe_offs_s[np.argmin(np.abs(toe_offs_s - t))] - t) * 1e3 for t in offs] if toe_offs_s.size else []
    return [e for e in errors if abs(e) <= 1e3 * MATCH_S]


def _row(name: str, d: pd.Series) -> list[str]:
    d = d.dropna()
    d = d[d.abs() <= 1e3 * MATCH_S]
    return [name, str(len(d)), f"{d.median():+.1f}", f"{d.quantile(0.25):+.1f} … {d.quantile(0.75):+.1f}",
            f"{d.mean():+.1f} ± {d.std():.1f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=None,
                        help="the movetru checkout's data folder (raw/mocap/*.c3d, synchronised/*.csv): write the two files first")
    args = parser.parse_args()
    cpu0 = time.process_time()
    if args.source is not None:
        write_from_source(args.source)
    plates = pd.read_csv(GROUVEL_2023 / "contacts.csv")
    clocks = pd.read_csv(GROUVEL_2023 / "sensor_clocks.csv")
    pipeline, toe_offs = [], []
    for trial in grouvel_trials():
        walks = load_grouvel(trial)
        result = analyze_session(walks[0].session, AnalysisConfig())
        for walk in walks:
            events = result.legs[walk.side].events
            pipeline += plate_contact_errors_ms(trial, walk.side, events.initial_contact_s)
            toe_offs += plate_toe_off_errors_ms(trial, walk.side, events.toe_off_s)
    cpu = time.process_time() - cpu0
    ms = {rule: (plates[rule] - plates["force_plate_s"]) * 1e3 for rule in MARKER_RULES}
    print(f"Geneva walks: {len(plates)} clean heel strikes on the force plates ({plates['trial'].nunique()} walks, "
          f"{plates['trial'].str[:3].nunique()} people); each event less the plate's 20-N onset, ms (+ later). "
          f"{machine()}; CPU {cpu:.1f} s.\n")
    headers = ["event", "strikes", "median", "IQR", "mean ± SD"]
    rows = [_row(text, ms[rule]) for rule, text in MARKER_RULES.items()]
    for t in (10, 50):
        rows.append(_row(f"the plate's onset at {t} N", (plates[f"force_plate_{t}n_s"] - plates["force_plate_s"]) * 1e3))
    p = pd.DataFrame(pipeline)
    rows.append(_row("the pipeline's initial contact, the converter's pooled clock offset", p["pooled_ms"]))
    rows.append(_row("the pipeline's initial contact, the shank sensor's own clock offset", p["own_clock_ms"]))
    rows.append(_row("the pipeline's toe-off less the plate's foot-off (force below 20 N), the pooled clock",
                     pd.Series(toe_offs, dtype=float)))
    print(markdown_table(headers, rows, align="lrrrr"))
    print("\nEach sensor's own clock offset less the converter's pooled one (ms; + = the sensor's samples "
          "belong later on the markers' clock), over the walks where its residual is at most 0.35:\n")
    ok = clocks[(clocks["residual"] <= 0.35) & ~clocks["at_grid_edge"]]
    print(markdown_table(["sensor", "walks", "median", "IQR", "mean ± SD"],
                         [_row(s, g["minus_pooled_ms"]) for s, g in ok.groupby("sensor")], align="lrrrr"))


if __name__ == "__main__":
    main()
