"""The one interface every orientation filter offers, and the plain data it returns.

A filter object keeps its settings (frozen), its state (inside, changed by ``update`` and
``estimate``) and reports diagnostics apart from the orientation. ``update`` (one sample, for live
use) and ``estimate`` (many samples, for recordings) advance the *same* state, so running
``estimate`` over a recording gives what ``update`` would give sample by sample.

Every filter integrates the gyroscope as ``q_k = q_{k-1} ⊗ exp(ω·Ts)``, which needs the mean rate
over the interval ``[t_{k-1}, t_k]``. A device whose samples are the rate *at* ``t_k``
(``GyroSampling.INSTANT``, the default) is fed the trapezoid ``(ω_{k-1} + ω_k) / 2`` instead of
``ω_k``, which would make the orientation lead by half a sample (``docs/fusion.md``). The previous
sample is part of the state, so blocks fed one after another give what one call over all gives.

Output is always ``q_world_sensor``: scalar-first Hamilton quaternion of the sensor frame in a
z-up world frame (ENU when the magnetometer is used; otherwise heading starts arbitrary),
whatever frame and quaternion order the wrapped library uses.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from imugait.errors import ImugaitError, ValidationError
from imugait.fusion.settings import FilterKind, FilterTuning, FusionSettings
from imugait.model import ACC_MEDIAN_MIN_MPS2, MAX_GYR_RADPS, GyroSampling


class BatchOnlyError(ImugaitError, TypeError):
    """A batch-only filter (offline VQF) was asked for a per-sample update."""


@dataclass(frozen=True)
class FilterStatus:
    """Diagnostics of the latest sample of a running filter; None where the filter has none.

    Attributes
    ----------
    rest_detected : bool or None
    gyr_bias_radps : (3,) array, rad/s, sensor frame, or None — the filter's gyro-bias estimate.
    mag_disturbed : bool or None — True while the magnetometer is being rejected (9-axis VQF).
    """

    rest_detected: bool | None = None
    gyr_bias_radps: np.ndarray | None = None
    mag_disturbed: bool | None = None


@dataclass(frozen=True)
class FusionDiagnostics:
    """Per-sample diagnostics of a batch run; None where the filter does not provide them.

    Attributes
    ----------
    rest_detected : (N,) bool or None
    gyr_bias_radps : (N, 3) rad/s, sensor frame, or None — gyro-bias estimate.
    gyr_bias_sigma_radps : (N,) rad/s or None — standard deviation of the bias estimate (VQF).
    mag_disturbed : (N,) bool or None — magnetic disturbance detected (9-axis VQF only).
    """

    rest_detected: np.ndarray | None = None
    gyr_bias_radps: np.ndarray | None = None
    gyr_bias_sigma_radps: np.ndarray | None = None
    mag_disturbed: np.ndarray | None = None


@dataclass(frozen=True)
class FusionResult:
    """Orientations of a recording and the diagnostics of the run that made them.

    Attributes
    ----------
    q_world_sensor : (N, 4) float64, scalar first, sensor frame in the z-up world frame.
    diagnostics : FusionDiagnostics
    kind : FilterKind
    settings : FusionSettings
    """

    q_world_sensor: np.ndarray
    diagnostics: FusionDiagnostics
    kind: FilterKind
    settings: FusionSettings

    @property
    def heading_is_magnetic(self) -> bool:
        """True when heading refers to magnetic north (9-axis); else it is arbitrary at the start."""
        return self.settings.use_magnetometer


class OrientationFilter(ABC):
    """Base of every filter. Construct with :class:`FusionSettings`; see the module docstring.

    Subclasses implement ``_step`` (one validated sample), ``_status`` and ``_reset``; they may
    override ``_run_batch`` when the library has a faster batch path than a loop over ``_step``.
    """

    kind: ClassVar[FilterKind]

    def __init__(self, settings: FusionSettings) -> None:
        if not isinstance(settings, FusionSettings):
            raise ValidationError(f"settings must be FusionSettings, got {type(settings).__name__}")
        self._settings = settings
        self._tuning = settings.tuning_for(self.kind)
        self._instant = settings.gyr_sampling is GyroSampling.INSTANT
        self._gyr_last: np.ndarray | None = None
        self._reset()

    @property
    def settings(self) -> FusionSettings:
        return self._settings

    @property
    def tuning(self) -> FilterTuning:
        """The tuning in use (the filter's defaults when the settings gave none)."""
        return self._tuning

    def reset(self) -> None:
        """Forget all state: the next sample starts a new recording."""
        self._gyr_last = None
        self._reset()

    def update(self, gyr_radps: np.ndarray, acc_mps2: np.ndarray, mag_uT: np.ndarray | None = None) -> np.ndarray:
        """Feed one sample; return the orientation after it.

        Parameters
        ----------
        gyr_radps : (3,) rad/s, sensor frame.
        acc_mps2 : (3,) m/s², sensor frame, specific force (+1 g up at rest).
        mag_uT : (3,) µT, sensor frame, or None. Required when ``settings.use_magnetometer``;
            ignored otherwise.

        Returns
        -------
        (4,) float64 ``q_world_sensor``, scalar first.
        """
        gyr = _vector(gyr_radps, "gyr_radps")
        acc = _vector(acc_mps2, "acc_mps2")
        mag = self._mag_or_none(mag_uT, _vector)
        if not self._instant:
            return self._step(gyr, acc, mag)
        last, self._gyr_last = self._gyr_last, gyr.copy()
        return self._step(gyr if last is None else 0.5 * (last + gyr), acc, mag)

    def status(self) -> FilterStatus:
        """Diagnostics after the latest sample (rest, gyro bias, magnetic disturbance)."""
        return self._status()

    def reseed(self, q_world_sensor: np.ndarray) -> None:
        """Continue from the orientation ``q_world_sensor`` (4,) (a sensor back after its samples
        were lost), keeping what the filter learnt of the sensor (gyroscope bias). Filters that
        cannot raise :class:`NotImplementedError`. The gyroscope sample before the gap is
        forgotten: the first one after it starts the integration afresh, as a first sample does."""
        self._reseed(q_world_sensor)
        self._gyr_last = None

    def estimate(self, gyr_radps: np.ndarray, acc_mps2: np.ndarray, mag_uT: np.ndarray | None = None,
                 check_units: bool = True) -> FusionResult:
        """Run the filter over ``N`` samples, continuing from the current state.

        ``check_units=False`` skips the check for deg/s and g (a median over the samples): a live
        caller feeding blocks of a few samples checks a longer stretch once instead (a short
        block's median says nothing, e.g. a few samples in a jump).

        Parameters
        ----------
        gyr_radps : (N, 3) rad/s, sensor frame.
        acc_mps2 : (N, 3) m/s², sensor frame, specific force (+1 g up at rest).
        mag_uT : (N, 3) µT, sensor frame, or None. Required when ``settings.use_magnetometer``;
            ignored otherwise.

        Returns
        -------
        FusionResult with ``q_world_sensor`` (N, 4) and per-sample diagnostics.
        """
        q, diagnostics = self._run_batch(*self._batch_input(gyr_radps, acc_mps2, mag_uT, check_units))
        return FusionResult(q_world_sensor=q, diagnostics=diagnostics, kind=self.kind, settings=self._settings)

    def orientations(self, gyr_radps: np.ndarray, acc_mps2: np.ndarray, mag_uT: np.ndarray | None = None,
                     check_units: bool = True) -> np.ndarray:
        """:meth:`estimate`'s ``q_world_sensor`` (N, 4) alone — the same inputs, checks and values
        — for a caller that does not read the diagnostics (the live pipeline, a few samples per
        block: gathering them per call costs about as much as the filter's own update)."""
        return self._run_orientations(*self._batch_input(gyr_radps, acc_mps2, mag_uT, check_units))

    def _batch_input(self, gyr_radps, acc_mps2, mag_uT, check_units: bool) -> tuple:
        """(gyr, acc, mag) of a batch, validated (see :meth:`estimate`)."""
        gyr = _series(gyr_radps, "gyr_radps")
        acc = _series(acc_mps2, "acc_mps2", n=gyr.shape[0])
        mag = self._mag_or_none(mag_uT, lambda m, name: _series(m, name, n=gyr.shape[0]))
        if check_units:
            _check_units(gyr, acc)
        return self._interval_rates(gyr), acc, mag

    def _interval_rates(self, gyr: np.ndarray) -> np.ndarray:
        """(N, 3) the rate to integrate over each sample's interval: ``gyr`` itself for
        ``INTERVAL_MEAN`` samples, else the trapezoid with the sample before (the previous call's
        last one; none for the first sample of a recording, and none for a filter whose calls are
        each a whole recording — offline VQF)."""
        if not self._instant:
            return gyr
        last = self._gyr_last if self.kind.causal else None
        self._gyr_last = gyr[-1].copy()
        out = np.empty_like(gyr)
        np.add(gyr[1:], gyr[:-1], out=out[1:])
        out[1:] *= 0.5
        out[0] = gyr[0] if last is None else 0.5 * (last + gyr[0])
        return out

    # --- for subclasses -------------------------------------------------------------------

    @abstractmethod
    def _reset(self) -> None: ...

    @abstractmethod
    def _step(self, gyr: np.ndarray, acc: np.ndarray, mag: np.ndarray | None) -> np.ndarray: ...

    @abstractmethod
    def _status(self) -> FilterStatus: ...

    def _reseed(self, q_world_sensor: np.ndarray) -> None:
        raise NotImplementedError(f"the {self.kind.value} filter cannot be re-seeded")

    def _run_batch(self, gyr: np.ndarray, acc: np.ndarray, mag: np.ndarray | None) -> tuple[np.ndarray, FusionDiagnostics]:
        """Default batch path: the per-sample step in a loop, collecting the status."""
        n = gyr.shape[0]
        q = np.empty((n, 4))
        first = self._status()
        bias = np.empty((n, 3)) if first.gyr_bias_radps is not None else None
        for i in range(n):
            q[i] = self._step(gyr[i], acc[i], None if mag is None else mag[i])
            if bias is not None:
                bias[i] = self._status().gyr_bias_radps
        return q, FusionDiagnostics(gyr_bias_radps=bias)

    def _run_orientations(self, gyr: np.ndarray, acc: np.ndarray, mag: np.ndarray | None) -> np.ndarray:
        """The orientations of :meth:`_run_batch`; filters whose diagnostics cost extra per call
        may skip them here."""
        return self._run_batch(gyr, acc, mag)[0]

    def _mag_or_none(self, mag_uT, check) -> np.ndarray | None:
        if not self._settings.use_magnetometer:
            return None
        if mag_uT is None:
            raise ValidationError(
                f"the {self.kind.value} filter was set up with use_magnetometer=True but got no mag_uT; "
                "pass magnetometer data or use use_magnetometer=False (6-axis)"
            )
        return check(mag_uT, "mag_uT")


def _vector(value, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (3,):
        raise ValidationError(f"{name} must be one sample of shape (3,), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(f"{name} has NaN or infinite values: {arr}")
    return np.ascontiguousarray(arr)


def _series(value, name: str, n: int | None = None) -> np.ndarray:
    try:
        arr = np.ascontiguousarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} is not numeric ({exc})") from None
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] < 1:
        raise ValidationError(f"{name} must have shape (N, 3) with N >= 1 (time first), got {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValidationError(f"{name} has {arr.shape[0]} samples but gyr_radps has {n}; pass equally long arrays")
    if np.count_nonzero(np.isfinite(arr)) == arr.size:  # the common case, without the mask of bad samples
        return arr
    bad = ~np.isfinite(arr).all(axis=1)
    if np.count_nonzero(bad):
        raise ValidationError(f"{name} has NaN or infinite values (first at sample {int(np.flatnonzero(bad)[0])}); "
                              "fill or cut them before fusion")
    return arr


def _check_units(gyr: np.ndarray, acc: np.ndarray) -> None:
    """Catch the two unit mistakes that silently ruin orientations: deg/s and g."""
    gyr_max = float(np.sqrt(np.einsum("ij,ij->i", gyr, gyr).max()))
    if gyr_max > MAX_GYR_RADPS:
        raise ValidationError(f"gyroscope magnitude reaches {gyr_max:.0f} rad/s — is gyr in deg/s instead of rad/s?")
    acc_median = float(np.median(np.sqrt(np.einsum("ij,ij->i", acc, acc))))
    if acc_median < ACC_MEDIAN_MIN_MPS2:
        raise ValidationError(f"median accelerometer magnitude is {acc_median:.3f} m/s² — is acc in g instead of m/s²?")
