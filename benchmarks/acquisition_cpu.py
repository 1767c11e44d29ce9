"""CPU per frame of receiving 4 sensors × 200 Hz, offline and deterministic: another revision's
imugait against this checkout's, alternating, on the same byte stream; and whether everything the
two produce is bit-identical.

Reproduce (from the repository root)::

    .venv/bin/python benchmarks/acquisition_cpu.py --rev main            # 20 s of walking, 5 runs
    .venv/bin/python benchmarks/acquisition_cpu.py --rev main --seconds 60 --repeat 7
    .venv/bin/python benchmarks/acquisition_cpu.py --profile             # cProfile of this checkout
    .venv/bin/python benchmarks/acquisition_cpu.py --real-time --rev main --seconds 30 --repeat 4
    .venv/bin/python benchmarks/acquisition_cpu.py --real-time --with-pipeline --rev main --seconds 50 --repeat 2
    .venv/bin/python benchmarks/acquisition_cpu.py --real-time --paired --rev main --seconds 30 --repeat 4
    .venv/bin/python benchmarks/acquisition_cpu.py --real-time --paired --with-pipeline --serial-reads tick \
        --rev main --seconds 60 --repeat 4   # also the sample times against the truth, the write → push latency

The byte stream is made once: 4 emulated imugait-v1 sensors (:func:`~imugait.emulate.emulator.walker_simulation`,
:func:`~imugait.emulate.emulator.emulated_devices`, 4 samples per DATA frame as over USB serial)
started with the host's start commands and polled at every sample instant; each poll's frames
are one chunk, stamped with a host arrival time (send time + 0.5 ms + exponential jitter of mean
0.3 ms, never before the sensor's previous chunk). A second, *faulty* stream adds what the fast
paths must not get wrong: lost samples and frames, chunks split at random bytes, duplicated and
swapped chunks, garbage, a device clock jump and a device reboot.

Each run is a fresh process with the revision's ``imugait/`` first on ``PYTHONPATH``, pinned to
one CPU; it times (``time.process_time``, best of ``--inner`` passes) three paths over the whole
clean stream, per chunk:

* **decode** — ``ImugaitV1Decoder.feed`` per chunk;
* **decode + assemble** — and ``SessionAssembler.handle`` for every message (live buffers on);
* **live acquisition** — :class:`~imugait.live.acquisition.LiveAcquisition` with an in-memory
  transport per sensor (its :class:`~imugait.transport.link.Channel`), a feeder putting the chunks
  in arrival order and yielding to the loop after each. A revision whose ``LiveAcquisition``
  hands a chunk over synchronously (the transport's ``handle_chunks_with``, as the serial
  transport's) takes it in the feeder's ``put_nowait``, as in the port's reader callback; one
  that does not pays one wake of the consumer task per chunk, as a serial reader's hand-over did
  (the self-pipe write and read of a real hand-over are not in it).

Then it dumps everything acquisition produced on both streams (every decoded message, every
:class:`~imugait.acquisition.assembler.LiveSamples`, the live windows, the sensors' status and
health, decoder counters, the event log and the assembled session) and the parent compares the
dumps of the two revisions byte for byte.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pickle
import pstats
import tempfile
import time
from pathlib import Path

import _revisions
import numpy as np
from _common import markdown_table, threads_cpu_s, voluntary_switches

ROOT = Path(__file__).resolve().parents[1]
N_SENSORS = 4
RATE_HZ = 200.0
SAMPLES_PER_FRAME = 4
PUSH_INTERVAL_S = 0.025  # the dashboard's push_interval_s
TRUTH_SKIP_S = 10.0
"""The sample times against the truth are also summarised from this far into a run (the clock
mapping's first seconds, on few points, are worse whichever way the ports are read)."""


# ----------------------------------------------------------------------------- the byte stream
def sensor_stream(duration_s: float, seed: int = 1, faulty: bool = False) -> list[tuple[float, object, bytes]]:
    """(host arrival s, placement, chunk) of 4 emulated sensors, in arrival order."""
    from imugait.acquisition.sources import PROTOCOLS
    from imugait.emulate.device import DeviceSettings
    from imugait.emulate.emulator import emulated_devices, walker_simulation

    result = walker_simulation(N_SENSORS, duration_s, sample_rate_hz=RATE_HZ, seed=seed)
    settings = DeviceSettings(samples_per_block=SAMPLES_PER_FRAME,
                              sample_loss_probability=0.01 if faulty else 0.0,
                              block_loss_probability=0.01 if faulty else 0.0)
    devices = emulated_devices(result, settings)
    rng = np.random.default_rng(seed)
    items = []
    for k, (placement, device) in enumerate(devices.items()):
        start = PROTOCOLS["imugait_v1"].start_commands
        for command in start():
            device.receive(command, 0.0)
        sent: list[tuple[float, bytes]] = []
        for t_s in device.stream.t_s.tolist():
            if faulty and k == 1 and abs(t_s - duration_s / 3) < 0.5 / RATE_HZ:
                device.jump_clock(2_000_000)  # the device clock steps 2 s ahead
            if faulty and k == 2 and abs(t_s - duration_s / 2) < 0.5 / RATE_HZ:
                device.reboot(t_s)
                for command in start():
                    device.receive(command, t_s)
            frames = device.poll(t_s)
            if frames:
                sent.append((t_s, b"".join(frames)))
        if faulty:
            sent = _damage(sent, rng)
        last_s = -np.inf
        for t_s, chunk in sent:
            last_s = max(t_s + 0.0005 + rng.exponential(0.0003), last_s + 1e-6)
            items.append((last_s, placement, chunk))
    items.sort(key=lambda item: item[0])
    return items


def _damage(sent: list[tuple[float, bytes]], rng: np.random.Generator) -> list[tuple[float, bytes]]:
    out: list[tuple[float, bytes]] = []
    i = 0
    while i < len(sent):
        t_s, chunk = sent[i]
        u = rng.random()
        if u < 0.01:  # sent twice
            out += [(t_s, chunk), (t_s, chunk)]
        elif u < 0.02 and i + 1 < len(sent):  # overtaken by the next
            out += [(t_s, sent[i + 1][1]), (t_s, chunk)]
            i += 1
        elif u < 0.025:  # garbage glued in front
            out.append((t_s, rng.integers(0, 256, int(rng.integers(1, 40)), dtype=np.uint8).tobytes() + chunk))
        elif u < 0.05 and len(chunk) > 2:  # one frame in two reads
            cut = int(rng.integers(1, len(chunk)))
            out += [(t_s, chunk[:cut]), (t_s, chunk[cut:])]
        else:
            out.append((t_s, chunk))
        i += 1
    return out


# ----------------------------------------------------------------------------- the paths
class _Clock:
    """The host clock: the arrival stamp of the chunk being handed over."""

    def __init__(self, t_s: float) -> None:
        self.t_s = t_s

    def __call__(self) -> float:
        return self.t_s


class _MemoryTransport:
    """A transport over a :class:`Channel` that the feeder fills."""

    def __init__(self) -> None:
        from imugait.transport.link import Channel

        self.channel = Channel(1 << 20)

    async def open(self):
        return self

    async def close(self) -> None:
        self.channel.close()

    async def write(self, data: bytes) -> None:
        pass

    def handle_chunks_with(self, handler) -> None:
        self.channel.handle_chunks_with(handler)

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.channel.get()


def _decode(items: list) -> None:
    from imugait.acquisition.sources import PROTOCOLS

    decoders = {p: PROTOCOLS["imugait_v1"].serial_decoder() for _t, p, _c in items}
    for _t, p, chunk in items:
        decoders[p].feed(chunk)


def _assemble(items: list) -> None:
    from imugait.acquisition.assembler import AcquisitionConfig, SessionAssembler
    from imugait.acquisition.sources import PROTOCOLS

    decoders = {p: PROTOCOLS["imugait_v1"].serial_decoder() for _t, p, _c in items}
    asm = SessionAssembler(AcquisitionConfig(), items[0][0], {p: "imugait_v1" for p in decoders})
    for t_s, p, chunk in items:
        for message in decoders[p].feed(chunk):
            asm.handle(p, t_s, message)


async def _live(items: list, observer=None):
    from imugait.acquisition.sources import SensorSource, SourceKind
    from imugait.live.acquisition import LiveAcquisition, LiveConfig

    placements = list(dict.fromkeys(p for _t, p, _c in items))
    clock = _Clock(items[0][0])
    transports = {p: _MemoryTransport() for p in placements}
    sources = [SensorSource(p, SourceKind.SERIAL, f"memory:{p.value}") for p in placements]
    config = LiveConfig(host_clock=clock, send_start=False, transport_factory=lambda s: transports[s.placement])
    live = LiveAcquisition(sources, config, observer=observer)
    async with live:
        for t_s, p, chunk in items:
            clock.t_s = t_s
            transports[p].channel.put_nowait(chunk)
            await asyncio.sleep(0)  # the consumer task takes it: one wake per chunk
    return live


def _timed(fn, inner: int) -> float:
    best = float("inf")
    for _ in range(inner):
        c = time.process_time()
        fn()
        best = min(best, time.process_time() - c)
    return best


def _plain(x):
    """Pickle-safe, comparable form of what acquisition produced (arrays stay arrays)."""
    import dataclasses
    import enum

    if isinstance(x, np.ndarray):
        return ("array", x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, enum.Enum):
        return (type(x).__name__, x.name)
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, {f.name: _plain(getattr(x, f.name)) for f in dataclasses.fields(x)})
    if isinstance(x, dict):
        return {str(_plain(k)): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, float):
        return ("float", x.hex())
    return x


def _dump(items: list) -> dict:
    seen: list = []
    live = asyncio.run(_live(items, observer=lambda p, message, samples: seen.append((p, message, samples))))
    asm = live.assembler
    out = {"messages": _plain(seen), "status": _plain(live.status()), "events": _plain(asm.events()),
           "decoders": {p.value: _plain(live.decoder(p).stats) for p in asm.placements()},
           "health": _plain([asm.health(p) for p in asm.placements()]),
           "windows": _plain([asm.live_window(p) for p in asm.placements()])}
    assembly = asm.assemble(recorded_at="2026-01-01T00:00:00+00:00")
    out["session"] = _plain([(s.placement, s.t_s, s.acc_mps2, s.gyr_radps, s.mag_uT, s.q_world_sensor, s.gaps,
                              s.sample_rate_hz, s.device) for s in assembly.session.streams])
    out["meta"] = _plain(assembly.session.meta)
    out["assembly"] = _plain((assembly.health, assembly.notes))
    return out


def child(seconds: float, inner: int, dump: Path | None) -> dict:
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    import imugait

    items = sensor_stream(seconds)
    paths = {"decode": lambda: _decode(items), "decode + assemble": lambda: _assemble(items),
             "live acquisition": lambda: asyncio.run(_live(items))}
    out = {"imugait": imugait.__file__, "chunks": len(items), "cpu_s": {name: _timed(fn, inner) for name, fn in paths.items()}}
    if dump is not None:
        dumps = {"clean": _dump(items), "faulty": _dump(sensor_stream(seconds, faulty=True))}
        dump.write_bytes(pickle.dumps(dumps))
    return out


# ----------------------------------------------------------------------------- the parent
def _differences(a, b, path: str = "") -> list[str]:
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} vs {type(b).__name__}"]
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{path}/{k}")]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for k, (x, y) in enumerate(zip(a, b, strict=True)) for d in _differences(x, y, f"{path}[{k}]")]
    return [] if a == b else [f"{path}: {str(a)[:80]} vs {str(b)[:80]}"]


def _start(root: Path, args: list[str], cwd: Path):
    return _revisions.start(Path(__file__), root, args, cwd)


def _run(root: Path, args: list[str], cwd: Path) -> dict:
    return _revisions.result(root, _start(root, args, cwd))


def compare(rev: str, seconds: float, repeat: int, inner: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        roots = {rev: _revisions.checkout(rev, tmp), "this checkout": ROOT}
        runs: dict[str, list[dict]] = {name: [] for name in roots}
        for r in range(repeat):
            for k, (name, root) in enumerate(roots.items()):
                args = ["--child", "--seconds", str(seconds), "--inner", str(inner)]
                runs[name].append(_run(root, args + (["--dump", str(tmp / f"dump_{k}.pkl")] if r == 0 else []), tmp))
        dumps = [pickle.loads((tmp / f"dump_{k}.pkl").read_bytes()) for k in range(2)]
    chunks = runs[rev][0]["chunks"]
    rows = []
    for path in runs[rev][0]["cpu_s"]:
        per_chunk_us = {name: [1e6 * r["cpu_s"][path] / chunks for r in rs] for name, rs in runs.items()}
        best = {name: min(v) for name, v in per_chunk_us.items()}
        median = {name: float(np.median(v)) for name, v in per_chunk_us.items()}
        rows.append([path, f"{best[rev]:.1f}", f"{best['this checkout']:.1f}", f"{best['this checkout'] / best[rev]:.2f}",
                     f"{median[rev]:.1f}", f"{median['this checkout']:.1f}", f"{median['this checkout'] / median[rev]:.2f}"])
    print(f"{N_SENSORS} sensors × {RATE_HZ:g} Hz, {SAMPLES_PER_FRAME} samples per frame, {seconds:g} s of walking: "
          f"{chunks} chunks; CPU time per chunk (process_time, one CPU), best of {inner} passes per run, "
          f"{repeat} runs each, alternating\n")
    print(markdown_table(["path", f"{rev} µs (best)", "this µs (best)", "÷ " + rev, f"{rev} µs (median)",
                          "this µs (median)", "÷ " + rev + " (median)"], rows))
    for stream in ("clean", "faulty"):
        diff = _differences(dumps[0][stream], dumps[1][stream])
        n_messages = len(dumps[0][stream]["messages"])
        print(f"\n{stream} stream ({n_messages} messages): "
              + ("bit-identical (messages, live samples, live windows, status, health, decoder counters, "
                 "events, session)" if not diff else f"{len(diff)} differences, first: " + "; ".join(diff[:5])))


def _serial_reads(name: str | None):
    """The revision's ``SerialReads`` member called ``name`` (None: what ``imugait live`` uses by
    default); None for a revision that reads only at readiness."""
    try:
        from imugait.live.dashboard.run import DashboardConfig
        from imugait.live.ticks import SerialReads
    except ImportError:
        return None
    return DashboardConfig().serial_reads if name is None else SerialReads(name)


async def _with_pipeline(emulator, duration_s: float, serial_reads: str | None = None) -> dict:
    """Receiving, the live kinematics fed every block and polled every 25 ms with the dashboard's
    state taking each update and its JSON made, then the pipeline's work left for after the push
    (``finish_ticks``) — ``LiveDashboard``'s work without the web server and the page —, on the
    event loop in real time; CPU of the process over its wall time, and each thread's
    (``_common.threads_cpu_s``: the loop's, the live calibration's worker, others), the loop
    thread's CPU in the blocks fed and in the pushes (``time.thread_time``) and its wake-ups.

    The serial ports are read as ``imugait live`` reads them in the revision (``serial_reads``
    None), or as ``serial_reads`` says (``tick``, ``readiness``): at the push tick, the pushes
    on the revision's spread ticks (``LiveDashboard._push_loop``'s schedule), else at readiness,
    the pushes every 25 ms. Also kept: each sample's host time (live, and in the assembled session),
    each chunk's bytes and time handled, each push's poll start and end (for the sample times
    against the truth and the latency from the emulator's write: ``_emulator_truth``)."""
    from dashboard_latency import _cpu_s, _sample_cpu, _steady_pct

    from imugait.acquisition.sources import SensorSource, SourceKind
    from imugait.live.acquisition import LiveAcquisition, LiveConfig
    from imugait.live.dashboard.state import DashboardState
    from imugait.live.kinematics import LiveKinematics

    # As ``imugait live`` makes it (revisions before LiveKinematics.for_dashboard: the plain pipeline).
    make = getattr(LiveKinematics, "for_dashboard", LiveKinematics)
    pipeline, state, clock = make(list(emulator.paths)), DashboardState(), emulator.clock
    finish = getattr(pipeline, "finish_ticks", None)  # (after the push, as the dashboard; revisions without it: none)

    parts = {"feeds_s": 0.0, "pushes_s": 0.0, "n_feeds": 0, "n_pushes": 0}  # the loop thread's CPU in each
    live_times: dict = {p: [] for p in emulator.paths}
    chunks, pushes, handled = [], [], dict.fromkeys(emulator.paths, 0)

    def observe(placement, _message, samples) -> None:
        if samples is not None and samples.t_s.size:
            c = time.thread_time()
            state.arrivals.add(placement, float(samples.t_s[-1]), clock())
            pipeline.feed(samples)
            parts["feeds_s"] += time.thread_time() - c
            parts["n_feeds"] += 1
            live_times[placement].extend(samples.t_s.tolist())

    reads = _serial_reads(serial_reads)
    at_tick = reads is not None and reads.value == "tick"

    async def push() -> None:
        if at_tick:
            from imugait.live.ticks import TICK_SPREAD_FRACTION, PushTicks

            ticks = PushTicks(clock, PUSH_INTERVAL_S, TICK_SPREAD_FRACTION)
        next_s = time.monotonic()
        while True:
            if at_tick:
                await ticks.tick(live.read_ports)
            c = time.thread_time()
            t_poll = time.monotonic()
            state.take(pipeline.poll())
            json.dumps(state.delta(0.0), separators=(",", ":"), allow_nan=False)
            if finish is not None:
                finish()
            pushes.append((t_poll, time.monotonic()))
            parts["pushes_s"] += time.thread_time() - c
            parts["n_pushes"] += 1
            if at_tick:
                ticks.advance()
                continue
            next_s = max(next_s + PUSH_INTERVAL_S, time.monotonic())
            await asyncio.sleep(max(next_s - time.monotonic(), 0.0))

    sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
    config = LiveConfig(host_clock=clock) if reads is None else LiveConfig(host_clock=clock, serial_reads=reads)
    live = LiveAcquisition(sources, config, observer=observe)
    on_chunk = live._on_chunk

    def logged(link, chunk: bytes) -> None:  # every chunk as it is handled, read at readiness or at the tick
        p = link.source.placement
        handled[p] += len(chunk)
        on_chunk(link, chunk)
        chunks.append((p.value, handled[p], time.monotonic()))

    live._on_chunk = logged
    async with live:
        cpu0, wall0, marks = _cpu_s(), time.perf_counter(), []
        threads0, switches0 = threads_cpu_s(), voluntary_switches()
        tasks = [asyncio.create_task(_sample_cpu(marks)), asyncio.create_task(push())]
        await live.run(duration_s=duration_s)
        for task in tasks:
            task.cancel()
        out = {"cpu_s": _cpu_s() - cpu0, "wall_s": time.perf_counter() - wall0, "steady_pct": _steady_pct(marks)}
        threads1, out["wakeups"] = threads_cpu_s(), voluntary_switches() - switches0
    status = live.status()
    out["samples"] = sum(s.n_samples for s in status)
    out["lost"] = sum(s.n_lost for s in status)
    out["threads_cpu_s"] = {name: cpu - threads0.get(name, 0.0) for name, cpu in threads1.items()}
    session = live.assembler.assemble(recorded_at="2026-01-01T00:00:00+00:00").session
    t0 = live.t0_host_s
    out["times_s"] = {"live": {p: np.asarray(v) + t0 for p, v in live_times.items()},
                      "session": {s.placement: s.t_s + t0 for s in session.streams}}
    out["serial_reads"] = "readiness" if reads is None else reads.value
    out["chunks"], out["pushes"] = chunks, pushes
    return out | parts


def _real_time_child(seconds: float, with_pipeline: bool, serial_reads: str | None = None) -> dict:
    import dashboard_latency as d

    if not with_pipeline:
        return d.measure("acquisition", seconds)
    from _emulator_truth import (
        TruthEmulatorProcess,
        error_summary,
        time_errors_ms,
        write_to_push_ms,
    )

    result = d.walker_simulation(d.N_SENSORS, seconds + 2 * d.STAND_S, sample_rate_hz=d.RATE_HZ, seed=1,
                                 stand_s=d.STAND_S)
    with tempfile.TemporaryDirectory() as tmp:
        devices = d.emulated_devices(result, d.DeviceSettings(samples_per_block=4))
        with TruthEmulatorProcess(devices, Path(tmp) / "log.json") as emulator:
            out = d.run_loop(_with_pipeline(emulator, seconds, serial_reads))
            sent = emulator.stop()
    ms = write_to_push_ms(out.pop("chunks"), out.pop("pushes"), emulator.writes)
    out["write_to_push_ms"] = [float(np.percentile(ms, q)) for q in (50, 90, 99, 100)] + [int(ms.size)]
    times = out.pop("times_s")
    out["time_error_ms"] = {}
    for kind, t in times.items():
        errors = time_errors_ms(t, result.session, sent, emulator.world_t0_s)
        out["time_error_ms"][kind] = error_summary(errors)
        out["time_error_ms"][f"{kind}, from {TRUTH_SKIP_S:g} s"] = error_summary(errors, TRUTH_SKIP_S)
    return out


def _print_truth(runs: dict) -> None:
    """Each run's sample times against the truth (ms, per sensor: median, 95th percentile, max
    and min of host time − true time; a leg's thigh − shank: median, 95th percentile and max of
    |.|, min) and its latency from the emulator's write to the push."""
    print("\nSample times against the truth (host time − the time the emulator took the sample), ms: per sensor "
          "median / p95 / max / min; thigh − shank: median / p95 |.| / max |.| / min")
    for name, rs in runs.items():
        for k, r in enumerate(rs):
            if "time_error_ms" not in r:
                continue
            print(f"{name} run {k + 1} ({r.get('serial_reads', '?')}; samples lost {r.get('lost', '?')}):")
            for kind, summary in r["time_error_ms"].items():
                cells = "; ".join(f"{p} {' / '.join(f'{v:.3f}' for v in vals)}" for p, vals in summary.items())
                print(f"  {kind}: {cells}")
            w = r["write_to_push_ms"]
            print(f"  emulator's write → push, ms p50 / p90 / p99 / max: {w[0]:.1f} / {w[1]:.1f} / {w[2]:.1f} / "
                  f"{w[3]:.1f} ({w[4]} writes)")


def real_time(rev: str, seconds: float, repeat: int, with_pipeline: bool = False, paired: bool = False,
              serial_reads: str | None = None) -> None:
    """The acquisition-only row of ``dashboard_latency.py`` (real sensors' path: pseudo-terminals,
    the serial transport, the event loop), or with the live kinematics and the dashboard's pushes
    (``with_pipeline``), each revision in turn, ``repeat`` times (``paired``: both at once)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        other = _revisions.checkout(rev, tmp)
        roots = {rev: other, "this checkout": ROOT}
        runs: dict[str, list[dict]] = {name: [] for name in roots}
        child = ["--real-time-child", "--seconds", str(seconds)] + (["--with-pipeline"] if with_pipeline else [])
        own = {rev: [], "this checkout": ["--serial-reads", serial_reads] if serial_reads else []}
        for r in range(repeat):
            if paired:  # both at once, which one starts first alternating: the same machine load
                order = list(roots) if r % 2 == 0 else list(roots)[::-1]
                started = {name: _start(roots[name], child + own[name], tmp) for name in order}
                for name, process in started.items():
                    runs[name].append(_revisions.result(roots[name], process))
                continue
            for name, root in roots.items():
                runs[name].append(_run(root, child + own[name], tmp))
    rows = []
    for name, rs in runs.items():
        pct = [100 * r["cpu_s"] / r["wall_s"] for r in rs]
        rows.append([name, ", ".join(f"{v:.1f}" for v in pct), f"{np.median(pct):.1f}",
                     ", ".join(f"{r['steady_pct']:.1f}" for r in rs), f"{np.median([r['samples'] for r in rs]):,.0f}"])
    ratio = np.median([100 * r["cpu_s"] / r["wall_s"] for r in runs["this checkout"]]) / np.median(
        [100 * r["cpu_s"] / r["wall_s"] for r in runs[rev]])
    what = ("receiving + live kinematics + the dashboard's pushes (no web server, no page)" if with_pipeline
            else "acquisition only")
    how = "paired (both revisions at once, which one first alternating)" if paired else "alternating"
    print(f"{what}, {N_SENSORS} sensors × {RATE_HZ:g} Hz over pseudo-terminals, real time, {seconds:g} s per "
          f"run, {repeat} runs each, {how}; CPU of the host process (getrusage, all its threads)\n")
    print(markdown_table(["imugait", "CPU, % of one core (in order)", "median", "second half (steady), %", "samples"], rows))
    if with_pipeline:
        print("\nPer run, CPU per s of wall time: the loop's thread (in it: the blocks fed with their arrival "
              "stamps; the pushes' poll, state and JSON), the live calibration's worker, other threads; the loop "
              "thread's wake-ups per s")
        for name, rs in runs.items():
            for r in rs:
                threads, wall_s = r.get("threads_cpu_s", {}), r["wall_s"]
                worker = sum(v for k, v in threads.items() if k.startswith("imugait-live"))
                main = threads.get("main", float("nan"))
                print(f"{name}: loop thread {main / wall_s:.4f} (feeds {r.get('feeds_s', float('nan')) / wall_s:.4f}, "
                      f"pushes {r.get('pushes_s', float('nan')) / wall_s:.4f}), worker {worker / wall_s:.4f}, other "
                      f"{(sum(threads.values()) - main - worker) / wall_s:.4f}; wake-ups "
                      f"{r.get('wakeups', 0) / wall_s:.0f}/s, feeds {r.get('n_feeds', 0)}, pushes {r.get('n_pushes', 0)}")
        _print_truth(runs)
    print(f"\nthis checkout ÷ {rev} (medians): {ratio:.2f}")
    if paired:
        pairs = [b["cpu_s"] / b["wall_s"] / (a["cpu_s"] / a["wall_s"]) for a, b in zip(runs[rev], runs["this checkout"],
                                                                                         strict=True)]
        saved = [100 * (a["cpu_s"] / a["wall_s"] - b["cpu_s"] / b["wall_s"])
                 for a, b in zip(runs[rev], runs["this checkout"], strict=True)]
        print(f"pair by pair: {', '.join(f'{v:.2f}' for v in pairs)} (median {np.median(pairs):.2f}); points of one "
              f"core saved: {', '.join(f'{v:.2f}' for v in saved)} (median {np.median(saved):.2f})")


def profile(seconds: float) -> None:
    items = sensor_stream(seconds)
    profiler = cProfile.Profile()
    profiler.runcall(lambda: asyncio.run(_live(items)))
    pstats.Stats(profiler).sort_stats("tottime").print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="main", help="the revision to compare with (default main)")
    parser.add_argument("--seconds", type=float, help="seconds of walking streamed (default 20; 60 with --real-time)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each revision, alternating (default 5)")
    parser.add_argument("--inner", type=int, default=3, help="timed passes per run, best kept (default 3)")
    parser.add_argument("--profile", action="store_true", help="cProfile the live acquisition path of this checkout")
    parser.add_argument("--real-time", action="store_true",
                        help="instead: the acquisition-only row of dashboard_latency.py, real time, alternating "
                             "(--seconds per run)")
    parser.add_argument("--with-pipeline", action="store_true",
                        help="with --real-time: also the live kinematics and the dashboard's pushes every 25 ms, as "
                             "the dashboard runs them, without the web server")
    parser.add_argument("--paired", action="store_true",
                        help="with --real-time: start both revisions' runs at the same moment (which one first "
                             "alternating), so both see the same machine load; ratios pair by pair")
    parser.add_argument("--serial-reads", choices=("tick", "readiness"),
                        help="with --real-time --with-pipeline: how this checkout's runs read the serial ports "
                             "(default: as `imugait live` does); the other revision's read as it does")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--real-time-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seconds is None and not args.real_time:
        args.seconds = 20.0
    if args.child:
        print(json.dumps(child(args.seconds, args.inner, args.dump)))
    elif args.real_time_child:
        import imugait

        print(json.dumps({"imugait": imugait.__file__, **_real_time_child(args.seconds, args.with_pipeline,
                                                                           args.serial_reads)}))
    elif args.real_time:
        real_time(args.rev, args.seconds or 60.0, args.repeat, args.with_pipeline, args.paired, args.serial_reads)
    elif args.profile:
        profile(args.seconds)
    else:
        compare(args.rev, args.seconds, args.repeat, args.inner)


if __name__ == "__main__":
    main()
