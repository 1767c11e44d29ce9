"""Report figures drawn with matplotlib (Agg) as inline SVG text.

Per-cycle curves (left vs right, mean ± SD over strides) with the normative band where the
normative file has the same angle, a range-of-motion and summary chart, and trends.
"""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from imugait.conventions import Side  # noqa: E402
from imugait.data import normative_gait_table  # noqa: E402
from imugait.report.drill_data import load_report_data  # noqa: E402
from imugait.report.findings import Status  # noqa: E402
from imugait.report.present import CURVE_LABELS, SIDE_ORDER, metric_label  # noqa: E402
from imugait.report.report import CurveSummary, Report  # noqa: E402
from imugait.report.thresholds import ComparisonKind  # noqa: E402

SIDE_COLOUR = {Side.LEFT: "#1f77b4", Side.RIGHT: "#d62728"}
BAND_COLOUR = "#9e9e9e"
PCT = np.arange(101)


def normative_band(angle: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean, sd) over 0..100 % from the normative file for ``knee_flexion_deg`` etc.; None if absent."""
    table = normative_gait_table()
    base = angle.removesuffix("_deg")
    mean_col, sd_col = f"{base}_mean_deg", f"{base}_sd_deg"
    if mean_col not in table or sd_col not in table:
        return None
    return table[mean_col].to_numpy(float), table[sd_col].to_numpy(float)


def _svg(fig) -> str:
    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "imugait"}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]  # drop the XML declaration and DOCTYPE: the SVG goes inline
    return re.sub(r'(<svg[^>]*?) width="[^"]*" height="[^"]*"', r'\1', text, count=1)


def curve_chart(curves: dict[Side, dict[str, CurveSummary]], angle: str) -> tuple[str, bool]:
    """SVG of one angle over the gait cycle; returns (svg, whether a normative band is drawn)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.0), dpi=100)
    band = normative_band(angle)
    if band is not None:
        mean, sd = band
        ax.fill_between(PCT, mean - sd, mean + sd, color=BAND_COLOUR, alpha=0.3, lw=0, label="normative mean ± SD")
        ax.plot(PCT, mean, color=BAND_COLOUR, lw=1, ls="--")
    for side in SIDE_ORDER:
        c = curves.get(side, {}).get(angle)
        if c is None:
            continue
        ax.plot(PCT, c.mean_deg, color=SIDE_COLOUR[side], lw=1.8, label=f"{side.value} (n = {c.n})")
        if np.isfinite(c.sd_deg).any():
            ax.fill_between(PCT, c.mean_deg - c.sd_deg, c.mean_deg + c.sd_deg, color=SIDE_COLOUR[side], alpha=0.15, lw=0)
    ax.axhline(0, color="black", lw=0.5)
    ax.set_title(CURVE_LABELS.get(angle, angle), fontsize=10)
    ax.set_xlabel("gait cycle (%), initial contact = 0", fontsize=8)
    ax.set_ylabel("degrees", fontsize=8)
    ax.set_xlim(0, 100)
    ax.tick_params(labelsize=8)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best", frameon=False)
    ax.grid(alpha=0.3)
    return _svg(fig), band is not None


def summary_chart(report: Report) -> str:
    """Left: range of motion over the cycle (left, right, normative). Right: compared metrics with
    their reference range."""
    fig, (ax_rom, ax_cmp) = plt.subplots(1, 2, figsize=(10.5, 3.4), dpi=100, gridspec_kw={"width_ratios": [1, 1.2]})
    angles = list(CURVE_LABELS)
    width = 0.27
    for k, side in enumerate(SIDE_ORDER):
        roms = [np.ptp(report.curves[side][a].mean_deg) if a in report.curves.get(side, {}) else np.nan for a in angles]
        ax_rom.bar(np.arange(len(angles)) + (k - 1) * width, roms, width, color=SIDE_COLOUR[side], label=side.value)
    norm = [np.ptp(b[0]) if (b := normative_band(a)) is not None else np.nan for a in angles]
    ax_rom.bar(np.arange(len(angles)) + width, norm, width, color=BAND_COLOUR, label="normative mean curve")
    ax_rom.set_xticks(np.arange(len(angles)), [a.removesuffix("_deg").replace("_", "\n") for a in angles], fontsize=8)
    ax_rom.set_ylabel("range over the cycle (°)", fontsize=8)
    ax_rom.set_title("Range of motion over the gait cycle", fontsize=10)
    ax_rom.legend(fontsize=7, frameon=False)
    ax_rom.tick_params(labelsize=8)
    ax_rom.grid(axis="y", alpha=0.3)

    rows = [c for c in report.comparisons if c.quantity == "value" and c.side is not None
            and c.status in (Status.WITHIN, Status.OUTSIDE)]
    metrics = list(dict.fromkeys(c.threshold_id for c in rows))
    bands = _reference_bands(report, metrics)
    for i, tid in enumerate(metrics):
        lo, hi = bands.get(tid, (np.nan, np.nan))
        if np.isfinite(lo) or np.isfinite(hi):
            ax_cmp.barh(i, (hi if np.isfinite(hi) else 0) - (lo if np.isfinite(lo) else 0),
                        left=lo if np.isfinite(lo) else 0, height=0.5, color=BAND_COLOUR, alpha=0.35)
        for c in rows:
            if c.threshold_id == tid:
                ax_cmp.plot(c.value, i + (0.12 if c.side is Side.RIGHT else -0.12), "o", color=SIDE_COLOUR[c.side],
                            ms=7, mec="black" if c.status is Status.OUTSIDE else SIDE_COLOUR[c.side],
                            mfc=SIDE_COLOUR[c.side] if c.trusted else "none")
    xs = [c.value for c in rows] + [v for lo_hi in bands.values() for v in lo_hi if np.isfinite(v)] + [0.0]
    pad = 0.08 * (max(xs) - min(xs) or 1.0)
    ax_cmp.set_xlim(min(xs) - pad, max(xs) + pad)
    ax_cmp.set_yticks(range(len(metrics)), [_short_title(report, tid) for tid in metrics], fontsize=8)
    hollow = "; hollow: not counted, leg not trusted" if any(not c.trusted for c in rows) else ""
    ax_cmp.set_xlabel(f"degrees (grey: reference range; ringed dot: outside{hollow})", fontsize=8)
    ax_cmp.set_title("Compared measurements (blue left, red right)", fontsize=10)
    ax_cmp.axvline(0, color="black", lw=0.5)
    ax_cmp.tick_params(labelsize=8)
    ax_cmp.grid(axis="x", alpha=0.3)
    ax_cmp.set_ylim(-0.7, max(len(metrics), 1) - 0.3)
    fig.tight_layout()
    return _svg(fig)


def _short_title(report: Report, threshold_id: str) -> str:
    c = next(c for c in report.comparisons if c.threshold_id == threshold_id)
    return metric_label(c.metric).split(" (")[0]


def _reference_bands(report: Report, threshold_ids: list[str]) -> dict[str, tuple[float, float]]:
    """The first (mildest) level of each threshold as a (low, high) band for plotting (an open
    low end of an upper limit is drawn from 0)."""
    out = {}
    for t in load_report_data().thresholds.thresholds:
        if t.id not in threshold_ids or (band := t.reference_band(report.population)) is None:
            continue
        low, high = band
        out[t.id] = (0.0 if np.isnan(low) and t.comparison in (ComparisonKind.ABOVE, ComparisonKind.AT_LEAST)
                     else low, high)
    return out


def trend_chart(report: Report) -> str:
    """Compared measurements over sessions, one small panel per metric and side; grey: the
    walk-to-walk spread around the session before the latest (a latest point inside it is no change)."""
    trends = [t for t in report.trends if t.side is not None]
    n = len(trends)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.5 * rows), dpi=100, squeeze=False)
    for ax, t in zip(axes.flat, trends, strict=False):
        x = np.arange(len(t.points))
        if t.smallest_real_change is not None:
            before = t.points[-2].value
            ax.axhspan(before - t.smallest_real_change, before + t.smallest_real_change, color=BAND_COLOUR, alpha=0.4)
        ax.plot(x, [p.value for p in t.points], "o-", color=SIDE_COLOUR[t.side])
        ax.set_xticks(x, [p.recorded_at[:10] for p in t.points], fontsize=7, rotation=30)
        ax.set_title(f"{metric_label(t.metric).split(' (')[0]} — {t.side.value}", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.tight_layout()
    return _svg(fig)
