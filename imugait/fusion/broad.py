"""Reader for BROAD trials (Laidig et al. 2021, CC BY 4.0), used by the real-data fusion test and
``benchmarks/fusion_broad.py``. The files live outside the repository, in
``../shared/datasets/broad/`` next to the repository root; they are never copied in.

A trial is one IMU on a rigid body with optical ground truth: ``imu_gyr`` rad/s, ``imu_acc``
m/s², ``imu_mag`` µT (sensor frame), ``opt_quat`` scalar first in ENU (NaN where optical tracking
was lost), a ``movement`` mask of the samples errors are computed on, and the attribute
``sampling_rate`` (Hz).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imugait._optional import require
from imugait.errors import FormatError

REPO_ROOT = Path(__file__).resolve().parents[2]
BROAD_DIR = REPO_ROOT.parent / "shared" / "datasets" / "broad"
"""Where the BROAD trials are expected: ``<repo>/../shared/datasets/broad``."""

BROAD_TRIAL_COUNT = 39
"""Trials in the full benchmark (``trials.json`` lists them all)."""


@dataclass(frozen=True)
class BroadTrial:
    """One BROAD trial (or a time slice of it).

    Attributes
    ----------
    name : trial name, e.g. ``02_undisturbed_slow_rotation_B``.
    rate_hz : sampling rate, Hz (285.71 for all BROAD trials).
    gyr_radps, acc_mps2, mag_uT : (N, 3) sensor frame.
    q_ref : (N, 4) optical orientation of the IMU, scalar first, ENU; NaN where lost.
    movement : (N,) bool — samples the benchmark's errors are computed on.
    """

    name: str
    rate_hz: float
    gyr_radps: np.ndarray
    acc_mps2: np.ndarray
    mag_uT: np.ndarray
    q_ref: np.ndarray
    movement: np.ndarray

    @property
    def duration_s(self) -> float:
        return self.gyr_radps.shape[0] / self.rate_hz


def broad_trial_paths(directory: Path = BROAD_DIR) -> list[Path]:
    """The ``*.hdf5`` trials present in ``directory``, sorted by name (empty if it is absent)."""
    return sorted(Path(directory).glob("*.hdf5"))


def load_broad_trial(path: Path, t_start_s: float = 0.0, t_end_s: float | None = None) -> BroadTrial:
    """Read one trial, optionally only the samples with ``t_start_s <= t < t_end_s`` (t = 0 at
    the first sample)."""
    h5py = require("h5py", "hdf5", "reading BROAD trials")
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            rate_hz = float(f.attrs["sampling_rate"])
            i0 = int(round(t_start_s * rate_hz))
            i1 = None if t_end_s is None else int(round(t_end_s * rate_hz))
            sl = slice(i0, i1)
            arrays = {k: np.asarray(f[k][sl]) for k in ("imu_gyr", "imu_acc", "imu_mag", "opt_quat", "movement")}
    except (OSError, KeyError) as exc:
        raise FormatError(f"{path}: not a readable BROAD trial ({exc})") from None
    return BroadTrial(
        name=path.stem,
        rate_hz=rate_hz,
        gyr_radps=np.ascontiguousarray(arrays["imu_gyr"], dtype=np.float64),
        acc_mps2=np.ascontiguousarray(arrays["imu_acc"], dtype=np.float64),
        mag_uT=np.ascontiguousarray(arrays["imu_mag"], dtype=np.float64),
        q_ref=np.asarray(arrays["opt_quat"], dtype=np.float64),
        movement=np.asarray(arrays["movement"], dtype=bool),
    )
