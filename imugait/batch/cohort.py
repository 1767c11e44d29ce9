"""The cohort summary of a batch output: how each key metric is distributed over the sessions,
left and right, as a table and as one self-contained HTML page with plots.

The unit is the **session**: each session contributes the mean of its used strides per side
(what ``imugait analyze`` reports), so a long recording does not outweigh a short one. The
right − left row is the per-session difference, over sessions with both legs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imugait import __version__
from imugait.atomic import write_text_atomic
from imugait.conventions import Side
from imugait.report.present import KEY_METRICS, SIDE_ORDER

RIGHT_MINUS_LEFT = "right − left"
DISTRIBUTION_COLUMNS = ("metric", "side", "sessions", "median", "q25", "q75", "p5", "p95", "mean", "sd")


def session_means(records: list[dict[str, Any]]) -> pd.DataFrame:
    """``session, side, metric, mean`` for every analysed session, side and key metric with strides."""
    keys = {m for m, _ in KEY_METRICS}
    rows = [{"session": r["session"], "side": a["side"], "metric": a["metric"], "mean": a["mean"]}
            for r in records if r["status"] == "analysed"
            for a in r["aggregates"] if a["metric"] in keys and a["n"] and a["mean"] is not None]
    return pd.DataFrame(rows, columns=["session", "side", "metric", "mean"])


def cohort_distributions(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Per key metric and side (and right − left): sessions, median, quartiles, 5th/95th
    percentiles, mean and SD of the per-session means."""
    means = session_means(records)
    rows = []
    for metric, _label in KEY_METRICS:
        for side, values in _side_values(means, metric).items():
            rows.append({"metric": metric, "side": side, **_describe(values)})
    return pd.DataFrame(rows, columns=list(DISTRIBUTION_COLUMNS))


def write_cohort_html(path: Path, records: list[dict[str, Any]]) -> Path:
    """The cohort page (inline CSS and SVG, no script, nothing fetched)."""
    return write_text_atomic(path, render_cohort_html(records))


def render_cohort_html(records: list[dict[str, Any]]) -> str:
    # The report's page style and helpers, so the two pages look and escape alike.
    from imugait.report.render_html import CSS, _e, _section, _table, _td

    means = session_means(records)
    analysed = [r for r in records if r["status"] == "analysed"]
    failed = [r for r in records if r["status"] == "failed"]
    dist = cohort_distributions(records)
    rows = [[_td(_label(d.metric)), _td(d.side), _td(d.sessions, "num"), _td(_num(d.median), "num"),
             _td(f"{_num(d.q25)} – {_num(d.q75)}", "num"), _td(f"{_num(d.p5)} – {_num(d.p95)}", "num"),
             _td(f"{_num(d.mean)} ± {_num(d.sd)}", "num")] for d in dist.itertuples()]
    table = _table(["metric", "side", "sessions", "median", "quartiles", "5th – 95th percentile", "mean ± SD"],
                   rows, "distributions")
    figures = "".join(f"<figure>{_metric_chart(means, metric, _label(metric))}<figcaption>{_e(_label(metric))}: "
                      "per-session means, "
                      f"box = quartiles, whiskers = 5th–95th percentile</figcaption></figure>"
                      for metric, label in KEY_METRICS if not means[means.metric == metric].empty)
    error_rows = [[_td(r["session"]), _td(r["error"]["stage"]), _td(r["error"]["message"])] for r in failed]
    errors = (_table(["session", "stage", "message"], error_rows, "errors-table") if failed
              else "<p>No session failed.</p>")
    warned = sum(bool(r["warnings"]) for r in analysed)
    strides = sum(leg["strides_used"] for r in analysed for leg in r["legs"].values())
    body = (
        "<h1>Cohort summary</h1>"
        f'<div class="meta">{len(analysed)} sessions analysed ({strides} strides used), {len(failed)} failed, '
        f"{warned} with warnings · made {_e(dt.datetime.now(dt.UTC).isoformat(timespec='seconds'))} · "
        f"imugait {_e(__version__)}</div>"
        '<div class="box disclaimer">Each session counts once: its value is the mean over its used strides '
        "per side. Hip rotation is the femur's rotation relative to the line of progression unless a pelvis "
        "sensor was worn. Per-stride values are in <code>strides/</code>, per-session values in "
        "<code>summary.csv</code>.</div>"
        + _section("Distributions over sessions", table, "distributions-section")
        + _section("Left and right", f'<div class="charts">{figures}</div>', "charts")
        + _section("Sessions that failed", errors, "errors")
    )
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Cohort summary</title><style>{CSS}</style></head><body><main>{body}</main></body></html>\n")


def _side_values(means: pd.DataFrame, metric: str) -> dict[str, np.ndarray]:
    m = means[means.metric == metric]
    by_side = {side.value: m[m.side == side.value].set_index("session")["mean"] for side in SIDE_ORDER}
    both = by_side[Side.LEFT.value].index.intersection(by_side[Side.RIGHT.value].index)
    out = {side: values.to_numpy(float) for side, values in by_side.items()}
    out[RIGHT_MINUS_LEFT] = (by_side[Side.RIGHT.value][both] - by_side[Side.LEFT.value][both]).to_numpy(float)
    return out


def _describe(values: np.ndarray) -> dict[str, float]:
    if values.size == 0:
        return {"sessions": 0, **dict.fromkeys(DISTRIBUTION_COLUMNS[3:], np.nan)}
    p5, q25, median, q75, p95 = np.percentile(values, [5, 25, 50, 75, 95])
    return {"sessions": int(values.size), "median": median, "q25": q25, "q75": q75, "p5": p5, "p95": p95,
            "mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else np.nan}


def _metric_chart(means: pd.DataFrame, metric: str, label: str) -> str:
    import matplotlib.pyplot as plt

    from imugait.report.charts import SIDE_COLOUR, _svg

    values = _side_values(means, metric)
    fig, ax = plt.subplots(figsize=(4.6, 2.8), dpi=100)
    rng = np.random.default_rng(0)  # jitter only; fixed so the page is reproducible
    for k, side in enumerate(SIDE_ORDER):
        v = values[side.value]
        if v.size == 0:
            continue
        ax.boxplot(v, positions=[k], widths=0.5, whis=(5, 95), showfliers=False,
                   medianprops={"color": SIDE_COLOUR[side]}, boxprops={"color": SIDE_COLOUR[side]})
        ax.scatter(k + rng.uniform(-0.15, 0.15, v.size), v, s=8, alpha=0.5, color=SIDE_COLOUR[side], lw=0)
    ax.set_xticks([0, 1], [s.value for s in SIDE_ORDER])
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylabel(label.split(",")[0] if len(label) > 40 else label, fontsize=8)
    ax.set_title(label, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return _svg(fig)


_UNITS = (("_deg", "°"), ("_per_min", "/min"), ("_pct", "%"), ("_s", "s"))


def _label(metric: str) -> str:
    """The report's label with the unit the metric's name carries (``stride_time_s`` → ``… (s)``)."""
    unit = next((u for suffix, u in _UNITS if metric.endswith(suffix)), "")
    label = dict(KEY_METRICS).get(metric, metric)
    return f"{label} ({unit})" if unit else label


def _num(x: float) -> str:
    return "—" if x is None or not np.isfinite(x) else f"{x:.2f}"
