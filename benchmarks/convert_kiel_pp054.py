"""Convert subject pp054 of ``Vaibhavshahvr7/Joint-Angle-prediction`` into ``benchmarks/data/kiel_pp054/``.

Run once, on a checkout of that repository at commit d42104c06d4e8b536c1bf1ab557c183f9f99fb14
(MIT licence; data of the Kiel "Keep Control" full-body dataset, Warmerdam et al., Data 2022 7:136;
see ``benchmarks/data/kiel_pp054/README.md``)::

    .venv/bin/python benchmarks/convert_kiel_pp054.py /path/to/Joint-Angle-prediction

What it writes (and checks before writing):

- ``walk.csv``: ``data/pp054/imu/imu_walk_preferred.mat`` (200 Hz, 1146 samples), the sensors
  ``left_thigh``, ``right_thigh``, ``left_shank``, ``right_shank`` as a generic CSV
  (``docs/formats.md``): acc g → m/s² (× 9.80665), gyro °/s → rad/s, 9 significant digits (the
  source values are float32: 9 digits keep them to a relative 5e-10); ``t_s = frame / 200``.
- ``distal_shanks.csv``: the two distal shank sensors of the same walk (``left_ankle``,
  ``right_ankle`` in the source, low on the shank above the ankle), same columns, named as the
  shanks (``left_shank_acc_x`` …): with ``walk.csv``'s thighs they make the alternative session
  the biomechZoo cycle files were cut from (they call these sensors ``shankL``/``shankR``).
- ``cycles.csv``: the right-leg gait cycles of ``pp054_WT_01_cycle_{1,2}.zoo`` — first and last
  source frame (1-based, ``zoosystem.Video.Indx``), the 0-based sample indices into ``walk.csv``
  and their times. The script checks that the cycle files' thigh and distal-shank signals are the
  walk's low-passed the way their ``Processing`` log says (4th-order Butterworth 6 Hz, zero phase)
  at exactly these frames — i.e. that the walk is trial WT_01.
- ``optical.csv``: ``OMC_Angle_pp054.pkl``, right knee, hip and ankle angle (deg; flexion +, as in
  the source) per cycle at 0, 1, …, 100 % of the cycle. The pickle is read by an unpickler that
  admits only numpy's array reconstruction.
"""

from __future__ import annotations

import argparse
import importlib
import io
import pickle
from pathlib import Path

import numpy as np
import scipy.io
from scipy.signal import butter, filtfilt

from imugait.conventions import GRAVITY_MPS2

OUT = Path(__file__).resolve().parent / "data" / "kiel_pp054"
RATE_HZ = 200.0
LEG_SENSORS = {"left_thigh": "left_thigh", "right_thigh": "right_thigh", "left_shank": "left_shank",
               "right_shank": "right_shank"}
DISTAL_SHANKS = {"left_shank": "left_ankle", "right_shank": "right_ankle"}
ZOO_OF_SOURCE = {"thighR": "right_thigh", "thighL": "left_thigh", "shankR": "right_ankle", "shankL": "left_ankle"}
"""The cycle files' segments and the walk's sensor each one is (checked in :func:`check_cycle`)."""
N_CYCLES = 2


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Admits numpy's array reconstruction and nothing else (the pickle holds a dict of arrays)."""

    def find_class(self, module: str, name: str):
        if (module, name) in (("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer")):
            return importlib.import_module("numpy._core.numeric")._frombuffer
        if (module, name) == ("numpy", "dtype"):
            return np.dtype
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in OMC_Angle_pp054.pkl")


def read_walk(repo: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], float]:
    """Acceleration (g) and angular rate (°/s), (N, 3) per source sensor name, and the rate (Hz)."""
    d = scipy.io.loadmat(repo / "data/pp054/imu/imu_walk_preferred.mat", squeeze_me=True, struct_as_record=False)["data"]
    names = [str(n) for n in d.imu_location]
    acc = {n: np.asarray(d.acc[:, :, i], dtype=float) for i, n in enumerate(names)}
    gyr = {n: np.asarray(d.gyro[:, :, i], dtype=float) for i, n in enumerate(names)}
    return acc, gyr, float(d.fs)


def check_cycle(repo: Path, k: int, acc_g: dict, gyr_dps: dict, rate_hz: float) -> tuple[int, int]:
    """First and last source frame (1-based) of cycle ``k``; raises when its signals are not the walk's."""
    z = scipy.io.loadmat(repo / f"data/pp054/imu/pp054_WT_01_cycle_{k}.zoo", squeeze_me=True,
                         struct_as_record=False)["data"]
    frames = np.asarray(z.zoosystem.Video.Indx, dtype=int)
    if not np.array_equal(frames, np.arange(frames[0], frames[-1] + 1)):
        raise ValueError(f"cycle {k}: frames not contiguous")
    b, a = butter(4, 6.0 / (rate_hz / 2))
    for seg, source in ZOO_OF_SOURCE.items():
        for kind, values in (("Acc", acc_g), ("Gyr", gyr_dps)):
            filtered = filtfilt(b, a, values[source], axis=0)[frames - 1]
            zoo = np.column_stack([getattr(z, f"{seg}_{kind}_{c}").line for c in "XYZ"])
            err = np.max(np.abs(filtered - zoo)) / np.ptp(zoo)
            if err > 1e-6:
                raise ValueError(f"cycle {k}: {seg}_{kind} is not the walk's {source} low-passed (relative error {err:.2g})")
    return int(frames[0]), int(frames[-1])


def read_optical(repo: Path) -> dict[str, np.ndarray]:
    with open(repo / "OMC_Angle_pp054.pkl", "rb") as f:
        raw = _ArrayOnlyUnpickler(io.BytesIO(f.read())).load()["pp054"]
    return {joint: np.asarray(raw[joint], dtype=float).reshape(N_CYCLES, 101) for joint in ("knee", "hip", "ankle")}


def _write_walk(path: Path, acc_g: dict, gyr_dps: dict, sensors: dict[str, str], rate_hz: float) -> None:
    n = next(iter(acc_g.values())).shape[0]
    columns, header = [np.arange(n) / rate_hz], ["t_s"]
    for placement, source in sensors.items():
        columns += [acc_g[source] * GRAVITY_MPS2, np.deg2rad(gyr_dps[source])]
        header += [f"{placement}_acc_{c}" for c in "xyz"] + [f"{placement}_gyr_{c}" for c in "xyz"]
    np.savetxt(path, np.column_stack(columns), fmt="%.9g", delimiter=",", header=",".join(header), comments="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repo", type=Path, help="checkout of Vaibhavshahvr7/Joint-Angle-prediction at d42104c")
    args = parser.parse_args()
    acc_g, gyr_dps, rate_hz = read_walk(args.repo)
    if rate_hz != RATE_HZ:
        raise ValueError(f"expected {RATE_HZ} Hz, the file says {rate_hz}")
    OUT.mkdir(parents=True, exist_ok=True)
    _write_walk(OUT / "walk.csv", acc_g, gyr_dps, LEG_SENSORS, rate_hz)
    _write_walk(OUT / "distal_shanks.csv", acc_g, gyr_dps, DISTAL_SHANKS, rate_hz)
    rows = ["cycle,first_frame,last_frame,first_index,last_index,t_first_s,t_last_s"]
    for k in range(1, N_CYCLES + 1):
        first, last = check_cycle(args.repo, k, acc_g, gyr_dps, rate_hz)
        rows.append(f"{k},{first},{last},{first - 1},{last - 1},{(first - 1) / rate_hz:.3f},{(last - 1) / rate_hz:.3f}")
    (OUT / "cycles.csv").write_text("\n".join(rows) + "\n")
    optical = read_optical(args.repo)
    lines = ["cycle,cycle_pct,knee_flexion_deg,hip_flexion_deg,ankle_angle_deg"]
    for k in range(N_CYCLES):
        for pct in range(101):
            lines.append(f"{k + 1},{pct}," + ",".join(repr(float(optical[j][k, pct])) for j in ("knee", "hip", "ankle")))
    (OUT / "optical.csv").write_text("\n".join(lines) + "\n")
    for p in sorted(OUT.glob("*.csv")):
        print(f"{p.name}: {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
