"""The report in a terminal (rich)."""

from __future__ import annotations

from rich.console import Console, Group
from rich.markup import escape
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table

from imugait.report.findings import Status
from imugait.report.present import (
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

STATUS_STYLE = {Status.WITHIN: "green", Status.OUTSIDE: "bold yellow", Status.REFERENCE: "cyan",
                Status.NOT_AVAILABLE: "dim"}


def render_text(report: Report, console: Console | None = None) -> None:
    """Print the report. All user-provided text (subject id) is escaped for rich markup."""
    console = console or Console()
    console.rule(f"Movement report — {escape(report.subject_id)}")
    console.print(f"{escape(recorded_text(report))}   reference population: {report.population.value}")
    console.print(Panel(escape(report.disclaimer), title="Please read", border_style="blue"))
    p = report.programme
    for r in p.referrals:
        style = "bold red" if r.kind == "refer" else "yellow"
        msg = "See a health professional" if r.kind == "refer" else "Consider seeing a health professional"
        console.print(Panel(f"{escape(r.text)}", title=msg, border_style=style))
    console.print(_summary_table(report))
    console.print(f"[dim]{escape(report.hip_rotation_note)}[/dim]")
    console.print(_comparison_table(report, console))
    if report.findings:
        console.print(_findings_table(report))
    else:
        console.print(f"[green]{escape(no_finding_text(report))}[/green]")
    if not_counted := not_counted_text(report):
        console.print(f"[bold yellow]{escape(not_counted)}[/bold yellow]")
    if p.drills:
        console.print(_programme(report))
    console.print("[bold]See a health professional when[/bold]")
    for text in p.always_see_a_professional_when:
        console.print(f"  • {escape(text)}")
    if report.trends:
        console.print(_trend_table(report))
    for q in report.quality:
        console.print(f"[dim]{escape(leg_quality_text(q))}; {escape(q.calibration_method)}[/dim]")
    for w in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")


def _summary_table(report: Report) -> Table:
    sides = [s for s in SIDE_ORDER if any(m.side is s for m in report.measurements)]
    table = Table(title="Walking: summary (mean ± SD over strides)")
    table.add_column("metric")
    for side in sides:
        table.add_column(side_heading(side, report), justify="right")
    for name, label in KEY_METRICS:
        cells = [measurement_text(report.measurement(name, side)) for side in sides]
        if any(c != "—" for c in cells):
            table.add_row(label, *cells)
    return table


def _comparison_table(report: Report, console: Console) -> Table:
    """The comparisons; on a console too narrow for a source id beside the other columns without
    cutting a word (80 columns), the sources go under the table as numbered notes."""
    table = _comparisons(report, sources_in_notes=False)
    unlimited = console.options.update_width(10_000)  # the narrowest the table gets without cutting a word
    if Measurement.get(console, unlimited, table).minimum > console.width:
        table = _comparisons(report, sources_in_notes=True)
    return table


def _comparisons(report: Report, sources_in_notes: bool) -> Table:
    table = Table(title="Measurements against thresholds")
    columns = ("measurement", "side", "value", "reference", "result", "confidence", "source")
    for col in columns[:-1] if sources_in_notes else columns:
        table.add_column(col, overflow="fold")  # wraps at spaces; folds a word only if nothing else fits
    notes: list[str] = []

    def note(text: str) -> str:  # long texts go under the table as numbered notes
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    for c in report.comparisons:
        result = result_text(c)
        style = STATUS_STYLE[c.status] if c.trusted else "dim"
        reference = c.reference_text
        if c.status is Status.NOT_AVAILABLE:
            reference = f"no verified norm {note(c.reference_text)}"
        if sources_in_notes:
            reference += f" {note(f'source: {c.source}')}"
        confidence = c.confidence.value + (f" {note(c.confidence_reason)}" if c.confidence_reason else "")
        cells = [escape(c.title), side_text(c.side, c.quantity), comparison_value_text(c), escape(reference),
                 f"[{style}]{result}[/{style}]", escape(confidence)]
        table.add_row(*cells, *([] if sources_in_notes else [c.source]))
    if notes:
        table.caption = " ".join(f"[{i + 1}] {escape(n)}" for i, n in enumerate(notes))
    return table


def _findings_table(report: Report) -> Table:
    table = Table(title="Findings")
    for col in ("finding", "severity", "confidence", "reference"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        table.add_row(escape(f.message), SEVERITY_TEXT[f.severity.value], escape(confidence_text(f)),
                      escape(f.reference_text))
    return table


def _programme(report: Report) -> Panel:
    p = report.programme
    parts = []
    if p.on_hold:
        parts.append("[bold red]Do not start these drills before a health professional has seen you.[/bold red]")
    days = ", ".join(p.schedule) or "—"
    parts.append(f"{p.sessions_per_week} sessions a week ({days}); range {p.sessions_per_week_range[0]}–"
                 f"{p.sessions_per_week_range[1]}.")
    table = Table(show_header=True, box=None)
    for col in ("drill", "type", "dose", "for"):
        table.add_column(col, overflow="fold")
    for d in p.drills:
        table.add_row(escape(d.drill.name), d.drill.category.replace("_", " "), escape(d.dose_text),
                      escape(drill_purpose_text(d.findings, report.findings)))
    parts.append(table)
    parts.extend(f"• {escape(n)}" for n in p.notes + p.progression)
    parts.append("Instructions for every drill are in the HTML report (--html).")
    return Panel(Group(*parts), title="Practice programme")


def _trend_table(report: Report) -> Table:
    table = Table(title="Trend over sessions", caption=escape(TREND_NOTE))
    table.add_column("measurement")
    table.add_column("side")
    table.add_column("values (oldest → this session)")
    table.add_column("change")
    for t in report.trends:
        values = " → ".join(value_text(p.value, t.unit) for p in t.points)
        table.add_row(escape(metric_label(t.metric)), side_text(t.side), values, escape(trend_change_text(t)))
    return table
