"""Orientation time series as CSV: ``t_s``, then ``<placement>_q_w``, ``_q_x``, ``_q_y``, ``_q_z``.

Each quaternion is the sensor frame in the z-up world frame of docs/conventions.md, scalar first.
The writer is separate from the computation (``imugait orient``) so that other formats (an
OpenSim ``.sto``) can be added beside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from imugait.atomic import atomic_path
from imugait.conventions import Placement
from imugait.errors import ValidationError


def orientation_frame(t_s: np.ndarray, q_world_sensor: dict[Placement, np.ndarray]) -> pd.DataFrame:
    """The table: ``t_s`` (M,) and, per placement, its (M, 4) scalar-first quaternions."""
    cols: dict[str, np.ndarray] = {"t_s": np.asarray(t_s, dtype=float)}
    for placement, q in q_world_sensor.items():
        q = np.asarray(q, dtype=float)
        if q.shape != (cols["t_s"].size, 4):
            raise ValidationError(f"{placement.value}: orientations must be ({cols['t_s'].size}, 4), got {q.shape}")
        for i, c in enumerate("wxyz"):
            cols[f"{placement.value}_q_{c}"] = q[:, i]
    return pd.DataFrame(cols)


def write_orientation_csv(t_s: np.ndarray, q_world_sensor: dict[Placement, np.ndarray], path: str | Path) -> Path:
    """Write :func:`orientation_frame` to ``path`` (atomic)."""
    path = Path(path)
    frame = orientation_frame(t_s, q_world_sensor)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.9g")
    return path
