"""``imugait live``: live knee and hip angles, stride metrics and sensor health on a local web dashboard."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._live import add_source_args
from imugait.cli._options import add_force_arg, int_range, session_duration_s

LAN_WARNING = ("imugait: warning: the dashboard is served on {host}: anyone on this network who has the URL "
               "(with its token) can watch the sensors and start recordings. Use it on a network you trust.")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "live", help="live knee/hip angles, stride metrics and sensor health in the browser",
        description="Connect to sensors over serial and/or BLE, or play emulated ones (--emulate N), and show "
                    "a local web dashboard: live knee flexion, adduction and rotation and hip rotation of both "
                    "legs, the last strides' metrics against the reference bands (left vs right), per-sensor "
                    "link, lost samples and battery, calibration state, recording and step marks. Prints one "
                    "line 'dashboard: URL' (the URL carries a random token; without it the server refuses) and "
                    "opens the browser. Ctrl-C stops.",
    )
    p.add_argument("--duration", type=session_duration_s, default=None, metavar="S",
                   help="stop after S seconds of session time (default: Ctrl-C, or the end of an emulated walk)")
    p.add_argument("--record", type=Path, default=None, metavar="DIR",
                   help="record from the start into DIR (as `imugait record --out DIR`); recordings started "
                        "again from the page go to DIR-2, DIR-3 … (without --record, recording is off)")
    p.add_argument("--subject", default=None,
                   help="pseudonymous subject id of the recordings and of a saved calibration (default: the "
                        "reused calibration's, else anonymous)")
    c = p.add_argument_group("calibration")
    c.add_argument("--calibration", type=Path, default=None, metavar="FILE",
                   help="reuse the calibration saved in FILE (--save-calibration) of the same sensors on the same "
                        "person: the angles come from the first second, no standing and walking to calibrate; "
                        "refused when the sensors (device ids) are not the file's")
    c.add_argument("--save-calibration", type=Path, default=None, metavar="FILE",
                   help="save this run's calibration to FILE once every leg is calibrated (again after a "
                        "recalibration from the page); an existing FILE only with --force")
    add_force_arg(p)
    g = p.add_argument_group("dashboard")
    g.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    g.add_argument("--host", default="127.0.0.1", metavar="H",
                   help="address to serve on (default 127.0.0.1: this machine only); e.g. 0.0.0.0 serves the "
                        "local network, with a warning")
    g.add_argument("--http-port", type=int_range(0, 65535), default=0, metavar="N",
                   help="TCP port of the dashboard (default 0: a free port)")
    g.add_argument("--serial-reads", choices=("readiness", "tick"), default="readiness",
                   help="when the serial ports are read: each as its bytes arrive (default), or all at each push "
                        "to the page, just before the angles are computed (about 2 points of a core less; the "
                        "samples' times noisier by up to about a millisecond). BLE sensors are read as their "
                        "notifications come either way")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait.cli._live import opener_from_args, print_stopped
    from imugait.errors import ImugaitError
    from imugait.live.run import run_event_loop

    saved = _calibration_args(args)  # refused before anything opens
    opener = opener_from_args(args, args.duration)  # outside the event loop: Ctrl-C stops it at once
    if saved is not None:
        print(f"calibration: reusing {args.calibration} ({saved.describe()})", flush=True)
    dash = run_event_loop(serve(args, opener, args.record, calibration=saved))
    if dash.refusal:
        raise ImugaitError(dash.refusal)
    print_stopped(dash.live.status(), dash.interrupted)
    for path in dash.takes.sessions if dash.takes else []:
        print(f"session written to {path}")
    if dash.state.calibration_file["saved"]:
        print(f"calibration saved to {dash.state.calibration_file['saved']}")
    elif args.save_calibration is not None:
        print(f"calibration not saved to {args.save_calibration}: "
              f"{dash.state.calibration_file['error'] or 'the legs were not all calibrated in this run'}")
    return 0


def _calibration_args(args: argparse.Namespace):
    """The calibration to reuse (read, refused in one line when damaged or of a newer version),
    and the file to save to checked (never over the one reused, an existing one only with --force)."""
    from imugait.live.calibration_file import check_subject, load_calibration
    from imugait.output_guard import check_output

    saved = load_calibration(args.calibration) if args.calibration is not None else None
    if args.save_calibration is not None:
        check_output(args.save_calibration, [args.calibration], args.force)
    if saved is not None and args.subject is not None:
        check_subject(saved, args.subject)
    if args.subject is None:
        args.subject = saved.subject_id if saved is not None else "anonymous"
    return saved


async def serve(args: argparse.Namespace, opener, record: Path | None, notes: str = "", calibration=None):
    """Run the dashboard for ``args`` (the live options) on the sensors ``opener`` opens (made with
    :func:`~imugait.cli._live.opener_from_args` before the event loop runs), recording from the
    start into ``record``, reusing ``calibration`` (a
    :class:`~imugait.live.calibration_file.SavedCalibration`). Returns the finished
    :class:`~imugait.live.dashboard.run.LiveDashboard` (``interrupted`` set)."""
    import sys

    from rich.console import Console
    from rich.live import Live

    from imugait.acquisition.recorder import check_recording_folder
    from imugait.cli._live import render
    from imugait.live.dashboard.run import DashboardConfig, LiveDashboard
    from imugait.live.ticks import SerialReads

    if record is not None:
        check_recording_folder(record)
    config = DashboardConfig(host=args.host, port=args.http_port, record_dir=record,
                             record_at_start=record is not None, subject_id=args.subject or "anonymous", notes=notes,
                             calibration=calibration, save_calibration=args.save_calibration,
                             serial_reads=SerialReads(args.serial_reads))
    if not config.loopback_only:
        print(LAN_WARNING.format(host=args.host), file=sys.stderr)
    reused = None if calibration is None else calibration.calibration
    async with LiveDashboard(opener, lambda placements: live_pipeline(placements, reused), config) as dash:
        print(f"dashboard: {dash.url}", flush=True)
        if dash.pipeline is None:
            print("note: no leg has both a thigh and a shank sensor: the dashboard shows the sensors, "
                  "recording and marks, but no angles or strides", file=sys.stderr)
        if not args.no_browser:
            open_browser(dash.url)
        with Live(render((), 0.0, args), console=Console(), refresh_per_second=4, transient=True) as view:
            await dash.run(args.duration, on_tick=lambda st, t: view.update(render(st, t, args)))
        if dash.pipeline_error and not dash.refusal:
            print(f"imugait live: the live angles stopped: {dash.pipeline_error}", file=sys.stderr)
    return dash


def live_pipeline(placements, calibration=None):
    """The live kinematics for the sensors at ``placements`` (reusing ``calibration``, a
    :class:`~imugait.live.kinematics.LiveCalibration`); None when no leg has both a thigh and a
    shank sensor (then there are no angles to compute)."""
    from imugait.errors import ValidationError
    from imugait.live.kinematics import LiveKinematics

    try:
        return LiveKinematics.for_dashboard(placements, calibration)
    except ValidationError:
        return None


def open_browser(url: str) -> bool:
    """Open ``url`` in the desktop's browser; False (nothing opened) without a graphical display
    on Linux, where :mod:`webbrowser` would otherwise start a text browser in this terminal."""
    import os
    import sys
    import webbrowser

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    try:
        return webbrowser.open(url, new=2)
    except webbrowser.Error:
        return False
