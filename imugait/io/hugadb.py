"""HuGaDB text files (Chereshnev & Kertész-Farkas 2017): six IMUs on both legs, raw int16.

Layout: three ``#`` header lines (``#Activity``, ``#ActivityID``, ``#Date``), a column-name line
(two spellings exist: ``RF_acc_x`` and ``acc_rf_x``), then tab-separated rows of 39 integers:
six sensors — right foot, right shank, right thigh, left foot, left shank, left thigh (codes
``RF RS RT LF LS LT``) — each ``acc x y z, gyr x y z``; then two EMG columns and the activity id.
Columns are read **by position**, never by name.

Units: accelerometer ±2 g over int16 (``· 2 g / 32768``), gyroscope ±2000 °/s over int16
(``· 2000 / 32768`` °/s); converted here to m/s² and rad/s. The files carry no time: rows are
samples at a nominal :data:`HUGADB_RATE_HZ`. ``docs/formats.md`` describes it all.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from imugait.conventions import GRAVITY_MPS2, Placement, Segment
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import FormatError, ValidationError
from imugait.io._text_table import TextTable, float_column, read_text_table, stated_or_file_time
from imugait.model import DeviceInfo, ImuStream, ProtocolStep, Session, SessionMeta

HUGADB_SENSORS = ("RF", "RS", "RT", "LF", "LS", "LT")
"""Sensor codes in file order; sensor *k* occupies columns ``6k .. 6k+5`` (acc xyz, gyr xyz)."""
HUGADB_LAYOUT: dict[str, Placement] = {
    "RF": Placement.RIGHT_FOOT, "RS": Placement.RIGHT_SHANK, "RT": Placement.RIGHT_THIGH,
    "LF": Placement.LEFT_FOOT, "LS": Placement.LEFT_SHANK, "LT": Placement.LEFT_THIGH,
}
"""Where the dataset documents each sensor (shank = the README's 'shin')."""
HUGADB_DEFAULT_MAP: dict[Placement, str] = {
    Placement.LEFT_THIGH: "LT", Placement.LEFT_SHANK: "LS", Placement.RIGHT_THIGH: "RT", Placement.RIGHT_SHANK: "RS",
}
"""Thighs and shanks as documented (the feet are not needed by the analysis; map them to add them)."""
HUGADB_N_COLUMNS = 39
HUGADB_RATE_HZ = 58.8
"""Nominal sample rate (``../shared/datasets/README.md``); the files have no time column."""
HUGADB_ACC_RANGE_MPS2 = 2.0 * GRAVITY_MPS2
HUGADB_GYR_RANGE_RADPS = float(np.deg2rad(2000.0))
HUGADB_ACC_MPS2_PER_COUNT = HUGADB_ACC_RANGE_MPS2 / 32768.0
HUGADB_GYR_RADPS_PER_COUNT = HUGADB_GYR_RANGE_RADPS / 32768.0
HUGADB_ACTIVITIES = {
    1: "walking", 2: "running", 3: "going_up", 4: "going_down", 5: "sitting", 6: "sitting_down",
    7: "standing_up", 8: "standing", 9: "bicycling", 10: "up_by_elevator", 11: "down_by_elevator",
    12: "sitting_in_car",
}
"""Activity ids (HuGaDB README, table 1); contiguous runs of one id become protocol steps."""
HUGADB_YEAR_ASSUMED = 2016
"""Some files write ``#Date`` without the year (``08-18-11-45``); every file that states it says 2016."""

_C = frozenset
_ALL = _C(HUGADB_SENSORS)
HUGADB_CORRUPTED_GYRO: dict[str, frozenset[str]] = {
    "03_00": _C({"RF", "RS", "RT"}), "03_01": _C({"RF", "RS", "RT"}),
    **{f"04_0{k}": _ALL for k in range(6)},
    **{f"05_0{k}": _C({"RF", "LF", "RS"}) for k in range(4)},
    "06_03": _C({"RT"}), "06_05": _C({"RT"}),
    **{f"07_0{k}": _C({"RF", "RS"}) for k in range(5)},
    **{f"09_0{k}": _ALL for k in range(4)},
    **{f"11_0{k}": _C({"LF"}) for k in range(4)},
    **{f"12_0{k}": _ALL for k in range(7)},
    **{f"13_0{k}": _ALL for k in range(4)},
    **{f"14_0{k}": _ALL for k in range(5)},
    **{f"15_{k:02d}": _ALL for k in range(11)},
    **{f"16_0{k}": _ALL for k in range(5)},
    **{f"17_0{k}": _ALL for k in range(7)},
    **{f"18_0{k}": _C({"RF", "LF", "RS", "LS", "LT"}) for k in range(4)},
}
"""Gyroscopes of the HuGaDB v1 **walking** files (``HuGaDB_v1_walking_<PP>_<CC>.txt``, keyed by
``PP_CC``) that the maintainers list as corrupted: "some gyroscope data was amplified 10 times
which led to clipping" (README of github.com/romanchereshnev/HuGaDB, section "Corrupted
gyroscope data"; files not listed are OK). The raw data agree: the listed leg gyroscopes have a
median |rate| of 14–24 rad/s (the others 1.9–3.7 rad/s) and reach int16 full scale. Their peaks
are lost, so they cannot be repaired. Other activities' files have their own table there."""
CORRUPTED_GYRO_POLICIES = ("warn", "drop_leg", "keep")

_WALKING_NAME = re.compile(r"HuGaDB_v\d+_walking_(\d+_\d+)$", re.IGNORECASE)
_PARTICIPANT = re.compile(r"HuGaDB_v\d+_.+_(\d+)_\d+$", re.IGNORECASE)
_DATE = re.compile(r"^Date(?:-Time)?\s+(?:(\d{4})-)?(\d{1,2})-(\d{1,2})-(\d{1,2})-(\d{1,2})\s*$", re.IGNORECASE)


@dataclass(frozen=True, eq=False)
class HugadbFile:
    """One HuGaDB file as stored.

    Attributes
    ----------
    path : the file.
    counts : (N, 36) int64, raw int16 values of the six IMUs in file order (:data:`HUGADB_SENSORS`).
    emg : (N, 2) int64, right and left EMG (uint8, not converted).
    activity : (N,) int64, activity id of each row (:data:`HUGADB_ACTIVITIES`).
    recorded_at : ISO 8601 from the ``#Date`` line (local time, no zone), or None.
    notes : what the reader assumed or left out.
    """

    path: Path
    counts: np.ndarray
    emg: np.ndarray
    activity: np.ndarray
    recorded_at: str | None
    notes: tuple[str, ...]

    def raw(self, code: str) -> np.ndarray:
        """(N, 6) int64, the raw acc xyz, gyr xyz counts of sensor ``code`` (``RT`` …)."""
        k = _sensor_index(code, self.path.name)
        return self.counts[:, 6 * k:6 * k + 6]

    def acc_mps2(self, code: str) -> np.ndarray:
        """(N, 3) float64, m/s², sensor frame, of sensor ``code``."""
        return self.raw(code)[:, :3] * HUGADB_ACC_MPS2_PER_COUNT

    def gyr_radps(self, code: str) -> np.ndarray:
        """(N, 3) float64, rad/s, sensor frame, of sensor ``code``."""
        return self.raw(code)[:, 3:] * HUGADB_GYR_RADPS_PER_COUNT


def read_hugadb_file(path: str | os.PathLike, *, allow_truncated: bool = False) -> HugadbFile:
    """Parse one HuGaDB text file (raw values, no conversion).

    A last line without end-of-line or with fewer than 39 fields is a truncated write: a
    :class:`FormatError` naming the file and line, unless ``allow_truncated`` (then it is left out
    and noted). Any other wrong cell is a :class:`FormatError` naming file, line and column.
    """
    p = Path(path)
    label = f"HuGaDB file {p.name}"
    table = read_text_table(p, label=label, comment_prefix="#")
    if len(table.header) != HUGADB_N_COLUMNS:
        raise FormatError(f"{label}: the column-name line has {len(table.header)} columns, expected "
                          f"{HUGADB_N_COLUMNS} (6 IMUs × acc xyz, gyr xyz; 2 EMG; activity)")
    notes = []
    if table.rows and (not table.ends_with_newline or table.n_fields[-1] < HUGADB_N_COLUMNS):
        line = int(table.line_numbers[-1])
        if not allow_truncated:
            raise FormatError(
                f"{label} is truncated: line {line} has {int(table.n_fields[-1])} of {HUGADB_N_COLUMNS} fields"
                + ("" if table.ends_with_newline else " and no end-of-line")
                + "; import with --allow-truncated (allow_truncated=True) to keep the complete lines"
            )
        table = table.drop_last_row()
        notes.append(f"truncated last line {line} left out")
    if len(table.rows) < 2:
        raise FormatError(f"{label}: needs at least 2 data lines, found {len(table.rows)}")
    values = np.column_stack([_int_column(table, j) for j in range(HUGADB_N_COLUMNS)])
    recorded_at, date_note = _date(table.preamble)
    if date_note:
        notes.append(date_note)
    return HugadbFile(p, values[:, :36], values[:, 36:38], values[:, 38], recorded_at, tuple(notes))


def hugadb_corrupted_gyros(path: str | os.PathLike) -> frozenset[str]:
    """Sensor codes whose gyroscope the maintainers list as corrupted in this file (by its name;
    empty for files not in :data:`HUGADB_CORRUPTED_GYRO`)."""
    m = _WALKING_NAME.match(Path(path).stem)
    return HUGADB_CORRUPTED_GYRO.get(m[1], frozenset()) if m else frozenset()


def read_hugadb(
    path: str | os.PathLike | HugadbFile, placement_map: Mapping[Placement, str] | None = None, *,
    subject_id: str | None = None, corrupted_gyro: str = "warn", sample_rate_hz: float = HUGADB_RATE_HZ,
    allow_truncated: bool = False,
) -> Session:
    """Import a HuGaDB file as a session.

    Parameters
    ----------
    path : the ``.txt`` file, or the file already parsed by :func:`read_hugadb_file`.
    placement_map : placement -> sensor code (``RF RS RT LF LS LT``, case-insensitive); default
        :data:`HUGADB_DEFAULT_MAP` (both thighs and shanks).
    subject_id : pseudonym; default ``HuGaDB-<participant>`` from the file name.
    corrupted_gyro : what to do with gyroscopes listed in :data:`HUGADB_CORRUPTED_GYRO`:
        ``"warn"`` keep them and warn (``UserWarning``); ``"drop_leg"`` leave out every mapped
        sensor on a side where a mapped thigh or shank gyroscope is listed, and a listed foot
        (:class:`ValidationError` if nothing is left); ``"keep"`` keep them silently. The session's
        notes name them in every case.
    sample_rate_hz : nominal rate; ``t_s = row / sample_rate_hz``.
    allow_truncated : see :func:`read_hugadb_file`.

    Returns
    -------
    Session
        Device info with the ±2 g and ±2000 °/s ranges (clipping is detectable); a protocol step
        per run of one activity id (``walking`` …); ``recorded_at`` from ``#Date`` (the file's
        modification time when absent); ``source = "import:hugadb"``.
    """
    if not (np.isfinite(sample_rate_hz) and sample_rate_hz > 0):
        raise ValidationError(f"sample_rate_hz must be a positive number, got {sample_rate_hz!r}")
    if corrupted_gyro not in CORRUPTED_GYRO_POLICIES:
        raise ValidationError(f"corrupted_gyro must be one of {', '.join(CORRUPTED_GYRO_POLICIES)}, got {corrupted_gyro!r}")
    mapping = {pl: code.strip().upper()
               for pl, code in (HUGADB_DEFAULT_MAP if placement_map is None else placement_map).items()}
    if not mapping:
        raise ValidationError("a HuGaDB import needs at least one placement, e.g. left_thigh=LT")
    for pl, code in mapping.items():
        _sensor_index(code, f"--map {pl.value}={code}")
    f = path if isinstance(path, HugadbFile) else read_hugadb_file(path, allow_truncated=allow_truncated)
    listed = {pl for pl, code in mapping.items() if code in hugadb_corrupted_gyros(f.path)}
    notes = [f"{pl.value}={code}" for pl, code in mapping.items()]
    if listed:
        names = ", ".join(f"{pl.value} ({mapping[pl]})" for pl in Placement if pl in listed)
        notes.append(f"gyroscopes listed as corrupted by the HuGaDB maintainers: {names}")
        if corrupted_gyro == "warn":
            warnings.warn(f"{f.path.name}: gyroscopes listed as corrupted by the HuGaDB maintainers "
                          f"(amplified and clipped): {names}", UserWarning, stacklevel=2)
        elif corrupted_gyro == "drop_leg":
            dropped = _leg_drop(mapping, listed)
            if dropped == set(mapping):
                raise ValidationError(f"{f.path.name}: every mapped sensor is on a leg with a gyroscope listed as "
                                      f"corrupted by the HuGaDB maintainers ({names})")
            mapping = {pl: c for pl, c in mapping.items() if pl not in dropped}
            notes.append("left out: " + ", ".join(pl.value for pl in Placement if pl in dropped))
    t = np.arange(f.counts.shape[0]) / sample_rate_hz
    streams = []
    for pl, code in mapping.items():
        try:
            streams.append(ImuStream(
                placement=pl, t_s=t, acc_mps2=f.acc_mps2(code), gyr_radps=f.gyr_radps(code),
                sample_rate_hz=sample_rate_hz,
                device=DeviceInfo(device_id=f"hugadb-{code}", model="HuGaDB MPU-6050", protocol="hugadb-txt",
                                  acc_range_mps2=HUGADB_ACC_RANGE_MPS2, gyr_range_radps=HUGADB_GYR_RANGE_RADPS,
                                  gyr_sampling=source_gyr_sampling("hugadb_txt")),
            ))
        except ValidationError as exc:
            raise ValidationError(f"{f.path.name}: {code}: {exc}") from None
    m = _PARTICIPANT.match(f.path.stem)
    recorded_at, time_notes = stated_or_file_time(f.recorded_at, f.path)
    meta = SessionMeta(
        subject_id=subject_id or (f"HuGaDB-{m[1]}" if m else f.path.stem),
        recorded_at=recorded_at,
        steps=_activity_steps(f.activity, sample_rate_hz),
        source="import:hugadb",
        notes=f"imported from {f.path.name}: " + "; ".join([*notes, *f.notes, *time_notes]),
    )
    return Session(streams, meta)


def _sensor_index(code: str, where: str) -> int:
    try:
        return HUGADB_SENSORS.index(code.strip().upper())
    except ValueError:
        raise ValidationError(f"{where}: unknown HuGaDB sensor {code!r}; expected one of {' '.join(HUGADB_SENSORS)} "
                              f"(right/left foot, shank, thigh)") from None


def _leg_drop(mapping: Mapping[Placement, str], listed: set[Placement]) -> set[Placement]:
    """Placements to leave out: a listed foot, and all thighs and shanks of a side where one is listed."""
    bad_sides = {pl.side for pl in listed if pl.segment in (Segment.THIGH, Segment.SHANK)}
    return {pl for pl in mapping if pl in listed
            or (pl.segment in (Segment.THIGH, Segment.SHANK) and pl.side in bad_sides)}


def _int_column(table: TextTable, j: int) -> np.ndarray:
    name = table.header[j]
    values = float_column(table, name)
    bad = np.flatnonzero((values != np.rint(values)) | (values < -32768) | (values > 32767))
    if bad.size:
        k = int(bad[0])
        raise FormatError(f"{table.label}: line {table.line_numbers[k]}: column {j + 1} ({name}) holds "
                          f"{float(values[k])!r}, not a 16-bit integer")
    return values.astype(np.int64)


def _date(preamble: tuple[str, ...]) -> tuple[str | None, str]:
    for line in preamble:
        m = _DATE.match(line)
        if m:
            year, month, day, hour, minute = m.groups()
            try:
                when = dt.datetime(int(year or HUGADB_YEAR_ASSUMED), int(month), int(day), int(hour), int(minute))
            except ValueError:
                break
            return when.isoformat(), "" if year else f"#Date has no year: {HUGADB_YEAR_ASSUMED} assumed"
    return None, "no readable #Date line: recording time is the file's modification time"


def _activity_steps(activity: np.ndarray, rate_hz: float) -> tuple[ProtocolStep, ...]:
    """One step per run of an activity id, from its first row to the next run's first row."""
    starts = np.flatnonzero(np.r_[True, activity[1:] != activity[:-1]])
    ends = np.r_[starts[1:], activity.size]
    return tuple(ProtocolStep(HUGADB_ACTIVITIES.get(int(activity[a]), f"activity_{int(activity[a])}"),
                              float(a / rate_hz), float(b / rate_hz))
                 for a, b in zip(starts, ends, strict=True))
