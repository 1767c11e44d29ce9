"""The counterfactuals of ``benchmarks/hip_tail_counterfactuals.py`` do what they say: the true
heading leaves no heading error in the hip split, and removing the thigh artefact's hip-driven share
leaves none of it in the simulated artefact."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

counterfactuals = pytest.importorskip("hip_tail_counterfactuals")


def _analysed(true_heading: bool, hip_drive: str):
    from _cohort import calibration_config
    from _hip_split import hip_rotation_split

    from imugait.analysis import AnalysisConfig, analyze_session
    from imugait.conventions import Side
    from imugait.simulate import SensorErrors, SimulationConfig, simulate, walking_test

    config = SimulationConfig(timeline=walking_test(n_bouts=1, bout_s=12.0, stand_s=3.0), seed=5)
    config = dataclasses.replace(config, errors=dataclasses.replace(SensorErrors(), soft_tissue_scale=1.0,
                                                                    wobble_deg=0.0))
    holder: dict = {}
    with counterfactuals._patches(holder, true_heading, counterfactuals.HIP_DRIVE[hip_drive]):
        sim = simulate(config)
        holder["sim"] = sim
        result = analyze_session(sim.session, AnalysisConfig(calibration=calibration_config()))
    return sim, {side: hip_rotation_split(sim, result, side) for side in Side}


def test_the_true_heading_leaves_no_heading_error_and_the_estimated_one_some():
    _, estimated = _analysed(False, "none")
    _, true = _analysed(True, "none")
    assert max(abs(s["hip_heading_error_deg"]) for s in estimated.values()) > 0.2
    for split in true.values():
        assert abs(split["hip_heading_error_deg"]) < 0.01


def test_without_the_hip_drive_the_thigh_artefact_follows_the_knee_only():
    from imugait.conventions import Placement, Segment, Side

    sim, split = _analysed(False, "all")
    for side in Side:
        artefact = sim.sensors[Placement.of(Segment.THIGH, side)].soft_tissue
        assert np.all(artefact.rotation_per_rad[:, 1] == 0.0) and np.any(artefact.rotation_per_rad[:, 0] != 0.0)
        assert split[side]["hip_sta_hip_driven_mean_deg"] == pytest.approx(0.0, abs=1e-4)
        shank = sim.sensors[Placement.of(Segment.SHANK, side)].soft_tissue
        assert np.any(shank.rotation_per_rad != 0.0)
