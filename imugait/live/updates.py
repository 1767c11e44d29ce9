"""What the live pipeline hands to a live view: the contract between the two.

The live kinematics (:mod:`imugait.live.kinematics`) is fed the accepted samples of each sensor
as they arrive (:class:`~imugait.acquisition.assembler.LiveSamples`) and, when polled, returns a
:class:`LiveUpdate` with everything new since the previous poll: the angles of the samples it
could compute, the strides completed, and the calibration state. A view (the web dashboard, the
terminal) only reads these objects; it never reaches into the pipeline.

Times are on the session clock (s), angles in degrees with the sign table of
docs/conventions.md, metric names those of :mod:`imugait.gait.metrics`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from imugait.conventions import Side


class CalibrationPhase(enum.Enum):
    """Where a leg's live calibration stands."""

    WAITING_FOR_STANDING = "waiting for standing still"
    WAITING_FOR_WALKING = "waiting for walking"
    CALIBRATED = "calibrated"
    REUSED = "reused an earlier calibration"
    FAILED = "calibration failed"


@dataclass(frozen=True)
class LegCalibrationState:
    """One leg's calibration, as a live view shows it."""

    side: Side
    phase: CalibrationPhase
    quality: str | None = None
    """The calibration's rating (``good`` / ``fair`` / ``poor``) once calibrated, else None."""
    message: str = ""
    """What the person should do next, or why the calibration failed (and that it is tried again)."""
    reference: str | None = None
    """What the angles are referred to once calibrated: ``standing`` (still, upright) or
    ``mid-stance`` (no standing period: as offline, :mod:`imugait.analysis.reference`); else None."""
    calibration_method: str = ""
    """Once calibrated: the reference, what fixed the heading and the errors to expect at the live
    grid's sample rate, the line a report states (:func:`imugait.analysis.result.calibration_method`)."""


@dataclass(frozen=True)
class LegAngles:
    """Angles of one leg for consecutive samples (each array (N,), degrees, on ``t_s``)."""

    side: Side
    t_s: np.ndarray
    knee_flexion_deg: np.ndarray
    knee_adduction_deg: np.ndarray
    knee_rotation_deg: np.ndarray
    hip_rotation_deg: np.ndarray
    """NaN where hip rotation is withheld (pose-only calibration)."""


@dataclass(frozen=True)
class LiveStride:
    """One completed stride of one leg."""

    side: Side
    index: int
    """0, 1, 2, … per leg, in order of completion."""
    t_initial_contact_s: float
    t_toe_off_s: float
    t_next_initial_contact_s: float
    metrics: Mapping[str, float]
    """Per-stride metrics, names as :func:`imugait.gait.metrics.strides_metrics` gives them,
    ``thigh_shank_lag_s`` (:func:`imugait.gait.coordination.stride_lags_s`) and
    ``double_support_pct`` (:func:`imugait.gait.metrics.double_support_pcts`: NaN until the other
    leg's strides around it have settled, :mod:`imugait.live.double_support`), as the offline
    cycles table has them."""
    used: bool
    exclusion: str | None = None
    """Why the stride is not used (None when used)."""
    final: bool = True
    """A stride comes more than once, each version (same ``side`` and ``index``) replacing the one
    before (:func:`latest_strides`): first as soon as its closing initial contact is found (early,
    ``final`` False, ``thigh_shank_lag_s`` NaN — it may still change: :func:`imugait.gait.events.trailing_events`);
    again, still not final, if it changed once its events settled (beyond 0.1 ms in an event,
    0.001 in a metric, or in its judgement); again once its ``thigh_shank_lag_s`` is known (the
    timing searches half a second past the stride's end; a timing far from the leg's other strides
    may exclude it); again once the heading windows after it have come (about 2–4.5 s of data
    after its end), with its knee metrics computed from the thigh–shank heading offset
    interpolated between them as ``analyze`` does (:meth:`imugait.live.reheading.Reheading.head_strides`;
    the angles shown hold the latest window's); and again once its straight run has ended and its
    walking direction has been found again over all of it, as ``analyze`` does
    (:mod:`imugait.live.revision`: the hip rotation metrics, and the judgement that reads them,
    may change; a run longer than the live history gives its strides final as they are before
    their rows leave it) — ``final`` in the last of these versions (the last two may come
    together). At a walk's end (*Walk done*, the stream's end) a final stride may come again,
    final, with what only the whole walk decides (:meth:`imugait.live.leg.LiveLeg.end_walk`: the
    mid-stance reference, a long run's line, used or not — its metrics and its judgement may come
    in two versions). A stride given early whose
    events settled into none comes ``final``, not ``used``, with the exclusion ``withdrawn: …``.
    Its ``double_support_pct`` comes with the first version after the other leg's stride that ends
    after its toe-off has settled; a stride final before that (the strides of the calibration walk,
    which one leg takes all at once before the other starts; a leg's last stride before a walk's
    end) comes once more, final, with it."""


@dataclass(frozen=True)
class LiveUpdate:
    """Everything new since the previous poll."""

    t_s: float
    """Session time of the newest sample the pipeline has taken in (NaN before the first)."""
    angles: tuple[LegAngles, ...] = ()
    strides: tuple[LiveStride, ...] = ()
    """Strides completed since, and strides given earlier that are now final (:attr:`LiveStride.final`)."""
    calibration: tuple[LegCalibrationState, ...] = ()
    n_strides: Mapping[Side, int] = field(default_factory=dict)
    """Strides completed so far per leg (all of them, not only the new ones)."""


def latest_strides(strides: Iterable[LiveStride]) -> list[LiveStride]:
    """The latest version of each stride (by side and index: see :attr:`LiveStride.final`), in the
    order in which the strides first came."""
    latest: dict[tuple[Side, int], LiveStride] = {}
    for stride in strides:
        latest[(stride.side, stride.index)] = stride
    return list(latest.values())
