"""Walking recordings of real people through ``analyze_session``, one row per recording and leg.

Used by ``benchmarks/real_data.py`` (part b). No recording here has a reference; what is checked is
whether every leg gets plausible per-stride results, whether every refusal names a cause a person
can act on, and how repeatable the results are across the walks of one leg (the MPU-9250 subjects
walked 2–4 times with the sensors left on).

A leg *gives plausible per-stride results* when it is calibrated, trusted (most of its strides are
plausible, :mod:`imugait.gait.plausibility`) and has at least :data:`MIN_USED_STRIDES` used strides.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from _real_loaders import (
    DATASETS,
    MPU9250_ZIP,
    hugadb_corrupted_legs,
    hugadb_paths,
    load_hugadb,
    load_qmt,
    load_skinematics,
)

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.calibration.segment import SegmentCalibrationConfig
from imugait.conventions import Placement, Segment, Side
from imugait.errors import ImugaitError
from imugait.fusion import FilterKind, FilterTuning
from imugait.io import list_mpu9250_walks, read_mpu9250_walk
from imugait.model import Session

MIN_USED_STRIDES = 3
SIDE_SWAP = {Placement.LEFT_THIGH: Placement.RIGHT_THIGH, Placement.RIGHT_THIGH: Placement.LEFT_THIGH,
             Placement.LEFT_SHANK: Placement.RIGHT_SHANK, Placement.RIGHT_SHANK: Placement.LEFT_SHANK}


@dataclass(frozen=True)
class WalkSource:
    """A recording to analyse: picklable, loaded in the worker."""

    dataset: str
    name: str
    kind: str
    arg: str = ""
    swap_sides: bool = False
    note: str = ""
    counted: bool = True
    """False for the label check: HuGaDB as documented (see :data:`HUGADB_SIDES_NOTE`)."""


HUGADB_SIDES_NOTE = (
    "HuGaDB's left and right appear exchanged relative to the documented column order: analysed as documented, every "
    "HuGaDB leg's thigh leans like the other side's in stance and swing (contrast −2 to −6°, the swap check), while "
    "all 66 MPU-9250 legs, labelled by their folder names, lean the expected way (+0.3 to +9.8°, median +3.1°) and so "
    "do the HuGaDB legs with left and right exchanged (+1.6 to +4.6°). The headline counts the exchanged analysis; "
    "the as-documented rows are the swap check's own test."
)


def walk_sources() -> list[WalkSource]:
    """Every walking recording in ``../shared/datasets`` (empty when absent)."""
    out = []
    if MPU9250_ZIP.is_file():
        out += [WalkSource("gait_rehab_mpu9250", w.walk_id, "mpu9250", w.walk_id) for w in list_mpu9250_walks(MPU9250_ZIP)]
    for path in hugadb_paths():
        corrupted = hugadb_corrupted_legs(path)
        if len({p.side for p in corrupted}) == 2:
            out.append(WalkSource("hugadb_walking", path.stem.replace("HuGaDB_v1_", ""), "skip", "",
                                  note="both legs have a gyroscope the maintainers list as corrupted"))
            continue
        for swap in (False, True):
            out.append(WalkSource("hugadb_walking", path.stem.replace("HuGaDB_v1_", ""), "hugadb", str(path), swap,
                                  "left/right exchanged" if swap else "as documented (label check, not counted)",
                                  counted=swap))
    if (DATASETS / "qmt_full_body").is_dir():
        out.append(WalkSource("qmt_full_body", "full_body_example_data", "qmt", note="stand 40–44 s annotated"))
    if (DATASETS / "skinematics_xsens_leg").is_dir():
        out.append(WalkSource("skinematics_xsens_leg", "walking_xsens", "skinematics", note="taken as a right leg"))
    return out


def _load(source: WalkSource) -> Session:
    loaders: dict[str, Callable[[], Session]] = {
        "mpu9250": lambda: read_mpu9250_walk(MPU9250_ZIP, source.arg),
        "hugadb": lambda: load_hugadb(Path(source.arg))[0],
        "qmt": load_qmt,
        "skinematics": load_skinematics,
    }
    session = loaders[source.kind]()
    if source.swap_sides:
        session = Session([replace(s, placement=SIDE_SWAP.get(s.placement, s.placement)) for s in session.streams],
                          session.meta)
    return session


def analyse(source: WalkSource, calibration: SegmentCalibrationConfig | None = None,
            filter_kind: FilterKind | None = None, tuning: FilterTuning | None = None) -> list[dict]:
    """Rows (one per leg with a thigh and a shank) for one recording; never raises. ``calibration``:
    the settings of the calibration (default: the defaults); ``filter_kind``: the orientation
    filter (default: the analysis' default); ``tuning``: its tuning (``AnalysisConfig.fusion_tuning``)."""
    base = {"dataset": source.dataset, "recording": source.name, "note": source.note, "counted": source.counted}
    if source.kind == "skip":
        return [{**base, "leg": "—", "outcome": "not analysable (data)", "reason": source.note}]
    try:
        session = _load(source)
    except ImugaitError as exc:
        return [{**base, "leg": "—", "outcome": "not readable", "reason": str(exc)}]
    sides = [s for s in Side if {Placement.of(Segment.THIGH, s), Placement.of(Segment.SHANK, s)} <= set(session)]
    base["duration_s"] = session.t_end_s - session.t_start_s
    t0 = time.perf_counter()
    try:
        config = AnalysisConfig(calibration=calibration or SegmentCalibrationConfig(), fusion_tuning=tuning)
        result = analyze_session(session, config if filter_kind is None else replace(config, filter_kind=filter_kind))
    except ImugaitError as exc:
        reasons = str(exc).split("; ")
        return [{**base, "leg": s.value, "outcome": "refused",
                 "reason": next((r for r in reasons if r.startswith(f"{s.value}_")), reasons[0])} for s in sides]
    except Exception as exc:  # a crash is a finding
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        return [{**base, "leg": "—", "outcome": "CRASH",
                 "reason": f"{type(exc).__name__}: {exc} ({frame.filename.split('imugait/')[-1]}:{frame.lineno})"}]
    seconds = time.perf_counter() - t0
    rows = []
    for side in sides:
        if side not in result.legs:
            reason = next((w for w in result.warnings if w.startswith(f"{side.value}_")), "refused")
            rows.append({**base, "leg": side.value, "outcome": "refused", "reason": reason})
            continue
        leg = result.legs[side]
        c = result.cycles[result.cycles["side"] == side.value]
        used = c[c["used"]]
        q = leg.alignment.quality
        unused = c.loc[~c["used"], "exclusion"].value_counts().to_dict()
        side_warnings = [w for w in result.warnings if w.startswith((f"{side.value} ", f"{side.value}_"))]
        rows.append({
            **base, "leg": side.value, "analysis_s": seconds,
            "outcome": "calibrated", "quality": leg.calibration_quality, "heading": q.heading_source.value,
            "trusted": leg.trusted, "found": len(c), "used": len(used), "implausible": leg.implausible_strides,
            "cadence": float(used["cadence_steps_per_min"].median()) if len(used) else np.nan,
            "stance_pct": float(used["stance_pct"].median()) if len(used) else np.nan,
            "knee_range_deg": float(used["knee_flexion_range_deg"].median()) if len(used) else np.nan,
            "hip_mean_deg": float(used["hip_rotation_mean_deg"].mean()) if len(used) else np.nan,
            "hip_sd_deg": float(used["hip_rotation_mean_deg"].std()) if len(used) > 1 else np.nan,
            "thigh_axis_cross_check_deg": q.thigh_axis_cross_check_deg,
            "thigh_turn_per_knee_flexion": q.thigh_turn_per_knee_flexion,
            "thigh_walking_turn_deg": q.thigh_walking_turn_deg,
            "unused": ", ".join(f"{n} {k}" for k, n in unused.items()),
            "reason": "; ".join(side_warnings),
            "no_standing": any(w.startswith("no standing-still period") for w in result.warnings),
            "means": dict(zip(*result.aggregates.loc[result.aggregates["side"] == side.value, ["metric", "mean"]]
                              .to_numpy().T, strict=True)),
            "strides": {m: used[m].to_numpy(float) for m in result.aggregates["metric"].unique() if m in used},
        })
    return rows


def analyse_all(jobs: int = 2, calibration: SegmentCalibrationConfig | None = None,
                filter_kind: FilterKind | None = None, dataset: str | None = None,
                tuning: FilterTuning | None = None) -> pd.DataFrame:
    """Every recording's rows (:func:`analyse`); ``dataset``: only that dataset's recordings;
    ``tuning``: the filter's (``AnalysisConfig.fusion_tuning``)."""
    sources = [s for s in walk_sources() if dataset is None or s.dataset == dataset]
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(analyse, sources, [calibration] * len(sources), [filter_kind] * len(sources),
                                    [tuning] * len(sources)))
    else:
        results = [analyse(s, calibration, filter_kind, tuning) for s in sources]
    return pd.DataFrame([row for rows in results for row in rows])


def walks_of_one_leg(rows: pd.DataFrame) -> pd.DataFrame:
    """The MPU-9250 rows with plausible results of the legs walked two or more times, with their
    ``subject_leg`` (``NO.1/left``): the repeatability's walks (real_data.py, walk_repeatability.py)."""
    mpu = rows[(rows["dataset"] == "gait_rehab_mpu9250") & plausible(rows)]
    mpu = mpu.assign(subject_leg=mpu["recording"].str.rsplit("/", n=1).str[0])
    return mpu[mpu.groupby("subject_leg")["recording"].transform("size") >= 2]


def plausible(rows: pd.DataFrame) -> pd.Series:
    return (rows["outcome"] == "calibrated") & rows.get("trusted", False).fillna(False).astype(bool) & (
        rows.get("used", 0).fillna(0) >= MIN_USED_STRIDES)
