"""The per-block fast paths of acquisition against straightforward references, bit for bit.

Acquisition's per-block work runs in plain Python where numpy's cost per call on a 4-sample
block would dominate, prunes the clock fit's bisection, and skips masks when nothing was late or
dropped (``benchmarks/acquisition_cpu.py``). Each reference here is the plain vectorised rule
those paths must reproduce exactly, on random inputs that include what the fast paths must not
get wrong: rejected and NaN times, wrap-around, duplicates, late samples, clock steps, ties.
"""

from __future__ import annotations

import numpy as np
import pytest

from imugait.acquisition.clock import MonotonicLiveTimes, OnlineClockMapper
from imugait.acquisition.envelope import envelope_fit
from imugait.acquisition.live_buffer import LiveBuffer
from imugait.acquisition.sequence import SequenceTracker
from imugait.protocol.messages import SampleBlock


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# ----------------------------------------------------------------------------- envelope fit
def _reference_envelope(x, y, lo, hi):
    """Every bisection step over every point."""
    x_mean = float(np.mean(x))
    d = x - x_mean
    if hi > lo and np.ptp(x) > 0:
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            k = int(np.argmin(y - mid * d))
            if d[k] < 0:
                lo = mid
            else:
                hi = mid
    slope = 0.5 * (lo + hi)
    return slope, float(np.min(y - slope * d)) + slope * (x_mean - x_mean)  # as the fit references x_mean


@pytest.mark.parametrize("seed", range(40))
def test_the_pruned_envelope_fit_is_the_plain_bisection(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.choice([1, 2, 3, 5, 40, 300, 3000]))
    x = np.sort(rng.uniform(0, 60, n)) if seed % 5 else np.arange(n) * 0.02  # evenly spaced: exact ties
    latency = rng.exponential(rng.choice([1e-7, 3e-4, 0.02]), n)
    latency[rng.random(n) < rng.choice([0.0, 0.3, 1.0])] = 0.0  # points exactly on the line, many collinear
    y = float(rng.choice([0.0, 1e5, 3e7])) + (1 + rng.uniform(-50e-6, 50e-6)) * x + latency
    if seed % 7 == 3 and n > 2:
        y[n // 2] = np.nan  # nothing is pruned then; both give what argmin gives
    lo, hi = (1 - 1e-3, 1 + 1e-3) if seed % 4 else (0.9995, 0.9995)
    fit = envelope_fit(x, y, lo, hi)
    slope, offset = _reference_envelope(x, y, lo, hi)
    assert fit.slope.hex() == slope.hex()
    assert np.float64(fit.offset).tobytes() == np.float64(offset).tobytes()


# ----------------------------------------------------------------------------- live buffer
class _ReferenceBuffer(LiveBuffer):
    """The vectorised append: masks and index arithmetic."""

    def append(self, t_s, acc_mps2, gyr_radps, mag_uT=None, q_world_sensor=None):
        t = np.asarray(t_s, dtype=float)
        last = self._t[(self._head - 1) % self.capacity] if self._size else -np.inf
        ok = t > np.maximum.accumulate(np.concatenate([[last], t]))[:-1]
        self.n_rejected += int(t.size - ok.sum())
        idx = np.flatnonzero(ok)[-self.capacity:]
        if idx.size == 0:
            return
        if mag_uT is not None and self._mag is None:
            self._mag = np.full((self.capacity, 3), np.nan)
        if q_world_sensor is not None and self._q is None:
            self._q = np.full((self.capacity, 4), np.nan)
        pos = (self._head + np.arange(idx.size)) % self.capacity
        self._t[pos] = t[idx]
        self._acc[pos] = np.asarray(acc_mps2)[idx]
        self._gyr[pos] = np.asarray(gyr_radps)[idx]
        if self._mag is not None:
            self._mag[pos] = np.nan if mag_uT is None else np.asarray(mag_uT)[idx]
        if self._q is not None:
            self._q[pos] = np.nan if q_world_sensor is None else np.asarray(q_world_sensor)[idx]
        self._head = (self._head + idx.size) % self.capacity
        self._size = min(self._size + idx.size, self.capacity)


@pytest.mark.parametrize("seed", range(10))
def test_live_buffer_append_is_the_vectorised_append(seed):
    rng = np.random.default_rng(seed)
    fast, reference = LiveBuffer(0.5, 200.0), _ReferenceBuffer(0.5, 200.0)  # 189 samples: wraps often
    t = 0.0
    for k in range(400):
        n = int(rng.choice([0, 1, 4, 12, 300]))
        t_s = t + np.cumsum(rng.choice([0.005, 0.005, 0.0, -0.01], n))  # some repeat or step back
        if n and seed % 3 == 0 and k > 300 and rng.random() < 0.05:
            t_s[int(rng.integers(0, n))] = np.nan
        t = float(np.nanmax(t_s, initial=t)) if n else t
        acc, gyr = rng.normal(size=(n, 3)), rng.normal(size=(n, 3))
        mag = rng.normal(size=(n, 3)) if k > 100 and rng.random() < 0.7 else None
        q = rng.normal(size=(n, 4)) if k > 200 and rng.random() < 0.5 else None
        fast.append(t_s, acc, gyr, mag, q)
        reference.append(t_s, acc, gyr, mag, q)
        if np.isnan(fast._t).any():
            break  # a NaN stops everything after it in both; nothing more to compare
        a, b = fast.snapshot(), reference.snapshot()
        for name in ("t_s", "acc_mps2", "gyr_radps", "mag_uT", "q_world_sensor"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None and y is None) or _same(x, y), name
        assert fast.n_rejected == reference.n_rejected
    assert fast.n_rejected > 0 and fast._mag is not None and fast._q is not None


# ----------------------------------------------------------------------------- live times
def _reference_live_times(state, t_us, host, period_s, slew_fraction):
    last_us, last_host, n_slewed = state
    if last_us is None:
        out = host.copy()
    else:
        dx_s = (t_us - last_us) * 1e-6
        if dx_s[0] <= 0:
            dx_s = (t_us - t_us[0]) * 1e-6 + (period_s if period_s else 1e-6)
        floor_s = last_host + (1.0 - slew_fraction) * dx_s
        out = np.maximum(host, floor_s)
        n_slewed += int((floor_s > host).sum())
    return out, (int(t_us[-1]), float(out[-1]), n_slewed)


@pytest.mark.parametrize("seed", range(10))
def test_live_times_are_the_vectorised_rule(seed):
    rng = np.random.default_rng(seed)
    times, state = MonotonicLiveTimes(0.1), (None, -np.inf, 0)
    t_us, host_s = 10**12 + int(rng.integers(0, 2**32)), 1e5
    for _ in range(500):
        n = int(rng.choice([1, 4, 12]))
        if rng.random() < 0.02:
            t_us -= int(rng.integers(0, 10**7))  # the device clock goes back
        block_us = t_us + np.cumsum(rng.integers(4000, 6000, n)).astype(np.int64)
        host = host_s + (block_us - block_us[0]) * 1e-6 + rng.normal(0, 2e-3)  # the fit moves both ways
        period_s = float(rng.choice([0.0, 0.005]))
        out = times(block_us, host, period_s or None)
        expected, state = _reference_live_times(state, block_us, host, period_s or None, 0.1)
        assert _same(out, expected) and times.n_slewed == state[2]
        t_us, host_s = int(block_us[-1]), float(host[-1])


def test_device_times_map_the_same_one_block_at_a_time_as_all_at_once():
    rng = np.random.default_rng(3)
    mapper = OnlineClockMapper()
    t_us = 2**33 + np.cumsum(rng.integers(4900, 5100, 4000)).astype(np.int64)
    for k in range(3, t_us.size, 4):
        mapper.update(int(t_us[k]), 50.0 + t_us[k] * 1e-6 * (1 + 30e-6) + rng.exponential(3e-4))
    blockwise = np.concatenate([mapper.to_host_s(t_us[k:k + 4]) for k in range(0, t_us.size, 4)])
    assert _same(blockwise, mapper.to_host_s(t_us))  # 4 samples in plain floats, 4000 with numpy
    assert _same(mapper.to_host_s(int(t_us[0])), mapper.to_host_s(t_us[:1])[0])


# ----------------------------------------------------------------------------- sequence tracker
class _ReferenceTracker(SequenceTracker):
    """The rule with numpy masks, one sample at a time."""

    def process(self, block):
        n = block.n_samples
        from_time = block.seq is None and block.t_device_us is not None and bool(self.sample_rate_hz)
        if from_time:
            self.seq_source = "timestamps"
            t_us = np.asarray(block.t_device_us, dtype=np.int64).reshape(n)
            seq = np.zeros(n, dtype=np.int64)
        else:
            seq = self._effective_seq(block)
            t_us = self._effective_time(block, seq)
        keep, late = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        last_seq, last_t, lost = self._last_seq, self._last_t_us, 0
        for i, (s, t) in enumerate(zip(seq.tolist(), t_us.tolist(), strict=True)):
            if from_time:
                s = seq[i] = self._seq_from_time(t, last_seq, last_t)
            if last_seq is not None and (s <= last_seq or t <= last_t):
                if self.seq_source != "count" and self._fill(s):
                    keep[i] = late[i] = True
                continue
            if last_seq is not None and s > last_seq + 1:
                lost += s - last_seq - 1
                self._open_gaps.append([last_seq + 1, s - 1])
                del self._open_gaps[:-64]
            keep[i] = True
            last_seq, last_t = s, t
        self._last_seq, self._last_t_us = last_seq, last_t
        kept, n_late = int(keep.sum()), int(late.sum())
        self.n_received += n
        self.n_kept += kept
        self.n_lost += lost - n_late
        self.n_late += n_late
        self.n_dropped += n - kept
        from imugait.acquisition.sequence import TrackedSamples

        return TrackedSamples(keep, seq[keep], t_us[keep], lost, n - kept, late[keep])


@pytest.mark.parametrize("source", ["counter", "timestamps", "count"])
@pytest.mark.parametrize("seed", range(5))
def test_sequence_tracking_is_the_masked_rule(source, seed):
    rng = np.random.default_rng(seed)
    fast, reference = SequenceTracker(200.0), _ReferenceTracker(200.0)
    blocks, seq = [], 1000
    for _ in range(600):
        n = int(rng.choice([1, 4, 4, 4, 12]))
        seq += int(rng.choice([0, 0, 0, 1, 3]))  # losses
        s = seq + np.arange(n, dtype=np.int64)
        seq += n
        blocks.append(s)
        if rng.random() < 0.05 and len(blocks) > 3:  # an old block again: a duplicate
            blocks.append(blocks[-int(rng.integers(2, 4))])
        elif rng.random() < 0.05 and len(blocks) > 1:  # overtaken by the next one: late
            blocks[-2], blocks[-1] = blocks[-1], blocks[-2]
    for s in blocks:
        t = 7_000_000 + s * 5000 + rng.integers(-300, 300, s.size)
        block = SampleBlock(seq=None if source != "counter" else s, t_device_us=None if source == "count" else t,
                            acc_mps2=np.zeros((s.size, 3)), gyr_radps=np.zeros((s.size, 3)))
        a, b = fast.process(block), reference.process(block)
        for name in ("keep", "seq", "t_device_us", "late"):
            assert _same(getattr(a, name), getattr(b, name)), name
        assert (a.n_lost, a.n_dropped, a.n_late) == (b.n_lost, b.n_dropped, b.n_late)
    assert (fast.n_received, fast.n_kept, fast.n_lost, fast.n_dropped, fast.n_late) == (
        reference.n_received, reference.n_kept, reference.n_lost, reference.n_dropped, reference.n_late)
    assert fast.n_late > 0 or source == "count"
