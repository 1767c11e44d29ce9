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


def test_hip_rotation_note_says_whether_a_pelvis_sensor_was_worn(normal_analysis):
    """The note under the summary said 'no pelvis sensor was worn' even when one was (the qmt
    recording's pelvis sensor): it follows the analysis now, in the text, the HTML and the JSON."""
    import dataclasses

    from imugait.report.render_json import report_to_dict

    without = build_report(normal_analysis)
    assert "no pelvis sensor was worn" in without.hip_rotation_note
    worn = build_report(dataclasses.replace(normal_analysis, pelvis_worn=True))
    for text in (worn.hip_rotation_note, _text(worn), render_html(worn), report_to_dict(worn)["hip_rotation"]["note"]):
        text = " ".join(text.split())  # the terminal wraps lines
        assert "no pelvis sensor" not in text
        assert "pelvis sensor was worn" in text
    assert report_to_dict(worn)["hip_rotation"]["reference"] == "progression"  # the compared value is unchanged


def test_every_comparison_says_why_its_confidence_is_low():
    """A 10-m walk gives about 6 strides a leg: stance % (medium from 7 strides) reads 'low'. The
    reason, with what to record next time, is beside it in the comparisons table (HTML) or in a note
    under it (text), not only in the findings; a left/right comparison names each side's reason."""
    from imugait.conventions import Side
    from imugait.report.drill_data import load_report_data
    from imugait.report.measurements import Measurement, leg_confidence
    from imugait.report.thresholds import Confidence

    confidence, reason = leg_confidence("good", 6, load_report_data().thresholds.confidence, metric="stance_pct")
    assert confidence is Confidence.LOW
    assert reason.startswith("only 6 strides used, fewer than 7: ") and "record about 1 more 10-m pass" in reason
    measurements = [Measurement("stance_pct", side, 60.0, "%", n=6, confidence=confidence, confidence_reason=reason)
                    for side in (Side.LEFT, Side.RIGHT)]
    report = build_report(subject_id="P-1", measurements=measurements)
    symmetry = next(c for c in report.comparisons if c.quantity == "symmetry_index_pct")
    assert symmetry.confidence_reason == f"left: {reason}; right: {reason}"
    html = render_html(report)
    table = html[html.index('id="comparisons-table"'):]
    assert "record about 1 more 10-m pass" in table[:table.index("</table>")]
    text = " ".join(_text(report).split())
    assert "low [1]" in text and "[1] left: only 6 strides used" in text


def test_terminal_programme_says_what_each_drill_is_for_in_words(rotated_report):
    """The terminal's programme named a drill's purpose by the finding's code
    ('hip_internal_rotation_gait'); it says it in words now, as the HTML's drill cards do."""
    text = " ".join(_text(rotated_report).split())
    programme = text[text.index("Practice programme"):]
    assert "hip_internal_rotation_gait" not in programme
    assert "hip rotation while walking (right)" in programme
    assert "For: hip rotation while walking (right)" in render_html(rotated_report)


def test_a_leg_not_trusted_is_marked_in_the_summary_and_by_no_finding(normal_report):
    """HuGaDB 06_00's right leg (101 of 127 strides implausible) stood in the summary like the
    other, under 'No finding: every compared measurement is within its reference'. Its column is
    marked and a line says its values do not count (tests/report/test_untrusted_leg.py: nor do
    they raise findings)."""
    import dataclasses
    from html import unescape

    from imugait.conventions import Side

    assert "No finding: every compared measurement is within its reference." in _text(normal_report)
    assert "not trusted" not in _text(normal_report) and "not trusted" not in render_html(normal_report)
    quality = tuple(dataclasses.replace(q, trusted=q.side is not Side.RIGHT) for q in normal_report.quality)
    report = dataclasses.replace(normal_report, quality=quality)
    assert not report.findings
    html = render_html(report)
    summary = html[html.index('id="summary-table"'):]
    assert "<th>right (not trusted)</th>" in summary[:summary.index("</tr>")]
    text = " ".join(_text(report).split())
    assert "right (not trusted)" in text
    for shown in (text, unescape(html)):
        assert "Not counted: the right leg's results are not trusted" in shown and "record the walk again" in shown


def test_the_terminal_comparisons_table_cuts_no_word_at_80_columns(rotated_report):
    """At 80 columns the table folded words mid-word ('measureme nt', 'herringto n_munro20 10'): it
    wraps at spaces now, the source ids going under the table as notes when they do not fit beside
    the other columns; at 160 columns the source column stays."""
    def table(width: int) -> str:
        buf = io.StringIO()
        render_text(rotated_report, Console(file=buf, width=width, force_terminal=False))
        text = buf.getvalue()
        return text[text.index("Measurements against thresholds"):text.index("Findings")]

    narrow = table(80)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    words = set(narrow.replace("│", " ").replace("┃", " ").split())
    cells = ["measurement", "confidence"] + [w for c in rotated_report.comparisons
                                             for w in (c.title + " " + c.reference_text).split()]
    assert [w for w in cells if w not in words] == []
    for c in rotated_report.comparisons:
        assert f"source: {c.source}" in " ".join(narrow.split())
    assert "┃ source" in table(160)
