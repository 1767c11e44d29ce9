"""``imugait record``: record sensors to a session folder with the crash-safe recorder."""

from __future__ import annotations

import argparse

from imugait.cli._live import add_source_args
from imugait.cli._options import session_duration_s


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record", help="record sensors (or emulated ones) to a session folder",
        description="Show the live view while recording to DIR: every message goes to "
                    "DIR/recording.imulog first (crash-safe; `imugait recover DIR` rebuilds an "
                    "interrupted one), and DIR/session.parquet is written at the end. Ctrl-C stops "
                    "cleanly and keeps what was recorded.",
    )
    p.add_argument("--duration", type=session_duration_s, required=True, metavar="S",
                   help="seconds of session time to record, up to 24 h (an emulation at --playback X takes S/X s)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="session folder (must not hold a recording or a session: recordings are never replaced)")
    p.add_argument("--subject", default="anonymous", help="pseudonymous subject id")
    add_source_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait.acquisition.recorder import Recorder, check_recording_folder
    from imugait.cli._live import acquire, opener_from_args
    from imugait.io import describe_session, read_session
    from imugait.live.run import run_event_loop

    check_recording_folder(args.out)
    notes = f"emulated walker, {args.emulate} sensors, playback x{args.playback:g}" if args.emulate else ""

    opener = opener_from_args(args, args.duration)  # outside the event loop: Ctrl-C stops it at once
    opened: list[Recorder] = []

    def make_recorder(t0_host_s: float) -> Recorder:
        # keep_samples=False: memory stays flat however long the recording; finalise replays the log.
        opened.append(Recorder(args.out, subject_id=args.subject, t0_host_s=t0_host_s, notes=notes,
                               keep_samples=False))
        return opened[-1]

    try:
        _status, interrupted, recorder = run_event_loop(acquire(args, args.duration, make_recorder, opener))
    except BaseException:
        for rec in opened:  # the log stays on disk: `imugait recover` rebuilds the session
            rec.close()
            print(f"recording stopped by an error; recover it with: imugait recover {rec.folder}")
        raise
    path = recorder.finalise()
    print()
    if interrupted:
        print("interrupted (Ctrl-C): recording stopped and finalised")
    print(describe_session(read_session(path), title=f"session written to {path}"))
    return 0
