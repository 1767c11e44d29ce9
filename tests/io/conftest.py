"""Fixtures for the io tests: a session with awkward but valid float64 values, real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from io_helpers import DATASETS, make_stream

from imugait.conventions import Placement
from imugait.model import Gap, ProtocolStep, Session, SessionMeta


@pytest.fixture
def session() -> Session:
    """Four streams: with/without magnetometer and orientation, with gaps, different lengths."""
    rng = np.random.default_rng(20240611)
    streams = [
        make_stream(rng, Placement.LEFT_THIGH, 500, mag=True, quat=True, gaps=(Gap(10, 3), Gap(200, 1))),
        make_stream(rng, Placement.RIGHT_THIGH, 431, mag=False, quat=False),
        make_stream(rng, Placement.LEFT_SHANK, 17, mag=True, quat=False, rate_hz=1000.0),
        make_stream(rng, Placement.PELVIS, 2, mag=False, quat=True),
    ]
    meta = SessionMeta(
        subject_id="S-007", recorded_at="2025-03-01T09:30:00+01:00",
        steps=(ProtocolStep("standing", 0.0, 5.25), ProtocolStep("walk", 5.25, 65.1 + 1 / 3)),
        source="test", notes="Größe ±1 — unicode survives",
    )
    return Session(streams, meta)


@pytest.fixture
def xsens_leg_dir() -> Path:
    folder = DATASETS / "skinematics_xsens_leg"
    if not (folder / "walking_xsens_upperLeg.txt").is_file():
        pytest.skip(f"real Xsens data not available: {folder.resolve()} is absent (see ../shared/datasets/README.md)")
    return folder
