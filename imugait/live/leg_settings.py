"""What a live leg needs of the live configuration (its parts read it: :mod:`imugait.live.leg`)."""

from __future__ import annotations

from dataclasses import dataclass

from imugait.calibration.heading import HeadingConfig
from imugait.calibration.periods import PeriodConfig
from imugait.gait.cycles import StrideConfig
from imugait.gait.events import EventConfig
from imugait.kinematics.progression import ProgressionConfig


@dataclass(frozen=True)
class LegSettings:
    """What a live leg needs of the live configuration (see :class:`imugait.live.kinematics.LiveConfig`)."""

    rate_hz: float
    tick_s: float
    event_every_s: float
    event_window_s: float
    periods: PeriodConfig
    heading: HeadingConfig
    progression: ProgressionConfig
    events: EventConfig
    strides: StrideConfig
    max_bridge_s: float = 0.1
    """Lost stretches of a sensor longer than this leave the leg without angles (see
    :class:`~imugait.live.leg.LiveLeg`)."""
    reference_backlog_s: float = 360.0
    """:attr:`~imugait.live.kinematics.LiveConfig.reference_backlog_s` (s)."""
    reseeded: bool = False
    """The sensors' filters are re-seeded after such a stretch (:mod:`imugait.live.reseed`): the
    angles go on with the held heading offset from its end. False: it is void until a heading
    window after the stretch has been estimated."""

    @property
    def rows_per_tick(self) -> int:
        """Grid rows between two ticks (at least one)."""
        return max(int(round(self.tick_s * self.rate_hz)), 1)
