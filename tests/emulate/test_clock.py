"""The emulation's virtual clock: holds and back-pressure.

The clock reads real time from ``time.monotonic``; these tests give it a fake real time that
only moves when the test says (``real``), so no assertion depends on how fast the machine is or
whether it pauses this thread. ``wait_until`` blocks on real time and is checked on it, with
lower bounds only.
"""

from __future__ import annotations

import threading
import time
import types

import pytest

import imugait.emulate.clock as clock_module
from imugait.emulate.clock import ScaledClock, VirtualClock
from imugait.errors import ValidationError


class FakeRealTime:
    """``time.monotonic`` for the clock module, moved on by hand (s)."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def monotonic(self) -> float:
        return self.now_s

    def __call__(self, dt_s: float) -> None:
        self.now_s += dt_s


@pytest.fixture
def real(monkeypatch) -> FakeRealTime:
    fake = FakeRealTime()
    monkeypatch.setattr(clock_module, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def test_runs_with_real_time_times_playback_up_to_the_earliest_hold(real):
    clock = VirtualClock(playback=100.0)
    t0 = clock()
    clock.hold("a", t0 + 0.5)
    clock.hold("b", t0 + 0.2)
    real(0.001)  # 0.1 s of clock time at 100x: short of both holds
    assert clock() == pytest.approx(t0 + 0.1)
    real(0.01)  # 1 s of clock time: both holds are reached
    assert clock() == t0 + 0.2
    clock.release("b")
    real(0.01)
    assert clock() == t0 + 0.5
    clock.hold("a", t0 + 0.7)  # replacing a hold moves it
    real(0.01)
    assert clock() == t0 + 0.7


def test_stands_still_while_the_host_has_bytes_to_handle(real):
    clock = VirtualClock(playback=100.0)
    t0 = clock()
    clock.produced("left", 10)
    real(0.01)
    t = clock()  # no consumer has reported yet: no back-pressure
    assert t == pytest.approx(t0 + 1.0)
    clock.consumed("left", 4)  # a consumer: 6 bytes in flight
    t_busy = clock()
    real(0.01)
    assert clock() == t_busy == t and clock.busy()
    clock.consumed("left", 6)
    real(0.01)
    assert clock() == pytest.approx(t_busy + 1.0) and not clock.busy()
    clock.produced("left", 5)
    clock.lost("left")  # the link dropped: those bytes will never come
    assert not clock.busy()


def test_frozen_time_is_not_made_up_afterwards(real):
    clock = VirtualClock(playback=1.0)
    t0 = clock()
    clock.hold("x", t0)
    real(0.05)
    assert clock() == t0
    clock.release("x")
    real(0.002)
    assert clock() == pytest.approx(t0 + 0.002)  # the 50 ms held are not added on release


def test_an_expired_hold_is_a_hang_guard(real):
    clock = VirtualClock(playback=100.0)
    t0 = clock()
    clock.hold("start", t0, max_real_s=0.01)
    real(0.005)
    assert clock() == t0  # still held
    real(0.01)  # the hold expired 0.01 s after it was set: the clock runs again
    assert clock() > t0


def test_wait_until_returns_when_the_hold_in_the_way_moves_on():
    """On real time: a waiter held short of its time goes on once the hold is released (well
    before its hang guard), and a waiter held for good returns after its ``max_real_s``."""
    clock = VirtualClock(playback=1000.0)
    t0 = clock()
    clock.hold("other", t0)
    done = threading.Event()

    def wait() -> None:
        clock.wait_until(t0 + 0.5, max_real_s=600.0)
        done.set()

    waiter = threading.Thread(target=wait)
    waiter.start()
    assert not done.wait(0.05)  # held at t0: it waits
    clock.release("other")
    assert done.wait(60.0)  # a hang guard only; it goes on at once on a free clock
    waiter.join()
    assert clock() >= t0 + 0.5

    clock.hold("other", clock())
    started_s = time.monotonic()
    clock.wait_until(clock() + 1.0, max_real_s=0.05)  # held for good: the guard ends the wait
    assert time.monotonic() - started_s >= 0.05


def test_playback_is_checked():
    for bad in (0.0, -1.0, float("nan"), 1e6):
        with pytest.raises(ValidationError):
            VirtualClock(bad)
        with pytest.raises(ValidationError):
            ScaledClock(bad)
