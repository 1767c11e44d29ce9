"""A short walk that does not stop cleanly, in real headless Chromium against 4 emulated sensors
over serial ptys with the real live pipeline: *Walk done* clicked mid-walk, a take stopped mid-walk,
and a run whose stream ends mid-walk each get the legs calibrated and their strides on the page,
with ``/api/status`` agreeing. The emulations run on a virtual clock, and the page acts while the
walk is held (:class:`~dashboard_helpers.PausedWalk`): what is asserted is at instants of the walk,
never of wall-clock speed."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import urllib.error
import urllib.request

import pytest
from dashboard_helpers import (
    HANG_GUARD_S,
    PausedWalk,
    Tap,
    emulated_opener,
    get,
    shown,
    wait_for,
    walked,
)

from imugait.acquisition.recorder import Recorder
from imugait.conventions import Side
from imugait.emulate.emulator import emulated_devices, walker_simulation
from imugait.live.dashboard.run import DashboardConfig, LiveDashboard
from imugait.live.kinematics import LiveKinematics
from imugait.live.updates import CalibrationPhase, latest_strides

PLAYBACK = 4.0
WALK_S = 24.0
"""Stand 2.5 s, walk 8.25 s, turn 2.5 s, walk 8.25 s, stand 2.5 s (``walker_simulation``)."""
DONE_AT_S = 8.5
"""Walker time of "walk done": 6 s into the first walk, still walking — the legs wait for 10 s of
walking (or a stop) by the ordinary rules."""
STREAM_FOR_S = 9.0
"""Session seconds of the run whose stream ends mid-walk (``--duration``)."""
HELD = "test-start"
WAITING = {CalibrationPhase.WAITING_FOR_STANDING.name.lower(), CalibrationPhase.WAITING_FOR_WALKING.name.lower()}


@pytest.fixture(scope="module")
def walk():
    return walker_simulation(4, WALK_S, seed=11)


@pytest.fixture
def devices(walk):
    """Fresh emulated devices for each run (a device keeps its clock and counters)."""
    return emulated_devices(walk)


class EndTap(Tap):
    """A tap that also notes the legs' calibration phases when the stream's ``end()`` was called."""

    def __init__(self, pipeline) -> None:
        super().__init__(pipeline)
        self.phases_at_end: dict[Side, CalibrationPhase] | None = None

    def end(self):
        self.phases_at_end = {s.side: s.phase for s in self.pipeline.calibration_states()}
        return self.pipeline.end()


def _given(tap: Tap) -> list:
    """The latest version of every stride the pipeline gave."""
    return latest_strides(s for u in tap.updates for s in u.strides)


def _post(dash: LiveDashboard, path: str, body: bytes) -> int:
    request = urllib.request.Request(dash.url.replace("/?token=", f"/api/{path}?token="), data=body,
                                     method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _calibrated(dash: LiveDashboard) -> bool:
    states = dash.state.calibration.values()
    return len(states) == 2 and all(c.phase is CalibrationPhase.CALIBRATED for c in states)


async def _released_until(dash: LiveDashboard, opened: list, t_s: float) -> asyncio.Future:
    """Release the walk held at its start and run the dashboard until the walk reaches ``t_s``
    (walker time): the run's future."""
    opened[0].clock.release(HELD)
    run = asyncio.ensure_future(dash.run())
    await wait_for(lambda: walked(opened, t_s), "the stream stalled")
    return run


def _dashboard(devices, opened: list, taps: list, config: DashboardConfig | None = None,
               held: bool = False) -> LiveDashboard:
    """The dashboard of the emulated walk (``held``: the walk held where it starts until
    ``opened[0].clock.release(HELD)``, so that the host, a browser starting, cannot miss its
    standing on a loaded machine)."""
    emulated = emulated_opener("serial", devices, PLAYBACK)

    async def opener(stack):
        opened.append(await emulated(stack))
        if held:
            opened[-1].clock.hold(HELD, opened[-1].clock(), max_real_s=HANG_GUARD_S)
        return opened[-1]

    def pipeline(placements):  # as `imugait live`: calibrations in a worker thread
        taps.append(EndTap(LiveKinematics.for_dashboard(placements)))
        return taps[-1]

    return LiveDashboard(opener, pipeline, config)


async def _phases(page) -> dict[str, str]:
    return await page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#calibration-table tr')]
        .map(tr => [tr.id.replace('calibration-', ''), tr.dataset.phase]))""")


async def _strides_on_page(page, side: Side) -> int:
    return int(await page.text_content(f"#latest-{side.value}-strides_completed"))


async def _page_agrees_with_status(page, dash: LiveDashboard, tap: Tap) -> dict:
    """/api/status, after checking that the page shows its legs' numbers and that they are the
    pipeline's stream."""
    code, text = await asyncio.to_thread(get, dash.url.replace("/?token=", "/api/status?token="))
    assert code == 200
    status = json.loads(text)
    for side in Side:
        leg = status["legs"][side.value]
        assert leg["strides_completed"] == tap.strides(side)
        assert leg["knee_flexion_deg"] == pytest.approx(tap.newest_finite(side, "knee_flexion_deg"), abs=0.006)
        for name in ("knee_flexion_deg", "hip_rotation_deg"):
            assert await page.text_content(f"#latest-{side.value}-{name}") == shown(leg[name])
        assert await _strides_on_page(page, side) == leg["strides_completed"]
        assert await page.get_attribute(f"#calibration-{side.value}", "data-phase") == "calibrated"
    assert [c["phase"] for c in status["calibration"]] == ["calibrated", "calibrated"]
    return status


@contextlib.asynccontextmanager
async def _page_of(dash: LiveDashboard, chromium: str, opened: list):
    """The dashboard open with its page in Chromium; the walk (held at its start) released once the
    page is loaded; no script error on the page by the end."""
    from playwright.async_api import async_playwright

    async with dash, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = await browser.new_page()
        page.set_default_timeout(HANG_GUARD_S * 1000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        assert (await page.goto(dash.url)).status == 200
        opened[0].clock.release(HELD)
        yield page
        assert errors == []
        await browser.close()


@pytest.mark.slow
def test_walk_done_mid_walk_calibrates_the_legs_and_the_person_walks_on(chromium, devices):
    """*Walk done* clicked 6 s into a walk, the walk held there: both legs calibrated (against the
    standing before it) and the strides so far on the page — the ordinary rules would have waited
    for 10 s of walking. Released, the person walks on (turn, second walk): more strides. The
    button stays on once every leg is calibrated (it ends their walk)."""
    opened, taps = [], []
    dash = _dashboard(devices, opened, taps, held=True)

    async def scenario():
        async with _page_of(dash, chromium, opened) as page:
            run = asyncio.ensure_future(dash.run())
            await wait_for(lambda: walked(opened, DONE_AT_S), "the stream stalled")
            async with PausedWalk(opened):
                t_walk_s = opened[0].emulator.true_time_s()
                await wait_for(lambda: page.evaluate("!document.getElementById('walk-done-button').disabled"),
                               "Walk done is not offered while the legs wait")
                assert set((await _phases(page)).values()) <= WAITING  # nothing calibrated yet
                assert [await _strides_on_page(page, side) for side in Side] == [0, 0]
                await page.click("#walk-done-button")
                await wait_for(lambda: page.evaluate("""() => ['left', 'right'].every(s =>
                    document.getElementById('calibration-' + s)?.dataset.phase === 'calibrated')"""),
                               "the legs were not calibrated after Walk done")
                await wait_for(lambda: page.evaluate("""() => ['left', 'right'].every(s =>
                    Number(document.getElementById('latest-' + s + '-strides_completed').textContent) >= 3)"""),
                               "the strides of the walk so far are not on the page")
                at_click = {side: await _strides_on_page(page, side) for side in Side}
                assert not await page.evaluate("document.getElementById('walk-done-button').disabled")
                assert opened[0].emulator.true_time_s() == t_walk_s  # (the walk was held all along)
            await asyncio.wait_for(run, HANG_GUARD_S)
            await wait_for(lambda: page.evaluate("window.imugait.finished"), "the page did not see the end")
            status = await _page_agrees_with_status(page, dash, taps[0])
            for side in Side:  # the walk after the click was followed too
                assert status["legs"][side.value]["strides_completed"] >= at_click[side] + 4
            assert {c["reference"] for c in status["calibration"]} == {"standing"}
            return at_click

    asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S))
    tap = taps[0]
    states = [c for u in tap.updates for c in u.calibration]
    assert {c.phase for c in states if c.side is Side.LEFT} >= {CalibrationPhase.WAITING_FOR_WALKING,
                                                                CalibrationPhase.CALIBRATED}
    assert tap.phases_at_end == dict.fromkeys(Side, CalibrationPhase.CALIBRATED)


@pytest.mark.slow
def test_a_stream_that_ends_mid_walk_gets_its_strides_before_the_run_says_it_is_over(chromium, devices):
    """The run's stream ends (``duration_s``) 6.5 s into a walk: at its end the legs were still
    waiting; the pipeline's ``end()`` calibrates them on the walk, and the page and ``/api/status``
    show them calibrated with their strides once the run is finished."""
    opened, taps = [], []
    dash = _dashboard(devices, opened, taps, held=True)

    async def scenario():
        async with _page_of(dash, chromium, opened) as page:
            await dash.run(duration_s=STREAM_FOR_S)
            walker_s = opened[0].emulator.true_time_s()
            assert STREAM_FOR_S - 0.5 < walker_s < STREAM_FOR_S + 1.0, (walker_s, dash.live.t0_host_s)
            await wait_for(lambda: page.evaluate("window.imugait.finished"), "the page did not see the end")
            status = await _page_agrees_with_status(page, dash, taps[0])
            assert status["finished"] is True and 8.0 < status["t_s"] < STREAM_FOR_S + 0.5
            assert all(leg["strides_completed"] >= 3 for leg in status["legs"].values())
            assert await page.evaluate("document.getElementById('walk-done-button').disabled")

    asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S))
    tap = taps[0]
    assert tap.phases_at_end is not None and set(tap.phases_at_end.values()) <= {
        CalibrationPhase.WAITING_FOR_STANDING, CalibrationPhase.WAITING_FOR_WALKING}


def test_a_take_stopped_mid_walk_calibrates_the_waiting_legs(devices, tmp_path, monkeypatch):
    """A take recorded from the start and stopped from the page (``POST /api/record``) 6 s into the
    walk, the walk held there: the walk it recorded has ended, so the waiting legs are calibrated
    on it and give its strides, every one final (the take's walk has ended). The take is finalised
    off the event loop: slowed to a second (a long take's replay of its log), the pushes go on
    meanwhile — on the loop (``main``) none went out in that second — and its session is written
    when the POST returns."""
    finalise = Recorder.finalise

    def slow_finalise(self):
        time.sleep(1.0)  # (holds its thread: on the loop, every push and sensor read would wait)
        return finalise(self)

    monkeypatch.setattr(Recorder, "finalise", slow_finalise)
    opened, taps = [], []
    dash = _dashboard(devices, opened, taps, DashboardConfig(record_dir=tmp_path / "take", record_at_start=True),
                      held=True)
    pushed_at: list[float] = []

    async def scenario():
        async with dash:
            broadcast = dash.hub.broadcast
            dash.hub.broadcast = lambda message: (pushed_at.append(time.monotonic()), broadcast(message))[1]
            run = await _released_until(dash, opened, DONE_AT_S)
            async with PausedWalk(opened):
                assert not _calibrated(dash)
                t0 = time.monotonic()
                assert await asyncio.to_thread(_post, dash, "record", b'{"action": "stop"}') == 200
                t1 = time.monotonic()
                assert len(dash.takes.sessions) == 1  # (written by the time the page got its answer)
                during = [t0, *(t for t in pushed_at if t0 <= t <= t1), t1]
                assert t1 - t0 >= 1.0 and max(b - a for a, b in itertools.pairwise(during)) < 0.6
                await wait_for(lambda: asyncio.sleep(0, _calibrated(dash)), "the take's stop calibrated nothing")
                await wait_for(lambda: asyncio.sleep(0, all(n >= 3 for n in dash.state.n_strides.values())),
                               "no strides of the walk recorded")
                await wait_for(lambda: asyncio.sleep(0, all(s.final for s in _given(taps[0]))),
                               "the take's walk has strides not final")
            await asyncio.wait_for(run, HANG_GUARD_S)

    asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S))
    assert len(dash.takes.sessions) == 1
    assert {c.reference for c in dash.state.calibration.values()} == {"standing"}


SECOND_DONE_AT_S = 17.0
"""Walker time of the second "walk done": 3.75 s into the second walk (after the turn), still walking."""


def test_walk_done_with_the_legs_calibrated_gives_the_walks_last_strides_at_once(devices):
    """*Walk done* (``POST /api/walk``) calibrates the legs 6 s into the first walk; pressed again
    3.75 s into the second walk, the walk held there, it ends the calibrated legs' walk: the strides
    that waited for more walking (their timing, heading windows, the run's direction) come at once,
    every one final, on the page's state (``main``: 409, every leg calibrated already). Released,
    the walking after it is followed as a new walk: no stride spans the press."""
    opened, taps = [], []
    dash = _dashboard(devices, opened, taps, held=True)

    async def scenario():
        async with dash:
            run = await _released_until(dash, opened, DONE_AT_S)
            async with PausedWalk(opened):
                assert await asyncio.to_thread(_post, dash, "walk", b'{"action": "done"}') == 200
                await wait_for(lambda: asyncio.sleep(0, _calibrated(dash)), "walk done calibrated nothing")
            await wait_for(lambda: walked(opened, SECOND_DONE_AT_S), "the stream stalled")
            async with PausedWalk(opened):
                await asyncio.sleep(0.5)  # (what the pipeline had by the hold is pushed)
                waiting = [s for s in _given(taps[0]) if not s.final]
                assert waiting  # the newest strides of the second walk wait for more walking
                n_before = dict(dash.state.n_strides)
                assert await asyncio.to_thread(_post, dash, "walk", b'{"action": "done"}') == 200
                await wait_for(lambda: asyncio.sleep(0, all(s.final for s in _given(taps[0]))),
                               "walk done left strides of the walk not final")
                t_done = taps[0].updates[-1].t_s
                await wait_for(lambda: asyncio.sleep(0, dash.state.n_strides == {
                    side: sum(s.side is side for s in _given(taps[0])) for side in Side}), "the page's state lags")
                held = {side: max(s.t_next_initial_contact_s for s in _given(taps[0]) if s.side is side) for side in Side}
                assert all(dash.state.n_strides[side] >= n_before[side] for side in Side)
            await asyncio.wait_for(run, HANG_GUARD_S)
            return t_done, held

    t_done, held = asyncio.run(asyncio.wait_for(scenario(), HANG_GUARD_S))
    given = _given(taps[0])
    for side in Side:
        assert not any(s.t_initial_contact_s < t_done < s.t_next_initial_contact_s for s in given if s.side is side)
        assert max(s.t_next_initial_contact_s for s in given if s.side is side) > held[side]  # walked on after it
