"""How far the thigh's swing direction leans away from the line of progression in normal gait.

:mod:`imugait.kinematics.progression` takes the walking direction of a bout as the principal
horizontal direction of the thigh's long axis. That direction is not exactly the line of
progression: the pelvis drops and turns with every step and the hip ab/adducts in time with
its flexion, so the knee's path about the hip is a slightly slanted line. Worked out on the
packaged normative curves (pelvis tilt, obliquity and rotation, hip flexion and adduction;
``imugait/data/normative_gait_kinematics.json`` names their source), the principal direction
leans about 2.5° towards the leg's lateral side. Because the lean depends strongly on how far the
thigh swings (a smaller swing leans more: the same frontal-plane motion over a shorter line),
the model's hip flexion excursion is scaled until its swing matches the one measured, and the
lean of that scaled model is the correction.

What it cannot know: a person whose pelvic obliquity or rotation differs from the normative
pattern keeps part of the lean (on the normative curves, ±50 % obliquity moves it by about ±2°,
±50 % pelvic rotation by about ±1°; docs/analysis.md).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.conventions import (
    Joint,
    Side,
    pelvis_rotation_from_angles,
    relative_rotation_from_angles,
)
from imugait.data import normative_gait_table

SWING_SCALES = np.linspace(0.3, 2.0, 35)
"""Hip-flexion excursion scales the lean is tabulated over (1 = the normative excursion)."""
SWING_PERCENTILES = (5.0, 95.0)
"""The swing is measured as this percentile range of the long axis along the walking direction."""


def principal_horizontal_direction(vectors: np.ndarray) -> np.ndarray:
    """Unit 2-vector (sign arbitrary) along which the horizontal parts of ``vectors`` (N, 2)
    spread most; for K sets at once, ``vectors`` (K, N, 2) → (K, 2)."""
    along = np.swapaxes(vectors, -1, -2)  # (K, 2, N): each component's samples along the last axis
    # (vectors - their mean) in the layout of before, so the product below is the same call.
    centred = np.ascontiguousarray(np.swapaxes(along - mean_of_rows(vectors)[..., None], -1, -2))
    _, vecs = np.linalg.eigh(np.swapaxes(centred, -1, -2) @ centred)
    return vecs[..., -1]


def mean_of_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors.mean(axis=-2)`` of (…, N, C) rows, to the bit: when a row's columns lie closer
    together in memory than the rows (rows of a C-ordered array and views of them) and there are
    two or more, numpy adds the rows one after another (a running sum per column), which a
    cumulative sum along each column does too — without numpy's per-row loop of C elements
    (several times slower on the walking direction's thousands of rows of two columns, at every
    refit). Otherwise (one column, rows closer together) numpy sums pairwise: its own mean then."""
    strides = vectors.strides
    if vectors.shape[-1] < 2 or vectors.shape[-2] == 0 or not 0 < strides[-1] < strides[-2]:
        return vectors.mean(axis=-2)
    return np.cumsum(np.swapaxes(vectors, -1, -2), axis=-1)[..., -1] / vectors.shape[-2]


def swing_extent(along: np.ndarray) -> float | np.ndarray:
    """Extent of the long axis's horizontal component along the walking direction (unitless: a
    difference of sines of the thigh's sagittal inclination); ``along`` (N,) → a float, or
    (K, N) → (K,) for K sets at once."""
    low, high = _percentiles(np.asarray(along, dtype=float))
    return float(high - low) if np.ndim(along) == 1 else high - low


_QUANTILES = tuple(float(q) for q in np.true_divide(SWING_PERCENTILES, 100))


def _percentiles(along: np.ndarray) -> tuple:
    """``np.percentile(along, SWING_PERCENTILES, axis=-1)`` (its default, linear method) as a
    pair, to the bit: the same order statistics (one partition) and the same interpolation
    arithmetic — without its per-call work, most of its cost on the live walking direction's
    refits (every 0.1 s of a run, over up to 10 s of it)."""
    n = along.shape[-1]
    if n < 2:
        return tuple(np.percentile(along, SWING_PERCENTILES, axis=-1))
    # numpy: virtual index (n - 1) q (below n - 1 here), its floor i and fraction g
    virtual = [(n - 1) * q for q in _QUANTILES]
    before = [float(np.floor(v)) for v in virtual]
    index = [int(i) for i in before]
    ordered = np.partition(along, (*index, *(i + 1 for i in index), n - 1), axis=-1)
    if np.count_nonzero(np.isnan(ordered[..., -1])):  # (NaN sorts last: numpy's result is NaN then)
        return tuple(np.percentile(along, SWING_PERCENTILES, axis=-1))
    out = []
    for i, g in zip(index, [v - b for v, b in zip(virtual, before, strict=True)], strict=True):
        a, b = ordered[..., i], ordered[..., i + 1]
        d = b - a
        out.append(b - d * (1 - g) if g >= 0.5 else a + d * g)  # (numpy's _lerp)
    return tuple(out)


@cache
def _lean_table() -> tuple[np.ndarray, np.ndarray]:
    """(swing extent, lateral lean in rad) of the normative right thigh at each of SWING_SCALES.

    All scales at once (the cycle's rows repeated per scale): the same values as one scale at a
    time, for a third of the CPU (a fixed cost of every analysis, ≈ 25 ms that way)."""
    table = normative_gait_table().iloc[:-1]  # 100 % repeats 0 %
    deg = lambda name: np.deg2rad(table[f"{name}_mean_deg"].to_numpy(dtype=float))  # noqa: E731
    r_prog_pelvis = pelvis_rotation_from_angles(
        np.column_stack([deg("pelvis_tilt"), deg("pelvis_obliquity"), deg("pelvis_rotation")])
    )
    flexion = deg("hip_flexion")
    k, n = SWING_SCALES.size, flexion.size
    scaled = flexion.mean() + SWING_SCALES[:, None] * (flexion - flexion.mean())  # (k, n)
    hip = np.column_stack([scaled.ravel(), np.tile(deg("hip_adduction"), k), np.tile(deg("hip_rotation"), k)])
    pelvis = Rotation.concatenate([r_prog_pelvis] * k)
    long_axis = (pelvis * relative_rotation_from_angles(hip, Joint.HIP, Side.RIGHT)).apply([0.0, 1.0, 0.0])
    # Progression frame: X forward, Z right — the horizontal plane is (X, Z).
    horizontal = long_axis[:, [0, 2]].reshape(k, n, 2)
    direction = principal_horizontal_direction(horizontal)
    direction = np.where(direction[:, :1] >= 0, direction, -direction)
    extents = swing_extent(np.stack([h @ d for h, d in zip(horizontal, direction, strict=True)]))
    leans = np.arctan2(direction[:, 1], direction[:, 0])  # towards +Z: lateral for the right leg
    order = np.argsort(extents)
    return extents[order], leans[order]


def lateral_swing_lean_rad(extent: float | np.ndarray) -> float | np.ndarray:
    """Expected lean (rad, + lateral) of the thigh's principal swing direction from the line of
    progression for a measured swing ``extent`` (:func:`swing_extent`; a float or an array), from
    the normative model; clamped to the tabulated range of swings."""
    extents, leans = _lean_table()
    lean = np.interp(extent, extents, leans)
    return float(lean) if np.ndim(extent) == 0 else lean


def heading_correction_rad(side: Side, extent: float | np.ndarray) -> float | np.ndarray:
    """What to add to the swing direction's heading (about world z, anticlockwise +) to get the
    line of progression: the lateral lean is clockwise seen from above for the right leg."""
    return side.mirror * lateral_swing_lean_rad(extent)
