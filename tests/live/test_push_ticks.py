"""The push loop's ticks (:mod:`imugait.live.ticks`): spread intervals, the same every run, and on
a virtual clock held at each tick until the devices have written what was due."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from imugait.emulate.clock import VirtualClock
from imugait.errors import ValidationError
from imugait.live.ticks import TICK_SPREAD_FRACTION, PushTicks


class _Clock:
    """A clock a test sets by hand (s)."""

    def __init__(self) -> None:
        self.t_s = 100.0

    def __call__(self) -> float:
        return self.t_s


def _tick_times(spread: float, n: int = 4000) -> np.ndarray:
    clock = _Clock()
    ticks = PushTicks(clock, 0.025, spread)
    times = []
    for _ in range(n):
        times.append(ticks.next_s)
        clock.t_s = ticks.next_s  # served on time
        ticks.advance()
    return np.array(times)


def test_intervals_are_spread_around_the_mean_the_same_every_run():
    times = _tick_times(TICK_SPREAD_FRACTION)
    intervals = np.diff(times)
    assert np.all(intervals >= 0.025 * (1 - TICK_SPREAD_FRACTION) - 1e-12)
    assert np.all(intervals <= 0.025 * (1 + TICK_SPREAD_FRACTION) + 1e-12)
    assert np.mean(intervals) == pytest.approx(0.025, rel=0.01)
    assert np.std(intervals) > 0.025 * TICK_SPREAD_FRACTION / 2  # a uniform spread's SD is 0.58 of the half-width
    np.testing.assert_array_equal(times, _tick_times(TICK_SPREAD_FRACTION))  # deterministic


@pytest.mark.parametrize("frame_s", [0.020, 0.016, 0.010, 0.025, 0.0075])
def test_spread_ticks_come_right_after_every_phase_of_a_periodic_sender(frame_s):
    """What the clock mapping needs: for a sender writing every ``frame_s`` (a device's frames, a
    USB adapter's latency timer, a BLE connection interval), some reads come within a fraction of
    a millisecond after its writes, whatever its phase — at a fixed 25 ms they do not."""
    def smallest_waits_s(spread: float) -> list[float]:
        times = _tick_times(spread)  # 100 s
        out = []
        for phase_s in np.linspace(0.0, frame_s, 7, endpoint=False) + 0.1e-3:
            writes = phase_s + np.arange(times[0] // frame_s + 1, times[-1] // frame_s) * frame_s
            writes = writes[writes < times[-1]]
            out.append(float(np.min(times[np.searchsorted(times, writes)] - writes)))
        return out

    assert max(smallest_waits_s(TICK_SPREAD_FRACTION)) < 0.2e-3
    if frame_s in (0.020, 0.025):  # fixed ticks lock to these: the phase sets the smallest wait
        assert max(smallest_waits_s(0.0)) > 1e-3


def test_a_late_tick_is_not_made_up():
    clock = _Clock()
    ticks = PushTicks(clock, 0.025)
    clock.t_s += 1.0  # the loop was away
    ticks.advance()
    assert ticks.next_s == clock.t_s


def test_on_a_virtual_clock_the_tick_holds_it_until_reached():
    async def scenario():
        clock = VirtualClock(playback=20.0)
        ticks = PushTicks(clock, 0.025, TICK_SPREAD_FRACTION)
        stamps = []
        for _ in range(20):
            await ticks.tick(lambda: stamps.append(clock()))
            assert clock() == ticks.next_s  # held there while the tick reads
            ticks.advance()
        ticks.release()
        return np.array(stamps), clock

    stamps, _clock = asyncio.run(scenario())
    intervals = np.diff(stamps)
    assert np.all((intervals > 0.025 * (1 - TICK_SPREAD_FRACTION) - 1e-9)
                  & (intervals < 0.025 * (1 + TICK_SPREAD_FRACTION) + 1e-9))


def test_ticks_need_a_positive_interval_and_a_spread_below_one():
    with pytest.raises(ValidationError):
        PushTicks(_Clock(), 0.0)
    with pytest.raises(ValidationError):
        PushTicks(_Clock(), 0.025, 1.0)
