"""The bias the knee's normative secondary motion gives the functional flexion axis, predicted.

:func:`~imugait.calibration.knee_axes.fit_flexion_axis` turns the flexion axis about the thigh's
long axis until the relative angular rate along the JCS floating axis is smallest. On a real knee
that rate is not zero at the anatomical axis: it is the knee's ab/adduction rate, which moves in
step with flexion. Turning the axis by ``φ`` about the femur adds about ``−φ·α̇·cos α`` (α knee
flexion) to the residual, so least squares trades part of the adduction rate for an axis turned by

    φ* ≈ Σ β̇ α̇ cos α / Σ (α̇ cos α)²        (β knee adduction)

— no kinematic criterion can tell the two apart. This module evaluates that same objective (the
same function) on noise-free relative rates of the packaged normative knee curves — flexion,
adduction scaled to the bone-measured range, rotation
(:func:`imugait.data.normative_knee.normative_knee_angles_deg`) — and returns the angle it finds:
the expected offset, which the calibration subtracts.

The adduction amplitude is a population value in degrees, not a ratio to flexion, so the person's
own flexion range enters: φ* scales as adduction range over flexion range, and a smaller swing
gives a larger lean. The model is therefore evaluated with the normative flexion curve scaled to
the flexion range measured in the calibration data. Cadence cancels (both rates scale with it).
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from imugait.calibration.knee_axes import fit_flexion_axis
from imugait.conventions import Joint, Side, quat, relative_rotation_from_angles
from imugait.data.normative_knee import normative_knee_angles_deg
from imugait.quaternion import compose_rotations

SAMPLES_PER_CYCLE = 1000
"""Samples of the modelled gait cycle (the prediction changes by < 0.001° beyond ~500)."""
FLEXION_SCALE_LIMITS = (0.5, 1.5)
"""Measured over normative flexion range is held within these: far outside them the walk is not
the normative pattern the model describes (and φ* would grow without bound as the swing shrinks)."""
FLEXION_RANGE_PERCENTILES = (1.0, 99.0)
"""The flexion range is the spread between these percentiles — the same estimator on the model
and on the data, robust to the odd outlier of a measured angle."""


def flexion_range_rad(flexion_rad: np.ndarray) -> float:
    """Range (rad) of a knee flexion series (N,), rad: the spread of :data:`FLEXION_RANGE_PERCENTILES`."""
    low, high = np.percentile(flexion_rad, FLEXION_RANGE_PERCENTILES)
    return float(high - low)


@cache
def _normative_cycle_rad() -> np.ndarray:
    """Normative knee angles (SAMPLES_PER_CYCLE, 3), rad, uniformly over one cycle."""
    x, angles_deg = normative_knee_angles_deg()
    spline = CubicSpline(x, np.deg2rad(angles_deg), axis=0, bc_type="periodic")
    return spline(np.arange(SAMPLES_PER_CYCLE) / SAMPLES_PER_CYCLE)


def normative_flexion_range_rad() -> float:
    """Flexion range of the normative curve (rad), by :func:`flexion_range_rad`."""
    return flexion_range_rad(_normative_cycle_rad()[:, 0])


@cache
def _expected_offset_rad(
    side: Side, flexion_scale: float, adduction_scale: float, rotation_scale: float, max_flexion_rad: float | None
) -> float:
    angles = _normative_cycle_rad() * np.array([flexion_scale, adduction_scale, rotation_scale])
    r_thigh_shank = relative_rotation_from_angles(angles, Joint.KNEE, side)
    # The thigh is the reference (its own rate drops out of the relative rate); the shank's body
    # rate over each step, at the step's midpoint. A 1-s stride: the objective does not depend on
    # the time scale.
    dt_s = 1.0 / SAMPLES_PER_CYCLE
    step = compose_rotations(r_thigh_shank.inv(), r_thigh_shank[np.r_[1:SAMPLES_PER_CYCLE, 0]]).as_rotvec()
    r_mid = compose_rotations(r_thigh_shank, Rotation.from_rotvec(0.5 * step))
    n = SAMPLES_PER_CYCLE
    axis, _ = fit_flexion_axis(
        np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        quat(r_mid),
        np.zeros((n, 3)),
        step / dt_s,
        flexion_axis_guess=np.array([0.0, 0.0, 1.0]),
        up_thigh=np.array([0.0, 1.0, 0.0]),
        rotation_axis_shank=np.array([0.0, 1.0, 0.0]),
        heading_offset_rad=np.zeros(n),
        max_samples=n,
        max_flexion_rad=max_flexion_rad,
    )
    return float(np.arctan2(axis[0], axis[2]))


def expected_flexion_axis_offset_rad(
    side: Side,
    flexion_scale: float = 1.0,
    adduction_scale: float = 1.0,
    rotation_scale: float = 1.0,
    max_flexion_rad: float | None = None,
) -> float:
    """The angle (rad) about the thigh's long axis by which the one-angle flexion-axis fit finds
    the axis on noise-free normative gait of ``side``: positive turns the thigh's Z towards its X
    (a positive rotation about Y). The anatomical axis is the fitted one turned by minus this.

    ``flexion_scale`` scales the normative flexion curve (e.g. measured over normative flexion
    range); ``adduction_scale`` and ``rotation_scale`` scale the secondary motion (1 = the
    bone-measured norm) — to ask what a person whose coupling differs from the norm would get.
    ``max_flexion_rad``: the fit's own option (:func:`fit_flexion_axis`), as the calibration ran it.
    """
    return _expected_offset_rad(
        side, round(float(flexion_scale), 3), float(adduction_scale), float(rotation_scale),
        None if max_flexion_rad is None else float(max_flexion_rad),
    )


def remove_expected_offset(
    flexion_axis_thigh: np.ndarray,
    up_thigh: np.ndarray,
    side: Side,
    flexion_range_measured_rad: float,
    max_flexion_rad: float | None = None,
) -> tuple[np.ndarray, float]:
    """The fitted flexion axis (3,), thigh sensor frame, turned about the thigh's long axis
    ``up_thigh`` by minus the offset the normative secondary motion gives a knee with this flexion
    range (rad, by :func:`flexion_range_rad`). Returns ``(axis, offset_rad)``."""
    scale = float(
        np.clip(flexion_range_measured_rad / normative_flexion_range_rad(), *FLEXION_SCALE_LIMITS)
    )
    offset_rad = expected_flexion_axis_offset_rad(side, flexion_scale=scale, max_flexion_rad=max_flexion_rad)
    up = up_thigh / np.linalg.norm(up_thigh)
    return Rotation.from_rotvec(-offset_rad * up).apply(flexion_axis_thigh), offset_rad
