"""``imugait analyze``: per-stride hip rotation and knee tracking from a session file."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from imugait.chunk_plan import CHUNK_S, CHUNKED_ABOVE_S, OVERLAP_S
from imugait.cli._options import add_force_arg, add_gyr_sampling_arg, finite_range
from imugait.cli._session import (
    add_calibration_arg,
    add_filter_arg,
    load_session,
    open_session_windows,
)

CHUNKED_ABOVE_H = CHUNKED_ABOVE_S / 3600.0
CHUNK_MIN = CHUNK_S / 60.0

SUMMARY_METRICS = (
    ("stride_time_s", "stride time", "s", 2),
    ("cadence_steps_per_min", "cadence", "steps/min", 1),
    ("stance_pct", "stance", "%", 1),
    ("hip_rotation_mean_deg", "hip rotation, mean (+ = internal)", "°", 1),
    ("hip_rotation_stance_mean_deg", "hip rotation, stance mean", "°", 1),
    ("knee_flexion_swing_peak_deg", "knee flexion, swing peak", "°", 1),
    ("knee_flexion_loading_peak_deg", "knee flexion, loading peak", "°", 1),
    ("knee_valgus_stance_peak_deg", "knee valgus, stance peak (+ = caves in)", "°", 1),
    ("knee_rotation_stance_mean_deg", "knee rotation, stance mean", "°", 1),
)

HIP_ROTATION_NOTE = "hip rotation is the femur's rotation relative to the line of progression (no pelvis sensor)."
HIP_ROTATION_NOTE_PELVIS = (
    "hip rotation is the femur's rotation relative to the line of progression; the pelvis sensor's hip angles "
    "(hip_rotation_pelvis_mean_deg: the femur against the pelvis) are in the JSON result."
)


def register(sub: argparse._SubParsersAction) -> None:

    p = sub.add_parser(
        "analyze",
        help="hip rotation and knee angles for every gait cycle of a session",
        description=(
            "Analyse a walking session (thigh and shank sensors on one or both legs): calibrate the "
            "sensors to the segments from the standing and walking parts, compute knee angles and hip "
            "rotation relative to the line of progression, detect gait events and report per-stride "
            "metrics. Writes a JSON result (docs/analysis.md)."
        ),
    )
    p.add_argument("session", type=Path, help="session file (.parquet), e.g. from `imugait simulate` or `imugait import`")
    p.add_argument("--out", type=Path, help="JSON result (default: next to the session, *.analysis.json)")
    p.add_argument("--angles-csv", type=Path, metavar="FILE",
                   help="also write the per-sample angles and events (whole analysis only)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--chunked", action="store_true",
                      help=f"analyse in overlapping windows, in bounded memory (default for recordings longer than "
                           f"{CHUNKED_ABOVE_H:g} h); per-stride results, no per-sample series")
    mode.add_argument("--whole", action="store_true", help="analyse the whole recording at once, whatever its length")
    p.add_argument("--chunk-minutes", type=finite_range(0.0, 24 * 60.0, "min", lo_open=True), default=CHUNK_MIN, metavar="M",
                   help=f"with chunked analysis: the core of a window, minutes (default {CHUNK_MIN:g})")
    p.add_argument("--overlap-s", type=finite_range(0.0, 3600.0, "s"), default=OVERLAP_S, metavar="S",
                   help=f"with chunked analysis: the margin on either side of a core, s (default {OVERLAP_S:g})")
    add_filter_arg(p)
    add_gyr_sampling_arg(p, "given here it overrides what the session file declares for every sensor, and the "
                            "result's warnings say so (default: the session's own declaration)")
    add_calibration_arg(p)
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from imugait.analysis import AnalysisConfig, analyze_session, normalised_cycles
    from imugait.analysis.declared_sampling import DeclaredGyrSampling
    from imugait.fusion.settings import FilterKind
    from imugait.output_guard import check_outputs

    out = args.out or args.session.with_name(args.session.name.removesuffix(".parquet") + ".analysis.json")
    check_outputs([out, args.angles_csv], inputs=[args.session], force=args.force)
    console = Console()
    if _chunked(args):
        return _run_chunked(args, out, console)
    with console.status("reading the session") as status:
        # the analysis fuses 6-axis (no filter kind uses the magnetometer): the rest is not decoded
        session = load_session(args.session, args, say=console.print, motion_only=True)
        declared = DeclaredGyrSampling(args.gyr_sampling)
        result = analyze_session(
            declared.apply(session), AnalysisConfig(filter_kind=FilterKind(args.filter)),
            progress=lambda stage: status.update(stage)
        )
        result = declared.noted(result)
    curves = {side: normalised_cycles(result.t_s, leg) for side, leg in result.legs.items()}
    result.write_json(out, curves)
    _print_summary(console, result)
    console.print(f"result written to [bold]{out}[/bold]")
    if args.angles_csv:
        result.write_angles_csv(args.angles_csv)
        console.print(f"angles written to [bold]{args.angles_csv}[/bold]")
    return 0


def _chunked(args: argparse.Namespace) -> bool:
    """Chunked when asked, or when the recording is longer than ``CHUNKED_ABOVE_S`` and not
    ``--whole``; an --angles-csv with the chunked analysis is refused (one-line error)."""
    from imugait.errors import ValidationError
    from imugait.io.native_ranges import recording_span_s

    if args.whole:
        return False
    span_s = recording_span_s(args.session)
    chunked = args.chunked or span_s > CHUNKED_ABOVE_S
    if chunked and args.angles_csv:
        why = "--chunked was given" if args.chunked else f"the recording is {span_s / 3600:.1f} h long (over {CHUNKED_ABOVE_H:g} h)"
        raise ValidationError(f"--angles-csv needs the whole analysis, which keeps every sample's angles in memory, "
                              f"and {why}: add --whole to get them (memory grows with the length)")
    return chunked


def _run_chunked(args: argparse.Namespace, out: Path, console) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from imugait.analysis import AnalysisConfig
    from imugait.analysis.chunked import analyze_in_chunks
    from imugait.analysis.declared_sampling import DeclaredGyrSampling, DeclaredWindows
    from imugait.analysis.result import calibration_rating
    from imugait.chunk_plan import windows
    from imugait.fusion.settings import FilterKind

    chunk_s, overlap_s = 60.0 * args.chunk_minutes, args.overlap_s
    with console.status("verifying the session file"):
        source = DeclaredWindows(open_session_windows(args.session, args), DeclaredGyrSampling(args.gyr_sampling))
    n = len(windows(source.t_start_s, source.t_end_s, chunk_s, overlap_s))
    console.print(f"{(source.t_end_s - source.t_start_s) / 3600:.2f} h recording: analysed in {n} window(s) of "
                  f"{args.chunk_minutes:g} min (± {overlap_s:g} s) in bounded memory; per-stride results only")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("windows", total=n)
        started = [0]

        def progress(stage: str) -> None:
            bar.update(task, completed=started[0], description=stage)
            started[0] += 1

        result = analyze_in_chunks(source, AnalysisConfig(filter_kind=FilterKind(args.filter)), chunk_s, overlap_s,
                                   progress=progress)
        bar.update(task, completed=n)
    result = source.declared.noted(result)
    for placement, file in getattr(source.source, "corrected", {}).items():
        console.print(f"{placement.value}: corrected with {file}")
    result.write_json(out)
    _print_table(console, result.session_meta.subject_id, result.aggregates, result.cycles,
                 {side: calibration_rating(c.alignment) for side, c in result.calibrations.items()}, result.warnings,
                 result.pelvis_worn)
    console.print(f"result written to [bold]{out}[/bold]")
    return 0


def _print_summary(console, result) -> None:
    _print_table(console, result.session_meta.subject_id, result.aggregates, result.cycles,
                 {side: leg.calibration_quality for side, leg in result.legs.items()}, result.warnings,
                 result.pelvis_worn, untrusted={side for side, leg in result.legs.items() if not leg.trusted})


def _print_table(console, subject_id: str, aggregates, cycles, quality: dict, warnings, pelvis_worn: bool,
                 untrusted=frozenset()) -> None:
    """The summary table; a leg in ``untrusted`` (most strides implausible) is marked in its column's
    heading, as in the report."""
    from rich.table import Table

    from imugait.conventions import Side

    sides = [s for s in Side if s in quality]
    table = Table(title=f"Walking analysis — {subject_id}")
    table.add_column("metric")
    for side in sides:
        table.add_column(f"{side.value} ({'not trusted; ' if side in untrusted else ''}mean ± SD)", justify="right")
    for name, label, unit, digits in SUMMARY_METRICS:
        cells = []
        for side in sides:
            agg = aggregates
            row = agg[(agg["side"] == side.value) & (agg["metric"] == name)]
            if row.empty or row["n"].iloc[0] == 0:
                cells.append("—")
            else:
                mean, sd = row["mean"].iloc[0], row["sd"].iloc[0]
                spread = f" ± {sd:.{digits}f}" if math.isfinite(sd) else ""  # no SD of one stride
                cells.append(f"{mean:.{digits}f}{spread} {unit}")
        table.add_row(label, *cells)
    mine = {side: cycles[cycles["side"] == side.value] if len(cycles) else cycles for side in sides}
    table.add_row("strides used / found", *[f"{int(mine[side]['used'].sum()) if len(mine[side]) else 0} / {len(mine[side])}"
                                             for side in sides])
    table.add_row("sensor calibration", *[quality[side] for side in sides])
    console.print(table)
    console.print(HIP_ROTATION_NOTE_PELVIS if pelvis_worn else HIP_ROTATION_NOTE)
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
