"""Readers for the public datasets in ``../shared/datasets`` used by ``benchmarks/real_data.py``,
and for the walks with an optical reference committed in ``benchmarks/data/kiel_pp054`` and
``benchmarks/data/grouvel_2023``.

Each returns imugait objects (a :class:`~imugait.model.Session`) or plain arrays. The walking
recordings are read by the library's importers (``imugait.io``: HuGaDB, qmt, Xsens, MPU-9250);
what is chosen here is only what the benchmark needs of them (which sensors, which documented
periods). Formats: ``docs/formats.md`` and ``../shared/datasets/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from imugait.conventions import Placement, Segment, Side
from imugait.gait.cycles import N_NORMALISED, time_normalise
from imugait.io import (
    iter_mpu9250_walks,
    read_csv_session,
    read_hugadb,
    read_hugadb_file,
    read_qmt_mat,
    read_xsens_dir,
)
from imugait.io.hugadb import hugadb_corrupted_gyros
from imugait.model import GyroSampling, ProtocolStep, Session

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
KIEL_PP054 = Path(__file__).resolve().parent / "data" / "kiel_pp054"
"""One real walk with an optical right-knee reference (source, licence: its README.md)."""
GROUVEL_2023 = Path(__file__).resolve().parent / "data" / "grouvel_2023"
"""Comfortable-speed walks of 9 people with marker-based knee and hip angles (source, licence,
conversion: its README.md)."""

MPU9250_ZIP = DATASETS / "gait_rehab_mpu9250" / "Healthy_Adults-gait_activity.zip"
HUGADB_LEG_SENSORS: dict[Placement, str] = {
    Placement.RIGHT_SHANK: "RS", Placement.RIGHT_THIGH: "RT", Placement.LEFT_SHANK: "LS", Placement.LEFT_THIGH: "LT",
}
"""The thigh and shank sensors of a HuGaDB file (the documented layout, ``HUGADB_DEFAULT_MAP``)."""
QMT_SEGMENTS = {
    Placement.LEFT_THIGH: "upper_leg_left", Placement.LEFT_SHANK: "lower_leg_left",
    Placement.RIGHT_THIGH: "upper_leg_right", Placement.RIGHT_SHANK: "lower_leg_right",
}
"""Thighs and shanks only (the library's default adds the pelvis, which the analysis would use)."""
QMT_STEPS = (("stand", 40.0, 44.0), ("sit", 52.0, 79.0), ("walk_1", 95.0, 115.0), ("walk_2", 116.0, 138.5))
"""Periods documented in ``../shared/datasets/README.md`` for this file only (s on its clock)."""


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


def hugadb_corrupted_legs(path: Path) -> list[Placement]:
    """Thigh and shank sensors of ``path`` whose gyroscope the maintainers list as corrupted
    (``imugait.io.hugadb.HUGADB_CORRUPTED_GYRO``)."""
    listed = hugadb_corrupted_gyros(path)
    return [p for p, code in HUGADB_LEG_SENSORS.items() if code in listed]


def load_hugadb(path: Path) -> tuple[Session, np.ndarray]:
    """A HuGaDB walking file as a session of the thighs and shanks on legs whose gyroscopes are
    both sound (``read_hugadb(..., corrupted_gyro="drop_leg")``: a lone sensor of a leg is of no use
    to the analysis), and the raw int16 counts (N, 24) of all four (to count clipped samples
    independently of imugait).

    Raises ``ValidationError`` when no leg has two sound gyroscopes.
    """
    f = read_hugadb_file(path)
    session = read_hugadb(f, HUGADB_LEG_SENSORS, subject_id=path.stem, corrupted_gyro="drop_leg")
    return session, np.hstack([f.raw(code) for code in HUGADB_LEG_SENSORS.values()])


def load_qmt() -> Session:
    path = DATASETS / "qmt_full_body" / "full_body_example_data.mat"
    return read_qmt_mat(path, QMT_SEGMENTS, subject_id="qmt-example",
                        steps=[ProtocolStep(n, a, b) for n, a, b in QMT_STEPS])


def mpu9250_walks() -> Iterator[tuple[str, Session]]:
    """Every walk of the MPU-9250 dataset as ``(walk id, session)`` (thigh + shank of one leg,
    ``NO.1/left/IMU_10`` …), nothing when the zip is absent. 66 walks: the file names pair 65, but
    in NO.8 left the shank files are numbered one higher than their thighs', so one of those 65
    pairs two different walks and two files have no partner; the importer pairs them as
    ``imugait.io.mpu9250_walks.MPU9250_SHANK_FILE_FIXES`` says. The walks start without a
    standing-still period."""
    if not MPU9250_ZIP.is_file():
        return
    for walk, session in iter_mpu9250_walks(MPU9250_ZIP):
        yield walk.walk_id, session


def load_skinematics(side_thigh: Placement = Placement.RIGHT_THIGH, side_shank: Placement = Placement.RIGHT_SHANK) -> Session:
    """The scikit-kinematics Xsens leg recording (which leg is undocumented: the caller chooses)."""
    folder = DATASETS / "skinematics_xsens_leg"
    return read_xsens_dir(folder, {side_thigh: "walking_xsens_upperLeg", side_shank: "walking_xsens_lowerLeg"},
                          subject_id="skinematics-leg")


def raw_clipped_fraction(raw_counts: np.ndarray) -> float:
    """Fraction of samples with any int16 channel at full scale."""
    return float(np.mean(np.any(np.abs(raw_counts) >= 32767, axis=1)))



@dataclass(frozen=True, eq=False)
class OpticalWalk:
    """A walk with a marker-based reference of some angles over some gait cycles of one leg.

    ``session``: the IMU recording. ``cycles``: one row per reference cycle — ``cycle`` (1, 2 …),
    ``t_first_s``, ``t_last_s`` (s on the session clock: the heel strikes that open and close it),
    ``first_index``, ``last_index`` (0-based samples). ``reference``: long table ``cycle``,
    ``cycle_pct`` (0 … 100, 101 points per cycle, time-normalised from heel strike to heel strike)
    and one column per angle (deg, the project's sign table), e.g. ``knee_flexion_deg``.
    """

    name: str
    side: Side
    session: Session
    cycles: pd.DataFrame
    reference: pd.DataFrame


def load_kiel_pp054(distal_shanks: bool = False) -> OpticalWalk:
    """The Kiel walk of pp054 (5.73 s, 200 Hz; right-knee and right-hip flexion of 2 strides from
    markers). ``distal_shanks``: the shanks are the lower pair of shank sensors (the source's
    ``left_ankle``/``right_ankle``, ``distal_shanks.csv``) instead of ``left_shank``/``right_shank``."""
    session = read_csv_session(KIEL_PP054 / "walk.csv", subject_id="kiel-pp054")
    name = "kiel pp054 WT_01, shank sensors"
    if distal_shanks:
        lower = read_csv_session(KIEL_PP054 / "distal_shanks.csv", subject_id="kiel-pp054")
        session = Session([session[p] if p.segment is Segment.THIGH else lower[p] for p in session], session.meta)
        name = "kiel pp054 WT_01, distal shank sensors"
    cycles = pd.read_csv(KIEL_PP054 / "cycles.csv")
    reference = pd.read_csv(KIEL_PP054 / "optical.csv").drop(columns="ankle_angle_deg")
    return OpticalWalk(name, Side.RIGHT, session, cycles, reference)


def with_gyr_sampling(session: Session, sampling: GyroSampling | None) -> Session:
    """``session`` with every device's gyroscope samples declared ``sampling`` (None: as read,
    the importer's declaration). ``INTERVAL_MEAN`` on point-sampled data gives the integration used
    before 2026-12-06 (each sample taken as the mean rate over the interval ending at it:
    docs/validation.md)."""
    return session if sampling is None else session.with_gyr_sampling(sampling)


def grouvel_trials() -> list[str]:
    """The converted walks of ``benchmarks/data/grouvel_2023`` (``sync.csv``), in order."""
    return pd.read_csv(GROUVEL_2023 / "sync.csv")["trial"].tolist()


def grouvel_markers(trial: str) -> pd.DataFrame:
    """One Geneva walk's markers as the marker models read them (``<trial>_markers.csv``: mm, the
    dataset's column names, one row per 100-Hz marker frame; every walk of the converter's
    ``TRIALS``, also the one without IMU files, ``P10_S01_Gait_02``)."""
    return pd.read_csv(GROUVEL_2023 / f"{trial}_markers.csv")


class SensorClock(Enum):
    """Which clock a Geneva walk's sensors are read on (:func:`load_grouvel`). The converter puts
    all of a walk's sensors on one offset (``POOLED``: the one at which the leg sensors' gyroscopes
    together best match their marker clusters' rates); each sensor's gyroscope alone matches its
    own cluster best at an offset of its own, the same in every walk (``sensor_clocks.csv``:
    docs/validation.md, the Geneva walks' +34 ms, split). ``OWN``: each sensor on that offset in
    the walk; ``PLACEMENT``: each sensor on the median offset of its placement over the *other*
    walks (a device constant: nothing of the walk itself is fitted)."""

    POOLED = "pooled"
    OWN = "own"
    PLACEMENT = "placement"


class GenevaCycles(Enum):
    """Where a Geneva walk's reference gait cycles begin and end (:func:`load_grouvel`). ``ZENI``:
    the converter's heel strikes (``cycles.csv``: Zeni et al. 2008 from the markers), which lead
    the force plates' contacts by about 41 ms; ``PLATES``: a reference correction, each of those
    heel strikes replaced by the force plate's contact where its foot landed on one
    (``contacts.csv``), else moved by the plates' median lead (:func:`grouvel_plate_lead_ms`)."""

    ZENI = "zeni"
    PLATES = "plates"


def grouvel_sensor_clocks_ms(trial: str, clock: SensorClock = SensorClock.OWN) -> dict[str, float]:
    """Each sensor's clock offset less the converter's pooled one (ms) in one Geneva walk, by
    placement name (``left_shank`` …; the feet too), by ``clock`` (:class:`SensorClock`; empty for
    ``POOLED``): ``OWN`` where its gyroscope matched its cluster (residual ≤ 0.35, not at the
    search's edge), ``sensor_clocks.csv`` of ``benchmarks/geneva_contacts.py``; ``PLACEMENT`` the
    median of such offsets of the same placement in every other walk. Add it to a time read on the
    pooled clock to have it on that clock."""
    if clock is SensorClock.POOLED:
        return {}
    clocks = pd.read_csv(GROUVEL_2023 / "sensor_clocks.csv")
    ok = clocks[(clocks["residual"] <= 0.35) & ~clocks["at_grid_edge"]]
    if clock is SensorClock.OWN:
        ok = ok[ok["trial"] == trial]
        return dict(zip(ok["sensor"], ok["minus_pooled_ms"].astype(float), strict=True))
    others = ok[ok["trial"] != trial].groupby("sensor")["minus_pooled_ms"].median()
    return {sensor: float(others[sensor]) for sensor in clocks.loc[clocks["trial"] == trial, "sensor"] if sensor in others}


def grouvel_plate_lead_ms() -> float:
    """How far the converter's Zeni heel strikes (``cycles.csv``) lie from the force plates'
    contacts: median over ``contacts.csv``'s strikes (ms, + later; about −41)."""
    plates = pd.read_csv(GROUVEL_2023 / "contacts.csv")
    return float(((plates["zeni_s"] - plates["force_plate_s"]) * 1e3).median())


PLATE_MATCH_S = 0.005
"""A plate's contact replaces the Zeni heel strike it was measured against (``contacts.csv``'s
``zeni_s``, rounded as ``cycles.csv``'s) when the two are written this close."""


def plate_cycles(trial: str, side: Side, cycles: pd.DataFrame, t_end_s: float) -> pd.DataFrame:
    """``cycles`` (``cycle``, ``t_first_s``, ``t_last_s``: the converter's Zeni heel strikes, s)
    with each heel strike replaced by the force plate's contact where ``contacts.csv`` has one
    for it, else moved by :func:`grouvel_plate_lead_ms`; cycles that would end after ``t_end_s``
    (the marker window's last frame) are dropped. :attr:`GenevaCycles.PLATES`."""
    plates = pd.read_csv(GROUVEL_2023 / "contacts.csv")
    plates = plates[(plates["trial"] == trial) & (plates["side"] == side.value)]
    lead_s = grouvel_plate_lead_ms() / 1e3

    def moved(t_s: float) -> float:
        near = plates.loc[(plates["zeni_s"] - t_s).abs() <= PLATE_MATCH_S, "force_plate_s"]
        return float(near.iloc[0]) if len(near) else t_s - lead_s

    out = cycles.assign(t_first_s=cycles["t_first_s"].map(moved), t_last_s=cycles["t_last_s"].map(moved))
    return out[out["t_last_s"] <= t_end_s].reset_index(drop=True)


def load_grouvel(trial: str, clock: SensorClock = SensorClock.POOLED,
                 cycles: GenevaCycles = GenevaCycles.ZENI) -> list[OpticalWalk]:
    """One walk of the Geneva dataset: per leg with both sensors, an :class:`OpticalWalk` over the
    gait cycles inside the marker window (the legs share one session). The reference is the
    converter's marker-based knee flexion, adduction, rotation and hip rotation against the line of
    progression (``hip_rotation_deg``) and against the pelvis (``hip_rotation_pelvis_deg``),
    time-normalised here between the cycle's heel strikes (``cycles``, :class:`GenevaCycles`).
    ``clock``: which clock each sensor's samples are read on (:class:`SensorClock`; ``POOLED``, the
    converted instants as they are, unless told)."""
    session = read_csv_session(GROUVEL_2023 / f"{trial}_imu.csv", subject_id=trial.split("_")[0])
    if clock is not SensorClock.POOLED:
        shift_ms = grouvel_sensor_clocks_ms(trial, clock)
        session = Session([replace(s, t_s=s.t_s + shift_ms.get(s.placement.value, 0.0) / 1e3) for s in session.streams],
                          session.meta)
    reference = pd.read_csv(GROUVEL_2023 / f"{trial}_reference.csv")
    zeni = pd.read_csv(GROUVEL_2023 / "cycles.csv")
    walks = []
    t = reference["t_s"].to_numpy()
    for side in Side:
        mine = zeni[(zeni["trial"] == trial) & (zeni["side"] == side.value)].reset_index(drop=True)
        if cycles is GenevaCycles.PLATES:
            mine = plate_cycles(trial, side, mine, float(t[-1]))
        if mine.empty or f"{side.value}_knee_flexion_deg" not in reference:
            continue
        columns = [c for c in reference.columns if c.startswith(f"{side.value}_")]
        rows = []
        for c in mine.itertuples():
            normalised = time_normalise(t, reference[columns].to_numpy(), c.t_first_s, c.t_last_s)
            one = pd.DataFrame(normalised, columns=[c_[len(side.value) + 1:] for c_ in columns])
            one.insert(0, "cycle_pct", np.arange(N_NORMALISED))
            one.insert(0, "cycle", c.cycle)
            rows.append(one)
        walks.append(OpticalWalk(f"{trial} {side.value}", side, session, mine[["cycle", "t_first_s", "t_last_s"]],
                                 pd.concat(rows, ignore_index=True)))
    return walks
