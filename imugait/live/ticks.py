"""The push loop's ticks: when a live run reads its serial ports and polls the pipeline.

The dashboard pushes at these ticks; with ``SerialReads.PUSH_TICK`` (``imugait live
--serial-reads tick``) it also reads its serial ports there, just before the poll.

With the serial ports read at the push tick (:attr:`SerialReads.PUSH_TICK`) a chunk is stamped
when the tick reads it, not when it arrived, and the stamps feed the clock mapping (the lower
envelope of arrival against device time, :mod:`imugait.acquisition.clock`): the envelope keeps
each sensor's *smallest* stamped delay. Ticks at a fixed 25 ms meet 20-ms frames at only five
phases 5 ms apart, so that smallest delay — and every sample's time — would be set by the
sensor's phase to the ticks (0–5 ms, different per sensor), not by its link. The intervals here
are spread pseudo-randomly around the mean (deterministic: a seeded generator), so the ticks
lock to no period — a device's frames, a USB adapter's latency timer, a BLE connection interval
alike: over the mapping's window every sensor has reads that come right after one of its
frames, and the envelope finds the link's own delay again (docs/live-history.md, "Thirteenth round",
for the argument and the measurements: the times are those read at readiness in the median, noisier
in the tails).

On an emulation's virtual clock (:class:`~imugait.emulate.clock.VirtualClock`) the ticks are on
that clock: the tick holds it at the next read, waits until every emulated device has written
what was due by then, and the read is stamped at exactly the tick's time — the same run gives
the same stamps however busy the machine is.
"""

from __future__ import annotations

import asyncio
import enum
import math
import random
import time
from collections.abc import Callable

from imugait.errors import ValidationError

TICK_SPREAD_FRACTION = 0.2
"""Each interval between reads at the push tick is the mean × a uniform draw in 1 ± this."""
TICK_SEED = 0x71C5
"""Seeds the ticks' spread: the same intervals every run."""
MAX_TICK_WAIT_REAL_S = 2.0
"""Hang guard on a virtual clock held by something else (an emulation waiting for its sensors to
start) or a machine too loaded to move the emulated devices on: the push goes ahead after this
many real seconds without the read's time reached (then the read is stamped earlier than the
tick: the only way a run on the virtual clock depends on the machine)."""
_HOLD_KEY = "live-push-tick"


class SerialReads(enum.Enum):
    """When a live run reads its serial ports."""

    READINESS = "readiness"
    """At each readiness event of each port (the event loop watches the ports)."""
    PUSH_TICK = "tick"
    """All ports at each push tick, just before the pipeline's poll (no watching)."""


class PushTicks:
    """When the push loop reads and pushes, on ``clock`` (s).

    Parameters
    ----------
    clock : the host clock (monotonic, s); one with ``hold`` and ``others_past`` (a virtual
        clock) is held at each tick (``on_clock=True``).
    interval_s : mean interval between ticks, s.
    spread_fraction : each interval is ``interval_s`` × a uniform draw in ``1 ± spread_fraction``
        (0: a fixed interval).
    on_clock : ticks on ``clock``; False: on :func:`time.monotonic` (real time), never holding
        ``clock``.
    seed : seeds the spread.

    A tick that comes late is not made up: the next is counted from when it came.
    """

    def __init__(self, clock: Callable[[], float], interval_s: float, spread_fraction: float = 0.0,
                 on_clock: bool = True, seed: int = TICK_SEED) -> None:
        if not (interval_s > 0 and 0 <= spread_fraction < 1):
            raise ValidationError(f"ticks need interval_s > 0 and spread_fraction in [0, 1), got {interval_s!r} "
                                  f"and {spread_fraction!r}")
        self._clock = clock if on_clock else time.monotonic
        self.interval_s = float(interval_s)
        self.spread_fraction = float(spread_fraction)
        self._rng = random.Random(seed)
        held = on_clock and all(hasattr(clock, m) for m in ("hold", "others_past", "read_at_ticks", "all_handled"))
        self._held_clock = clock if held else None
        if held:
            clock.read_at_ticks()
        self._real_s = getattr(clock, "real_s", None) if on_clock else None
        if held:  # the clock stands still from here: the first tick is now
            clock.hold(_HOLD_KEY, -math.inf)
        self.next_s = self._clock()
        """The clock's time of the next tick."""
        self._reached = True
        if held:
            clock.hold(_HOLD_KEY, self.next_s)

    def next_interval_s(self) -> float:
        """The interval to the tick after the next, s (a draw of the spread)."""
        if self.spread_fraction == 0:
            return self.interval_s
        return self.interval_s * (1.0 + self.spread_fraction * (2.0 * self._rng.random() - 1.0))

    async def tick(self, read: Callable[[], object] | None = None) -> None:
        """Wait for the tick (:meth:`wait`), then ``read()`` (the ports). On a virtual clock the
        reads go on, the clock held at the tick, until every byte the devices wrote has been
        handled (a pseudo-terminal hands bytes over a moment after they were written), at most
        :data:`MAX_TICK_WAIT_REAL_S` of real time: each chunk is stamped at the tick's time."""
        await self.wait()
        if read is None:
            return
        read()
        held = self._held_clock
        if held is None or not self._reached:
            return
        give_up = time.monotonic() + MAX_TICK_WAIT_REAL_S
        while not held.all_handled() and time.monotonic() < give_up:
            await asyncio.sleep(0.0005)
            read()

    async def wait(self) -> None:
        """Until the tick's time (on a virtual clock: until the clock stands there and every device
        has written what was due, at most :data:`MAX_TICK_WAIT_REAL_S` of real time)."""
        held = self._held_clock
        if held is not None:
            held.hold(_HOLD_KEY, self.next_s)
        give_up = time.monotonic() + MAX_TICK_WAIT_REAL_S
        self._reached = True
        while True:
            ahead_s = self.next_s - self._clock()
            if ahead_s <= 0 and (held is None or held.others_past(_HOLD_KEY, self.next_s)):
                return
            if held is not None and time.monotonic() >= give_up:
                self._reached = False  # the same tick is waited for again after this push
                return
            real_s = ahead_s if self._real_s is None else self._real_s(ahead_s)
            await asyncio.sleep(max(real_s, 0.0) if ahead_s > 0 else 0.0005)
            if held is None:
                return

    def advance(self) -> None:
        """The tick was served: schedule the next one (from now if this one came late). A tick
        whose time a held virtual clock did not reach stays the next one (the ticks' times, and
        the draws of their spread, do not depend on how long the clock was held elsewhere)."""
        if self._reached:
            self.next_s = max(self.next_s + self.next_interval_s(), self._clock())

    def release(self) -> None:
        """Stop holding a virtual clock (the loop ends): bytes nobody reads hold it again, as
        before the ticks (an emulation does not run on past the end of a run)."""
        if self._held_clock is not None:
            self._held_clock.read_at_ticks(False)
            self._held_clock.release(_HOLD_KEY)
