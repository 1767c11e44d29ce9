"""Pose-only calibration: the fallback for a leg whose two sensors do not move like one hinge.

A sensor loose on its strap, or a thigh sensor turning on soft tissue far more than usual, breaks
the hinge fit (:mod:`imugait.calibration.hinge`) that the regular calibration builds on. Angles
can still be had from each segment on its own, the way pose-based sensor placers do (OpenSense's
IMU placer takes a known pose and a heading): the reference pose (standing, or mid-stance) gives
each segment's long axis from gravity, and walking gives its flexion axis — the axis the segment
swings about, the principal axis of its low-passed rate perpendicular to its long axis — signed by
walking (:func:`~imugait.calibration.hinge.sign_by_gait`). The heading offset between the two
sensors' 6-axis world frames lines the two flexion axes up
(:func:`~imugait.calibration.heading.track_heading_offset_from_axes`).

What it gives up: no knee model ties thigh and shank together, so the knee's own secondary motion
and the thigh sensor's turn about the femur in swing are not told apart from the femur's rotation;
the errors to expect are measured with this path forced on the simulated cohort and stated with
every result (``imugait/data/calibration_expected_error.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.calibration.heading import HeadingConfig, HeadingTrack, track_heading_offset_from_axes
from imugait.calibration.hinge import perpendicular_basis, sign_by_gait
from imugait.calibration.knee_axes import KneeAxes, heading_offset_from_axes
from imugait.calibration.recording import LegRecording
from imugait.calibration.swing import Swing, forward_backward_ratio, swing_rates_at


def swing_axis(swing_rate_radps: np.ndarray, up_sensor: np.ndarray) -> np.ndarray:
    """Unit (3,) axis perpendicular to ``up_sensor`` (3,) about which the rates (N, 3) vary most
    (a segment swings about its flexion axis in walking); its sign is arbitrary."""
    e1, e2 = perpendicular_basis(up_sensor / np.linalg.norm(up_sensor))
    plane = swing_rate_radps @ np.column_stack([e1, e2])
    _, vecs = np.linalg.eigh(plane.T @ plane)
    return vecs[0, -1] * e1 + vecs[1, -1] * e2


@dataclass(frozen=True, eq=False)
class PoseAxes:
    """The pose-only calibration's axes: ``axes.flexion_axis_thigh`` and ``axis_shank`` (3,) each
    segment's signed swing axis in its sensor frame, the heading track that lines them up, and the
    swing their signs came from with the thigh's forward/back ratio (whether to trust the signs)."""

    axes: KneeAxes
    axis_shank: np.ndarray
    track: HeadingTrack
    swing: Swing
    thigh_forward_ratio: float


def pose_axes(
    rec: LegRecording,
    fit_mask: np.ndarray,
    motion: np.ndarray,
    up_thigh: np.ndarray,
    up_shank: np.ndarray,
    heading_config: HeadingConfig | None = None,
) -> PoseAxes:
    """Each segment's flexion axis from its own swing over ``fit_mask`` (M,) bool, signed by
    walking, and the heading offset tracked over ``motion`` (M,) bool by lining them up.

    ``axes.residual_rms_radps`` is nan: no knee constraint is fitted."""
    w1 = swing_rates_at(rec.gyr_thigh_radps, rec.rate_hz, fit_mask)
    w2 = swing_rates_at(rec.gyr_shank_radps, rec.rate_hz, fit_mask)
    z1, z2, swing = sign_by_gait(swing_axis(w1, up_thigh), swing_axis(w2, up_shank), w1, w2, rec.rate_hz)
    r1 = Rotation.from_quat(rec.q_world_thigh_sensor[fit_mask], scalar_first=True)
    r2 = Rotation.from_quat(rec.q_world_shank_sensor[fit_mask], scalar_first=True)
    delta = heading_offset_from_axes(r1.apply(z1), r2.apply(z2))
    track = track_heading_offset_from_axes(rec, motion, z1, z2, delta, heading_config)
    return PoseAxes(KneeAxes(z1, up_shank, delta, float("nan")), z2, track, swing, forward_backward_ratio(w1 @ z1))
