"""A calibration saved by one `imugait live --emulate` run and reused by the next (angles from the
first second), refused for other sensors; the page's recalibrate command over HTTP. Emulated
sensors over serial ptys on the virtual clock: no assertion depends on wall-clock speed."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
from dashboard_helpers import Tap, emulated_opener

from imugait.cli import main
from imugait.conventions import Side
from imugait.emulate.emulator import emulated_devices, walker_simulation
from imugait.live.calibration_file import calibration_from_dict, load_calibration
from imugait.live.dashboard.run import DashboardConfig, LiveDashboard
from imugait.live.kinematics import LiveConfig, LiveKinematics
from imugait.live.updates import CalibrationPhase

PLAYBACK = 5.0
HANG_GUARD_S = 900.0


@pytest.fixture(scope="module")
def saved_by_a_run(tmp_path_factory):
    """`imugait live --emulate 4 … --save-calibration`: stand 2.5 s, walk — calibrated and saved."""
    path = tmp_path_factory.mktemp("cal") / "p01.json"
    code = main(["live", "--emulate", "4", "--duration", "26", "--playback", f"{PLAYBACK:g}", "--no-browser",
                 "--subject", "p01", "--save-calibration", str(path)])
    return code, path


def _run(dash: LiveDashboard) -> bool:
    async def go():
        async with dash:
            return await asyncio.wait_for(dash.run(), HANG_GUARD_S)
    return asyncio.run(go())


def test_a_run_saves_its_calibration_and_the_next_run_reuses_it(saved_by_a_run, tmp_path, capsys):
    code, path = saved_by_a_run
    assert code == 0 and path.is_file()
    saved = load_calibration(path)
    assert saved.subject_id == "p01" and {c for c in saved.calibration.references.values()} == {"standing"}
    # The emulated sensors announce 1a6a17000000000<n>: those are what the file names.
    assert sorted(s.device_id for s in saved.sensors.values()) == [f"1a6a17000000000{i}" for i in range(4)]

    # A second run of the same emulated sensors reusing it: angles from the first second.
    devices = emulated_devices(walker_simulation(4, 10.0, seed=3))
    tap = Tap(None)
    dash = LiveDashboard(emulated_opener("serial", devices, PLAYBACK),
                         lambda placements: setattr(tap, "pipeline", LiveKinematics(
                             placements, LiveConfig(), calibration=saved.calibration)) or tap,
                         DashboardConfig(calibration=saved))
    assert _run(dash) is False and dash.refusal == ""
    assert {c.phase for c in tap.pipeline.calibration_states()} == {CalibrationPhase.REUSED}
    angles = [a for u in tap.updates for a in u.angles]
    t_first = min(float(a.t_s[0]) for a in angles if a.t_s.size)
    assert t_first < 1.5  # session time: no standing and walking to wait for
    for side in {a.side for a in angles}:
        flexion = np.concatenate([a.knee_flexion_deg for a in angles if a.side is side])
        assert np.isfinite(flexion[:200]).all()  # the first second of angles: all there
    assert dash.state.status()["calibration_file"]["reused"] == str(path)


def test_the_saved_file_is_never_replaced_without_force_nor_reused_for_other_sensors(saved_by_a_run, tmp_path, capsys):
    _code, path = saved_by_a_run
    capsys.readouterr()
    assert main(["live", "--emulate", "4", "--duration", "5", "--no-browser", "--save-calibration", str(path)]) == 1
    assert "exists: use --force" in capsys.readouterr().err
    assert main(["live", "--emulate", "4", "--duration", "5", "--no-browser", "--calibration", str(path),
                 "--save-calibration", str(path), "--force"]) == 1
    assert "this command's input" in capsys.readouterr().err
    other = json.loads(path.read_text())
    other["sensors"]["left_thigh"]["device_id"] = "00000000000000ff"
    (tmp_path / "other.json").write_text(json.dumps(other))
    # Refused when the sensors are open, before any sample: 3 s at real time is enough (8 s at ×5
    # was a 58-s walk simulated up front; docs/testing.md "Suite time").
    assert main(["live", "--emulate", "4", "--duration", "3", "--playback", "1", "--no-browser",
                 "--calibration", str(tmp_path / "other.json")]) == 1
    out, err = capsys.readouterr()
    assert "calibration: reusing" in out and "subject p01" in out
    [line] = err.strip().splitlines()
    assert "other.json was made with device 00000000000000ff at left_thigh" in line
    assert "but left_thigh is device 1a6a170000000000" in line
    assert main(["live", "--emulate", "4", "--no-browser", "--calibration", str(path), "--subject", "p02"]) == 1
    assert "is the calibration of subject 'p01', not 'p02'" in capsys.readouterr().err
    (tmp_path / "cut.json").write_text(path.read_text()[:300])
    assert main(["live", "--emulate", "4", "--no-browser", "--calibration", str(tmp_path / "cut.json")]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "cut.json is not valid JSON" in line and "damaged" in line


def test_recalibrate_from_the_page_calibrates_again_on_the_walking_after_it():
    """GET /api/calibration (the page's *Save calibration*) refused before the legs are calibrated,
    then the calibration as a file; POST /api/calibration mid-walk: the legs drop their
    calibration, find no standing in the walk that follows and calibrate against mid-stance after
    10 s of it."""
    devices = emulated_devices(walker_simulation(4, 44.0, seed=5))
    tap = Tap(None)
    dash = LiveDashboard(emulated_opener("serial", devices, PLAYBACK),
                         lambda placements: setattr(tap, "pipeline", LiveKinematics(placements)) or tap)
    answers, downloads = [], []

    async def get(url):
        def fetch():
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    return response.status, response.headers["Content-Disposition"], response.read().decode()
            except urllib.error.HTTPError as exc:
                return exc.code, None, exc.read().decode()
        return await asyncio.to_thread(fetch)

    def calibrated_on_the_page():
        states = dash.state.calibration.values()
        return bool(states) and all(c.phase is CalibrationPhase.CALIBRATED for c in states)

    async def go():
        async with dash:
            run = asyncio.ensure_future(dash.run())
            async with asyncio.timeout(HANG_GUARD_S):
                url = dash.url.replace("/?token=", "/api/calibration?token=")
                while tap.pipeline is None and not run.done():
                    await asyncio.sleep(0.05)
                downloads.append(await get(url))  # standing: nothing calibrated yet
                while not (calibrated_on_the_page() or run.done()):
                    await asyncio.sleep(0.05)
                downloads.append(await get(url))
                calibration_then = tap.pipeline.calibration
                request = urllib.request.Request(url, data=b'{"action": "recalibrate"}', method="POST",
                                                 headers={"Content-Type": "application/json"})
                answers.append(await asyncio.to_thread(lambda: urllib.request.urlopen(request, timeout=10).status))
                refused = urllib.request.Request(url.split("?")[0], data=b'{"action": "recalibrate"}', method="POST")
                with pytest.raises(urllib.error.HTTPError) as no_token:
                    await asyncio.to_thread(urllib.request.urlopen, refused, None, 10)
                answers.append(no_token.value.code)
                await run
                return calibration_then

    calibration_then = asyncio.run(go())
    assert answers == [200, 401]
    (early, _none, refusal), (ok, disposition, text) = downloads
    assert early == 409 and "no calibration to save yet" in json.loads(refusal)["error"]
    assert ok == 200 and disposition.startswith('attachment; filename="imugait-calibration-') and disposition.endswith('.json"')
    downloaded = calibration_from_dict(json.loads(text), "downloaded")
    assert set(downloaded.sensors) == set(devices) and set(downloaded.calibration.alignments) == set(Side)
    for side, alignment in calibration_then.alignments.items():  # what the pipeline used, read back from the file
        got = downloaded.calibration.alignments[side]
        for segment in ("thigh", "shank"):
            np.testing.assert_array_equal(getattr(got, segment).q_sensor_segment,
                                          getattr(alignment, segment).q_sensor_segment)
    states = [c for u in tap.updates for c in u.calibration]
    phases = [c.phase for c in states if c.side.value == "left"]
    first = phases.index(CalibrationPhase.CALIBRATED)
    again = phases.index(CalibrationPhase.WAITING_FOR_STANDING, first)
    assert CalibrationPhase.CALIBRATED in phases[again:]
    assert any("recalibrating" in c.message for c in states)
    final = {c.side: c for c in tap.pipeline.calibration_states()}
    assert {c.phase for c in final.values()} == {CalibrationPhase.CALIBRATED}
    assert {c.reference for c in final.values()} == {"mid-stance"}
