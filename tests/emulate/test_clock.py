"""The emulation's virtual clock: holds and back-pressure (assertions hold on any machine load:
sleeping guarantees at least the time asked, and the clock never passes a hold)."""

from __future__ import annotations

import time

import pytest

from imugait.emulate.clock import ScaledClock, VirtualClock
from imugait.errors import ValidationError


def test_runs_with_real_time_times_playback_up_to_the_earliest_hold():
    clock = VirtualClock(playback=100.0)
    t0 = clock()
    clock.hold("a", t0 + 0.5)
    clock.hold("b", t0 + 0.2)
    time.sleep(0.01)  # ≥ 1 s of clock time at 100x: both holds are reached
    assert clock() == t0 + 0.2
    clock.release("b")
    time.sleep(0.01)
    assert clock() == t0 + 0.5
    clock.hold("a", t0 + 0.7)  # replacing a hold moves it
    time.sleep(0.01)
    assert clock() == t0 + 0.7


def test_stands_still_while_the_host_has_bytes_to_handle():
    clock = VirtualClock(playback=100.0)
    clock.produced("left", 10)
    time.sleep(0.01)
    t = clock()  # no consumer has reported yet: no back-pressure
    clock.consumed("left", 4)  # a consumer: 6 bytes in flight
    t_busy = clock()
    time.sleep(0.01)
    assert clock() == t_busy >= t and clock.busy()
    clock.consumed("left", 6)
    time.sleep(0.01)
    assert clock() > t_busy and not clock.busy()
    clock.produced("left", 5)
    clock.lost("left")  # the link dropped: those bytes will never come
    assert not clock.busy()


def test_frozen_time_is_not_made_up_afterwards():
    clock = VirtualClock(playback=1.0)
    t0 = clock()
    clock.hold("x", t0)
    time.sleep(0.05)
    released_at_s = time.monotonic()
    clock.release("x")
    t_s = clock()
    # Only the real time since the release is added, not the 50 ms held: bounded by the time
    # measured since the release, so a machine that pauses this thread cannot fail it.
    assert t_s - t0 <= time.monotonic() - released_at_s


def test_an_expired_hold_is_a_hang_guard():
    clock = VirtualClock(playback=100.0)
    t0 = clock()
    clock.hold("start", t0, max_real_s=0.01)
    time.sleep(0.05)
    assert clock() > t0


def test_playback_is_checked():
    for bad in (0.0, -1.0, float("nan"), 1e6):
        with pytest.raises(ValidationError):
            VirtualClock(bad)
        with pytest.raises(ValidationError):
            ScaledClock(bad)
