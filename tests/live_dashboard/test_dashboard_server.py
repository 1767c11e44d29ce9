"""The dashboard's server and state without a browser: the token guard, /api/status, the page's
commands, the messages and their bounds, the reference bands."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from imugait.conventions import Placement, Side
from imugait.errors import ImugaitError, ValidationError
from imugait.live.dashboard.bands import stride_metric_bands
from imugait.live.dashboard.run import DashboardConfig
from imugait.live.dashboard.server import Hub, build_app, new_token
from imugait.live.dashboard.state import ArrivalLog, DashboardState, StepMark
from imugait.live.updates import (
    CalibrationPhase,
    LegAngles,
    LegCalibrationState,
    LiveStride,
    LiveUpdate,
)
from imugait.report.drill_data import load_report_data

with warnings.catch_warnings():  # starlette 1.x prefers `httpx2` for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient


def _angles(side: Side, t0: float, n: int, flexion: float = 10.0, hip: float = 3.0) -> LegAngles:
    t = t0 + np.arange(n) / 200.0
    return LegAngles(side, t, np.full(n, flexion), np.full(n, -1.0), np.full(n, 2.0), np.full(n, hip))


def _stride(side: Side, index: int, hip_mean: float, valgus: float, stance: float) -> LiveStride:
    return LiveStride(side, index, index * 1.1, index * 1.1 + 0.65, index * 1.1 + 1.1,
                      {"hip_rotation_mean_deg": hip_mean, "knee_valgus_stance_peak_deg": valgus,
                       "stance_pct": stance, "stride_time_s": 1.1}, used=True)


class Calls:
    """The page's commands as the run would get them (a recording test double)."""

    def __init__(self, state: DashboardState) -> None:
        self.state = state
        self.calls: list[tuple[str, ...]] = []

    def start_recording(self) -> None:
        self.calls.append(("start",))
        self.state.recording = {**self.state.recording, "active": True}

    def stop_recording(self) -> None:
        if not self.state.recording["active"]:
            raise ImugaitError("no recording is running")
        self.calls.append(("stop",))

    def begin_step(self, name: str) -> None:
        self.calls.append(("begin", name))
        self.state.marks.append(StepMark(name, 1.0))

    def end_step(self, name: str) -> None:
        self.calls.append(("end", name))

    def recalibrate(self) -> None:
        self.calls.append(("recalibrate",))

    def calibration_download(self) -> tuple[str, str]:
        self.calls.append(("download",))
        if not self.state.calibration:
            raise ImugaitError("no calibration to save yet")
        return "imugait-calibration-p01-2026-12-05.json", '{"format": "imugait.leg_calibration"}\n'


@pytest.fixture
def served():
    state = DashboardState(window_s=2.0)
    token = new_token()
    controls = Calls(state)
    client = TestClient(build_app(Hub(state, {"window_s": 2.0}), token, controls))
    return client, token, state, controls


def test_every_request_without_the_token_is_refused(served):
    client, token, _state, _controls = served
    for path in ("/", "/assets/dashboard.js", "/assets/vendor/uplot/uPlot.iife.min.js", "/api/status"):
        assert client.get(path).status_code == 401, path
        assert client.get(path + "?token=" + token[:-1]).status_code == 401, path
        assert client.get(path + "?token=" + token).status_code == 200, path
    assert client.post("/api/record", json={"action": "start"}).status_code == 401
    with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws?token=nope"):
        pass
    assert refused.value.code == 1008
    assert len(token) >= 32 and token != new_token()


def test_the_page_links_its_assets_with_the_token_and_sets_safe_headers(served):
    client, token, _state, _controls = served
    page = client.get("/?token=" + token)
    assert page.text.count(f"?token={token}") == 4  # two scripts, two style sheets
    assert "http://" not in page.text and "https://" not in page.text  # no CDN: everything is served here
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_api_status_gives_the_latest_angles_and_strides(served):
    client, token, state, _controls = served
    assert client.get("/api/status?token=" + token).json()["legs"]["left"]["knee_flexion_deg"] is None
    hip = np.array([4.0, 5.0, np.nan])  # the newest hip rotation is withheld: the last computed one is given
    left = LegAngles(Side.LEFT, np.array([1.0, 1.005, 1.01]), np.array([10.0, 11.0, 12.5]), np.zeros(3), np.zeros(3), hip)
    state.take(LiveUpdate(t_s=1.01, angles=(left, _angles(Side.RIGHT, 1.0, 3, 20.0)),
                          strides=(_stride(Side.LEFT, 0, 1.0, 2.0, 60.0),), n_strides={Side.LEFT: 1, Side.RIGHT: 0}))
    status = client.get("/api/status?token=" + token).json()
    assert status["legs"]["left"] == {"t_s": 1.01, "knee_flexion_deg": 12.5, "knee_flexion_t_s": 1.01,
                                      "hip_rotation_deg": 5.0, "hip_rotation_t_s": 1.005, "strides_completed": 1}
    assert status["legs"]["right"]["knee_flexion_deg"] == 20.0 and status["legs"]["right"]["strides_completed"] == 0


def test_websocket_sends_a_snapshot_then_updates(served):
    client, token, state, _controls = served
    state.take(LiveUpdate(t_s=0.5, angles=(_angles(Side.LEFT, 0.0, 100),)))
    with client.websocket_connect("/ws?token=" + token) as ws:
        snapshot = ws.receive_json()
        assert snapshot["type"] == "snapshot" and len(snapshot["angles"]["left"]["t_s"]) == 100
        assert [b["metric"] for b in snapshot["bands"]] == [b.metric for b in stride_metric_bands()]


def test_commands_from_the_page(served):
    client, token, _state, controls = served
    q = "?token=" + token
    assert client.post("/api/record" + q, json={"action": "start"}).json()["recording"]["active"] is True
    assert client.post("/api/step" + q, json={"action": "begin", "name": "walk-1"}).status_code == 200
    assert client.post("/api/step" + q, json={"action": "end", "name": "walk-1"}).status_code == 200
    assert client.post("/api/calibration" + q, json={"action": "recalibrate"}).status_code == 200
    assert client.post("/api/calibration", json={"action": "recalibrate"}).status_code == 401
    assert client.post("/api/calibration" + q, json={"action": "forget"}).status_code == 400
    assert controls.calls == [("start",), ("begin", "walk-1"), ("end", "walk-1"), ("recalibrate",)]
    assert client.post("/api/step" + q, json={"action": "begin", "name": "<script>"}).status_code == 409
    assert client.post("/api/record" + q, json={"action": "explode"}).status_code == 400
    assert client.post("/api/record" + q, content=b"not json").status_code == 400


def test_commands_without_controls_answer_409():
    client = TestClient(build_app(Hub(DashboardState(), {}), "t" * 32, None))
    assert client.post("/api/record?token=" + "t" * 32, json={"action": "start"}).status_code == 409
    assert client.get("/api/calibration?token=" + "t" * 32).status_code == 409


def test_the_calibration_is_downloaded_as_a_file_once_there_is_one(served):
    client, token, state, controls = served
    q = "?token=" + token
    early = client.get("/api/calibration" + q)
    assert early.status_code == 409 and early.json() == {"error": "no calibration to save yet"}
    state.take(LiveUpdate(t_s=1.0, calibration=(LegCalibrationState(Side.LEFT, CalibrationPhase.CALIBRATED),)))
    got = client.get("/api/calibration" + q)
    assert got.status_code == 200 and got.json() == {"format": "imugait.leg_calibration"}
    assert got.headers["content-disposition"] == 'attachment; filename="imugait-calibration-p01-2026-12-05.json"'
    assert got.headers["cache-control"] == "no-store" and got.headers["content-type"].startswith("application/json")
    assert client.get("/api/calibration").status_code == 401
    assert controls.calls == [("download",), ("download",)]


def test_delta_drains_and_the_history_is_bounded():
    state = DashboardState(window_s=1.0, strides_kept=3)
    for k in range(50):  # 50 chunks of 0.05 s = 2.5 s
        state.take(LiveUpdate(t_s=k * 0.05, angles=(_angles(Side.LEFT, k * 0.05, 10),)))
    delta = state.delta()
    assert len(delta["angles"]["left"]["t_s"]) == 500  # everything since the previous push …
    assert "left" not in state.delta()["angles"]        # … then nothing
    kept = state.snapshot({})["angles"]["left"]["t_s"]
    assert kept[-1] - kept[0] <= 1.0 + 0.05 + 1e-9        # the snapshot keeps the window only
    for i in range(10):
        state.take(LiveUpdate(t_s=3.0, strides=(_stride(Side.RIGHT, i, 0.0, 0.0, 60.0),)))
    assert len(state.snapshot({})["strides"]) == 3


def test_a_later_version_of_a_stride_replaces_it_in_the_table_and_one_older_than_the_table_is_only_sent():
    """Strides come again (LiveStride.final): the final version of a straight run's strides once
    the run has ended, when newer strides may have pushed them out of the table."""
    state = DashboardState(strides_kept=3)
    state.take(LiveUpdate(t_s=6.0, strides=tuple(_stride(Side.LEFT, i, 1.0, 2.0, 60.0) for i in range(5))))
    state.delta()
    # The final versions of strides 1 (no longer kept) and 3 (kept), with another hip rotation.
    state.take(LiveUpdate(t_s=7.0, strides=(_stride(Side.LEFT, 1, 9.0, 2.0, 60.0), _stride(Side.LEFT, 3, 4.0, 2.0, 60.0))))
    table = state.snapshot({})["strides"]
    assert [(s["index"], s["metrics"]["hip_rotation_mean_deg"]) for s in table] == [(2, 1.0), (3, 4.0), (4, 1.0)]
    assert [s["index"] for s in state.delta()["strides"]] == [1, 3]  # both sent on
    # The summary is over the table: its mean hip rotation (1 + 4 + 1) / 3.
    row = next(r for r in state.snapshot({})["summary"] if r["metric"] == "hip_rotation_mean_deg")
    assert row["left"]["mean"] == pytest.approx(2.0)


def test_latest_is_the_newest_finite_angle_in_the_window():
    """While hip rotation is withheld (NaN) the latest value is the newest finite one kept, until
    its chunk leaves the window."""
    state = DashboardState(window_s=1.0)

    def chunk(t0_s, hip_deg):
        t = t0_s + 0.005 * np.arange(10)
        return LegAngles(Side.LEFT, t, t.copy(), np.zeros(10), np.zeros(10), np.asarray(hip_deg, float))

    state.take(LiveUpdate(t_s=0.05, angles=(chunk(0.0, [np.nan] * 3 + [2.0, 3.0] + [np.nan] * 5),)))
    for k in range(1, 30):  # NaN from then on
        state.take(LiveUpdate(t_s=0.05 * k, angles=(chunk(0.05 * k, [np.nan] * 10),)))
        left = state.latest()["left"]
        assert left["knee_flexion_deg"] == pytest.approx(0.05 * k + 0.045, abs=0.006)
        if k < 20:  # the first chunk is still kept (its last sample less than 1 s before the newest)
            assert (left["hip_rotation_deg"], left["hip_rotation_t_s"]) == (3.0, 0.02)
        elif k > 20:
            assert left["hip_rotation_deg"] is None and left["hip_rotation_t_s"] is None
    state.take(LiveUpdate(t_s=1.1, angles=(chunk(1.05, [np.nan] * 9 + [4.0]),)))
    assert state.latest()["left"]["hip_rotation_deg"] == 4.0



def test_an_angle_is_stamped_with_the_arrival_of_the_last_block_it_needs():
    """Per sensor of the leg, the first block (in time order) whose newest sample is at or after
    the angle's time; the later of thigh and shank; None while a sensor's blocks do not reach it.
    (Searched from the newest block back: checked against a search from the oldest.)"""
    rng = np.random.default_rng(5)
    log = ArrivalLog(keep_s=2.0)
    t_end = {p: 0.0 for p in (Placement.LEFT_THIGH, Placement.LEFT_SHANK)}
    blocks = {p: [] for p in t_end}
    for k in range(600):
        p = list(t_end)[k % 2]
        t_end[p] += rng.uniform(0.0, 0.04)  # (a block may end where the previous did)
        blocks[p].append((t_end[p], 100.0 + 0.01 * k))
        log.add(p, t_end[p], 100.0 + 0.01 * k)
        t = min(t_end.values()) - rng.uniform(0.0, 0.3)
        expected = []
        for q in [q for q in blocks if blocks[q]]:  # (a sensor without a block yet is not waited for)
            kept = [b for b in blocks[q] if b[0] >= t_end[q] - 2.0]
            expected.append(next((arrival for end, arrival in kept if end >= t - 1e-9), None))
        assert log.arrival_host_s(Side.LEFT, t) == (None if None in expected else max(expected))
    assert log.arrival_host_s(Side.LEFT, max(t_end.values()) + 1.0) is None
    assert log.arrival_host_s(Side.RIGHT, 0.0) is None  # no sensor of that leg: unknown


def test_nan_is_sent_as_null():
    state = DashboardState()
    angles = LegAngles(Side.LEFT, np.array([0.0, 0.005]), np.array([1.0, np.nan]), np.zeros(2), np.zeros(2),
                       np.array([np.nan, np.inf]))
    state.take(LiveUpdate(t_s=0.005, angles=(angles,)))
    left = state.delta()["angles"]["left"]
    assert left["knee_flexion_deg"] == [1.0, None] and left["hip_rotation_deg"] == [None, None]


def test_stride_table_compares_each_side_and_the_symmetry_index_with_the_bands():
    state = DashboardState()
    band = {b.metric: b for b in state.bands}["hip_rotation_mean_deg"]
    strides = [_stride(Side.LEFT, i, 0.0, 2.0, 60.0) for i in range(3)]
    strides += [_stride(Side.RIGHT, i, band.high + 5.0, 2.0, 70.0) for i in range(3)]
    state.take(LiveUpdate(t_s=5.0, strides=tuple(strides)))
    rows = {r["metric"]: r for r in state.delta()["summary"]}
    hip = rows["hip_rotation_mean_deg"]
    assert hip["left"] == {"mean": 0.0, "n": 3, "last": 0.0, "outside": False}
    assert hip["right"]["outside"] is True and hip["right"]["mean"] == pytest.approx(band.high + 5.0)
    stance = rows["stance_pct"]
    assert stance["symmetry_index_pct"] == pytest.approx(100 * 10 / 65, abs=0.01) and stance["outside"] is True
    assert "foot_progression_angle_deg" not in rows  # no stride carries it: no row
    assert rows["stride_time_s"]["compare"] == "none"


def test_bands_are_the_packaged_thresholds():
    data = load_report_data().thresholds
    for band in stride_metric_bands():
        if band.compare == "none":
            continue
        t = next(t for t in data.thresholds if t.metric == band.metric and t.protocol == "walking"
                 and t.side_handling.value == band.compare)
        low, high = t.reference_band()
        assert (band.low, band.high) == (None if math.isnan(low) else low, None if math.isnan(high) else high)
        assert band.source == data.citation(t.source) and band.source


def test_calibration_state_is_passed_on():
    state = DashboardState()
    state.take(LiveUpdate(t_s=1.0, calibration=(LegCalibrationState(Side.LEFT, CalibrationPhase.WAITING_FOR_WALKING,
                                                                    message="walk a few steps"),)))
    [cal] = state.delta()["calibration"]
    assert cal == {"side": "left", "phase": "waiting_for_walking", "phase_text": "waiting for walking",
                   "quality": None, "reference": None, "message": "walk a few steps", "calibration_method": ""}


def test_config_refuses_fewer_than_20_updates_per_second_and_knows_the_loopback():
    with pytest.raises(ValidationError, match="20 updates/s"):
        DashboardConfig(push_interval_s=0.06)
    assert DashboardConfig().loopback_only and not DashboardConfig(host="0.0.0.0").loopback_only


def test_no_browser_is_opened_without_a_display(monkeypatch):
    import sys
    import webbrowser

    from imugait.cli.live import open_browser

    opened = []
    monkeypatch.setattr(webbrowser, "open", lambda url, new=0: opened.append(url) or True)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert open_browser("http://127.0.0.1:1/?token=x") is (not sys.platform.startswith("linux"))
    monkeypatch.setenv("DISPLAY", ":0")
    assert open_browser("http://127.0.0.1:1/?token=x") is True and opened


def test_every_sample_reaches_the_pipeline_and_any_out_of_order_is_counted_in_status():
    """The dashboard no longer filters samples (the live clock mapping only goes forward); a
    sample at or before its sensor's previous one would be counted and shown in /api/status."""
    from imugait.acquisition.assembler import LiveSamples
    from imugait.conventions import Placement
    from imugait.live.dashboard.run import LiveDashboard

    class Pipeline:
        def __init__(self) -> None:
            self.fed: list[np.ndarray] = []

        def feed(self, samples: LiveSamples) -> None:
            self.fed.append(samples.t_s)

        def poll(self) -> LiveUpdate:
            return LiveUpdate(t_s=math.nan)

    async def no_sensors(_stack):
        raise AssertionError("not opened in this test")

    dash = LiveDashboard(no_sensors)
    dash.pipeline = pipeline = Pipeline()

    def block(t0: float) -> LiveSamples:
        t_s = t0 + np.arange(4) / 200.0
        return LiveSamples(Placement.LEFT_SHANK, t_s, np.zeros((4, 3)), np.zeros((4, 3)), None, None, 0)

    dash._observe(Placement.LEFT_SHANK, object(), block(0.0))
    dash._observe(Placement.LEFT_SHANK, object(), block(0.02))
    assert dash.state.status()["samples_out_of_order"] == 0
    dash._observe(Placement.LEFT_SHANK, object(), block(0.03))  # starts 2 samples before the last one
    assert [t.size for t in pipeline.fed] == [4, 4, 4]
    assert dash.samples_out_of_order == 2
    assert dash.state.status()["samples_out_of_order"] == 2


def test_a_push_sends_what_the_poll_gave_before_the_work_the_poll_left():
    """``_push`` polls, sends, then runs what the pipeline left for after the push
    (``finish_ticks``: the strides' final versions, LiveKinematics ``deferred_tails``); a pipeline
    without it is polled as before."""
    from types import SimpleNamespace

    from imugait.live.dashboard.run import LiveDashboard

    calls = []

    class Pipeline:
        def feed(self, samples) -> None:
            pass

        def poll(self) -> LiveUpdate:
            calls.append("poll")
            return LiveUpdate(t_s=1.0)

        def finish_ticks(self) -> None:
            calls.append("finish_ticks")

    async def no_sensors(_stack):
        raise AssertionError("not opened in this test")

    dash = LiveDashboard(no_sensors)
    dash.pipeline = Pipeline()
    dash.hub = SimpleNamespace(broadcast=lambda message: calls.append("broadcast"))
    dash._push(with_status=False)
    dash._push(with_status=False)
    assert calls == ["poll", "broadcast", "finish_ticks"] * 2
    del Pipeline.finish_ticks
    calls.clear()
    dash._push(with_status=False)
    assert calls == ["poll", "broadcast"]
