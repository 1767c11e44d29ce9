"""The simulated walking cohort of ``benchmarks/accuracy.py``: who walks, and how one walker is
scored against the simulator's ground truth.

Every walker is drawn from one seeded generator, so ``draw_cohort(n, seed)`` always gives the same
people. A :class:`CohortVariant` changes the recording, not the people: the same walker with the
soft-tissue artefact on, or walking a 2-pass 10-m walk without standing. :func:`evaluate_walker`
simulates one of them, analyses the raw sensor data end to end with
:func:`imugait.analysis.analyze_session` and compares the result with the truth; it returns plain
numbers (a dict) so that it can run in a worker process.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
from _hip_split import bone_skin, hip_rotation_split, mean_rotation, rmse
from scipy.spatial.transform import Rotation

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.calibration.segment import SegmentCalibrationConfig
from imugait.conventions import Joint, Placement, Segment, Side, joint_angles_rad, quat, rotation
from imugait.fusion import FilterKind, VqfTuning
from imugait.fusion.settings import TUNING_TYPE
from imugait.simulate import (
    AntiAlias,
    SensorErrors,
    SideParams,
    SimulationConfig,
    WalkerParams,
    corridor_walk,
    simulate,
    ten_metre_walk,
    walking_test,
)

EVENT_MATCH_S = 0.3
"""A true event is found when a detected event of the same kind lies within this, s."""
STANDING_WEIGHT = 1e-3
"""Truth samples with a walking weight below this are standing (no stepping at all)."""
ANGLES = (  # (estimate column, truth column, short name)
    ("knee_flexion_deg", "knee_flexion_deg", "knee_flexion"),
    ("knee_adduction_deg", "knee_adduction_deg", "knee_adduction"),
    ("knee_rotation_deg", "knee_rotation_deg", "knee_rotation"),
    ("hip_rotation_deg", "hip_rotation_progression_deg", "hip_rotation"),
)


@dataclass(frozen=True)
class CohortVariant:
    """How the cohort's recordings differ from the default (the people stay the same).

    ``sta_scale``: soft-tissue artefact of thigh and shank sensors (0 = off, 1 = the literature
    ranges of ``imugait/data/soft_tissue_artefact.json``); it replaces the small heel-strike
    wobble. ``ten_metre_passes``: instead of the standing/bouts/standing walk, a 10-m walk of
    this many passes with 180° turns and no standing period (0 = the default walk).
    ``corridor_s``: instead, a corridor walk (up and down the default corridor, 180° turns at the
    ends) of this many seconds without a standing period (0 = not).
    ``pose_only``: the recording unchanged, every leg calibrated by the pose-only fallback
    (:mod:`imugait.calibration.pose`) — that path's own errors.
    ``sample_rate_hz``: every walker recorded at this rate (0 = each walker's own draw from
    {100, 200} Hz).
    """

    sta_scale: float = 0.0
    ten_metre_passes: int = 0
    ten_metre_standing: bool = False
    """With ``ten_metre_passes``: stand before and after the passes (``--ten-metre-standing``): the
    same short walk with a standing reference."""
    corridor_s: float = 0.0
    pose_only: bool = False
    shank_axis_weight: float = 0.0
    flexion_axis_limit: str = ""
    """``--flexion-axis-limit``: '' (the calibration's defaults), 'none' or degrees
    (:func:`calibration_config`)."""
    thigh_turn: bool = True
    """``SegmentCalibrationConfig.compensate_thigh_turn`` (``--no-thigh-turn``: False)."""
    thigh_tilt: bool = True
    """``SegmentCalibrationConfig.compensate_thigh_tilt`` (``--no-thigh-tilt``: False)."""
    centre_moves: bool = False
    """``SegmentCalibrationConfig.centre_moves_with_flexion`` (``--moving-knee-centre``: True)."""
    midstance_thigh_turn: bool = True
    """``SegmentCalibrationConfig.midstance_compensate_thigh_turn`` (``--no-midstance-thigh-turn``: False)."""
    vqf_tuning: VqfTuning | None = None
    """``AnalysisConfig.fusion_tuning`` of a VQF path (``--tau-acc``, ``--no-motion-bias``; None: VQF's defaults)."""
    sample_rate_hz: float = 0.0
    upsample_hz: float | None = None
    """``AnalysisConfig.fusion_upsample_hz`` (``--upsample-hz``; None: off)."""
    anti_alias: AntiAlias = AntiAlias.NONE
    """``SensorErrors.anti_alias`` of every sensor (``--anti-alias``; NONE: point samples)."""

    @property
    def label(self) -> str:
        parts = [f"soft-tissue artefact ×{self.sta_scale:g}" if self.sta_scale else "no soft-tissue artefact"]
        standing = "standing before and after" if self.ten_metre_standing else "no standing"
        parts.append(f"{self.ten_metre_passes}-pass 10-m walk, {standing}" if self.ten_metre_passes
                     else f"{self.corridor_s:g}-s corridor walk, no standing" if self.corridor_s
                     else "stand, 2–3 bouts, stand")
        if self.pose_only:
            parts.append("pose-only calibration forced")
        if self.shank_axis_weight:
            parts.append(f"thigh axis {self.shank_axis_weight:g} from the shank's hinge axis")
        if self.flexion_axis_limit:
            parts.append("flexion axis fitted to every sample" if self.flexion_axis_limit == "none"
                         else f"flexion axis fitted up to {float(self.flexion_axis_limit):g}° of knee flexion")
        if not self.thigh_turn:
            parts.append("thigh sensor's turn with knee flexion not compensated")
        if not self.thigh_tilt:
            parts.append("thigh sensor's frontal tilt with knee flexion not compensated")
        if self.centre_moves:
            parts.append("knee centre moving on the thigh sensor with knee flexion")
        if not self.midstance_thigh_turn:
            parts.append("thigh sensor's turn not compensated with a mid-stance reference")
        if self.vqf_tuning is not None:
            parts.append(vqf_tuning_label(self.vqf_tuning))
        if self.sample_rate_hz:
            parts.append(f"every walker at {self.sample_rate_hz:g} Hz")
        if self.upsample_hz:
            parts.append(f"fused on samples interpolated up to ≥ {self.upsample_hz:g} Hz")
        if self.anti_alias is not AntiAlias.NONE:
            parts.append("sensors that low-pass at their rate (means over each sample interval)")
        return "; ".join(parts)


@dataclass(frozen=True)
class WalkerSpec:
    """One simulated person and recording (everything :func:`evaluate_walker` needs)."""

    index: int
    config: SimulationConfig
    pose_only: bool = False
    """Analyse with the pose-only calibration forced."""
    shank_axis_weight: float = 0.0
    """``SegmentCalibrationConfig.shank_axis_weight`` of the analysis."""
    flexion_axis_limit: str = ""
    """``--flexion-axis-limit``: '' (the calibration's defaults), 'none' or degrees
    (:func:`calibration_config`)."""
    thigh_turn: bool = True
    """``SegmentCalibrationConfig.compensate_thigh_turn`` of the analysis."""
    thigh_tilt: bool = True
    """``SegmentCalibrationConfig.compensate_thigh_tilt`` of the analysis."""
    centre_moves: bool = False
    """``SegmentCalibrationConfig.centre_moves_with_flexion`` of the analysis."""
    midstance_thigh_turn: bool = True
    """``SegmentCalibrationConfig.midstance_compensate_thigh_turn`` of the analysis."""
    vqf_tuning: VqfTuning | None = None
    """The analysis' ``fusion_tuning`` when its filter is VQF (None: VQF's defaults)."""
    upsample_hz: float | None = None
    """The analysis' ``fusion_upsample_hz``."""

    @property
    def label(self) -> str:
        return f"w{self.index:03d}"


def _side(rng: np.random.Generator) -> SideParams:
    kind = rng.choice(["none", "static", "dynamic", "both"])
    static = float(rng.uniform(0.0, 8.0)) if kind in ("static", "both") else 0.0
    dynamic = float(rng.uniform(0.0, 8.0)) if kind in ("dynamic", "both") else 0.0
    return SideParams(
        hip_rotation_offset_deg=float(rng.uniform(-10.0, 20.0)),
        knee_valgus_deg=static,
        knee_dynamic_valgus_deg=dynamic,
        sagittal_scale=float(rng.uniform(0.9, 1.1)),
    )


def draw_walker(index: int, seed: int = 2026, variant: CohortVariant | None = None) -> WalkerSpec:
    """Walker ``index`` of the cohort drawn with ``seed`` (independent of the cohort size), recorded
    as ``variant`` says (every draw is made first, so a variant changes nothing else)."""
    rng = np.random.default_rng([seed, index])
    walker = WalkerParams(
        height_m=float(rng.uniform(1.5, 1.95)),
        speed_mps=float(rng.uniform(0.9, 1.6)),
        cadence_spm=float(rng.uniform(95.0, 125.0)),
        left=_side(rng),
        right=_side(rng),
        stride_time_cv=float(rng.uniform(0.01, 0.04)),
        angle_variability_deg=float(rng.uniform(0.5, 1.5)),
    )
    noise = float(rng.uniform(0.5, 2.0))  # scales the default noise SDs
    disturbed = rng.random() < 0.3
    errors = SensorErrors(
        acc_noise_mps2=0.02 * noise,
        gyr_noise_radps=0.004 * noise,
        gyr_bias_radps=float(rng.uniform(0.005, 0.02)),
        acc_bias_mps2=float(rng.uniform(0.02, 0.1)),
        clock_drift_ppm=float(rng.uniform(10.0, 50.0)),
        # Lost bursts average 2 samples, so this loses 0–1 % of the samples.
        loss_probability=float(rng.uniform(0.0, 0.005)),
        wobble_deg=float(rng.uniform(0.5, 1.5)),
        magnetic_disturbance_uT=float(rng.uniform(20.0, 80.0)) if disturbed else 0.0,
    )
    timeline = walking_test(
        n_bouts=int(rng.integers(2, 4)), bout_s=float(rng.uniform(12.0, 15.0)), stand_s=float(rng.uniform(4.0, 6.0))
    )
    config = SimulationConfig(
        walker=walker, timeline=timeline, errors=errors, sample_rate_hz=float(rng.choice([100.0, 200.0])),
        random_mounting=True, initial_heading_deg=float(rng.uniform(0.0, 360.0)),
        seed=int(rng.integers(2**31)), subject_id=f"cohort-{index:03d}",
    )
    variant = variant or CohortVariant()
    return WalkerSpec(index, apply_variant(config, variant), pose_only=variant.pose_only,
                      shank_axis_weight=variant.shank_axis_weight, flexion_axis_limit=variant.flexion_axis_limit,
                      thigh_turn=variant.thigh_turn, thigh_tilt=variant.thigh_tilt, centre_moves=variant.centre_moves,
                      midstance_thigh_turn=variant.midstance_thigh_turn,
                      vqf_tuning=variant.vqf_tuning, upsample_hz=variant.upsample_hz)


def apply_variant(config: SimulationConfig, variant: CohortVariant) -> SimulationConfig:
    """``config`` recorded as ``variant`` says."""
    if variant.sample_rate_hz:
        config = dataclasses.replace(config, sample_rate_hz=variant.sample_rate_hz)
    if variant.sta_scale:
        errors = dataclasses.replace(config.errors, soft_tissue_scale=variant.sta_scale, wobble_deg=0.0)
        config = dataclasses.replace(config, errors=errors)
    if variant.anti_alias is not AntiAlias.NONE:
        config = dataclasses.replace(config, errors=dataclasses.replace(config.errors, anti_alias=variant.anti_alias))
    if variant.ten_metre_passes:
        timeline = ten_metre_walk(config.walker.speed_mps, passes=variant.ten_metre_passes,
                                  standing=variant.ten_metre_standing)
        config = dataclasses.replace(config, timeline=timeline)
    elif variant.corridor_s:
        timeline = corridor_walk(config.walker.speed_mps, variant.corridor_s, standing=False)
        config = dataclasses.replace(config, timeline=timeline)
    return config


def flexion_limit_from_text(value: str) -> str:
    """``--flexion-axis-limit``: degrees, or ``none`` (every sample) — checked, kept as text; ''
    (the option's default: argparse passes it through here too) keeps the calibration's defaults."""
    if value not in ("", "none"):
        float(value)
    return value


def calibration_config(pose_only: bool = False, shank_axis_weight: float = 0.0,
                       flexion_axis_limit: str = "", thigh_turn: bool = True,
                       thigh_tilt: bool = True, centre_moves: bool = False,
                       midstance_thigh_turn: bool = True) -> SegmentCalibrationConfig:
    """The analysis' calibration for the benchmark options; ``flexion_axis_limit`` ('' = the
    defaults, 'none' = every sample, or degrees) sets the flexion-axis fit's limit with a
    standing and with a mid-stance reference alike; ``thigh_turn``:
    ``SegmentCalibrationConfig.compensate_thigh_turn``; ``thigh_tilt``: ``compensate_thigh_tilt``;
    ``centre_moves``: ``centre_moves_with_flexion``; ``midstance_thigh_turn``:
    ``midstance_compensate_thigh_turn``."""
    config = SegmentCalibrationConfig(pose_only=pose_only, shank_axis_weight=shank_axis_weight,
                                      compensate_thigh_turn=thigh_turn, compensate_thigh_tilt=thigh_tilt,
                                      centre_moves_with_flexion=centre_moves,
                                      midstance_compensate_thigh_turn=midstance_thigh_turn)
    if not flexion_axis_limit:
        return config
    limit = None if flexion_axis_limit == "none" else float(flexion_axis_limit)
    return dataclasses.replace(config, flexion_axis_max_knee_flexion_deg=limit,
                               midstance_flexion_axis_max_knee_flexion_deg=limit)


def add_vqf_tuning_arguments(parser) -> None:
    """``--tau-acc`` and ``--no-motion-bias`` on ``parser`` (an ``argparse.ArgumentParser``): the
    analysis' VQF tuning (:func:`vqf_tuning_from_args`)."""
    parser.add_argument("--tau-acc", type=float, default=None, metavar="S",
                        help="fuse with VQF's accelerometer time constant S seconds "
                             f"(VqfTuning.tau_acc_s; default VQF's {VqfTuning().tau_acc_s:g} s)")
    parser.add_argument("--no-motion-bias", dest="motion_bias", action="store_false",
                        help="fuse with VQF's gyroscope-bias estimation during motion off "
                             "(VqfTuning.motion_bias_estimation=False; the default estimates it)")


def vqf_tuning_from_args(args) -> VqfTuning | None:
    """The :class:`VqfTuning` the options of :func:`add_vqf_tuning_arguments` ask for; None when
    they are left at VQF's defaults."""
    if args.tau_acc is None and args.motion_bias:
        return None
    tau = VqfTuning().tau_acc_s if args.tau_acc is None else args.tau_acc
    return VqfTuning(tau_acc_s=tau, motion_bias_estimation=args.motion_bias)


def vqf_tuning_label(tuning: VqfTuning) -> str:
    """``tuning``'s accelerometer time constant and motion bias estimation, in words."""
    return (f"VQF tau_acc {tuning.tau_acc_s:g} s, motion bias estimation "
            f"{'on' if tuning.motion_bias_estimation else 'off'}")


def fusion_tuning_for(kind: FilterKind, tuning: VqfTuning | None) -> VqfTuning | None:
    """``tuning`` when ``kind`` is a VQF filter, else None (the other filters keep their defaults)."""
    return tuning if tuning is not None and TUNING_TYPE[kind] is VqfTuning else None


def draw_cohort(n: int, seed: int = 2026, variant: CohortVariant | None = None) -> list[WalkerSpec]:
    return [draw_walker(i, seed, variant) for i in range(n)]


def _event_errors_ms(true_s: np.ndarray, found_s: np.ndarray) -> tuple[np.ndarray, int]:
    """Signed errors (ms) of the true events matched within :data:`EVENT_MATCH_S`, and how many
    true events had no match."""
    found_s = np.sort(found_s[np.isfinite(found_s)])
    if not found_s.size:
        return np.empty(0), int(true_s.size)
    idx = np.clip(np.searchsorted(found_s, true_s), 1, found_s.size - 1) if found_s.size > 1 else np.zeros(true_s.size, int)
    left = found_s[np.maximum(idx - 1, 0)]
    right = found_s[idx]
    nearest = np.where(np.abs(left - true_s) <= np.abs(right - true_s), left, right)
    err = nearest - true_s
    ok = np.abs(err) <= EVENT_MATCH_S
    return 1000.0 * err[ok], int((~ok).sum())


def _stats_ms(errors_ms: np.ndarray) -> tuple[float, float]:
    if not errors_ms.size:
        return np.nan, np.nan
    return float(np.median(np.abs(errors_ms))), float(np.mean(errors_ms))


def score_leg(sim, result, side: Side) -> dict[str, float]:
    """Compare one leg of an analysis with the simulation's truth (see the module docstring of
    ``benchmarks/accuracy.py`` for each quantity)."""
    truth = sim.truth
    t_truth = truth.series["t_s"].to_numpy()
    weight = truth.series["walking_weight"].to_numpy()
    leg = result.legs[side]
    t = result.t_s
    out: dict[str, float] = {}
    standing_truth = weight < STANDING_WEIGHT
    for est_name, truth_name, short in ANGLES:
        true_series = truth.angle(side, truth_name)
        true_on_grid = np.interp(t, t_truth, true_series)
        err = leg.angles_deg[est_name] - true_on_grid
        out[f"{short}_rmse_deg"] = rmse(err[leg.in_bout])
        if short.startswith("knee"):
            # The calibration defines the standing pose as zero knee adduction and rotation, so a
            # static valgus is absorbed by design: also score against truth re-zeroed at standing.
            zero = float(np.mean(true_series[standing_truth & (t_truth < t_truth[np.argmax(~standing_truth)])]))
            out[f"{short}_rezeroed_rmse_deg"] = rmse((err + zero)[leg.in_bout])
    used = result.cycles[(result.cycles["side"] == side.value) & result.cycles["used"]]
    steady = truth.cycles[(truth.cycles["side"] == side.value) & truth.cycles["steady"]]
    out["hip_rotation_walk_mean_error_deg"] = float(
        used["hip_rotation_mean_deg"].mean() - steady["hip_rotation_progression_mean_deg"].mean()
    )
    ev = truth.events[(truth.events["side"] == side.value) & truth.events["steady"]]
    for event, found, short in (("initial_contact", leg.events.initial_contact_s, "ic"),
                                ("toe_off", leg.events.toe_off_s, "to")):
        errors, missed = _event_errors_ms(ev.loc[ev["event"] == event, "t_s"].to_numpy(), found)
        out[f"{short}_median_abs_error_ms"], out[f"{short}_bias_ms"] = _stats_ms(errors)
        out[f"{short}_missed"] = float(missed)
    true_ic = steady["t_initial_contact_s"].to_numpy()
    _, missed_strides = _event_errors_ms(true_ic, leg.events.initial_contact_s)
    out["true_steady_strides"] = float(true_ic.size)
    out["strides_used"] = float(len(used))
    out["strides_found_pct"] = 100.0 * (true_ic.size - missed_strides) / max(true_ic.size, 1)
    out["strides_used_pct"] = 100.0 * len(used) / max(true_ic.size, 1)
    # Anything detected while the walker truly stands is a false stride.
    standing_grid = np.interp(t, t_truth, weight) < STANDING_WEIGHT
    detected = np.concatenate([leg.events.initial_contact_s, leg.events.toe_off_s, leg.events.mid_swing_s])
    detected = detected[np.isfinite(detected)]
    out["events_while_standing"] = float(np.sum(standing_grid[np.clip(np.searchsorted(t, detected), 0, t.size - 1)]))
    cyc = result.cycles[result.cycles["side"] == side.value]
    overlap = [np.any(standing_grid[(t >= a) & (t < b)]) for a, b in
               zip(cyc["t_initial_contact_s"], cyc["t_next_initial_contact_s"], strict=True)]
    out["strides_while_standing"] = float(np.sum(overlap))
    out["calibration_relative_residual"] = float(leg.alignment.quality.relative_residual)
    # Diagnostics: how far the found segment frames are from the true mounting, and the largest
    # constant gyroscope bias of the leg's two sensors (VQF detects rest, and so learns the bias,
    # only while |gyr| stays under its rest threshold of 2 deg/s).
    seg_err, bias = [], []
    for alignment in (leg.alignment.thigh, leg.alignment.shank):
        hidden = sim.sensors[alignment.placement]
        r_segment_sensor = Rotation.from_quat(hidden.q_segment_sensor, scalar_first=True)
        seg_err.append(np.rad2deg((r_segment_sensor * alignment.r_sensor_segment).magnitude()))
        bias.append(np.rad2deg(np.linalg.norm(hidden.gyr_bias_radps)))
    out["segment_frame_error_max_deg"] = float(max(seg_err))
    out["gyr_bias_max_degps"] = float(max(bias))
    return out


def soft_tissue_floor(sim, side: Side) -> dict[str, float]:
    """What the artefact alone costs: the angles a pipeline would report with perfect sensors,
    fusion and a calibration on the first standing instant (thigh and shank frames = bone ·
    STA(t) · STA(standing)⁻¹), scored against the truth over the steady strides of ``side``.
    Empty without the artefact."""
    thigh, shank = Placement.of(Segment.THIGH, side), Placement.of(Segment.SHANK, side)
    if sim.sensors[thigh].soft_tissue is None:
        return {}
    series = sim.truth.series
    t = series["t_s"].to_numpy()
    pose = sim.walker.pose(t)
    standing = series["walking_weight"].to_numpy() < STANDING_WEIGHT
    i_stand = int(np.argmax(standing))
    est = {}
    for placement in (thigh, shank):
        r_bone_skin = bone_skin(sim, placement, pose, t)
        est[placement] = quat(pose.r_world[(placement.segment, side)] * r_bone_skin * r_bone_skin[i_stand].inv())
    knee = np.rad2deg(joint_angles_rad(est[thigh], est[shank], Joint.KNEE, side))
    hip = np.rad2deg(joint_angles_rad(quat(pose.r_world_progression), est[thigh], Joint.HIP, side))
    steady = sim.truth.cycles[(sim.truth.cycles["side"] == side.value) & sim.truth.cycles["steady"]]
    inside = np.zeros(t.size, dtype=bool)
    for a, b in zip(steady["t_initial_contact_s"], steady["t_next_initial_contact_s"], strict=True):
        inside |= (t >= a) & (t < b)
    hip_error = (hip[:, 2] - sim.truth.angle(side, "hip_rotation_progression_deg"))[inside]
    return {
        "sta_floor_knee_flexion_rmse_deg": rmse((knee[:, 0] - sim.truth.angle(side, "knee_flexion_deg"))[inside]),
        "sta_floor_knee_rotation_rmse_deg": rmse((knee[:, 2] - sim.truth.angle(side, "knee_rotation_deg"))[inside]),
        "sta_floor_hip_rotation_rmse_deg": rmse(hip_error),
        "sta_floor_hip_rotation_walk_mean_error_deg": float(hip_error.mean()) if hip_error.size else np.nan,
    }


def knee_flexion_split(sim, result, side: Side) -> dict[str, float]:
    """Where the knee-flexion error of ``side`` comes from, over the samples it is scored on
    (``leg.in_bout``, as :func:`score_leg`). Empty without the artefact.

    ``knee_flexion_error_mean_deg`` and ``…_sd_deg``: the pipeline's error split into a constant
    offset and the rest (RMSE² = mean² + SD²). Then the same angle from
    ``…_oracle_…``: the pipeline's fused sensor orientations with the true segment frames where the
    sensors sat on their bones over the analysis' own reference samples (``leg.standing``), the
    flexion re-zeroed to the truth over those samples: a perfect calibration; ``…_standing_floor_…``: perfect orientations with those frames (the
    artefact alone with a standing zero, as :func:`soft_tissue_floor` but on these samples);
    ``…_walk_frame_…``: perfect orientations with frames where the sensors sat on average over
    these samples (no IMU-only calibration knows it: the within-stride artefact alone).
    ``sta_flexion_turn_walk_deg``: the thigh sensor's mean turn on its bone about the flexion axis
    over these samples against the reference, less the shank sensor's (segment frames' Z).
    """
    thigh, shank = Placement.of(Segment.THIGH, side), Placement.of(Segment.SHANK, side)
    if sim.sensors[thigh].soft_tissue is None:
        return {}
    leg = result.legs[side]
    t, inside, reference = result.t_s, leg.in_bout, leg.standing
    truth = sim.truth
    true_deg = np.interp(t, truth.series["t_s"].to_numpy(), truth.angle(side, "knee_flexion_deg"))
    pose = sim.walker.pose(t)
    fused_world = {thigh: rotation(leg.q_world_thigh) * leg.alignment.thigh.r_sensor_segment.inv(),
                   shank: rotation(leg.q_world_shank) * leg.alignment.shank.r_sensor_segment.inv()}
    true_world, at_reference, on_average, turn_z_rad = {}, {}, {}, {}
    for placement in (thigh, shank):
        r_bone_skin = bone_skin(sim, placement, pose, t)
        r_segment_sensor = Rotation.from_quat(sim.sensors[placement].q_segment_sensor, scalar_first=True)
        true_world[placement] = pose.r_world[(placement.segment, side)] * r_bone_skin * r_segment_sensor
        skin_reference, skin_walk = mean_rotation(r_bone_skin[reference]), mean_rotation(r_bone_skin[inside])
        at_reference[placement] = (skin_reference * r_segment_sensor).inv()
        on_average[placement] = (skin_walk * r_segment_sensor).inv()
        turn_z_rad[placement] = float((skin_reference.inv() * skin_walk).as_rotvec()[2])

    def error_deg(r_world_sensor: dict, r_sensor_segment: dict) -> np.ndarray:
        q_thigh = quat(r_world_sensor[thigh] * r_sensor_segment[thigh])
        q_shank = quat(r_world_sensor[shank] * r_sensor_segment[shank])
        return np.rad2deg(joint_angles_rad(q_thigh, q_shank, Joint.KNEE, side))[:, 0] - true_deg

    pipeline = (leg.angles_deg["knee_flexion_deg"] - true_deg)[inside]
    out = {"knee_flexion_error_mean_deg": float(pipeline.mean()), "knee_flexion_error_sd_deg": float(pipeline.std())}
    # A calibration of the fused orientations is perfect when it also reads the true flexion at the
    # reference: there the fused inclinations carry the accelerometers' biases, which a zero taken
    # from the same accelerometers (the pipeline's) cancels and the bones' true frames do not.
    oracle = error_deg(fused_world, at_reference)
    oracle -= np.mean(oracle[reference])
    for name, err in (("oracle", oracle[inside]),
                      ("standing_floor", error_deg(true_world, at_reference)[inside]),
                      ("walk_frame", error_deg(true_world, on_average)[inside])):
        out[f"knee_flexion_{name}_rmse_deg"] = rmse(err)
        out[f"knee_flexion_{name}_mean_deg"] = float(err.mean())
    out["sta_flexion_turn_walk_deg"] = float(np.rad2deg(turn_z_rad[thigh] - turn_z_rad[shank]))
    return out


def analysis_config(spec: WalkerSpec, filter_kind: FilterKind = FilterKind.VQF_OFFLINE) -> AnalysisConfig:
    """The analysis settings of ``spec``'s recording."""
    calibration = calibration_config(spec.pose_only, spec.shank_axis_weight, spec.flexion_axis_limit,
                                     spec.thigh_turn, spec.thigh_tilt, spec.centre_moves, spec.midstance_thigh_turn)
    return AnalysisConfig(filter_kind=filter_kind, calibration=calibration,
                          fusion_tuning=fusion_tuning_for(filter_kind, spec.vqf_tuning),
                          fusion_upsample_hz=spec.upsample_hz)


def evaluate_walker(spec: WalkerSpec, filter_kind: FilterKind = FilterKind.VQF_OFFLINE) -> dict:
    """Simulate, analyse and score one walker.

    Returns
    -------
    dict with ``walker`` (label), ``simulation_s``, ``analysis_s`` (wall time of
    ``analyze_session``), ``duration_s`` (of the recording), ``lost_pct`` (of all samples),
    ``sample_rate_hz``, ``error`` (None, or the exception's text when the analysis failed) and
    ``legs``: ``{"left": {...}, "right": {...}}`` of :func:`score_leg` numbers.
    """
    t0 = time.perf_counter()
    sim = simulate(spec.config)
    t1 = time.perf_counter()
    n_lost = sum(s.n_lost for s in sim.sensors.values())
    n_all = sum(st.n_samples for st in sim.session.streams) + n_lost
    out = {
        "walker": spec.label,
        "simulation_s": t1 - t0,
        "duration_s": float(sim.walker.timeline.duration_s),
        "lost_pct": 100.0 * n_lost / n_all,
        "sample_rate_hz": spec.config.sample_rate_hz,
        "filter": filter_kind.value,
        "error": None,
        "legs": {},
    }
    try:
        result = analyze_session(sim.session, analysis_config(spec, filter_kind))
    except Exception as exc:  # a crash is a finding: recorded, not hidden
        out["analysis_s"] = time.perf_counter() - t1
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["analysis_s"] = time.perf_counter() - t1
    for side in Side:
        if side in result.legs:
            out["legs"][side.value] = (score_leg(sim, result, side) | soft_tissue_floor(sim, side)
                                          | knee_flexion_split(sim, result, side) | hip_rotation_split(sim, result, side))
        else:
            out["error"] = f"{side.value} leg not analysed: {'; '.join(result.warnings)}"
    return out
