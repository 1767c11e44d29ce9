"""A leg whose results are not trusted is compared and shown, marked, but raises no finding, no
drill and no referral (issue 10: values that are not valid never become findings). HuGaDB 06_00's
right leg (101 of 127 strides implausible) was compared with the thresholds like a trusted leg."""

from __future__ import annotations

import dataclasses
import io
from html import unescape

import jsonschema
from rich.console import Console

from imugait.conventions import Side
from imugait.report.findings import Status
from imugait.report.measurements import Measurement
from imugait.report.render_html import render_html
from imugait.report.render_json import previous_from_dict, report_to_dict, schema_document
from imugait.report.render_text import render_text
from imugait.report.report import build_report

RESTRAP = "check that both sensors are strapped firmly on this leg and record the walk again"


def _text(report) -> str:
    buf = io.StringIO()
    render_text(report, Console(file=buf, width=400, force_terminal=False))  # cells on one line
    return " ".join(buf.getvalue().split())


def _untrusted(analysis, side: Side):
    legs = dict(analysis.legs)
    legs[side] = dataclasses.replace(legs[side], trusted=False)
    return dataclasses.replace(analysis, legs=legs)


def test_the_rotated_hip_of_an_untrusted_leg_raises_no_finding_and_no_drill(rotated_analysis, rotated_report):
    # Trusted, the walker's 15° internally rotated right hip is a finding with drills.
    assert any(f.side is Side.RIGHT and f.metric == "hip_rotation_mean_deg" for f in rotated_report.findings)
    assert rotated_report.programme.drills
    report = build_report(_untrusted(rotated_analysis, Side.RIGHT), pain_reported=False)
    right = [c for c in report.comparisons if c.side is Side.RIGHT]
    assert right and not any(c.trusted for c in right)
    assert any(c.status is Status.OUTSIDE and c.metric == "hip_rotation_mean_deg" for c in right)  # still shown
    assert all(c.trusted for c in report.comparisons if c.side is Side.LEFT)
    assert not any(c.trusted for c in report.comparisons if c.quantity != "value")  # left/right needs both legs
    assert not [f for f in report.findings if f.side is not Side.LEFT]
    assert not report.programme.drills and not report.programme.schedule and not report.programme.referrals

    text = _text(report)
    assert "outside the reference (mild); not counted: leg not trusted" in text
    assert "No finding: every measurement that counts is within its reference." in text
    assert "Not counted: the right leg's results are not trusted — most strides had values no walking produces" in text
    assert f"To count them, {RESTRAP}." in text
    assert "Practice programme" not in text

    html = unescape(render_html(report))
    table = html[html.index('id="comparisons-table"'):]
    assert "outside the reference (mild); not counted: leg not trusted" in table[:table.index("</table>")]
    assert 'id="not-counted"' in html and f"To count them, {RESTRAP}." in html
    assert "No drills are suggested" in html

    doc = report_to_dict(report)
    jsonschema.Draft202012Validator(schema_document()).validate(doc)
    assert doc["findings"] == [] and doc["programme"]["drills"] == [] and doc["programme"]["schedule"] == {}
    assert {c["trusted"] for c in doc["comparisons"] if c["side"] == "right"} == {False}
    assert {m["trusted"] for m in doc["measurements"] if m["side"] == "right"} == {False}
    assert doc["data_quality"]["not_counted"].startswith("Not counted: the right leg's results are not trusted")
    assert report_to_dict(rotated_report)["data_quality"]["not_counted"] == ""


def test_a_finding_of_the_trusted_leg_stays_and_the_report_says_which_leg_does_not_count(rotated_analysis):
    report = build_report(_untrusted(rotated_analysis, Side.LEFT), pain_reported=False)
    assert [f.side for f in report.findings] == [Side.RIGHT]  # the right hip's finding, trusted
    assert report.programme.drills
    text = _text(report)
    assert "Findings" in text and "Not counted: the left leg's results are not trusted" in text
    assert "Not counted: the left leg's results" in unescape(render_html(report))


def test_measurements_from_both_untrusted_legs_raise_nothing():
    measurements = [Measurement("hip_rotation_mean_deg", side, 25.0, "deg", n=20, trusted=False) for side in Side]
    report = build_report(subject_id="P-1", measurements=measurements)
    assert report.comparisons and not report.findings and not report.programme.drills
    assert all(c.status is Status.OUTSIDE for c in report.comparisons if c.quantity == "value")
    text = _text(report)
    assert "No finding: no measurement of this report counts." in text
    assert "Not counted: both legs' results are not trusted" in text and "on each leg" in text


def test_an_earlier_report_s_untrusted_leg_starts_no_trend(rotated_analysis, rotated_report):
    old = report_to_dict(build_report(_untrusted(rotated_analysis, Side.RIGHT)))
    previous = previous_from_dict(old)
    assert previous.values and all(side is not Side.RIGHT for _, side in previous.values)
    report = build_report(rotated_analysis, previous=[previous])
    assert report.trends and all(t.side is Side.LEFT for t in report.trends if t.side is not None)
    # nor does this report's untrusted leg
    report = build_report(_untrusted(rotated_analysis, Side.RIGHT), previous=[previous_from_dict(
        report_to_dict(rotated_report))])
    assert report.trends and all(t.side is not Side.RIGHT for t in report.trends)
