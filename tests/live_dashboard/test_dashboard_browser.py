"""The dashboard in real headless Chromium against 4 emulated sensors (serial ptys and emulated BlueZ).

The emulations run on a virtual clock (:class:`imugait.emulate.clock.VirtualClock`), so a loaded
machine makes them slower, never different; the timeouts only guard against hangs. The pipeline
is the :class:`~dashboard_helpers.ReplayPipeline` test double (the dashboard is under test here).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import pytest
from dashboard_helpers import ReplayPipeline, chromium_path, serial_opener

from imugait.analysis import analyze_session
from imugait.cli import main as cli_main
from imugait.conventions import Placement
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import Disconnect, emulated_devices, walker_simulation
from imugait.live.dashboard.run import DashboardConfig, LiveDashboard

WALK_S = 24.0
PLAYBACK = 3.0
DROPPED = Placement.RIGHT_SHANK
HANG_GUARD_S = 600.0


@pytest.fixture(scope="module")
def chromium():
    return chromium_path()


@pytest.fixture(scope="module")
def walk():
    result = walker_simulation(4, WALK_S, seed=7)
    return result, analyze_session(result.session)


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def _get_async(url: str) -> tuple[int, str]:
    return await asyncio.to_thread(_get, url)


async def _wait_for(predicate, what: str, timeout_s: float = 120.0, step_s: float = 0.1):
    async with asyncio.timeout(timeout_s):  # hang guard
        while True:
            value = await predicate()
            if value:
                return value
            await asyncio.sleep(step_s)
    raise AssertionError(what)


def test_serial_dashboard_in_chromium(chromium, walk, tmp_path):
    from playwright.async_api import async_playwright

    result, analysis = walk
    devices = emulated_devices(result, DeviceSettings(samples_per_block=4, seed=3))
    opener = serial_opener(devices, PLAYBACK, disconnects=(Disconnect(DROPPED, 9.0, 1.5),))
    pipeline = ReplayPipeline(analysis)
    config = DashboardConfig(record_dir=tmp_path / "take", window_s=8.0)

    async def scenario():
        async with LiveDashboard(opener, pipeline, config) as dash, async_playwright() as pw:
            pipeline.offset_s = dash.live.t0_host_s - dash.opened.emulator.world_t0_s
            base = dash.url.split("?")[0]
            assert dash.url.startswith("http://127.0.0.1:")
            # refused without the token (page, assets, API, websocket), served with it
            for path in ("", "assets/dashboard.js", "api/status", "api/status?token=wrong"):
                assert (await _get_async(base + path))[0] == 401, path
            browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = await browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            ws_refused = await page.evaluate("""url => new Promise(resolve => {
                const ws = new WebSocket(url);
                ws.onopen = () => resolve(false); ws.onerror = () => resolve(true);
            })""", base.replace("http", "ws") + "ws?token=wrong")
            assert ws_refused
            await page.goto(dash.url)
            run = asyncio.ensure_future(dash.run())

            async def points() -> int:
                return await page.evaluate("window.imugait.updates")

            # the curves move: the page's newest time and angles advance with the stream
            await _wait_for(lambda: page.evaluate("window.imugait.lastStatus && window.imugait.lastStatus.latest.left.t_s"),
                            "no angles reached the page")
            t1 = await page.evaluate("window.imugait.lastStatus.latest.left.t_s")
            n1 = await page.evaluate("document.querySelector('#chart-knee_flexion_deg canvas') !== null")
            assert n1
            await _wait_for(lambda: page.evaluate(f"window.imugait.lastStatus.latest.left.t_s > {t1} + 2"),
                            "the curves did not move")
            assert await points() > 20

            # record a take from the page, with a step mark
            await page.click("#record-button")
            await _wait_for(lambda: page.evaluate("document.getElementById('record-button').textContent === 'Stop recording'"),
                            "recording did not start")
            await page.click("#step-button")
            await _wait_for(lambda: page.evaluate("document.getElementById('marks').children.length === 1"),
                            "the step mark is not shown")
            t_rec = dash.state.t_s
            await _wait_for(lambda: _after(dash, t_rec + 10.0), "the stream stalled while recording")
            await page.click("#step-button")
            await page.click("#record-button")
            await _wait_for(lambda: page.evaluate("document.getElementById('sessions').textContent.includes('session.parquet')"),
                            "the recorded session is not shown")

            await asyncio.wait_for(run, HANG_GUARD_S)
            await _wait_for(lambda: page.evaluate("window.imugait.finished"), "the page did not see the end")
            # the page's values equal /api/status once the stream has ended
            code, text = await _get_async(base + "api/status?token=" + dash.token)
            assert code == 200
            status = json.loads(text)
            for side in ("left", "right"):
                leg = status["legs"][side]
                assert leg["strides_completed"] > 3
                assert await page.text_content(f"#latest-{side}-knee_flexion_deg") == _shown(leg["knee_flexion_deg"])
                assert await page.text_content(f"#latest-{side}-hip_rotation_deg") == _shown(leg["hip_rotation_deg"])
                assert await page.text_content(f"#latest-{side}-strides_completed") == str(leg["strides_completed"])
                assert leg["knee_flexion_deg"] is not None
                # … and the stream: the strides the pipeline completed
                assert leg["strides_completed"] == pipeline._counts()[_side(side)]
            # the dropped sensor shows its gap; the others none
            row = page.locator(f"#sensor-{DROPPED.value}")
            assert await row.get_attribute("data-outages") == "1"
            assert await row.get_attribute("data-reconnects") == "1"
            assert int(await row.get_attribute("data-lost")) > 0
            assert "s at" in (await row.text_content())
            for p in Placement:
                if p.side is not None and p.segment.value in ("thigh", "shank") and p is not DROPPED:
                    assert await page.locator(f"#sensor-{p.value}").get_attribute("data-outages") == "0"
            # the stride table compares with the packaged bands
            assert await page.locator("#stride-hip_rotation_mean_deg").count() == 1
            assert errors == []
            await browser.close()
            return status

    async def guarded():
        async with asyncio.timeout(HANG_GUARD_S):
            return await scenario()

    asyncio.run(guarded())
    session = tmp_path / "take" / "session.parquet"
    assert session.exists()
    assert cli_main(["analyze", str(session)]) == 0  # `analyze` reads the take recorded from the page


async def _after(dash, t_s: float) -> bool:
    return dash.state.t_s >= t_s or dash.state.finished


def _side(name: str):
    from imugait.conventions import Side

    return Side(name)



def _shown(value: float | None) -> str:
    """How the page shows a number (one decimal; a dash for none)."""
    return "—" if value is None else f"{value:.1f}"
