"""The committed Geneva markers (``benchmarks/data/grouvel_2023/<trial>_markers.csv``): every walk
has them, one row per marker frame; they rebuild the committed marker-based angles and the
functional knee fit; and ``benchmarks/geneva_knee_axes.py`` gives from them the per-walk values it
gave from the dataset's synchronised files (docs/validation.md, *The two models' knee axes, and
where the 4° lie*). One participant (P03), so it runs in a few seconds."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

loaders = pytest.importorskip("_real_loaders")
convert = pytest.importorskip("convert_grouvel_2023")
knee_axes = pytest.importorskip("geneva_knee_axes")

from imugait.analysis import AnalysisConfig  # noqa: E402

PARTICIPANT = "P03"
WALK = "P03_S01_Gait_01"


@pytest.fixture(scope="module")
def participant():
    walks = {t: loaders.grouvel_markers(t) for t in convert.TRIALS if t.startswith(PARTICIPANT)}
    return walks, *convert.functional_knees(list(walks.values()))


def test_every_walk_has_its_markers_one_row_per_marker_frame():
    columns = [f"{m}_{k}" for m in convert.MARKERS for k in "xyz"]
    kept = set(loaders.grouvel_trials())
    assert len(convert.TRIALS) == 36 and len(kept) == 35
    for trial in convert.TRIALS:
        markers = loaders.grouvel_markers(trial)
        assert list(markers.columns) == columns
        assert np.isfinite(markers.to_numpy()).all()
        assert 200 < len(markers) < 500  # 2.3-4.5 s at 100 Hz
        assert 500.0 < np.abs(markers.to_numpy()).max() < 10_000.0  # mm in a lab (the pelvis ~1 m up), not m
        if trial in kept:
            assert len(markers) == len(pd.read_csv(loaders.GROUVEL_2023 / f"{trial}_reference.csv"))


def test_the_committed_markers_rebuild_the_committed_reference_angles_and_knee_fit(participant):
    """The converter's angles (written from the source at full precision) from the 0.01-mm markers:
    every model's every angle on both legs within 0.05° at every frame; the functional fit's
    record as in ``functional_knee.csv``."""
    walks, knees, notes = participant
    reference = pd.read_csv(loaders.GROUVEL_2023 / f"{WALK}_reference.csv")
    angles, _ = convert.reference_angles(walks[WALK], knees)
    columns = [c for c in reference.columns if c != "t_s"]
    assert len(columns) == 40
    np.testing.assert_allclose(angles[columns].to_numpy(), reference[columns].to_numpy(), atol=0.05, rtol=0)
    fit = pd.read_csv(loaders.GROUVEL_2023 / "functional_knee.csv")
    for note in notes:
        row = fit[(fit["participant"] == PARTICIPANT) & (fit["side"] == note["side"])].iloc[0]
        assert note["frames"] == row["frames"]
        assert note["residual_mm"] == pytest.approx(row["residual_mm"], abs=0.051)
        assert note["vs_anatomical_deg"] == pytest.approx(row["vs_anatomical_deg"], abs=0.051)


def test_the_knee_axes_of_one_walk_from_the_committed_markers(participant):
    """``geneva_knee_axes`` on P03 walk 1 from the committed markers. The marker models' values are
    those from the synchronised files (2026-12-07: functional axis to the anatomical Z 5.418° left,
    4.949° right; anatomical vs functional knee flexion offset-free 2.824°, 1.813°); the pipeline's
    axes change flexion by little (cross-talk 0.22°, 0.08° then; the docs' median over walks 0.3°)."""
    walks, _, _ = participant
    rows = {r["side"]: r for r in knee_axes.participant_axes(walks, {WALK}, AnalysisConfig())}
    assert set(rows) == {"left", "right"}
    for side, axis_deg, models_deg in (("left", 5.418, 2.824), ("right", 4.949, 1.813)):
        assert rows[side]["functional_vs_anatomical_deg"] == pytest.approx(axis_deg, abs=0.01)
        assert rows[side]["anatomical_vs_functional_deg"] == pytest.approx(models_deg, abs=0.01)
        assert 1.0 < rows[side]["pipeline_vs_anatomical_deg"] < 10.0
        assert rows[side]["axes_alone_deg"] < 0.5
