"""Real IMU data: a mechanical hinge against optical truth, and walking recordings without truth.

Reproduce (from the repository root; reads ``../shared/datasets``, ≈ 1 min; prints Markdown)::

    .venv/bin/python benchmarks/real_data.py

(a) dfjimu 1-DoF hinge trials (Weygers, Kok et al.; 50 Hz; optical orientation of both sensors).
    imugait's pieces, as ``analyze_session`` uses them: the gyroscope bias measured over the still
    period (``standing_mask``) removed, VQF offline 6-axis orientation of each sensor
    (``orient_stream``), the hinge axes (``fit_hinge_axes``) and the two-axis knee model with its
    (linearly drifting) heading offset (``fit_knee_axes``) on the samples in motion
    (``motion_mask``) — or, as ``calibrate_leg`` does when that model's flexion axis strays more
    than ``max_axis_refinement_deg`` from the hinge axis, the hinge axes and the heading offset
    they imply — and the heading tracking (``track_heading_offset``). Relative orientation sensor 2 in sensor 1
    ``R1⁻¹ · Rz(δ) · R2`` with δ = 0 (no heading alignment), δ = the constant offset of the knee
    fit, or δ tracked over time. Reference: ``A1⁻¹ · Q1⁻¹ · Q2 · A2`` where ``Q`` are the optical
    orientations and ``A`` the constant sensor-to-marker rotations, fitted from the gyroscope
    against the markers' own angular rate (independent of our estimate). Samples where a marker's
    rate disagrees with its gyroscope by more than 1 rad/s are optical glitches and left out.
    Reported: RMSE of the relative rotation angle ``|R_ref⁻¹ · R_est|``, and of the hinge angle
    (rotation about the hinge axis since the first sample; each side about its own axis) after
    removing the constant offset.
(b) Walking recordings (no truth): sessions built with ``imugait.model`` and run through
    ``analyze_session``; strides found and used, cadence, left/right agreement, calibration
    quality, clipped data, and any crash (a crash is a finding: its summary is printed).
(c) A walk with a marker-based reference (committed in ``benchmarks/data/kiel_pp054``: 5.7 s, no
    standing period, the right knee's flexion from markers over 2 strides) through
    ``analyze_session`` as it is; per reference cycle the pipeline's knee flexion between the same
    two heel strikes, time-normalised the same way: RMSE, offset-free RMSE (the mean difference
    removed), and the pipeline's nearest initial contacts against the cycle's heel strikes
    (``benchmarks/_optical.py``). Runs without ``../shared/datasets``; ``--optical-only`` runs it alone.
(d) 35 walks of 9 people with marker-based knee flexion, adduction, rotation and femur rotation
    against the line of progression (committed in ``benchmarks/data/grouvel_2023``, Geneva
    dataset, IMU 25–45 Hz re-synchronised to the markers by the converter, each sensor read on its
    own clock offset unless ``--clock pooled``; cycles from the markers' heel strikes unless
    ``--geneva-cycles plates``): the same comparison per
    leg and trial, summarised over all of them; then the same against the converter's functional,
    functional-axis and cluster-tracked marker models (``benchmarks/_geneva.py``), and the reference's
    own spread: the marker models against each other walk by walk, paired with the pipeline against
    the anatomical model, and the published figures on a marker reference's error
    (``benchmarks/_reference_uncertainty.py``, ``benchmarks/data/reference_uncertainty.json``). Also
    without ``../shared/datasets``, and in ``--optical-only``.

``--tau-acc S`` and ``--no-motion-bias``: every part fused with that VQF tuning
(``AnalysisConfig.fusion_tuning``; ignored with a non-VQF ``--filter``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from _cohort import (
    add_vqf_tuning_arguments,
    calibration_config,
    flexion_limit_from_text,
    fusion_tuning_for,
    vqf_tuning_from_args,
    vqf_tuning_label,
)
from _common import machine, markdown_table
from _geneva import grouvel_table
from _optical import (
    compare_with_reference,
    midstance_offset_note,
    norm_stance_minimum_deg,
    reference_at_rows,
    stance_minimum_deg,
)
from _real_loaders import (
    GenevaCycles,
    HingeTrial,
    SensorClock,
    dfjimu_paths,
    load_dfjimu,
    load_kiel_pp054,
    with_gyr_sampling,
)
from _real_walks import (
    HUGADB_SIDES_NOTE,
    MIN_USED_STRIDES,
    analyse_all,
    plausible,
    walks_of_one_leg,
)
from scipy.ndimage import binary_dilation
from scipy.spatial.transform import Rotation

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.calibration.heading import track_heading_offset, track_heading_offset_from_centre
from imugait.calibration.joint_centre import fit_joint_centre
from imugait.calibration.knee_axes import KneeAxes, fit_knee_axes, heading_offset_from_axes
from imugait.calibration.periods import motion_mask, standing_mask
from imugait.calibration.recording import LegRecording
from imugait.calibration.segment import SegmentCalibrationConfig, fit_hinge_axes
from imugait.conventions import Placement
from imugait.data.gyr_sampling import source_gyr_sampling
from imugait.errors import CalibrationError
from imugait.fusion import FilterKind, FilterTuning
from imugait.fusion.select import orient_stream
from imugait.model import DeviceInfo, GyroSampling, ImuStream
from imugait.timebase import interp_vectors

GLITCH_RADPS = 1.0


def _body_rate(r: Rotation, rate_hz: float) -> np.ndarray:
    """Angular rate (N, 3) in the body frame from orientations, central differences."""
    w = (r[:-1].inv() * r[1:]).as_rotvec() * rate_hz
    return np.vstack([w[:1], 0.5 * (w[1:] + w[:-1]), w[-1:]])


CLOCK_LAGS_S = np.arange(-0.060, 0.0601, 0.0005)
"""Lags searched between a gyroscope and its marker body's rate (s)."""


def gyro_marker_lag_s(q_ref: np.ndarray, gyr: np.ndarray, rate_hz: float, a: Rotation, ok: np.ndarray) -> float:
    """The lag (s) at which the gyroscope, ``A·ω(t + lag)``, best matches its marker body's angular
    rate (central differences of the optical orientations, the rate at each frame's instant) over
    the samples ``ok``: the two clocks' offset plus where in its interval a gyroscope sample sits,
    found without any orientation filter."""
    t = np.arange(gyr.shape[0]) / rate_hz
    w_marker = _body_rate(Rotation.from_quat(q_ref, scalar_first=True), rate_hz)
    rms = [float(np.mean(np.sum((a.apply(interp_vectors(t, gyr, t + lag)) - w_marker)[ok] ** 2, axis=1)))
           for lag in CLOCK_LAGS_S]
    return float(CLOCK_LAGS_S[int(np.argmin(rms))])


def _sensor_to_marker(q_ref: np.ndarray, gyr: np.ndarray, rate_hz: float) -> tuple[Rotation, np.ndarray]:
    """Constant rotation A with ``ω_marker ≈ A ω_sensor`` (two passes, glitches dropped), and the
    (N,) mask of samples where the marker agrees with the gyroscope."""
    w_marker = _body_rate(Rotation.from_quat(q_ref, scalar_first=True), rate_hz)
    a, _ = Rotation.align_vectors(w_marker, gyr)
    ok = np.linalg.norm(a.apply(gyr) - w_marker, axis=1) < GLITCH_RADPS
    a, _ = Rotation.align_vectors(w_marker[ok], gyr[ok])
    ok = np.linalg.norm(a.apply(gyr) - w_marker, axis=1) < GLITCH_RADPS
    return a, ~binary_dilation(~ok, iterations=2)


def _hinge_angle_deg(r_rel: Rotation, axis: np.ndarray) -> np.ndarray:
    """Rotation (deg) about ``axis`` (distal frame) since the first sample."""
    return np.rad2deg((r_rel[0].inv() * r_rel).as_rotvec() @ axis)


@dataclass(frozen=True, eq=False)
class HingeOutcome:
    """One dfjimu trial through imugait's pieces: the table rows, and the default heading
    alignment's hinge angle (deg, sign matched to the reference's) with the reference's, at
    ``t_s`` (s), ``valid`` where both marker bodies are tracked."""

    rows: list[list[str]]
    t_s: np.ndarray
    valid: np.ndarray
    hinge_ref_deg: np.ndarray
    hinge_est_deg: np.ndarray


def hinge_trial(trial: HingeTrial, kind: FilterKind = FilterKind.VQF_OFFLINE,
                gyr_sampling: GyroSampling | None = None, tuning: FilterTuning | None = None) -> list[list[str]]:
    """Part (a)'s rows of one trial; ``gyr_sampling``: what its gyroscope samples are declared
    (default the dataset's entry in ``imugait/data/gyr_sampling.json``); ``tuning``: the filter's
    (None: its defaults)."""
    return hinge_outcome(trial, kind, gyr_sampling, tuning).rows


def hinge_outcome(trial: HingeTrial, kind: FilterKind = FilterKind.VQF_OFFLINE,
                  gyr_sampling: GyroSampling | None = None, tuning: FilterTuning | None = None) -> HingeOutcome:
    n = trial.gyr1_radps.shape[0]
    t = np.arange(n) / trial.rate_hz
    device = DeviceInfo(gyr_sampling=gyr_sampling or source_gyr_sampling("dfjimu"))
    s1 = ImuStream(Placement.LEFT_THIGH, t, trial.acc1_mps2, trial.gyr1_radps, trial.rate_hz, device=device)
    s2 = ImuStream(Placement.LEFT_SHANK, t, trial.acc2_mps2, trial.gyr2_radps, trial.rate_hz, device=device)
    # As analyze_session: the gyroscope bias measured while still is removed before fusion.
    try:
        still = standing_mask(t, [(trial.acc1_mps2, trial.gyr1_radps), (trial.acc2_mps2, trial.gyr2_radps)],
                              rate_hz=trial.rate_hz)
        bias1, bias2 = np.mean(trial.gyr1_radps[still], axis=0), np.mean(trial.gyr2_radps[still], axis=0)
        bias_note = f"gyro bias from {still.sum() / trial.rate_hz:.1f} s still removed"
    except CalibrationError:
        bias1 = bias2 = np.zeros(3)
        bias_note = "no still period: gyro bias not removed"
    s1 = replace(s1, gyr_radps=s1.gyr_radps - bias1)
    s2 = replace(s2, gyr_radps=s2.gyr_radps - bias2)
    q1, q2 = (orient_stream(s, kind, tuning=tuning).q_world_sensor for s in (s1, s2))
    g1, g2 = s1.gyr_radps, s2.gyr_radps
    moving = motion_mask(t, g2, rate_hz=trial.rate_hz)
    hinge = fit_hinge_axes(g1, g2, trial.rate_hz, moving)
    j1, j2, hinge_residual = hinge.axis_thigh, hinge.axis_shank, hinge.residual_rms_radps
    up2 = np.mean(trial.acc2_mps2[: int(trial.rate_hz)], axis=0)
    axes = fit_knee_axes(q1[moving], q2[moving], g1[moving], g2[moving], j1, j2, up2 / np.linalg.norm(up2), t_s=t[moving])
    flex_axis_angle = np.rad2deg(np.arccos(np.clip(float(np.dot(axes.flexion_axis_thigh, j1)), -1.0, 1.0)))
    refined = flex_axis_angle <= SegmentCalibrationConfig().max_axis_refinement_deg
    if not refined:  # as calibrate_leg: the two-axis refinement strayed, keep the hinge axis
        rm1, rm2 = Rotation.from_quat(q1[moving], scalar_first=True), Rotation.from_quat(q2[moving], scalar_first=True)
        axes = KneeAxes(j1, up2 / np.linalg.norm(up2), heading_offset_from_axes(rm1.apply(j1), rm2.apply(j2)),
                        hinge_residual)
    rec = LegRecording(t, q1, q2, g1, g2, trial.acc1_mps2, trial.acc2_mps2, trial.rate_hz)
    track = track_heading_offset(rec, moving, axes)
    # The default since the joint-centre calibration: δ from the knee centre's acceleration seen
    # by both sensors (no axis sign or secondary motion involved).
    centre = fit_joint_centre(rec, moving)
    track_centre = track_heading_offset_from_centre(rec, moving, centre)

    a1, ok1 = _sensor_to_marker(trial.q_ref1, trial.gyr1_radps, trial.rate_hz)
    a2, ok2 = _sensor_to_marker(trial.q_ref2, trial.gyr2_radps, trial.rate_hz)
    valid = ok1 & ok2
    q_ref1, q_ref2 = Rotation.from_quat(trial.q_ref1, scalar_first=True), Rotation.from_quat(trial.q_ref2, scalar_first=True)
    r_ref = a1.inv() * q_ref1.inv() * q_ref2 * a2
    ref_rotvec = (r_ref[0].inv() * r_ref).as_rotvec()
    _, vecs = np.linalg.eigh(ref_rotvec[valid].T @ ref_rotvec[valid])
    ref_axis = vecs[:, -1]
    hinge_ref = _hinge_angle_deg(r_ref, ref_axis)
    # The optical clock against the IMU's, from each gyroscope against its marker body's rate. With
    # the samples integrated as instants the orientations carry that same lag whatever the samples
    # are; taken as interval means they come half a sample earlier (docs/validation.md).
    clock_s = 0.5 * (gyro_marker_lag_s(trial.q_ref1, trial.gyr1_radps, trial.rate_hz, a1, ok1)
                     + gyro_marker_lag_s(trial.q_ref2, trial.gyr2_radps, trial.rate_hz, a2, ok2))
    lag_s = clock_s - (0.5 / trial.rate_hz if device.gyr_sampling is GyroSampling.INTERVAL_MEAN else 0.0)
    ref_unwrapped = np.unwrap(hinge_ref, period=360.0)
    r1, r2 = Rotation.from_quat(q1, scalar_first=True), Rotation.from_quat(q2, scalar_first=True)
    rows, hinge_default = [], None
    for label, delta in (("none (δ = 0)", np.zeros(n)), ("previous: constant δ from the knee-axis fit" if refined
                          else "previous: constant δ from the hinge axes (fallback, gait sign rule)",
                          np.full(n, axes.heading_offset_rad)),
                         ("previous: tracked δ(t) from the rates", track.heading_offset_rad),
                         ("tracked δ(t) from the knee centre (default)", track_centre.heading_offset_rad)):
        r_est = r1.inv() * Rotation.from_rotvec(np.outer(delta, [0.0, 0.0, 1.0])) * r2
        rel_err = np.rad2deg((r_ref.inv() * r_est).magnitude())
        hinge_est = _hinge_angle_deg(r_est, j2)
        if np.corrcoef(hinge_est[valid], hinge_ref[valid])[0, 1] < 0:
            hinge_est = -hinge_est
        diff = (hinge_est - hinge_ref)[valid]
        hinge_default = hinge_est  # the last row: the default alignment
        aligned = (np.interp(t + lag_s, t, np.unwrap(hinge_est, period=360.0)) - ref_unwrapped)[valid]
        rows.append([
            trial.name if not rows else "", label, f"{np.sqrt(np.mean(rel_err[valid] ** 2)):.2f}",
            f"{np.max(rel_err[valid]):.1f}", f"{np.sqrt(np.mean((diff - diff.mean()) ** 2)):.2f}",
            f"{np.sqrt(np.mean((aligned - aligned.mean()) ** 2)):.2f}",
        ])
    rows[0].append(f"{n / trial.rate_hz:.0f} s, ROM {np.ptp(hinge_ref[valid]):.0f}°, {int((~valid).sum())} glitch samples; "
                   f"A1 {np.rad2deg(a1.magnitude()):.1f}°, A2 {np.rad2deg(a2.magnitude()):.1f}°; "
                   f"{bias_note}; two-axis flexion axis {flex_axis_angle:.0f}° from the hinge fit "
                   f"({'refinement kept' if refined else 'strayed: hinge axis kept'}); "
                   f"δ track range {np.rad2deg(np.ptp(track.heading_offset_rad)):.1f}°; "
                   f"gyroscopes lag the markers by {1e3 * clock_s:+.1f} ms")
    for r in rows[1:]:
        r.append("")
    return HingeOutcome(rows, t, valid, hinge_ref, hinge_default)


def _median_largest(values: pd.Series) -> str:
    """'median X° (largest Y°)', or 'not measured' (the pose-only fallback's hip rotation)."""
    if not np.isfinite(values).any():
        return "not measured"
    return f"median {values.median():.1f}° (largest {values.max():.1f}°)"


def walking_tables(jobs: int, calibration: SegmentCalibrationConfig | None = None,
                   filter_kind: FilterKind | None = None, tuning: FilterTuning | None = None) -> None:
    """Part (b): one row per recording and leg, a summary per dataset, and the repeatability of
    the MPU-9250 legs across their walks."""
    t0 = time.perf_counter()
    df = analyse_all(jobs, calibration, filter_kind, tuning=tuning)
    ok = plausible(df)
    legs = df[(df["leg"] != "—") & df["counted"]]

    def cell(row, key: str, fmt: str) -> str:
        value = row.get(key)
        return "—" if value is None or (isinstance(value, float) and not np.isfinite(value)) else format(value, fmt)

    rows, label_check = [], []
    for i, row in df.iterrows():
        if row["outcome"] == "calibrated":
            outcome = f"{row['quality']}, heading: {row['heading']}" + ("" if row["trusted"] else ", **not trusted**")
            strides = f"{int(row['used'])}/{int(row['found'])}"
        else:
            outcome, strides = row["outcome"], "—"
        notes = "; ".join(filter(None, [row.get("note") or "", row.get("reason") or "",
                                        f"unused: {row['unused']}" if isinstance(row.get("unused"), str) and row["unused"] else ""]))
        # A HuGaDB leg as documented is the same physical leg as the other side's exchanged row (the
        # swap check, not counted): in a table of its own, so no recording and leg is listed twice.
        (rows if row["counted"] else label_check).append([
            row["dataset"], row["recording"], row["leg"], cell(row, "duration_s", ".0f"), outcome, strides,
            cell(row, "cadence", ".0f"), cell(row, "stance_pct", ".0f"), cell(row, "knee_range_deg", ".0f"),
            (cell(row, "hip_mean_deg", "+.1f") + (f" ± {row['hip_sd_deg']:.1f}" if np.isfinite(row.get("hip_sd_deg", np.nan)) else "")),
            "yes" if ok[i] else "**no**", notes.replace("|", "/")])
    print("(b) Walking recordings of real people through analyze_session (no reference). One row per recording and "
          "leg; strides used/found; cadence (steps/min), stance (%) and knee flexion range (deg) are medians over used "
          "strides; hip rotation (vs the line of progression) mean ± SD over used strides; plausible = calibrated, "
          f"trusted and ≥ {MIN_USED_STRIDES} used strides\n")
    columns = ["dataset", "recording", "leg", "s", "calibration", "strides", "cadence", "stance %", "knee range",
               "hip rotation", "plausible", "notes"]
    print(markdown_table(columns, rows, align="lllrlrrrrrll"))
    if label_check:
        print("\nThe swap check (not counted): HuGaDB analysed with the documented column order, whose left is the "
              "physical leg of the table's right row of the same recording and the other way round\n")
        print(markdown_table(columns, label_check, align="lllrlrrrrrll"))
    summary = []
    for name, group in legs.groupby("dataset", sort=False):
        good = ok[group.index]
        refused = group[group["outcome"] != "calibrated"]
        summary.append([name, len(group), f"{int(good.sum())} ({100.0 * good.mean():.0f} %)",
                        int((group["outcome"] == "calibrated").sum()), len(refused),
                        int((group.get("trusted") == False).sum()),  # noqa: E712 (NaN for refused legs)
                        f"{group['used'].sum():.0f}" if "used" in group else "—"])
    data_skipped = df[df["leg"] == "—"]
    print(f"\nSummary per dataset ({len(data_skipped)} recordings not analysable for their data are not counted as legs; "
          f"{HUGADB_SIDES_NOTE})\n")
    print(markdown_table(["dataset", "legs", "plausible per-stride results", "calibrated", "refused", "not trusted",
                          "used strides"], summary))
    mpu = df[(df["dataset"] == "gait_rehab_mpu9250") & ok]
    if len(mpu):
        rep = walks_of_one_leg(df).groupby("subject_leg").agg(
            walks=("hip_mean_deg", "size"), hip_sd=("hip_mean_deg", "std"), knee_sd=("knee_range_deg", "std"),
            cadence_sd=("cadence", "std"))
        print(f"\nRepeatability across the walks of one leg (MPU-9250: {len(rep)} legs with 2–4 walks each, sensors "
              "left on between walks): SD across walks of the walk's mean — hip rotation "
              f"{_median_largest(rep['hip_sd'])}, knee flexion range median "
              f"{rep['knee_sd'].median():.1f}° (largest {rep['knee_sd'].max():.1f}°), cadence median "
              f"{rep['cadence_sd'].median():.1f} steps/min. Within one walk, SD of the stride means of hip rotation: "
              f"{_median_largest(mpu['hip_sd_deg'])}.")
    cross = legs[legs["outcome"] == "calibrated"].groupby("dataset", sort=False)["thigh_axis_cross_check_deg"]
    parts = [f"{name} {_median_largest(values.abs().dropna())} (n = {values.notna().sum()})" for name, values in cross]
    print("\nThigh flexion axis, fitted vs the shank's hinge axis carried into the thigh at standing "
          "(|AlignmentQuality.thigh_axis_cross_check_deg|, calibrated legs with a knee model): " + "; ".join(parts) + ".")
    turned = legs[(legs["outcome"] == "calibrated") & legs["thigh_turn_per_knee_flexion"].notna()]
    parts = [f"{name} |k| median {group['thigh_turn_per_knee_flexion'].abs().median():.3f} (largest "
             f"{group['thigh_turn_per_knee_flexion'].abs().max():.3f}), frame turned by "
             f"{_median_largest(group['thigh_walking_turn_deg'].abs())} (n = {len(group)})"
             for name, group in turned.groupby("dataset", sort=False)]
    print("\nThigh sensor's turn about the femur per unit of knee flexion, measured and compensated "
          "(AlignmentQuality.thigh_turn_per_knee_flexion, thigh_walking_turn_deg; legs on the knee-centre path, "
          "against standing or mid-stance): " + ("; ".join(parts) if parts else "none") + ".")
    n_plausible = int(ok[legs.index].sum())
    print(f"\n{len(legs)} legs: {n_plausible} ({100.0 * n_plausible / max(len(legs), 1):.0f} %) with plausible per-stride "
          f"results; {int((legs['outcome'] == 'refused').sum())} refused, {int((legs['outcome'] == 'CRASH').sum())} crashed; "
          f"{time.perf_counter() - t0:.0f} s")


def optical_table(calibration: SegmentCalibrationConfig | None = None, filter_kind: FilterKind | None = None,
                  gyr_sampling: GyroSampling | None = None, tuning: FilterTuning | None = None,
                  upsample_hz: float | None = None) -> None:
    """Part (c): the Kiel pp054 walk against its marker-based right-knee flexion, two sessions (its
    shank sensors, and its distal shank sensors as the shanks). ``gyr_sampling``: declare the
    gyroscope samples so (None: as read, the rate at each sample's instant); ``tuning``: the
    filter's (``AnalysisConfig.fusion_tuning``); ``upsample_hz``: ``AnalysisConfig.fusion_upsample_hz``."""
    config = AnalysisConfig(calibration=calibration or SegmentCalibrationConfig(),
                            filter_kind=filter_kind or AnalysisConfig().filter_kind, fusion_tuning=tuning,
                            fusion_upsample_hz=upsample_hz)
    rows, notes = [], []
    for distal in (False, True):
        walk = load_kiel_pp054(distal_shanks=distal)
        result = analyze_session(with_gyr_sampling(walk.session, gyr_sampling), config)
        leg = result.legs[walk.side]
        comparisons = compare_with_reference(result, walk)
        for c in comparisons:
            rows.append([walk.name if c is comparisons[0] else "", c.angle,
                         str(c.cycle) if c.cycle else "both", f"{c.rmse_deg:.2f}", f"{c.offset_free_rmse_deg:.2f}",
                         f"{c.bias_deg:+.2f}", f"{c.correlation:.4f}", f"{c.range_deg:.1f} / {c.reference_range_deg:.1f}",
                         ", ".join(f"{e:+.0f}" for e in c.contact_errors_ms) or "—"])
        strides = {side.value: f"{sum(s.used for s in other.strides)}/{len(other.strides)}"
                   for side, other in result.legs.items()}
        marked, place, n = reference_at_rows(walk, result.t_s, leg.standing)
        both = next(c for c in comparisons if c.cycle == 0)
        minimum_deg = stance_minimum_deg(result.t_s, leg.angles_deg["knee_flexion_deg"], walk.cycles["t_first_s"].to_numpy(),
                                         walk.cycles["t_last_s"].to_numpy())
        landmark_deg = both.bias_deg - (minimum_deg - norm_stance_minimum_deg())
        notes.append(f"{walk.name}: reference {leg.reference}, calibration {leg.calibration_quality}, heading "
                     f"{leg.alignment.quality.heading_source.value}; strides used/found {strides}; knee flexion "
                     f"over its own mid-stance samples {np.mean(leg.angles_deg['knee_flexion_deg'][leg.standing]):.1f}°; "
                     f"the markers' there {marked:+.1f}° ({n} of those samples in the markers' cycles, on average at "
                     f"{place:.1f} % of the cycle); with a stance-minimum reference instead (not the pipeline's: "
                     f"the knee turned so that its mean cycle's minimum over 10–50 % reads the norm's "
                     f"{norm_stance_minimum_deg():.1f}°) the bias would be {landmark_deg:+.2f}° and the RMSE "
                     f"{np.hypot(both.offset_free_rmse_deg, landmark_deg):.2f}°")
    print("(c) Marker-based reference: Kiel pp054 walk WT_01 (5.7 s, 200 Hz, no standing period; right knee flexion "
          "of 2 strides from markers, time-normalised; benchmarks/data/kiel_pp054/README.md). Degrees; bias = mean of "
          "pipeline − markers; offset-free = RMSE with the bias removed (per cycle its own, 'both' one for the walk); "
          "heel strikes = the pipeline's nearest initial contact − the cycle's opening, closing heel strike (ms; those "
          "are biomechZoo's IMU-detected, corrected events, not optical ones). Targets: knee flexion RMSE ≤ 5°, "
          "offset-free ≤ 3°. Knee adduction/rotation and hip rotation have no marker reference here; the reference's "
          "hip flexion (femur vs pelvis) needs a pelvis sensor and a standing period in the pipeline: not compared.\n")
    print(markdown_table(["recording", "angle", "cycle", "RMSE", "offset-free RMSE", "bias", "r", "range (pipeline / markers)",
                          "heel strikes (ms)"], rows, align="lllrrrrrl"))
    print("\n" + "\n".join(f"- {n}" for n in notes) + f"\n- {midstance_offset_note(load_kiel_pp054())}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes for the walking recordings")
    parser.add_argument("--pose-only", action="store_true",
                        help="walking recordings only, every leg calibrated by the pose-only fallback")
    parser.add_argument("--shank-axis-weight", type=float, default=0.0, metavar="W",
                        help="calibrate with SegmentCalibrationConfig.shank_axis_weight=W (the thigh's flexion axis "
                             "partly from the shank's hinge axis)")
    parser.add_argument("--flexion-axis-limit", type=flexion_limit_from_text, default="", metavar="DEG|none",
                        help="fit the flexion axis to the samples with the knee flexed at most DEG from the reference "
                             "pose, with a standing and a mid-stance reference alike; 'none': all samples (default: "
                             "the calibration's, SegmentCalibrationConfig)")
    parser.add_argument("--no-thigh-turn", dest="thigh_turn", action="store_false",
                        help="calibrate without compensating the thigh sensor's turn with knee flexion "
                             "(SegmentCalibrationConfig.compensate_thigh_turn=False)")
    parser.add_argument("--no-thigh-tilt", dest="thigh_tilt", action="store_false",
                        help="calibrate without compensating the thigh sensor's frontal-plane tilt with knee flexion "
                             "(SegmentCalibrationConfig.compensate_thigh_tilt=False; the default compensates)")
    parser.add_argument("--moving-knee-centre", dest="centre_moves", action="store_true",
                        help="fit the knee centre moving on the thigh sensor with knee flexion, as a sensor on soft "
                             "tissue slides (SegmentCalibrationConfig.centre_moves_with_flexion=True; the default "
                             "keeps it fixed)")
    parser.add_argument("--no-midstance-thigh-turn", dest="midstance_thigh_turn", action="store_false",
                        help="calibrate a leg referred to mid-stance without compensating the thigh sensor's turn "
                             "(SegmentCalibrationConfig.midstance_compensate_thigh_turn=False; the default compensates)")
    parser.add_argument("--filter", choices=[k.value for k in FilterKind], default=None,
                        help="orientation filter (default: the analysis' default)")
    parser.add_argument("--clock", choices=[c.value for c in SensorClock], default=SensorClock.OWN.value,
                        help="part (d): the clock each Geneva sensor is read on — own: its own offset in the walk "
                             "(sensor_clocks.csv; the default since 2026-12-06), pooled: the converter's one offset "
                             "for all (the tables before), placement: its placement's median offset over the other walks")
    parser.add_argument("--own-clocks", dest="clock", action="store_const", const=SensorClock.OWN.value,
                        help="the same as --clock own (the default)")
    parser.add_argument("--geneva-cycles", choices=[c.value for c in GenevaCycles], default=GenevaCycles.ZENI.value,
                        help="part (d): the reference's cycles from the markers' Zeni heel strikes (default) or from "
                             "the force plates' contacts (a plate's where one was hit, else Zeni moved by the plates' "
                             "median lead): a reference correction")
    parser.add_argument("--optical-only", action="store_true", help="parts (c) and (d) only (the committed walks with markers)")
    parser.add_argument("--hinge-only", action="store_true", help="part (a) only (the dfjimu mechanical hinge)")
    parser.add_argument("--gyr-sampling", choices=[g.value for g in GyroSampling], default=None,
                        help="parts (a), (c) and (d): declare the recordings' gyroscope samples so (default: as read, "
                             "what imugait/data/gyr_sampling.json says for each; interval_mean on point samples "
                             "reproduces the integration before 2026-12-06)")
    add_vqf_tuning_arguments(parser)
    parser.add_argument("--upsample-hz", type=float, default=None, metavar="HZ",
                        help="parts (c) and (d): fuse sensors slower than HZ on samples interpolated up to about HZ "
                             "(AnalysisConfig.fusion_upsample_hz; default off)")
    parser.add_argument("--reference-spread-csv", type=Path, default=None, metavar="CSV",
                        help="part (d): write the per-walk table of the reference spread (knee flexion, pipeline and "
                             "marker models against each other) here")
    args = parser.parse_args()
    kind = None if args.filter is None else FilterKind(args.filter)
    sampling = None if args.gyr_sampling is None else GyroSampling(args.gyr_sampling)
    calibration = calibration_config(args.pose_only, args.shank_axis_weight, args.flexion_axis_limit, args.thigh_turn,
                                     args.thigh_tilt, args.centre_moves, args.midstance_thigh_turn)
    tuning = fusion_tuning_for(kind or AnalysisConfig().filter_kind, vqf_tuning_from_args(args))
    print(f"Real data; {machine()}; {dt.date.today()}" + (f"; {vqf_tuning_label(tuning)}" if tuning else "") + "\n")
    if args.upsample_hz:
        print(f"parts (c) and (d) fused on samples interpolated up to ≥ {args.upsample_hz:g} Hz\n")
    if args.optical_only:
        optical_table(calibration, kind, sampling, tuning, args.upsample_hz)
        grouvel_table(calibration, kind, sampling, SensorClock(args.clock), GenevaCycles(args.geneva_cycles), tuning=tuning,
                      upsample_hz=args.upsample_hz, spread_csv=args.reference_spread_csv)
        return
    trials = [] if args.pose_only else dfjimu_paths()
    if args.pose_only:
        print("(a) skipped: --pose-only (the walking recordings with the pose-only fallback forced)")
    elif trials:
        hinge_kind = kind or AnalysisConfig().filter_kind
        print(f"(a) dfjimu 1-DoF hinge vs optical reference ({hinge_kind.value} 6-axis), deg\n")
        print(f"gyroscope samples: {(sampling or source_gyr_sampling('dfjimu')).value}"
              f"{' (--gyr-sampling)' if sampling else ' (imugait/data/gyr_sampling.json, dfjimu)'}\n")
        rows = [r for p in trials for r in hinge_trial(load_dfjimu(p), hinge_kind, sampling, tuning)]
        print(markdown_table(["trial", "heading alignment", "relative rotation RMSE", "max", "hinge angle RMSE (offset removed)",
                              "the same, optical clock aligned", "notes"], rows, align="llrrrrl"))
    else:
        print("(a) skipped: no ../shared/datasets/dfjimu/data_1D_*.mat")
    if args.hinge_only:
        return
    walking_tables(args.jobs, calibration, kind, tuning)
    print()
    optical_table(calibration, kind, sampling, tuning, args.upsample_hz)
    grouvel_table(calibration, kind, sampling, SensorClock(args.clock), GenevaCycles(args.geneva_cycles), tuning=tuning,
                  upsample_hz=args.upsample_hz, spread_csv=args.reference_spread_csv)


if __name__ == "__main__":
    main()
