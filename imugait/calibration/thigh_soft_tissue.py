"""The thigh sensor's turn about the femur with knee flexion (soft tissue), measured from walking.

A sensor strapped on the thigh turns on the soft tissue about the femur's long axis as the knee
flexes — the thigh's largest artefact, 2–8° peak-to-peak over a stride, mostly driven by the knee
angle and close to linear in it (Bonci et al. 2014, J Biomech 47:2354; Barré et al. 2017,
J Biomech 62:21; ``imugait/data/soft_tissue_artefact.json``). Model: the sensor sits at
``θ(t) = k · α(t)`` about the thigh's long axis from where it sat while standing (α: knee flexion
from standing), so its gyroscope reads ``k · α̇`` about that axis on top of the femur's own rate.

``k`` is measurable: the slope of the thigh gyroscope's rate about the thigh's long axis on the
knee-flexion rate (least squares, both centred). The femur's own rate about its long axis — hip
rotation, pelvic yaw — hardly follows the knee-flexion rate in walking (|k| ≤ 0.011 on the 80
simulated legs without the artefact, 0.03–0.14 with it, where it recovers the simulator's drawn
knee coefficient with r = −0.99 — the sign is the model's: the sensor's turn, not the bone's).

What it is used for (:mod:`imugait.calibration.segment`, ``SegmentCalibrationConfig.compensate_thigh_turn``):

* the flexion-axis fit (:func:`~imugait.calibration.knee_axes.fit_flexion_axis`) runs on the thigh
  sensor's orientation and rate with the turn removed — uncompensated, least squares reads the
  turn as the axis and turns the axis *against* it by about its whole swing;
* the thigh's frame is then set where the sensor sits on average over the walking (turned by the
  mean of θ), not where it sat while standing: a frame fixed on the sensor cannot follow the
  turn, and the walking's mean is what the walking's hip rotation is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.calibration.knee_axes import knee_flexion_rad
from imugait.calibration.secondary_motion import (
    FLEXION_SCALE_LIMITS,
    flexion_range_rad,
    normative_flexion_range_rad,
)
from imugait.calibration.thigh_tilt_norm import normative_thigh_tilt_per_flexion, tilt_slope
from imugait.conventions import Side
from imugait.quaternion import compose_rotations


@dataclass(frozen=True)
class ThighTurn:
    """The thigh sensor's modelled turn about the thigh's long axis over some samples.

    ``turn_per_flexion``: k, rad of turn per rad of knee flexion (the sign follows ``α`` of
    :func:`~imugait.calibration.knee_axes.knee_flexion_rad` about the axis used).
    ``turn_rad`` (N,): θ = k · α; ``turn_rate_radps`` (N,): k · α̇ from the gyroscopes.
    ``mean_turn_rad``: the mean of θ over the samples.
    """

    turn_per_flexion: float
    turn_rad: np.ndarray
    turn_rate_radps: np.ndarray

    @property
    def mean_turn_rad(self) -> float:
        return float(np.mean(self.turn_rad)) if self.turn_rad.size else 0.0


def knee_flexion_rate_radps(
    q_world_thigh_sensor: np.ndarray,
    q_world_shank_sensor: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    heading_offset_rad: np.ndarray,
    flexion_axis_thigh: np.ndarray,
) -> np.ndarray:
    """Rate (N,) rad/s of :func:`~imugait.calibration.knee_axes.knee_flexion_rad` about the same
    axis: the shank's rate minus the thigh's, about ``flexion_axis_thigh`` (3,) (thigh sensor
    frame), the shank's world frame turned by ``heading_offset_rad`` (N,). Orientations (N, 4)
    scalar first, rates (N, 3) in the sensor frames."""
    r1 = Rotation.from_quat(q_world_thigh_sensor, scalar_first=True)
    r2 = compose_rotations(Rotation.from_rotvec(np.outer(heading_offset_rad, [0.0, 0.0, 1.0])),
                           Rotation.from_quat(q_world_shank_sensor, scalar_first=True))
    relative_thigh = r1.inv().apply(r2.apply(gyr_shank_radps)) - gyr_thigh_radps
    return relative_thigh @ flexion_axis_thigh


def knee_flexion_and_rate(
    q_world_thigh_sensor: np.ndarray,
    q_world_shank_sensor: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    heading_offset_rad: np.ndarray,
    up_thigh: np.ndarray,
    up_shank: np.ndarray,
    flexion_axis_thigh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Knee flexion (N,) rad (:func:`~imugait.calibration.knee_axes.knee_flexion_rad`) and its rate
    (N,) rad/s (:func:`knee_flexion_rate_radps`) about ``flexion_axis_thigh``.

    Parameters
    ----------
    q_world_thigh_sensor, q_world_shank_sensor : (N, 4) scalar-first 6-axis orientations.
    gyr_thigh_radps, gyr_shank_radps : (N, 3) rad/s, sensor frames.
    heading_offset_rad : (N,) heading offset of the shank sensor's world frame.
    up_thigh, up_shank : (3,) unit long axes (superior) in their sensor frames, from standing.
    flexion_axis_thigh : (3,) thigh sensor frame, perpendicular to ``up_thigh`` (e.g. a hinge fit).
    """
    flexion = knee_flexion_rad(q_world_thigh_sensor, q_world_shank_sensor, heading_offset_rad, up_thigh, up_shank,
                               flexion_axis_thigh)
    rate = knee_flexion_rate_radps(q_world_thigh_sensor, q_world_shank_sensor, gyr_thigh_radps, gyr_shank_radps,
                                   heading_offset_rad, flexion_axis_thigh)
    return flexion, rate


def thigh_turn_with_flexion(
    gyr_thigh_radps: np.ndarray, up_thigh: np.ndarray, flexion: tuple[np.ndarray, np.ndarray]
) -> ThighTurn:
    """The thigh sensor's turn about ``up_thigh`` with knee flexion over N samples of walking.

    ``gyr_thigh_radps`` (N, 3) rad/s, thigh sensor frame; ``up_thigh`` (3,) the thigh's long axis
    (superior) in its sensor frame, from standing; ``flexion``: the knee flexion α (N,) rad and its
    rate (N,) rad/s about a flexion axis perpendicular to ``up_thigh`` (e.g. a hinge fit), from
    :func:`knee_flexion_and_rate`.
    """
    flexion_rad, flexion_rate = flexion
    up = up_thigh / np.linalg.norm(up_thigh)
    long_axis_rate = gyr_thigh_radps @ up
    x = flexion_rate - flexion_rate.mean()
    denominator = float(np.dot(x, x))
    k = float(np.dot(x, long_axis_rate - long_axis_rate.mean()) / denominator) if denominator > 0.0 else 0.0
    return ThighTurn(k, k * flexion_rad, k * flexion_rate)


def thigh_tilt_with_flexion(
    q_world_thigh_sensor: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    up_thigh: np.ndarray,
    flexion_axis_thigh: np.ndarray,
    flexion: tuple[np.ndarray, np.ndarray],
    side: Side,
) -> tuple[ThighTurn, np.ndarray]:
    """The thigh sensor's frontal-plane tilt on the soft tissue with knee flexion: its turn about
    the thigh's anterior axis ``up_thigh × flexion_axis_thigh`` as ``k · α``. Returns the tilt and
    that anterior axis (3,), thigh sensor frame.

    ``q_world_thigh_sensor`` (N, 4) scalar first; ``gyr_thigh_radps`` (N, 3) rad/s, thigh sensor frame; ``up_thigh``, ``flexion_axis_thigh`` (3,)
    as for :func:`knee_flexion_and_rate`; ``flexion``: the knee flexion α (N,) rad and its rate
    (N,) rad/s about that axis (:func:`knee_flexion_and_rate`); ``side``: the leg's.

    The slope is the coefficient of the knee-flexion rate in a least-squares fit of the thigh
    gyroscope's rate about the anterior axis on the knee-flexion rate and the thigh's own rate
    about ``flexion_axis_thigh`` and the part of the anterior rate its rate about the vertical gives
    (all centred): an axis a few degrees off mixes the thigh's sagittal rate into its anterior
    rate, which the second regressor takes, and a flexed thigh's anterior axis (not horizontal)
    picks up the walker's turns about the vertical, which the third takes. Unlike the long axis,
    the femur's own frontal-plane rate does follow the knee's (the hip ab/adducts and the pelvis
    drops with the swing, about 0.05 rad/rad): ``k`` is that slope minus the femur's on normative
    gait (:func:`~imugait.calibration.thigh_tilt_norm.normative_thigh_tilt_per_flexion`, its knee
    flexion scaled to the measured range).
    """
    flexion_rad, flexion_rate = flexion
    up = up_thigh / np.linalg.norm(up_thigh)
    anterior = np.cross(up, flexion_axis_thigh)
    anterior /= np.linalg.norm(anterior)
    vertical = Rotation.from_quat(q_world_thigh_sensor, scalar_first=True).inv().apply([0.0, 0.0, 1.0])
    slope = tilt_slope(gyr_thigh_radps @ anterior, flexion_rate, gyr_thigh_radps @ flexion_axis_thigh,
                       np.sum(gyr_thigh_radps * vertical, axis=1) * (vertical @ anterior))
    if not np.isfinite(slope):
        return ThighTurn(0.0, np.zeros_like(flexion_rad), np.zeros_like(flexion_rad)), anterior
    scale = float(np.clip(flexion_range_rad(flexion_rad) / normative_flexion_range_rad(), *FLEXION_SCALE_LIMITS))
    k = slope - normative_thigh_tilt_per_flexion(side, scale)
    return ThighTurn(k, k * flexion_rad, k * flexion_rate), anterior


def remove_thigh_turn(
    q_world_thigh_sensor: np.ndarray, gyr_thigh_radps: np.ndarray, up_thigh: np.ndarray, turn: ThighTurn
) -> tuple[np.ndarray, np.ndarray]:
    """The thigh sensor's orientation (N, 4) and rate (N, 3) as if it did not turn on the femur:
    ``R_world_sensor · Rot(up, −θ)`` and ``Rot(up, θ) · (ω − θ̇ up)``."""
    up = up_thigh / np.linalg.norm(up_thigh)
    r_turn = Rotation.from_rotvec(np.outer(turn.turn_rad, up))
    r_world_thigh = compose_rotations(Rotation.from_quat(q_world_thigh_sensor, scalar_first=True), r_turn.inv())
    gyr = r_turn.apply(gyr_thigh_radps - np.outer(turn.turn_rate_radps, up))
    return r_world_thigh.as_quat(scalar_first=True), gyr
