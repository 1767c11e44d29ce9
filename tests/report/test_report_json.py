"""The JSON report validates against its published schema; earlier reports feed trends."""

from __future__ import annotations

import io
import json

import jsonschema
import pytest
from rich.console import Console

from imugait.errors import FormatError, ValidationError
from imugait.report.render_html import render_html
from imugait.report.render_json import (
    previous_from_dict,
    read_previous,
    report_to_dict,
    schema_document,
    write_report_json,
)
from imugait.report.render_text import render_text
from imugait.report.report import build_report


def _validate(doc):
    schema = schema_document()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(doc)


def test_schema_is_valid_and_reports_validate(rotated_report, normal_report, tmp_path):
    for report in (rotated_report, normal_report):
        path = write_report_json(report, tmp_path / "r.json")
        doc = json.loads(path.read_text(encoding="utf-8"))
        _validate(doc)
        assert doc["schema"] == "imugait.report" and doc["schema_version"] == 1
        assert doc["disclaimer"] and doc["hip_rotation"]["reference"] == "progression"
        assert len(doc["curves"]["left"]["hip_rotation_deg"]["mean"]) == 101


def test_schema_rejects_a_broken_document(rotated_report):
    doc = report_to_dict(rotated_report)
    doc["findings"][0]["severity"] = "catastrophic"
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)


def test_trends_over_previous_reports(rotated_analysis, rotated_report, tmp_path):
    doc = report_to_dict(rotated_report)
    doc["subject"]["recorded_at"] = "2025-12-01T09:00:00+00:00"
    for m in doc["measurements"]:
        if m["name"] == "hip_rotation_mean_deg" and m["side"] == "right":
            m["value"] = 20.0
    path = tmp_path / "old.report.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    report = build_report(rotated_analysis, previous=[read_previous(path)])
    trend = next(t for t in report.trends if t.metric == "hip_rotation_mean_deg" and t.side and t.side.value == "right")
    assert [p.value for p in trend.points][0] == 20.0 and len(trend.points) == 2
    assert trend.points[0].recorded_at < trend.points[1].recorded_at
    _validate(report_to_dict(report))
    # The trend tables name a measurement in words, as the summary does, not by its JSON name.
    html = render_html(report)
    table = html[html.index('id="trends-table"'):]
    table = table[:table.index("</table>")]
    buf = io.StringIO()
    render_text(report, Console(file=buf, width=200, force_terminal=False))
    text = buf.getvalue()
    text = text[text.index("Trend over sessions"):]
    for shown in (table, text):
        assert "Hip rotation, mean over the cycle" in shown and "hip_rotation_mean_deg" not in shown


def test_previous_report_of_another_subject_is_refused(rotated_analysis, normal_report):
    other = previous_from_dict(report_to_dict(normal_report))
    with pytest.raises(ValidationError, match="one person"):
        build_report(rotated_analysis, previous=[other])


def test_not_a_report_is_a_clear_error(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"schema": "imugait.analysis", "schema_version": 1}', encoding="utf-8")
    with pytest.raises(FormatError, match="not an imugait report"):
        read_previous(path)
    with pytest.raises(FormatError, match="no such file"):
        read_previous(tmp_path / "missing.json")


def test_a_report_written_before_the_trust_and_spread_fields_still_validates(rotated_report):
    """Version-1 reports from before `trusted`, `not_counted` and the trend's spread fields stay valid."""
    doc = report_to_dict(rotated_report)
    for m in doc["measurements"]:
        m.pop("trusted")
    for c in doc["comparisons"]:
        c.pop("trusted")
    doc["data_quality"].pop("not_counted")
    for t in doc["trends"]:
        for key in ("change", "smallest_real_change", "beyond_spread"):
            t.pop(key)
    _validate(doc)
    doc["measurements"][0]["trusted"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)
