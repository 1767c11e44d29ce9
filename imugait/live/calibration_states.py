"""Every leg's calibration state as a live run goes (:class:`CalibrationStates`): what a view shows
and tells the person — waiting for standing or walking, calibrated, failed — and whether it
changed since the last poll."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from imugait.conventions import Side
from imugait.live.config import LiveConfig
from imugait.live.updates import CalibrationPhase, LegCalibrationState

WALK_ENDED = "the walk ended at "
"""How the message of a leg that :meth:`~imugait.live.kinematics.LiveKinematics.end_pass` left
waiting begins."""


class CalibrationStates:
    """The calibration states of the legs ``sides``."""

    def __init__(self, sides: Sequence[Side], config: LiveConfig) -> None:
        self.sides, self.config = tuple(sides), config
        self.states = {s: LegCalibrationState(s, CalibrationPhase.WAITING_FOR_STANDING,
                                              message="stand upright and still for a few seconds") for s in sides}
        self.changed = True
        """Whether a state changed since :meth:`polled`."""

    def set(self, side: Side, phase: CalibrationPhase, message: str, quality: str | None = None,
            reference: str | None = None, calibration_method: str = "") -> None:
        self.states[side] = LegCalibrationState(side, phase, quality, message, reference, calibration_method)
        self.changed = True

    def set_all(self, phase: CalibrationPhase, message: str, calibrated: Collection[Side]) -> None:
        """Every leg not ``calibrated``: ``phase`` with ``message`` (unchanged if it has them)."""
        for side in self.sides:
            if side not in calibrated and (self.states[side].phase, self.states[side].message) != (phase, message):
                self.set(side, phase, message)

    def waiting_for_walking(self, midstance: bool, calibrated: Collection[Side]) -> None:
        """The legs not ``calibrated`` wait for the walk that calibrates them (against mid-stance:
        no standing was found)."""
        walk_s = self.config.calibration.max_motion_s
        # A shorter walk (a 10-m walk test) calibrates when the person stops (end_of_pass_s).
        shorter = "" if self.config.end_of_pass_s is None else \
            f" (a shorter walk of at least {self.config.calibration.min_motion_s:g} s, once you stop)"
        if midstance:
            self.set_all(CalibrationPhase.WAITING_FOR_WALKING,
                         f"no still standing found: the knees are calibrated against mid-stance of {walk_s:g} s of "
                         f"walking{shorter} (stand upright and still for a few seconds before walking next time)",
                         calibrated)
        else:
            self.set_all(CalibrationPhase.WAITING_FOR_WALKING,
                         f"walk: {walk_s:g} s of walking calibrate the knees{shorter}", calibrated)

    def walk_ended(self, side: Side, t_s: float, why: str) -> None:
        """``side`` was left waiting by a walk that ended at ``t_s`` (s); ``why`` says what the walk
        lacked (not for a leg whose calibration failed: its message says that)."""
        state = self.states[side]
        told = state.message.split("; ", 1)[-1] if state.message.startswith(WALK_ENDED) else state.message
        self.set(side, state.phase, f"{WALK_ENDED}{t_s:.1f} s {why}; {told}")

    def polled(self) -> tuple[LegCalibrationState, ...]:
        """Every state if one changed since the last call, else none."""
        states = tuple(self.states.values()) if self.changed else ()
        self.changed = False
        return states
