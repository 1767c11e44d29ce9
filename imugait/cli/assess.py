"""``imugait assess``: the assessment battery — guided with live (or emulated) sensors, or
re-analysing a recording (``--from``); both end with the report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imugait.cli._options import (
    add_force_arg,
    finite_range,
    playback_speed,
    sample_loss,
    seed,
    sensor_rate_hz,
)
from imugait.cli._session import add_calibration_arg, load_session

GUIDED_REPORTS = ("assessment.json", "report.html", "report.json")
"""What a guided run writes into its folder besides the recording (replaced only with --force)."""


def register(sub: argparse._SubParsersAction) -> None:
    from imugait.cli._live import add_sensor_args

    p = sub.add_parser(
        "assess",
        help="assessment battery: posture, walking, supine/prone hip rotation, squat, single-leg squat, balance",
        description=(
            "Without --from: guide the person through the battery step by step with live sensors "
            "(--port/--ble) or emulated ones (--emulate) — instructions, countdown, recording, a quality "
            "check per step and a redo of a failed one — recording everything as one session in --out DIR "
            "with the steps annotated, then analyse it and write DIR/report.html and DIR/report.json. "
            "With --from: re-analyse a recorded session. See docs/assessment.md."
        ),
    )
    p.add_argument("--from", dest="source", type=Path, metavar="SESSION.parquet",
                   help="re-analyse a recorded session (e.g. from `imugait simulate --protocol battery`)")
    p.add_argument("--out", type=Path, metavar="PATH",
                   help="guided run: the session folder (default assessments/<time>); with --from: the "
                        "assessment result JSON (default next to the session, *.assessment.json)")
    p.add_argument("--html", type=Path, metavar="OUT.html", help="write the HTML report here (guided: DIR/report.html)")
    p.add_argument("--json", type=Path, metavar="OUT.json", help="write the JSON report here (guided: DIR/report.json)")
    g = p.add_argument_group("guided run")
    g.add_argument("--subject", default="anonymous", help="pseudonymous subject id")
    g.add_argument("--protocols", default="", metavar="NAMES",
                   help="comma-separated protocols to run (default: the whole battery), e.g. prone,squat")
    g.add_argument("--countdown", type=finite_range(0.0, 60.0, "s"), default=3.0, metavar="S",
                   help="countdown before each step (s, 0-60, default 3)")
    add_sensor_args(p)
    e = p.add_argument_group("emulation (no hardware)")
    e.add_argument("--emulate", action="store_true",
                   help="four emulated sensors worn by a simulated person who performs the battery")
    e.add_argument("--speed", type=playback_speed, default=1.0, metavar="X", help="play the emulation X times faster (default 1)")
    e.add_argument("--short", action="store_true", help="a shorter simulated battery (about 290 s instead of 400 s; for tests and demos)")
    e.add_argument("--fail-step", metavar="STEP",
                   help="emulate the first attempt of STEP (e.g. prone:left) badly, to see the redo")
    e.add_argument("--carrier", choices=("serial", "ble"), default="serial", help="emulated serial ports or BLE")
    e.add_argument("--rate", type=sensor_rate_hz, default=100.0, metavar="HZ",
                   help="emulated sample rate (20-1000, default 100)")
    e.add_argument("--loss", type=sample_loss, default=0.0, metavar="P",
                   help="probability an emulated sample is lost (0-0.5)")
    e.add_argument("--seed", type=seed, default=0, help="emulation seed (0 to 2^32-1)")
    add_calibration_arg(p)
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from imugait.output_guard import check_outputs, check_session_folder

    console = Console()
    if args.source is not None:
        out = args.out or args.source.with_name(args.source.name.removesuffix(".parquet") + ".assessment.json")
        check_outputs([out, args.html, args.json], inputs=[args.source], force=args.force)
        result = _assess(load_session(args.source, args, say=console.print), console)
        _write_outputs(console, result, out, args.html, args.json)
        return 0
    from imugait.cli._assess_live import run_guided

    if args.out is not None:
        from imugait.acquisition.recorder import check_recording_folder

        check_recording_folder(args.out)  # the recording and its session: never replaced
        check_session_folder(args.out, GUIDED_REPORTS, force=args.force)
    check_outputs([args.html, args.json], force=args.force)

    session_path = run_guided(args, console)
    if session_path is None:
        return 1
    folder = session_path.parent
    result = _assess(load_session(session_path, args, say=console.print), console)
    _write_outputs(console, result, folder / "assessment.json", args.html or folder / "report.html",
                   args.json or folder / "report.json")
    return 0


def _assess(session, console):
    from imugait.assessment import assess_session

    with console.status("analysing the session") as status:
        return assess_session(session, progress=lambda stage: status.update(stage))


def _write_outputs(console, result, out: Path, html: Path | None, json_out: Path | None) -> None:
    """Print the protocol results and the report; write the assessment JSON and the report files."""
    from imugait.assessment.reporting import assessment_report
    from imugait.atomic import write_text_atomic
    from imugait.report.render_html import write_report_html
    from imugait.report.render_json import write_report_json
    from imugait.report.render_text import render_text

    write_text_atomic(out, json.dumps(result.to_dict(), indent=2, allow_nan=False))
    _print(console, result)
    console.print(f"result written to [bold]{out}[/bold]")
    report = assessment_report(result)
    render_text(report, console)
    if json_out:
        write_report_json(report, json_out)
        console.print(f"JSON report written to [bold]{json_out}[/bold]")
    if html:
        write_report_html(report, html)
        console.print(f"HTML report written to [bold]{html}[/bold]")


def _print(console, result) -> None:
    from rich.table import Table

    from imugait.assessment import BATTERY

    titles = {s.protocol: s.title for s in BATTERY}
    console.print(f"[bold]Assessment — {result.session_meta.subject_id}[/bold]")
    for protocol, r in result.protocols.items():
        status = "[green]done[/green]" if r.passed else "[red]repeat[/red]"
        table = Table(title=f"{titles[protocol]} ({status}, found by {r.detection})", title_justify="left")
        for column in ("metric", "side", "value", "n", "confidence"):
            table.add_column(column, justify="right" if column in ("value", "n") else "left")
        for m in r.metrics:
            unit = "°" if m.name.endswith("_deg") else (" s" if m.name.endswith("_s") else "")
            sd = f" ± {m.sd:.1f}" if m.sd == m.sd else ""
            table.add_row(m.name, m.side.value if m.side else "both", f"{m.value:.1f}{sd}{unit}", str(m.n), m.confidence.value)
        if r.metrics:
            console.print(table)
        else:
            console.print(table.title)
        for issue in r.issues:
            colour = "red" if issue.repeat else "yellow"
            console.print(f"  [{colour}]•[/{colour}] {issue.message}")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
