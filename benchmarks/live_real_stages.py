"""Where the live pipeline's per-stride knee metrics part from ``analyze`` on the real walks, stage by stage.

Reproduce (from the repository root; reads ``../shared/datasets``; ≈ 1 min CPU; prints Markdown)::

    .venv/bin/python benchmarks/live_real_stages.py
    .venv/bin/python benchmarks/live_real_stages.py --datasets hugadb_walking --no-end

Each recording is streamed as ``benchmarks/live_real.py`` streams it (50-ms blocks, a poll every
0.25 s of data) and, by default, ended (:meth:`~imugait.live.kinematics.LiveKinematics.end`: every
stride's final version is there); the grid rows it appends (time, the sensors' orientations) are
copied aside as they come, for the comparison (the live history keeps its 60 s). ``analyze`` is
made comparable as the live tests make it
(``tests/live/conftest.offline_like_live``). For every stride both used (matched by initial
contact within 50 ms), the difference live − ``analyze`` of each knee metric is split into the
stages it passes, by putting ``analyze``'s stages in one at a time (the knee angles recomputed with
the stage functions, the metrics with ``strides_metrics`` over the live stride's events):

* **events**: ``analyze``'s knee angles over the live stride's events, against ``analyze``'s stride;
* **fusion**: the live sensors' orientations (the online VQF started live) instead of ``analyze``'s;
* **calibration**: the live sensor-to-segment alignment instead of ``analyze``'s;
* **heading**: the rest — the live stride's knee as given against the same with ``analyze``'s
  thigh–shank heading offset track (the live final version interpolates between its own windows).

The four add up to the whole difference. Printed per dataset and metric: max / 95th percentile /
median of |difference| for the whole and each stage, degrees.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "live"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _common import machine, markdown_table  # noqa: E402
from conftest import feed_polled, offline_like_live  # noqa: E402
from live_real import BLOCK_S, POLL_S, SAME_STRIDE_S, load, sources  # noqa: E402
from test_live_agreement import KNEE_METRICS  # noqa: E402

from imugait.conventions import Placement, Segment  # noqa: E402
from imugait.gait.cycles import Exclusion, Stride  # noqa: E402
from imugait.gait.metrics import strides_metrics  # noqa: E402
from imugait.kinematics.angles import legs_angles, segment_orientations  # noqa: E402
from imugait.live.kinematics import LiveConfig, LiveKinematics  # noqa: E402
from imugait.live.updates import latest_strides  # noqa: E402
from imugait.timebase import grid_rate_hz  # noqa: E402

STAGES = ("events", "fusion", "calibration", "heading")
ANGLE_NAMES = ("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg")


def _knee_metrics(t_s: np.ndarray, knee_deg: np.ndarray, stride: Stride) -> np.ndarray:
    angles = dict(zip(ANGLE_NAMES, knee_deg.T, strict=True)) | {"hip_rotation_deg": np.zeros(t_s.size)}
    metrics = strides_metrics(t_s, angles, [stride])
    return np.array([float(metrics[name][0]) for name in KNEE_METRICS])


def _knee_deg(side, q_thigh_sensor, q_shank_sensor, alignment, heading_rad) -> np.ndarray:
    q_thigh, q_shank = segment_orientations(q_thigh_sensor, q_shank_sensor, alignment.thigh.q_sensor_segment,
                                            alignment.shank.q_sensor_segment, heading_rad)
    return np.rad2deg(legs_angles([(side, q_thigh, q_shank, np.zeros(q_thigh.shape[0]))])[0].knee_rad)


def stages(source, end: bool = True) -> pd.DataFrame:
    """One row per stride both used: the whole difference and each stage's share, per knee metric."""
    session = load(source)
    live = LiveKinematics(list(session), LiveConfig(rate_hz=grid_rate_hz(session.streams, None)))
    kept: list[dict[str, np.ndarray]] = []
    append = live.grid.append

    def keep(rows):
        kept.append({name: np.array(v) for name, v in rows.items() if name == "t_s" or name.endswith("/q_world_sensor")})
        append(rows)

    live.grid.append = keep  # (the rows as they come: they leave the live history after 60 s)
    updates = feed_polled(live, session, BLOCK_S, POLL_S)
    if end:
        live.end()
        updates.append(live.poll())
    offline = offline_like_live(session, live)
    grid = {name: np.concatenate([rows[name] for rows in kept]) for name in kept[0]}
    t_live = grid["t_s"]
    j0 = int(np.searchsorted(offline.t_s, t_live[0] - 1e-9))
    n = min(t_live.size, offline.t_s.size - j0)
    if not np.allclose(offline.t_s[j0:j0 + n], t_live[:n], rtol=0, atol=1e-9):
        raise RuntimeError(f"{source.name}: the live grid is not analyze's")
    t = t_live[:n]
    rows = []
    for side, leg in live.legs.items():
        report = offline.legs.get(side)
        if report is None:
            continue
        mine, theirs = leg.alignment, report.alignment
        thigh, shank = (Placement.of(s, side).value for s in (Segment.THIGH, Segment.SHANK))
        heading = theirs.heading.heading_offset_rad[j0:j0 + n]
        q_thigh_live, q_shank_live = (grid[f"{p}/q_world_sensor"][:n] for p in (thigh, shank))
        knee_off = np.column_stack([report.angles_deg[name][j0:j0 + n] for name in ANGLE_NAMES])
        knee_fused = _knee_deg(side, q_thigh_live, q_shank_live, theirs, heading)
        knee_calibrated = _knee_deg(side, q_thigh_live, q_shank_live, mine, heading)
        cycles = offline.cycles[offline.cycles["side"] == side.value]
        for s in latest_strides(tuple(x for u in updates for x in u.strides)):
            if s.side is not side or not s.used or not len(cycles) or s.t_next_initial_contact_s > t[-1]:
                continue
            o = cycles.iloc[int(np.argmin(np.abs(cycles["t_initial_contact_s"] - s.t_initial_contact_s)))]
            if not o["used"] or abs(o["t_initial_contact_s"] - s.t_initial_contact_s) > SAME_STRIDE_S:
                continue
            stride = Stride(s.t_initial_contact_s, s.t_toe_off_s, s.t_next_initial_contact_s, Exclusion.NONE)
            given = np.array([s.metrics[name] for name in KNEE_METRICS])
            at = [np.array([o[name] for name in KNEE_METRICS])] + [_knee_metrics(t, k, stride) for k in
                                                                  (knee_off, knee_fused, knee_calibrated)] + [given]
            row = {"dataset": source.dataset, "recording": source.name, "leg": side.value, "final": s.final}
            for i, name in enumerate(KNEE_METRICS):
                row[f"whole:{name}"] = given[i] - at[0][i]
                for stage, (a, b) in zip(STAGES, zip(at[:-1], at[1:], strict=True), strict=True):
                    row[f"{stage}:{name}"] = b[i] - a[i]
            rows.append(row)
    return pd.DataFrame(rows)


def stage_table(df: pd.DataFrame) -> str:
    def cell(x: pd.Series) -> str:
        x = x.abs().to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        return f"{x.max():.2f} / {np.percentile(x, 95):.2f} / {np.median(x):.2f}" if x.size else "—"

    rows = [[dataset, name.removesuffix("_deg"), len(g), *(cell(g[f"{part}:{name}"]) for part in ("whole", *STAGES))]
            for dataset, g in df.groupby("dataset", sort=False) for name in KNEE_METRICS]
    return markdown_table(["dataset", "metric", "strides", "whole", *STAGES], rows, "llrrrrrr")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=["hugadb_walking", "qmt_full_body", "skinematics_xsens_leg"])
    parser.add_argument("--no-end", action="store_true", help="do not end the stream before the last poll")
    args = parser.parse_args()
    t0 = time.process_time()
    df = pd.concat([stages(s, not args.no_end) for s in sources(args.datasets)], ignore_index=True)
    print(f"{machine()}; {len(df)} strides both used, {time.process_time() - t0:.0f} s CPU; |live − analyze| "
          f"max / 95th / median (deg), the stream {'not ' if args.no_end else ''}ended\n")
    print(stage_table(df))


if __name__ == "__main__":
    main()
