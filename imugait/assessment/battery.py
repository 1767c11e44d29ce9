"""The whole battery: its protocols in order, and :func:`assess_session` over a recorded session.

Order: standing posture, walking test, supine (rest and rotation range), prone, squat, single-leg
squat, single-leg balance. The session is
fused once and calibrated once (:func:`~imugait.assessment.calibration.calibrate_battery`, on the
walking test); every protocol found in the session's steps is then measured and quality-checked.
A session without any assessment steps is searched automatically for each protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from imugait.analysis import AnalysisConfig
from imugait.assessment import balance, posture, prone, single_leg_squat, squat, supine, walking
from imugait.assessment.calibration import (
    BatteryCalibration,
    BatteryCalibrationConfig,
    calibrate_battery,
    fuse,
)
from imugait.assessment.result import AssessmentResult, ProtocolResult, QualityIssue
from imugait.assessment.steps import BATTERY_ORDER, Protocol, protocols_in
from imugait.errors import CalibrationError
from imugait.model import Session


@dataclass(frozen=True)
class ProtocolSpec:
    """One protocol of the battery: what it is called for people and what they are told to do."""

    protocol: Protocol
    title: str
    instructions: tuple[str, ...]
    hold_s: float
    """How long the guided run records the step (s); the person may finish earlier."""


BATTERY: tuple[ProtocolSpec, ...] = (
    ProtocolSpec(Protocol.POSTURE, "Standing posture", posture.INSTRUCTIONS, 10.0),
    ProtocolSpec(Protocol.WALKING, "Walking test", walking.INSTRUCTIONS, 40.0),
    ProtocolSpec(Protocol.SUPINE, "Lying on your back: rest and hip rotation", supine.INSTRUCTIONS + supine.RANGE_INSTRUCTIONS, 110.0),
    ProtocolSpec(Protocol.PRONE, "Lying face down: hip rotation", prone.INSTRUCTIONS, 90.0),
    ProtocolSpec(Protocol.SQUAT, "Mindful squat", squat.INSTRUCTIONS, 25.0),
    ProtocolSpec(Protocol.SINGLE_LEG_SQUAT, "Single-leg squat", single_leg_squat.INSTRUCTIONS, 60.0),
    ProtocolSpec(Protocol.BALANCE, "Single-leg balance", balance.INSTRUCTIONS, 70.0),
)


def spec(protocol: Protocol) -> ProtocolSpec:
    return next(s for s in BATTERY if s.protocol is protocol)


@dataclass(frozen=True)
class AssessmentConfig:
    calibration: BatteryCalibrationConfig = field(default_factory=BatteryCalibrationConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    posture: posture.PostureConfig = field(default_factory=posture.PostureConfig)
    supine: supine.SupineConfig = field(default_factory=supine.SupineConfig)
    prone: prone.ProneConfig = field(default_factory=prone.ProneConfig)
    squat: squat.SquatConfig = field(default_factory=squat.SquatConfig)
    single_leg_squat: single_leg_squat.SingleLegSquatConfig = field(default_factory=single_leg_squat.SingleLegSquatConfig)
    balance: balance.BalanceConfig = field(default_factory=balance.BalanceConfig)


def assess_session(
    session: Session, config: AssessmentConfig | None = None, progress: Callable[[str], None] | None = None
) -> AssessmentResult:
    """Measure every protocol of ``session`` (see the module docstring).

    Raises
    ------
    ValidationError
        No leg has both a thigh and a shank sensor.
    """
    config = config or AssessmentConfig()
    report = progress or (lambda _stage: None)
    annotated = protocols_in(session.meta.steps)
    # Protocols without step marks are searched for automatically (prone only in a session without
    # any marks: its automatic detection cannot tell lying from other parts of a battery).
    wanted = [p for p in BATTERY_ORDER if p in annotated or (p is not Protocol.PRONE or not annotated)]
    report("fusing sensor orientations")
    fused = fuse(session, config.calibration)
    cal: BatteryCalibration | None = None
    warnings: list[str] = []
    no_calibration = ""
    report("calibrating the sensors on the walking test")
    try:
        cal = calibrate_battery(session, fused, config.calibration)
        warnings += cal.warnings
    except CalibrationError as exc:
        no_calibration = str(exc)
        warnings.append(f"sensor calibration: {exc}")
    results: dict[Protocol, ProtocolResult] = {}
    walking_result = None
    for protocol in wanted:
        report(spec(protocol).title.lower())
        try:
            if protocol is Protocol.WALKING:
                try:
                    results[protocol], walking_result = walking.measure(session, config.analysis)
                except CalibrationError:
                    raise
                except Exception as exc:  # noqa: BLE001 — a session searched for walking may have none
                    if protocol in annotated:
                        raise
                    results[protocol] = ProtocolResult(protocol, issues=(QualityIssue(protocol, "not_found", f"no walking found ({exc!r})"),))
            elif protocol is Protocol.PRONE:
                results[protocol] = prone.measure(session, fused, cal, config.prone)
            elif cal is None:
                results[protocol] = ProtocolResult(protocol, issues=(QualityIssue(
                    protocol, "needs_calibration",
                    f"cannot be measured without the walking test's sensor calibration ({no_calibration})"),))
            else:
                module = {Protocol.POSTURE: posture, Protocol.SUPINE: supine, Protocol.SQUAT: squat,
                          Protocol.SINGLE_LEG_SQUAT: single_leg_squat, Protocol.BALANCE: balance}[protocol]
                results[protocol] = module.measure(cal, getattr(config, protocol.value))
        except CalibrationError as exc:
            results[protocol] = ProtocolResult(protocol, issues=(QualityIssue(protocol, "calibration", str(exc)),))
    # Protocols searched for (not annotated): keep only what was actually found.
    unsearchable = {"not_found", "calibration", "needs_calibration"}
    results = {p: r for p, r in results.items()
               if p in annotated or r.metrics or any(i.code not in unsearchable for i in r.issues)}
    return AssessmentResult(
        session_meta=session.meta, protocols=results,
        calibration_reference=cal.reference if cal else "", walking=walking_result, warnings=tuple(warnings),
    )
