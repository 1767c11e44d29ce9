"""A report with nothing to compare says so (newcomer pass, twenty-first session): HuGaDB 04_00,
whose four leg gyroscopes the maintainers list as corrupted, has no usable stride on either leg,
and its report said "No finding: every compared measurement is within its reference."."""

from __future__ import annotations

import dataclasses
import io
from html import unescape

from rich.console import Console

from imugait.conventions import Side
from imugait.report.render_html import render_html
from imugait.report.render_text import render_text
from imugait.report.report import LegQuality, build_report


def _text(report) -> str:
    buf = io.StringIO()
    render_text(report, Console(file=buf, width=400, force_terminal=False))
    return " ".join(buf.getvalue().split())


def test_no_usable_stride_is_not_within_the_reference():
    report = dataclasses.replace(build_report(subject_id="P-1", measurements=[]),
                                 quality=(LegQuality(Side.LEFT, "good", 0, 128), LegQuality(Side.RIGHT, "good", 0, 127)))
    assert not report.comparisons and not report.findings
    for text in (_text(report), unescape(render_html(report))):
        assert "within its reference" not in text
        assert "No finding, and nothing was compared: no leg had a stride that could be used" in text


def test_a_report_without_measurements_says_nothing_was_compared():
    text = _text(build_report(subject_id="P-1", measurements=[]))
    assert "No finding, and nothing was compared: no measurement of this report has a reference." in text
    assert "within its reference" not in text
