"""One simulated walking test (200 Hz, four sensors, some lost samples), fed once through the live
pipeline and analysed once offline the comparable way, for all live tests (seeded)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from imugait.analysis import analyze_session
from imugait.analysis.pipeline import AnalysisConfig, AnalysisResult
from imugait.fusion.settings import FilterKind
from imugait.live.kinematics import LiveConfig, LiveKinematics, session_with_standing
from imugait.live.updates import LiveUpdate
from imugait.model import Session
from imugait.simulate import (
    SensorErrors,
    SideParams,
    SimulationConfig,
    WalkerParams,
    simulate,
    walking_test,
)

SIMULATION = SimulationConfig(
    seed=211, sample_rate_hz=200.0, errors=SensorErrors(loss_probability=0.002),
    walker=WalkerParams(right=SideParams(hip_rotation_offset_deg=10.0)),
    timeline=walking_test(n_bouts=2, bout_s=14.0),
)


@dataclass(frozen=True, eq=False)
class LiveRun:
    session: Session
    live: LiveKinematics
    update: LiveUpdate
    """One poll at the end: everything."""
    offline: AnalysisResult
    """``analyze`` with the live run's standing, the online filter and the live calibration's motion."""


def offline_like_live(session: Session, live: LiveKinematics,
                      filter_kind: FilterKind = FilterKind.VQF_ONLINE) -> AnalysisResult:
    """``analyze`` made comparable with a live run: the same standing reference (the one the live
    run found, as the session's only step), the same online filter, and the knee axes fitted to the
    same first seconds of walking (``max_motion_s``). The comparison then measures what is live
    about the live path: the held/extrapolated heading offset and walking direction, the events
    from trailing windows, the strides judged before their bout has ended. ``filter_kind``: another
    filter for ``analyze`` (the filter's own share of the difference). A live run that found no
    standing (mid-stance) leaves the session's own steps: ``analyze`` then looks for one itself; a
    short still moment the live run took untrimmed (``still (found live)``, not a step named
    ``stand…``) has ``analyze`` take the longest still period itself, untrimmed as well (the same
    one when it is the longest)."""
    config = AnalysisConfig(filter_kind=filter_kind, rate_hz=live.config.rate_hz,
                            calibration=live.config.calibration, periods=live.config.periods,
                            progression=live.config.progression, events=live.config.events,
                            strides=live.config.strides)
    named = session if live.standing_step is None else session_with_standing(session, live.standing_step)
    return analyze_session(named, config)


@pytest.fixture(scope="session")
def live_run() -> LiveRun:
    session = simulate(SIMULATION).session
    live = LiveKinematics(list(session), LiveConfig(rate_hz=SIMULATION.sample_rate_hz))
    live.feed_session(session, chunk_s=0.05)
    return LiveRun(session, live, live.poll(), offline_like_live(session, live))


def feed_polled(live: LiveKinematics, session: Session, chunk_s: float, poll_s: float | None = None) -> list[LiveUpdate]:
    """Feed ``session`` in blocks of ``chunk_s`` and poll after every block — or, with ``poll_s``,
    after the block that reaches each ``poll_s`` of data time and once more at the end (as a view
    polling on a schedule; after each poll what it left for after the push, ``finish_ticks``, as
    the dashboard): the updates."""
    updates = []
    original = live.feed
    next_poll = poll_s

    def feed(samples):
        nonlocal next_poll
        original(samples)
        if next_poll is None:
            updates.append(live.poll())
        elif samples.t_s[-1] >= next_poll:
            updates.append(live.poll())
            next_poll += poll_s
        else:
            return
        live.finish_ticks()

    live.feed = feed
    live.feed_session(session, chunk_s=chunk_s)
    if poll_s is not None:
        updates.append(live.poll())
    return updates
