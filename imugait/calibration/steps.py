"""The steps of the guided intrinsic calibration, with instructions a layperson can follow.

Axis names refer to the arrows printed on the sensor (most sensors show an x/y/z diagram on the
label; z comes out of the label side). *Up* means pointing at the ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np


class StepKind(Enum):
    HOLD = "hold"
    """Put the sensor in a position and leave it still."""
    ROTATE = "rotate"
    """Turn the sensor slowly through all directions (magnetometer)."""


@dataclass(frozen=True)
class ProcedureStep:
    """One step: what to do and, for a hold, which sensor direction must point up."""

    key: str
    title: str
    instruction: str
    kind: StepKind
    up_axis: tuple[float, float, float] | None = None
    """Unit vector in the sensor frame that must point up (holds only)."""

    @property
    def up_axis_array(self) -> np.ndarray:
        if self.up_axis is None:
            raise ValueError(f"step {self.key!r} is not a hold")
        return np.array(self.up_axis, dtype=float)


_LET_GO = (
    "Take your hands off it and do not touch the table until the position is accepted "
    "(about {hold_s:g} seconds)."
)

_FACE_TEXT = {
    "z_up": ("Z up", "Lay the sensor flat on a table, label side up (the Z arrow points at the ceiling)."),
    "z_down": ("Z down", "Turn it over: lay it flat with the label side down on the table."),
    "x_up": ("X up", "Stand the sensor on its end so that the X arrow points straight up at the ceiling. "
             "Lean it against a book or a box so that it stays upright on its own."),
    "x_down": ("X down", "Turn it upside down: stand it on its other end, X arrow pointing straight down "
               "at the floor, leaning against the book."),
    "y_up": ("Y up", "Stand the sensor on its long side so that the Y arrow points straight up at the "
             "ceiling, leaning against the book."),
    "y_down": ("Y down", "Turn it upside down on its other long side: Y arrow pointing straight down "
               "at the floor."),
}
_FACE_AXES = {
    "z_up": (0, 0, 1), "z_down": (0, 0, -1), "x_up": (1, 0, 0),
    "x_down": (-1, 0, 0), "y_up": (0, 1, 0), "y_down": (0, -1, 0),
}
_EDGE_AXES = {
    "xy_up": (1, 1, 0), "yx_up": (-1, 1, 0), "xz_up": (1, 0, 1),
    "zx_up": (-1, 0, 1), "yz_up": (0, 1, 1), "zy_up": (0, -1, 1),
}


def _edge_text(axis: tuple[int, int, int]) -> tuple[str, str]:
    names = [f"{'+' if v > 0 else '-'}{n}" for v, n in zip(axis, "XYZ", strict=True) if v]
    title = f"{names[0]} {names[1]} edge up"
    arrows = " and ".join(
        f"the {n[1]} arrow" if n[0] == "+" else f"the tail of the {n[1]} arrow" for n in names
    )
    return title, (
        f"Rest the sensor on an edge, tilted half-way (45°) so that {arrows} both point up at the "
        f"ceiling at the same angle. Prop it with a book so it stays there on its own."
    )


def hold_steps(hold_s: float, with_edges: bool = False) -> tuple[ProcedureStep, ...]:
    """The still positions: six faces up (and six edges up with ``with_edges``)."""
    let_go = " " + _LET_GO.format(hold_s=hold_s)
    steps = [
        ProcedureStep(key, title, text + let_go, StepKind.HOLD, tuple(float(v) for v in _FACE_AXES[key]))
        for key, (title, text) in _FACE_TEXT.items()
    ]
    if with_edges:
        for key, axis in _EDGE_AXES.items():
            title, text = _edge_text(axis)
            unit = np.array(axis, dtype=float) / np.sqrt(2.0)
            steps.append(ProcedureStep(key, title, text + let_go, StepKind.HOLD, tuple(float(v) for v in unit)))
    return tuple(steps)


def rotation_step(rotation_s: float) -> ProcedureStep:
    return ProcedureStep(
        "rotate",
        "Rotate in all directions",
        f"Pick the sensor up and turn it slowly in every direction for {rotation_s:g} seconds, as if "
        f"looking at all sides of a small box: roll it, tip it forwards and backwards, turn it upside "
        f"down and round. Stay where you are, and keep it at least 50 cm away from metal, magnets, "
        f"phones and laptops.",
        StepKind.ROTATE,
    )
