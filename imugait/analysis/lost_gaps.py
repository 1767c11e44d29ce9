"""The long lost-sample gaps of a session's leg sensors, in words: which stream, how long, when —
the strides near them are not used (``Exclusion.NEAR_LONG_GAP``, :func:`imugait.gait.cycles.near_long_gaps`)."""

from __future__ import annotations

from collections.abc import Iterable

from imugait.conventions import Placement
from imugait.gait.cycles import StrideConfig
from imugait.model import Session
from imugait.timebase import sample_period_s


def long_gap_warnings(session: Session, placements: Iterable[Placement], config: StrideConfig) -> list[str]:
    """One warning per stream of ``placements`` with a lost-sample gap longer than
    ``config.long_gap_s``: how many, the longest (ms) and when it began (s, session clock)."""
    out = []
    for placement in placements:
        stream = session[placement]
        if not stream.gaps:
            continue
        period_s = sample_period_s(stream.t_s)
        long = [(gap.n_lost * period_s, float(stream.t_s[gap.after_index]) + period_s) for gap in stream.gaps
                if gap.n_lost * period_s > config.long_gap_s]
        if not long:
            continue
        duration_s, t_s = max(long)
        many = f"{len(long)} lost-sample gaps longer than {1000 * config.long_gap_s:.0f} ms, the longest" if len(long) > 1 \
            else "a lost-sample gap of"
        out.append(f"lost samples: {placement.value} stream has {many} {1000 * duration_s:.0f} ms (at {t_s:.2f} s); the "
                   f"fused orientation is off around such a gap, so the strides within "
                   f"{config.gap_margin_factor:g} × its duration of it (at most {config.gap_margin_max_s:g} s; "
                   f"{min(config.gap_margin_factor * duration_s, config.gap_margin_max_s):.1f} s for the longest) "
                   f"are not used")
    return out
