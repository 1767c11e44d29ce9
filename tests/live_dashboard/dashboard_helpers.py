"""Shared by the dashboard tests: a pipeline test double, emulated openers, Chromium.

:class:`ReplayPipeline` stands in for the live kinematics where a test is about the dashboard,
not the pipeline: it hands out, as the samples arrive, real :class:`~imugait.live.updates.LiveUpdate`
objects built from the offline analysis (:func:`imugait.analysis.analyze_session`) of the very
walk the emulated sensors play. It lives in tests/ only; the package ships no fake pipeline.
"""

from __future__ import annotations

import contextlib
import math
import sys
from pathlib import Path

import numpy as np

from imugait.acquisition.sources import SensorSource, SourceKind
from imugait.conventions import Side
from imugait.live.run import OpenedSensors
from imugait.live.updates import (
    CalibrationPhase,
    LegAngles,
    LegCalibrationState,
    LiveStride,
    LiveUpdate,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_browser import ensure_chromium  # noqa: E402  (tests/report: one Chromium installer)


def chromium_path() -> str:
    """Debian's chromium (installed with apt-get when missing and running as root); a clear
    failure, not a skip, when it cannot be had: the dashboard tests need a real browser."""
    import pytest

    path, reason = ensure_chromium()
    if path is None:
        pytest.fail("the dashboard browser tests need headless Chromium: " + reason.removeprefix("SKIPPED: "))
    return path


class ReplayPipeline:
    """The offline analysis of the emulated walk, released as the live run's samples arrive.

    ``offset_s`` (host time of the live run's session zero minus the emulator's walk zero) maps
    the walk's time to the live session clock; set it once the run is open. A sample or stride
    is released when every fed sensor has delivered samples past it.
    """

    def __init__(self, analysis) -> None:
        self.analysis = analysis
        self.offset_s: float | None = None
        self._newest: dict = {}
        self._sent_to = -math.inf
        self._strides_sent: set = set()
        self.fed_samples = 0

    def feed(self, samples) -> None:
        self.fed_samples += samples.t_s.size
        self._newest[samples.placement] = float(samples.t_s[-1])

    def _counts(self) -> dict[Side, int]:
        c = self.analysis.cycles
        return {side: int(((c["side"] == side.value) & (c["t_next_initial_contact_s"] - self.offset_s <= self._sent_to)).sum())
                for side in (Side.LEFT, Side.RIGHT)}

    def poll(self) -> LiveUpdate:
        if self.offset_s is None or len(self._newest) < 4:
            return LiveUpdate(t_s=math.nan)
        upto = min(self._newest.values())
        t_live = self.analysis.t_s - self.offset_s
        new = (t_live > self._sent_to) & (t_live <= upto)
        angles = []
        if new.any():
            for side, leg in self.analysis.legs.items():
                a = leg.angles_deg
                angles.append(LegAngles(side, t_live[new], a["knee_flexion_deg"][new], a["knee_adduction_deg"][new],
                                        a["knee_rotation_deg"][new], a["hip_rotation_deg"][new]))
            self._sent_to = float(t_live[new][-1])
        strides = []
        for row in self.analysis.cycles.itertuples():
            key = (row.side, row.stride)
            if key in self._strides_sent or row.t_next_initial_contact_s - self.offset_s > self._sent_to:
                continue
            self._strides_sent.add(key)
            metrics = {k: float(getattr(row, k)) for k in self.analysis.cycles.columns
                       if k.endswith(("_deg", "_s", "_pct")) and not k.startswith("t_")}
            strides.append(LiveStride(Side(row.side), int(row.stride), row.t_initial_contact_s - self.offset_s,
                                      row.t_toe_off_s - self.offset_s, row.t_next_initial_contact_s - self.offset_s,
                                      metrics, bool(row.used), row.exclusion or None))
        calibration = tuple(LegCalibrationState(side, CalibrationPhase.CALIBRATED, leg.calibration_quality)
                            for side, leg in self.analysis.legs.items())
        return LiveUpdate(t_s=upto, angles=tuple(angles), strides=tuple(strides), calibration=calibration,
                          n_strides=self._counts())


def serial_opener(devices, playback: float, disconnects=()):
    """An opener of emulated serial sensors on a virtual clock, with ``disconnects``."""
    from imugait.emulate.emulator import SerialEmulator

    async def open_(stack: contextlib.AsyncExitStack) -> OpenedSensors:
        emulator = stack.enter_context(SerialEmulator(devices, playback, disconnects))
        sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
        return OpenedSensors(sources, emulator.clock, emulator)
    return open_


def finite(values) -> np.ndarray:
    a = np.asarray(values, float)
    return a[np.isfinite(a)]
