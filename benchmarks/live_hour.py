"""An hour live in accelerated time: sensors → live acquisition → live kinematics → dashboard → a page.

Issue 11's target: "one hour live in accelerated time: memory flat (bounded buffers), no sample
lost that the sensors delivered". Four emulated sensors at 200 Hz play a simulated walking person
(a ``--block-minutes`` walk — stand, straight bouts with 180° turns, stand — tiled end to end up to
``--minutes``) over the in-process wire (:mod:`imugait.emulate.wire`: stepped virtual time, so
the hour plays as fast as the host takes it and nothing depends on the machine's load), with
samples lost on the devices (``--loss``), a delivery latency of 8 ms plus exponential jitter, and
each sensor's link dropping for 2 s every ``--drop-every-min`` minutes (staggered). The host side is the
one users run: :class:`~imugait.live.dashboard.run.LiveDashboard` (its HTTP/websocket server,
pushes every 25 ms of real time) with :class:`~imugait.live.kinematics.LiveKinematics`
calibrating live, and one page connected to the websocket reading every update.

Printed: per sensor, samples the device sent, delivered by the wire (sent less what a drop
destroyed in flight), received by the acquisition, fed to the pipeline, and lost silently
(delivered but not received; target 0); strides per leg; pushes and bytes the page received; the
resident memory at every tenth of the virtual time, and its growth after the first tenth (the
buffers fill with the first minute of history; target: flat, ≤ 5 % growth).

Run from the repository root (about 15 CPU-minutes for the hour)::

    .venv/bin/python benchmarks/live_hour.py                 # one hour
    .venv/bin/python benchmarks/live_hour.py --minutes 10    # a quicker look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import machine, markdown_table  # noqa: E402
from pipeline_speed import tile  # noqa: E402

from imugait.emulate.device import DeviceSettings  # noqa: E402
from imugait.emulate.emulator import emulated_devices, walker_simulation  # noqa: E402
from imugait.emulate.faults import LinkDrop  # noqa: E402
from imugait.emulate.wire import LatencyModel, WireEmulation  # noqa: E402
from imugait.live.dashboard.run import DashboardConfig, LiveDashboard  # noqa: E402
from imugait.live.kinematics import LiveKinematics  # noqa: E402

RATE_HZ = 200.0
DROP_S = 2.0
FLAT_GROWTH = 0.05
"""Resident memory may grow by this fraction of its value at the first tenth (then the history is full)."""


@dataclass
class HourResult:
    minutes: float
    real_s: float = 0.0
    cpu_s: float = 0.0
    rss_mb: list[tuple[float, float, float]] = field(default_factory=list)
    """(virtual time s, resident set MB, of which the emulated devices' bookkeeping MB)."""
    sensors: list[list] = field(default_factory=list)
    strides: dict[str, int] = field(default_factory=dict)
    calibration: list[str] = field(default_factory=list)
    pushes: int = 0
    push_bytes: int = 0
    pipeline_error: str = ""
    out_of_order: int = 0
    growth: str = ""


def _harness_mb(wire: WireEmulation) -> float:
    """The emulated devices' own record of what they sent (per frame: numbers and indices), which
    the benchmark needs to account for every sample — not the host's memory."""
    return sum(d.record_bytes() for d in wire.devices.values()) / 2**20


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


async def _page(url: str, result: HourResult) -> None:
    """A page: the websocket with the token, every update read."""
    import websockets

    ws_url = url.replace("http://", "ws://").replace("/?token=", "/ws?token=")
    async with websockets.connect(ws_url, max_size=None) as ws:
        async for message in ws:
            result.pushes += 1
            result.push_bytes += len(message)


async def _play(args: argparse.Namespace, wire: WireEmulation, result: HourResult) -> None:
    total_s = args.minutes * 60.0
    async with LiveDashboard(wire.opener(), LiveKinematics, DashboardConfig()) as dash:
        page = asyncio.create_task(_page(dash.url, result))
        await asyncio.sleep(0.2)  # the page connects before the sensors play
        player = asyncio.create_task(wire.play())
        next_tenth = [0.0]
        baseline: list = []

        def on_tick(_status, _t_s) -> None:
            if args.trace_memory and not baseline and wire.clock() >= total_s / 10:
                import tracemalloc

                baseline.append(tracemalloc.take_snapshot())
            if wire.clock() >= next_tenth[0]:
                result.rss_mb.append((wire.clock(), _rss_mb(), _harness_mb(wire)))
                next_tenth[0] += total_s / 10
                print(f"  {wire.clock() / 60:5.1f} min of {args.minutes:g}: RSS {result.rss_mb[-1][1]:.0f} MB "
                      f"(emulated devices' bookkeeping {result.rss_mb[-1][2]:.0f} MB)", file=sys.stderr, flush=True)

        await dash.run(on_tick=on_tick)
        await player
        result.rss_mb.append((wire.clock(), _rss_mb(), _harness_mb(wire)))
        status = {s.placement: s for s in dash.live.status()}
        for p, device in wire.devices.items():
            sent = device.sent()
            delivered = sent.n_sent - wire.destroyed(p).size
            received = status[p].n_samples
            result.sensors.append([p.value, sent.n_sent, delivered, received, dash.samples_fed.get(p, 0), status[p].n_lost,
                                   delivered - received, len(status[p].outages)])
        update = dash.pipeline.poll()
        result.strides = {leg.value: n for leg, n in update.n_strides.items()}
        result.calibration = [f"{c.side.value}: {c.phase.value} ({c.quality or '-'})"
                              for c in dash.pipeline.calibration_states()]
        if args.trace_memory:
            result.growth = _growth_report(baseline[0]) if baseline else "(the first tenth was never reached)"
        result.pipeline_error = dash.pipeline_error
        result.out_of_order = dash.samples_out_of_order
        page.cancel()


def _growth_report(baseline, top: int = 12) -> str:
    """Where the Python heap grew since ``baseline`` (tracemalloc, by the allocating line)."""
    import tracemalloc

    diff = tracemalloc.take_snapshot().compare_to(baseline, "lineno")
    lines = [f"    {d.size_diff / 2**20:+8.2f} MB {d.count_diff:+9d} blocks  {d.traceback[0]}" for d in diff[:top]]
    return "Python heap growth after the first tenth (tracemalloc, largest first):\n" + "\n".join(lines)


def run(args: argparse.Namespace) -> HourResult:
    total_s = args.minutes * 60.0
    block = walker_simulation(4, args.block_minutes * 60.0, sample_rate_hz=RATE_HZ, seed=args.seed, stand_s=5.0)
    long = replace(block, session=tile(block.session, total_s))
    devices = emulated_devices(long, DeviceSettings(sample_loss_probability=args.loss, samples_per_block=4,
                                                   autostart=True, seed=args.seed))
    every_s = args.drop_every_min * 60.0
    drops = [LinkDrop(p, t, DROP_S) for i, p in enumerate(devices)
             for t in np.arange(every_s * (i + 1) / (len(devices) + 1), total_s - DROP_S - 1.0, every_s)]
    wire = WireEmulation(devices, drops, LatencyModel(0.008, 0.004, args.seed))
    result = HourResult(args.minutes)
    if args.trace_memory:
        import tracemalloc

        tracemalloc.start(1)
    c0, t0 = time.process_time(), time.perf_counter()
    asyncio.run(_play(args, wire, result))
    result.cpu_s, result.real_s = time.process_time() - c0, time.perf_counter() - t0
    return result


def report(result: HourResult, args: argparse.Namespace) -> str:
    lines = [f"{result.minutes:g} min of virtual time, 4 sensors × {RATE_HZ:g} Hz over the in-process wire into the "
             f"dashboard (live kinematics, one page on the websocket); device loss {args.loss:.1%}, a {DROP_S:g}-s link "
             f"drop per sensor every {args.drop_every_min:g} min; played in {result.real_s:.0f} s real, "
             f"{result.cpu_s:.0f} s CPU ({machine()})", ""]
    rows = [list(r) for r in result.sensors]
    rows.append(["all", *[sum(r[k] for r in result.sensors) for k in range(1, 8)]])
    lines.append(markdown_table(["sensor", "sent", "delivered", "received", "fed to the pipeline", "lost (gaps)",
                                 "lost silently", "outages"], rows))
    lines += ["", markdown_table(["virtual time min", "RSS MB", "emulated devices' bookkeeping MB", "RSS less bookkeeping MB"],
                                 [[f"{t / 60:.1f}", f"{m:.0f}", f"{h:.0f}", f"{m - h:.0f}"] for t, m, h in result.rss_mb]),
              ""]
    # The host's memory: the resident set less the emulation's record of what it sent (which the
    # benchmark keeps to account for every sample; about 65 bytes per sample sent).
    after_warmup = [m - h for t, m, h in result.rss_mb if t >= result.minutes * 6.0]
    growth = (max(after_warmup) - after_warmup[0]) if after_warmup else float("nan")
    lines.append(f"strides: {result.strides}; calibration: {'; '.join(result.calibration)}")
    lines.append(f"pushes read by the page: {result.pushes} ({result.push_bytes / 2**20:.0f} MB); pipeline error: "
                 f"{result.pipeline_error or 'none'}; samples out of order: {result.out_of_order}")
    silently = sum(r[6] for r in result.sensors)
    unfed = sum(r[3] - r[4] for r in result.sensors)
    flat = after_warmup and growth <= FLAT_GROWTH * after_warmup[0]
    met = {True: "met", False: "NOT met"}
    lines.append(f"targets: no delivered sample lost ({silently} lost silently, {unfed} received but not fed): "
                 f"{met[silently == 0 and unfed == 0]}; memory flat after the first tenth (resident set less the emulation's bookkeeping: +{growth:.0f} MB, "
                 f"at most {FLAT_GROWTH:.0%} of {after_warmup[0] if after_warmup else float('nan'):.0f} MB): {met[bool(flat)]}")
    if result.growth:
        lines += ["", result.growth]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="virtual minutes (default 60)")
    ap.add_argument("--block-minutes", type=float, default=5.0, help="the simulated walk that is tiled (default 5)")
    ap.add_argument("--loss", type=float, default=0.005, help="samples lost on the devices (default 0.005)")
    ap.add_argument("--drop-every-min", type=float, default=10.0, help="minutes between a sensor's link drops")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--trace-memory", action="store_true",
                    help="also print where the Python heap grew after the first tenth (tracemalloc; slower)")
    args = ap.parse_args(argv)
    if args.minutes < args.block_minutes or args.minutes <= 0:
        ap.error("--minutes must be at least --block-minutes")
    print(report(run(args), args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
