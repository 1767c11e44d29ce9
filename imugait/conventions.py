"""The project's conventions, written once: units, frames, placements, the joint-angle sign table.

Everything in imugait uses these; ``docs/conventions.md`` explains them with a figure.

* Units: SI inside (s, m, m/s², rad/s, µT, rad); reported angles in degrees. Every scalar
  name carries its unit (``stride_time_s``, ``knee_valgus_peak_deg``).
* Time: ``t_s``, float64 seconds on the session clock. First axis of every array is time.
* Quaternions: Hamilton, scalar first ``[w, x, y, z]``, shape ``(N, 4)``.
  ``q_a_b`` is frame *b* expressed in frame *a* (``v_a = q_a_b ⊗ v_b ⊗ q_a_b*``).
* World frame: z up (ENU-like); heading arbitrary unless a magnetometer is trusted.
* Anatomical segment frames (ISB, Wu et al. 2002): X anterior, Y superior (proximal),
  Z to the subject's right — on *both* legs.
* Joint angles: joint coordinate system (Grood & Suntay 1983) = intrinsic Z-X-Y sequence of the
  distal segment relative to the proximal one; signs below make a positive number mean the same
  thing on both legs: flexion +, adduction (knee: varus) +, internal rotation +.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from functools import cache

import numpy as np
from scipy.spatial.transform import Rotation

from imugait.quaternion import CHUNK_ROWS, quat_about_z, quat_conj, quat_multiply, row_chunks

GRAVITY_MPS2 = 9.80665
"""Standard gravity; the simulator and calibration use it as the magnitude of gravity."""

GRAVITY_WORLD_MPS2 = np.array([0.0, 0.0, -GRAVITY_MPS2])
"""Gravity vector in the world frame (z up). An accelerometer at rest reads ``-GRAVITY_WORLD``."""

JCS_SEQUENCE = "ZXY"
"""Intrinsic Euler sequence of the joint coordinate system for ISB segment frames."""


class Side(Enum):
    """Body side. ``mirror`` turns raw right-handed angles into the shared sign table."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def mirror(self) -> int:
        """+1 on the right, -1 on the left: applied to adduction and rotation angles."""
        return 1 if self is Side.RIGHT else -1

    @property
    def other(self) -> Side:
        return Side.LEFT if self is Side.RIGHT else Side.RIGHT


class Segment(Enum):
    """Body segments a sensor can be worn on."""

    PELVIS = "pelvis"
    THIGH = "thigh"
    SHANK = "shank"
    FOOT = "foot"


class Placement(Enum):
    """Where a sensor is worn: a segment and (except the pelvis) a side.

    The value is the canonical name used in files and column prefixes (``left_thigh``).
    """

    PELVIS = "pelvis"
    LEFT_THIGH = "left_thigh"
    RIGHT_THIGH = "right_thigh"
    LEFT_SHANK = "left_shank"
    RIGHT_SHANK = "right_shank"
    LEFT_FOOT = "left_foot"
    RIGHT_FOOT = "right_foot"

    @property
    def segment(self) -> Segment:
        return Segment(self.value.split("_")[-1])

    @property
    def side(self) -> Side | None:
        return None if self is Placement.PELVIS else Side(self.value.split("_")[0])

    @classmethod
    def of(cls, segment: Segment, side: Side | None = None) -> Placement:
        """The placement of ``segment`` on ``side`` (``side`` must be None for the pelvis)."""
        if segment is Segment.PELVIS:
            if side is not None:
                raise ValueError("the pelvis has no side")
            return cls.PELVIS
        if side is None:
            raise ValueError(f"a {segment.value} placement needs a side")
        return cls(f"{side.value}_{segment.value}")

    @classmethod
    def parse(cls, name: str) -> Placement:
        """Parse ``left_thigh``-style names (case-insensitive, ``-`` or ``_``)."""
        key = name.strip().lower().replace("-", "_")
        try:
            return cls(key)
        except ValueError:
            valid = ", ".join(p.value for p in cls)
            raise ValueError(f"unknown placement {name!r}; expected one of: {valid}") from None


class Joint(Enum):
    HIP = "hip"
    KNEE = "knee"


class AngleComponent(Enum):
    """The three JCS components, in the order of the columns of every angle array."""

    FLEXION = "flexion"
    ADDUCTION = "adduction"
    ROTATION = "rotation"


class HipRotationReference(Enum):
    """The two meanings of 'hip rotation' (docs/conventions.md, section *Hip rotation*).

    ``PELVIS``: femur relative to the pelvis (true ISB hip angle; needs a pelvis sensor).
    ``PROGRESSION``: femur relative to the line of progression of the current walking bout
    (pelvis absent); averages to the hip rotation over a gait cycle because pelvic rotation
    averages near zero.
    """

    PELVIS = "pelvis"
    PROGRESSION = "progression"


FLEXION_SIGN = {Joint.HIP: 1, Joint.KNEE: -1}
"""Sign of the raw first (Z) JCS angle that makes flexion positive.

With ISB frames a positive rotation about Z turns the distal segment's Y axis towards -X. For
the thigh relative to the pelvis that is hip flexion; for the shank relative to the thigh the
same rotation is knee *extension*, so the knee's raw angle is negated.
"""


@cache
def sign_table(joint: Joint, side: Side) -> np.ndarray:
    """Multipliers ``(3,)`` from raw right-handed Z-X-Y angles to the shared sign table.

    Adduction and rotation are mirrored on the left so that + means adduction (varus) and
    internal rotation on both legs. Made once per joint and side (the live polls ask at every
    poll), so read only.
    """
    signs = np.array([FLEXION_SIGN[joint], side.mirror, side.mirror], dtype=float)
    signs.flags.writeable = False
    return signs


def joint_angles_rad(
    q_world_proximal: np.ndarray, q_world_distal: np.ndarray, joint: Joint, side: Side
) -> np.ndarray:
    """Joint angles by the JCS, in the shared sign table.

    Parameters
    ----------
    q_world_proximal, q_world_distal : (N, 4) or (4,) array
        Anatomical (ISB) frames of the proximal and distal segment in the world frame,
        scalar-first quaternions.
    joint, side : which joint; selects the sign table.

    Returns
    -------
    (N, 3) array, rad: flexion, adduction (varus for the knee), internal rotation.
    """
    proximal = np.asarray(q_world_proximal, dtype=float)
    distal = np.asarray(q_world_distal, dtype=float)
    signs = sign_table(joint, side)
    if proximal.ndim == 1 or distal.ndim == 1 or proximal.shape[0] <= CHUNK_ROWS:
        return _jcs_angles(proximal, distal) * signs
    # Long recordings in blocks: a few MB of temporaries instead of several (N, 4) and (N, 3) arrays.
    out = np.empty((max(proximal.shape[0], distal.shape[0]), 3))
    for rows in row_chunks(out.shape[0]):
        out[rows] = _jcs_angles(proximal[rows], distal[rows])
    out *= signs
    return out


def joint_angles_each_rad(joints: Sequence[tuple[np.ndarray, np.ndarray, Joint, Side]]) -> list[np.ndarray]:
    """:func:`joint_angles_rad` of several joints at once: ``joints`` holds (proximal (N_i, 4),
    distal (N_i, 4), joint, side) each; returns their (N_i, 3) arrays, rad.

    The same values as one call each (a row's angles depend on its own quaternions only), with
    one rotation conversion for all rows: on short arrays (the live pipeline's few rows per
    poll) that conversion's per-call cost is most of the work. Up to ``FEW_ROWS`` rows in all
    (then every joint has as few: the same conversion either way), else one call each."""
    if sum(np.shape(d)[0] if np.ndim(d) == 2 else 1 for _, d, _, _ in joints) > FEW_ROWS \
            or any(np.ndim(p) != 2 or np.ndim(d) != 2 or np.shape(p) != np.shape(d) for p, d, _, _ in joints):
        return [joint_angles_rad(*j) for j in joints]
    # All joints' rows in one product too (row by row the same arithmetic as joint by joint).
    proximal = np.concatenate([np.asarray(p, dtype=float) for p, _, _, _ in joints])
    distal = np.concatenate([np.asarray(d, dtype=float) for _, d, _, _ in joints])
    raw = _jcs_raw(quat_multiply(quat_conj(proximal), distal))
    out, start = [], 0
    for p, _, joint, side in joints:
        out.append(raw[start:start + p.shape[0]] * sign_table(joint, side))
        start += p.shape[0]
    return out


def _jcs_angles(q_world_proximal: np.ndarray, q_world_distal: np.ndarray) -> np.ndarray:
    return _jcs_raw(quat_multiply(quat_conj(q_world_proximal), q_world_distal))


FEW_ROWS = 256
"""Up to this many rows the JCS angles come from :func:`jcs_euler_rad` (plain numpy: the live
pipeline's polls), above it from scipy's conversion (faster per row: recordings)."""


def _jcs_raw(q_rel: np.ndarray) -> np.ndarray:
    if q_rel.ndim == 1 or q_rel.shape[0] <= FEW_ROWS:
        return jcs_euler_rad(q_rel)
    return Rotation.from_quat(q_rel, scalar_first=True).as_euler(JCS_SEQUENCE, degrees=False)


def _jcs_terms() -> np.ndarray:
    """(16, 6): from the products ``q_i q_j`` of a quaternion's components (row ``4 i + j``) to
    ``-R01, R21, -R20, R11, R11, R22`` of its rotation matrix times ``|q|²``."""
    terms = np.zeros((4, 4, 6))
    w, x, y, z = range(4)
    terms[x, y, 0], terms[w, z, 0] = -2.0, 2.0  # -R01 = -2 (xy - wz)
    terms[y, z, 1], terms[w, x, 1] = 2.0, 2.0  # R21 = 2 (yz + wx)
    terms[x, z, 2], terms[w, y, 2] = -2.0, 2.0  # -R20 = -2 (xz - wy)
    for column, signs in ((3, (1.0, -1.0, 1.0, -1.0)), (4, (1.0, -1.0, 1.0, -1.0)), (5, (1.0, -1.0, -1.0, 1.0))):
        terms[range(4), range(4), column] = signs  # R11 = w² - x² + y² - z², R22 = w² - x² - y² + z²
    return terms.reshape(16, 6)


_JCS_TERMS = _jcs_terms()


def jcs_euler_rad(q_rel: np.ndarray) -> np.ndarray:
    """Raw JCS angles ``(..., 3)``, rad, of relative rotations ``(..., 4)`` (scalar-first, any
    norm): the intrinsic Z-X-Y Euler angles, scipy's ``as_euler("ZXY")`` to rounding (tested to
    1e-12 rad), from the rotation matrix ``R = Rz(a) Rx(b) Ry(c)``: ``a = atan2(-R01, R11)``,
    ``b = atan2(R21, hypot(R01, R11))``, ``c = atan2(-R20, R22)`` — in plain numpy, a few calls
    whatever the rows (scipy's conversion has a per-call cost several times that, most of the
    live pipeline's few-row polls). The matrix terms are an ``einsum`` of the component
    products, not a BLAS product, whose result for a row depends on the rows around it: here a
    row's angles are its own, whatever rows come with it. At ``b = ±90°`` (gimbal lock, never reached by a knee or a
    hip) ``a`` and ``c`` are not unique: these are one valid pair, not scipy's."""
    q = np.asarray(q_rel, dtype=float)
    terms = np.einsum("...i,ij->...j", (q[..., :, None] * q[..., None, :]).reshape(*q.shape[:-1], 16), _JCS_TERMS)
    denominators = terms[..., 3:]
    denominators[..., 1] = np.hypot(terms[..., 0], terms[..., 4])
    return np.arctan2(terms[..., :3], denominators)


def relative_rotation_from_angles(angles_rad: np.ndarray, joint: Joint, side: Side) -> Rotation:
    """Inverse of :func:`joint_angles_rad`: the rotation ``proximal → distal``.

    ``angles_rad`` is ``(N, 3)`` or ``(3,)``: flexion, adduction, internal rotation (sign table).
    """
    raw = np.asarray(angles_rad, dtype=float) * sign_table(joint, side)
    return Rotation.from_euler(JCS_SEQUENCE, raw, degrees=False)


def pelvis_rotation_from_angles(angles_rad: np.ndarray) -> Rotation:
    """Pelvis relative to the progression frame from its clinical angles ``(N, 3)`` or ``(3,)``,
    rad: anterior tilt, obliquity (right side up +), rotation (right side forward +).

    As a Z-X-Y sequence in ISB axes: anterior tilt turns Y towards +X (a negative rotation about
    Z), right side up is a negative rotation about X, right side forward a positive one about Y.
    """
    raw = np.asarray(angles_rad, dtype=float) * np.array([-1.0, -1.0, 1.0])
    return Rotation.from_euler(JCS_SEQUENCE, raw, degrees=False)


def quat(r: Rotation) -> np.ndarray:
    """Scalar-first quaternion(s) of a scipy rotation, sign-normalised to ``w >= 0``."""
    q = r.as_quat(scalar_first=True)
    return q * np.where(q[..., :1] < 0, -1.0, 1.0)


def rotation(q: np.ndarray) -> Rotation:
    """scipy rotation from scalar-first quaternion(s)."""
    return Rotation.from_quat(np.asarray(q, dtype=float), scalar_first=True)


def progression_quat(heading_rad: float | np.ndarray) -> np.ndarray:
    """:func:`progression_rotation` as scalar-first quaternion(s) ``(4,)`` or ``(N, 4)``: the
    frame at heading 0 turned about world z (no rotation matrix per sample)."""
    return quat_multiply(quat_about_z(heading_rad), _progression_quat_at_zero())


@cache
def _progression_quat_at_zero() -> np.ndarray:
    """The progression frame at heading 0 (a constant; read-only so the cached array stays one)."""
    q = quat(progression_rotation(0.0))
    q.flags.writeable = False
    return q


def progression_rotation(heading_rad: np.ndarray) -> Rotation:
    """World rotation of the progression frame: X along ``heading`` (about world z), Y up, Z right."""
    heading_rad = np.asarray(heading_rad, dtype=float)
    cos, sin = np.cos(heading_rad), np.sin(heading_rad)
    x_axis = np.stack([cos, sin, np.zeros_like(cos)], axis=-1)
    y_axis = np.broadcast_to([0.0, 0.0, 1.0], x_axis.shape)
    z_axis = np.cross(x_axis, y_axis)
    return Rotation.from_matrix(np.stack([x_axis, y_axis, z_axis], axis=-1))
