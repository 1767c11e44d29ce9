"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no scripts, no
external resources. Every piece of text is escaped with :func:`html.escape` (the subject id is user
input; data-file text is escaped too)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from imugait.atomic import write_text_atomic
from imugait.report.charts import curve_chart, summary_chart, trend_chart
from imugait.report.present import (
    CURVE_LABELS,
    KEY_METRICS,
    SEVERITY_TEXT,
    SIDE_ORDER,
    TREND_NOTE,
    comparison_value_text,
    confidence_text,
    drill_purpose_text,
    leg_quality_text,
    measurement_text,
    metric_label,
    no_finding_text,
    not_counted_text,
    recorded_text,
    result_text,
    side_heading,
    side_text,
    trend_change_text,
    value_text,
)
from imugait.report.report import Report

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px} h2{font-size:1.2em;margin:28px 0 8px;border-bottom:2px solid #dfe3e8;padding-bottom:4px}
h3{font-size:1.02em;margin:0 0 6px}
.meta{color:#5b6570;margin-bottom:12px}
.box{border-radius:6px;padding:12px 16px;margin:12px 0}
.disclaimer{background:#eef4fb;border-left:5px solid #3d7bc4}
.refer{background:#fdecec;border-left:5px solid #c62828}
.consider{background:#fff6e0;border-left:5px solid #e0a100}
.ok{background:#eaf6ec;border-left:5px solid #2e7d32}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9em}
th,td{border:1px solid #dfe3e8;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4}
td.num{text-align:right;white-space:nowrap}
.status-outside{color:#8a4b00;font-weight:600} .status-within{color:#2e7d32}
.status-not_available,.status-reference_only,.not-counted{color:#5b6570} .not-counted{font-style:italic}
.sev-refer{color:#c62828;font-weight:700} .sev-marked{color:#b34700;font-weight:600} .sev-mild{color:#8a6d00}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}
figure{background:#fff;margin:0;padding:8px;border:1px solid #dfe3e8;border-radius:6px}
figure svg{width:100%;height:auto} figcaption{font-size:.82em;color:#5b6570;margin-top:4px}
.drills{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
.drill{background:#fff;border:1px solid #dfe3e8;border-radius:6px;padding:12px}
.drill .cat{font-size:.75em;text-transform:uppercase;letter-spacing:.05em;color:#5b6570}
.drill .dose{font-weight:600;margin:6px 0}
.drill ol,.drill ul{margin:4px 0 6px 18px;padding:0}
.small{font-size:.82em;color:#5b6570}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _section(title: str, body: str, section_id: str) -> str:
    return f'<section id="{section_id}"><h2>{_e(title)}</h2>{body}</section>'


def _table(headers: list[str], rows: list[list[str]], table_id: str) -> str:
    """``rows`` cells are HTML already escaped by the caller."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _td(text: object, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{_e(text)}</td>"


def _referrals(report: Report) -> str:
    p = report.programme
    parts = []
    for r in p.referrals:
        title = "See a health professional" if r.kind == "refer" else "Consider seeing a health professional"
        extra = " Do not start the drills below before a professional has seen you." if r.holds_drills else ""
        parts.append(f'<div class="box {"refer" if r.kind == "refer" else "consider"}"><strong>{_e(title)}.</strong> '
                     f"{_e(r.text)}{_e(extra)}</div>")
    return "".join(parts)


def _summary(report: Report) -> str:
    sides = [s for s in SIDE_ORDER if any(m.side is s for m in report.measurements)]
    rows = []
    for name, label in KEY_METRICS:
        cells = [measurement_text(report.measurement(name, s)) for s in sides]
        if any(c != "—" for c in cells):
            rows.append([_td(label)] + [_td(c, "num") for c in cells])
    quality = "".join(f"<li>{_e(leg_quality_text(q))}; {_e(q.calibration_method)}</li>" for q in report.quality)
    return (_table(["measurement (mean ± SD over strides)"] + [side_heading(s, report) for s in sides], rows,
                   "summary-table")
            + f'<p class="small">{_e(report.hip_rotation_note)}</p><ul class="small">{quality}</ul>')


def _comparisons(report: Report) -> str:
    rows = []
    for c in report.comparisons:
        status = f"status-{c.status.value}" if c.trusted else "not-counted"
        rows.append([_td(c.title), _td(side_text(c.side, c.quantity)), _td(comparison_value_text(c), "num"),
                     _td(c.reference_text), _td(result_text(c), status), _td(confidence_text(c)),
                     _td(c.source), _td(c.population)])
    return _table(["measurement", "side", "value", "reference", "result", "confidence", "source", "population"],
                  rows, "comparisons-table")


def _findings(report: Report) -> str:
    not_counted = not_counted_text(report)
    not_counted = f'<div class="box consider" id="not-counted">{_e(not_counted)}</div>' if not_counted else ""
    if not report.findings:
        return f'<div class="box ok">{_e(no_finding_text(report))}</div>' + not_counted
    rows = []
    for f in report.findings:
        conf = confidence_text(f)
        caveats = " ".join(f.caveats)
        rows.append([_td(f.message), _td(f.side.value if f.side else "—"), _td(value_text(f.value, f.unit), "num"),
                     _td(f.reference_text), _td(SEVERITY_TEXT[f.severity.value], f"sev-{f.severity.value}"), _td(conf),
                     f"<td>{_e(f.citation)}<div class='small'>{_e(caveats)}</div></td>"])
    return _table(["finding", "side", "value", "threshold", "severity", "confidence", "source and caveats"],
                  rows, "findings-table") + not_counted


def _charts(report: Report) -> str:
    if not report.curves:
        return '<p class="small">No walking curves in this report.</p>'
    figures = []
    for angle, label in CURVE_LABELS.items():
        svg, has_band = curve_chart(report.curves, angle)
        band = ("Grey: normative mean ± 1 SD (Schwartz et al. 2008, typically developing children; "
                "femur vs pelvis for the hip)." if has_band else "No normative band is available for this angle.")
        figures.append(f"<figure>{svg}<figcaption>{_e(label)} over one gait cycle, mean ± SD over the used "
                       f"strides; left blue, right red. {_e(band)}</figcaption></figure>")
    summary = (f"<figure>{summary_chart(report)}<figcaption>Left: range of each angle over the cycle (of the mean "
               f"curve). Right: the compared measurements against the mildest level of their reference."
               f"</figcaption></figure>")
    return f'<div class="charts">{"".join(figures)}</div><div style="margin-top:12px">{summary}</div>'


def _programme(report: Report) -> str:
    p = report.programme
    if not p.drills:
        return "<p>No drills are suggested by this session's findings.</p>"
    intro = [f"<p><strong>{p.sessions_per_week} sessions a week</strong> ({_e(', '.join(p.schedule) or '—')}); "
             f"the guide's range is {p.sessions_per_week_range[0]}–{p.sessions_per_week_range[1]}.</p>"]
    if p.on_hold:
        intro.insert(0, '<div class="box refer"><strong>On hold:</strong> see a health professional before '
                        "starting these drills.</div>")
    notes = "".join(f"<li>{_e(n)}</li>" for n in p.notes + p.progression)
    names = {d.drill.id: d.drill.name for d in p.drills}
    sched = [[_td(day), _td(", ".join(names[i] for i in ids))] for day, ids in p.schedule.items()]
    if p.daily:
        sched.append([_td("every day"), _td(", ".join(names[i] for i in p.daily))])
    cards = []
    for d in p.drills:
        dr = d.drill
        steps = "".join(f"<li>{_e(s)}</li>" for s in dr.steps)
        cues = "".join(f"<li>{_e(s)}</li>" for s in dr.cues)
        contra = "".join(f"<li>{_e(s)}</li>" for s in dr.contraindications)
        why = drill_purpose_text(d.findings, report.findings)
        cards.append(
            f'<div class="drill"><div class="cat">{_e(dr.category.replace("_", " "))}</div><h3>{_e(dr.name)}</h3>'
            f"<div>{_e(dr.purpose)}</div><div class='dose'>{_e(d.dose_text)}</div>"
            f"<ol>{steps}</ol>" + (f"<strong>Cues</strong><ul>{cues}</ul>" if cues else "")
            + (f"<strong>Progression</strong><div>{_e(dr.progression)}</div>" if dr.progression else "")
            + (f"<strong>Not when</strong><ul>{contra}</ul>" if contra else "")
            + f"<div class='small'>For: {_e(why)}</div></div>")
    return ("".join(intro) + f"<ul>{notes}</ul>" + _table(["day", "drills, in this order"], sched, "schedule-table")
            + f'<div class="drills" style="margin-top:12px">{"".join(cards)}</div>')


def _trends(report: Report) -> str:
    if not report.trends:
        return ""
    rows = [[_td(metric_label(t.metric)), _td(side_text(t.side)),
             _td(" → ".join(value_text(p.value, t.unit) for p in t.points)), _td(trend_change_text(t))]
            for t in report.trends]
    caption = "<figcaption>Grey: the walk-to-walk spread around the session before the latest.</figcaption>"
    figure = f"<figure>{trend_chart(report)}{caption}</figure>" if any(t.side for t in report.trends) else ""
    table = _table(["measurement", "side", "oldest → this session", "change"], rows, "trends-table")
    return _section("Trend over sessions", figure + table + f'<p class="small">{_e(TREND_NOTE)}</p>', "trends")


def render_html(report: Report) -> str:
    p = report.programme
    professional = "".join(f"<li>{_e(t)}</li>" for t in p.always_see_a_professional_when)
    sources = "".join(f"<li><code>{_e(k)}</code>: {_e(v)}</li>" for k, v in sorted(report.sources.items()))
    warnings = "".join(f'<div class="box consider">{_e(w)}</div>' for w in report.warnings)
    body = (
        f"<h1>Movement report — {_e(report.subject_id)}</h1>"
        f'<div class="meta">{_e(recorded_text(report))} · made {_e(report.generated_at)} · imugait '
        f"{_e(report.software_version)} · reference population: {_e(report.population.value)}</div>"
        f'<div class="box disclaimer" id="disclaimer"><strong>Please read.</strong> {_e(report.disclaimer)}</div>'
        + _referrals(report) + warnings
        + _section("Findings", _findings(report), "findings")
        + _section("Walking: summary", _summary(report), "summary")
        + _section("Gait-cycle curves", _charts(report), "curves")
        + _section("All measurements against thresholds", _comparisons(report), "comparisons")
        + _section("Practice programme", _programme(report), "programme")
        + _section("When to see a professional", f"<ul>{professional}</ul>", "professional")
        + _trends(report)
        + _section("Sources", f'<ul class="small">{sources}</ul>', "sources")
    )
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Movement report — {_e(report.subject_id)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def write_report_html(report: Report, path: str | Path) -> Path:
    return write_text_atomic(path, render_html(report))
