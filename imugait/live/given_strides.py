"""The strides a live leg has given: their versions, the plausibility check, and those still to be given again.

A stride is given at once from its early initial contact, checked once its events settle, given
again with its thigh–shank timing (:meth:`GivenStrides.give_timed`), and final once its heading
windows have come (:mod:`imugait.live.reheading`) and, if its hip rotation was measured against a
straight run's walking direction, once that run has been fitted again (:mod:`imugait.live.straight_runs`).
Each version is judged (:func:`~imugait.gait.plausibility.implausible_reasons`) against the leg's
recent strides up to it, as offline against the leg's strides; at a walk's end every stride of the
walk the leg still holds — those in the history and those older kept by their rows — is judged
once more as ``analyze`` judges a recording's strides: against all the leg's strides kept, with
the values they have then (:meth:`GivenStrides.judge_walk`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from imugait.conventions import Side
from imugait.gait.cycles import Exclusion, Stride
from imugait.gait.plausibility import implausible_reasons, stride_columns
from imugait.live.history import History
from imugait.live.stride_measures import StrideMeasures
from imugait.live.updates import LiveStride

RECENT_STRIDES = 100
"""Strides kept for the plausibility check against the leg's other strides: more than the history
holds (60 s, about 55 strides), so that a stride judged again at a walk's end is judged against
the strides before it, as when it was given (50 left the history's oldest strides of a long walk
with the newest stride's verdict: HuGaDB 06_00 right 60 strides used live, 26 by ``analyze``)."""
WITHDRAWN = "withdrawn: given early, its events settled into no stride"
"""The exclusion of a stride given early whose events did not settle into one."""


@dataclass(eq=False)
class PendingStride:
    """A stride given, not yet final: its thigh–shank timing or its run's walking direction to come."""

    stride: Stride
    given: LiveStride
    """The version given last (or to be given: see :meth:`~imugait.live.straight_runs.StraightRuns.refit`)."""
    row: dict
    """Its row in the leg's recent strides."""
    k_lag: int
    """The grid row from which its thigh–shank timing can be computed."""
    run: int
    """The straight run whose walking direction its hip rotation awaits (-1: none)."""
    timed: bool = field(default=False)
    """Its thigh–shank timing is known."""
    headed: bool = field(default=False)
    """Its knee metrics are computed with the heading offset interpolated between the offline
    track's windows around it (:meth:`~imugait.live.reheading.Reheading.head_strides`)."""
    supported: bool = field(default=False)
    """Its double support is decided (:func:`~imugait.live.double_support.give_double_support`)."""
    held_final: bool = field(default=False)
    """A final version was due before its double support was decided: given not final (:meth:`GivenStrides.give`)."""


@dataclass(eq=False)
class EarlyStride:
    """The stride given early, not settled yet."""

    mid_swing_s: float
    """The mid-swing of the early event that closes it."""
    given: LiveStride
    row: dict
    """Its row in the leg's recent strides."""
    stride: Stride


class GivenStrides:
    """The strides one leg (``side``) has given, measured by ``measures``."""

    def __init__(self, side: Side, measures: StrideMeasures, older_s: float = 0.0) -> None:
        self.side, self.measures = side, measures
        self.older_s = older_s
        """How long the final strides that left the history are kept for the judgement at a walk's
        end (s, from the newest kept back; :attr:`~imugait.live.kinematics.LiveConfig.reference_backlog_s`)."""
        self.older: deque[PendingStride] = deque()
        """The final strides that left the history, kept for the judgement at a walk's end — each
        its row (used, metrics) and version, not its samples —, in order."""
        self.walk_first = 0
        """The number of the walk going on's first stride."""
        self.recent: deque[dict] = deque(maxlen=RECENT_STRIDES)
        """The rows (used, metrics) of the leg's recent strides, the plausibility check's."""
        self.n_strides = 0
        self.new: list[LiveStride] = []
        """The versions given since the leg was last polled."""
        self.early: EarlyStride | None = None
        """The stride given early."""
        self.untimed: deque[PendingStride] = deque()
        """Strides given without their thigh–shank timing, in order."""
        self.awaiting_run: deque[PendingStride] = deque()
        """Strides with their timing whose run has not been fitted again yet (bounded by the
        history: :meth:`~imugait.live.leg.LiveLeg._release_old`), in order."""
        self.unheaded: deque[PendingStride] = deque()
        """Strides whose heading windows around them have not all come yet
        (:meth:`~imugait.live.reheading.Reheading.head_strides`), in order."""
        self.settled_events: deque[tuple[float, float, float]] = deque(maxlen=RECENT_STRIDES)
        """The events (initial contact, toe-off, next initial contact s) of the leg's settled
        strides, in order: the other leg's double support reads them (:mod:`imugait.live.double_support`)."""
        self.unsupported: deque[PendingStride] = deque()
        """Settled strides whose double support is not decided yet, in order
        (:func:`~imugait.live.double_support.give_double_support`)."""
        self.headed: deque[PendingStride] = deque()
        """Strides given with their heading interpolated whose rows are still in the history, in
        order (with a mid-stance reference: revised at the stream's end,
        :meth:`~imugait.live.reheading.Reheading.revise_reference`)."""

    def judged(self, stride: Stride, given: LiveStride, row: dict) -> LiveStride:
        """``given`` with its plausibility against the leg's strides until it (as offline); a
        stride whose row has left the recent strides keeps the judgement it was given (the strides
        it was judged against are gone)."""
        recent = list(self.recent)
        until = next((i for i, r in enumerate(recent) if r is row), None)
        if until is None:
            return given
        return _verdict(stride, given, implausible_reasons(stride_columns(recent[:until + 1]))[-1])

    def judged_again(self, p: PendingStride, **changes) -> LiveStride:
        """``p``'s version with the metrics of its row now (and ``changes``: ``final``), judged again."""
        return self.judged(p.stride, replace(p.given, metrics={name: p.row[name] for name in p.given.metrics}, **changes),
                           p.row)

    def give_measured_again(self, strides: list[PendingStride]) -> None:
        """Give again ``strides`` — final strides older than the history whose row's metrics were
        measured again (:mod:`imugait.live.reference_backlog`) — with those metrics, their
        judgement as it was (judged again after, with the walk's strides: :meth:`judge_walk`)."""
        for p in strides:
            p.given = replace(p.given, metrics={name: p.row[name] for name in p.given.metrics})
            if p.timed:
                self.give(p)

    def keep_older(self, strides: list[PendingStride]) -> None:
        """Keep ``strides`` (final, in order), which leave the history, for the judgement at the
        walk's end; forget those more than :attr:`older_s` before the newest."""
        if self.older_s <= 0 or not strides:
            return
        self.older.extend(strides)
        t_newest = self.older[-1].stride.t_initial_contact_s
        while self.older and self.older[0].stride.t_initial_contact_s < t_newest - self.older_s:
            self.older.popleft()

    def judge_walk(self) -> None:
        """At a walk's end: every stride of the walk still held — in the history and older
        (:attr:`older`) — judged as ``analyze`` judges a recording's strides, against all the
        leg's strides kept (the older ones, the recent ones: those after it too, not only those
        before), with the values they have at the end; those whose judgement changed are given
        again (the versions given during the walk were judged against the strides before them)."""
        walk = [p for p in dict.fromkeys((*self.older, *self.headed, *self.unheaded))
                if p.given.index >= self.walk_first and p.timed]
        if not walk:
            return
        rows = list({id(r): r for r in (*(p.row for p in self.older), *self.recent, *(p.row for p in walk))}.values())
        reasons = dict(zip(map(id, rows), implausible_reasons(stride_columns(rows)), strict=True))
        for p in walk:
            version = _verdict(p.stride, p.given, reasons[id(p.row)])
            if (version.used, version.exclusion) != (p.given.used, p.given.exclusion):
                p.given = version
                self.give(p)

    def new_walk(self) -> None:
        """The strides numbered from now on are a new walk's."""
        self.walk_first = self.n_strides

    def _live_stride(self, stride: Stride, metrics: dict[str, float], index: int) -> LiveStride:
        return LiveStride(side=self.side, index=index, t_initial_contact_s=stride.t_initial_contact_s,
                          t_toe_off_s=stride.t_toe_off_s, t_next_initial_contact_s=stride.t_next_initial_contact_s,
                          metrics=metrics, used=stride.used, final=False)

    def give_early(self, mid_swing_s: float, stride: Stride, metrics: dict[str, float]) -> None:
        """Give at once ``stride`` that ends at an early initial contact (mid-swing ``mid_swing_s``)."""
        row = {"used": stride.used, **metrics}
        self.recent.append(row)
        given = self.judged(stride, self._live_stride(stride, metrics, self.n_strides), row)
        self.n_strides += 1
        self.new.append(given)
        self.early = EarlyStride(mid_swing_s, given, row, stride)

    def give_settled(self, stride: Stride, metrics: dict[str, float], early: EarlyStride | None) -> tuple[LiveStride, dict]:
        """Give ``stride`` that ends at a settled initial contact — or, if it was given ``early``,
        again only where it changed. Returns the version and its row in the recent strides."""
        if early is None:
            row = {"used": stride.used, **metrics}
            self.recent.append(row)
            index = self.n_strides
            self.n_strides += 1
        else:
            row = early.row
            row.clear()
            row.update({"used": stride.used, **metrics})
            index = early.given.index
        if early is not None and early.stride == stride and np.array_equal(list(early.given.metrics.values()),
                                                                         list(metrics.values()), equal_nan=True):
            return early.given, row  # the same stride, judged against the same strides: as given early
        given = self.judged(stride, self._live_stride(stride, metrics, index), row)
        if early is None or not same_stride(given, early.given):
            self.new.append(given)
        return given, row

    def give(self, p: PendingStride) -> None:
        """Give ``p``'s version now — not final while its double support is undecided (final with
        it, :meth:`give_double_support`): a stride is final once, with every metric."""
        version = p.given
        if version.final and not p.supported:
            version = replace(version, final=False)
            p.held_final = True
        self.new.append(version)

    def note_settled(self, p: PendingStride) -> None:
        """``p``, given settled: its events for the other leg's double support, its own to come."""
        s = p.stride
        self.settled_events.append((s.t_initial_contact_s, s.t_toe_off_s, s.t_next_initial_contact_s))
        self.unsupported.append(p)
        if len(self.unsupported) > RECENT_STRIDES:  # (the other leg gives none: NaN)
            self.give_double_support(self.unsupported.popleft(), np.nan)

    def give_double_support(self, p: PendingStride, value: float) -> None:
        """``p``'s double support (%, NaN: none) into its row and its version: given with its next
        version (every stride not final has one to come), or now, final, if its final version was
        held for it (:meth:`give`)."""
        p.supported = True
        if np.isnan(value):
            value = np.nan  # (the one NaN object: versions with none compare equal, as those of another run)
        p.row["double_support_pct"] = value
        if not np.isnan(value):
            p.given = replace(p.given, metrics={**p.given.metrics, "double_support_pct": value})
        if p.held_final:
            p.held_final = False
            self.new.append(p.given)

    def withdraw(self) -> None:
        """The stride given early whose events did not settle into one: given again as withdrawn."""
        early = self.early
        self.early = None
        self.recent = deque((r for r in self.recent if r is not early.row), maxlen=RECENT_STRIDES)
        self.new.append(replace(early.given, used=False, exclusion=WITHDRAWN, final=True))

    def give_timed(self, grid: History, k: int, runs_done: int, ended: bool = False) -> None:
        """Give again, with their thigh–shank timing, the strides whose rows for it have come
        (at the tick of grid row ``k``; ``ended``: every stride, with the rows there are, as
        offline at a recording's end): final if their heading windows have come too
        (:meth:`~imugait.live.reheading.Reheading.head_strides`) and their run is not still to be
        fitted again (runs up to ``runs_done`` are)."""
        while self.untimed and (ended or self.untimed[0].k_lag <= k):
            p = self.untimed.popleft()
            p.row["thigh_shank_lag_s"] = self.measures.thigh_shank_lag_s(grid, p.stride, k, final=p.headed)
            p.timed = True
            final = p.run <= runs_done and p.headed
            metrics = {**p.given.metrics, "thigh_shank_lag_s": p.row["thigh_shank_lag_s"]}
            p.given = self.judged(p.stride, replace(p.given, metrics=metrics, final=final), p.row)
            self.give(p)
            if p.run > runs_done:
                self.awaiting_run.append(p)


def _verdict(stride: Stride, given: LiveStride, reason: Exclusion) -> LiveStride:
    """``given`` used or not: excluded for ``reason`` if the plausibility check found one,
    otherwise as ``stride`` (its bout and data checks)."""
    exclusion = stride.exclusion if reason is Exclusion.NONE else reason
    return replace(given, used=exclusion is Exclusion.NONE,
                   exclusion=None if exclusion is Exclusion.NONE else exclusion.value)


def same_stride(a: LiveStride, b: LiveStride) -> bool:
    """The same stride, judgement, and events and metrics to within what no view shows (0.1 ms,
    0.001 of a metric's unit; NaN equal to NaN): a settled stride is not given again for the
    last bits its low-passes' transients still moved (its final version carries them)."""
    if (a.side, a.index, a.used, a.exclusion) != (b.side, b.index, b.used, b.exclusion) or a.metrics.keys() != b.metrics.keys():
        return False
    events = [[s.t_initial_contact_s, s.t_toe_off_s, s.t_next_initial_contact_s] for s in (a, b)]
    return (np.allclose(*events, rtol=0, atol=1e-4, equal_nan=True)
            and np.allclose(list(a.metrics.values()), list(b.metrics.values()), rtol=0, atol=1e-3, equal_nan=True))
