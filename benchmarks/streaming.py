"""CPU cost of streaming and recording 4 sensors at 200 Hz (receiving side only).

Reproduce (from the repository root; prints a Markdown table)::

    .venv/bin/python benchmarks/streaming.py                 # 60 s per row, real time
    .venv/bin/python benchmarks/streaming.py --duration 10   # quicker

The emulated sensors (imugait v1 over pseudo-terminals, 4 samples per frame like a USB-serial
firmware, 12 with BLE-sized blocks) run in a child process, so only the host's work is counted:
the serial reader threads, decoding, clock mapping, sequence accounting, live buffers and — when
recording — the crash-safe log (one ``os.write`` per message, ``fsync`` every second) and the
final Parquet session. CPU is ``getrusage(RUSAGE_SELF)`` user + system time over the streaming
wall time, as a percentage of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from _common import machine, markdown_table

from imugait.acquisition.recorder import Recorder
from imugait.acquisition.sources import SensorSource, SourceKind
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import emulated_devices, walker_simulation
from imugait.emulate.process import SerialEmulatorProcess
from imugait.live.acquisition import LiveAcquisition, LiveConfig

N_SENSORS = 4
RATE_HZ = 200.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _acquire(emulator, duration_s: float, folder: Path | None) -> dict:
    sources = [SensorSource(p, SourceKind.SERIAL, path) for p, path in emulator.paths.items()]
    recorder = Recorder(folder, t0_host_s=emulator.clock()) if folder is not None else None
    live = LiveAcquisition(sources, LiveConfig(host_clock=emulator.clock), recorder=recorder)
    cpu0, wall0 = _cpu_s(), time.perf_counter()
    async with live:
        await live.run(duration_s=duration_s, tick_s=0.25)
    stream_cpu_s, wall_s = _cpu_s() - cpu0, time.perf_counter() - wall0
    samples = sum(s.n_samples for s in live.status())
    final_s = 0.0
    if recorder is not None:
        cpu1 = _cpu_s()
        recorder.finalise()
        final_s = _cpu_s() - cpu1
    return {"wall_s": wall_s, "cpu_s": stream_cpu_s, "samples": samples, "finalise_cpu_s": final_s}


def measure(duration_s: float, record: bool, samples_per_block: int) -> dict:
    result = walker_simulation(N_SENSORS, duration_s + 10.0, sample_rate_hz=RATE_HZ, seed=1)
    devices = emulated_devices(result, DeviceSettings(samples_per_block=samples_per_block))
    with tempfile.TemporaryDirectory() as tmp, SerialEmulatorProcess(devices, speed=1.0) as emulator:
        out = asyncio.run(_acquire(emulator, duration_s, Path(tmp) / "session" if record else None))
        emulator.stop()
    out["emulator_cpu_s"] = emulator.cpu_s
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, metavar="S", help="seconds per row (default 60)")
    args = parser.parse_args()
    rows = []
    for label, record, spb in (("stream (live view only), 4 samples/frame", False, 4),
                               ("stream + record, 4 samples/frame", True, 4),
                               ("stream + record, 12 samples/frame (BLE-sized)", True, None)):
        m = measure(args.duration, record, spb)
        rows.append([label, f"{m['wall_s']:.1f}", f"{m['samples']:,}", f"{m['cpu_s']:.2f}",
                     f"{100 * m['cpu_s'] / m['wall_s']:.1f} %",
                     f"{1e6 * m['cpu_s'] / max(m['samples'], 1):.0f}",
                     f"{m['finalise_cpu_s']:.2f}" if record else "—"])
    print(f"{N_SENSORS} sensors × {RATE_HZ:g} Hz over pseudo-terminals, {args.duration:g} s per row; {machine()}")
    print(markdown_table(["receiving side", "wall s", "samples", "CPU s", "CPU, % of one core",
                          "CPU µs/sample", "finalise CPU s"], rows))


if __name__ == "__main__":
    main()
