"""``imugait report``: findings, drills and referrals from a walking session (terminal, HTML, JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._options import add_force_arg
from imugait.cli._session import add_calibration_arg, load_session


def register(sub: argparse._SubParsersAction) -> None:
    from imugait.report.thresholds import Population

    p = sub.add_parser(
        "report",
        help="findings against sourced thresholds, a drill programme and referrals for a session",
        description=(
            "Analyse a walking session, compare the measurements with sourced reference values, and "
            "print the findings with a practice programme (and when to see a professional). Optionally "
            "writes a self-contained HTML report and a JSON report (docs/report.md). Not a diagnosis."
        ),
    )
    p.add_argument("session", type=Path, help="session file (.parquet), e.g. from `imugait simulate` or `imugait import`")
    p.add_argument("--html", type=Path, metavar="OUT.html", help="write the HTML report here")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the JSON report here (schema imugait.report v1)")
    p.add_argument("--previous", type=Path, nargs="+", default=[], metavar="PREV.report.json",
                   help="earlier JSON reports of the same subject, for trends")
    p.add_argument("--sex", choices=[x.value for x in Population], default=Population.UNKNOWN.value,
                   help="which sex-specific reference values to use (default unknown: the wider range)")
    pain = p.add_mutually_exclusive_group()
    pain.add_argument("--pain", dest="pain", action="store_true", default=None,
                      help="the person reported pain during or after the tests (leads to 'see a professional')")
    pain.add_argument("--no-pain", dest="pain", action="store_false", help="the person reported no pain")
    add_calibration_arg(p)
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from imugait.analysis import analyze_session
    from imugait.output_guard import check_outputs
    from imugait.report.render_html import write_report_html
    from imugait.report.render_json import read_previous, write_report_json
    from imugait.report.render_text import render_text
    from imugait.report.report import build_report
    from imugait.report.thresholds import Population

    check_outputs([args.json, args.html], inputs=[args.session, *args.previous], force=args.force)
    console = Console()
    previous = [read_previous(path) for path in args.previous]
    with console.status("reading the session") as status:
        session = load_session(args.session, args, say=console.print)
        result = analyze_session(session, progress=lambda stage: status.update(stage))
        status.update("findings and drills")
        report = build_report(result, previous=previous, population=Population(args.sex), pain_reported=args.pain)
    render_text(report, console)
    if args.json:
        write_report_json(report, args.json)
        console.print(f"JSON report written to [bold]{args.json}[/bold]")
    if args.html:
        write_report_html(report, args.html)
        console.print(f"HTML report written to [bold]{args.html}[/bold]")
    return 0
