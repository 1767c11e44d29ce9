"""The pipeline's angles against a marker-based reference of the same gait cycles.

Used by ``benchmarks/real_data.py`` (part c) and ``tests/benchmarks/test_kiel_pp054.py``. The
reference comes time-normalised (101 points per cycle, heel strike to heel strike); the
pipeline's per-sample angle is cut between the same two heel strikes and time-normalised the same
way (:func:`imugait.gait.cycles.time_normalise`), then compared point by point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from _real_loaders import OpticalWalk

from imugait.analysis import AnalysisResult
from imugait.analysis.reference import MIDSTANCE_END, MIDSTANCE_START, midstance_knee_flexion_deg
from imugait.conventions import Joint, joint_angles_rad, progression_quat
from imugait.data import normative_gait_table
from imugait.gait.cycles import N_NORMALISED, time_normalise
from imugait.quaternion import quat_multiply

COMPARABLE = {"knee_flexion_deg": "knee flexion", "knee_adduction_deg": "knee adduction",
              "knee_rotation_deg": "knee rotation", "hip_rotation_deg": "hip rotation (vs progression)"}
"""Reference angles the pipeline reports as the same quantity, compared where the reference has
them (Kiel pp054: knee flexion only; Geneva: all four, its ``hip_rotation_deg`` the femur against
the line of progression like the pipeline's without a pelvis sensor). A reference's hip flexion
or its femur-against-pelvis rotation is not compared: the pipeline gives those only with a pelvis
sensor."""


@dataclass(frozen=True)
class CycleComparison:
    """One angle over one reference cycle (or over all of them: ``cycle`` 0). Degrees; ``bias_deg``
    the mean of pipeline − reference; ``offset_free_rmse_deg`` the RMSE with that mean removed;
    ``contact_errors_ms`` the pipeline's nearest initial contact minus the cycle's opening and
    closing heel strike (empty for the row over all cycles)."""

    angle: str
    cycle: int
    rmse_deg: float
    offset_free_rmse_deg: float
    bias_deg: float
    correlation: float
    range_deg: float
    reference_range_deg: float
    contact_errors_ms: tuple[float, ...]


def _errors(estimate: np.ndarray, reference: np.ndarray) -> tuple[float, float, float, float]:
    """Over the points where both are finite (the pipeline's hip rotation is NaN outside a straight
    walking bout); NaN when there are none."""
    ok = np.isfinite(estimate) & np.isfinite(reference)
    if not ok.any():
        return (np.nan,) * 4
    estimate, reference = estimate[ok], reference[ok]
    d = estimate - reference
    return (float(np.sqrt(np.mean(d**2))), float(np.sqrt(np.mean((d - d.mean()) ** 2))), float(d.mean()),
            float(np.corrcoef(estimate, reference)[0, 1]))


def compare_with_reference(result: AnalysisResult, walk: OpticalWalk) -> list[CycleComparison]:
    """Per comparable angle: one row per reference cycle, then one over all cycles (one bias for
    the whole walk removed for its offset-free RMSE: a calibration offset is one constant)."""
    leg = result.legs[walk.side]
    t = result.t_s
    contacts = leg.events.initial_contact_s[np.isfinite(leg.events.initial_contact_s)]
    rows = []
    for name, label in COMPARABLE.items():
        if name not in walk.reference or name not in leg.angles_deg:
            continue
        estimates, references = [], []
        for c in walk.cycles.itertuples():
            est = time_normalise(t, leg.angles_deg[name], c.t_first_s, c.t_last_s)
            ref = walk.reference.loc[walk.reference["cycle"] == c.cycle, name].to_numpy()
            if ref.size != N_NORMALISED:
                raise ValueError(f"{walk.name}: cycle {c.cycle} has {ref.size} reference points, not {N_NORMALISED}")
            nearest = [float(contacts[np.argmin(np.abs(contacts - tc))] - tc) * 1e3 if contacts.size else np.nan
                       for tc in (c.t_first_s, c.t_last_s)]
            rows.append(CycleComparison(label, int(c.cycle), *_errors(est, ref), float(np.nanmax(est) - np.nanmin(est))
                                        if np.isfinite(est).any() else np.nan, float(np.ptp(ref)), tuple(nearest)))
            estimates.append(est)
            references.append(ref)
        est, ref = np.concatenate(estimates), np.concatenate(references)
        rows.append(CycleComparison(label, 0, *_errors(est, ref), float(np.nanmax(est) - np.nanmin(est))
                                    if np.isfinite(est).any() else np.nan, float(np.ptp(ref)), ()))
    return rows


def reference_midstance_knee_deg(walk: OpticalWalk) -> float:
    """The reference's mean knee flexion over mid-stance (the window the pipeline refers a walk
    without standing to), all cycles: against :func:`midstance_knee_flexion_deg` (the norm the
    pipeline assumes there) it predicts the knee flexion offset of that reference."""
    ref = walk.reference
    window = (ref["cycle_pct"] >= 100 * MIDSTANCE_START) & (ref["cycle_pct"] <= 100 * MIDSTANCE_END)
    return float(ref.loc[window, "knee_flexion_deg"].mean())


def reference_at_rows(walk: OpticalWalk, t_s: np.ndarray, rows: np.ndarray, name: str = "knee_flexion_deg"
                      ) -> tuple[float, float, int]:
    """The reference's ``name`` at the rows ``rows`` (M,) bool of the pipeline's grid ``t_s`` (M,)
    that lie inside its cycles (each row's place in its cycle, 0–100 %, read off the
    time-normalised reference): (mean angle, mean place in the cycle %, rows). For the pipeline's
    own mid-stance samples (``leg.standing`` of a leg referred to mid-stance) it says what the
    markers measure where the pipeline assumes the normative mid-stance flexion, and where in the
    markers' cycle those samples are (NaN, NaN, 0 when none is inside a cycle)."""
    angles, places = [], []
    for c in walk.cycles.itertuples():
        inside = rows & (t_s >= c.t_first_s) & (t_s < c.t_last_s)
        pct = 100.0 * (t_s[inside] - c.t_first_s) / (c.t_last_s - c.t_first_s)
        one = walk.reference[walk.reference["cycle"] == c.cycle]
        angles.append(np.interp(pct, one["cycle_pct"].to_numpy(dtype=float), one[name].to_numpy(dtype=float)))
        places.append(pct)
    angle, place = np.concatenate(angles), np.concatenate(places)
    if not angle.size:
        return np.nan, np.nan, 0
    return float(angle.mean()), float(place.mean()), int(angle.size)


STANCE_MINIMUM_PCT = (10, 50)
"""Where a knee's stance minimum is looked for, % of the cycle (the norm's is at 41 %)."""


def stance_minimum_deg(t_s: np.ndarray, knee_deg: np.ndarray, starts_s: np.ndarray, ends_s: np.ndarray) -> float:
    """The minimum over :data:`STANCE_MINIMUM_PCT` of the mean of the cycles ``starts_s`` …
    ``ends_s`` (K,) of ``knee_deg`` (M,) at ``t_s`` (M,), time-normalised: a landmark of the knee
    angle itself, which a few % of the cycle's timing do not move (its minimum is flat)."""
    mean = np.nanmean([time_normalise(t_s, knee_deg, a, b) for a, b in zip(starts_s, ends_s, strict=True)], axis=0)
    return float(np.min(mean[STANCE_MINIMUM_PCT[0]:STANCE_MINIMUM_PCT[1] + 1]))


def norm_stance_minimum_deg() -> float:
    """The packaged normative knee flexion's minimum over :data:`STANCE_MINIMUM_PCT` (deg; 6.2° at 41 %)."""
    table = normative_gait_table()
    pct = table["gait_cycle_pct"].to_numpy(dtype=float)
    window = (pct >= STANCE_MINIMUM_PCT[0]) & (pct <= STANCE_MINIMUM_PCT[1])
    return float(table.loc[window, "knee_flexion_mean_deg"].min())


def midstance_offset_note(walk: OpticalWalk) -> str:
    """One sentence: the reference's mid-stance knee flexion against the norm."""
    measured, norm = reference_midstance_knee_deg(walk), midstance_knee_flexion_deg()
    return (f"reference knee flexion at mid-stance ({100 * MIDSTANCE_START:.0f}–{100 * MIDSTANCE_END:.0f} % of the "
            f"cycle) {measured:+.1f}°, the normative value a walk without standing is referred to {norm:+.1f}°: "
            f"an expected offset of {norm - measured:+.1f}°")


def sensor_frame_reference(walk: OpticalWalk, leg, sensors: pd.DataFrame, heading_rad: float) -> pd.DataFrame:
    """The angles of the leg's segment frames as the pipeline calibrated them (its
    ``q_sensor_segment``), but with each sensor's orientation measured by its marker cluster
    (``sensors``: ``t_s`` and ``<side>_<thigh|shank>_q_{w,x,y,z}``; both in the lab, so no heading
    between them is estimated) instead of the IMU's: time-normalised per cycle like ``walk.reference``.
    Against the pipeline it isolates the orientation estimation; against the markers the
    calibration's segment frames (and the skin under the cluster vs the marker model)."""
    s = walk.side.value
    t = sensors["t_s"].to_numpy()
    q_world = {seg: quat_multiply(sensors[[f"{s}_{seg}_q_{k}" for k in "wxyz"]].to_numpy(),
                                  getattr(leg.alignment, seg).q_sensor_segment) for seg in ("thigh", "shank")}
    knee = np.rad2deg(joint_angles_rad(q_world["thigh"], q_world["shank"], Joint.KNEE, walk.side))
    hip = np.rad2deg(joint_angles_rad(progression_quat(np.full(t.size, heading_rad)), q_world["thigh"], Joint.HIP,
                                      walk.side))
    series = np.column_stack([knee, hip[:, 2]])
    names = ["knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg", "hip_rotation_deg"]
    rows = []
    for c in walk.cycles.itertuples():
        one = pd.DataFrame(time_normalise(t, series, c.t_first_s, c.t_last_s), columns=names)
        one.insert(0, "cycle_pct", np.arange(N_NORMALISED))
        one.insert(0, "cycle", c.cycle)
        rows.append(one)
    return pd.concat(rows, ignore_index=True)


MARKER_MODELS = {"anatomical": "", "functional axis": "_functional_axis", "cluster-tracked": "_cluster_tracked",
                 "functional": "_functional"}
"""The Geneva reference's marker models and the infix of their columns (``knee_flexion_deg``,
``knee_flexion_functional_axis_deg``, ``knee_flexion_cluster_tracked_deg``,
``knee_flexion_functional_deg`` …; ``benchmarks/convert_grouvel_2023.py``: ``marker_frames``,
``functional_axis_frames``, ``cluster_tracked_frames``, ``functional_frames``)."""


def _model_of(column: str) -> str:
    return next((infix for infix in sorted(MARKER_MODELS.values(), key=len, reverse=True)
                 if infix and column.endswith(f"{infix}_deg")), "")


def marker_model_walk(walk: OpticalWalk, model: str) -> OpticalWalk:
    """The same walk with its reference by one marker model of :data:`MARKER_MODELS`: that model's
    columns under the anatomical model's names (``<angle>_deg``), the other models' dropped."""
    infix = MARKER_MODELS[model]
    columns = [c for c in walk.reference.columns if c.endswith("_deg") and _model_of(c) == infix]
    if not columns:
        raise ValueError(f"{walk.name}: the reference has no columns of the {model} marker model (*{infix}_deg)")
    names = {c: c.removesuffix(f"{infix}_deg") + "_deg" for c in columns}
    return replace(walk, reference=walk.reference[["cycle", "cycle_pct", *columns]].rename(columns=names))


def compare_series(estimate: pd.DataFrame, reference: pd.DataFrame) -> dict[str, tuple[float, float, float, float]]:
    """Per comparable angle both hold, over all cycles: RMSE, offset-free RMSE, bias, r (deg)."""
    return {label: _errors(estimate[name].to_numpy(), reference[name].to_numpy())
            for name, label in COMPARABLE.items() if name in estimate and name in reference}
