"""Live dashboard: latency from a sample's time to its angle drawn in the browser, stride
metrics on screen after the stride's end, and the server's CPU, for 4 sensors at 200 Hz.

Reproduce (from the repository root; prints Markdown tables)::

    .venv/bin/python benchmarks/dashboard_latency.py                 # 60 s per row, real time
    .venv/bin/python benchmarks/dashboard_latency.py --duration 30   # quicker
    .venv/bin/python benchmarks/dashboard_latency.py --order-only    # one run without a page:
                                                                      # samples out of time order

The emulated sensors (imugait v1 over pseudo-terminals, 4 samples per frame) run in a child
process on real time (:class:`~imugait.emulate.process.SerialEmulatorProcess`), so only the host's
work is counted. The host runs ``imugait live``'s loop (:class:`~imugait.live.dashboard.run.LiveDashboard`:
live acquisition, the live kinematics, the push loop and uvicorn) in this process, on the event loop
the command runs on (:func:`run_loop`: uvloop's where installed); the page is
real headless Chromium (Debian's ``chromium``, driven by Playwright) in its own processes.

* **Angle latency** is measured in the page: for each push, the server stamps each leg's newest
  angle with the wall-clock time at which the last sample it needs (the leg's thigh and shank)
  was taken — its time on the session clock (the clock mapping's, which is the host time of
  the sample plus the link's smallest delay), mapped to wall-clock time; the page subtracts it from
  the wall-clock time at which uPlot has drawn the update into its canvases (its ``draw`` hook).
  Compositing to the screen (the next frame) is not included. Until the serial ports were read
  at the push tick the stamp was the samples' arrival stamp (when the chunk came off the
  transport); read at the tick, that is when the tick read them — up to a push interval after
  the bytes came — and would hide the wait, so both ways of reading are measured from the
  sample's time (``--from-arrival``: the arrival stamp, as before). ``--serial-reads`` picks how
  the dashboard reads the ports (default: as ``imugait live``).
* **Stride latency**: when a stride arrives, the page subtracts the wall-clock time of the
  stride's end (its next initial contact on the session clock, mapped the same way) from the time
  the stride table was updated.
* **CPU** is ``getrusage(RUSAGE_SELF)`` user + system time of this process over the run's wall
  time, as a percentage of one core (and over its second half alone: the steady state, after the
  legs' one-off calibration fits), with the page open, without a page, and for acquisition
  alone (no pipeline, no server) for comparison.

The targets (issue 11) are printed next to the numbers as ratios measured / target (≤ 1 meets it).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import time

from imugait.cli import one_blas_thread  # imports no numpy

one_blas_thread()  # as `imugait live` runs: else the live calibration's fits spin a second BLAS thread

import numpy as np  # noqa: E402
from _common import machine, markdown_table  # noqa: E402

from imugait.acquisition.sources import SensorSource, SourceKind  # noqa: E402
from imugait.emulate.device import DeviceSettings  # noqa: E402
from imugait.emulate.emulator import emulated_devices, walker_simulation  # noqa: E402
from imugait.emulate.process import SerialEmulatorProcess  # noqa: E402
from imugait.live.acquisition import LiveAcquisition, LiveConfig  # noqa: E402
from imugait.live.dashboard.run import DashboardConfig, LiveDashboard  # noqa: E402
from imugait.live.kinematics import LiveKinematics  # noqa: E402
from imugait.live.run import OpenedSensors  # noqa: E402

N_SENSORS = 4
RATE_HZ = 200.0
TARGET_ANGLE_P50_MS, TARGET_ANGLE_P99_MS = 20.0, 50.0
TARGET_STRIDE_MS = 150.0
TARGET_CPU_PCT = 20.0
STAND_S = 10.0
SERIAL_READS = None
"""How the dashboard reads the serial ports (``--serial-reads``; None: as ``imugait live``)."""
FROM_ARRIVAL = False
"""The angle latency from the samples' arrival stamps (``--from-arrival``), not their times."""


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _opener(emulator):
    async def open_(_stack) -> OpenedSensors:
        sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
        return OpenedSensors(sources, emulator.clock)  # no emulator: run for the duration
    return open_


def _dashboard_config() -> DashboardConfig:
    return DashboardConfig() if SERIAL_READS is None else DashboardConfig(serial_reads=SERIAL_READS)


def _stamp_sample_times(dash: LiveDashboard) -> None:
    """The angles' stamps from the samples' times instead of their arrival (see the module's
    docstring): the arrival log is given each block's newest sample's session time as host time."""
    log, t0_host_s = dash.state.arrivals, dash.live.t0_host_s
    add = log.add
    log.add = lambda placement, t_end_s, _arrival_host_s: add(placement, t_end_s, t0_host_s + t_end_s)


async def _dashboard(emulator, duration_s: float, with_page: bool, with_pipeline: bool = True) -> dict:
    from playwright.async_api import async_playwright

    out: dict = {}
    pipeline = LiveKinematics.for_dashboard if with_pipeline else None  # as `imugait live`
    async with LiveDashboard(_opener(emulator), pipeline, _dashboard_config()) as dash, async_playwright() as pw:
        if not FROM_ARRIVAL:
            _stamp_sample_times(dash)
        browser = page = None
        if with_page:
            chromium = shutil.which("chromium")
            if chromium is None:
                raise SystemExit("needs Debian's chromium (apt-get install -y chromium)")
            browser = await pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = await browser.new_page()
            await page.goto(dash.url)
        cpu0, wall0 = _cpu_s(), time.perf_counter()
        marks = []  # (wall s, CPU s) every second: the second half of the run is the steady state
        sampler = asyncio.create_task(_sample_cpu(marks))
        await dash.run(duration_s)
        sampler.cancel()
        out["cpu_s"], out["wall_s"] = _cpu_s() - cpu0, time.perf_counter() - wall0
        out["steady_pct"] = _steady_pct(marks)
        out["samples"] = sum(s.n_samples for s in dash.live.status())
        out["strides"] = sum(dash.state.n_strides.values())
        out["out_of_order"] = dash.samples_out_of_order
        if dash.pipeline_error:
            raise SystemExit(f"the live pipeline failed: {dash.pipeline_error}")
        if page is not None:
            probe = await page.evaluate("window.imugait")
            out["angle_ms"] = np.asarray(probe["latency"]["angleMs"], float)
            out["stride_ms"] = np.asarray(probe["latency"]["strideMs"], float)
            out["stride_update"] = np.asarray(probe["latency"]["strideUpdate"], int)
            out["stride_end_s"] = np.asarray(probe["latency"]["strideEndS"], float)
            calibrated_at = probe["calibratedAtS"]
            out["stride_calibrated_at_s"] = np.asarray(
                [calibrated_at.get(side, np.inf) for side in probe["latency"]["strideSide"]], float)
            out["updates"] = probe["updates"]
            await browser.close()
    return out


async def _sample_cpu(marks: list) -> None:
    while True:
        marks.append((time.perf_counter(), _cpu_s()))
        await asyncio.sleep(1.0)


def _steady_pct(marks: list) -> float:
    """CPU over the second half of the run, % of one core (the legs calibrate in the first)."""
    if len(marks) < 4:
        return float("nan")
    (w0, c0), (w1, c1) = marks[len(marks) // 2], marks[-1]
    return 100.0 * (c1 - c0) / (w1 - w0)


async def _acquisition_only(emulator, duration_s: float) -> dict:
    sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
    live = LiveAcquisition(sources, LiveConfig(host_clock=emulator.clock))
    async with live:
        cpu0, wall0 = _cpu_s(), time.perf_counter()
        marks = []
        sampler = asyncio.create_task(_sample_cpu(marks))
        await live.run(duration_s=duration_s)
        sampler.cancel()
        out = {"cpu_s": _cpu_s() - cpu0, "wall_s": time.perf_counter() - wall0, "steady_pct": _steady_pct(marks)}
    out["samples"] = sum(s.n_samples for s in live.status())
    return out


def measure(kind: str, duration_s: float) -> dict:
    # The child's walk starts when it does, before the host connects: stand long enough that the
    # live calibration still sees standing still.
    result = walker_simulation(N_SENSORS, duration_s + 2 * STAND_S, sample_rate_hz=RATE_HZ, seed=1, stand_s=STAND_S)
    devices = emulated_devices(result, DeviceSettings(samples_per_block=4))
    with SerialEmulatorProcess(devices, speed=1.0) as emulator:
        if kind == "acquisition":
            out = run_loop(_acquisition_only(emulator, duration_s))
        else:
            out = run_loop(_dashboard(emulator, duration_s, with_page=kind in ("page", "page_no_pipeline"),
                                         with_pipeline=kind != "page_no_pipeline"))
        emulator.stop()
    return out


def run_loop(main):
    """Run ``main`` on the event loop ``imugait live`` runs on (``imugait.live.run.run_event_loop``;
    a revision without it: ``asyncio.run``)."""
    import imugait.live.run as live_run

    return getattr(live_run, "run_event_loop", asyncio.run)(main)


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, metavar="S", help="seconds per row (default 60)")
    parser.add_argument("--order-only", action="store_true",
                        help="one run without a page: only count samples whose live time stepped back")
    parser.add_argument("--serial-reads", choices=("tick", "readiness"),
                        help="how the dashboard reads the serial ports (default: as `imugait live`)")
    parser.add_argument("--from-arrival", action="store_true",
                        help="the angle latency from the samples' arrival stamps (as before the ports were read at "
                             "the push tick), not from their times")
    args = parser.parse_args()
    global SERIAL_READS, FROM_ARRIVAL
    if args.serial_reads is not None:
        from imugait.live.ticks import SerialReads

        SERIAL_READS = SerialReads(args.serial_reads)
    FROM_ARRIVAL = args.from_arrival
    if args.order_only:
        run = measure("no_page", args.duration)
        print(f"{N_SENSORS} sensors × {RATE_HZ:g} Hz over pseudo-terminals, real time, {run['wall_s']:.1f} s; "
              f"{machine()}\nsamples {run['samples']}, out of time order {run['out_of_order']} "
              f"({run['out_of_order'] / run['wall_s'] * 60:.0f} per minute), strides {run['strides']}")
        return
    page = measure("page", args.duration)
    no_page = measure("no_page", args.duration)
    bare = measure("page_no_pipeline", args.duration)
    acquisition = measure("acquisition", args.duration)

    angle, stride = page["angle_ms"], page["stride_ms"]
    # Strides that ended before the page first showed their leg calibrated (the walk the
    # calibration needs, and the strides that ended while its fit ran in the worker): a backlog, not
    # live strides. They are shown apart.
    backlog = page["stride_end_s"] < page["stride_calibrated_at_s"]
    live_stride = stride[~backlog]
    print(f"{N_SENSORS} sensors × {RATE_HZ:g} Hz over pseudo-terminals, real time, {args.duration:g} s per run; "
          f"serial ports read {_dashboard_config().serial_reads.value if hasattr(DashboardConfig, 'serial_reads') else 'readiness'}; "
          f"{machine()}")
    print(f"page: {page['updates']} updates in {page['wall_s']:.1f} s ({page['updates'] / page['wall_s']:.0f}/s), "
          f"{angle.size} angle stamps, {stride.size} strides; samples out of time order (all fed to the "
          f"pipeline): {page['out_of_order']} (page run), {no_page['out_of_order']} (no page)\n")
    print(markdown_table(["latency (ms)", "n", "p50", "p99", "max", "target", "p50 / target", "p99 / target"], [
        ["sample " + ("arrival" if FROM_ARRIVAL else "taken") + " → angle drawn", angle.size, f"{_pct(angle, 50):.1f}", f"{_pct(angle, 99):.1f}",
         f"{np.max(angle) if angle.size else float('nan'):.1f}", f"p50 ≤ {TARGET_ANGLE_P50_MS:g}, p99 ≤ {TARGET_ANGLE_P99_MS:g}",
         f"{_pct(angle, 50) / TARGET_ANGLE_P50_MS:.2f}", f"{_pct(angle, 99) / TARGET_ANGLE_P99_MS:.2f}"],
        ["stride end → metrics on screen (live strides)", live_stride.size, f"{_pct(live_stride, 50):.0f}",
         f"{_pct(live_stride, 99):.0f}", f"{np.max(live_stride) if live_stride.size else float('nan'):.0f}",
         f"≤ {TARGET_STRIDE_MS:g}", f"{_pct(live_stride, 50) / TARGET_STRIDE_MS:.2f}",
         f"{_pct(live_stride, 99) / TARGET_STRIDE_MS:.2f}"],
        ["(backlog: strides that ended before their leg showed calibrated)", int(backlog.sum()), f"{_pct(stride[backlog], 50):.0f}",
         f"{_pct(stride[backlog], 99):.0f}", "", "", "", ""],
    ]))
    print()
    rows = []
    for label, m in (("acquisition only (no pipeline, no server)", acquisition),
                     ("dashboard without the live kinematics, page open", bare),
                     ("dashboard: acquisition + live kinematics + server, no page", no_page),
                     ("dashboard with the page open", page)):
        pct = 100 * m["cpu_s"] / m["wall_s"]
        rows.append([label, f"{m['wall_s']:.1f}", f"{m['samples']:,}", f"{m['cpu_s']:.2f}", f"{pct:.1f} %",
                     f"{pct / TARGET_CPU_PCT:.2f}", f"{m['steady_pct']:.1f} %"])
    print(markdown_table(["server process", "wall s", "samples", "CPU s", "CPU, % of one core",
                          f"/ target {TARGET_CPU_PCT:g} %", "second half (steady)"], rows))


if __name__ == "__main__":
    main()
