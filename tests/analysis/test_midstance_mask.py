"""The mid-stance rows of a walk without standing (:func:`imugait.analysis.reference.midstance_mask`)
over its calibration walk do not depend on how much of the walk follows: a live leg calibrates on
the first seconds of walking it has buffered, ``analyze`` on the whole recording, and the knee's
reference inclination (with a causal filter) is taken over the calibration walk's mid-stance rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from imugait.analysis.reference import midstance_mask
from imugait.calibration.periods import motion_mask
from imugait.calibration.segment import SegmentCalibrationConfig, fit_window
from imugait.conventions import Placement
from imugait.io import read_hugadb
from imugait.timebase import common_grid, grid_rate_hz, interp_vectors

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
HUGADB_01 = DATASETS / "hugadb_walking" / "HuGaDB_v1_walking_01_00.txt"

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("thigh, shank", [(Placement.LEFT_THIGH, Placement.LEFT_SHANK),
                                          (Placement.RIGHT_THIGH, Placement.RIGHT_SHANK)])
def test_the_calibration_walks_midstance_rows_are_those_of_the_whole_recording(thigh, shank):
    """HuGaDB walking_01_00 (102 s of walking, no standing), each leg: the mid-stance rows of the
    first 10 s of walking (the calibration walk, ``max_motion_s`` as live) are the same whether the
    mask is found over the first 15.3 s (what a live leg has buffered when it calibrates) or over
    the whole recording (``analyze``). Before the mask's hinge axis was fitted to the calibration
    walk it was fitted to all the motion given (the whole recording's hinge axis 14° / 1.7° from the
    buffer's): 11 / 5 of the 587 rows differed (measured 2026-12-06), and the knee's reference
    inclination with them — live's knee flexion 0.9–1.1° from ``analyze``'s (docs/live-history.md, "The
    calibration walk's mid-stance rows")."""
    if not HUGADB_01.exists():
        pytest.skip(f"real dataset not available: {HUGADB_01} is absent (see ../shared/datasets/README.md)")
    session = read_hugadb(HUGADB_01, corrupted_gyro="drop_leg")
    rate_hz = grid_rate_hz(session.streams)
    t = common_grid(session.streams, rate_hz)
    gyr_thigh, gyr_shank = (interp_vectors(session[p].t_s, session[p].gyr_radps, t) for p in (thigh, shank))
    moving = motion_mask(t, gyr_shank, rate_hz=rate_hz)
    config = SegmentCalibrationConfig(max_motion_s=10.0)
    k_walk = int(np.flatnonzero(fit_window(moving, rate_hz, config))[-1]) + 1
    n_buffered = int(np.searchsorted(t, t[0] + 15.3))
    assert k_walk < n_buffered < t.size // 4

    whole = midstance_mask(t, gyr_thigh, gyr_shank, moving, config, rate_hz=rate_hz)[:k_walk]
    buffered = midstance_mask(t[:n_buffered], gyr_thigh[:n_buffered], gyr_shank[:n_buffered], moving[:n_buffered],
                              config, rate_hz=rate_hz)[:k_walk]
    assert whole.sum() >= 50
    np.testing.assert_array_equal(buffered, whole)
