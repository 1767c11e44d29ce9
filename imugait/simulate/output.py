"""Write a simulation to a folder: the session plus its ground truth.

Layout of ``DIR`` (documented in ``docs/formats.md``, section *Simulated sessions*)::

    session.parquet          the native session (what an analysis sees)
    truth/series.parquet     GroundTruth.series (orientations, angles; degrees)
    truth/events.csv         initial contacts and toe-offs per side
    truth/cycles.csv         one row per stride with its truth values
    truth/sensors.json       hidden sensor parameters (mounting, biases, gains, clock)
    truth/config.json        the simulation configuration (to reproduce it)
"""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from imugait.atomic import atomic_path, write_text_atomic
from imugait.io.native import write_session
from imugait.simulate import SimulationResult
from imugait.simulate.truth import GroundTruth


def write_simulation(result: SimulationResult, folder: str | Path) -> Path:
    """Write ``result`` into ``folder`` (created if needed); returns the session file's path."""
    folder = Path(folder)
    truth_dir = folder / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    session_path = write_session(result.session, folder / "session.parquet")
    write_frame(result.truth.series, truth_dir / "series.parquet")
    write_frame(result.truth.events, truth_dir / "events.csv")
    write_frame(result.truth.cycles, truth_dir / "cycles.csv")
    sensors = {p.value: _jsonable(dataclasses.asdict(s)) for p, s in result.sensors.items()}
    write_text_atomic(truth_dir / "sensors.json", json.dumps(sensors, indent=2))
    config = _jsonable(dataclasses.asdict(dataclasses.replace(result.config, mountings=None)))
    write_text_atomic(truth_dir / "config.json", json.dumps(config, indent=2))
    return session_path


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` to ``path`` (Parquet or CSV by the suffix), atomically."""
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)


def read_truth(folder: str | Path) -> GroundTruth:
    """Read the ground truth written by :func:`write_simulation`."""
    truth_dir = Path(folder) / "truth"
    return GroundTruth(
        series=pd.read_parquet(truth_dir / "series.parquet"),
        events=pd.read_csv(truth_dir / "events.csv"),
        cycles=pd.read_csv(truth_dir / "cycles.csv"),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(_jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "as_quat"):  # a scipy Rotation
        return value.as_quat(scalar_first=True).tolist()
    return value
