"""The HTML report in real headless Chromium: it renders, shows the findings table and the charts,
and logs no console errors. The screenshot is kept in tests/report/artifacts/ for inspection."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from report_browser import ensure_chromium, render

from imugait.report.render_html import write_report_html

ARTIFACTS = Path(__file__).parent / "artifacts"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def chromium():
    path, reason = ensure_chromium()
    if path is None:
        pytest.skip(reason)
    return path


def test_report_renders_in_headless_chromium(chromium, rotated_report, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    html = write_report_html(rotated_report, tmp_path / "report.html")
    shot = ARTIFACTS / "report_rotated_right_hip.png"
    shot.unlink(missing_ok=True)
    run = render(chromium, html, shot, tmp_path / "profile")
    assert not run.console_errors, run.console_errors
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 50_000  # a blank 1200×3000 page is a few kB
    dom = run.dom
    assert 'id="findings-table"' in dom and "Right side" in dom
    assert len(re.findall(r"<svg\b", dom)) == 5
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom and "<script>alert(1)" not in dom


def test_console_error_detection_works(chromium, tmp_path):
    """The check above would notice a script error (the report itself has no scripts)."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>no_such_function()</script></body></html>", encoding="utf-8")
    run = render(chromium, bad, tmp_path / "bad.png", tmp_path / "profile", size="400,300")
    assert run.console_errors
