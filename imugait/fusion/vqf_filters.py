"""VQF (Laidig & Seel 2023, https://github.com/dlaidig/vqf), online and offline.

VQF's quaternions are already scalar first, sensor-to-earth (``q_world_sensor``) in a z-up
frame; in 9-axis mode the earth frame is ENU (x east, y magnetic north) — checked by
``tests/fusion/test_fusion_frames.py``. Inputs are rad/s, m/s², and any magnetometer unit (VQF
only uses the field's direction and its *relative* norm changes), so µT pass through unchanged.
VQF's own rest threshold is in °/s; it is converted here.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import vqf

from imugait.conventions import GRAVITY_MPS2
from imugait.fusion.base import BatchOnlyError, FilterStatus, FusionDiagnostics, OrientationFilter
from imugait.fusion.settings import FilterKind, VqfTuning


def _vqf_params(tuning: VqfTuning) -> dict:
    """VQF keyword parameters from our SI tuning."""
    return {
        "tauAcc": float(tuning.tau_acc_s),
        "tauMag": float(tuning.tau_mag_s),
        "motionBiasEstEnabled": bool(tuning.motion_bias_estimation),
        "restBiasEstEnabled": bool(tuning.rest_bias_estimation),
        "magDistRejectionEnabled": bool(tuning.mag_disturbance_rejection),
        "restThGyr": math.degrees(tuning.rest_threshold_gyr_radps),
        "restThAcc": float(tuning.rest_threshold_acc_mps2),
    }


def _diagnostics(out: dict, use_mag: bool) -> FusionDiagnostics:
    return FusionDiagnostics(
        rest_detected=np.asarray(out["restDetected"], dtype=bool),
        gyr_bias_radps=np.asarray(out["bias"], dtype=np.float64),
        gyr_bias_sigma_radps=np.asarray(out["biasSigma"], dtype=np.float64),
        mag_disturbed=np.asarray(out["magDistDetected"], dtype=bool) if use_mag else None,
    )


class VqfOnlineFilter(OrientationFilter):
    """Causal VQF: ``update`` per sample, ``estimate`` via ``VQF.updateBatch`` on the same state."""

    kind = FilterKind.VQF_ONLINE

    def _reset(self) -> None:
        ts = self.settings.sample_period_s
        self._vqf = vqf.VQF(ts, ts, ts, **_vqf_params(self.tuning))
        self._use_mag = self.settings.use_magnetometer

    def _step(self, gyr, acc, mag):
        if self._use_mag:
            self._vqf.update(gyr, acc, mag)
            return np.asarray(self._vqf.getQuat9D(), dtype=np.float64)
        self._vqf.update(gyr, acc)
        return np.asarray(self._vqf.getQuat6D(), dtype=np.float64)

    def _reseed(self, q_world_sensor: np.ndarray) -> None:
        """Continue from ``q_world_sensor``: VQF's gyroscope strapdown quaternion set to it, its
        inclination correction to none, and its low-passed acceleration (in that frame) to the
        steady state of gravity along z — so the accelerometer goes on correcting with its time
        constant instead of snapping to the first sample's direction (a fresh start does that, and
        in walking the first sample is gravity plus the leg's acceleration). The bias estimate and
        the rest detection's state are kept. 6D only (the magnetometer reference is not re-seeded)."""
        if self._use_mag:
            raise NotImplementedError("re-seeding VQF with the magnetometer is not supported")
        q = np.asarray(q_world_sensor, dtype=np.float64)
        state = self._vqf.state
        state.update(gyrQuat=q / np.linalg.norm(q), accQuat=np.array([1.0, 0.0, 0.0, 0.0]),
                     lastAccCorrAngularRate=0.0, **_gravity_lowpass_state(self.settings.sample_period_s,
                                                                         float(self.tuning.tau_acc_s)))
        self._vqf.state = state

    def _status(self) -> FilterStatus:
        bias, _sigma = self._vqf.getBiasEstimate()
        return FilterStatus(
            rest_detected=bool(self._vqf.getRestDetected()),
            gyr_bias_radps=np.asarray(bias, dtype=np.float64),
            mag_disturbed=bool(self._vqf.getMagDistDetected()) if self._use_mag else None,
        )

    def _run_batch(self, gyr, acc, mag):
        q, out = self._update_batch(gyr, acc, mag)
        return q, _diagnostics(out, self._use_mag)

    def _run_orientations(self, gyr, acc, mag):
        return self._update_batch(gyr, acc, mag)[0]  # (the diagnostics not gathered)

    def _update_batch(self, gyr, acc, mag) -> tuple[np.ndarray, dict]:
        """VQF's ``updateBatch`` on the state: (orientations (N, 4), its whole output)."""
        if self._use_mag:
            out = self._vqf.updateBatch(gyr, acc, mag)
            return np.asarray(out["quat9D"], dtype=np.float64), out
        out = self._vqf.updateBatch(gyr, acc)
        return np.asarray(out["quat6D"], dtype=np.float64), out


class VqfOfflineFilter(OrientationFilter):
    """Offline VQF (``vqf.offlineVQF``): uses past *and* future samples, so batch only.

    Each ``estimate`` call processes its arrays as one whole recording; no state carries over.
    """

    kind = FilterKind.VQF_OFFLINE

    def _reset(self) -> None:
        self._last_status = FilterStatus()

    def _step(self, gyr, acc, mag):
        raise BatchOnlyError(
            "offline VQF needs the whole recording (it also runs backwards in time), so it has no "
            "per-sample update; call estimate() on the recording, or use FilterKind.VQF_ONLINE for live data"
        )

    def update(self, gyr_radps, acc_mps2, mag_uT=None):
        # Refuse before validating the sample: the call itself is the mistake.
        return self._step(None, None, None)

    def _status(self) -> FilterStatus:
        return self._last_status

    def _run_batch(self, gyr, acc, mag):
        use_mag = self.settings.use_magnetometer
        ts = self.settings.sample_period_s
        params = _vqf_params(self.tuning)
        out = vqf.offlineVQF(gyr, acc, mag if use_mag else None, ts, params)
        q = np.asarray(out["quat9D"] if use_mag else out["quat6D"], dtype=np.float64)
        diag = _diagnostics(out, use_mag)
        self._last_status = FilterStatus(
            rest_detected=bool(diag.rest_detected[-1]),
            gyr_bias_radps=diag.gyr_bias_radps[-1].copy(),
            mag_disturbed=None if diag.mag_disturbed is None else bool(diag.mag_disturbed[-1]),
        )
        return q, diag


@functools.cache
def _gravity_lowpass_state(sample_period_s: float, tau_acc_s: float) -> dict[str, np.ndarray]:
    """VQF's accelerometer low-pass state after a long rest with gravity along z (its own
    filter run to steady state: ``lastAccLp`` and ``accLpState``)."""
    settle = vqf.VQF(sample_period_s, tauAcc=tau_acc_s)
    n = int(np.ceil(4.0 * tau_acc_s / sample_period_s)) + 10
    acc = np.ascontiguousarray(np.tile([0.0, 0.0, GRAVITY_MPS2], (n, 1)))
    settle.updateBatch(np.zeros((n, 3)), acc)
    state = settle.state
    return {"lastAccLp": np.asarray(state["lastAccLp"], dtype=np.float64),
            "accLpState": np.asarray(state["accLpState"], dtype=np.float64)}
