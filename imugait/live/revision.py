"""The walking direction of a straight run once it has ended, found as ``analyze`` finds it.

Live, a row's walking direction comes from the straight run so far
(:class:`~imugait.kinematics.progression.CausalProgression`: the swing direction and the drift line
over the run up to that row); offline from the whole bout and the drift line through all of it
(:func:`~imugait.kinematics.progression.find_progression`). The two part most in the middle of a
bout (7–11 s into 14-s bouts on the simulator: up to 1.1° of hip rotation per stride). Once a run
has ended, and the rows that decide where its bout ends offline have come (:func:`wait_s`), the
leg (:class:`~imugait.live.leg.LiveLeg`) finds the walking direction of the run's rows again with
``find_progression`` itself over the run and a few seconds before it (:func:`context_s`), writes it
into its history and gives the run's strides again, final, with their hip rotation recomputed. The
history bounds what is refitted: a run longer than the history is refitted over its part still kept.
A run that ended where ``find_progression`` sees no turn — the next run is in the same bout
offline (:func:`one_bout`) — is merged with the next and refitted with it, as offline's one bout.
"""

from __future__ import annotations

import numpy as np

from imugait.conventions import Side
from imugait.gait.cycles import Stride, StrideConfig, segment_strides
from imugait.gait.events import LegEvents
from imugait.kinematics.progression import Progression, ProgressionConfig, find_progression


def context_s(config: ProgressionConfig) -> float:
    """Rows before a run's first row that the refit takes too: a live run starts a margin after
    the end of the trailing-smoothed turn, offline's bout a margin after the centred one (about
    half a smoothing window earlier); the turn itself must be in the window to be found."""
    return config.smoothing_s + 2.0 * config.turn_margin_s


def wait_s(config: ProgressionConfig) -> float:
    """Rows after a run's last row before it is refitted: offline, whether a row is in a turn
    depends on the centred smoothing window and the margin after it."""
    return 0.5 * config.smoothing_s + config.turn_margin_s


def one_bout(
    t_s: np.ndarray, q_world_thigh: np.ndarray, walking: np.ndarray, i: int, j: int,
    config: ProgressionConfig, side: Side | None, rate_hz: float,
) -> bool:
    """Whether ``find_progression`` over a window (arguments as ``find_progression``'s) puts
    its rows ``i`` and ``j`` in one bout — no turn between them, as offline sees it: live, the
    straight run that ended at ``i`` and the one that starts at ``j`` are one bout offline (the
    causal turn detection saw a turn the centred one does not)."""
    progression = find_progression(t_s, q_world_thigh, walking, config, side=side, rate_hz=rate_hz)
    return any(b.start <= i and j < b.stop for b in progression.bouts)


def run_directions_rad(progression: Progression, in_run: np.ndarray) -> np.ndarray | None:
    """The walking direction (rad, about world z of the thigh sensor's world) of the rows of one
    ended straight run (``in_run``, (M,) bool over the window of ``progression``,
    ``find_progression`` over a window around it): (R,) rad for its R rows — the line of the bout
    each row is nearest
    to, as offline — or None if the window holds no bout (the run's live directions stand)."""
    if not progression.bouts:
        return None
    return progression.heading_rad[in_run]


def bout_reach(progression: Progression, i: int, free: np.ndarray) -> int:
    """The first row of ``progression``'s window (``find_progression`` over a window around an
    ended straight run) back to which the bout
    holding row ``i`` (a run's first row) reaches over rows ``free`` ((M,) bool: in no live run) —
    a live run starts a margin after the causal turn's end, offline's bout can start earlier: its
    rows before the run are walked in that bout's direction offline. ``i`` if row ``i`` is in no bout."""
    ids = progression.bout_id()
    if ids[i] < 0:
        return i
    blocked = np.flatnonzero(~((ids[:i] == ids[i]) & free[:i]))
    return int(blocked[-1]) + 1 if blocked.size else 0


def strides_in_bouts(
    t_s: np.ndarray, strides: list[Stride], progression: Progression, lost: np.ndarray, clipped: np.ndarray,
    config: StrideConfig, rate_hz: float, gap_lost: np.ndarray | None = None,
) -> list[Stride]:
    """``strides`` (found live, any order) judged again as ``analyze`` judges them at a
    recording's end: :func:`~imugait.gait.cycles.segment_strides` over ``progression``'s bouts
    (``find_progression``'s: the turn margins, the overhang rule) with the last bout ended (its last
    stride an edge), not over the causal runs with the open end they were judged with.

    Parameters
    ----------
    t_s : (M,) s, the window's rows (``progression``'s). strides : the strides whose rows are in it.
    lost : (M,) bool, rows without angles. clipped : (M,) bool, rows clipped. config, rate_hz : the strides' configuration and the grid's rate.
    gap_lost : (M,) bool, rows lost (their long runs exclude the strides near them:
        :func:`~imugait.gait.cycles.near_long_gaps`); None: ``lost``.
    """
    ic, to, peak = [np.nan], [np.nan], [np.nan]
    for s in sorted(strides, key=lambda s: s.t_initial_contact_s):  # (NaN between strides that do not touch)
        if ic[-1] != s.t_initial_contact_s:
            ic += [np.nan, s.t_initial_contact_s]
            to += [np.nan, np.nan]
            peak += [np.nan, np.nan]
        ic.append(s.t_next_initial_contact_s)
        to.append(s.t_toe_off_s)
        peak.append(s.swing_peak_radps)
    events = LegEvents(np.full(len(ic), np.nan), np.array(to), np.array(ic), np.array(peak))
    return segment_strides(t_s, events, progression.bout_id(), lost, clipped, config, rate_hz=rate_hz, gap_lost=gap_lost)
