"""``imugait analyze``: per-stride hip rotation and knee tracking from a session file."""

from __future__ import annotations

import argparse
from pathlib import Path

from imugait.cli._options import add_force_arg
from imugait.cli._session import add_calibration_arg, add_filter_arg, load_session

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
    p.add_argument("--angles-csv", type=Path, metavar="FILE", help="also write the per-sample angles and events")
    add_filter_arg(p)
    add_calibration_arg(p)
    add_force_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from imugait.analysis import AnalysisConfig, analyze_session, normalised_cycles
    from imugait.fusion.settings import FilterKind
    from imugait.output_guard import check_outputs

    out = args.out or args.session.with_name(args.session.name.removesuffix(".parquet") + ".analysis.json")
    check_outputs([out, args.angles_csv], inputs=[args.session], force=args.force)
    console = Console()
    with console.status("reading the session") as status:
        session = load_session(args.session, args, say=console.print)
        result = analyze_session(
            session, AnalysisConfig(filter_kind=FilterKind(args.filter)), progress=lambda stage: status.update(stage)
        )
    curves = {side: normalised_cycles(result.t_s, leg) for side, leg in result.legs.items()}
    result.write_json(out, curves)
    _print_summary(console, result)
    console.print(f"result written to [bold]{out}[/bold]")
    if args.angles_csv:
        result.write_angles_csv(args.angles_csv)
        console.print(f"angles written to [bold]{args.angles_csv}[/bold]")
    return 0


def _print_summary(console, result) -> None:
    from rich.table import Table

    from imugait.conventions import Side

    sides = [s for s in Side if s in result.legs]
    table = Table(title=f"Walking analysis — {result.session_meta.subject_id}")
    table.add_column("metric")
    for side in sides:
        table.add_column(f"{side.value} (mean ± SD)", justify="right")
    for name, label, unit, digits in SUMMARY_METRICS:
        cells = []
        for side in sides:
            agg = result.aggregates
            row = agg[(agg["side"] == side.value) & (agg["metric"] == name)]
            if row.empty or row["n"].iloc[0] == 0:
                cells.append("—")
            else:
                mean, sd = row["mean"].iloc[0], row["sd"].iloc[0]
                cells.append(f"{mean:.{digits}f} ± {sd:.{digits}f} {unit}")
        table.add_row(label, *cells)
    table.add_row("strides used / found", *[
        f"{sum(s.used for s in result.legs[side].strides)} / {len(result.legs[side].strides)}" for side in sides])
    table.add_row("sensor calibration", *[result.legs[side].calibration_quality for side in sides])
    console.print(table)
    console.print("hip rotation is the femur's rotation relative to the line of progression (no pelvis sensor).")
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
