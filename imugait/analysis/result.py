"""The result of a walking analysis, and its JSON (schema ``imugait.analysis``, versioned) and
per-sample angle CSV. ``docs/analysis.md`` documents both."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imugait import __version__
from imugait.analysis.expected_error import STANDING, describe, expected_error
from imugait.atomic import atomic_path, write_text_atomic
from imugait.calibration.segment import LegAlignment
from imugait.conventions import HipRotationReference, Side
from imugait.fusion.settings import FilterKind
from imugait.gait.cycles import Stride
from imugait.gait.events import LegEvents
from imugait.kinematics.progression import Progression
from imugait.model import SessionMeta

SCHEMA = "imugait.analysis"
SCHEMA_VERSION = 1

CALIBRATION_GOOD_RELATIVE_RESIDUAL = 0.15
"""Hinge-fit residual over motion below which a leg's calibration is rated good …"""
CALIBRATION_FAIR_RELATIVE_RESIDUAL = 0.25
"""… and below which fair (above: poor). Engineering limits from the simulator, not clinical."""


@dataclass(frozen=True, eq=False)
class LegReport:
    """Everything computed for one leg (arrays on the result's grid ``t_s``)."""

    side: Side
    alignment: LegAlignment
    angles_deg: dict[str, np.ndarray]
    events: LegEvents
    strides: list[Stride]
    standing: np.ndarray
    moving: np.ndarray
    turning: np.ndarray
    in_bout: np.ndarray
    n_bouts: int
    lost: np.ndarray
    clipped: np.ndarray
    """(M,) bool: a gyroscope of the leg at its full-scale range (such strides are not used)."""
    q_world_thigh: np.ndarray | None = None
    """(M, 4) anatomical thigh frame in the thigh sensor's world frame."""
    q_world_shank: np.ndarray | None = None
    """(M, 4) anatomical shank frame in the same world frame as ``q_world_thigh``."""
    progression: Progression | None = None
    frontal_lean_contrast_deg: float = float("nan")
    """Left/right plausibility (analysis.checks): + when the thigh moves like this side's."""
    acc_clipped: np.ndarray | None = None
    """(M,) bool: an accelerometer of the leg at its full-scale range (reported, not excluded)."""
    implausible_strides: int = 0
    """Strides excluded because their values are not walking (:mod:`imugait.gait.plausibility`)."""
    trusted: bool = True
    """False when too many strides were implausible: the leg's results are not to be relied on."""
    reference: str = STANDING
    """The anatomical reference pose: ``standing`` still, or ``mid-stance`` when there was none."""
    sample_rate_hz: float | None = None
    """The rate of the grid the leg was analysed on (Hz): which measured expected errors apply
    (:mod:`imugait.analysis.expected_error`; None: unknown, the lowest rate's)."""

    @property
    def calibration_method(self) -> str:
        """The reference, what fixed the heading, and the errors to expect at the leg's sample rate (one line)."""
        return calibration_method(self.alignment, self.reference, self.sample_rate_hz)

    @property
    def pose_only(self) -> bool:
        """Calibrated by the pose-only fallback (:mod:`imugait.calibration.pose`)."""
        return not self.alignment.measures_femur_rotation

    @property
    def calibration_quality(self) -> str:
        """good / fair / poor (:func:`calibration_rating`)."""
        return calibration_rating(self.alignment)


def calibration_method(alignment: LegAlignment, reference: str, sample_rate_hz: float | None) -> str:
    """The line stated with a leg's results (:func:`imugait.analysis.expected_error.describe`):
    its reference, what fixed the heading, the errors to expect at ``sample_rate_hz`` (Hz)."""
    return describe(reference, alignment.quality.heading_source.words, sample_rate_hz,
                    not alignment.measures_femur_rotation)


def calibration_rating(alignment: LegAlignment) -> str:
    """good / fair / poor by the hinge fit's relative residual; poor for the pose-only fallback."""
    if not alignment.measures_femur_rotation:
        return "poor"
    r = alignment.quality.relative_residual
    if r < CALIBRATION_GOOD_RELATIVE_RESIDUAL:
        return "good"
    return "fair" if r < CALIBRATION_FAIR_RELATIVE_RESIDUAL else "poor"


@dataclass(frozen=True, eq=False)
class AnalysisResult:
    session_meta: SessionMeta
    t_s: np.ndarray
    legs: dict[Side, LegReport]
    cycles: pd.DataFrame
    """One row per stride and side: times, ``used``/``exclusion`` and the metrics."""
    aggregates: pd.DataFrame
    """``side, metric, mean, sd, n`` over used strides."""
    asymmetry: pd.DataFrame
    filter_kind: FilterKind
    warnings: tuple[str, ...] = ()

    hip_rotation_reference: HipRotationReference = HipRotationReference.PROGRESSION
    """What ``hip_rotation_deg`` is relative to; with a pelvis sensor the pelvis-relative angles
    are given as well (``hip_flexion_deg``, ``hip_adduction_deg``, ``hip_rotation_pelvis_deg``)."""
    pelvis_worn: bool = False

    def metric(self, side: Side, name: str) -> float:
        row = self.aggregates[(self.aggregates["side"] == side.value) & (self.aggregates["metric"] == name)]
        return float(row["mean"].iloc[0]) if len(row) else math.nan

    def angles_frame(self) -> pd.DataFrame:
        """Per-sample angles: ``t_s``, ``<side>_<angle>_deg`` and event marks ``<side>_initial_contact``
        / ``<side>_toe_off`` (1 at the sample nearest the event, else 0)."""
        cols: dict[str, np.ndarray] = {"t_s": self.t_s}
        for side, leg in self.legs.items():
            for name, values in leg.angles_deg.items():
                cols[f"{side.value}_{name}"] = values
            for event, times in (("initial_contact", leg.events.initial_contact_s), ("toe_off", leg.events.toe_off_s)):
                mark = np.zeros(self.t_s.size, dtype=np.int8)
                idx = np.searchsorted(self.t_s, times[np.isfinite(times)])
                mark[np.clip(idx, 0, self.t_s.size - 1)] = 1
                cols[f"{side.value}_{event}"] = mark
        return pd.DataFrame(cols)

    def write_angles_csv(self, path: str | Path) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            self.angles_frame().to_csv(tmp, index=False, float_format="%.4f")
        return path

    def to_dict(self, normalised: dict[Side, dict[str, np.ndarray]] | None = None) -> dict[str, Any]:
        """The JSON document (see docs/analysis.md for the schema)."""
        doc = document(self.session_meta, self.filter_kind, self.pelvis_worn, self.cycles, self.aggregates,
                       self.asymmetry, self.warnings, self.hip_rotation_reference)
        for side, leg in self.legs.items():
            doc["legs"][side.value] = {
                "calibration": calibration_dict(leg.alignment, leg.reference, leg.sample_rate_hz),
                "frontal_lean_contrast_deg": _none_if_nan(leg.frontal_lean_contrast_deg),
                "n_strides": len(leg.strides),
                "n_strides_used": sum(s.used for s in leg.strides),
                "n_strides_implausible": leg.implausible_strides,
                "trusted": leg.trusted,
                "n_bouts": leg.n_bouts,
                "lost_fraction": float(leg.lost.mean()),
                "clipped_fraction": float(leg.clipped.mean()),
                "acc_clipped_fraction": None if leg.acc_clipped is None else float(leg.acc_clipped.mean()),
            }
            if normalised and side in normalised:
                doc["legs"][side.value]["normalised_cycles"] = {
                    name: {
                        "mean": _clean(np.nanmean(curves, axis=0)) if len(curves) else [],
                        "sd": _clean(np.nanstd(curves, axis=0, ddof=1)) if len(curves) > 1 else [],
                        "n": int(len(curves)),
                    }
                    for name, curves in normalised[side].items()
                }
        return doc

    def write_json(self, path: str | Path, normalised: dict[Side, dict[str, np.ndarray]] | None = None) -> Path:
        return write_text_atomic(path, json.dumps(self.to_dict(normalised), indent=2, allow_nan=False))


def document(meta: SessionMeta, filter_kind: FilterKind, pelvis_worn: bool, cycles: pd.DataFrame,
             aggregates: pd.DataFrame, asymmetry: pd.DataFrame, warnings: tuple[str, ...],
             hip_rotation_reference: HipRotationReference = HipRotationReference.PROGRESSION) -> dict[str, Any]:
    """The JSON document's fields common to the whole and the chunked analysis (``legs`` empty)."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "software_version": __version__,
        "session": {"subject_id": meta.subject_id, "recorded_at": meta.recorded_at, "source": meta.source},
        "fusion_filter": filter_kind.value,
        "hip_rotation_reference": hip_rotation_reference.value,
        "hip_rotation_note": (
            "hip_rotation_* is the femur's rotation relative to the line of progression of each "
            "straight walking bout; it averages to hip rotation over a gait cycle"
            + ("; hip_flexion/adduction/rotation_pelvis are relative to the pelvis sensor's frame "
               "(zero in the standing pose)" if pelvis_worn else " (no pelvis sensor worn)")
        ),
        "pelvis_worn": pelvis_worn,
        "legs": {},
        "cycles": _records(cycles),
        "aggregates": _records(aggregates),
        "asymmetry": _records(asymmetry),
        "warnings": list(warnings),
    }


def calibration_dict(alignment: LegAlignment, reference: str, sample_rate_hz: float | None) -> dict[str, Any]:
    """A leg's ``calibration`` entry of the JSON document (``sample_rate_hz``: the leg's grid's, Hz)."""
    q = alignment.quality
    pose_only = not alignment.measures_femur_rotation
    expected = expected_error(reference, sample_rate_hz, pose_only)
    return {
        "quality": calibration_rating(alignment),
        "axis_fit_residual_radps": q.axis_fit_residual_radps,
        "motion_rms_radps": q.motion_rms_radps,
        "axis_tilt_deg": q.axis_tilt_deg,
        "heading_source": q.heading_source.value,
        "reference": reference,
        "expected_error_deg": expected.errors_deg,
        "expected_error_measured_at": expected.measured_at,
        "expected_error_low_pass_deg": expected.low_pass_errors_deg,
        "pose_only_fallback": q.fallback_reason or None,
        "swing_correlation": _none_if_nan(q.swing_correlation),
        "thigh_axis_cross_check_deg": _none_if_nan(q.thigh_axis_cross_check_deg),
        "thigh_turn_per_knee_flexion": _none_if_nan(q.thigh_turn_per_knee_flexion),
        "thigh_walking_turn_deg": q.thigh_walking_turn_deg,
        "q_sensor_segment_thigh": alignment.thigh.q_sensor_segment.tolist(),
        "q_sensor_segment_shank": alignment.shank.q_sensor_segment.tolist(),
    }


def _none_if_nan(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


def _clean(values) -> list:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in values]


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in df.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            clean[k] = v
        out.append(clean)
    return out
