"""The joint centre seen from both sensors: the heading offset between their 6-axis world frames.

The knee centre is a point of the thigh and of the shank, so its acceleration computed from either
sensor is one vector. From a sensor with specific force ``f`` and angular rate ``ω`` (sensor
frame) and the centre at ``r`` from it (sensor frame, constant), the centre's specific force is

    f + ω × (ω × r) + ω̇ × r                                    (sensor frame)

(Seel, Schauer & Raisch 2012, IEEE CCA: joint position from inertial data). Turned into each
sensor's 6-axis world frame, the two vectors differ only by the heading offset ``δ`` between the
frames (both frames share gravity, which cancels), so the horizontal accelerations of the knee —
large and varied in walking — fix ``δ`` (the idea of Weygers et al. 2020, Sensors 20:4709, for
drift-free relative heading). Unlike the rotation constraint of
:mod:`imugait.calibration.knee_axes` this knows nothing of the knee's secondary motion (tibial
rotation, varus/valgus), which biases a heading found from angular rates by about 1°, and it has no
180° ambiguity: it needs no sign of any axis.

Heel-strike impacts and soft-tissue motion give residuals of several m/s² that no rigid model
explains; a Cauchy loss with a scale of :data:`RESIDUAL_SCALE_MPS2` discounts them.

**Soft tissue.** A sensor strapped on the skin slides and turns on its bone, by an amount close to
linear in the knee's flexion (Bonci et al. 2014, J Biomech 47:2354: thigh artefact linear in hip
and knee angles, mostly the knee's; Barré et al. 2017, J Biomech 62:21: the thigh's main modes
correlate highly with knee flexion; ``imugait/data/soft_tissue_artefact.json``). The knee centre
then is not at a constant ``r`` from the sensor but, to first order in the artefact, at
``r + α(t) · b`` (α: knee flexion): the sensor's slide and the turn of the lever arm both move it
along a fixed direction per radian of flexion. Its specific force gains
``α (ω×(ω×b) + ω̇×b) + 2 α̇ ω×b + α̈ b`` — still linear in the unknowns, so the thigh sensor's
``b`` is fitted with ``r`` (:class:`FlexionAxes`, ``flexion_axes`` of :func:`fit_joint_centre`).
Left out, the sensor's slide (10–30 mm on the thigh over a stride, largest where the knee
accelerates most) correlates with the knee's acceleration and biases the heading by degrees. The
shank's centre stays fixed: its artefact is several times smaller (Akbarshahi et al. 2010;
Lahkar et al. 2021), and three more unknowns there cost more on a rigid sensor than they won. α
is read from the two sensors' inclinations about their hinge axes (gravity only, no heading: it
is what is fitted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.spatial.transform import Rotation

from imugait.calibration.recording import LegRecording
from imugait.quaternion import CHUNK_ROWS, quat_conj, quat_rotate, row_chunks

RESIDUAL_SCALE_MPS2 = 1.0
"""Scale of the robust loss: the size of residual a rigid joint still explains. A 1° inclination
error of the 6-axis fusion alone turns gravity into 0.17 m/s² of horizontal error, noise and the
lever arms' angular-acceleration term add a few tenths; impacts and skin motion are far above."""


@dataclass(frozen=True)
class JointCentre:
    """Where the joint centre is from each sensor, and the heading offset it implies.

    ``centre_thigh_sensor_m``, ``centre_shank_sensor_m`` (3,): from the sensor to the joint centre,
    in that sensor's frame, m (for a hinge, any point of the axis serves: the part along the axis
    is weakly determined). ``heading_offset_rad``: rotation about world z taking the shank sensor's
    world frame into the thigh sensor's at ``t_ref_s``, changing by ``heading_drift_radps``.
    ``residual_rms_mps2``: RMS of the centre-acceleration mismatch over the fit.
    ``heading_contrast``: robust cost of the best fit with the heading turned by 180° over that of
    the best fit — near 1 when the accelerations do not tell the heading (e.g. a joint centre that
    hardly moves).
    """

    centre_thigh_sensor_m: np.ndarray
    centre_shank_sensor_m: np.ndarray
    heading_offset_rad: float
    heading_drift_radps: float
    t_ref_s: float
    residual_rms_mps2: float
    heading_contrast: float
    flexion_axes: FlexionAxes | None = None
    """Where the knee flexion that moves the centre is read from; None: the centre fixed on both
    sensors."""
    centre_thigh_per_flexion_m: np.ndarray | None = None
    """(3,) how far the centre moves from the thigh sensor (its frame) per rad of knee flexion, m
    per rad — the soft tissue's slide and turn of the sensor on its bone; None with no
    ``flexion_axes``."""

    def forces_world_mps2(self, rec: LegRecording, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The centre's specific force (n, 3), m/s², seen from the thigh and from the shank sensor,
        each in its sensor's world frame, at the grid samples ``idx`` (n,) of ``rec``."""
        t_s = rec.t_s
        f1 = centre_force_world_mps2(t_s, rec.q_world_thigh_sensor, rec.gyr_thigh_radps, rec.acc_thigh_mps2,
                                     self.centre_thigh_sensor_m, idx)
        f2 = centre_force_world_mps2(t_s, rec.q_world_shank_sensor, rec.gyr_shank_radps, rec.acc_shank_mps2,
                                     self.centre_shank_sensor_m, idx)
        if self.flexion_axes is not None:
            moved = _flexion_terms(t_s, rec.gyr_thigh_radps, idx, self.flexion_axes.flexion_rad(rec, idx))
            f1 += quat_rotate(rec.q_world_thigh_sensor[idx], moved @ self.centre_thigh_per_flexion_m)
        return f1, f2

    def heading_at(self, t_s: np.ndarray) -> np.ndarray:
        """Heading offset (rad) at ``t_s`` (N,) from the fitted offset and drift."""
        return self.heading_offset_rad + self.heading_drift_radps * (np.asarray(t_s) - self.t_ref_s)


@dataclass(frozen=True, eq=False)
class FlexionAxes:
    """Where the knee's flexion is read from, without any heading: each segment's long axis
    (superior, from standing) and hinge axis, (3,) each in its sensor's frame. The hinge axes of
    thigh and shank must point one way (both right, or both left)."""

    up_thigh_sensor: np.ndarray
    flexion_axis_thigh_sensor: np.ndarray
    up_shank_sensor: np.ndarray
    flexion_axis_shank_sensor: np.ndarray

    def flexion_rad(self, rec: LegRecording, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Knee flexion α (n,) rad, up to sign and a constant, and its first and second time
        derivatives (n,) rad/s, rad/s², at the grid samples ``idx`` (n,) of ``rec`` (differences
        over the neighbouring grid samples): the shank's inclination about its hinge axis minus the
        thigh's, each from its long axis while standing to the vertical of its 6-axis fusion."""
        last = rec.t_s.size - 1
        around = (np.maximum(idx - 1, 0), idx, np.minimum(idx + 1, last))
        alpha = [segment_inclination_rad(rec.q_world_shank_sensor.take(i, axis=0), self.up_shank_sensor,
                                         self.flexion_axis_shank_sensor)
                 - segment_inclination_rad(rec.q_world_thigh_sensor.take(i, axis=0), self.up_thigh_sensor,
                                           self.flexion_axis_thigh_sensor) for i in around]
        dt = 1.0 / rec.rate_hz
        return alpha[1], (alpha[2] - alpha[0]) / (2.0 * dt), (alpha[2] - 2.0 * alpha[1] + alpha[0]) / dt**2


def segment_inclination_rad(q_world_sensor: np.ndarray, up_sensor: np.ndarray, axis_sensor: np.ndarray) -> np.ndarray:
    """Signed angle (n,) rad about ``axis_sensor`` (3,) from ``up_sensor`` (3,) to the vertical of
    the orientations ``q_world_sensor`` (n, 4, scalar first), both seen across the axis; sensor
    frame. Gravity alone: the same in any heading."""
    axis = axis_sensor / np.linalg.norm(axis_sensor)
    vertical = quat_rotate(quat_conj(q_world_sensor), np.array([0.0, 0.0, 1.0]))
    up = up_sensor - np.dot(up_sensor, axis) * axis
    return np.arctan2(vertical @ np.cross(axis, up), vertical @ up)


def _world_matrices(q_world_sensor: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotation matrices of ``q_world_sensor`` at ``idx``."""
    return Rotation.from_quat(q_world_sensor[idx], scalar_first=True).as_matrix()


def _flexion_terms(
    t_s: np.ndarray, gyr_radps: np.ndarray, idx: np.ndarray, flexion: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> np.ndarray:
    """(n, 3, 3) sensor-frame matrices taking ``b`` (centre moved per rad of knee flexion) to its
    part of the centre's specific force: ``α (ω×(ω×b) + ω̇×b) + 2 α̇ ω×b + α̈ b`` at ``idx``."""
    alpha, alpha_dot, alpha_ddot = (a[:, None, None] for a in flexion)
    w = _cross_matrix(gyr_radps[idx])
    lever = w @ w + _cross_matrix(angular_acceleration_radps2(t_s, gyr_radps, idx))
    return alpha * lever + 2.0 * alpha_dot * w + alpha_ddot * np.eye(3)


def angular_acceleration_radps2(t_s: np.ndarray, gyr_radps: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
    """(N, 3) rad/s², sensor frame: differences of the angular rate (N, 3) over ``t_s`` (N,), as
    :func:`numpy.gradient` computes them (second-order central inside, one-sided at the ends) —
    at the samples ``idx`` (n,) only when given ((n, 3) then)."""
    if idx is None:
        return np.gradient(gyr_radps, t_s, axis=0)
    last = t_s.size - 1
    inner = (idx > 0) & (idx < last)
    all_inner = bool(inner.all())
    at = idx if all_inner else idx[inner]
    t_at = t_s.take(at)
    hb = (t_at - t_s.take(at - 1))[:, None]
    ha = (t_s.take(at + 1) - t_at)[:, None]
    # Rows gathered with ``take`` (faster than fancy indexing; the same values).
    inside = (-ha / (hb * (hb + ha)) * gyr_radps.take(at - 1, axis=0) + (ha - hb) / (hb * ha) * gyr_radps.take(at, axis=0)
              + hb / (ha * (hb + ha)) * gyr_radps.take(at + 1, axis=0))
    if all_inner:
        return inside
    out = np.empty((idx.size, gyr_radps.shape[1]))
    out[inner] = inside
    first, end = idx == 0, idx == last
    out[first] = (gyr_radps[1] - gyr_radps[0]) / (t_s[1] - t_s[0])
    out[end] = (gyr_radps[last] - gyr_radps[last - 1]) / (t_s[last] - t_s[last - 1])
    return out


def centre_force_world_mps2(
    t_s: np.ndarray, q_world_sensor: np.ndarray, gyr_radps: np.ndarray, acc_mps2: np.ndarray, centre_sensor_m: np.ndarray,
    idx: np.ndarray | None = None,
) -> np.ndarray:
    """Specific force (M, 3), m/s², of the point ``centre_sensor_m`` (3,) (from the sensor, sensor
    frame) in the sensor's world frame, over the grid ``t_s`` (M,); inputs (M, 4) unit / (M, 3).
    With ``idx`` (n,): at those grid samples only, (n, 3) (the angular acceleration still comes
    from the neighbouring grid samples)."""
    idx = np.arange(t_s.size) if idx is None else idx
    if idx.size > CHUNK_ROWS:  # in blocks: the temporaries stay in the CPU cache (the same values)
        out = np.empty((idx.size, 3))
        for rows in row_chunks(idx.size):
            out[rows] = centre_force_world_mps2(t_s, q_world_sensor, gyr_radps, acc_mps2, centre_sensor_m, idx[rows])
        return out
    w = gyr_radps.take(idx, axis=0)
    r = np.asarray(centre_sensor_m, dtype=float)
    # a + ω×(ω×r) + ω̇×r, the cross products component by component (np.cross's arithmetic,
    # without its copies of the operands).
    w_x_r = _cross(w, r)
    f_sensor = acc_mps2.take(idx, axis=0)
    f_sensor += _cross(w, w_x_r)
    f_sensor += _cross(angular_acceleration_radps2(t_s, gyr_radps, idx), r)
    return quat_rotate(q_world_sensor.take(idx, axis=0), f_sensor)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a × b`` for (n, 3) ``a`` and (n, 3) or (3,) ``b``: the same operations as ``np.cross``."""
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = (b[:, 0], b[:, 1], b[:, 2]) if b.ndim == 2 else (b[0], b[1], b[2])
    out = np.empty(a.shape)
    out[:, 0] = a1 * b2 - a2 * b1
    out[:, 1] = a2 * b0 - a0 * b2
    out[:, 2] = a0 * b1 - a1 * b0
    return out


def heading_between(
    f_thigh_world_mps2: np.ndarray, f_shank_world_mps2: np.ndarray, scale_mps2: float = RESIDUAL_SCALE_MPS2,
    iterations: int = 6,
) -> tuple[float, float]:
    """Heading ``δ`` (rad) turning the shank's world vectors (N, 3) onto the thigh's, and the
    weighted RMS (m/s²) of what is left (:func:`headings_between` for one window)."""
    delta, rms = headings_between(f_thigh_world_mps2[None], f_shank_world_mps2[None],
                                  np.ones((1, f_thigh_world_mps2.shape[0]), dtype=bool), scale_mps2, iterations)
    return float(delta[0]), float(rms[0])


def headings_between(
    f_thigh_world_mps2: np.ndarray, f_shank_world_mps2: np.ndarray, valid: np.ndarray,
    scale_mps2: float = RESIDUAL_SCALE_MPS2, iterations: int = 6, with_offset: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`heading_between` for K windows at once: vectors (K, n, 3), of which ``valid`` (K, n)
    bool are the window's (the rest is padding and carries no weight); returns ``δ`` (K,) rad and
    the weighted RMS (K,) m/s².

    Closed form per iteration: with horizontal parts as complex numbers ``u`` (thigh) and ``v``
    (shank), ``Σ w|u − e^{iδ} v|²`` is smallest at ``δ = arg Σ w u v̄``; the weights ``w`` are the
    Cauchy weights of the residuals (iteratively reweighted least squares). ``with_offset``: a
    constant horizontal vector per window is fitted too (``Σ w|u − e^{iδ} v − c|²``, smallest with
    ``u`` and ``v`` taken about their weighted means) — what a slowly varying inclination error of
    either fusion (gravity leaking into the horizontal, 0.17 m/s² per degree) or an accelerometer
    bias adds; walking's horizontal knee acceleration averages to nearly zero over a window.
    """
    u = f_thigh_world_mps2[..., 0] + 1j * f_thigh_world_mps2[..., 1]
    v = f_shank_world_mps2[..., 0] + 1j * f_shank_world_mps2[..., 1]
    dz2 = (f_thigh_world_mps2[..., 2] - f_shank_world_mps2[..., 2]) ** 2
    w = valid.astype(float)
    du, dv = u, v
    uv = u * np.conj(v)
    delta = np.zeros(u.shape[0])
    r2 = dz2
    for _ in range(iterations):
        if with_offset:  # about the weighted means: the offset's optimum for these weights
            total = np.sum(w, axis=1, keepdims=True)
            du, dv = u - np.sum(w * u, axis=1, keepdims=True) / total, v - np.sum(w * v, axis=1, keepdims=True) / total
            uv = du * np.conj(dv)
        delta = np.angle(np.sum(w * uv, axis=1))
        r2 = np.abs(du - np.exp(1j * delta)[:, None] * dv) ** 2 + dz2
        w = valid / (1.0 + r2 / scale_mps2**2)
    return delta, np.sqrt(np.sum(w * r2, axis=1) / np.sum(w, axis=1))


def _centre_terms(
    t_s: np.ndarray, q_world_sensor: np.ndarray, gyr_radps: np.ndarray, acc_mps2: np.ndarray, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """At the samples ``idx``: the sensor's specific force in its world frame (n, 3) and the
    matrices (n, 3, 3) giving the lever-arm term ``ω×(ω×r) + ω̇×r`` in world from the centre's
    position ``r`` (sensor frame) — the centre's specific force is linear in ``r``."""
    m = Rotation.from_quat(q_world_sensor[idx], scalar_first=True).as_matrix()
    w, w_dot = gyr_radps[idx], angular_acceleration_radps2(t_s, gyr_radps, idx)
    lever = _cross_matrix(w) @ _cross_matrix(w) + _cross_matrix(w_dot)  # r ↦ ω×(ω×r) + ω̇×r
    return np.einsum("nij,nj->ni", m, acc_mps2[idx]), m @ lever


def _cross_matrix(v: np.ndarray) -> np.ndarray:
    """(n, 3, 3) matrices of ``r ↦ v × r`` for vectors ``v`` (n, 3)."""
    out = np.zeros((v.shape[0], 3, 3))
    out[:, 0, 1], out[:, 0, 2] = -v[:, 2], v[:, 1]
    out[:, 1, 0], out[:, 1, 2] = v[:, 2], -v[:, 0]
    out[:, 2, 0], out[:, 2, 1] = -v[:, 1], v[:, 0]
    return out


def fit_joint_centre(
    rec: LegRecording,
    mask: np.ndarray,
    max_samples: int = 3000,
    scale_mps2: float = RESIDUAL_SCALE_MPS2,
    heading_near_rad: float | None = None,
    flexion_axes: FlexionAxes | None = None,
) -> JointCentre:
    """Fit the joint centre's position from both sensors and their heading offset (with a linear
    drift) to the samples in ``mask``.

    Parameters
    ----------
    rec : the leg on its grid (the angular acceleration is differentiated from the whole grid,
        so pass the grid, not the masked samples); ``mask`` (M,) bool on that grid.
    max_samples : evenly spread subset of ``mask`` used for the fit.
    heading_near_rad : when given, of the two fits 180° apart the one whose heading is nearer to
        this is returned (its ``heading_contrast`` may then be below 1): for walks whose mostly
        sagittal accelerations fit both ways about equally, where another estimate tells the way.
    flexion_axes : when given, the centre moves on the thigh sensor linearly with the knee flexion
        read from these (soft tissue, the module docstring), and that motion is fitted too.
    """
    idx = np.flatnonzero(mask)
    idx = idx[np.linspace(0, idx.size - 1, min(idx.size, max_samples)).astype(int)]
    # The centre's specific force in world is linear in the centre's position r: f_w + A r.
    t_s = rec.t_s
    f1_world, a1 = _centre_terms(t_s, rec.q_world_thigh_sensor, rec.gyr_thigh_radps, rec.acc_thigh_mps2, idx)
    f2_world, a2 = _centre_terms(t_s, rec.q_world_shank_sensor, rec.gyr_shank_radps, rec.acc_shank_mps2, idx)
    if flexion_axes is not None:
        # The centre at r + α b from the thigh sensor: the unknowns (r, b) side by side, still linear.
        a1 = np.concatenate([a1, _world_matrices(rec.q_world_thigh_sensor, idx)
                             @ _flexion_terms(t_s, rec.gyr_thigh_radps, idx, flexion_axes.flexion_rad(rec, idx))],
                            axis=2)
    n1 = a1.shape[2]  # unknowns of the thigh sensor's centre: 3, or 6 with its motion per flexion
    n_par = 5 + n1
    t_ref = float(np.mean(t_s[idx]))
    dt = t_s[idx] - t_ref
    n = idx.size

    last: list = [None, None]  # the solver asks for the residual and then the Jacobian at the same x

    def parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(thigh-side centre force, shank-side centre force turned by δ, e^{iδ}) — world frames."""
        if last[0] is not None and np.array_equal(last[0], x):
            return last[1]
        last[0], last[1] = x.copy(), _parts(x)
        return last[1]

    def _parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = f1_world + np.einsum("nij,j->ni", a1, x[2:2 + n1])
        b = f2_world + np.einsum("nij,j->ni", a2, x[2 + n1:])
        turn = np.exp(1j * (x[0] + x[1] * dt))
        bc = turn * (b[:, 0] + 1j * b[:, 1])
        return a, np.column_stack([bc.real, bc.imag, b[:, 2]]), turn

    def residual(x: np.ndarray) -> np.ndarray:
        a, b, _ = parts(x)
        return (a - b).ravel()

    def jacobian(x: np.ndarray) -> np.ndarray:
        _, b, turn = parts(x)
        jac = np.zeros((n, 3, n_par))
        d_delta = np.column_stack([b[:, 1], -b[:, 0], np.zeros(n)])  # ∂(−turned b)/∂δ
        jac[:, :, 0] = d_delta
        jac[:, :, 1] = d_delta * dt[:, None]
        jac[:, :, 2:2 + n1] = a1
        turned_a2 = a2.copy()
        rows = turn[:, None] * (a2[:, 0, :] + 1j * a2[:, 1, :])
        turned_a2[:, 0, :], turned_a2[:, 1, :] = rows.real, rows.imag
        jac[:, :, 2 + n1:] = -turned_a2
        return jac.reshape(3 * n, n_par)

    def fit(x0: np.ndarray, fixed_heading: bool = False):
        if not fixed_heading:
            return least_squares(residual, x0, jac=jacobian, loss="cauchy", f_scale=scale_mps2, x_scale="jac")
        # Heading offset held at x0[0]: the other parameters are fitted.
        return least_squares(
            lambda y: residual(np.r_[x0[0], y]), x0[1:], jac=lambda y: jacobian(np.r_[x0[0], y])[:, 1:],
            loss="cauchy", f_scale=scale_mps2, x_scale="jac",
        )

    # Start from the heading that turns the sensors' own accelerations onto each other (the
    # body's accelerations dominate the lever-arm terms), then compare with the opposite heading.
    start, _ = heading_between(f1_world, f2_world, scale_mps2)
    best = fit(np.r_[start, np.zeros(n_par - 1)])
    flipped = fit(np.r_[best.x[0] + np.pi, best.x[1:]], fixed_heading=True)
    if flipped.cost < best.cost:  # the start was on the wrong side: refit from the other one
        best, flipped = fit(np.r_[best.x[0] + np.pi, flipped.x]), best
    if heading_near_rad is not None and np.cos(best.x[0] - heading_near_rad) < 0.0:
        best, flipped = fit(np.r_[best.x[0] + np.pi, flipped.x]), best
    raw = best.fun.reshape(-1, 3)
    return JointCentre(
        centre_thigh_sensor_m=best.x[2:5],
        centre_shank_sensor_m=best.x[2 + n1:],
        heading_offset_rad=float(np.angle(np.exp(1j * best.x[0]))),
        heading_drift_radps=float(best.x[1]),
        t_ref_s=t_ref,
        residual_rms_mps2=float(np.sqrt(np.mean(np.sum(raw**2, axis=1)))),
        heading_contrast=float(flipped.cost / max(best.cost, 1e-12)),
        flexion_axes=flexion_axes,
        centre_thigh_per_flexion_m=best.x[5:8] if flexion_axes is not None else None,
    )
