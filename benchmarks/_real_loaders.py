"""Readers for the public datasets in ``../shared/datasets`` used by ``benchmarks/real_data.py``.

Each returns imugait objects (a :class:`~imugait.model.Session`) or plain arrays; vendor units are
converted here, at the edge (``docs/conventions.md``). Formats: ``../shared/datasets/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from imugait.conventions import Placement
from imugait.errors import ValidationError
from imugait.io import read_xsens_dir
from imugait.model import DeviceInfo, ImuStream, ProtocolStep, Session, SessionMeta

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

HUGADB_RATE_HZ = 58.8
HUGADB_ACC_MPS2_PER_COUNT = 9.81 / 16384.0
"""±2 g over int16 (dataset README: ``·9.81/16384``)."""
HUGADB_GYR_RADPS_PER_COUNT = np.deg2rad(2000.0 / 32768.0)
HUGADB_SENSORS = {  # first column of each sensor's acc xyz, gyr xyz block (read by position)
    Placement.RIGHT_SHANK: 6, Placement.RIGHT_THIGH: 12, Placement.LEFT_SHANK: 24, Placement.LEFT_THIGH: 30,
}
_HUGADB_LEG_SENSORS = frozenset(HUGADB_SENSORS)
HUGADB_CORRUPTED_GYRO: dict[str, frozenset[Placement]] = {
    "HuGaDB_v1_walking_03_00": frozenset({Placement.RIGHT_SHANK, Placement.RIGHT_THIGH}),
    "HuGaDB_v1_walking_03_01": frozenset({Placement.RIGHT_SHANK, Placement.RIGHT_THIGH}),
    "HuGaDB_v1_walking_04_00": _HUGADB_LEG_SENSORS,
    "HuGaDB_v1_walking_05_00": frozenset({Placement.RIGHT_SHANK}),
    "HuGaDB_v1_walking_14_00": _HUGADB_LEG_SENSORS,
    "HuGaDB_v1_walking_15_00": _HUGADB_LEG_SENSORS,
    "HuGaDB_v1_walking_16_00": _HUGADB_LEG_SENSORS,
    "HuGaDB_v1_walking_17_00": _HUGADB_LEG_SENSORS,
    "HuGaDB_v1_walking_17_02": _HUGADB_LEG_SENSORS,
    "HuGaDB_v1_walking_18_03": frozenset({Placement.RIGHT_SHANK, Placement.LEFT_SHANK, Placement.LEFT_THIGH}),
}
"""Thigh and shank gyroscopes the dataset's maintainers list as corrupted ("some gyroscope data
was amplified 10 times which led to clipping": README of github.com/romanchereshnev/HuGaDB,
section "Corrupted gyroscope data", table of walking files; files not in the table are OK). The
raw data agree: these gyroscopes have a median |rate| of 14–24 rad/s (the others 1.9–3.7 rad/s),
all but one reach int16 full scale (up to 25 % of the samples), and no other leg gyroscope does. Their data cannot be repaired (the peaks are lost), so a leg with one of them is
left out."""

QMT_SEGMENTS = {
    Placement.LEFT_THIGH: "upper_leg_left", Placement.LEFT_SHANK: "lower_leg_left",
    Placement.RIGHT_THIGH: "upper_leg_right", Placement.RIGHT_SHANK: "lower_leg_right",
}
QMT_STEPS = (("stand", 40.0, 44.0), ("sit", 52.0, 79.0), ("walk_1", 95.0, 115.0), ("walk_2", 116.0, 138.5))
"""Periods documented in ``../shared/datasets/README.md`` (s on the file's clock)."""


@dataclass(frozen=True, eq=False)
class HingeTrial:
    """A dfjimu trial: two IMUs on a mechanical joint and the optical orientation of each.

    ``acc*_mps2``, ``gyr*_radps`` (N, 3) sensor frames; ``q_ref1``, ``q_ref2`` (N, 4) scalar-first
    optical orientations of the two marker bodies (frames not aligned with the sensors).
    """

    name: str
    rate_hz: float
    acc1_mps2: np.ndarray
    gyr1_radps: np.ndarray
    acc2_mps2: np.ndarray
    gyr2_radps: np.ndarray
    q_ref1: np.ndarray
    q_ref2: np.ndarray


def dfjimu_paths(pattern: str = "data_1D_*.mat") -> list[Path]:
    return sorted((DATASETS / "dfjimu").glob(pattern))


def load_dfjimu(path: Path) -> HingeTrial:
    d = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)["data"]
    s = np.asarray(d.sensorData, dtype=float)
    ref = np.asarray(d.ref, dtype=float)
    return HingeTrial(path.stem, float(d.rate), s[:, 0:3], s[:, 3:6], s[:, 6:9], s[:, 9:12], ref[:, 0:4], ref[:, 4:8])


def hugadb_paths() -> list[Path]:
    return sorted((DATASETS / "hugadb_walking").glob("*.txt"))


def _numeric_rows(path: Path) -> np.ndarray:
    rows = []
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        try:
            rows.append([float(x) for x in fields if x.strip() != ""])
        except ValueError:
            continue  # the '#' header lines and the column-name line (two spellings exist)
    width = max(len(r) for r in rows)
    return np.array([r for r in rows if len(r) == width])


def hugadb_sound_sensors(path: Path) -> list[Placement]:
    """The thigh and shank sensors of a HuGaDB file on legs whose two gyroscopes are both sound
    (not listed as corrupted): a lone sensor of a leg is of no use to the analysis."""
    corrupted = HUGADB_CORRUPTED_GYRO.get(path.stem, frozenset())
    sound_legs = {p.side for p in HUGADB_SENSORS} - {p.side for p in corrupted}
    return [p for p in HUGADB_SENSORS if p.side in sound_legs]


def load_hugadb(path: Path) -> tuple[Session, np.ndarray]:
    """A HuGaDB walking file as a session of the thighs and shanks whose gyroscopes are sound
    (:data:`HUGADB_CORRUPTED_GYRO`), and the raw int16 counts (N, 24) of all four (to count clipped
    samples independently of imugait).

    Raises ``ValidationError`` when no leg has two sound gyroscopes.
    """
    if not hugadb_sound_sensors(path):
        raise ValidationError(f"{path.stem}: no leg with both thigh and shank gyroscopes sound (maintainers' list)")
    raw = _numeric_rows(path)
    t = np.arange(raw.shape[0]) / HUGADB_RATE_HZ
    device = DeviceInfo(model="HuGaDB MPU-6050", protocol="hugadb-txt",
                        acc_range_mps2=2.0 * 9.81, gyr_range_radps=float(np.deg2rad(2000.0)))
    streams = [
        ImuStream(placement=p, t_s=t, acc_mps2=raw[:, c:c + 3] * HUGADB_ACC_MPS2_PER_COUNT,
                  gyr_radps=raw[:, c + 3:c + 6] * HUGADB_GYR_RADPS_PER_COUNT, sample_rate_hz=HUGADB_RATE_HZ,
                  device=DeviceInfo(**{**device.__dict__, "device_id": f"hugadb-{p.value}"}))
        for p, c in HUGADB_SENSORS.items() if p in hugadb_sound_sensors(path)
    ]
    meta = SessionMeta(subject_id=path.stem, recorded_at="2017-01-01T00:00:00+00:00", source="import:hugadb")
    return Session(streams, meta), np.hstack([raw[:, c:c + 6] for c in HUGADB_SENSORS.values()])


def load_qmt() -> Session:
    path = DATASETS / "qmt_full_body" / "full_body_example_data.mat"
    m = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False)
    t = np.asarray(m["t"], dtype=float)
    streams = [
        ImuStream(placement=p, t_s=t, acc_mps2=np.asarray(m[name].acc, float), gyr_radps=np.asarray(m[name].gyr, float),
                  sample_rate_hz=100.0, device=DeviceInfo(device_id=f"qmt-{name}", model="qmt example"))
        for p, name in QMT_SEGMENTS.items()
    ]
    steps = tuple(ProtocolStep(n, a, b) for n, a, b in QMT_STEPS)
    meta = SessionMeta(subject_id="qmt-example", recorded_at="2021-01-01T00:00:00+00:00", steps=steps,
                       source="import:qmt-mat")
    return Session(streams, meta)


def load_skinematics(side_thigh: Placement = Placement.RIGHT_THIGH, side_shank: Placement = Placement.RIGHT_SHANK) -> Session:
    """The scikit-kinematics Xsens leg recording (which leg is undocumented: the caller chooses)."""
    folder = DATASETS / "skinematics_xsens_leg"
    return read_xsens_dir(folder, {side_thigh: "walking_xsens_upperLeg", side_shank: "walking_xsens_lowerLeg"},
                          subject_id="skinematics-leg")


def raw_clipped_fraction(raw_counts: np.ndarray) -> float:
    """Fraction of samples with any int16 channel at full scale."""
    return float(np.mean(np.any(np.abs(raw_counts) >= 32767, axis=1)))

