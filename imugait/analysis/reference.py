"""The posture that anatomical angles are referred to, when the recording has no standing still.

The preferred reference is standing upright and still (calibration.periods). Recordings that
start walking at once (many public datasets) have none; then mid-stance — 25 to 35 % of each
stride, when thigh and shank are closest to upright under the body — is used instead, found
from the shank's own swing peaks with the gyroscope-only hinge axis.

Mid-stance is not the upright pose for the knee: the knee is still flexed there (normative
mean over 25–35 % of the cycle about 10°), so a calibration that took each segment's mid-stance
vertical as its long axis would read knee flexion that much too low. The thigh, by contrast, is
close to vertical there (hip flexion minus anterior pelvic tilt, under 1° on the same normative
data). :func:`refer_to_upright` therefore turns the shank's frame by the normative mid-stance knee
flexion (the packaged normative curve, ``imugait/data/normative_gait_kinematics.json`` names its
source). A person whose knee is more or less flexed at mid-stance than the norm reads off by the
difference (the source's between-subject SD there is about 5°); results say so.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np

from imugait.calibration.segment import (
    LegAlignment,
    SegmentAlignment,
    SegmentCalibrationConfig,
    fit_hinge_axes,
    fit_window,
)
from imugait.conventions import Joint, Side, quat, relative_rotation_from_angles
from imugait.data import normative_gait_table
from imugait.gait.events import EventConfig, detect_leg_events
from imugait.quaternion import quat_multiply
from imugait.timebase import sample_period_s

MIDSTANCE_START, MIDSTANCE_END = 0.25, 0.35
"""Mid-stance as a fraction of the stride from initial contact (engineering choice)."""

NO_STANDING_WARNING = (
    "no standing-still period: angles are referred to mid-stance instead of upright standing, with the "
    "knee's flexion there taken from normative data (knee flexion can be off by a few degrees for a knee "
    "that is more or less flexed at mid-stance than the norm; knee adduction and rotation are relative to "
    "mid-stance; stand still for 3 s before walking next time)"
)


@cache
def midstance_knee_flexion_deg() -> float:
    """Normative mean knee flexion over the mid-stance window (deg), from the packaged curve."""
    table = normative_gait_table()
    pct = table["gait_cycle_pct"].to_numpy(dtype=float)
    window = (pct >= 100.0 * MIDSTANCE_START) & (pct <= 100.0 * MIDSTANCE_END)
    return float(table.loc[window, "knee_flexion_mean_deg"].mean())


def midstance_mask(
    t_s: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    moving: np.ndarray,
    calibration: SegmentCalibrationConfig | None = None,
    events: EventConfig | None = None,
    rate_hz: float | None = None,
) -> np.ndarray:
    """(M,) bool: the mid-stance samples of every plausible stride of one leg (``rate_hz``: the
    grid's rate if known, measured from ``t_s`` otherwise).

    The initial contacts are found with a hinge axis fitted to the calibration walk — the first
    ``calibration.max_motion_s`` of ``moving`` (:func:`~imugait.calibration.segment.fit_window`),
    the rows the knee axes are fitted to — not to all of ``moving``: a live leg calibrates on the
    same rows of its first seconds of walking, so its calibration walk's mid-stance rows, which
    give the knee's reference inclination with a causal filter, are those of ``analyze``
    (docs/live-history.md, "The calibration walk's mid-stance rows")."""
    rate_hz = 1.0 / sample_period_s(t_s, rate_hz)
    calibration = calibration or SegmentCalibrationConfig()
    hinge = fit_hinge_axes(gyr_thigh_radps, gyr_shank_radps, rate_hz, fit_window(moving, rate_hz, calibration), calibration)
    leg_events = detect_leg_events(t_s, gyr_shank_radps @ hinge.axis_shank, moving, events, rate_hz=rate_hz)
    contacts = leg_events.initial_contact_s[np.isfinite(leg_events.initial_contact_s)]
    mask = np.zeros(t_s.shape, dtype=bool)
    for t0, t1 in zip(contacts[:-1], contacts[1:], strict=True):
        rows = midstance_rows(t_s, t0, t1)
        if rows is not None:
            mask[rows[0]:rows[1]] = True
    return mask


def midstance_rows(t_s: np.ndarray, t_contact_s: float, t_next_contact_s: float) -> tuple[int, int] | None:
    """The rows ``i0 .. i1 - 1`` of ``t_s`` (M,) in the mid-stance of the stride between two initial
    contacts (s) — None when the two are not a stride apart (0.6–2.5 s)."""
    duration_s = t_next_contact_s - t_contact_s
    if not 0.6 <= duration_s <= 2.5:
        return None
    i0, i1 = np.searchsorted(t_s, [t_contact_s + MIDSTANCE_START * duration_s, t_contact_s + MIDSTANCE_END * duration_s])
    return int(i0), int(i1)


def refer_to_upright(alignment: LegAlignment, side: Side) -> LegAlignment:
    """A leg calibrated against mid-stance, with the shank's frame turned about the knee so that
    the mid-stance pose reads the normative mid-stance knee flexion instead of zero."""
    flexion_rad = np.deg2rad(midstance_knee_flexion_deg())
    r_knee = relative_rotation_from_angles(np.array([flexion_rad, 0.0, 0.0]), Joint.KNEE, side)
    q_shank = quat_multiply(alignment.shank.q_sensor_segment, quat(r_knee))
    return replace(alignment, shank=SegmentAlignment(alignment.shank.placement, q_shank))
