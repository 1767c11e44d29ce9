"""Magnetometer hard- and soft-iron calibration from a rotation sequence (ellipsoid → sphere).

Model: ``raw = S @ true + h + noise`` with ``|true|`` the local field strength. Rotated through
all directions, raw readings lie on an ellipsoid centred on the hard iron ``h``. The fit finds
``h`` and a symmetric positive-definite soft-iron correction ``A`` with
``|A (raw - h)| = field_uT`` for every sample: first an algebraic quadric fit (linear least
squares) as the starting point, then the geometric residual refined with
:func:`scipy.optimize.least_squares`. ``A`` is normalised to ``det A = 1`` so that the corrected
field keeps the sensor's mean sensitivity; ``field_uT`` is the geometric-mean radius.

Coverage is checked twice: before the fit (readings spread in all three dimensions, not a flat
ring from turning about one axis only) and after it (the corrected directions reach most of the
sphere, :func:`direction_coverage`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from imugait.errors import CalibrationError

_REFERENCE_DIRECTIONS = np.array(
    [(x, y, z) for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1) if (x, y, z) != (0, 0, 0)], dtype=float
)
_REFERENCE_DIRECTIONS /= np.linalg.norm(_REFERENCE_DIRECTIONS, axis=1, keepdims=True)


def direction_coverage(vectors: np.ndarray, cone_deg: float = 40.0) -> float:
    """Fraction (0–1) of 26 directions spread over the sphere that some vector comes within ``cone_deg`` of.

    Parameters
    ----------
    vectors : (N, 3), any unit (normalised here), e.g. the field or gravity in the sensor frame.
    """
    v = np.asarray(vectors, dtype=float).reshape(-1, 3)
    norms = np.linalg.norm(v, axis=1)
    v = v[norms > 0] / norms[norms > 0, None]
    if v.size == 0:
        return 0.0
    best = np.max(v @ _REFERENCE_DIRECTIONS.T, axis=0)
    return float(np.mean(best >= np.cos(np.radians(cone_deg))))


def covered_directions(vectors: np.ndarray, cone_deg: float = 40.0) -> np.ndarray:
    """``(26,)`` bool: which reference directions of :func:`direction_coverage` are reached."""
    v = np.asarray(vectors, dtype=float).reshape(-1, 3)
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    return np.max(v @ _REFERENCE_DIRECTIONS.T, axis=0) >= np.cos(np.radians(cone_deg))


@dataclass(frozen=True)
class MagFitConfig:
    """Settings of the magnetometer fit."""

    min_samples: int = 100
    min_spread_ratio: float = 0.25
    """Smallest / largest SD of the raw readings along their principal axes; below it they lie
    on a flat ring (turned about one axis only)."""
    min_coverage: float = 0.6
    """Minimum :func:`direction_coverage` of the corrected field directions."""
    coverage_cone_deg: float = 40.0
    max_residual_ratio: float = 0.05
    """Refuse when the residual RMS exceeds this fraction of the field (a magnet or metal moved
    with the sensor, or the field changed during the rotation)."""


@dataclass
class MagCalibration:
    """Magnetometer fit: ``corrected = soft_iron @ (raw - hard_iron_uT)``.

    Attributes
    ----------
    hard_iron_uT : (3,) µT, sensor frame.
    soft_iron : (3, 3) symmetric, ``det = 1``, dimensionless.
    field_uT : local field strength after correction, µT.
    residual_rms_uT : RMS of ``|corrected| - field_uT`` over the samples, µT.
    coverage : :func:`direction_coverage` of the corrected readings (0–1).
    n_samples : samples fitted.
    """

    hard_iron_uT: np.ndarray
    soft_iron: np.ndarray
    field_uT: float
    residual_rms_uT: float
    coverage: float
    n_samples: int


def fit_magnetometer(mag_uT: np.ndarray, config: MagFitConfig = MagFitConfig()) -> MagCalibration:
    """Hard- and soft-iron correction from readings taken while rotating the sensor.

    Parameters
    ----------
    mag_uT : (N, 3) µT, sensor frame, raw readings from a rotation through many directions.

    Raises
    ------
    CalibrationError
        Too few samples, readings on a flat ring or a small patch (poor coverage), data that is
        not an ellipsoid, or a fit whose residual is too large.
    """
    m = np.asarray(mag_uT, dtype=float)
    if m.ndim != 2 or m.shape[1] != 3 or len(m) < config.min_samples:
        raise CalibrationError(
            f"the magnetometer needs at least {config.min_samples} readings from the rotation step, "
            f"got {len(m) if m.ndim == 2 else 0}: rotate the sensor slowly in all directions for 30 s"
        )
    centre0 = m.mean(axis=0)
    sd = np.sqrt(np.maximum(np.linalg.eigvalsh(np.cov((m - centre0).T)), 0.0))
    if sd[0] < config.min_spread_ratio * sd[-1]:
        raise CalibrationError(
            f"magnetometer coverage too poor: the readings lie almost in a plane (spread "
            f"{sd[0]:.1f} µT across it vs {sd[-1]:.1f} µT along it) — the sensor was turned about one "
            f"axis only. Also tip it forwards, backwards and onto its sides while rotating"
        )
    centre, shape = _algebraic_fit(m - centre0)
    hard0 = centre + centre0
    # Refine |a (m - h)| = 1 geometrically; a symmetric (6 entries).
    iu = np.triu_indices(3)

    def unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        upper = np.zeros((3, 3))
        upper[iu] = x[3:]
        return x[:3], upper + np.triu(upper, 1).T

    def residuals(x: np.ndarray) -> np.ndarray:
        h, a = unpack(x)
        return np.linalg.norm((m - h) @ a.T, axis=1) - 1.0

    x0 = np.concatenate([hard0, _sqrtm_spd(shape)[iu]])
    result = least_squares(residuals, x0, method="lm", xtol=1e-12, ftol=1e-12)
    hard, a = unpack(result.x)
    eig = np.linalg.eigvalsh(a)
    if np.any(eig <= 0):
        raise CalibrationError("the magnetometer fit failed (the correction is not positive definite)")
    radius_uT = float(np.prod(eig) ** (-1.0 / 3.0))
    soft = a * radius_uT
    corrected = (m - hard) @ soft.T
    residual_uT = float(np.sqrt(np.mean((np.linalg.norm(corrected, axis=1) - radius_uT) ** 2)))
    coverage = direction_coverage(corrected, config.coverage_cone_deg)
    if coverage < config.min_coverage:
        raise CalibrationError(
            f"magnetometer coverage too poor: the readings reach {coverage:.0%} of the directions "
            f"(need {config.min_coverage:.0%}). Rotate the sensor slowly through every orientation — "
            f"each face pointing up, down and to the sides — for 30 s"
        )
    if residual_uT > config.max_residual_ratio * radius_uT:
        raise CalibrationError(
            f"the magnetometer readings do not fit an ellipsoid (residual {residual_uT:.1f} µT of "
            f"{radius_uT:.1f} µT): keep away from metal, magnets, phones and laptops, and do not "
            f"walk around while rotating the sensor"
        )
    return MagCalibration(hard, soft, radius_uT, residual_uT, coverage, len(m))


def _algebraic_fit(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre ``(3,)`` and shape ``M`` (``(m - c)ᵀ M (m - c) = 1``) of the best quadric."""
    x, y, z = m.T
    design = np.column_stack([x * x, y * y, z * z, 2 * y * z, 2 * x * z, 2 * x * y, 2 * x, 2 * y, 2 * z])
    v, *_ = np.linalg.lstsq(design, np.ones(len(m)), rcond=None)
    q = np.array([[v[0], v[5], v[4]], [v[5], v[1], v[3]], [v[4], v[3], v[2]]])
    u = v[6:9]
    try:
        centre = -np.linalg.solve(q, u)
    except np.linalg.LinAlgError:
        raise CalibrationError("the magnetometer readings do not form an ellipsoid (singular fit)") from None
    k = 1.0 + centre @ q @ centre
    shape = q / k
    if k <= 0 or np.any(np.linalg.eigvalsh(shape) <= 0):
        raise CalibrationError(
            "the magnetometer readings do not form an ellipsoid: was a magnet or metal object near "
            "the sensor, or did it not turn through enough directions?"
        )
    return centre, shape


def _sqrtm_spd(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(w)) @ v.T
