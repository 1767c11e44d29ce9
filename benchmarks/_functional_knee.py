"""A functional knee axis from two marker clusters' relative motion (SARA), for the Geneva converter.

The symmetrical axis of rotation approach (Ehrig, Taylor, Duda, Heller, *A survey of formal methods
for determining functional joint axes*, J Biomech 2007 40:2150): a point fixed in both segments on
a hinge's axis is at the same place in the lab at every frame, ``R₁(t) c₁ + o₁(t) = R₂(t) c₂ + o₂(t)``.
Stacked over all frames that is linear in ``(c₁, c₂)``; its least-squares solution is a line, not a
point — the direction along which the system is (nearly) singular is the axis, in each segment's
own coordinates (``R₁ a₁ = R₂ a₂``). Both segments move; neither is taken as fixed (hence
*symmetrical*: the soft-tissue artefact of either is not magnified by transforming into the other).
Written here from that description (the survey also compares it with earlier ones, among them
Schwartz & Rozumalski's, J Biomech 2005 38:107); the knee joint centre is then put on the axis at
the point nearest a given centre (a choice of the converter).

Frames: a cluster's *pose* maps its local coordinates (its template, centred, m) into the lab:
``p_lab = R(t) p_local + o(t)``. Arrays: first axis is time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation


@dataclass(frozen=True)
class ClusterPose:
    """A rigid marker cluster in the lab: ``rotation`` (N frames, local → lab) and ``origin_m``
    (N, 3), the template's centroid in the lab; ``rms_m`` the per-frame RMS distance of the markers
    from the rigidly moved template (the cluster's deformation)."""

    rotation: Rotation
    origin_m: np.ndarray
    rms_m: np.ndarray

    def to_local(self, points_m: np.ndarray) -> np.ndarray:
        """Lab points (N, 3) in the cluster's local coordinates (N, 3)."""
        return self.rotation.inv().apply(points_m - self.origin_m)

    def to_lab(self, local_m: np.ndarray) -> np.ndarray:
        """A local point (3,) or points (N, 3) in the lab at every frame (N, 3)."""
        return self.rotation.apply(local_m) + self.origin_m


def cluster_template(points_m: np.ndarray) -> np.ndarray:
    """The local shape (K, 3) of a cluster from one frame's marker positions (K, 3): centred, in the
    lab's axes of that frame."""
    return points_m - points_m.mean(axis=0)


def cluster_pose(points_m: np.ndarray, template_m: np.ndarray) -> ClusterPose:
    """Least-squares rigid fit (Kabsch, reflection excluded) of ``template_m`` (K, 3, centred) to
    each frame's markers ``points_m`` (N, K, 3), m."""
    origin = points_m.mean(axis=1)
    centred = points_m - origin[:, None, :]
    h = np.einsum("ki,nkj->nij", template_m, centred)
    u, _, vt = np.linalg.svd(h)
    v, ut = np.transpose(vt, (0, 2, 1)), np.transpose(u, (0, 2, 1))
    fix = np.ones((len(points_m), 3))
    fix[:, 2] = np.sign(np.linalg.det(v @ ut))
    matrix = v @ (fix[:, :, None] * ut)
    moved = np.einsum("nij,kj->nki", matrix, template_m)
    rms = np.sqrt(np.mean(np.sum((moved - centred) ** 2, axis=2), axis=1))
    return ClusterPose(Rotation.from_matrix(matrix), origin, rms)


@dataclass(frozen=True)
class FunctionalAxis:
    """A hinge axis in both segments' local coordinates: unit directions ``axis_1``, ``axis_2``
    (``R₁ axis_1 = R₂ axis_2`` in the lab) through ``point_1_m``, ``point_2_m`` (the same lab point).
    ``residual_rms_m``: RMS lab distance between the two segments' copies of that point over the
    frames fitted (0 for a perfect hinge); ``conditioning``: smallest over second-smallest singular
    value of the stacked system (near 0: the axis is well determined; near 1: the motion does not
    single out an axis)."""

    axis_1: np.ndarray
    axis_2: np.ndarray
    point_1_m: np.ndarray
    point_2_m: np.ndarray
    residual_rms_m: float
    conditioning: float

    def nearest_points(self, centre_1_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The axis point nearest ``centre_1_m`` (segment 1's local coordinates), in segment 1's and
        segment 2's local coordinates (the same distance along the axis from the fitted points)."""
        along = float((centre_1_m - self.point_1_m) @ self.axis_1)
        return self.point_1_m + along * self.axis_1, self.point_2_m + along * self.axis_2


def sara_axis(pose_1: ClusterPose, pose_2: ClusterPose) -> FunctionalAxis:
    """The SARA axis of segment 2 moving against segment 1 over all frames of the two poses (the
    frames of several walks may be concatenated, each pose against its own fixed template)."""
    n = len(pose_1.origin_m)
    a = np.concatenate([pose_1.rotation.as_matrix(), -pose_2.rotation.as_matrix()], axis=2).reshape(3 * n, 6)
    b = (pose_2.origin_m - pose_1.origin_m).reshape(3 * n)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    # Least squares without the (near-)null direction: the point on the axis nearest the origins.
    solution = vt[:5].T @ ((u[:, :5].T @ b) / s[:5])
    axis_1, axis_2 = vt[5, :3], vt[5, 3:]
    c1, c2 = solution[:3], solution[3:]
    gap = pose_1.to_lab(c1) - pose_2.to_lab(c2)
    return FunctionalAxis(axis_1 / np.linalg.norm(axis_1), axis_2 / np.linalg.norm(axis_2), c1, c2,
                          float(np.sqrt(np.mean(np.sum(gap**2, axis=1)))), float(s[5] / s[4]))


def pointing(axis: FunctionalAxis, pose_1: ClusterPose, towards_lab: np.ndarray) -> FunctionalAxis:
    """The same axis, its directions turned (both, together) so that segment 1's copy points along
    ``towards_lab`` (N, 3, lab) on average."""
    if float(np.mean(np.sum(pose_1.rotation.apply(axis.axis_1) * towards_lab, axis=1))) >= 0:
        return axis
    return FunctionalAxis(-axis.axis_1, -axis.axis_2, axis.point_1_m, axis.point_2_m, axis.residual_rms_m,
                          axis.conditioning)
