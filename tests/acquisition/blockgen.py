"""Decoded-message streams for the acquisition tests: SampleBlocks as a decoder would emit them.

Sample values come from the simulator (or are synthetic); device clocks and links from
``linksim``; some samples are lost (never sent), a few blocks are sent twice (duplicates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.conventions import Placement
from imugait.protocol.messages import DeviceAnnouncement, DeviceStatus, SampleBlock

from .linksim import LinkModel, simulate_device

RATE_HZ = 100.0
LIMBS = (Placement.LEFT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_THIGH, Placement.RIGHT_SHANK)


@dataclass(frozen=True, eq=False)
class SensorTruth:
    seq: np.ndarray
    """(N,) every sample the device produced."""
    true_s: np.ndarray
    received: np.ndarray
    """(N,) bool: reached the host."""
    acc_mps2: np.ndarray
    gyr_radps: np.ndarray
    base_latency_s: float


def announcement(p: Placement) -> DeviceAnnouncement:
    return DeviceAnnouncement(device_id=f"DEV-{p.value}", model="test-imu", firmware="1.2.3",
                              sample_rate_hz=RATE_HZ, acc_range_mps2=156.9, gyr_range_radps=34.9)


def message_stream(duration_s: float, seed: int, loss_probability: float = 0.01,
                   values: dict[Placement, tuple[np.ndarray, np.ndarray]] | None = None,
                   timestamps: bool = True, counter: bool = True):
    """All messages of 4 sensors in arrival order, and the truth per sensor.

    Returns
    -------
    messages : list of (placement, arrival_s, message)
    truth : dict placement -> SensorTruth
    """
    rng = np.random.default_rng(seed)
    messages, truth = [], {}
    for i, p in enumerate(LIMBS):
        link = LinkModel(connection_interval_s=None, jitter_mean_s=0.015,
                         samples_per_block=int(rng.integers(3, 9)))
        run = simulate_device(duration_s, RATE_HZ, float(rng.uniform(-50, 50)),
                              int(rng.integers(0, 2**32)), 0.5 + 0.1 * i, link, rng)
        n = run.t_device_us.size
        if values is None:
            acc = np.array([0.0, 0.0, 9.81]) + rng.normal(0, 0.05, (n, 3))
            gyr = rng.normal(0, 0.1, (n, 3))
        else:
            acc, gyr = values[p][0][:n], values[p][1][:n]
        seq = np.arange(n, dtype=np.int64) + int(rng.integers(0, 1000))
        received = rng.random(n) >= loss_probability
        received[0] = received[-1] = True
        messages.append((p, float(run.arrival_s[0]) - 0.05, announcement(p)))
        for b, i0, i1 in run.blocks():
            sel = np.arange(i0, i1)[received[i0:i1]]
            if sel.size == 0:
                continue
            block = SampleBlock(
                seq=seq[sel] if counter else None,
                t_device_us=run.t_device_us[sel] if timestamps else None,
                acc_mps2=acc[sel], gyr_radps=gyr[sel],
            )
            messages.append((p, float(run.arrival_s[b]), block))
            if counter and rng.random() < 0.005:  # a retransmitted duplicate
                messages.append((p, float(run.arrival_s[b]) + 1e-4, block))
            if b % 200 == 0:
                messages.append((p, float(run.arrival_s[b]), DeviceStatus(battery_percent=100.0 - b / 100)))
        truth[p] = SensorTruth(seq, run.true_s, received, acc, gyr, link.base_latency_s)
    messages.sort(key=lambda m: m[1])
    return messages, truth
