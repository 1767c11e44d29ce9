"""Madgwick, Mahony and EKF from the ``ahrs`` package (0.4), wrapped into imugait's conventions.

What each ahrs filter expects, checked numerically by ``tests/fusion/test_fusion_frames.py``:

* All three: scalar-first quaternions, sensor-to-earth (``q ⊗ [0, ω]`` propagation), gyro rad/s.
  Accelerometer and magnetometer are normalised, so only their directions matter (ahrs'
  docstrings variously say nT, µT or mT; the unit is irrelevant).
* Madgwick: earth frame z up with specific force (+1 g up at rest); its 9-axis reference puts the
  horizontal field on +x, i.e. earth = **NWU**. We rotate by +90° about z to get ENU.
* Mahony: z up; its 9-axis reference puts the horizontal field on +y: earth = **ENU** already.
* EKF: we use ``frame='ENU'``, whose gravity reference is ``[0, 0, -1]``: it expects the
  accelerometer to point *down*, so we pass ``-acc``. Its field reference needs the dip angle,
  which we estimate from the first sample unless tuned. Its measurement model tests the
  constructor's ``mag`` attribute rather than the ``update`` argument, so 9-axis mode sets it.
* None starts from a good pose by itself, so every wrapper starts from
  :func:`~imugait.quaternion.orientation_from_acc_mag` of its first sample (no gyro step
  on that sample), as BROAD's reference code does.
"""

from __future__ import annotations

import math

import numpy as np
from ahrs.filters import EKF, Madgwick, Mahony

from imugait.fusion.base import FilterStatus, OrientationFilter
from imugait.fusion.settings import FilterKind
from imugait.quaternion import orientation_from_acc_mag, quat_about_z, quat_multiply

MADGWICK_GAIN_6D = 0.033
"""ahrs' default β without magnetometer."""
MADGWICK_GAIN_9D = 0.041
"""ahrs' default β with magnetometer."""

_Q_ENU_NWU = quat_about_z(math.pi / 2)
"""Rotation of NWU (Madgwick's 9-axis earth frame) into ENU: north (x_NWU) becomes y_ENU."""


class _AhrsFilter(OrientationFilter):
    """Common part: first-sample start, library-frame state, conversion to the world frame."""

    _q_world_lib: np.ndarray | None = None
    """Constant rotation from the library's earth frame to ours; None when they coincide."""

    def _reset(self) -> None:
        self._q_lib: np.ndarray | None = None
        self._make()

    def _step(self, gyr, acc, mag):
        if self._q_lib is None:
            q_world = orientation_from_acc_mag(acc, mag)
            self._start(acc, mag)
            conv = self._q_world_lib
            self._q_lib = q_world if conv is None else quat_multiply(_conj(conv), q_world)
            return q_world
        self._q_lib = np.asarray(self._lib_update(self._q_lib, gyr, acc, mag), dtype=np.float64)
        conv = self._q_world_lib
        return self._q_lib.copy() if conv is None else quat_multiply(conv, self._q_lib)

    def _start(self, acc, mag) -> None:
        """Hook for set-up that needs the first sample."""

    def _status(self) -> FilterStatus:
        return FilterStatus()

    def _make(self) -> None:
        raise NotImplementedError

    def _lib_update(self, q, gyr, acc, mag):
        raise NotImplementedError


def _conj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


class MadgwickFilter(_AhrsFilter):
    """ahrs Madgwick. No gyro-bias estimation: expect heading drift without a magnetometer."""

    kind = FilterKind.MADGWICK

    def _make(self) -> None:
        use_mag = self.settings.use_magnetometer
        gain = self.tuning.gain
        if gain is None:
            gain = MADGWICK_GAIN_9D if use_mag else MADGWICK_GAIN_6D
        self._lib = Madgwick(frequency=1.0 / self.settings.sample_period_s, gain=float(gain))
        self._q_world_lib = _Q_ENU_NWU if use_mag else None

    def _lib_update(self, q, gyr, acc, mag):
        if mag is None:
            return self._lib.updateIMU(q, gyr, acc)
        return self._lib.updateMARG(q, gyr, acc, mag)


class MahonyFilter(_AhrsFilter):
    """ahrs Mahony. Its integral term is a gyro-bias estimate, reported in the diagnostics."""

    kind = FilterKind.MAHONY

    def _make(self) -> None:
        self._lib = Mahony(
            frequency=1.0 / self.settings.sample_period_s, k_P=float(self.tuning.k_p), k_I=float(self.tuning.k_i)
        )

    def _lib_update(self, q, gyr, acc, mag):
        # Mahony updates the quaternion it is given in place; hand it a copy.
        if mag is None:
            return self._lib.updateIMU(q.copy(), gyr, acc)
        return self._lib.updateMARG(q.copy(), gyr, acc, mag)

    def _status(self) -> FilterStatus:
        return FilterStatus(gyr_bias_radps=np.array(self._lib.b, dtype=np.float64))


class EkfFilter(_AhrsFilter):
    """ahrs quaternion EKF in its ENU mode (see the module docstring for its quirks)."""

    kind = FilterKind.EKF

    def _make(self) -> None:
        self._lib = None  # built on the first sample, when the field's dip is known

    def _start(self, acc, mag) -> None:
        t = self.tuning
        kwargs = dict(
            frequency=1.0 / self.settings.sample_period_s,
            frame="ENU",
            noises=[float(t.var_gyr_radps2), float(t.var_acc), float(t.var_mag)],
        )
        if mag is not None:
            dip_deg = t.mag_dip_deg if t.mag_dip_deg is not None else _dip_deg(acc, mag)
            kwargs["magnetic_ref"] = float(dip_deg)
        self._lib = EKF(**kwargs)
        if mag is not None:
            self._lib.mag = np.zeros((0, 3))  # switches ahrs' measurement model to 9-axis

    def _lib_update(self, q, gyr, acc, mag):
        return self._lib.update(q, gyr, -acc, mag)


def _dip_deg(acc: np.ndarray, mag: np.ndarray) -> float:
    """Dip of the field below the horizon (deg, + down) from one static sample."""
    up = acc / np.linalg.norm(acc)
    m = mag / np.linalg.norm(mag)
    return math.degrees(math.asin(float(np.clip(-up @ m, -1.0, 1.0))))
