"""The expected error stated with a leg is the one measured at the leg's own sample rate: the
nearest rate measured at or below it, or the lowest with a sentence saying the leg's rate is below."""

from __future__ import annotations

import pytest

from imugait.analysis import analyze_session
from imugait.analysis.expected_error import (
    EXPECTED_ERROR_FILE,
    MID_STANCE,
    STANDING,
    describe,
    expected_error,
    expected_error_deg,
)
from imugait.data import load_json
from imugait.simulate import SimulationConfig, simulate, walking_test

ANGLES = {"knee_flexion_rmse_deg", "knee_adduction_rmse_deg", "knee_rotation_rmse_deg", "hip_rotation_rmse_deg",
          "hip_rotation_walk_mean_error_deg"}


def _entry(rate_hz: float, pose_only: bool = False) -> dict:
    doc = load_json(EXPECTED_ERROR_FILE)
    [entry] = [e for e in doc["pose_only_by_sample_rate" if pose_only else "by_sample_rate"] if e["sample_rate_hz"] == rate_hz]
    return entry


def _rates(pose_only: bool = False) -> list[float]:
    doc = load_json(EXPECTED_ERROR_FILE)
    return sorted(e["sample_rate_hz"] for e in doc["pose_only_by_sample_rate" if pose_only else "by_sample_rate"])


def test_the_data_file_has_every_angle_of_both_references_at_every_rate_with_its_run():
    doc = load_json(EXPECTED_ERROR_FILE)
    assert doc["format_version"] == 2
    for key in ("by_sample_rate", "pose_only_by_sample_rate"):
        rates = [e["sample_rate_hz"] for e in doc[key]]
        assert len(set(rates)) == len(rates) and {50, 60, 100} <= set(rates)
        for entry in doc[key]:
            assert "benchmarks/accuracy.py" in entry["source"] and "Hz" in entry["measured_at"]
            assert set(entry["references"]) == {STANDING, MID_STANCE}
            assert all(set(errors) == ANGLES for errors in entry["references"].values())


@pytest.mark.parametrize("pose_only", [False, True])
def test_a_50_hz_leg_gets_the_50_hz_figures_and_a_200_hz_leg_the_100_hz_ones(pose_only):
    for reference in (STANDING, MID_STANCE):
        assert expected_error_deg(reference, 50.0, pose_only) == _entry(50, pose_only)["references"][reference]
        assert expected_error_deg(reference, 200.0, pose_only) == _entry(100, pose_only)["references"][reference]
    assert expected_error(STANDING, 200.0, pose_only).measured_rate_hz == 100.0
    assert not expected_error(STANDING, 200.0, pose_only).below_measured


def test_a_leg_gets_the_nearest_rate_measured_at_or_below_its_own():
    # HuGaDB runs at about 56-60 Hz: 56 Hz takes the 50-Hz figures, not the 60-Hz ones.
    assert expected_error(STANDING, 56.0).measured_rate_hz == 50.0
    assert expected_error(STANDING, 60.0).measured_rate_hz == 60.0
    assert expected_error(STANDING, 95.0).measured_rate_hz == 60.0
    # A nominal rate a hair under a measured one counts as it.
    assert expected_error(STANDING, 99.9).measured_rate_hz == 100.0


def test_below_the_lowest_rate_measured_the_lowest_rates_figures_and_the_sentence_says_so():
    lowest = _rates()[0]
    below = expected_error(STANDING, lowest / 2)
    assert below.below_measured and below.measured_rate_hz == lowest
    assert below.errors_deg == _entry(lowest)["references"][STANDING]
    text = describe(STANDING, "knee model", lowest / 2)
    assert f"this leg's {lowest / 2:g} Hz is below the rates measured" in text
    assert "below" not in describe(STANDING, "knee model", lowest)


POINT = "by sensors that point-sample (no low-pass before sampling)"


def test_the_sentence_names_the_rate_the_figures_were_measured_at():
    assert f"recorded at 50 Hz {POINT}, 95 % of legs" in describe(STANDING, "knee model", 50.0)
    assert f"recorded at {_entry(100)['measured_at']} {POINT}, 95 % of legs" in describe(MID_STANCE, "knee model", 200.0)
    pose = describe(STANDING, "thigh's swing", 50.0, pose_only=True)
    assert "recorded at 50 Hz" in pose and "hip rotation not measured" in pose
    knee_50 = _entry(50)["references"][STANDING]["knee_flexion_rmse_deg"]
    assert f"within {knee_50:.1f}° knee flexion" in describe(STANDING, "knee model", 50.0)


def test_an_analysed_leg_states_the_figures_of_its_grids_rate():
    sim = simulate(SimulationConfig(seed=7, sample_rate_hz=50.0, timeline=walking_test(n_bouts=1, bout_s=12.0)))
    result = analyze_session(sim.session)
    assert result.legs
    doc = result.to_dict()
    for side, leg in result.legs.items():
        assert leg.sample_rate_hz == 50.0
        assert "recorded at 50 Hz" in leg.calibration_method
        calibration = doc["legs"][side.value]["calibration"]
        assert calibration["expected_error_measured_at"] == "50 Hz"
        assert calibration["expected_error_low_pass_deg"] == _entry(50)["low_pass"]["references"][leg.reference]
        assert calibration["expected_error_deg"] == _entry(50)["references"][leg.reference]


def test_the_sentence_says_in_words_which_knee_centre_fit_fixed_the_heading():
    """'heading from the knee centre, way from gait swing' (the JSON's term, read as a typo of
    'away') stood in the report's line of every qmt and most MPU-9250 legs; newcomer pass, twenty-first
    session. The JSON keeps its term in calibration.heading_source."""
    from types import SimpleNamespace

    from imugait.analysis.result import calibration_method
    from imugait.calibration.segment import HeadingSource

    alignment = SimpleNamespace(quality=SimpleNamespace(heading_source=HeadingSource.KNEE_CENTRE_SWING),
                                measures_femur_rotation=True)
    line = calibration_method(alignment, "standing", 100.0)
    assert line.startswith("referred to standing, heading from the knee centre (of its two fits 180° apart, the one "
                           "the walking swing points to); on simulated walkers")
    assert "way from" not in line
    assert HeadingSource.KNEE_CENTRE_SWING.value == "knee centre, way from gait swing"
    plain = SimpleNamespace(quality=SimpleNamespace(heading_source=HeadingSource.KNEE_CENTRE), measures_femur_rotation=True)
    assert calibration_method(plain, "standing", 100.0).startswith("referred to standing, heading from the knee centre; ")


@pytest.mark.parametrize("rate_hz", [25.0, 50.0, 60.0, 100.0])
def test_where_sensors_that_low_pass_were_measured_the_sentence_adds_their_figures(rate_hz):
    """The stated figures are the point-sampled ones (the sentence says so); an entry measured also
    with sensors that low-pass at their rate adds those, for the regular calibration and the
    pose-only fallback."""
    low = _entry(rate_hz)["low_pass"]["references"]
    assert "--anti-alias odr" in _entry(rate_hz)["low_pass"]["source"]
    for reference in (STANDING, MID_STANCE):
        expected = expected_error(reference, rate_hz)
        assert expected.errors_deg == _entry(rate_hz)["references"][reference]
        assert expected.low_pass_errors_deg == low[reference]
        text = describe(reference, "knee model", rate_hz)
        assert POINT in text
        assert (f"(with sensors that low-pass at their rate, {low[reference]['knee_flexion_rmse_deg']:.1f}°, "
                f"{low[reference]['hip_rotation_rmse_deg']:.1f}° and "
                f"{low[reference]['hip_rotation_walk_mean_error_deg']:.1f}°)") in text
    assert expected_error(STANDING, 200.0).low_pass_errors_deg == _entry(100)["low_pass"]["references"][STANDING]
    pose_low = _entry(rate_hz, pose_only=True)["low_pass"]["references"][STANDING]
    assert expected_error(STANDING, rate_hz, pose_only=True).low_pass_errors_deg == pose_low
    pose = describe(STANDING, "thigh's swing", rate_hz, pose_only=True)
    assert POINT in pose and pose.endswith("; hip rotation not measured")
    assert (f"(with sensors that low-pass at their rate, {pose_low['knee_flexion_rmse_deg']:.1f}° and "
            f"{pose_low['knee_rotation_rmse_deg']:.1f}°)") in pose
