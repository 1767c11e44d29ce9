"""Double support live: each stride's share with both feet down, once the other leg's strides that
bound it have settled.

``analyze`` computes a stride's double support (:func:`~imugait.gait.metrics.double_support_pcts`)
from the other leg's strides: its first toe-off after the stride's initial contact and its last
initial contact before the stride's toe-off. Live, the other leg gives its strides as their events
settle (:class:`~imugait.live.given_strides.GivenStrides`), in the order of their contacts, so once
the other leg has given a settled stride that ends at or after this stride's toe-off, no stride it
gives later has a toe-off or an initial contact before that toe-off: the stride's double support
is then the offline one, with the same function over the other leg's settled strides so far. At a
walk's end both legs have given all their strides (as offline at a recording's end) and every
stride still waiting is decided with those; so is a stride about to leave the history (its leg's
strides there are given final as they are too) and, NaN, every stride of a leg whose other leg
has no sensors or failed its calibration.

The stride then carries it (``double_support_pct`` in its metrics, NaN until decided, NaN where
offline it is NaN) from its next version on; a stride is final only with it
(:meth:`~imugait.live.given_strides.GivenStrides.give`). Usually the other leg's stride that bounds
it settles about half a stride after the stride does, long before its final version (2–4.5 s
after it). It waits longer where one leg's strides come before the other's: the strides of the
walk the legs were calibrated on (each leg takes its rows up to the calibration at once, one leg
after the other) and a leg's last stride before the other leg stopped: decided once the other
leg's events have settled long enough after it that no stride of the other leg can still begin
before its toe-off (``StrideConfig.max_stride_s``, 2.5 s, and the events' settling, about 1 s),
or at the walk's end.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np

from imugait.conventions import Side
from imugait.gait.metrics import double_support_pcts
from imugait.live.given_strides import GivenStrides


def give_double_support(legs: Mapping[Side, GivenStrides], expected: Collection[Side], ended_s: float = -np.inf,
                        old_s: Callable[[Side], float] | None = None, quiet_s: Callable[[Side], float] | None = None
                        ) -> None:
    """Decide the double support of the settled strides of ``legs`` (the calibrated legs' given
    strides) whose other leg's bounding strides have settled, or whose toe-off is before its
    ``quiet_s`` of the other leg (s: every stride that leg gives from now on begins after it — a
    leg that stopped) — and, with the other leg's strides there are, of those that end by
    ``ended_s`` (s: a walk ended there for all of ``legs``) or begin by ``old_s`` of their leg (s:
    their rows are about to leave the history). ``old_s`` and ``quiet_s`` are asked only when the
    other leg's strides have not decided the oldest stride waiting (this runs at every tick of
    either leg). ``expected``: the legs with sensors whose calibration has not failed; a stride of a leg
    without the other one is NaN at once (as offline)."""
    for side, given in legs.items():
        if not given.unsupported:
            continue
        if side.other not in expected:
            while given.unsupported:
                given.give_double_support(given.unsupported.popleft(), np.nan)
            continue
        other = legs.get(side.other)
        # (the other leg not calibrated yet: its strides to come)
        bound_s = other.settled_events[-1][2] if other is not None and other.settled_events else -np.inf
        first = given.unsupported[0].stride
        if bound_s < first.t_toe_off_s and first.t_next_initial_contact_s > ended_s:
            bound_s = max(bound_s, quiet_s(side.other) if quiet_s is not None and other is not None else -np.inf)
            t_old = old_s(side) if old_s is not None else -np.inf
        else:
            t_old = -np.inf
        decided = []
        while given.unsupported:
            s = given.unsupported[0].stride
            if bound_s < s.t_toe_off_s and s.t_next_initial_contact_s > ended_s and s.t_initial_contact_s > t_old:
                break
            decided.append(given.unsupported.popleft())
        if not decided:
            continue
        events = np.array(other.settled_events if other is not None else [], dtype=float).reshape(-1, 3)
        toe_off = events[:, 1]
        other_to = np.sort(toe_off[np.isfinite(toe_off)])
        other_ic = np.unique(events[:, [0, 2]])
        for p, value in zip(decided, double_support_pcts([p.stride for p in decided], other_to, other_ic), strict=True):
            given.give_double_support(p, float(value))
