import numpy as np
import pytest

from imugait.calibration.still import (
    StillConfig,
    StillTracker,
    detect_still,
    detect_still_stream,
    still_mask,
)
from imugait.errors import ValidationError


def test_one_period_per_hold_and_none_while_moving(six):
    stream, truth = six
    periods = detect_still_stream(stream)
    assert len(periods) == len(truth.holds)
    for p, hold in zip(periods, truth.holds, strict=True):
        # Inside the true hold (the window reaches no further than half its length into the motion) ...
        assert p.t_start_s >= hold.t_start_s - 0.05
        # ... and covering most of it (6 s hold; the turns ease in and out slowly).
        assert p.duration_s > 0.8 * (hold.t_end_s - hold.t_start_s)
    r0, _ = truth.rotation_interval_s
    assert periods[-1].t_end_s < r0 + 2.0  # the rotation eases in over 2 s; never still after that


def test_min_duration_drops_short_runs(six):
    stream, _ = six
    periods = detect_still_stream(stream, StillConfig(min_duration_s=7.0))
    assert periods == []


def test_tracker_agrees_with_offline_mask(six):
    stream, _ = six
    config = StillConfig()
    mask = still_mask(stream.t_s, stream.acc_mps2, stream.gyr_radps, config)
    tracker = StillTracker(stream.sample_rate_hz, config)
    causal = np.array([tracker.update(a, g) for a, g in zip(stream.acc_mps2, stream.gyr_radps, strict=True)])
    w = tracker.window_samples
    shift = (w - 1) - w // 2
    assert np.array_equal(causal[shift:], mask[: mask.size - shift])


def test_tracker_reset_forgets():
    tracker = StillTracker(100.0)
    for _ in range(100):
        tracker.update([0, 0, 9.80665], [0, 0, 0])
    assert tracker.update([0, 0, 9.80665], [0, 0, 0])
    tracker.reset()
    assert not tracker.update([0, 0, 9.80665], [0, 0, 0])


def test_bad_shapes_are_refused():
    with pytest.raises(ValidationError, match="acc_mps2"):
        detect_still(np.arange(10.0), np.zeros((9, 3)), np.zeros((10, 3)))
