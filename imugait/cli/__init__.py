"""``imugait`` command line: thin — parse arguments, call the library, print.

Each sub-command lives in its own module exposing ``register(subparsers)``; that function adds
the parser and sets ``func`` to a handler ``(args) -> int`` (the exit code).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from imugait import __version__
from imugait.errors import ImugaitError, describe_os_error

# Sub-command modules, in the order `imugait --help` lists them.
COMMAND_MODULES = [
    "imugait.cli.demo",
    "imugait.cli.simulate",
    "imugait.cli.import_",
    "imugait.cli.info",
    "imugait.cli.analyze",
    "imugait.cli.batch",
    "imugait.cli.export",
    "imugait.cli.assess",
    "imugait.cli.orient",
    "imugait.cli.report",
    "imugait.cli.calibrate",
    "imugait.cli.recover",
    "imugait.cli.scan",
    "imugait.cli.stream",
    "imugait.cli.record",
    "imugait.cli.live",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imugait",
        description="Wearable IMU gait sensing: hip rotation and knee tracking for every gait cycle.",
    )
    parser.add_argument("--version", action="version", version=f"imugait {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_blas_thread() -> None:
    """Linear algebra on one thread unless the user set otherwise — before numpy is imported.

    imugait's matrices are small (a joint-centre fit's Jacobian is 9000 × 8); OpenBLAS's default of
    a thread per core makes such calls wait on each other on a busy 2-core laptop: one SVD took
    140 ms instead of 3 ms, and assessing a 2-minute prone session 56 CPU-s instead of 1.9
    (measured, issue 13). Has no effect once numpy is imported (e.g. ``main`` called in-process)."""
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def main(argv: list[str] | None = None) -> int:
    one_blas_thread()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ImugaitError as exc:
        print(f"imugait {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError as exc:
        if not stdout_reader_gone():
            print(f"imugait {args.command}: error: {os_error_line(exc)}", file=sys.stderr)
            return 1
        # `imugait … | head`: the reader has what it wanted; stop quietly, as a shell tool does
        # (files written so far were closed by the command's own clean-up on the way out).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return SIGPIPE_EXIT
    except OSError as exc:  # disk full, read-only folder, permission, missing file …
        print(f"imugait {args.command}: error: {os_error_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"imugait {args.command}: interrupted", file=sys.stderr)
        return 130


SIGPIPE_EXIT = 141
"""Exit status when stdout's reader went away: what a shell reports for a tool ended by SIGPIPE."""


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe whose reading end is closed (``imugait … | head``).

    A pipe's writing end polls as an error once no reader is left; a broken pipe elsewhere (a
    socket, a child process) leaves stdout writable and is reported as an error instead."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), stdout closed or replaced
        return False


def os_error_line(exc: OSError) -> str:
    """:func:`~imugait.errors.describe_os_error` plus what to do for a full or read-only disk."""
    import errno

    text = describe_os_error(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        text += "; existing files were left as they were: free some space and run the command again"
    elif exc.errno == errno.EROFS:
        text += "; existing files were left as they were: write to another folder"
    return text


if __name__ == "__main__":
    sys.exit(main())
