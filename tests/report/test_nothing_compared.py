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


def test_the_leg_line_says_why_strides_were_not_used():
    """qmt's left leg read '25 of 47 strides used' with no reason anywhere in the report (22 were in
    its turns); the line now counts the reasons, in the text, the HTML and the JSON."""
    from imugait.report.render_json import report_to_dict

    turn = "not inside a straight walking bout (turn, standing or start/stop)"
    q = LegQuality(Side.LEFT, "good", 25, 47, "referred to standing", strides_unused=((turn, 22),))
    report = dataclasses.replace(build_report(subject_id="P-1", measurements=[]), quality=(q,))
    line = f"left leg: sensor calibration good, 25 of 47 strides used (unused: 22 {turn}); referred to standing"
    assert line in _text(report)
    assert line in unescape(render_html(report))
    assert report_to_dict(report)["data_quality"]["legs"][0]["strides_unused"] == {turn: 22}


def test_an_analysed_leg_counts_its_unused_strides(normal_analysis):
    report = build_report(normal_analysis)
    for q in report.quality:
        assert sum(n for _, n in q.strides_unused) == q.strides_found - q.strides_used
