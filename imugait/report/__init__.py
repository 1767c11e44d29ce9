"""The report: measurements → findings against sourced thresholds → drills and referrals; text,
JSON and HTML renderers. See docs/report.md."""
