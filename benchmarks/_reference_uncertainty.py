"""How exact the optical reference itself is, for knee flexion: the published figures
(``benchmarks/data/reference_uncertainty.json``, each with its source) and, on the Geneva walks,
the marker models measured against each other walk by walk, next to the pipeline's difference from
the conventional (anatomical) model. Printed by part (d) of ``benchmarks/real_data.py``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from enum import Enum
from pathlib import Path

import pandas as pd
from _common import markdown_table
from _optical import compare_series
from _real_loaders import OpticalWalk
from scipy.stats import spearmanr, wilcoxon

REFERENCE_UNCERTAINTY = Path(__file__).parent / "data" / "reference_uncertainty.json"

KNEE_FLEXION_TARGETS_DEG = (5.0, 3.0)
"""Issue 10's knee flexion targets against an optical reference: RMSE, offset-free RMSE (median over walks)."""

MODEL_PAIRS = (("cluster-tracked", "anatomical"), ("functional", "anatomical"), ("functional axis", "anatomical"),
               ("functional", "cluster-tracked"))
"""Pairs of Geneva marker models compared with each other (keys of ``_optical.MARKER_MODELS``), the
first against the second, as the pipeline is compared with a model."""


class UncertaintyKind(Enum):
    """What a published figure compares."""

    SKIN_VS_BONE = "skin_vs_bone"
    BETWEEN_PROTOCOLS = "between_protocols"
    REPEATABILITY = "repeatability"


@dataclass(frozen=True)
class ReferenceFigure:
    """One published figure on a marker reference's own error; ``value_deg`` None where the source
    found gives no figure in degrees for it."""

    key: str
    kind: UncertaintyKind
    quantity: str
    value_deg: float | None
    value_text: str
    task: str
    population: str
    source: str
    where: str


def load_reference_uncertainty(path: Path = REFERENCE_UNCERTAINTY) -> list[ReferenceFigure]:
    """The figures of ``path``; raises ValueError naming the entry when a field is missing or empty
    (every figure needs its source and where in it the number was read) or a value is not a
    positive number of degrees."""
    figures = []
    for i, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))["figures"]):
        key = entry.get("key") or f"entry {i}"
        missing = [f.name for f in fields(ReferenceFigure) if f.name != "value_deg" and not str(entry.get(f.name) or "").strip()]
        if missing or "value_deg" not in entry:
            raise ValueError(f"{path.name}: {key} lacks {', '.join(missing or ['value_deg'])}")
        value = entry["value_deg"]
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{path.name}: {key} has value_deg {value!r}, not a positive number of degrees or null")
        figures.append(ReferenceFigure(**{**entry, "kind": UncertaintyKind(entry["kind"])}))
    return figures


def model_pair_rows(walk: str, participant: str, references: dict[str, OpticalWalk]) -> list[dict]:
    """Knee flexion of one walk by each pair of :data:`MODEL_PAIRS` (same cycles, same points as the
    pipeline's comparison): RMSE, offset-free RMSE, bias (first − second), r (deg)."""
    rows = []
    for first, second in MODEL_PAIRS:
        rmse, free, bias, r = compare_series(references[first].reference, references[second].reference)["knee flexion"]
        rows.append({"walk": walk, "participant": participant, "pair": f"{first} vs {second}", "rmse": rmse,
                     "free": free, "bias": bias, "r": r})
    return rows


def paired_walks(per_walk: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per walk, knee flexion offset-free RMSE (deg): the pipeline against the anatomical,
    cluster-tracked and functional models, and those models against the anatomical one.
    ``per_walk``: part (d)'s rows (model, walk, participant, angle, free, rmse);
    ``pairs``: :func:`model_pair_rows`'s."""
    knee = per_walk[per_walk["angle"] == "knee flexion"]
    table = knee.pivot(index="walk", columns="model", values="free").add_prefix("pipeline vs ")
    table["pipeline vs anatomical RMSE"] = knee[knee["model"] == "anatomical"].set_index("walk")["rmse"]
    table = table.join(pairs.pivot(index="walk", columns="pair", values="free"))
    table["cluster-tracked vs anatomical RMSE"] = pairs[pairs["pair"] == "cluster-tracked vs anatomical"].set_index("walk")["rmse"]
    return table.join(knee.drop_duplicates("walk").set_index("walk")["participant"]).reset_index()


def _mid(values: pd.Series) -> str:
    return f"{values.median():.2f} / {values.quantile(0.9):.2f}"


def _paired_line(table: pd.DataFrame, model: str) -> str:
    """The pipeline's difference from the anatomical model against ``model``'s, walk by walk."""
    pipe, other = table["pipeline vs anatomical"], table[f"{model} vs anatomical"]
    diff = pipe - other
    return (f"pipeline vs anatomical minus {model} vs anatomical, per walk: median {diff.median():+.2f}° "
            f"(10th … 90th pct {diff.quantile(0.1):+.2f} … {diff.quantile(0.9):+.2f}°); the pipeline nearer the "
            f"anatomical model on {int((diff < 0).sum())} of {len(diff)} walks; Wilcoxon signed-rank p = "
            f"{wilcoxon(pipe, other).pvalue:.2g}; across walks Spearman r = {spearmanr(pipe, other).statistic:.2f}")


def print_reference_spread(per_walk: pd.DataFrame, pairs: pd.DataFrame, csv: Path | None = None) -> None:
    """Part (d)'s reference spread: the marker models among themselves, paired walk by walk with the
    pipeline against the anatomical model, then the targets and the published figures."""
    spread = pairs.groupby("pair", sort=False)
    rows = [[pair, _mid(g["rmse"]), _mid(g["free"]), f"{g['bias'].mean():+.2f} ± {g['bias'].std():.2f}",
             f"{g['r'].median():.3f}"] for pair, g in spread]
    knee = per_walk[per_walk["angle"] == "knee flexion"]
    rows += [[f"(pipeline vs {model})", _mid(g["rmse"]), _mid(g["free"]), f"{g['bias'].mean():+.2f} ± {g['bias'].std():.2f}",
              f"{g['r'].median():.3f}"] for model, g in knee.groupby("model", sort=False) if model != "functional axis"]
    print("Reference spread: knee flexion by the marker models among themselves, on the same walks, cycles and points "
          "as the pipeline's comparison (first − second); median / 90th percentile over walks, deg\n")
    print(markdown_table(["knee flexion", "RMSE", "offset-free RMSE", "bias, mean ± SD", "r (median)"], rows, align="lrrrr"))
    table = paired_walks(per_walk, pairs)
    if csv is not None:
        table.to_csv(csv, index=False, float_format="%.3f")
    person = [[p, str(len(g)), *(f"{g[c].median():.2f}" for c in ("pipeline vs anatomical", "cluster-tracked vs anatomical",
                                                                   "functional vs anatomical", "pipeline vs cluster-tracked")),
               f"{int((g['pipeline vs anatomical'] < g['cluster-tracked vs anatomical']).sum())} / {len(g)}"]
              for p, g in table.groupby("participant")]
    print("\nPaired by walk, knee flexion offset-free RMSE, median over each person's walks (deg); last column: walks on "
          "which the pipeline is nearer the anatomical model than the cluster-tracked marker model is"
          + (f"; per walk: {csv}" if csv else "") + "\n")
    print(markdown_table(["person", "walks", "pipeline vs anatomical", "cluster-tracked vs anatomical",
                          "functional vs anatomical", "pipeline vs cluster-tracked", "pipeline nearer"], person,
                         align="lrrrrrr"))
    print()
    for model in ("cluster-tracked", "functional"):
        print(f"- {_paired_line(table, model)}")
    rmse_t, free_t = KNEE_FLEXION_TARGETS_DEG
    marker = table["cluster-tracked vs anatomical"]
    print(f"- issue 10's knee flexion targets (RMSE ≤ {rmse_t:g}°, offset-free ≤ {free_t:g}°, medians over walks) held "
          f"against the anatomical model: the pipeline {table['pipeline vs anatomical RMSE'].median():.2f} / "
          f"{table['pipeline vs anatomical'].median():.2f}°; the cluster-tracked marker model itself "
          f"{table['cluster-tracked vs anatomical RMSE'].median():.2f} / {marker.median():.2f}° (offset-free over "
          f"{free_t:g}° on {int((marker > free_t).sum())} of {len(marker)} walks; the pipeline on "
          f"{int((table['pipeline vs anatomical'] > free_t).sum())})")
    print_reference_uncertainty()


def print_reference_uncertainty(path: Path = REFERENCE_UNCERTAINTY) -> None:
    """The published figures on a marker reference's own error, one line each, with their source."""
    print(f"\nThe optical reference's own uncertainty, as published ({path.relative_to(path.parents[2])}; only what the "
          "text found states):\n")
    for f in load_reference_uncertainty(path):
        print(f"- {f.kind.value}: {f.value_text} — {f.quantity}; {f.task}, {f.population}. {f.source} [{f.where}]")
    print()

