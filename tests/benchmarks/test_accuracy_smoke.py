"""Smoke test of the walking accuracy benchmark: its per-walker function runs end to end on two
walkers and returns every score, finite. The tolerances themselves are tested elsewhere
(tests/analysis/test_accuracy.py); this only guards the benchmark against bit rot."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

accuracy = pytest.importorskip("accuracy")

LEG_KEYS = {
    "knee_flexion_rmse_deg", "knee_adduction_rmse_deg", "knee_adduction_rezeroed_rmse_deg", "knee_rotation_rmse_deg",
    "hip_rotation_rmse_deg", "hip_rotation_walk_mean_error_deg", "ic_median_abs_error_ms", "ic_bias_ms",
    "to_median_abs_error_ms", "to_bias_ms", "strides_found_pct", "strides_used_pct", "events_while_standing",
    "strides_while_standing", "segment_frame_error_max_deg", "gyr_bias_max_degps", "true_steady_strides",
    "strides_used",
}


@pytest.fixture(scope="module")
def results():
    return [accuracy.evaluate_walker(spec) for spec in accuracy.draw_cohort(2)]


def test_per_walker_scores_are_complete_and_finite(results):
    for r in results:
        assert r["error"] is None
        assert set(r["legs"]) == {"left", "right"}
        for key in ("simulation_s", "analysis_s", "duration_s", "lost_pct"):
            assert math.isfinite(r[key])
        for scores in r["legs"].values():
            assert LEG_KEYS <= set(scores)
            assert all(math.isfinite(v) for v in scores.values()), scores
            assert scores["true_steady_strides"] > 0


def test_cohort_is_seeded():
    a, b = accuracy.draw_cohort(2), accuracy.draw_cohort(3)[:2]
    assert [s.config for s in a] == [s.config for s in b]


def test_summary_tables_render(results):
    rows = accuracy.leg_rows(results)
    assert len(rows) == 4
    table = accuracy.summary_table(rows)
    assert "knee flexion RMSE" in table and "verdict" in table


def test_cohort_rmse_pools_the_legs_squared_errors():
    rows = [{"walker": "w0", "side": "left", "knee_flexion_rmse_deg": 1.0},
            {"walker": "w0", "side": "right", "knee_flexion_rmse_deg": 2.0},
            {"walker": "w1", "side": "left", "knee_flexion_rmse_deg": 5.0}]
    target = accuracy.Target("knee flexion RMSE", "knee_flexion_rmse_deg", 3.0)
    cells = accuracy.summary_row(target, rows)
    assert cells[5] == "3.16° (missed)"  # √((1 + 4 + 25) / 3)
    assert cells[6].startswith("**missed** in 1/3 legs")
    rows[2]["knee_flexion_rmse_deg"] = 2.5
    assert accuracy.summary_row(target, rows)[5] == "1.94° (met)"  # √((1 + 4 + 6.25) / 3)


def test_cohort_variants_change_the_recording_not_the_people():
    import dataclasses

    from _cohort import CohortVariant

    base = accuracy.draw_cohort(3)
    varied = accuracy.draw_cohort(3, variant=CohortVariant(sta_scale=1.0, ten_metre_passes=2))
    for a, b in zip(base, varied, strict=True):
        assert a.config.walker == b.config.walker and a.config.seed == b.config.seed
        assert b.config.errors == dataclasses.replace(a.config.errors, soft_tissue_scale=1.0, wobble_deg=0.0)
        assert [p.kind.value for p in b.config.timeline] == ["walk", "turn", "walk"]
    assert "soft-tissue" in CohortVariant(sta_scale=1.0).label


def test_soft_tissue_floor_is_empty_without_the_artefact_and_finite_with_it():
    import dataclasses

    from _cohort import soft_tissue_floor

    from imugait.conventions import Side
    from imugait.simulate import SensorErrors, SimulationConfig, simulate, walking_test

    config = SimulationConfig(timeline=walking_test(n_bouts=1, bout_s=8.0, stand_s=2.0), seed=3)
    assert soft_tissue_floor(simulate(config), Side.LEFT) == {}
    with_sta = dataclasses.replace(config, errors=dataclasses.replace(SensorErrors(), soft_tissue_scale=1.0))
    floor = soft_tissue_floor(simulate(with_sta), Side.LEFT)
    assert set(floor) == {"sta_floor_knee_flexion_rmse_deg", "sta_floor_knee_rotation_rmse_deg",
                          "sta_floor_hip_rotation_rmse_deg", "sta_floor_hip_rotation_walk_mean_error_deg"}
    assert all(math.isfinite(v) for v in floor.values())
    assert 0.1 < floor["sta_floor_hip_rotation_rmse_deg"] < 10.0


def _without_and_with_the_artefact(timeline):
    """A walker on ``timeline`` simulated without the soft-tissue artefact, and with it (literature
    ranges) together with its analysis."""
    import dataclasses

    from imugait.analysis import analyze_session
    from imugait.simulate import SensorErrors, SimulationConfig, simulate

    config = SimulationConfig(timeline=timeline, seed=5)
    sim = simulate(dataclasses.replace(config, errors=dataclasses.replace(SensorErrors(), soft_tissue_scale=1.0,
                                                                          wobble_deg=0.0)))
    return simulate(config), sim, analyze_session(sim.session)


def _checked_split_rows(split_leg, sim, result, prefix: str, rmse_key: str) -> list[dict]:
    """Each leg's ``split_leg(sim, result, side)`` with its scores, one row per leg, checked: every
    value finite, and the split's ``<prefix>_error_mean_deg`` and ``…_sd_deg`` make the scored
    ``rmse_key`` (the same samples)."""
    from _cohort import score_leg

    from imugait.conventions import Side

    rows = []
    for side in Side:
        split, scores = split_leg(sim, result, side), score_leg(sim, result, side)
        assert all(math.isfinite(v) for v in split.values()), split
        mean, sd = (split[k] for k in (f"{prefix}_error_mean_deg", f"{prefix}_error_sd_deg"))
        assert math.hypot(mean, sd) == pytest.approx(scores[rmse_key], rel=1e-9)
        rows.append({"walker": "w", "side": side.value} | scores | split)
    return rows


def test_knee_flexion_split_adds_up_and_renders():
    from _cohort import knee_flexion_split

    from imugait.conventions import Side
    from imugait.simulate import walking_test

    plain, sim, result = _without_and_with_the_artefact(walking_test(n_bouts=1, bout_s=12.0, stand_s=3.0))
    assert knee_flexion_split(plain, None, Side.LEFT) == {}
    rows = _checked_split_rows(knee_flexion_split, sim, result, "knee_flexion", "knee_flexion_rmse_deg")
    for split in rows:
        # Frames where the sensors sat on average leave (to first order) no mean error; a standing zero does.
        assert abs(split["knee_flexion_walk_frame_mean_deg"]) < 0.1
        assert split["knee_flexion_walk_frame_rmse_deg"] <= split["knee_flexion_standing_floor_rmse_deg"] + 1e-9
        # The standing floor's mean error is the sensors' mean turn about the flexion axis.
        assert split["knee_flexion_standing_floor_mean_deg"] == pytest.approx(split["sta_flexion_turn_walk_deg"], abs=0.3)
    table = accuracy.flexion_split_table(rows)
    assert "perfect calibration" in table and "legs over 3°" in table


def test_hip_rotation_split_adds_up_and_renders():
    from _hip_split import hip_rotation_split, hip_split_table, tail_table

    from imugait.conventions import Side
    from imugait.simulate import ten_metre_walk

    plain, sim, result = _without_and_with_the_artefact(ten_metre_walk(1.2, passes=2, standing=False))
    assert hip_rotation_split(plain, None, Side.LEFT) == {}
    rows = _checked_split_rows(hip_rotation_split, sim, result, "hip_split", "hip_rotation_rmse_deg")
    for split in rows:
        # The parts make the mean error.
        parts = sum(split[f"hip_split_{p}_mean_deg"] for p in ("progression", "frame", "sta", "rest"))
        assert parts == pytest.approx(split["hip_split_error_mean_deg"], abs=1e-9)
        # The fused world's heading is followed from the thigh sensor: what is left beside the
        # line of progression, the frame and the artefact is the fusion's inclination, small.
        assert abs(split["hip_split_rest_mean_deg"]) < 1.0
        # The frame against the walking's mean is, to first order, the frame's part and the
        # artefact's mean together (the artefact about the walking's mean frame averages out).
        frame_and_sta = split["hip_split_frame_mean_deg"] + split["hip_split_sta_mean_deg"]
        assert split["hip_split_frame_vs_walk_mean_deg"] == pytest.approx(frame_and_sta, abs=0.3)
        # The hip-driven share is part of the artefact's turn; the heading error a few degrees at most.
        assert abs(split["hip_sta_hip_driven_mean_deg"]) < 3.0
        assert abs(split["hip_heading_error_deg"]) < 8.0
    table = hip_split_table(rows)
    assert "line of progression" in table and "legs over 4°" in table
    tail = tail_table([r | {"hip_rotation_rmse_deg": 5.0} for r in rows])  # every leg in the tail
    assert tail.count("\n| w ") == len(rows) and "knee-centre heading error" in tail
    assert tail_table([r | {"hip_rotation_rmse_deg": 1.0} for r in rows]) == "No leg over 4°."


def test_a_sample_rate_variant_records_every_walker_at_it_and_changes_nothing_else():
    import dataclasses

    from _cohort import CohortVariant

    base = accuracy.draw_cohort(4)
    varied = accuracy.draw_cohort(4, variant=CohortVariant(sample_rate_hz=50.0))
    assert {s.config.sample_rate_hz for s in base} == {100.0, 200.0}  # each walker's own draw by default
    for a, b in zip(base, varied, strict=True):
        assert b.config == dataclasses.replace(a.config, sample_rate_hz=50.0)
    assert "every walker at 50 Hz" in CohortVariant(sample_rate_hz=50.0).label


def test_the_sample_rate_option_runs_the_cohort_at_that_rate(tmp_path, capsys):
    csv_path = tmp_path / "legs.csv"
    accuracy.main(["--walkers", "1", "--madgwick", "0", "--ten-metre", "--sample-rate", "40", "--csv", str(csv_path)])
    out = capsys.readouterr().out
    assert "every walker at 40 Hz" in out and "sample rates [40] Hz" in out
    assert csv_path.read_text().count("\n") == 3  # header and both legs


def test_the_anti_alias_variant_changes_only_the_sensors_low_pass():
    import dataclasses

    from _cohort import CohortVariant

    from imugait.simulate import AntiAlias

    base = accuracy.draw_cohort(3, variant=CohortVariant(sample_rate_hz=25.0))
    varied = accuracy.draw_cohort(3, variant=CohortVariant(sample_rate_hz=25.0, anti_alias=AntiAlias.ODR))
    for a, b in zip(base, varied, strict=True):
        assert b.config == dataclasses.replace(
            a.config, errors=dataclasses.replace(a.config.errors, anti_alias=AntiAlias.ODR))
    assert "low-pass at their rate" in CohortVariant(anti_alias=AntiAlias.ODR).label
    assert "low-pass" not in CohortVariant().label
