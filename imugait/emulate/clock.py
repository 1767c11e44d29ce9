"""The clocks an emulation plays on: scaled real time, or virtual time the host can hold back.

:class:`ScaledClock` runs ``playback`` times faster than :func:`time.monotonic`: what a child
process (:mod:`imugait.emulate.process`) and latency benchmarks use, where real time is the point.

:class:`VirtualClock` is the emulation's time when results must not depend on how fast the machine
is. It follows real time × ``playback`` but never passes a *hold*, and stands still while bytes the
emulated devices put on the wire have not yet been handled by the host:

* each emulated device holds it at the true time its next frame is due (so every frame leaves at
  exactly its due time, however late the device's thread wakes up);
* a guided run holds it at its next decision (a cue, the end of a recording, a check in progress);
* the emulator holds it at the start until every device has been told to stream;
* the host reports the bytes it handled (``consumed``; live acquisition does so for any clock that
  has the method) and the devices the bytes they wrote (``produced``): while the difference is
  positive the clock stands still, so the host stamps each chunk at the time it was sent;
* a host that reads at ticks of its own (:meth:`VirtualClock.read_at_ticks`: the serial ports read
  at the push tick) holds the clock at each tick instead, until every device has written what was
  due by then (:meth:`VirtualClock.others_past`) and it has handled every byte written
  (:meth:`VirtualClock.all_handled`): it stamps each chunk at the tick that read it.

So a loaded machine makes an emulated run slower in real time, never different. Holds with a
``max_real_s`` expire after that many real seconds: a hang guard, not a timing the result
depends on. With no consumer reporting (a host stamping on :func:`time.monotonic`), the byte
back-pressure stays off and the clock is a scaled clock with holds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Hashable

from imugait.errors import ValidationError


def _check_playback(playback: float) -> float:
    if not (math.isfinite(playback) and 0.01 <= playback <= 1000):
        raise ValidationError(f"playback factor must be in [0.01, 1000], got {playback!r}")
    return float(playback)


class ScaledClock:
    """A host clock that runs ``playback`` times faster than :func:`time.monotonic` (s).

    Calling it returns the time; ``playback = 1`` is the monotonic clock itself.
    """

    def __init__(self, playback: float = 1.0) -> None:
        self.speed = _check_playback(playback)
        self._origin_s = time.monotonic()

    def __call__(self) -> float:
        return self._origin_s + (time.monotonic() - self._origin_s) * self.speed

    def real_s(self, scaled_s: float) -> float:
        """Real seconds that pass while this clock advances ``scaled_s``."""
        return scaled_s / self.speed


class VirtualClock:
    """Emulation time (s) that advances with real time × ``playback`` up to the earliest hold and
    only while the host has handled every byte sent; see the module docstring. Thread-safe."""

    def __init__(self, playback: float = 1.0) -> None:
        self.speed = _check_playback(playback)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        """Notified whenever a hold or the back-pressure changes (what :meth:`wait_until` waits for)."""
        self._real_s = time.monotonic()
        self._t_s = self._real_s
        self._holds: dict[Hashable, tuple[float, float]] = {}
        """key → (held at s, real time the hold expires)."""
        self._backlog: dict[Hashable, int] = {}
        self._consumer = False
        self._at_ticks = False

    # ------------------------------------------------------------------ time
    def __call__(self) -> float:
        with self._lock:
            return self._advance()

    def real_s(self, scaled_s: float) -> float:
        """Real seconds that pass while this clock advances ``scaled_s`` (when nothing holds it)."""
        return scaled_s / self.speed

    def _advance(self) -> float:
        real = time.monotonic()
        for key in [k for k, (_t, expires) in self._holds.items() if real >= expires]:
            del self._holds[key]
        if not self.busy_locked():
            limit = min((t for t, _e in self._holds.values()), default=math.inf)
            self._t_s = max(self._t_s, min(self._t_s + (real - self._real_s) * self.speed, limit))
        self._real_s = real
        return self._t_s

    def wait_until(self, t_s: float, max_real_s: float) -> None:
        """Block until the clock reaches ``t_s`` or ``max_real_s`` real seconds have passed.

        While the clock is free this sleeps the real time it needs; while something holds it below
        ``t_s`` (a hold, bytes in flight) it sleeps until a hold or the back-pressure changes, not
        in short polls: a waiting emulated device costs no CPU the host needs."""
        deadline = time.monotonic() + max_real_s
        with self._lock:
            while True:
                now_s = self._advance()
                remaining_s = deadline - time.monotonic()
                if now_s >= t_s or remaining_s <= 0:
                    return
                limit = min((t for t, _e in self._holds.values()), default=math.inf)
                if self.busy_locked() or limit <= now_s:
                    self._changed.wait(remaining_s)
                else:
                    self._changed.wait(min(remaining_s, (min(t_s, limit) - now_s) / self.speed))

    # ------------------------------------------------------------------ holds
    def hold(self, key: Hashable, until_s: float, max_real_s: float = math.inf) -> None:
        """Do not pass ``until_s`` (clock time) while this hold stands; replaces ``key``'s hold.
        It expires after ``max_real_s`` real seconds (a hang guard)."""
        with self._lock:
            self._advance()
            old = self._holds.get(key)
            self._holds[key] = (float(until_s), time.monotonic() + max_real_s)
            if old is not None and until_s > old[0]:  # only a hold moved on can let a waiter go on
                self._changed.notify_all()

    def others_past(self, key: Hashable, t_s: float) -> bool:
        """Every hold but ``key``'s stands past ``t_s``: whoever holds the clock (an emulated
        device: at its next frame) has done what was due by ``t_s`` (a host reading at ``t_s``
        while ``key`` holds the clock there sees every frame due by then written)."""
        with self._lock:
            self._advance()
            return all(t > t_s for k, (t, _e) in self._holds.items() if k != key)

    def release(self, key: Hashable) -> None:
        with self._lock:
            self._advance()
            self._holds.pop(key, None)
            self._changed.notify_all()

    # ------------------------------------------------------------------ back-pressure
    def produced(self, key: Hashable, n_bytes: int) -> None:
        """An emulated device wrote ``n_bytes`` for the host."""
        with self._lock:
            self._advance()
            self._backlog[key] = self._backlog.get(key, 0) + int(n_bytes)

    def consumed(self, key: Hashable, n_bytes: int) -> None:
        """The host handled ``n_bytes`` from ``key`` (turns the back-pressure on)."""
        with self._lock:
            self._advance()
            self._consumer = True
            self._backlog[key] = self._backlog.get(key, 0) - int(n_bytes)
            if not self.busy_locked():  # every byte sent is handled: a waiter may go on
                self._changed.notify_all()

    def lost(self, key: Hashable) -> None:
        """``key``'s link dropped or was reopened: bytes still on the wire will never be handled."""
        with self._lock:
            self._advance()
            self._backlog[key] = 0
            self._changed.notify_all()

    def busy(self) -> bool:
        """Bytes sent and not yet handled by the host (always False without a consumer)."""
        with self._lock:
            return self.busy_locked()

    def busy_locked(self) -> bool:
        return self._consumer and not self._at_ticks and any(n > 0 for n in self._backlog.values())

    def read_at_ticks(self, on: bool = True) -> None:
        """The host reads at ticks of its own, holding the clock at each (a live run reading its
        serial ports at the push tick, :class:`imugait.live.ticks.PushTicks`): bytes sent and not
        yet handled no longer stop the clock — they wait for the next tick, as a real port's bytes
        wait in the kernel —, and the tick reads until :meth:`all_handled`. ``on=False`` when the
        ticks end: unhandled bytes stop the clock again."""
        with self._lock:
            self._advance()
            self._at_ticks = on
            self._changed.notify_all()

    def all_handled(self) -> bool:
        """Every byte the devices sent has been handled by the host (as far as it reports)."""
        with self._lock:
            return not any(n > 0 for n in self._backlog.values())
