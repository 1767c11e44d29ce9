"""The guided intrinsic calibration as a pure state machine, independent of any user interface.

Feed it samples (from a live sensor, the emulator or a recording) with :meth:`IntrinsicProcedure.feed`;
it reports :class:`Progress` (current step, seconds held still, whether the position is new and the
one asked for, rotation coverage, what just happened, what to do next). After the last step
:meth:`IntrinsicProcedure.finish` returns the calibration.

A hold step is accepted when the sensor has been still (:class:`~imugait.calibration.still.StillTracker`)
for ``hold_s`` seconds, its up direction is within ``direction_tolerance_deg`` of the step's, and
it differs by at least ``new_position_min_deg`` from every position accepted before. The rotation
step starts with the first movement and ends after ``rotation_s`` once the sensor's orientation has
covered enough directions (or after ``rotation_max_s`` regardless; the magnetometer fit then judges).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from imugait.calibration.imu_calibration import ImuCalibration, assemble_calibration
from imugait.calibration.intrinsic import (
    AccCalibration,
    AccFitConfig,
    GyroBias,
    StillSummary,
    angle_deg,
    describe_direction,
    estimate_gyro_bias,
    fit_accelerometer,
)
from imugait.calibration.magnetometer import (
    MagCalibration,
    MagFitConfig,
    covered_directions,
    fit_magnetometer,
)
from imugait.calibration.steps import ProcedureStep, StepKind, hold_steps, rotation_step
from imugait.calibration.still import StillConfig, StillTracker, WindowStats
from imugait.errors import CalibrationError, ValidationError

_GAP_PERIODS = 5.0
"""A jump in time longer than this many sample periods restarts the still test."""


@dataclass(frozen=True)
class ProcedureConfig:
    """Settings of the guided procedure."""

    hold_s: float = 5.0
    """Seconds each position must be held still."""
    rotation_s: float = 30.0
    rotation_max_s: float = 90.0
    rotation_min_coverage: float = 0.8
    """Fraction of directions the sensor's up direction must visit during the rotation."""
    with_edges: bool = False
    """Six more positions (resting on edges) so that axis misalignment can be estimated."""
    with_rotation: bool = True
    direction_tolerance_deg: float = 25.0
    new_position_min_deg: float = 30.0
    still: StillConfig = field(default_factory=StillConfig)
    acc: AccFitConfig = field(default_factory=AccFitConfig)
    mag: MagFitConfig = field(default_factory=MagFitConfig)

    def steps(self, has_magnetometer: bool = True) -> tuple[ProcedureStep, ...]:
        holds = hold_steps(self.hold_s, self.with_edges)
        if self.with_rotation and has_magnetometer:
            return (*holds, rotation_step(self.rotation_s))
        return holds


@dataclass(frozen=True)
class Progress:
    """Where the procedure stands after the latest samples."""

    step_index: int
    """Index of the current step; equals ``n_steps`` when all are done."""
    n_steps: int
    step: ProcedureStep | None
    is_still: bool
    still_s: float
    """Seconds the sensor has been still in the current position."""
    position: str
    """The current position in words (``"z up"``), or ``""`` while moving."""
    is_new: bool
    """The current position differs from every accepted one."""
    matches_step: bool
    """The current position is the one the step asks for."""
    rotation_s: float
    coverage: float
    """Fraction of directions the sensor's up axis has visited during the rotation (0–1)."""
    done: bool
    events: tuple[str, ...]
    """What happened during the last :meth:`IntrinsicProcedure.feed` (steps accepted)."""
    hint: str
    """What the person should do now."""


@dataclass
class AcceptedPosition:
    step: ProcedureStep
    summary: StillSummary
    off_by_deg: float
    """Angle between the measured and the asked-for up direction."""


@dataclass
class ProcedureResult:
    calibration: ImuCalibration
    positions: list[AcceptedPosition]
    gyro: GyroBias
    acc: AccCalibration
    mag: MagCalibration | None


@dataclass
class _Run:
    """Sums over the current still run."""

    t_start_s: float
    t_end_s: float = 0.0
    n: int = 0
    acc_sum: np.ndarray = field(default_factory=lambda: np.zeros(3))
    gyr_sum: np.ndarray = field(default_factory=lambda: np.zeros(3))
    gyr_sq_sum: np.ndarray = field(default_factory=lambda: np.zeros(3))

    def add(self, t_s: float, acc: np.ndarray, gyr: np.ndarray) -> None:
        self.t_end_s = t_s
        self.n += 1
        self.acc_sum += acc
        self.gyr_sum += gyr
        self.gyr_sq_sum += gyr * gyr

    def summary(self) -> StillSummary:
        mean = self.gyr_sum / self.n
        var = np.maximum(self.gyr_sq_sum / self.n - mean**2, 0.0) * self.n / max(self.n - 1, 1)
        return StillSummary(self.t_start_s, self.t_end_s, self.n, self.acc_sum / self.n, mean, var)


class IntrinsicProcedure:
    """State machine of the guided intrinsic calibration of one sensor.

    Parameters
    ----------
    device_id : the sensor's ``DeviceInfo.device_id``.
    sample_rate_hz : nominal sample rate of the data that will be fed.
    config : ProcedureConfig
    has_magnetometer : without one, the rotation step is left out.
    """

    def __init__(
        self, device_id: str, sample_rate_hz: float, config: ProcedureConfig = ProcedureConfig(),
        has_magnetometer: bool = True,
    ) -> None:
        self.device_id = device_id
        self.config = config
        self.steps = config.steps(has_magnetometer)
        self.sample_rate_hz = float(sample_rate_hz)
        self._tracker = StillTracker(sample_rate_hz, config.still)
        self._index = 0
        self._accepted: list[AcceptedPosition] = []
        self._run: _Run | None = None
        self._last_t: float | None = None
        self._is_still = False
        # Diagnostics of the current hold step, for a useful message when it never succeeds: the
        # longest still stretch and the least movement while the sensor pointed as asked.
        self._seen_direction = False
        self._longest_still_s = 0.0
        self._closest: WindowStats | None = None
        self._still_positions: list[str] = []
        # Rotation step.
        self._rotation_t0: float | None = None
        self._rotation_t: float = 0.0
        self._covered = np.zeros(26, dtype=bool)
        self._mag: list[np.ndarray] = []
        self._events: list[str] = []

    @property
    def done(self) -> bool:
        return self._index >= len(self.steps)

    @property
    def current_step(self) -> ProcedureStep | None:
        return None if self.done else self.steps[self._index]

    @property
    def positions(self) -> list[AcceptedPosition]:
        return list(self._accepted)

    def feed(self, t_s, acc_mps2, gyr_radps, mag_uT=None) -> Progress:
        """Process samples: ``t_s`` (N,) s; ``acc_mps2`` (N, 3) m/s²; ``gyr_radps`` (N, 3) rad/s;
        ``mag_uT`` (N, 3) µT or None — raw, sensor frame. A single sample may be given as
        scalar and ``(3,)`` arrays."""
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        acc, gyr = np.atleast_2d(acc_mps2).astype(float), np.atleast_2d(gyr_radps).astype(float)
        mag = None if mag_uT is None else np.atleast_2d(mag_uT).astype(float)
        if acc.shape != (t.size, 3) or gyr.shape != (t.size, 3) or (mag is not None and mag.shape != (t.size, 3)):
            raise ValidationError(f"feed needs t_s (N,) and (N, 3) arrays; got {t.shape}, {acc.shape}, {gyr.shape}")
        self._events = []
        for i in range(t.size):
            if self.done:
                break
            self._update(float(t[i]), acc[i], gyr[i], None if mag is None else mag[i])
        return self.progress

    @property
    def progress(self) -> Progress:
        step = self.current_step
        run = self._run
        up = None if run is None or run.n == 0 else run.acc_sum / np.linalg.norm(run.acc_sum)
        is_new = up is not None and self._is_new(up)
        matches = up is not None and step is not None and step.kind is StepKind.HOLD and self._matches(up, step)
        still_s = 0.0 if run is None else run.t_end_s - run.t_start_s
        return Progress(
            step_index=self._index, n_steps=len(self.steps), step=step, is_still=self._is_still,
            still_s=still_s, position="" if up is None else describe_direction(up), is_new=is_new,
            matches_step=matches, rotation_s=self._rotation_t, coverage=float(self._covered.mean()),
            done=self.done, events=tuple(self._events), hint=self._hint(step, up, is_new, matches, still_s),
        )

    def finish(self, created_at: str | None = None) -> ProcedureResult:
        """The calibration from the accepted positions and the rotation.

        Raises
        ------
        CalibrationError
            A step was not completed (the message says which and why), or a fit refuses.
        """
        holds_done = self._index >= sum(s.kind is StepKind.HOLD for s in self.steps)
        if not holds_done:
            step = self.steps[self._index]
            raise CalibrationError(
                f"position {self._index + 1} of {len(self.steps)} ({step.title}) was not completed: "
                f"{self._diagnosis()}"
            )
        summaries = [p.summary for p in self._accepted]
        gyro = estimate_gyro_bias(summaries)
        acc = fit_accelerometer(summaries, self.config.acc)
        mag = None
        if any(s.kind is StepKind.ROTATE for s in self.steps):
            if not self._mag:
                raise CalibrationError(
                    "the rotation step was not done (no magnetometer data after the last position): "
                    "rotate the sensor slowly in all directions for 30 s"
                )
            mag = fit_magnetometer(np.array(self._mag), self.config.mag)
        cal = assemble_calibration(self.device_id, gyro, acc, mag, created_at)
        return ProcedureResult(cal, list(self._accepted), gyro, acc, mag)

    # -- per sample ---------------------------------------------------------------------------

    def _update(self, t: float, acc: np.ndarray, gyr: np.ndarray, mag: np.ndarray | None) -> None:
        if self._last_t is not None and t - self._last_t > _GAP_PERIODS / self.sample_rate_hz:
            self._tracker.reset()
            self._run = None
        self._last_t = t
        self._is_still = self._tracker.update(acc, gyr)
        step = self.steps[self._index]
        if step.kind is StepKind.HOLD:
            self._update_hold(step, t, acc, gyr)
        else:
            self._update_rotation(t, acc, mag)

    def _update_hold(self, step: ProcedureStep, t: float, acc: np.ndarray, gyr: np.ndarray) -> None:
        stats = self._tracker.stats
        pointing = self._matches(acc, step)
        if pointing and stats is not None:
            self._seen_direction = True
            if self._closest is None or self._stillness(stats) < self._stillness(self._closest):
                self._closest = stats
        if not self._is_still:
            self._run = None
            return
        if self._run is None:
            self._run = _Run(t)
        self._run.add(t, acc, gyr)
        held_s = self._run.t_end_s - self._run.t_start_s
        up = self._run.acc_sum / np.linalg.norm(self._run.acc_sum)
        if pointing:
            self._longest_still_s = max(self._longest_still_s, held_s)
        if held_s < self.config.hold_s:
            return
        name = describe_direction(up)
        if name not in self._still_positions:
            self._still_positions.append(name)
        if self._is_new(up) and self._matches(up, step):
            off = angle_deg(up, step.up_axis_array)
            self._accepted.append(AcceptedPosition(step, self._run.summary(), off))
            self._events.append(f"{step.title}: held still {held_s:.1f} s, {off:.0f}° from exact — accepted")
            self._advance()

    def _update_rotation(self, t: float, acc: np.ndarray, mag: np.ndarray | None) -> None:
        if self._rotation_t0 is None:
            if self._is_still:
                return
            self._rotation_t0 = t
        self._rotation_t = t - self._rotation_t0
        self._covered |= covered_directions(acc[None, :])
        if mag is not None:
            self._mag.append(mag)
        cfg = self.config
        enough = self._rotation_t >= cfg.rotation_s and self._covered.mean() >= cfg.rotation_min_coverage
        if enough or self._rotation_t >= cfg.rotation_max_s:
            self._events.append(
                f"rotation: {self._rotation_t:.0f} s, {self._covered.mean():.0%} of directions — done"
            )
            self._advance()

    def _advance(self) -> None:
        self._index += 1
        self._run = None
        self._seen_direction = False
        self._longest_still_s = 0.0
        self._closest = None
        self._still_positions = []

    # -- checks and messages ----------------------------------------------------------------------

    def _stillness(self, stats: WindowStats) -> float:
        """How far a window is from still, relative to the limits (< 1 means still)."""
        limits = self.config.still
        return max(
            stats.gyr_norm_mean_radps / limits.gyr_norm_max_radps, stats.acc_norm_sd_mps2 / limits.acc_norm_sd_max_mps2
        )

    def _is_new(self, up: np.ndarray) -> bool:
        return all(
            angle_deg(up, p.summary.up_direction) >= self.config.new_position_min_deg for p in self._accepted
        )

    def _matches(self, up: np.ndarray, step: ProcedureStep) -> bool:
        return angle_deg(up, step.up_axis_array) <= self.config.direction_tolerance_deg

    def _hint(self, step, up, is_new, matches, still_s) -> str:
        if step is None:
            return "all steps done"
        if step.kind is StepKind.ROTATE:
            if self._rotation_t0 is None:
                return "pick the sensor up and start rotating it slowly in all directions"
            return (
                f"keep rotating: {self._rotation_t:.0f} of {self.config.rotation_s:g} s, "
                f"{self._covered.mean():.0%} of directions covered"
            )
        if up is None:
            return f"put the sensor in position '{step.title}' and let go"
        if not matches:
            return f"the sensor lies {describe_direction(up)}; this step needs {step.title}"
        if not is_new:
            return f"this position was already done; {step.title} is the next one"
        return f"hold still: {still_s:.1f} of {self.config.hold_s:g} s"

    def _diagnosis(self) -> str:
        cfg, limits = self.config, self.config.still
        step = self.steps[self._index]
        seen = ", ".join(self._still_positions) or "none"
        if not self._seen_direction:
            return f"the sensor never pointed {step.title} (still positions seen: {seen}). {step.instruction}"
        if self._longest_still_s < cfg.hold_s:
            least = ""
            if self._closest is not None:
                least = (
                    f"; stillest moment: gyro {self._closest.gyr_norm_mean_radps:.2f} rad/s, accelerometer "
                    f"wobble {self._closest.acc_norm_sd_mps2:.2f} m/s² (limits {limits.gyr_norm_max_radps:g} "
                    f"rad/s, {limits.acc_norm_sd_max_mps2:g} m/s²)"
                )
            return (
                f"it was not held still for {cfg.hold_s:g} s (longest still stretch "
                f"{self._longest_still_s:.1f} s{least}). Put the sensor down, let go and wait"
            )
        return (
            f"it was held still, but in a position already done (still positions seen: {seen}). "
            f"{step.instruction}"
        )

