"""The report's "recorded" time says when it is only an imported file's modification time (newcomer
pass, twenty-first session: the scikit-kinematics Xsens leg, copied here that day, was reported as
"recorded 2026-12-06T23:54:42")."""

from __future__ import annotations

import dataclasses
import io
from html import unescape

from rich.console import Console

from imugait.model import FILE_TIME_NOTE
from imugait.report.render_html import render_html
from imugait.report.render_json import report_to_dict
from imugait.report.render_text import render_text
from imugait.report.report import build_report


def _text(report) -> str:
    buf = io.StringIO()
    render_text(report, Console(file=buf, width=400, force_terminal=False))
    return " ".join(buf.getvalue().split())


def test_a_file_time_is_marked_and_a_stated_time_is_not(normal_analysis):
    meta = normal_analysis.session_meta
    stated = build_report(normal_analysis)
    assert not stated.recorded_at_is_file_time
    assert f"recorded {meta.recorded_at} reference population" in _text(stated)

    copied = dataclasses.replace(meta, notes=f"imported from leg.txt; {FILE_TIME_NOTE}")
    report = build_report(dataclasses.replace(normal_analysis, session_meta=copied))
    mark = f"recorded {meta.recorded_at} (the file's time: it states no date)"
    assert report.recorded_at_is_file_time
    assert mark in _text(report) and mark in unescape(render_html(report))
    assert report_to_dict(report)["subject"]["recorded_at_is_file_time"] is True
    assert report_to_dict(stated)["subject"]["recorded_at_is_file_time"] is False
    # a time given to the report is not the file's
    assert not build_report(dataclasses.replace(normal_analysis, session_meta=copied),
                            recorded_at="2020-01-01T10:00:00").recorded_at_is_file_time
