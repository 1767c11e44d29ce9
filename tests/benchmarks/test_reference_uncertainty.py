"""The optical reference's own uncertainty (benchmarks/_reference_uncertainty.py): the published
figures are data with a source each, and the reference spread pairs the right numbers walk by walk
(docs/validation.md, *How exact the optical reference is*)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

spread = pytest.importorskip("_reference_uncertainty")
loaders = pytest.importorskip("_real_loaders")
optical = pytest.importorskip("_optical")


def test_every_committed_figure_has_a_source_and_where_it_was_read():
    figures = spread.load_reference_uncertainty()
    assert len(figures) >= 5 and len({f.key for f in figures}) == len(figures)
    assert {f.kind for f in figures} == set(spread.UncertaintyKind)
    for f in figures:
        assert len(f.source) > 20 and f.where.strip() and f.value_text.strip(), f.key
        assert f.value_deg is None or 0 < f.value_deg < 90, f.key


def _write(tmp_path: Path, **changes) -> Path:
    entry = {"key": "x", "kind": "skin_vs_bone", "quantity": "q", "value_deg": 2.0, "value_text": "2 deg", "task": "walking",
             "population": "p", "source": "Someone 2000", "where": "abstract"} | changes
    path = tmp_path / "figures.json"
    path.write_text(json.dumps({"figures": [entry]}), encoding="utf-8")
    return path


def test_a_figure_without_a_source_or_with_a_bad_value_is_refused(tmp_path):
    assert spread.load_reference_uncertainty(_write(tmp_path))[0].value_deg == 2.0
    assert spread.load_reference_uncertainty(_write(tmp_path, value_deg=None))[0].value_deg is None
    with pytest.raises(ValueError, match="x lacks source"):
        spread.load_reference_uncertainty(_write(tmp_path, source=" "))
    with pytest.raises(ValueError, match="x lacks where"):
        spread.load_reference_uncertainty(_write(tmp_path, where=None))
    with pytest.raises(ValueError, match="value_deg -1"):
        spread.load_reference_uncertainty(_write(tmp_path, value_deg=-1))
    with pytest.raises(ValueError):
        spread.load_reference_uncertainty(_write(tmp_path, kind="folklore"))


def test_the_marker_models_on_a_committed_walk_differ_as_the_docs_say():
    """P02 walk 1: exchanging only the knee axis moves flexion by well under a degree offset-free;
    tracking by the clusters instead of the CGM markers by several degrees, with hardly any bias."""
    walk = loaders.load_grouvel("P02_S01_Gait_01")[0]
    references = {model: optical.marker_model_walk(walk, model) for model in optical.MARKER_MODELS}
    rows = {r["pair"]: r for r in spread.model_pair_rows(walk.name, "P02", references)}
    assert set(rows) == {f"{a} vs {b}" for a, b in spread.MODEL_PAIRS}
    assert rows["functional axis vs anatomical"]["free"] < 1.0
    assert 2.0 < rows["cluster-tracked vs anatomical"]["free"] < 6.0
    assert abs(rows["cluster-tracked vs anatomical"]["bias"]) < 1.0
    assert rows["cluster-tracked vs anatomical"]["rmse"] >= rows["cluster-tracked vs anatomical"]["free"]


def _synthetic(n_walks: int = 6) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    per_walk, pairs = [], []
    for i in range(n_walks):
        walk, person = f"w{i}", f"P{i % 2}"
        for model, free in (("anatomical", 4.0 + i / 10), ("cluster-tracked", 1.0), ("functional", 2.0), ("functional axis", 3.9)):
            per_walk.append({"model": model, "walk": walk, "participant": person, "angle": "knee flexion", "free": free,
                             "rmse": free + 1.0, "bias": 1.0, "r": 0.99})
            per_walk.append({"model": model, "walk": walk, "participant": person, "angle": "knee adduction", "free": 99.0,
                             "rmse": 99.0, "bias": 0.0, "r": 0.1})
        for first, second in spread.MODEL_PAIRS:
            free = 4.05 + i / 1000 if (first, second) == ("cluster-tracked", "anatomical") else rng.uniform(1, 5)
            pairs.append({"walk": walk, "participant": person, "pair": f"{first} vs {second}", "free": free, "rmse": free + 0.5,
                          "bias": 0.0, "r": 0.99})
    return pd.DataFrame(per_walk), pd.DataFrame(pairs)


def test_the_paired_table_takes_knee_flexion_and_pairs_each_walk_with_itself(capsys):
    per_walk, pairs = _synthetic()
    table = spread.paired_walks(per_walk, pairs).set_index("walk")
    assert table.loc["w3", "pipeline vs anatomical"] == pytest.approx(4.3)  # knee flexion, not adduction's 99
    assert table.loc["w3", "pipeline vs anatomical RMSE"] == pytest.approx(5.3)
    assert table.loc["w3", "cluster-tracked vs anatomical"] == pytest.approx(4.053)
    assert table.loc["w3", "cluster-tracked vs anatomical RMSE"] == pytest.approx(4.553)
    assert table.loc["w3", "participant"] == "P1"
    spread.print_reference_spread(per_walk, pairs)
    out = capsys.readouterr().out
    # w0 (4.0) is the one walk on which the pipeline is nearer the anatomical model than the cluster-tracked model (4.05).
    assert "nearer the anatomical model on 1 of 6 walks" in out
    assert "offset-free over 3° on 6 of 6 walks; the pipeline on 6)" in out
    assert "Benoit" in out and "skin_vs_bone" in out
