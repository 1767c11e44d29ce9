"""The offline analysis: session → fused orientations → calibration → angles → events → metrics.

This module only sequences the stages; each algorithm lives in its own stage package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from imugait.analysis.checks import (
    MIN_LEGS_TO_REFUSE_SWAP,
    SWAP_MARGIN_DEG,
    frontal_lean_contrast_deg,
)
from imugait.analysis.clipping import at_range
from imugait.analysis.confidence import RESTRAP_ADVICE
from imugait.analysis.expected_error import STANDING
from imugait.analysis.legs import (
    calibrate_fused_leg,
    calibrate_fused_leg_upright,
    fuse_for_legs,
    require_leg,
)
from imugait.analysis.lost_gaps import long_gap_warnings
from imugait.analysis.reference import NO_STANDING_WARNING, midstance_mask
from imugait.analysis.result import AnalysisResult, LegReport
from imugait.calibration.heading import HeadingConfig
from imugait.calibration.periods import PeriodConfig, motion_mask
from imugait.calibration.segment import LegAlignment, SegmentCalibrationConfig, retrack_heading
from imugait.conventions import Placement, Segment, Side
from imugait.errors import CalibrationError
from imugait.fusion.settings import FilterKind, FilterTuning
from imugait.gait.coordination import sagittal_rate_radps, stride_lags_s
from imugait.gait.cycles import (
    N_NORMALISED,
    Exclusion,
    Stride,
    StrideConfig,
    segment_strides,
    time_normalise,
)
from imugait.gait.events import EventConfig, detect_leg_events, low_rate_warning
from imugait.gait.metrics import (
    ANGLE_COLUMNS,
    aggregate,
    asymmetry,
    double_support_pcts,
    strides_metrics,
)
from imugait.gait.plausibility import implausible_strides, plausibility_limits
from imugait.heap import release_free_heap, reuse_freed_blocks
from imugait.kinematics.angles import leg_angles
from imugait.kinematics.pelvis import hip_angles_rad, pelvis_frame
from imugait.kinematics.prepare import FusedSession
from imugait.kinematics.progression import ProgressionConfig, find_progression
from imugait.model import Session
from imugait.quaternion import quat_multiply
from imugait.timebase import spans_mask


@dataclass(frozen=True)
class AnalysisConfig:
    filter_kind: FilterKind = FilterKind.VQF_OFFLINE
    rate_hz: float | None = None
    """Common grid rate; default the highest sensor rate."""
    periods: PeriodConfig = field(default_factory=PeriodConfig)
    calibration: SegmentCalibrationConfig = field(default_factory=SegmentCalibrationConfig)
    progression: ProgressionConfig = field(default_factory=ProgressionConfig)
    events: EventConfig = field(default_factory=EventConfig)
    strides: StrideConfig = field(default_factory=StrideConfig)
    heading: HeadingConfig = field(default_factory=HeadingConfig)
    """How the thigh–shank heading offset is tracked (the knee centre's windows and weights)."""
    fusion_tuning: FilterTuning | None = None
    """Tuning of ``filter_kind`` (e.g. :class:`~imugait.fusion.settings.VqfTuning`); None: the
    filter's defaults (VQF's own; the sweep of its accelerometer time constant and motion bias
    estimation under the soft-tissue artefact, docs/accuracy.md, left them so)."""
    fusion_upsample_hz: float | None = None
    """Streams slower than this (Hz) are fused on samples interpolated up to about this rate
    (:mod:`imugait.fusion.upsample`); None (default): off."""


@dataclass(frozen=True, eq=False)
class CarriedCalibration:
    """A leg's calibration made on an earlier part of the same recording (same sensors, same
    straps): its alignment and the reference it stands on (``standing`` or ``mid-stance``). The
    sensor-to-segment frames and the knee centre are reused; the thigh–shank heading offset is
    tracked anew on the data it is applied to (:func:`~imugait.calibration.segment.retrack_heading`)."""

    alignment: LegAlignment
    reference: str
    sample_rate_hz: float | None = None
    """The rate of the grid it was made on (Hz): which expected errors its results state."""


def analyze_session(
    session: Session, config: AnalysisConfig | None = None, progress: Callable[[str], None] | None = None,
    carried: Mapping[Side, CarriedCalibration] | None = None,
) -> AnalysisResult:
    """Analyse a walking session with thigh and shank sensors on one or both legs.

    ``carried``: legs calibrated on an earlier part of the recording (the chunked analysis of long
    recordings, :mod:`imugait.analysis.chunked`) are not calibrated again.

    Raises
    ------
    ValidationError
        No leg has both a thigh and a shank sensor.
    CalibrationError
        No leg could be calibrated (each leg's reason is in the message).
    """
    config = config or AnalysisConfig()
    report = progress or (lambda _stage: None)
    sides = require_leg(session)
    report("finding the standing reference and fusing sensor orientations")
    reuse_freed_blocks()  # large freed arrays reused, not faulted in again (once per process; CPU)
    release_free_heap()  # e.g. what reading the session freed: each stage starts from what is held
    prepared = fuse_for_legs(session, config.filter_kind, config.rate_hz, (), config.periods, config.fusion_tuning,
                            config.fusion_upsample_hz)
    fused, standing = prepared.fused, prepared.standing
    release_free_heap()  # between stages, freed temporaries go back to the system (peak memory)
    t = fused.t_s
    # A leg whose carried calibration stands on an earlier standing period is not referred to mid-stance.
    referred_to_standing = all(c.reference == STANDING for c in (carried or {}).values()) and set(carried or {}) >= set(sides)
    warnings: list[str] = [] if standing is not None or referred_to_standing else [NO_STANDING_WARNING]
    warnings += [w for w in [low_rate_warning(fused.rate_hz)] if w is not None]
    legs: dict[Side, LegReport] = {}
    refusals: list[str] = []
    for side in sides:
        report(f"calibrating the {side.value} leg")
        try:
            legs[side] = _analyse_leg(session, fused, side, standing, config, (carried or {}).get(side))
        except CalibrationError as exc:
            refusals.append(str(exc))
        # The leg's sensors on the grid are not needed again (the pelvis angles use the legs'
        # segment frames): released now, the next leg runs without them (peak memory).
        for segment in (Segment.THIGH, Segment.SHANK):
            fused.sensors.pop(Placement.of(segment, side))
        release_free_heap()
    if not legs:  # the fatal reasons first, then what was only a warning, marked as such
        raise CalibrationError("; ".join(refusals) + (f" — also noted: {'; '.join(warnings)}" if warnings else ""))
    warnings += refusals
    swapped = [leg for leg in legs.values() if leg.frontal_lean_contrast_deg < -SWAP_MARGIN_DEG]
    if len(swapped) >= MIN_LEGS_TO_REFUSE_SWAP and len(swapped) == len(legs):
        detail = ", ".join(f"{leg.side.value} {leg.frontal_lean_contrast_deg:+.1f}°" for leg in swapped)
        raise CalibrationError(
            f"left and right look swapped: the thighs lean the way the other side's would in stance and "
            f"swing ({detail}; expected positive) — check which sensor is on which leg (for an imported "
            f"recording, exchange left and right in the import's --map)"
        )
    warnings += [
        f"{leg.side.value} leg calibrated from the pose alone — {leg.alignment.quality.fallback_reason}; its knee "
        f"angles carry larger errors and its hip rotation is not measured: strap both sensors firmly and walk again"
        for leg in legs.values() if not leg.alignment.measures_femur_rotation
    ]
    warnings += [
        f"{leg.side.value} thigh leans like a {leg.side.other.value} thigh in stance and swing "
        f"({leg.frontal_lean_contrast_deg:+.1f}°): is it on the {leg.side.value} leg?" for leg in swapped
    ]
    pelvis_worn = Placement.PELVIS in session and standing is not None
    if pelvis_worn:
        report("hip angles against the pelvis")
        try:
            _add_pelvis_hip_angles(fused, legs, standing)
        except CalibrationError as exc:
            pelvis_worn = False
            warnings.append(str(exc))
    report("gait cycles and metrics")
    strides = {side: leg.strides for side, leg in legs.items()}
    cycles = _cycles_table(t, fused.rate_hz, legs, strides)
    legs, cycles, implausible_warnings = _exclude_implausible(legs, cycles)
    warnings += implausible_warnings + _no_stride_used_warnings(legs, {side: _leg_gyr_range(session, side) for side in legs})
    warnings += long_gap_warnings(session, [Placement.of(seg, side) for side in legs for seg in (Segment.THIGH, Segment.SHANK)],
                                  config.strides)
    aggregates = aggregate(cycles, metric_columns(cycles))
    return AnalysisResult(
        session_meta=session.meta,
        t_s=t,
        legs=legs,
        cycles=cycles,
        aggregates=aggregates,
        asymmetry=asymmetry(aggregates),
        filter_kind=config.filter_kind,
        warnings=tuple(warnings),
        pelvis_worn=pelvis_worn,
    )


def metric_columns(cycles: pd.DataFrame) -> list[str]:
    """The stride table's metric columns (units in their names; not the event times)."""
    return [c for c in cycles.columns if c.endswith(("_s", "_pct", "_deg", "_per_min")) and not c.startswith("t_")]


def _analyse_leg(
    session: Session, fused: FusedSession, side: Side, standing: np.ndarray | None, config: AnalysisConfig,
    carried: CarriedCalibration | None = None,
) -> LegReport:
    t = fused.t_s
    p_thigh, p_shank = Placement.of(Segment.THIGH, side), Placement.of(Segment.SHANK, side)
    a, b = fused.sensors[p_thigh], fused.sensors[p_shank]
    moving = motion_mask(t, b.gyr_radps, config.periods, fused.rate_hz)
    if carried is not None:
        if standing is None:
            standing = midstance_mask(t, a.gyr_radps, b.gyr_radps, moving, config.calibration, config.events,
                                      fused.rate_hz)
        rec = fused.leg(side)
        leg = calibrate_fused_leg(fused, side, standing, moving, config.calibration, heading_config=config.heading,
                                  alignment=replace(carried.alignment, heading=retrack_heading(
                                      carried.alignment, rec, moving, config.heading)))
        reference = carried.reference
    else:
        leg, standing, reference = calibrate_fused_leg_upright(fused, side, standing, moving, config.calibration,
                                                               config.events, config.heading)
    alignment = leg.alignment
    q_thigh, q_shank = leg.orientations()
    progression = find_progression(t, q_thigh, moving, config.progression, side=side, rate_hz=fused.rate_hz)
    angles = leg_angles(side, q_thigh, q_shank, progression.heading_rad)
    angles_deg = {
        "knee_flexion_deg": np.rad2deg(angles.knee_rad[:, 0]),
        "knee_adduction_deg": np.rad2deg(angles.knee_rad[:, 1]),
        "knee_rotation_deg": np.rad2deg(angles.knee_rad[:, 2]),
    }
    hip_rotation_rad = angles.hip_rotation_progression_rad
    del angles  # the knee angles in radians (M, 3), not needed again: freed before the events (peak memory)
    events = detect_leg_events(t, b.gyr_radps @ alignment.hinge_axis_shank, moving, config.events,
                               thigh_ml_rate_radps=a.gyr_radps @ alignment.axes.flexion_axis_thigh, rate_hz=fused.rate_hz)
    bout_id = progression.bout_id()
    lost = a.lost | b.lost
    clipped = _clipped_gyr(session, p_thigh, fused) | _clipped_gyr(session, p_shank, fused)
    acc_clipped = _clipped_acc(session, p_thigh, fused) | _clipped_acc(session, p_shank, fused)
    strides = segment_strides(t, events, bout_id, lost, clipped, config.strides, rate_hz=fused.rate_hz)
    del bout_id  # (M,) int, freed before the left/right check (peak memory)
    # Against the walking direction: inside a straight bout, and over the strides that count to one
    # (they may touch the margin a bout keeps from a turn, StrideConfig.max_bout_overhang).
    in_bouts = [(s.t_initial_contact_s, s.t_next_initial_contact_s) for s in strides if s.exclusion is not Exclusion.NOT_IN_BOUT]
    spans = np.searchsorted(t, np.reshape(in_bouts, (-1, 2)))
    straight = progression.in_bout | spans_mask(t.size, spans[:, 0], spans[:, 1])
    angles_deg["hip_rotation_deg"] = np.where(straight & alignment.measures_femur_rotation,
                                              np.rad2deg(hip_rotation_rad), np.nan)
    return LegReport(
        q_world_thigh=q_thigh,
        q_world_shank=q_shank,
        progression=progression,
        frontal_lean_contrast_deg=frontal_lean_contrast_deg(t, q_thigh, strides, side),
        side=side, alignment=alignment, angles_deg=angles_deg, events=events, strides=strides,
        standing=standing, moving=moving, turning=progression.turning, in_bout=progression.in_bout,
        reference=reference, sample_rate_hz=fused.rate_hz,
        n_bouts=len(progression.bouts), lost=lost, clipped=clipped, acc_clipped=acc_clipped,
    )


def _add_pelvis_hip_angles(fused: FusedSession, legs: dict[Side, LegReport], standing: np.ndarray) -> None:
    """Femur-vs-pelvis angles for every leg, added to its ``angles_deg``."""
    pelvis = fused.sensors[Placement.PELVIS]
    walking = np.logical_or.reduce([leg.moving for leg in legs.values()])
    contacts = {side: leg.events.initial_contact_s for side, leg in legs.items()}
    q_sensor_segment = pelvis_frame(fused.t_s, pelvis.gyr_radps, pelvis.acc_mps2, standing, walking, contacts)
    q_world_pelvis = quat_multiply(pelvis.q_world_sensor, q_sensor_segment)
    for side, leg in legs.items():
        hip = np.rad2deg(hip_angles_rad(q_world_pelvis, leg.q_world_thigh, leg.progression, side))
        leg.angles_deg.update(hip_flexion_deg=hip[:, 0], hip_adduction_deg=hip[:, 1], hip_rotation_pelvis_deg=hip[:, 2])


def _clipped_gyr(session: Session, placement: Placement, fused: FusedSession) -> np.ndarray:
    """(M,) bool: the gyroscope reads at its full-scale range (known from the device)."""
    return at_range(fused.sensors[placement].gyr_radps, session[placement].device.gyr_range_radps)


def _leg_gyr_range(session: Session, side: Side) -> float | None:
    """The wider of the leg's two gyroscope ranges the devices declare (rad/s; None: not declared)."""
    ranges = [session[p].device.gyr_range_radps for p in (Placement.of(Segment.THIGH, side), Placement.of(Segment.SHANK, side))
              if p in session and session[p].device.gyr_range_radps]
    return max(ranges) if ranges else None


def _clipped_acc(session: Session, placement: Placement, fused: FusedSession) -> np.ndarray:
    """(M,) bool: the accelerometer reads at its full-scale range (known from the device)."""
    return at_range(fused.sensors[placement].acc_mps2, session[placement].device.acc_range_mps2)


def _cycles_table(t: np.ndarray, rate_hz: float, legs: dict[Side, LegReport], strides: dict[Side, list[Stride]]) -> pd.DataFrame:
    frames = []
    for side, leg in legs.items():
        if not leg.strides:
            continue
        other = strides.get(side.other, [])
        other_to = np.sort([s.t_toe_off_s for s in other if np.isfinite(s.t_toe_off_s)])
        other_ic = np.unique([s.t_initial_contact_s for s in other] + [s.t_next_initial_contact_s for s in other])
        columns = {
            "side": side.value,
            "stride": np.arange(len(leg.strides)),
            "t_initial_contact_s": [s.t_initial_contact_s for s in leg.strides],
            "t_toe_off_s": [s.t_toe_off_s for s in leg.strides],
            "t_next_initial_contact_s": [s.t_next_initial_contact_s for s in leg.strides],
            "used": [s.used for s in leg.strides],
            "exclusion": [s.exclusion.value for s in leg.strides],
        }
        columns.update(strides_metrics(t, leg.angles_deg, leg.strides))
        columns["thigh_shank_lag_s"] = (
            stride_lags_s(t, sagittal_rate_radps(t, leg.q_world_thigh), sagittal_rate_radps(t, leg.q_world_shank),
                          leg.strides, rate_hz=rate_hz)
            if leg.q_world_thigh is not None and leg.q_world_shank is not None else np.nan)
        columns["double_support_pct"] = (double_support_pcts(leg.strides, other_to, other_ic) if other
                                         else np.full(len(leg.strides), np.nan))
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame([])


CLIPPING_HIDES_WALKING = 0.05
"""A leg whose gyroscope reads at its range in this fraction of the grid rows or more is told about
the clipping, whatever the strides' commonest reason: rates cut off at the range also hide the
walking from the bout detection (HuGaDB 04_00, four gyroscopes the maintainers list as corrupted:
18 % of the rows clipped, every stride "not inside a straight walking bout"). Sound legs clip in
none; the threshold only chooses the advice, it excludes nothing."""


def _no_stride_used_warnings(legs: dict[Side, LegReport],
                             gyr_range_radps: Mapping[Side, float | None] | None = None) -> list[str]:
    """A leg whose strides were all excluded says why, counted by reason (a short walk's per-stride
    results are otherwise an empty column with no cause given), and what to redo for the commonest
    (or for the clipping, when much of the leg's gyroscope data is clipped). ``gyr_range_radps``:
    each leg's declared gyroscope range, for the advice on clipping."""
    out = []
    for side, leg in legs.items():
        if leg.strides and not any(s.used for s in leg.strides):
            counts = pd.Series([s.exclusion.value for s in leg.strides]).value_counts()
            detail = "; ".join(f"{n}× {reason}" for reason, n in counts.items())
            clipped = float(np.mean(leg.clipped)) if np.size(leg.clipped) else 0.0
            if Exclusion(counts.index[0]) is Exclusion.CLIPPED or clipped >= CLIPPING_HIDES_WALKING:
                redo = _clipping_advice(clipped, (gyr_range_radps or {}).get(side))
            else:
                redo = _redo_for(Exclusion(counts.index[0]))
            out.append(f"{side.value} leg: none of its {len(leg.strides)} strides used ({detail}): no per-stride "
                       f"results for this leg — {redo}")
    return out


WIDEST_COMMON_GYR_RANGE_DPS = 2000.0
"""The widest gyroscope range of common MEMS IMUs (MPU-6050/9250, BMI160, LSM6DS3), °/s."""


def _clipping_advice(clipped_fraction: float, gyr_range_radps: float | None) -> str:
    """What to do about a gyroscope that reached the end of its range: a wider range, unless it is
    already the widest (then the sensor or its data is at fault: walking stays far below it)."""
    span = f" in {100 * clipped_fraction:.0f} % of the samples" if clipped_fraction >= 0.005 else ""
    if gyr_range_radps is None:
        return f"its gyroscope reached the end of its range{span}: set a wider range (±2000 °/s) or check the sensor"
    range_dps = float(np.rad2deg(gyr_range_radps))
    if range_dps < 0.99 * WIDEST_COMMON_GYR_RANGE_DPS:
        return (f"its gyroscope reached the end of its ±{range_dps:.0f} °/s range{span}: set a wider range "
                f"(±2000 °/s) or check the sensor")
    return (f"its gyroscope reached the end of its ±{range_dps:.0f} °/s range{span}, far beyond what walking "
            "turns a leg: the sensor or its data is faulty (for a dataset, see whether its maintainers list it "
            "as corrupted)")


def _redo_for(exclusion: Exclusion) -> str:
    """What to do next time about the commonest reason a leg's strides were not used."""
    if exclusion in (Exclusion.LOST_SAMPLES, Exclusion.NEAR_LONG_GAP):
        return "samples were lost: keep the sensors within reach of the receiver and record again"
    if exclusion.implausible:
        return RESTRAP_ADVICE
    return "a longer straight walk gives more steady strides"


def _exclude_implausible(
    legs: dict[Side, LegReport], cycles: pd.DataFrame
) -> tuple[dict[Side, LegReport], pd.DataFrame, list[str]]:
    """Strides whose values no walking produces are excluded (:mod:`imugait.gait.plausibility`);
    a leg with too many of them is marked untrusted, with a warning saying what to redo."""
    limits = plausibility_limits()
    cycles = cycles.copy()
    out, warnings = {}, []
    for side, leg in legs.items():
        rows = cycles["side"] == side.value
        if not rows.any():
            out[side] = leg
            continue
        reasons = implausible_strides(cycles[rows], limits)
        hit = reasons != Exclusion.NONE
        strides = list(leg.strides)
        for (index, reason), k in zip(reasons[hit].items(), cycles.loc[reasons[hit].index, "stride"], strict=True):
            cycles.loc[index, ["used", "exclusion"]] = [False, reason.value]
            strides[k] = replace(strides[k], exclusion=reason)
        usable = int(hit.sum() + cycles.loc[rows, "used"].sum())
        n_implausible = int(hit.sum())
        untrusted = usable > 0 and n_implausible > limits.max_implausible_fraction * usable
        if n_implausible:
            counts = reasons[hit].map(lambda r: r.value).value_counts()
            detail = "; ".join(f"{n}× {reason}" for reason, n in counts.items())
            message = (f"{side.value} leg: {n_implausible} of {usable} otherwise usable strides excluded as implausible "
                       f"({detail})")
            if untrusted:
                message += f" — the leg's results are not trusted: {RESTRAP_ADVICE}"
            warnings.append(message)
        out[side] = replace(leg, strides=strides, implausible_strides=n_implausible, trusted=not untrusted)
    return out, cycles, warnings


def normalised_cycles(t: np.ndarray, leg: LegReport) -> dict[str, np.ndarray]:
    """Time-normalised curves of the used strides: name → (n_strides, 101), degrees."""
    used = [s for s in leg.strides if s.used]
    out = {}
    for name in ANGLE_COLUMNS:
        series = leg.angles_deg[name]
        out[name] = (
            np.array([time_normalise(t, series, s.t_initial_contact_s, s.t_next_initial_contact_s) for s in used])
            if used else np.empty((0, N_NORMALISED))
        )
    return out
