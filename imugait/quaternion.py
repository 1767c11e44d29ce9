"""Small quaternion helpers shared by the stages: Hamilton product, heading/inclination split,
start pose; scipy rotations composed. Plain numpy: on long recordings several times faster than
composing scipy rotations.

All quaternions are scalar first ``[w, x, y, z]``; ``q_a_b`` maps vectors from frame *b* to *a*.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
from scipy.spatial.transform import Rotation

_TINY = 1e-9


CHUNK_ROWS = 1 << 15
"""Long arrays are processed in blocks of this many rows: the temporaries of a block stay in the
CPU cache and a few MB at most, instead of several full-length (N, 4) arrays at once."""


def row_chunks(n: int, size: int = CHUNK_ROWS) -> Iterator[slice]:
    """Slices covering ``range(n)`` in blocks of ``size`` rows."""
    return (slice(start, min(start + size, n)) for start in range(0, n, size))


def quat_multiply(q1: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """Hamilton product ``q1 ⊗ q2`` of ``(4,)`` or ``(N, 4)`` arrays (broadcast over N)."""
    a = np.asarray(q1, dtype=np.float64)
    b = np.asarray(q2, dtype=np.float64)
    if a.ndim == 1 and b.ndim == 2:  # a constant rotation on the left: one matrix product
        return b @ _product_matrix(a.tobytes(), True).T
    if b.ndim == 1 and a.ndim == 2:  # … or on the right
        return a @ _product_matrix(b.tobytes(), False).T
    if a.ndim == 2 and b.ndim == 2 and a.shape[0] > CHUNK_ROWS:
        out = np.empty(np.broadcast_shapes(a.shape, b.shape))
        for rows in row_chunks(out.shape[0]):
            out[rows] = _multiply(a[rows] if a.shape[0] > 1 else a, b[rows] if b.shape[0] > 1 else b)
        return out
    return _multiply(a, b)


@lru_cache(maxsize=256)
def _product_matrix(q: bytes, on_left: bool) -> np.ndarray:
    """The matrix of the product with the constant quaternion ``q`` (its float64 bytes: -0.0 is
    not 0.0 here) on the left (or the right) of the rows: made once per constant (a leg's
    sensor-to-segment rotations, the progression frame), not at every call on a few live rows.
    Read only."""
    w, x, y, z = np.frombuffer(q, dtype=np.float64)
    if on_left:
        m = np.array([[w, -x, -y, -z], [x, w, -z, y], [y, z, w, -x], [z, -y, x, w]])
    else:
        m = np.array([[w, -x, -y, -z], [x, w, z, -y], [y, -z, w, x], [z, y, -x, w]])
    m.flags.writeable = False
    return m


# The Hamilton product as signed products a_i b_j summed left to right: for component c, term t is
# _SIGN[t, c] * a_i b_j with i * 4 + j = _TERM[t, c] (the order of _multiply's sums).
_TERM = np.array([[0, 1, 2, 3], [5, 4, 7, 6], [10, 11, 8, 9], [15, 14, 13, 12]])
_SIGN = np.array([[1.0, 1.0, 1.0, 1.0], [-1.0, 1.0, -1.0, 1.0], [-1.0, 1.0, 1.0, -1.0], [-1.0, -1.0, 1.0, 1.0]])
FEW_ROWS = 64
"""Up to this many rows :func:`_multiply` takes the product's 16 terms at once (fewer numpy calls,
more memory traffic: faster for the few rows of a live block, slower for long arrays)."""


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.ndim == b.ndim == 2 and max(a.shape[0], b.shape[0]) <= FEW_ROWS:
        # The same values: each product a_i b_j is exact to round once, a - b is a + (-b), and the
        # four terms are added in the same order.
        terms = (a[:, :, None] * b[:, None, :]).reshape(-1, 16)[:, _TERM] * _SIGN
        out = terms[:, 0] + terms[:, 1]
        out += terms[:, 2]
        out += terms[:, 3]
        return out
    w1, x1, y1, z1 = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    w2, x2, y2, z2 = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    # Components written into one array (not np.stack of four: one copy and call less).
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2
    out[..., 1] = w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2
    out[..., 2] = w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2
    out[..., 3] = w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2
    return out


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vector(s) ``v`` (3,) or (N, 3) rotated by unit quaternion(s) ``q`` (4,) or (N, 4): ``q v q*``.

    Computed as the rotation matrix of ``q`` times ``v``, component by component and in blocks of
    :data:`CHUNK_ROWS` (no (N, 3, 3) matrices, no full-length temporaries)."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    out = np.empty(np.broadcast_shapes(q.shape[:-1], v.shape[:-1]) + (3,))
    if out.ndim == 1:
        _rotate(q, v, out)
        return out
    for rows in row_chunks(out.shape[0]):
        _rotate(q[rows] if q.ndim == 2 else q, v[rows] if v.ndim == 2 else v, out[rows])
    return out


def quat_rotate_each(q: np.ndarray, vectors: Sequence[Sequence[float]]) -> list[np.ndarray]:
    """Each constant vector of ``vectors`` (K of (3,)) rotated by the unit quaternions ``q``
    (N, 4): K arrays (N, 3), the same values as ``quat_rotate(q, v)`` for each, with the
    quaternions' products computed once (a segment's axes in the world, say)."""
    q = np.asarray(q, dtype=np.float64)
    vs = [np.asarray(v, dtype=np.float64) for v in vectors]
    axes = [_UNIT_AXES.get(tuple(v.tolist())) if v.shape == (3,) else None for v in vs]
    outs = [np.empty(q.shape[:-1] + (3,)) for _ in vs]
    for rows in row_chunks(q.shape[0]):
        products = _products(q[rows])
        for v, axis, out in zip(vs, axes, outs, strict=True):
            if axis is None:
                _apply(products, v, out[rows])
            else:
                _apply_axis(products, axis, out[rows])
    return outs


_UNIT_AXES = {(1.0, 0.0, 0.0): 0, (0.0, 1.0, 0.0): 1, (0.0, 0.0, 1.0): 2}


def _apply_axis(products: tuple[np.ndarray, ...], axis: int, out: np.ndarray) -> None:
    """:func:`_apply` of a unit axis (a column of the rotation matrix): its terms times zero
    dropped, the same values (adding a zero product changes no bit of a non-zero sum)."""
    xx, yy, zz, xy, xz, yz, wx, wy, wz = products
    if axis == 0:
        out[..., 0], out[..., 1], out[..., 2] = 1.0 - 2.0 * (yy + zz), 2.0 * (xy + wz), 2.0 * (xz - wy)
    elif axis == 1:
        out[..., 0], out[..., 1], out[..., 2] = 2.0 * (xy - wz), 1.0 - 2.0 * (xx + zz), 2.0 * (yz + wx)
    else:
        out[..., 0], out[..., 1], out[..., 2] = 2.0 * (xz + wy), 2.0 * (yz - wx), 1.0 - 2.0 * (xx + yy)


def _rotate(q: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
    _apply(_products(q), v, out)


def _products(q: np.ndarray) -> tuple[np.ndarray, ...]:
    """The quaternion's pairwise products the rotation matrix is made of."""
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return x * x, y * y, z * z, x * y, x * z, y * z, w * x, w * y, w * z


def _apply(products: tuple[np.ndarray, ...], v: np.ndarray, out: np.ndarray) -> None:
    xx, yy, zz, xy, xz, yz, wx, wy, wz = products
    v0, v1, v2 = v[..., 0], v[..., 1], v[..., 2]
    out[..., 0] = v0 + 2.0 * ((xy - wz) * v1 + (xz + wy) * v2 - (yy + zz) * v0)
    out[..., 1] = v1 + 2.0 * ((xy + wz) * v0 + (yz - wx) * v2 - (xx + zz) * v1)
    out[..., 2] = v2 + 2.0 * ((xz - wy) * v0 + (yz + wx) * v1 - (xx + yy) * v2)


def compose_rotations(first: Rotation, second: Rotation) -> Rotation:
    """``first * second`` (``second`` first, then ``first``) of scipy rotations, single or (N,) —
    the same values to the bit: scipy's own formula and normalisation, evaluated by numpy.
    scipy 1.17's compiled composition takes ≈ 0.6 µs a rotation (8 ms for the 12 000 rotations of
    a calibration's minute of walking at 200 Hz); this ≈ 0.05 µs."""
    p, q = first.as_quat(canonical=False), second.as_quat(canonical=False)  # scalar last, as scipy keeps them
    px, py, pz, pw = p[..., 0], p[..., 1], p[..., 2], p[..., 3]
    qx, qy, qz, qw = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    out = np.empty(np.broadcast_shapes(p.shape, q.shape))
    out[..., 0] = pw * qx + qw * px + (py * qz - pz * qy)
    out[..., 1] = pw * qy + qw * py + (pz * qx - px * qz)
    out[..., 2] = pw * qz + qw * pz + (px * qy - py * qx)
    out[..., 3] = pw * qw - px * qx - py * qy - pz * qz
    return Rotation.from_quat(out)


def quat_conj(q: np.ndarray) -> np.ndarray:
    """Conjugate (= inverse of a unit quaternion), ``(4,)`` or ``(N, 4)``."""
    # (one product: the same values as negating the vector part of a copy, in one call less)
    return np.multiply(q, _CONJUGATE, dtype=np.float64)


_CONJUGATE = np.array([1.0, -1.0, -1.0, -1.0])
_CONJUGATE.flags.writeable = False


def quat_about_z(angle_rad: float | np.ndarray) -> np.ndarray:
    """Rotation by ``angle_rad`` about the vertical (world z) axis: ``(4,)`` or ``(N, 4)``."""
    half = 0.5 * np.asarray(angle_rad, dtype=np.float64)
    out = np.zeros(half.shape + (4,))  # (written into: np.stack of four costs more per call on a few rows)
    out[..., 0] = np.cos(half)
    out[..., 3] = np.sin(half)
    return out


def heading_inclination_split(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``q = q_heading ⊗ q_inclination`` (heading about world z, inclination about a
    horizontal axis), the decomposition of Laidig et al. 2021 (BROAD).

    Parameters
    ----------
    q : (N, 4) or (4,) scalar-first quaternions, e.g. a world-frame error quaternion.

    Returns
    -------
    heading_rad, inclination_rad : arrays of shape (N,) or scalars, each in [0, π]: the angles of
        the two factors. For an error quaternion these are the heading and inclination errors.
    """
    q = np.asarray(q, dtype=np.float64)
    w, z = q[..., 0], q[..., 3]
    heading = 2.0 * np.arctan2(np.abs(z), np.abs(w))
    inclination = 2.0 * np.arccos(np.clip(np.sqrt(w**2 + z**2), 0.0, 1.0))
    return heading, inclination


def total_angle(q: np.ndarray) -> np.ndarray:
    """Rotation angle in [0, π] of ``(N, 4)`` or ``(4,)`` unit quaternions."""
    w = np.asarray(q, dtype=np.float64)[..., 0]
    return 2.0 * np.arccos(np.clip(np.abs(w), 0.0, 1.0))


def orientation_from_acc_mag(acc_mps2: np.ndarray, mag_uT: np.ndarray | None = None) -> np.ndarray:
    """The orientation a single static sample implies: used to start filters on their first sample.

    Parameters
    ----------
    acc_mps2 : (3,) m/s², sensor frame, specific force (points up at rest).
    mag_uT : (3,) µT, sensor frame, or None.

    Returns
    -------
    (4,) ``q_world_sensor``. With ``mag_uT``: world is ENU (y towards magnetic north). Without, or
    when the field is parallel to gravity: the smallest rotation that makes the sensor's measured
    up the world z axis (heading arbitrary but deterministic).
    """
    up = np.asarray(acc_mps2, dtype=np.float64)
    norm = np.linalg.norm(up)
    if norm < _TINY:
        return np.array([1.0, 0.0, 0.0, 0.0])
    up = up / norm
    if mag_uT is not None:
        east = np.cross(np.asarray(mag_uT, dtype=np.float64), up)
        east_norm = np.linalg.norm(east)
        if east_norm > _TINY * max(1.0, float(np.linalg.norm(mag_uT))):
            east /= east_norm
            north = np.cross(up, east)
            # Rows are the world axes in sensor coordinates: v_world = m @ v_sensor.
            return _quat_from_matrix(np.vstack([east, north, up]))
    # Shortest arc taking `up` (sensor coordinates) onto world z.
    cos_angle = float(up[2])
    if cos_angle < -1.0 + 1e-12:
        return np.array([0.0, 1.0, 0.0, 0.0])  # upside down: half turn about x
    q = np.array([1.0 + cos_angle, up[1], -up[0], 0.0])  # [1 + a·z, a × z]
    return q / np.linalg.norm(q)


def _quat_from_matrix(m: np.ndarray) -> np.ndarray:
    """Scalar-first unit quaternion of a 3×3 rotation matrix (numerically stable branch choice)."""
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(1.0 + trace)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = np.empty(4)
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    q = np.asarray(q, dtype=np.float64)
    q /= np.linalg.norm(q)
    return q if q[0] >= 0 else -q
