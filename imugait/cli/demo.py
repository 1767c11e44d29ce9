"""``imugait demo``: the main job on built-in emulated sensors, start to finish.

Four emulated sensors speaking imugait's wire protocol over pseudo-terminal serial ports play a
walker whose right hip is turned in 14° more than the left (a finding in the report) and whose right
knee caves in by up to 8° in stance (inside the reference band, so no finding); the live dashboard
(`imugait live`: knee and hip curves, stride metrics, sensor health) is served and opened in the
browser while the recording is made (faster than real time), then the session is
analysed and the findings, drills and an HTML report are produced.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._options import add_force_arg, finite_range
from imugait.cli._walker_args import add_playback_arg
from imugait.errors import ImugaitError

DEMO_WALKER = ["--right-hip-rotation", "14", "--right-stance-valgus", "8", "--seed", "3"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="emulated sensors → live view → recording → analysis → report",
                       description=__doc__)
    p.add_argument("--out", type=Path, default=Path("demo_output"),
                   help="folder for the files (default ./demo_output); an earlier recording there is kept and "
                        "the new one goes to recording-2, -3 …")
    p.add_argument("--duration", type=finite_range(20.0, 600.0, "s"), default=60.0, metavar="S",
                   help="seconds of walking protocol to record (20-600, default 60)")
    add_playback_arg(p, default=3.0)
    p.add_argument("--no-browser", action="store_true",
                   help="serve the live dashboard and print its URL, but do not open a browser (none is "
                        "opened without a graphical display either)")
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from imugait.cli import build_parser
    from imugait.cli._live import opener_from_args
    from imugait.cli.live import serve
    from imugait.io import describe_session, read_session
    from imugait.live.run import run_event_loop
    from imugait.output_guard import check_outputs

    if args.out.exists() and not args.out.is_dir():
        raise ImugaitError(f"--out {args.out} is a file: give a folder for the demo's files")
    args.out.mkdir(parents=True, exist_ok=True)
    html, json_out = args.out / "report.html", args.out / "report.json"
    check_outputs([html, json_out], force=args.force)
    recording = _new_recording_folder(args.out)

    console = Console()
    console.rule("imugait demo")
    console.print(
        "Four emulated sensors (left/right thigh and shank, strapped on at arbitrary rotations) stream "
        "imugait's wire protocol over serial pseudo-terminals. The walker's [bold]right hip is turned in "
        "14° more than the left[/bold]: the report finds the right hip's mean rotation while walking above "
        "the normative band (the walker's own baseline is a few degrees external, so expect about 10–12°). "
        "The right knee caves in by up to 8° in stance: that is inside the reference (up to 12°), so the "
        "report shows it without a finding. Standing, then walks with turns: "
        f"{args.duration:g} s of protocol shown [bold]{args.playback:g}× faster than real time[/bold] on the "
        "live dashboard (the URL below)."
    )
    parser = build_parser()
    live_args = parser.parse_args(
        ["live", "--emulate", "4", "--duration", f"{args.duration:g}", "--playback", f"{args.playback:g}",
         "--subject", "demo-walker", *DEMO_WALKER, *(["--no-browser"] if args.no_browser else [])])
    opener = opener_from_args(live_args, live_args.duration)  # outside the event loop (Ctrl-C)
    dash = run_event_loop(
        serve(live_args, opener, recording, notes=f"emulated walker, 4 sensors, playback x{args.playback:g}"))
    interrupted, sessions = dash.interrupted, list(dash.takes.sessions)
    if interrupted:
        print("interrupted (Ctrl-C): recording stopped and finalised")
    print(describe_session(read_session(sessions[0]), title=f"session written to {sessions[0]}"))
    report = parser.parse_args(["report", str(recording / "session.parquet"), "--html", str(html), "--json",
                                str(json_out), *(["--force"] if args.force else [])])
    code = report.func(report)
    if code:
        return code
    console.print(f"\nOpen [bold]{html.resolve()}[/bold] in a browser for the full report "
                  "with charts. Recorded session: "
                  f"{recording / 'session.parquet'}  (analyse it again: imugait analyze …)")
    return 0


def _new_recording_folder(out: Path) -> Path:
    """``out/recording``, or ``recording-2``, ``-3`` … when earlier runs left theirs (never deleted)."""
    for n in range(1, 1000):
        folder = out / ("recording" if n == 1 else f"recording-{n}")
        if not folder.exists():
            return folder
    raise ImugaitError(f"{out} holds 999 demo recordings: choose another --out")
