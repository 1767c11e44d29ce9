"""How periodic the shank's rate is on the real walks, and on moves that are not a walk: the check
the end of a pass makes before it calibrates a leg live (``imugait.live.standing.pass_ended``).

Reproduce (from the repository root; reads ``../shared/datasets``; ≈ 5 s CPU; prints Markdown)::

    .venv/bin/python benchmarks/walk_rhythm.py
    .venv/bin/python benchmarks/walk_rhythm.py --smooth-s 0 0.1 0.2 0.3

For every counted walking recording of ``benchmarks/real_data.py`` (HuGaDB with left and right
exchanged, as counted there) and each leg: the shank's motion mask
(:func:`~imugait.calibration.periods.motion_mask`, as live and offline), and over those rows the
highest autocorrelation of the rate's magnitude at a stride of 0.6–2.5 s
(:func:`~imugait.live.reseed.stride_rhythm`) — raw, and with the magnitude averaged over each
``--smooth-s``. The end of a pass takes a walk at 0.5 or more. The same for what is not a walk: the
qmt recording's moves to a chair and sitting down (44–53 s, annotated in its README), which stop
after more than 3 s of motion too. A row per group (min / median / max, legs under 0.5), then the
legs that are under 0.6 in any column.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine, markdown_table  # noqa: E402
from _real_loaders import DATASETS, load_qmt  # noqa: E402
from _real_walks import _load, walk_sources  # noqa: E402

from imugait.calibration.periods import PeriodConfig, motion_mask  # noqa: E402
from imugait.conventions import Placement, Segment, Side  # noqa: E402
from imugait.live.reseed import stride_rhythm  # noqa: E402
from imugait.live.standing import WALK_RHYTHM_SMOOTH_S  # noqa: E402

WALK_CORRELATION = 0.5
"""What ``pass_ended`` takes for a walk (``stride_period_s``'s ``min_correlation``)."""
CHAIR_S = (44.0, 53.0)
"""The qmt recording's moves to a chair and sitting down (not a walk)."""


def correlations(t_s: np.ndarray, gyr_radps: np.ndarray, smooth_s: list[float]) -> list[float]:
    """The autocorrelation at the stride over the shank's moving rows, for each averaging window."""
    moving = motion_mask(t_s, gyr_radps, PeriodConfig())
    found = [stride_rhythm(t_s[moving], gyr_radps[moving], smooth_s=s) for s in smooth_s]
    return [f[1] if f is not None else float("nan") for f in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smooth-s", type=float, nargs="+", default=[0.0, 0.1, WALK_RHYTHM_SMOOTH_S],
                        help="averaging windows of the magnitude (s; 0: raw)")
    args = parser.parse_args()
    legs = []  # (group, recording, side, correlations)
    for source in walk_sources():
        if not source.counted or source.kind == "skip":
            continue
        session = _load(source)
        for side in Side:
            shank = Placement.of(Segment.SHANK, side)
            if shank in session:
                legs.append((f"walks: {source.dataset}", source.name, side.value,
                             correlations(session[shank].t_s, session[shank].gyr_radps, args.smooth_s)))
    if (DATASETS / "qmt_full_body").is_dir():
        qmt = load_qmt()
        for side in Side:
            stream = qmt[Placement.of(Segment.SHANK, side)]
            chair = (stream.t_s >= CHAIR_S[0]) & (stream.t_s < CHAIR_S[1])
            legs.append(("not a walk: qmt moves to a chair", f"{CHAIR_S[0]:g}–{CHAIR_S[1]:g} s", side.value,
                         correlations(stream.t_s[chair], stream.gyr_radps[chair], args.smooth_s)))
    if not legs:
        print("skipped: no walking recordings in ../shared/datasets")
        return
    names = ["raw" if s == 0 else f"averaged {s:g} s" for s in args.smooth_s]
    print(machine())
    print()
    rows = []
    for group in dict.fromkeys(g for g, *_ in legs):
        r = np.array([c for g, *_, c in legs if g == group])
        rows.append([group, len(r), *(f"{np.nanmin(x):.2f} / {np.nanmedian(x):.2f} / {np.nanmax(x):.2f} "
                                      f"({np.count_nonzero(x < WALK_CORRELATION)} under {WALK_CORRELATION:g})"
                                      for x in r.T)])
    print(markdown_table(["group", "legs", *(f"{n}: min / median / max" for n in names)], rows))
    print()
    low = [[g, rec, side, *(f"{x:.3f}" for x in c)] for g, rec, side, c in legs if min(c) < 0.6]
    print(markdown_table(["group", "recording", "leg", *names], low))


if __name__ == "__main__":
    main()
