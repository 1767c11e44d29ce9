"""Every relative link in README.md and docs/*.md leads to a file that exists, and every
``#anchor`` to a heading of that file (GitHub's anchors: lower case, punctuation dropped, spaces as
hyphens, ``-1``, ``-2`` … for repeated headings). Sections move between files (docs/live.md's
history went to docs/live-history.md); a link left behind fails here."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _slug(heading: str) -> str:
    text = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the headings of ``page`` (fenced code blocks skipped)."""
    found, seen, fenced = set(), {}, False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            slug = _slug(match.group(2))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def test_the_anchor_rule_on_headings_of_this_project(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Live\n## Agreement with `analyze`, and CPU\n### Not done\n### Not done\n"
                    "```\n# not a heading\n```\n", encoding="utf-8")
    assert anchors(page) == {"live", "agreement-with-analyze-and-cpu", "not-done", "not-done-1"}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_lead_to_a_file_and_a_heading(page):
    bad = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, mailto: …
            continue
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists():
            bad.append(f"{target}: no such file")
        elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
            bad.append(f"{target}: no heading with that anchor")
    assert not bad, f"{page.relative_to(ROOT)}: " + "; ".join(bad)
