"""Synthetic device clocks and links for the acquisition tests (timestamps only, no IMU values).

True time = host clock. A device samples every ``1/rate`` s of *its own* clock, which runs
``drift_ppm`` fast; it sends a block every ``samples_per_block`` samples; a BLE-like link holds
each block until the next connection event, then the host sees it after a base latency plus
exponential jitter, with occasional spikes (a spike delays everything behind it: BLE is ordered).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinkModel:
    base_latency_s: float = 0.008
    jitter_mean_s: float = 0.010
    spike_probability: float = 0.01
    spike_mean_s: float = 0.3
    connection_interval_s: float | None = 0.0375
    """None: no connection events (serial-like link)."""
    samples_per_block: int = 4


@dataclass(frozen=True, eq=False)
class DeviceRun:
    t_device_us: np.ndarray
    """(N,) int64 device timestamps of every sample."""
    true_s: np.ndarray
    """(N,) true (host) time each sample was taken."""
    block_starts: np.ndarray
    """(B,) index of the first sample of each block."""
    arrival_s: np.ndarray
    """(B,) host arrival time of each block."""

    def blocks(self):
        ends = np.append(self.block_starts[1:], self.t_device_us.size)
        for b, (i0, i1) in enumerate(zip(self.block_starts, ends, strict=True)):
            yield b, int(i0), int(i1)


def simulate_device(
    duration_s: float,
    rate_hz: float,
    drift_ppm: float,
    device_offset_us: int,
    true_start_s: float,
    link: LinkModel,
    rng: np.random.Generator,
) -> DeviceRun:
    period_us = round(1e6 / rate_hz)
    n = int(duration_s * rate_hz)
    n -= n % link.samples_per_block
    k = np.arange(n, dtype=np.int64)
    t_device_us = device_offset_us + k * period_us
    true_s = true_start_s + k * period_us * 1e-6 / (1.0 + drift_ppm * 1e-6)
    block_starts = np.arange(0, n, link.samples_per_block)
    ready_s = true_s[block_starts + link.samples_per_block - 1]
    if link.connection_interval_s:
        phase_s = rng.uniform(0, link.connection_interval_s)
        sent_s = phase_s + np.ceil((ready_s - phase_s) / link.connection_interval_s) * link.connection_interval_s
    else:
        sent_s = ready_s
    latency_s = link.base_latency_s + rng.exponential(link.jitter_mean_s, block_starts.size)
    spikes = rng.random(block_starts.size) < link.spike_probability
    latency_s[spikes] += rng.exponential(link.spike_mean_s, int(spikes.sum()))
    arrival_s = np.maximum.accumulate(sent_s + latency_s)
    return DeviceRun(t_device_us, true_s, block_starts, arrival_s)
