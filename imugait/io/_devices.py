"""What importers of multi-device recordings share: which device a ``--map`` key means, how the
devices' clocks become the session clock, and whether a vendor quaternion is sensor-in-world with
z up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum

import numpy as np

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.quaternion import quat_rotate

MAX_SHARED_CLOCK_SPREAD_S = 60.0
"""Devices said to share a clock whose first samples are further apart than this are more likely
on separate clocks (or separate recordings): refused rather than placed minutes apart."""

Z_UP_MIN_COSINE = 0.8
"""A vendor quaternion is taken as sensor-in-world with z up when the median of the rotated
accelerometer direction has at least this z component (a worn sensor's median specific force is
close to +1 g up; walking and tilt leave it well above 0.8)."""


class ClockMode(Enum):
    SHARED = "shared"
    """The devices' time stamps are on one clock (synchronised devices): kept as they are."""
    START = "start"
    """Each device's first sample is t = 0 (unsynchronised devices started together)."""


def session_offsets(first_s: Mapping[Placement, float], clock: ClockMode, what: str) -> dict[Placement, float]:
    """Per placement, the device time that becomes t = 0 on the session clock."""
    if clock is ClockMode.START:
        return dict(first_s)
    origin = min(first_s.values())
    spread = max(first_s.values()) - origin
    if spread > MAX_SHARED_CLOCK_SPREAD_S:
        listing = ", ".join(f"{p.value}: {v - origin:.1f} s" for p, v in first_s.items())
        raise FormatError(
            f"{what}: the devices' first samples are {spread:.0f} s apart ({listing}): they are not on one clock "
            f"(unsynchronised devices?) or not one recording; import with --clock start to start each at t = 0"
        )
    return {p: origin for p in first_s}


def pick_device(keys: Mapping[str, Sequence[str]], wanted: str, what: str) -> str:
    """The one device whose names (serial, tag, folder or file name parts) include ``wanted``
    (case-insensitive). ``keys``: device -> its names."""
    w = wanted.strip().lower()
    hits = [dev for dev, names in keys.items() if any(w == n.strip().lower() for n in names)]
    if not hits:
        raise ValidationError(f"{what}: no device matches {wanted!r} (devices: {', '.join(keys) or 'none'})")
    if len(hits) > 1:
        raise ValidationError(f"{what}: several devices match {wanted!r}: {', '.join(hits)}")
    return hits[0]


def z_up_orientation(q: np.ndarray, acc_mps2: np.ndarray) -> tuple[np.ndarray | None, str]:
    """``(q_world_sensor, note)``: the quaternion if it turns the sensor's specific force up (z),
    its conjugate if that does (a vendor writing world-in-sensor), else None — with a note saying
    which, for the session's notes."""
    g = acc_mps2 / np.maximum(np.linalg.norm(acc_mps2, axis=1, keepdims=True), 1e-9)
    for candidate, note in ((q, ""), (q * np.array([1.0, -1.0, -1.0, -1.0]), "conjugated (the file gives world in sensor)")):
        if np.median(quat_rotate(candidate, g)[:, 2]) >= Z_UP_MIN_COSINE:
            return candidate, note
    return None, "left out: it does not turn gravity to +z (not a z-up world frame, e.g. NED)"
