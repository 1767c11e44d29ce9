"""``imugait demo``: the main job on built-in emulated sensors, start to finish.

Four emulated sensors speaking imugait's wire protocol over pseudo-terminal serial ports play a
walker whose right hip is internally rotated and whose right knee caves in during stance; the
live view runs while the recording is made (faster than real time), then the session is
analysed and the findings, drills and an HTML report are produced.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._walker_args import add_playback_arg

DEMO_WALKER = ["--right-hip-rotation", "14", "--right-stance-valgus", "8", "--seed", "3"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="emulated sensors → live view → recording → analysis → report",
                       description=__doc__)
    p.add_argument("--out", type=Path, default=Path("demo_output"), help="folder for the files (default ./demo_output)")
    p.add_argument("--duration", type=float, default=60.0, metavar="S",
                   help="seconds of walking protocol to record (default 60)")
    add_playback_arg(p, default=3.0)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shutil

    from rich.console import Console

    from imugait.cli import build_parser

    console = Console()
    console.rule("imugait demo")
    console.print(
        "Four emulated sensors (left/right thigh and shank, strapped on at arbitrary rotations) stream "
        "imugait's wire protocol over serial pseudo-terminals. The walker's [bold]right hip turns in by "
        "14°[/bold] and the right knee caves in during stance. Standing, then walks with turns: "
        f"{args.duration:g} s of protocol shown [bold]{args.playback:g}× faster than real time[/bold]."
    )
    recording = args.out / "recording"
    if recording.exists():
        shutil.rmtree(recording)  # the demo's own output from an earlier run
    args.out.mkdir(parents=True, exist_ok=True)
    parser = build_parser()
    steps = [
        ["record", "--emulate", "4", "--duration", f"{args.duration:g}", "--playback", f"{args.playback:g}",
         "--out", str(recording), "--subject", "demo-walker", *DEMO_WALKER],
        ["report", str(recording / "session.parquet"), "--html", str(args.out / "report.html"),
         "--json", str(args.out / "report.json")],
    ]
    for argv in steps:
        step_args = parser.parse_args(argv)
        code = step_args.func(step_args)
        if code:
            return code
    console.print(f"\nOpen [bold]{(args.out / 'report.html').resolve()}[/bold] in a browser for the full report "
                  "with charts. Recorded session: "
                  f"{recording / 'session.parquet'}  (analyse it again: imugait analyze …)")
    return 0
