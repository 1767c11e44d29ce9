"""``imugait assess``: the assessment battery — re-analyse a recording (``--from``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from imugait.cli._session import add_calibration_arg, load_session
from imugait.errors import ImugaitError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assess",
        help="assessment battery: posture, walking, supine/prone hip rotation, squat, balance",
        description=(
            "Measure the assessment protocols of a recorded session (each protocol found from the "
            "session's step marks, else automatically): metrics per side with confidence, and "
            "quality feedback per step. See docs/assessment.md."
        ),
    )
    p.add_argument("--from", dest="source", type=Path, metavar="SESSION.parquet",
                   help="re-analyse a recorded session (e.g. from `imugait simulate --protocol battery`)")
    p.add_argument("--out", type=Path, help="JSON result (default: next to the session, *.assessment.json)")
    add_calibration_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.source is None:
        raise ImugaitError(
            "the live guided assessment (prompts, countdowns, redo of a failed step with live sensors) is "
            "not built yet — record the steps and use `imugait assess --from SESSION.parquet`"
        )
    from rich.console import Console

    from imugait.assessment import assess_session

    console = Console()
    with console.status("reading the session") as status:
        session = load_session(args.source, args, say=console.print)
        result = assess_session(session, progress=lambda stage: status.update(stage))
    out = args.out or args.source.with_name(args.source.name.removesuffix(".parquet") + ".assessment.json")
    out.write_text(json.dumps(result.to_dict(), indent=2, allow_nan=False))
    _print(console, result)
    console.print(f"result written to [bold]{out}[/bold]")
    return 0


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
