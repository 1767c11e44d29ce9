"""Terminal and HTML renderers: content, escaping, self-containment."""

from __future__ import annotations

import io
import re

from rich.console import Console

from imugait.report.charts import curve_chart
from imugait.report.render_html import render_html
from imugait.report.render_text import render_text
from imugait.report.report import build_report

HTML_INJECTION = "<script>alert(1)</script>"  # the rotated walker's subject id (conftest)


def _text(report) -> str:
    buf = io.StringIO()
    render_text(report, Console(file=buf, width=160, force_terminal=False))
    return buf.getvalue()


def test_terminal_report(rotated_report, normal_report):
    text = _text(rotated_report)
    for expected in ("not a diagnosis", "Findings", "Right side", "Banded clamshells", "See a health professional when",
                     "line of progression", HTML_INJECTION):
        assert expected in text
    assert "No finding" in _text(normal_report)


def test_terminal_report_escapes_rich_markup(normal_analysis):
    report = build_report(normal_analysis, subject_id="[bold red]x[/]")
    assert "[bold red]x[/]" in _text(report)


def test_html_escapes_the_subject_id(rotated_report):
    html = render_html(rotated_report)
    assert HTML_INJECTION not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


def test_html_is_self_contained(rotated_report):
    html = render_html(rotated_report)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "<link" not in html and "@import" not in html
    assert html.count("<svg") == 5  # four gait-cycle curves and the summary chart
    for section in ('id="findings-table"', 'id="comparisons-table"', 'id="schedule-table"', 'id="disclaimer"',
                    "normative mean ± 1 SD", "not a diagnosis"):
        assert section in html


def test_curve_without_normative_data_says_so(rotated_report):
    svg, has_band = curve_chart(rotated_report.curves, "knee_flexion_deg")
    assert has_band and svg.startswith("<svg")
    _, has_band = curve_chart(rotated_report.curves, "ankle_inversion_deg")
    assert not has_band
