"""Plausibility checks that need whole strides: are left and right the right way round?

In normal walking the femur adducts in stance (the knee comes under the body) and abducts in
swing, so in the frontal plane the thigh's long axis leans towards the stance leg's own side in
stance and away from it in swing. A thigh labelled with the wrong side shows the opposite pattern.
The check compares the thigh's mean frontal lean in stance and in swing, expressed so that a
positive number is the expected pattern on either side.

The signal is small: the thigh's lean against the vertical is the hip's adduction minus most of
the pelvis's obliquity (the pelvis drops on the swing side, which is much of the stance hip's
adduction), about +3.5° on the simulator driven by normative curves. Real recordings scatter
more: all six HuGaDB legs (four subjects, labels not verifiable) read −0.8 to −3.1°. One leg's
contrast is therefore only a warning; the analysis refuses only when both legs look swapped.
"""

from __future__ import annotations

import numpy as np

from imugait.conventions import Side
from imugait.gait.cycles import Stride
from imugait.model import row_norms
from imugait.quaternion import quat_rotate_each
from imugait.timebase import spans_mask

SWAP_MARGIN_DEG = 1.0
"""A leg whose stance-minus-swing lean is below minus this looks like the other side's."""
MIN_LEGS_TO_REFUSE_SWAP = 2
"""Left and right are refused as swapped only when this many legs (all analysed) agree."""


def frontal_lean_contrast_deg(t_s: np.ndarray, q_world_thigh: np.ndarray, strides: list[Stride], side: Side) -> float:
    """Stance minus swing mean frontal lean of the thigh (deg), signed so that + is expected;
    ``q_world_thigh`` (M, 4) the anatomical thigh frame.

    NaN when there are no used strides.
    """
    used = [(s.t_initial_contact_s, s.t_toe_off_s, s.t_next_initial_contact_s) for s in strides if s.used]
    bounds = np.searchsorted(t_s, np.reshape(used, (-1, 3)))  # (K, 3) grid indices
    stance = spans_mask(t_s.size, bounds[:, 0], bounds[:, 1])
    swing = spans_mask(t_s.size, bounds[:, 1], bounds[:, 2])
    if not stance.any() or not swing.any():
        return float("nan")
    up_axis, right = quat_rotate_each(q_world_thigh, ([0.0, 1.0, 0.0], [0.0, 0.0, 1.0]))
    right[:, 2] = 0.0
    right /= row_norms(right)[:, None]
    # The rows' dot products column by column (the same sums as np.sum over the rows, faster).
    dot = up_axis[:, 0] * right[:, 0] + up_axis[:, 1] * right[:, 1] + up_axis[:, 2] * right[:, 2]
    lean_deg = np.rad2deg(np.arcsin(np.clip(dot, -1.0, 1.0)))
    return float(side.mirror * (lean_deg[stance].mean() - lean_deg[swing].mean()))
