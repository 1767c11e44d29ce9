"""Re-seeding the online VQF after a sensor's gap (used live: imugait.live.reseed)."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.conventions import GRAVITY_MPS2
from imugait.fusion.select import make_filter
from imugait.fusion.settings import FilterKind, FusionSettings
from imugait.live.reseed import heading_rad, reseed_orientation, stride_period_s
from imugait.quaternion import (
    heading_inclination_split,
    quat_about_z,
    quat_conj,
    quat_multiply,
    quat_rotate,
)

DT_S = 0.005


def _tilt(angle_rad: float) -> np.ndarray:
    return np.array([np.cos(angle_rad / 2), np.sin(angle_rad / 2), 0.0, 0.0])


def test_the_online_filter_continues_from_the_reseeded_orientation_without_snapping_to_the_accelerometer():
    f = make_filter(FilterKind.VQF_ONLINE, FusionSettings(sample_period_s=DT_S))
    q_true = quat_multiply(quat_about_z(0.7), _tilt(0.3))
    # At rest in q_true, but the first sample after the re-seed is disturbed (a leg's acceleration).
    acc = np.tile(quat_rotate(quat_conj(q_true), [0.0, 0.0, GRAVITY_MPS2]), (200, 1))
    acc[0] += [6.0, 0.0, 0.0]
    f.estimate(np.zeros((400, 3)), np.tile([0.0, 0.0, GRAVITY_MPS2], (400, 1)))  # some history first
    f.reseed(q_true)
    q = f.estimate(np.zeros((200, 3)), acc).q_world_sensor
    heading, inclination = heading_inclination_split(quat_multiply(q, quat_conj(q_true)))
    assert np.degrees(heading).max() < 0.01  # the heading is kept (6D: nothing corrects it)
    assert np.degrees(inclination).max() < 0.5  # the disturbed sample is low-passed, not snapped to


def test_a_filter_that_cannot_be_reseeded_says_so():
    f = make_filter(FilterKind.MADGWICK, FusionSettings(sample_period_s=DT_S))
    with pytest.raises(NotImplementedError, match="cannot be re-seeded"):
        f.reseed(np.array([1.0, 0.0, 0.0, 0.0]))


def test_gravity_over_whole_swings_and_the_heading_carried_over():
    # A segment swinging ±30° about the world y axis at 1 Hz with a periodic linear acceleration
    # (its velocity comes back every period): over whole periods the orientation at the start is
    # found to well under a degree, though single samples are far from gravity.
    t = np.arange(200) * DT_S
    pitch = np.deg2rad(30.0) * np.sin(2 * np.pi * t)
    heading0 = 0.4
    q = quat_multiply(np.broadcast_to(quat_about_z(heading0), (t.size, 4)),
                      np.column_stack([np.cos(pitch / 2), np.zeros_like(t), np.sin(pitch / 2), np.zeros_like(t)]))
    rate = np.deg2rad(30.0) * 2 * np.pi * np.cos(2 * np.pi * t)
    gyr = np.column_stack([np.zeros_like(t), rate, np.zeros_like(t)])  # body rate about the body y axis
    linear = np.column_stack([3.0 * np.sin(2 * np.pi * t), np.zeros_like(t), 2.0 * np.cos(2 * np.pi * t)])
    acc = quat_rotate(quat_conj(q), linear + [0.0, 0.0, GRAVITY_MPS2])
    q_before_first = quat_multiply(q[0], quat_conj(np.array([np.cos(rate[0] * DT_S / 2), 0, np.sin(rate[0] * DT_S / 2), 0])))
    mean_heading = float(np.angle(np.mean(np.exp(1j * heading_rad(q)))))
    q0 = reseed_orientation(gyr, acc, np.full(t.size, DT_S), mean_heading)
    heading, inclination = heading_inclination_split(quat_multiply(q0, quat_conj(q_before_first)))
    assert np.degrees(inclination) < 0.5 and np.degrees(heading) < 0.5
    assert stride_period_s(np.arange(800) * DT_S, np.tile(gyr, (4, 1))) == pytest.approx(1.0, abs=DT_S)
    assert stride_period_s(t, np.zeros_like(gyr)) is None
