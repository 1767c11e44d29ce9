"""Helpers of the calibration tests: simulated procedure streams with known truth."""

from __future__ import annotations

import functools

import numpy as np

from imugait.calibration import IntrinsicProcedure, ProcedureConfig
from imugait.simulate.static_poses import (
    EDGE_UP_AXES,
    FACE_UP_AXES,
    StaticPoseConfig,
    simulate_static_poses,
)


@functools.cache
def procedure_stream(seed: int = 0, edges: bool = False, up_axes=None, **changes):
    """(stream, truth) of a sensor put through the six positions (+ edges, or ``up_axes``) and the rotation."""
    up_axes = up_axes or FACE_UP_AXES + (EDGE_UP_AXES if edges else ())
    config = StaticPoseConfig(up_axes=up_axes, seed=seed, **changes)
    return simulate_static_poses(config)


def run_procedure(stream, config: ProcedureConfig | None = None):
    """Feed a whole stream through the guided procedure and return its result."""
    proc = IntrinsicProcedure(stream.device.device_id, stream.sample_rate_hz, config or ProcedureConfig())
    proc.feed(stream.t_s, stream.acc_mps2, stream.gyr_radps, stream.mag_uT)
    return proc.finish(created_at="2026-01-01T09:00:00+00:00")


def held_mask(stream, positions) -> np.ndarray:
    """(N,) bool: samples inside the accepted positions' still stretches."""
    held = np.zeros(stream.n_samples, dtype=bool)
    for p in positions:
        held |= (stream.t_s >= p.summary.t_start_s) & (stream.t_s <= p.summary.t_end_s)
    return held
