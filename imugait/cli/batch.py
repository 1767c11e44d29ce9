"""``imugait batch``: analyse many sessions on a local Dask cluster or an existing one."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._session import add_calibration_arg, add_filter_arg


def register(sub: argparse._SubParsersAction) -> None:

    p = sub.add_parser(
        "batch",
        help="analyse many sessions (Dask): per-stride Parquet dataset, summary, errors, cohort page",
        description=(
            "Analyse every session named by INPUTS (session files, folders of them, and CSV/TOML manifests of "
            "recordings in other formats) exactly as `imugait analyze` does, in parallel on Dask, into --out: "
            "a Parquet dataset of per-stride metrics partitioned by session, summary and errors tables and "
            "cohort.html. A session that fails is recorded and the run goes on; sessions already done are "
            "skipped (docs/batch.md)."
        ),
        epilog="example: imugait batch recordings/ manifest.toml --out results/ --workers 2",
    )
    p.add_argument("inputs", nargs="+", type=Path, metavar="INPUT",
                   help="session file (.parquet), folder of session files, or manifest (.csv, .toml)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created if absent)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a running Dask scheduler (tcp://host:8786); default a local cluster")
    p.add_argument("--workers", type=int, metavar="N", help="local worker processes (default: one per core)")
    p.add_argument("--force", action="store_true", help="analyse again sessions whose results are current")
    p.add_argument("--retry-failed", action="store_true", help="analyse again sessions that failed")
    add_filter_arg(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_calibration_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from imugait._optional import require

    tqdm = require("tqdm", "batch", "imugait batch's progress bar").tqdm
    from imugait.batch import TaskSettings, collect_inputs, dask_client, run_batch
    from imugait.fusion.settings import FilterKind

    inputs = collect_inputs(args.inputs, exclude=args.out)
    calibration = None if args.no_calibration or not args.calibration_dir.is_dir() else args.calibration_dir.resolve()
    settings = TaskSettings(args.out.resolve(), FilterKind(args.filter), calibration)
    bar = None

    def on_start(n_todo: int, n_skipped: int) -> None:
        nonlocal bar
        if n_skipped:
            print(f"{n_skipped} of {len(inputs)} sessions already done (use --force to redo them)")
        bar = tqdm(total=n_todo, unit="session", disable=args.no_progress or n_todo == 0)

    def on_done(record: dict) -> None:
        bar.update(1)
        if record["status"] == "failed":
            bar.write(f"{record['session']}: failed at {record['error']['stage']}: {record['error']['message']}")

    with dask_client(args.scheduler, args.workers) as client:
        report = run_batch(client, inputs, settings, force=args.force, retry_failed=args.retry_failed,
                           on_start=on_start, on_done=on_done)
    if bar is not None:
        bar.close()
    print(f"{len(report.analysed)} analysed, {len(report.failed)} failed, {len(report.skipped)} skipped; "
          f"results in {args.out}/ (summary.csv, errors.csv, strides/, cohort.html)")
    return 1 if report.failed else 0
