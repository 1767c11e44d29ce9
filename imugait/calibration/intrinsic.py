"""Intrinsic calibration of the gyroscope and accelerometer from still periods.

* Gyroscope bias: the mean angular rate over still periods (the earth's rotation, 7.3e-5 rad/s,
  is below what consumer gyroscopes resolve and is ignored), each period weighted by the inverse
  variance of its mean.
* Accelerometer: bias, scale and (with enough positions) misalignment from a multi-position
  procedure. The error model is ``raw = G @ true + b``; the fit finds the correction ``C`` and
  ``b`` with ``|C (raw - b)| = g`` in every still position (least squares). Only ``C G`` being a
  rotation is observable from gravity alone, so ``C`` is fixed upper-triangular: the corrected z
  axis is the raw z sensing axis, the corrected y axis lies in the plane of the raw y and z axes.
  Each position gives one equation, so the per-axis model (bias + scale, 6 unknowns) needs 6
  positions (the six faces up) and the model with misalignment (9 unknowns) at least 9.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy.optimize import least_squares

from imugait.calibration.still import StillPeriod
from imugait.conventions import GRAVITY_MPS2
from imugait.errors import CalibrationError

_HALF_AXES = {
    "x up": (1, 0, 0), "x down": (-1, 0, 0), "y up": (0, 1, 0),
    "y down": (0, -1, 0), "z up": (0, 0, 1), "z down": (0, 0, -1),
}
_VAR_FLOOR_RADPS2 = 1e-12
"""Keeps weights finite for noise-free (simulated) or coarsely quantised data."""


@dataclass(frozen=True, eq=False)
class StillSummary:
    """Means of one still stretch (a still period, or one held position of the procedure).

    Attributes
    ----------
    t_start_s, t_end_s : first and last sample time, s.
    n_samples : samples averaged.
    acc_mean_mps2 : (3,) m/s², sensor frame, raw.
    gyr_mean_radps : (3,) rad/s, sensor frame, raw.
    gyr_var_radps2 : (3,) (rad/s)², per-axis sample variance of the gyroscope.
    """

    t_start_s: float
    t_end_s: float
    n_samples: int
    acc_mean_mps2: np.ndarray
    gyr_mean_radps: np.ndarray
    gyr_var_radps2: np.ndarray

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def up_direction(self) -> np.ndarray:
        """(3,) unit vector, sensor frame: the direction that points up (along mean specific force)."""
        return self.acc_mean_mps2 / np.linalg.norm(self.acc_mean_mps2)

    @classmethod
    def of_samples(cls, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_radps: np.ndarray) -> StillSummary:
        """Summary of ``(N,)`` times and ``(N, 3)`` raw accelerometer and gyroscope samples."""
        gyr = np.asarray(gyr_radps, dtype=float)
        return cls(
            float(t_s[0]), float(t_s[-1]), int(len(t_s)), np.mean(acc_mps2, axis=0),
            gyr.mean(axis=0), gyr.var(axis=0, ddof=1) if len(gyr) > 1 else np.zeros(3),
        )


def summarise_still(
    t_s: np.ndarray, acc_mps2: np.ndarray, gyr_radps: np.ndarray, periods: list[StillPeriod]
) -> list[StillSummary]:
    """One :class:`StillSummary` per still period (``(N,)`` s, ``(N, 3)`` m/s², ``(N, 3)`` rad/s)."""
    return [StillSummary.of_samples(t_s[p.slice], acc_mps2[p.slice], gyr_radps[p.slice]) for p in periods]


@dataclass
class GyroBias:
    """Gyroscope bias estimate.

    Attributes
    ----------
    gyr_bias_radps : (3,) rad/s, sensor frame; subtract it from raw readings.
    standard_error_radps : (3,) rad/s, from the scatter within the periods (white noise only).
    still_s : seconds of still data used.
    n_periods : still periods used.
    """

    gyr_bias_radps: np.ndarray
    standard_error_radps: np.ndarray
    still_s: float
    n_periods: int


def estimate_gyro_bias(summaries: list[StillSummary], min_still_s: float = 2.0) -> GyroBias:
    """Weighted mean angular rate over still stretches.

    Each stretch's mean is weighted per axis by the inverse of its variance (``n / var``), so a
    stretch with more samples or less vibration counts more.

    Raises
    ------
    CalibrationError
        Fewer than ``min_still_s`` seconds of still data.
    """
    still_s = float(sum(s.duration_s for s in summaries))
    if not summaries or still_s < min_still_s:
        raise CalibrationError(
            f"only {still_s:.1f} s of still data for the gyroscope bias (need {min_still_s:g} s): "
            f"lay the sensor on a table and leave it untouched for a few seconds"
        )
    means = np.array([s.gyr_mean_radps for s in summaries])
    weights = np.array([s.n_samples / np.maximum(s.gyr_var_radps2, _VAR_FLOOR_RADPS2) for s in summaries])
    total = weights.sum(axis=0)
    bias = (weights * means).sum(axis=0) / total
    return GyroBias(bias, 1.0 / np.sqrt(total), still_s, len(summaries))


class AccModel(Enum):
    """Which accelerometer errors the multi-position fit estimates."""

    SCALE = "scale"
    """Bias and per-axis scale (6 unknowns, needs ≥ 6 positions)."""
    SCALE_MISALIGNMENT = "scale_misalignment"
    """Bias, scale and axis misalignment (9 unknowns, needs ≥ 9 positions)."""
    AUTO = "auto"
    """Misalignment too when there are enough positions and they determine it; else SCALE."""


@dataclass(frozen=True)
class AccFitConfig:
    """Settings of the accelerometer multi-position fit."""

    model: AccModel = AccModel.AUTO
    same_position_deg: float = 25.0
    """Still stretches whose up directions are closer than this are one position."""
    min_positions: int = 6
    max_axis_gap_deg: float = 35.0
    """Each sensor axis must point up and down in some position to within this angle."""
    max_condition: float = 1e3
    """Refuse when the positions leave the fit this ill-conditioned (column-scaled Jacobian)."""
    max_residual_rms_mps2: float = 0.05
    """Refuse when the positions disagree by more than this about the magnitude of gravity."""
    gravity_mps2: float = GRAVITY_MPS2


@dataclass
class AccCalibration:
    """Accelerometer fit: ``corrected = acc_correction @ (raw - acc_bias_mps2)``.

    Attributes
    ----------
    acc_bias_mps2 : (3,) m/s², sensor frame.
    acc_correction : (3, 3) upper-triangular, dimensionless; raw → corrected.
    model : the model that was fitted (never AUTO).
    residual_rms_mps2 : RMS over positions of ``|corrected mean| - g``, m/s².
    n_positions : distinct positions used.
    condition : condition number of the column-scaled Jacobian at the solution.
    """

    acc_bias_mps2: np.ndarray
    acc_correction: np.ndarray
    model: AccModel
    residual_rms_mps2: float
    n_positions: int
    condition: float

    @property
    def acc_gain(self) -> np.ndarray:
        """(3, 3): the estimated ``G`` up to a rotation (``raw = G @ true + b``)."""
        return np.linalg.inv(self.acc_correction)

    @property
    def scale(self) -> np.ndarray:
        """(3,) per-axis scale factor (row norms of the gain; rotation-independent)."""
        return np.linalg.norm(self.acc_gain, axis=1)


def describe_direction(up: np.ndarray) -> str:
    """Name an up direction in the sensor frame: ``"z up"`` or ``"tilted, 40° from x up"``."""
    up = np.asarray(up, dtype=float) / np.linalg.norm(up)
    angles = {name: angle_deg(up, np.array(axis)) for name, axis in _HALF_AXES.items()}
    name = min(angles, key=angles.get)
    return name if angles[name] < 10.0 else f"tilted, {angles[name]:.0f}° from {name}"


def group_positions(summaries: list[StillSummary], same_position_deg: float = 25.0) -> list[StillSummary]:
    """Merge still stretches that are the same position (up directions within ``same_position_deg``)."""
    groups: list[list[StillSummary]] = []
    for s in summaries:
        for g in groups:
            if angle_deg(s.up_direction, g[0].up_direction) < same_position_deg:
                g.append(s)
                break
        else:
            groups.append([s])
    return [_merge(g) for g in groups]


def fit_accelerometer(summaries: list[StillSummary], config: AccFitConfig = AccFitConfig()) -> AccCalibration:
    """Fit accelerometer bias, scale (and misalignment) to still positions.

    Parameters
    ----------
    summaries : still stretches (merged with :func:`group_positions` first).
    config : AccFitConfig

    Raises
    ------
    CalibrationError
        Too few distinct positions, a sensor axis never pointed up or down, positions that do not
        determine the parameters, or positions that disagree (sensor moved or touched).
    """
    positions = group_positions(summaries, config.same_position_deg)
    found = ", ".join(describe_direction(p.up_direction) for p in positions) or "none"
    if len(positions) < config.min_positions:
        raise CalibrationError(
            f"only {len(positions)} distinct still position(s) found ({found}); the accelerometer "
            f"calibration needs at least {config.min_positions}: each face of the sensor pointing up once, "
            f"held still"
        )
    ups = np.array([p.up_direction for p in positions])
    gaps = []
    for name, axis in _HALF_AXES.items():
        closest = float(np.min([angle_deg(u, np.array(axis)) for u in ups]))
        if closest > config.max_axis_gap_deg:
            gaps.append(f"{name} (closest position {closest:.0f}° away)")
    if gaps:
        raise CalibrationError(
            f"the positions do not span enough directions: none had {'; none had '.join(gaps)}. "
            f"Positions found: {found}. Add those positions and hold each still"
        )
    means = np.array([p.acc_mean_mps2 for p in positions])
    model = config.model
    if model is AccModel.AUTO:
        model = AccModel.SCALE_MISALIGNMENT if len(positions) >= 9 else AccModel.SCALE
        fit = _fit(means, model, config.gravity_mps2)
        if fit.condition > config.max_condition and model is AccModel.SCALE_MISALIGNMENT:
            fit = _fit(means, AccModel.SCALE, config.gravity_mps2)
    else:
        needed = 9 if model is AccModel.SCALE_MISALIGNMENT else 6
        if len(positions) < needed:
            raise CalibrationError(
                f"the {model.value} model needs at least {needed} distinct positions, found "
                f"{len(positions)} ({found})"
            )
        fit = _fit(means, model, config.gravity_mps2)
    if fit.condition > config.max_condition:
        raise CalibrationError(
            f"the positions ({found}) do not determine the {fit.model.value} model (condition "
            f"number {fit.condition:.0f} > {config.max_condition:g}); use more distinct positions"
        )
    if fit.residual_rms_mps2 > config.max_residual_rms_mps2:
        raise CalibrationError(
            f"the positions disagree about the magnitude of gravity (residual {fit.residual_rms_mps2:.3f} "
            f"m/s² > {config.max_residual_rms_mps2:g}): was the sensor moved or touched while it "
            f"should have been still?"
        )
    return fit


def _fit(means: np.ndarray, model: AccModel, g: float) -> AccCalibration:
    n_params = 6 if model is AccModel.SCALE else 9

    def correction(x: np.ndarray) -> np.ndarray:
        c = np.diag(x[3:6])
        if model is AccModel.SCALE_MISALIGNMENT:
            c[0, 1], c[0, 2], c[1, 2] = x[6:9]
        return c

    def residuals(x: np.ndarray) -> np.ndarray:
        return np.linalg.norm((means - x[:3]) @ correction(x).T, axis=1) - g

    x0 = np.concatenate([np.zeros(3), np.ones(3), np.zeros(n_params - 6)])
    result = least_squares(residuals, x0, method="trf", xtol=1e-12, ftol=1e-12, gtol=1e-12)
    jac = result.jac
    norms = np.linalg.norm(jac, axis=0)
    sv = np.linalg.svd(jac / np.where(norms > 0, norms, 1.0), compute_uv=False)
    condition = float(sv[0] / sv[-1]) if sv[-1] > 0 and len(sv) == n_params else float("inf")
    return AccCalibration(
        acc_bias_mps2=result.x[:3].copy(),
        acc_correction=correction(result.x),
        model=model,
        residual_rms_mps2=float(np.sqrt(np.mean(result.fun**2))),
        n_positions=len(means),
        condition=condition,
    )


def _merge(group: list[StillSummary]) -> StillSummary:
    if len(group) == 1:
        return group[0]
    n = np.array([s.n_samples for s in group], dtype=float)
    w = n / n.sum()
    return StillSummary(
        min(s.t_start_s for s in group), max(s.t_end_s for s in group), int(n.sum()),
        sum(wi * s.acc_mean_mps2 for wi, s in zip(w, group, strict=True)),
        sum(wi * s.gyr_mean_radps for wi, s in zip(w, group, strict=True)),
        sum(wi * s.gyr_var_radps2 for wi, s in zip(w, group, strict=True)),
    )


def angle_deg(u: np.ndarray, v: np.ndarray) -> float:
    """Angle between two ``(3,)`` vectors, degrees."""
    c = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))
