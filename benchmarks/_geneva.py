"""Part (d) of ``benchmarks/real_data.py``: the Geneva walks (``benchmarks/data/grouvel_2023``)
against their marker-based angles, by each of the converter's marker models, and the split of the
difference with each sensor's orientation measured by its own marker cluster."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from _common import markdown_table
from _optical import (
    MARKER_MODELS,
    compare_series,
    compare_with_reference,
    marker_model_walk,
    norm_stance_minimum_deg,
    reference_at_rows,
    reference_midstance_knee_deg,
    sensor_frame_reference,
    stance_minimum_deg,
)
from _real_loaders import (
    GROUVEL_2023,
    GenevaCycles,
    OpticalWalk,
    SensorClock,
    grouvel_plate_lead_ms,
    grouvel_trials,
    load_grouvel,
    with_gyr_sampling,
)
from _reference_uncertainty import model_pair_rows, print_reference_spread
from geneva_contacts import plate_contact_errors_ms

from imugait.analysis import AnalysisConfig, analyze_session
from imugait.analysis.expected_error import MID_STANCE
from imugait.analysis.reference import MIDSTANCE_END, MIDSTANCE_START, midstance_knee_flexion_deg
from imugait.calibration.segment import SegmentCalibrationConfig
from imugait.fusion import FilterKind, FilterTuning
from imugait.model import GyroSampling


def _angle_rows(table: pd.DataFrame) -> list[list[str]]:
    """Part (d)'s rows: per angle over walks, RMSE and offset-free RMSE median / 90th pct / largest,
    bias mean ± SD, per-person mean bias smallest … largest, median r."""
    rows = []
    for angle, g in table.groupby("angle", sort=False):
        g = g.dropna(subset=["rmse"])
        by_person = g.groupby("participant")["bias"].mean()
        rows.append([angle, str(len(g)), str(int(g["cycles"].sum())),
                     f"{g['rmse'].median():.2f} / {g['rmse'].quantile(0.9):.2f} / {g['rmse'].max():.2f}",
                     f"{g['free'].median():.2f} / {g['free'].quantile(0.9):.2f} / {g['free'].max():.2f}",
                     f"{g['bias'].mean():+.2f} ± {g['bias'].std():.2f}",
                     f"{by_person.min():+.1f} … {by_person.max():+.1f}", f"{g['r'].median():.3f}"])
    return rows


def _split_rows(parts: pd.DataFrame) -> list[list[str]]:
    """Part (d)'s split: per angle, pipeline vs cluster frames and cluster frames vs markers."""
    return [[angle, f"{g['fusion_free'].median():.2f} / {g['fusion_free'].quantile(0.9):.2f}", f"{g['fusion_r'].median():.3f}",
             f"{g['frames_free'].median():.2f} / {g['frames_free'].quantile(0.9):.2f}",
             f"{g['frames_bias'].mean():+.2f} ± {g['frames_bias'].std():.2f}", f"{g['frames_r'].median():.3f}"]
            for angle, g in parts.groupby("angle", sort=False)]


GROUVEL_MODELS = {"anatomical": "this project's anatomical marker model (ISB frames from the CGM markers and the "
                                "dataset's joint centres, the library's JCS and sign table)",
                  "functional axis": "the anatomical model with only the knee's axis exchanged for the functional one "
                                     "(as the anatomical femur and tibia frames carry it; segments still tracked by the "
                                     "CGM markers)",
                  "cluster-tracked": "the anatomical model's femur and tibia frames carried by the thigh and shank "
                                     "marker clusters the IMUs sit on (each a constant rotation of its cluster, the "
                                     "mean over the participant's walks): the anatomical axes, the clusters' tracking",
                  "functional": "the functional marker model (each knee's flexion axis and centre from its thigh and "
                                "shank clusters' relative motion, SARA over the participant's walks; femur Z along that "
                                "axis, the centre on it nearest the dataset's KJC; the segments tracked by those "
                                "clusters)"}
"""The Geneva walks' marker models (``benchmarks/convert_grouvel_2023.py``; keys of ``MARKER_MODELS``)."""


CLOCKS = {SensorClock.POOLED: "one offset for all, --clock pooled",
          SensorClock.OWN: "each sensor on its own clock offset in the walk",
          SensorClock.PLACEMENT: "each sensor on its placement's median clock offset over the other walks, --clock placement"}
CYCLES = {GenevaCycles.ZENI: "cycles heel strike to heel strike (markers, Zeni)",
          GenevaCycles.PLATES: "cycles from contact to contact: a force plate's where the foot landed on one, else the "
                               "markers' Zeni heel strike moved by the plates' median lead (--geneva-cycles plates)"}


def grouvel_table(calibration: SegmentCalibrationConfig | None = None, filter_kind: FilterKind | None = None,
                  gyr_sampling: GyroSampling | None = None, clock: SensorClock = SensorClock.OWN,
                  cycles: GenevaCycles = GenevaCycles.ZENI, tuning: FilterTuning | None = None,
                  upsample_hz: float | None = None, spread_csv: Path | None = None) -> None:
    """Part (d): the Geneva walks (``benchmarks/data/grouvel_2023``) against their marker-based knee
    angles and femur rotation, by the anatomical and by the functional marker model; one row per
    angle over all walks (a walk = one leg of one trial). ``gyr_sampling``: declare the walks' gyroscope samples so (None: as read).
    ``clock``: which clock each sensor is read on, ``cycles`` where the reference's cycles begin and
    end (``load_grouvel``: :class:`SensorClock`, :class:`GenevaCycles`). ``tuning``: the filter's
    (``AnalysisConfig.fusion_tuning``; None: its defaults); ``upsample_hz``: ``AnalysisConfig.fusion_upsample_hz``;
    ``spread_csv``: write the per-walk table of the reference spread there (None: not written)."""
    config = AnalysisConfig(calibration=calibration or SegmentCalibrationConfig(),
                            filter_kind=filter_kind or AnalysisConfig().filter_kind, fusion_tuning=tuning,
                            fusion_upsample_hz=upsample_hz)
    per_walk, split, midstance, ranges, plates, pairs = [], [], [], [], [], []
    sync = pd.read_csv(GROUVEL_2023 / "sync.csv").set_index("trial")
    cpu0 = time.process_time()
    for trial in grouvel_trials():
        walks = load_grouvel(trial, clock, cycles)
        result = analyze_session(with_gyr_sampling(walks[0].session, gyr_sampling), config)
        sensors = pd.read_csv(GROUVEL_2023 / f"{trial}_sensors.csv")
        for walk in walks:
            leg = result.legs[walk.side]
            used = sum(s.used for s in leg.strides)
            plates += plate_contact_errors_ms(trial, walk.side, leg.events.initial_contact_s, clock)
            # The same calibration on the clusters' orientations: fusion vs calibration + reference.
            cluster = sensor_frame_reference(walk, leg, sensors, float(sync.loc[trial, "heading_rad"]))
            fusion = {c.angle: c for c in compare_with_reference(result, OpticalWalk(walk.name, walk.side, walk.session,
                                                                                     walk.cycles, cluster)) if c.cycle == 0}
            references = {model: marker_model_walk(walk, model) for model in MARKER_MODELS}
            pairs += model_pair_rows(walk.name, trial[:3], references)
            own = {model: reference_at_rows(w, result.t_s, leg.standing) for model, w in references.items()}
            minimum_deg = stance_minimum_deg(result.t_s, leg.angles_deg["knee_flexion_deg"], walk.cycles["t_first_s"].to_numpy(),
                                             walk.cycles["t_last_s"].to_numpy())
            midstance.append({"walk": walk.name, "reference": leg.reference, "place_pct": own["anatomical"][1],
                              "minimum_deg": minimum_deg,
                              **{model: reference_midstance_knee_deg(w) for model, w in references.items()},
                              **{f"{model} own": own[model][0] for model in references}})
            for model, marked in references.items():
                for angle, (_, free, bias, r) in compare_series(cluster, marked.reference).items():
                    split.append({"model": model, "angle": angle, "fusion_free": fusion[angle].offset_free_rmse_deg,
                                  "fusion_r": fusion[angle].correlation, "frames_free": free, "frames_bias": bias,
                                  "frames_r": r})
                for c in compare_with_reference(result, marked):
                    if c.cycle and c.angle == "knee flexion":
                        ranges.append({"model": model, "pipeline": c.range_deg, "markers": c.reference_range_deg,
                                       "contact_ms": c.contact_errors_ms[0], "rmse": c.rmse_deg,
                                       "free": c.offset_free_rmse_deg})
                    if c.cycle == 0:
                        per_walk.append({"model": model, "walk": walk.name, "participant": trial[:3], "angle": c.angle,
                                         "rmse": c.rmse_deg, "free": c.offset_free_rmse_deg, "bias": c.bias_deg,
                                         "r": c.correlation, "cycles": len(walk.cycles), "reference": leg.reference,
                                         "used": used, "found": len(leg.strides)})
    cpu = time.process_time() - cpu0
    table, parts = pd.DataFrame(per_walk), pd.DataFrame(split)
    walks = table.drop_duplicates("walk")
    print("(d) Marker-based reference: Geneva dataset (Grouvel et al. 2023), comfortable-speed 10-m walks, 9 people "
          "(benchmarks/data/grouvel_2023/README.md): IMU clock re-synchronised to the markers from the sensors' "
          f"own marker clusters ({CLOCKS[clock]}); IMU rows 25–45 Hz (as the dataset's synchronised files hold them); the "
          f"reference is {GROUVEL_MODELS['anatomical']} over the 2–4.5 s the cameras see, {CYCLES[cycles]}. A walk = one leg of one trial; its offset-free RMSE removes its own bias. "
          "Degrees: median / 90th percentile / largest over walks; bias mean ± SD over walks; per-person mean "
          f"bias, smallest … largest. {len(walks)} walks; CPU {cpu:.1f} s.\n")
    headers = ["angle", "walks", "cycles", "RMSE", "offset-free RMSE", "bias", "bias by person", "r (median)"]
    print(markdown_table(headers, _angle_rows(table[table["model"] == "anatomical"]), align="lrrrrrrr"))
    for model in list(MARKER_MODELS)[1:]:
        print(f"\nThe same walks against {GROUVEL_MODELS[model]}; the same statistics.\n")
        print(markdown_table(headers, _angle_rows(table[table["model"] == model]), align="lrrrrrrr"))
    split_headers = ["angle", "pipeline vs cluster frames: offset-free", "r", "cluster frames vs markers: offset-free",
                     "bias", "r"]
    print("\nThe same, split in two with each sensor's orientation measured by its marker cluster and the pipeline's "
          "own sensor-to-segment calibration applied to it ('cluster frames'): pipeline vs cluster frames = the "
          "IMU's orientation estimation (fusion at 25–45 Hz, the heading between the sensors); cluster frames vs "
          "markers = the calibration's segment frames against the marker model (and the skin under the clusters). "
          "Offset-free RMSE median / 90th percentile over walks, degrees.\n")
    print(markdown_table(split_headers, _split_rows(parts[parts["model"] == "anatomical"]), align="lrrrrr"))
    for model in list(MARKER_MODELS)[1:]:
        print(f"\nThe split against the {model} marker model (pipeline vs cluster frames as above).\n")
        print(markdown_table(split_headers, _split_rows(parts[parts["model"] == model]), align="lrrrrr"))
    refs = walks["reference"].value_counts().to_dict()
    print(f"\n- calibration reference per walk: {refs}; strides used / found by the pipeline over these legs: "
          f"{int(walks['used'].sum())} / {int(walks['found'].sum())}")
    rng = pd.DataFrame(ranges)
    print(f"- knee flexion per cycle, median over the {len(rng) // len(MARKER_MODELS)} cycles: RMSE / offset-free RMSE "
          + ", ".join(f"{model} model {g['rmse'].median():.2f} / {g['free'].median():.2f}°"
                      for model, g in rng.groupby("model", sort=False)))
    print(f"- knee flexion range per cycle, median over the {len(rng) // len(MARKER_MODELS)} cycles: pipeline "
          f"{rng.loc[rng['model'] == 'anatomical', 'pipeline'].median():.1f}°; markers: "
          + ", ".join(f"{model} model {g['markers'].median():.1f}°" for model, g in rng.groupby("model", sort=False)))
    knee = table[table["angle"] == "knee flexion"]
    print("- knee flexion bias (pipeline − markers) by the leg's calibration reference, mean ± SD over walks: "
          + "; ".join(f"{model} model " + ", ".join(f"{ref} ({len(g)}) {g['bias'].mean():+.2f} ± {g['bias'].std():.2f}°"
                                                    for ref, g in knee[knee["model"] == model].groupby("reference"))
                      for model in MARKER_MODELS))
    ms = pd.DataFrame(midstance)
    norm = midstance_knee_flexion_deg()
    on_midstance = ms["reference"] == MID_STANCE
    parts_ms = [f"{model} model median {ms[model].median():+.1f}° (10th–90th pct {ms[model].quantile(0.1):+.1f} … "
                f"{ms[model].quantile(0.9):+.1f}°; walks calibrated on mid-stance: median "
                f"{ms.loc[on_midstance, model].median():+.1f}°, mean {ms.loc[on_midstance, model].mean():+.1f}°)"
                for model in GROUVEL_MODELS]
    print(f"- markers' own knee flexion at mid-stance ({100 * MIDSTANCE_START:.0f}–{100 * MIDSTANCE_END:.0f} % of the "
          f"cycle, mean over a walk's cycles), per walk: " + "; ".join(parts_ms) +
          f"; the normative value a walk without standing is referred to: {norm:+.1f}° (Schwartz et al. 2008, "
          "docs/analysis.md)")
    own = ms[on_midstance]
    contacts = rng.loc[rng["model"] == "anatomical", "contact_ms"]
    plate_ms = pd.DataFrame(plates)
    print("- where the pipeline takes mid-stance, walks calibrated on mid-stance: its own mid-stance samples inside the "
          f"markers' cycles lie on average at {own['place_pct'].median():.1f} % of the cycle (median over walks; "
          f"10th–90th pct {own['place_pct'].quantile(0.1):.1f} … {own['place_pct'].quantile(0.9):.1f} %), its initial "
          f"contacts {contacts.median():+.0f} ms from the cycles' first contacts (median over cycles, + = later) and "
          f"{plate_ms['own_clock_ms'].median():+.0f} ms from the force plates' contacts (median over {len(plate_ms)} "
          f"clean heel strikes on the plates, on the shank sensor's own clock; {plate_ms['pooled_ms'].median():+.0f} ms "
          f"on the converter's pooled one; the markers' Zeni heel strikes are {grouvel_plate_lead_ms():+.0f} ms from the "
          "plates': "
          "benchmarks/geneva_contacts.py); the markers' knee flexion at those samples, mean over walks: "
          + "; ".join(f"{model} model {own[f'{model} own'].mean():+.1f}° (at {100 * MIDSTANCE_START:.0f}–"
                      f"{100 * MIDSTANCE_END:.0f} %: {own[model].mean():+.1f}°)" for model in GROUVEL_MODELS)
          + f"; the pipeline's there {norm:+.1f}° by construction")
    # Not the pipeline's: the same frames with the knee turned so that the stance minimum of its
    # mean cycle reads the norm's (a constant per walk, so the offset-free RMSE stays).
    anatomical = knee[knee["model"] == "anatomical"].set_index("walk")
    shift = (ms.set_index("walk")["minimum_deg"] - norm_stance_minimum_deg()).where(
        ms.set_index("walk")["reference"] == MID_STANCE, 0.0)
    bias = anatomical["bias"] - shift.reindex(anatomical.index)
    rmse = np.sqrt(anatomical["free"] ** 2 + bias**2)
    mid = anatomical["reference"] == MID_STANCE
    print(f"- with a stance-minimum reference instead (not the pipeline's: a walk without standing turned so that the "
          f"stance minimum of its mean cycle reads the norm's {norm_stance_minimum_deg():.1f}°), knee flexion against the "
          f"anatomical model: RMSE {rmse.median():.2f} / {rmse.quantile(0.9):.2f} / {rmse.max():.2f}°, bias "
          f"{bias.mean():+.2f} ± {bias.std():.2f}° (mid-stance legs {bias[mid].mean():+.2f} ± {bias[mid].std():.2f}°; "
          "offset-free unchanged)\n")
    print_reference_spread(table, pd.DataFrame(pairs), spread_csv)
