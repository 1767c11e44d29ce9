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
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from dataclasses import replace

import numpy as np
from _common import machine, markdown_table
from _real_loaders import (
    HingeTrial,
    dfjimu_paths,
    hugadb_corrupted_legs,
    hugadb_paths,
    load_dfjimu,
    load_hugadb,
    load_qmt,
    load_skinematics,
    raw_clipped_fraction,
)
from scipy.ndimage import binary_dilation
from scipy.spatial.transform import Rotation

from imugait.analysis import analyze_session
from imugait.calibration.heading import track_heading_offset, track_heading_offset_from_centre
from imugait.calibration.joint_centre import fit_joint_centre
from imugait.calibration.knee_axes import KneeAxes, fit_knee_axes, heading_offset_from_axes
from imugait.calibration.periods import motion_mask, standing_mask
from imugait.calibration.segment import SegmentCalibrationConfig, fit_hinge_axes
from imugait.conventions import Placement, Side
from imugait.errors import CalibrationError, ValidationError
from imugait.fusion.select import orient_stream
from imugait.gait.cycles import Exclusion
from imugait.model import ImuStream

GLITCH_RADPS = 1.0


def _body_rate(r: Rotation, rate_hz: float) -> np.ndarray:
    """Angular rate (N, 3) in the body frame from orientations, central differences."""
    w = (r[:-1].inv() * r[1:]).as_rotvec() * rate_hz
    return np.vstack([w[:1], 0.5 * (w[1:] + w[:-1]), w[-1:]])


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


def hinge_trial(trial: HingeTrial) -> list[list[str]]:
    n = trial.gyr1_radps.shape[0]
    t = np.arange(n) / trial.rate_hz
    s1 = ImuStream(Placement.LEFT_THIGH, t, trial.acc1_mps2, trial.gyr1_radps, trial.rate_hz)
    s2 = ImuStream(Placement.LEFT_SHANK, t, trial.acc2_mps2, trial.gyr2_radps, trial.rate_hz)
    # As analyze_session: the gyroscope bias measured while still is removed before fusion.
    try:
        still = standing_mask(t, [(trial.acc1_mps2, trial.gyr1_radps), (trial.acc2_mps2, trial.gyr2_radps)])
        bias1, bias2 = np.mean(trial.gyr1_radps[still], axis=0), np.mean(trial.gyr2_radps[still], axis=0)
        bias_note = f"gyro bias from {still.sum() / trial.rate_hz:.1f} s still removed"
    except CalibrationError:
        bias1 = bias2 = np.zeros(3)
        bias_note = "no still period: gyro bias not removed"
    s1 = replace(s1, gyr_radps=s1.gyr_radps - bias1)
    s2 = replace(s2, gyr_radps=s2.gyr_radps - bias2)
    q1, q2 = orient_stream(s1).q_world_sensor, orient_stream(s2).q_world_sensor
    g1, g2 = s1.gyr_radps, s2.gyr_radps
    moving = motion_mask(t, g2)
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
    track = track_heading_offset(t, q1, q2, g1, g2, moving, axes)
    # The default since the joint-centre calibration: δ from the knee centre's acceleration seen
    # by both sensors (no axis sign or secondary motion involved).
    centre = fit_joint_centre(t, q1, q2, g1, g2, trial.acc1_mps2, trial.acc2_mps2, moving)
    track_centre = track_heading_offset_from_centre(
        t, q1, q2, g1, g2, trial.acc1_mps2, trial.acc2_mps2, moving, centre)

    a1, ok1 = _sensor_to_marker(trial.q_ref1, trial.gyr1_radps, trial.rate_hz)
    a2, ok2 = _sensor_to_marker(trial.q_ref2, trial.gyr2_radps, trial.rate_hz)
    valid = ok1 & ok2
    q_ref1, q_ref2 = Rotation.from_quat(trial.q_ref1, scalar_first=True), Rotation.from_quat(trial.q_ref2, scalar_first=True)
    r_ref = a1.inv() * q_ref1.inv() * q_ref2 * a2
    ref_rotvec = (r_ref[0].inv() * r_ref).as_rotvec()
    _, vecs = np.linalg.eigh(ref_rotvec[valid].T @ ref_rotvec[valid])
    ref_axis = vecs[:, -1]
    hinge_ref = _hinge_angle_deg(r_ref, ref_axis)
    r1, r2 = Rotation.from_quat(q1, scalar_first=True), Rotation.from_quat(q2, scalar_first=True)
    rows = []
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
        rows.append([
            trial.name if not rows else "", label, f"{np.sqrt(np.mean(rel_err[valid] ** 2)):.2f}",
            f"{np.max(rel_err[valid]):.1f}", f"{np.sqrt(np.mean((diff - diff.mean()) ** 2)):.2f}",
        ])
    rows[0].append(f"{n / trial.rate_hz:.0f} s, ROM {np.ptp(hinge_ref[valid]):.0f}°, {int((~valid).sum())} glitch samples; "
                   f"A1 {np.rad2deg(a1.magnitude()):.1f}°, A2 {np.rad2deg(a2.magnitude()):.1f}°; "
                   f"{bias_note}; two-axis flexion axis {flex_axis_angle:.0f}° from the hinge fit "
                   f"({'refinement kept' if refined else 'strayed: hinge axis kept'}); "
                   f"δ track range {np.rad2deg(np.ptp(track.heading_offset_rad)):.1f}°")
    for r in rows[1:]:
        r.append("")
    return rows


def analyse_walk(name: str, load, note: str = "") -> dict:
    """Load and analyse one walking recording; never raises (a refusal or crash is recorded)."""
    out = {"name": name, "note": note}
    try:
        session, raw = load()
    except ValidationError as exc:  # the data cannot be used at all
        out["skipped"] = str(exc)
        return out
    try:
        out["duration_s"] = session.t_end_s - session.t_start_s
        out["raw_clipped_pct"] = None if raw is None else 100.0 * raw_clipped_fraction(raw)
        t0 = time.perf_counter()
        result = analyze_session(session)
        out["analysis_s"] = time.perf_counter() - t0
    except (CalibrationError, ValidationError) as exc:  # a refusal with a reason
        out["refused"] = "; ".join(dict.fromkeys(str(exc).split("; ")))  # the same reason for both legs once
        return out
    except Exception as exc:  # a crash is a finding
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        message = "; ".join(dict.fromkeys(str(exc).split("; ")))
        out["error"] = f"{type(exc).__name__}: {message} (at {tb.filename.split('imugait/')[-1]}:{tb.lineno})"
        return out
    cyc = result.cycles
    for side in Side:
        if side not in result.legs:
            continue
        leg = result.legs[side]
        c = cyc[cyc["side"] == side.value]
        used = c[c["used"]]
        out[side.value] = {
            "strides": f"{len(used)}/{len(c)}",
            "cadence": result.metric(side, "cadence_steps_per_min"),
            "stride_time_s": result.metric(side, "stride_time_s"),
            "calibration": f"{leg.calibration_quality} ({leg.alignment.quality.relative_residual:.2f})",
            "clipped_pct": 100.0 * float(leg.clipped.mean()),
            "acc_clipped_pct": 100.0 * float(leg.acc_clipped.mean()) if leg.acc_clipped is not None else np.nan,
            "clipped_strides": int((c["exclusion"] == Exclusion.CLIPPED.value).sum()),
            "events_outside_walk": _events_outside_walk(result, leg),
            "unused": c.loc[~c["used"], "exclusion"].value_counts().to_dict(),
            "cadence_all": float(120.0 / c["stride_time_s"].median()) if len(c) else np.nan,
        }
    out["warnings"] = "; ".join(result.warnings)
    return out


def _events_outside_walk(result, leg) -> int | None:
    """Initial contacts detected outside the recording's ``walk*`` steps (None if none annotated)."""
    walks = [s for s in result.session_meta.steps if s.name.startswith("walk")]
    if not walks:
        return None
    ic = leg.events.initial_contact_s[np.isfinite(leg.events.initial_contact_s)]
    inside = np.zeros(ic.shape, dtype=bool)
    for s in walks:
        inside |= (ic >= s.t_start_s) & (ic <= s.t_end_s)
    return int((~inside).sum())


def _hugadb_note(path) -> str:
    corrupted = [p.value for p in hugadb_corrupted_legs(path)]
    return f"gyroscopes listed as corrupted by the maintainers (leg left out): {', '.join(corrupted)}" if corrupted else ""


def walk_rows(r: dict) -> list[str]:
    if "skipped" in r:
        return [r["name"], "—", "—", "—", "—", "—", "n/a", f"not analysed: {r['skipped']}"]
    if "error" in r or "refused" in r:
        raw = "n/a" if r.get("raw_clipped_pct") is None else f"{r['raw_clipped_pct']:.1f} % → not analysed"
        duration = f"{r['duration_s']:.0f}" if "duration_s" in r else "—"
        outcome = f"**crash**: {r['error']}" if "error" in r else f"refused: {r['refused']}"
        return [r["name"], duration, "—", "—", "—", "—", raw, "; ".join(filter(None, [r["note"], outcome]))]
    legs = {s: r.get(s) for s in ("left", "right")}

    def both(key: str, fmt: str) -> str:
        return " / ".join("—" if legs[s] is None else ("n/a" if not np.isfinite(legs[s][key]) else format(legs[s][key], fmt))
                          if isinstance(legs[s][key], float) else str(legs[s][key]) for s in ("left", "right"))

    agree = "—"
    if legs["left"] and legs["right"]:
        dst = 1000.0 * (legs["right"]["stride_time_s"] - legs["left"]["stride_time_s"])
        dcad = legs["right"]["cadence"] - legs["left"]["cadence"]
        agree = f"{dst:+.0f} ms / {dcad:+.1f}" if np.isfinite(dst) else "n/a"
    raw = "n/a" if r.get("raw_clipped_pct") is None else f"{r['raw_clipped_pct']:.1f} %"
    flagged = " / ".join("—" if legs[s] is None else
                         f"gyr {legs[s]['clipped_pct']:.1f} % ({legs[s]['clipped_strides']}), acc {legs[s]['acc_clipped_pct']:.1f} %"
                         for s in ("left", "right"))
    notes = []
    outside = [legs[s]["events_outside_walk"] for s in ("left", "right") if legs[s]]
    if any(o is not None for o in outside):
        notes.append("ICs outside walking: " + " / ".join(str(o) for o in outside))
    short = {e.value: e.name.lower().replace("_", " ") for e in Exclusion}
    for s in ("left", "right"):
        if legs[s] and legs[s]["unused"]:
            reasons = ", ".join(f"{n} {short.get(k, k)}" for k, n in legs[s]["unused"].items())
            notes.append(f"{s} unused: {reasons}")
    if any(legs[s] and legs[s]["strides"].startswith("0/") for s in ("left", "right")):
        notes.append("median cadence of all strides (none used): "
                     + " / ".join("—" if legs[s] is None else f"{legs[s]['cadence_all']:.1f}" for s in ("left", "right")))
    if r.get("warnings"):
        notes.append(r["warnings"])
    if r["note"]:
        notes.insert(0, r["note"])
    return [r["name"], f"{r['duration_s']:.0f}", both("strides", ""), both("cadence", ".1f"), agree,
            both("calibration", ""), f"{raw} → {flagged}", "; ".join(notes)]


def main() -> None:
    t0 = time.perf_counter()
    print(f"Real data; {machine()}; {dt.date.today()}\n")
    trials = dfjimu_paths()
    if trials:
        print("(a) dfjimu 1-DoF hinge vs optical reference (VQF offline 6-axis), deg\n")
        rows = [r for p in trials for r in hinge_trial(load_dfjimu(p))]
        print(markdown_table(["trial", "heading alignment", "relative rotation RMSE", "max", "hinge angle RMSE (offset removed)",
                              "notes"], rows, align="llrrrl"))
    else:
        print("(a) skipped: no ../shared/datasets/dfjimu/data_1D_*.mat")
    walks = [(p.stem.replace("HuGaDB_v1_", "hugadb "), (lambda p=p: load_hugadb(p)), _hugadb_note(p))
             for p in hugadb_paths()]
    walks.append(("qmt_full_body (stand 40–44 s annotated)", lambda: (load_qmt(), None), ""))
    walks.append(("skinematics_xsens_leg (as right leg)", lambda: (load_skinematics(), None), ""))
    walks.append(("skinematics_xsens_leg (as left leg)",
                  lambda: (load_skinematics(Placement.LEFT_THIGH, Placement.LEFT_SHANK), None), ""))
    results = [analyse_walk(name, load, note) for name, load, note in walks]
    print("\n(b) Walking recordings through analyze_session (no truth). Per side left / right; agreement is "
          "right − left stride time and cadence; clipped: raw int16 samples at full scale (4 leg sensors) → "
          "flagged by imugait per leg, % of grid: gyroscope (strides excluded for it), accelerometer (reported only)\n")
    print(markdown_table(["recording", "s", "strides used/total", "cadence steps/min", "R − L stride time / cadence",
                          "calibration (rel. residual)", "clipped: raw → flagged", "notes"],
                         [walk_rows(r) for r in results], align="lrrrrlll"))
    n_crash = sum("error" in r for r in results)
    n_refused = sum("refused" in r for r in results)
    n_skipped = sum("skipped" in r for r in results)
    print(f"\n{len(results)} walking recordings: {len(results) - n_skipped - n_refused - n_crash} analysed, "
          f"{n_skipped} not analysable (data), {n_refused} refused, {n_crash} crashed; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
