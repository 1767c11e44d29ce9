"""The posture that anatomical angles are referred to, when the recording has no standing still.

The preferred reference is standing upright and still (calibration.periods). Recordings that
start walking at once (many public datasets) have none; then mid-stance — 25 to 35 % of each
stride, when thigh and shank are closest to upright under the body — is used instead, found
from the shank's own swing peaks with the gyroscope-only hinge axis. It is less exact (the knee
is a few degrees flexed at mid-stance and the segments are moving), and results say so.
"""

from __future__ import annotations

import numpy as np

from imugait.calibration.segment import SegmentCalibrationConfig, fit_hinge_axes
from imugait.gait.events import EventConfig, detect_leg_events

MIDSTANCE_START, MIDSTANCE_END = 0.25, 0.35
"""Mid-stance as a fraction of the stride from initial contact (engineering choice)."""

NO_STANDING_WARNING = (
    "no standing-still period: angles are referred to mid-stance instead of upright standing "
    "(knee flexion reads about 10° low, the knee's flexion at mid-stance; stand still for 3 s before "
    "walking next time)"
)


def midstance_mask(
    t_s: np.ndarray,
    gyr_thigh_radps: np.ndarray,
    gyr_shank_radps: np.ndarray,
    moving: np.ndarray,
    calibration: SegmentCalibrationConfig | None = None,
    events: EventConfig | None = None,
) -> np.ndarray:
    """(M,) bool: the mid-stance samples of every plausible stride of one leg."""
    _, axis_shank, _, _ = fit_hinge_axes(gyr_thigh_radps[moving], gyr_shank_radps[moving], calibration)
    leg_events = detect_leg_events(t_s, gyr_shank_radps @ axis_shank, moving, events)
    contacts = leg_events.initial_contact_s[np.isfinite(leg_events.initial_contact_s)]
    mask = np.zeros(t_s.shape, dtype=bool)
    for t0, t1 in zip(contacts[:-1], contacts[1:], strict=True):
        if 0.6 <= t1 - t0 <= 2.5:
            start, stop = t0 + MIDSTANCE_START * (t1 - t0), t0 + MIDSTANCE_END * (t1 - t0)
            i0, i1 = np.searchsorted(t_s, [start, stop])
            mask[i0:i1] = True
    return mask
