"""Orientation accuracy against a reference (optical motion capture or simulation truth).

The error metrics follow the BROAD benchmark (Laidig, Caruso, Cereatti, Seel 2021, Data 6:72):
the error quaternion in the world frame ``q_est ⊗ q_ref⁻¹`` is split into a rotation about the
vertical (heading error) and one about a horizontal axis (inclination error); RMSEs are taken
over the movement phase. Before comparing, two constant rotations that no filter can know are
estimated from the data (:func:`align_to_reference`): the world-frame offset between estimate and
reference (heading only by default — both frames are z-up, and a tilt fitted here would hide
inclination errors) and the sensor-to-marker rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from imugait.errors import ValidationError
from imugait.quaternion import (
    heading_inclination_split,
    quat_about_z,
    quat_conj,
    quat_multiply,
    total_angle,
)


class WorldAlignment(Enum):
    """Which world-frame offset :func:`align_to_reference` may estimate."""

    NONE = "none"
    """Frames already agree (e.g. a 9-axis estimate against an ENU reference)."""
    HEADING = "heading"
    """Rotation about the vertical only (6-axis heading is arbitrary)."""
    FULL = "full"
    """Any rotation (the reference's world frame is not z-up)."""


@dataclass(frozen=True)
class Alignment:
    """Constant rotations that map an estimate onto a reference: ``q_ref ≈ q_refworld_world ⊗ q_est ⊗ q_sensor_marker``.

    Attributes
    ----------
    q_refworld_world : (4,) scalar first — estimate's world frame in the reference's world frame.
    q_sensor_marker : (4,) scalar first — reference (marker) frame in the sensor frame.
    """

    q_refworld_world: np.ndarray
    q_sensor_marker: np.ndarray

    def apply(self, q_world_sensor: np.ndarray) -> np.ndarray:
        """``(N, 4)`` estimate expressed like the reference: ``q_refworld_marker``."""
        return quat_multiply(quat_multiply(self.q_refworld_world, q_world_sensor), self.q_sensor_marker)


@dataclass(frozen=True)
class OrientationRmse:
    """RMS errors in degrees over the compared samples (Laidig et al. 2021 definitions)."""

    total_deg: float
    heading_deg: float
    inclination_deg: float
    n_samples: int


def orientation_errors_rad(q_est: np.ndarray, q_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-sample total, heading and inclination errors of ``q_est`` against ``q_ref``.

    Parameters
    ----------
    q_est, q_ref : (N, 4) scalar-first orientations of the same frame in the same z-up world.

    Returns
    -------
    total_rad, heading_rad, inclination_rad : (N,) arrays in [0, π].
    """
    q_err = quat_multiply(_unit(q_est), quat_conj(_unit(q_ref)))  # error in the world frame
    heading, inclination = heading_inclination_split(q_err)
    return total_angle(q_err), heading, inclination


def align_to_reference(
    q_world_sensor: np.ndarray,
    q_ref: np.ndarray,
    valid: np.ndarray | None = None,
    world: WorldAlignment = WorldAlignment.HEADING,
    sensor_to_marker: bool = True,
    max_iter: int = 200,
    tol_rad: float = 1e-10,
) -> Alignment:
    """Least-squares constant rotations between an estimate and a reference orientation.

    Alternates two closed-form steps, each the chordal (quaternion) least-squares optimum with the
    other rotation fixed: the world offset (average of ``q_ref ⊗ (q_est ⊗ q_S)⁻¹``, or its best
    rotation about z for :attr:`WorldAlignment.HEADING`), then the sensor-to-marker rotation
    (average of ``(q_W ⊗ q_est)⁻¹ ⊗ q_ref``).

    Parameters
    ----------
    q_world_sensor : (N, 4) estimate, scalar first.
    q_ref : (N, 4) reference; rows with NaN are ignored.
    valid : (N,) bool or None — samples to fit on (besides the NaN filter).
    world : which world offset to fit.
    sensor_to_marker : fit the sensor-to-marker rotation (False: identity).
    max_iter, tol_rad : the alternation stops when neither rotation moves by more than ``tol_rad``
        (it converges linearly; well-excited data needs a few dozen steps).

    Returns
    -------
    Alignment
    """
    q_est, q_ref, mask = _paired(q_world_sensor, q_ref, valid)
    est, ref = _unit(q_est[mask]), _unit(q_ref[mask])
    q_w = _IDENTITY
    q_s = _IDENTITY
    both = world is not WorldAlignment.NONE and sensor_to_marker
    for _ in range(max_iter if both else 1):
        q_w_old, q_s_old = q_w, q_s
        if world is not WorldAlignment.NONE:
            candidates = quat_multiply(ref, quat_conj(quat_multiply(est, q_s)))
            q_w = _mean_quat(candidates) if world is WorldAlignment.FULL else _best_heading(candidates)
        if sensor_to_marker:
            q_s = _mean_quat(quat_multiply(quat_conj(quat_multiply(q_w, est)), ref))
        if max(_angle(q_w, q_w_old), _angle(q_s, q_s_old)) < tol_rad:
            break
    return Alignment(q_refworld_world=q_w, q_sensor_marker=q_s)


def orientation_rmse(
    q_world_sensor: np.ndarray,
    q_ref: np.ndarray,
    movement: np.ndarray | None = None,
    world: WorldAlignment = WorldAlignment.HEADING,
    sensor_to_marker: bool = True,
) -> tuple[OrientationRmse, Alignment]:
    """Align (on all valid samples), then RMSE over ``movement`` samples with a valid reference.

    Parameters
    ----------
    q_world_sensor : (N, 4) estimate.
    q_ref : (N, 4) reference, NaN where it was lost.
    movement : (N,) bool or None (all samples).
    world, sensor_to_marker : see :func:`align_to_reference`.

    Returns
    -------
    (OrientationRmse, Alignment)
    """
    alignment = align_to_reference(q_world_sensor, q_ref, world=world, sensor_to_marker=sensor_to_marker)
    q_est, q_ref, mask = _paired(q_world_sensor, q_ref, movement)
    total, heading, inclination = orientation_errors_rad(alignment.apply(q_est[mask]), q_ref[mask])

    def rms_deg(x: np.ndarray) -> float:
        return float(np.degrees(np.sqrt(np.mean(x**2))))

    rmse = OrientationRmse(rms_deg(total), rms_deg(heading), rms_deg(inclination), int(mask.sum()))
    return rmse, alignment


_IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def _mean_quat(q: np.ndarray) -> np.ndarray:
    """Chordal L2 mean of ``(N, 4)`` unit quaternions: top eigenvector of Σ q qᵀ (Markley 2007)."""
    _, vecs = np.linalg.eigh(q.T @ q)
    mean = vecs[:, -1]
    return mean if mean[0] >= 0 else -mean


def _best_heading(q: np.ndarray) -> np.ndarray:
    """Rotation about z closest (chordal sense) to ``(N, 4)`` quaternions.

    Maximises Σ (q_i · q_z(ψ))², a quadratic form in (cos ψ/2, sin ψ/2): its top eigenvector.
    """
    wz = q[:, [0, 3]]
    _, vecs = np.linalg.eigh(wz.T @ wz)
    c, s = vecs[:, -1]
    return quat_about_z(2.0 * np.arctan2(s, c))


def _angle(q1: np.ndarray, q2: np.ndarray) -> float:
    """Angle between two rotations; atan2 keeps precision for tiny angles (arccos does not)."""
    d = quat_multiply(q1, quat_conj(q2))
    return float(2.0 * np.arctan2(np.linalg.norm(d[1:]), abs(d[0])))


def _paired(q_est, q_ref, valid):
    q_est = np.asarray(q_est, dtype=np.float64)
    q_ref = np.asarray(q_ref, dtype=np.float64)
    if q_est.ndim != 2 or q_est.shape[1] != 4 or q_est.shape != q_ref.shape:
        raise ValidationError(f"estimate and reference must both be (N, 4) quaternions, got {q_est.shape} and {q_ref.shape}")
    mask = np.isfinite(q_ref).all(axis=1) & np.isfinite(q_est).all(axis=1)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != (q_est.shape[0],):
            raise ValidationError(f"mask must have shape ({q_est.shape[0]},), got {valid.shape}")
        mask &= valid
    if not mask.any():
        raise ValidationError("no sample has both a finite estimate and a finite reference to compare")
    return q_est, q_ref, mask


def _unit(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)
