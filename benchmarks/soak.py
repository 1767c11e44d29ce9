"""Soak: four emulated sensors recorded for an hour of virtual time through the whole acquisition.

Each sensor streams 200 Hz over an in-process wire (:mod:`imugait.emulate.wire`, stepped virtual
time, so an hour plays in minutes and the numbers do not depend on the machine's load) into live
acquisition and the crash-safe recorder: 1 % of samples lost on the device, clocks ±100 ppm and
±50 ppm off, a delivery latency of 8 ms plus exponential jitter (mean 4 ms), and every sensor's
link dropping for 2 s every 5 minutes (staggered by a fifth of that). Printed:

* samples sent / received / lost and accounted for (gaps) / lost silently (target 0) / made up;
* inter-sensor alignment error: each sample's recorded time minus its true time, less the
  offset all sensors share (the latency stays in the session clock by design); target ≤ 1 ms;
* resident memory over virtual time, next to the bytes of sample data the recorder holds.

Run from the repository root::

    nice -n 19 .venv/bin/python benchmarks/soak.py              # one hour, as in docs/reliability.md
    nice -n 19 .venv/bin/python benchmarks/soak.py --minutes 5  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imugait.acquisition.recorder import Recorder
from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.emulate.device import DeviceSettings, EmulatedDevice
from imugait.emulate.faults import LinkDrop
from imugait.emulate.wire import LatencyModel, WireEmulation, acquire_over_wire
from imugait.io.native import read_session
from imugait.model import EventKind, ImuStream
from imugait.protocol.imugait_v1 import DeviceInfoV1

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, markdown_table  # noqa: E402

PLACEMENTS = (Placement.LEFT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_THIGH, Placement.RIGHT_SHANK)
DRIFTS_PPM = (100.0, -100.0, 50.0, -50.0)


@dataclass(frozen=True)
class SoakConfig:
    duration_s: float = 3600.0
    rate_hz: float = 200.0
    loss: float = 0.01
    reconnect_every_s: float = 300.0
    reconnect_down_s: float = 2.0
    latency_base_s: float = 0.008
    latency_jitter_mean_s: float = 0.004
    seed: int = 0
    keep_samples: bool = False
    """As ``imugait record`` records (False: memory flat, the session replayed from the log at the end)."""


@dataclass
class SensorResult:
    placement: Placement
    drift_ppm: float
    sent: int
    received: int
    lost_accounted: int
    lost_silently: int
    made_up: int
    destroyed_on_wire: int
    alignment_max_ms: float = float("nan")
    alignment_p99_ms: float = float("nan")
    drops: int = 0


@dataclass
class SoakResult:
    config: SoakConfig
    sensors: list[SensorResult]
    rss_mb: list[tuple[float, float]] = field(default_factory=list)
    """(virtual time s, resident set MB) sampled while recording."""
    held_mb: float = 0.0
    """Sample data the assembler holds at the end (the arrays of every block), MB."""
    real_s: float = 0.0
    rss_end_mb: float = 0.0
    """Resident set after the session was built and written."""
    harness_mb: float = 0.0
    """The emulated devices' own record of what they sent (the benchmark's bookkeeping, not the recorder's)."""
    events: dict[str, int] = field(default_factory=dict)


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:  # not Linux: the peak instead
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _device(i: int, p: Placement, cfg: SoakConfig, rng: np.random.Generator) -> EmulatedDevice:
    """A sensor lying still-ish (gravity plus noise) whose crystal is ``DRIFTS_PPM[i]`` fast."""
    n = int(cfg.duration_s * cfg.rate_hz)
    t_true_s = np.arange(n) / cfg.rate_hz / (1.0 + DRIFTS_PPM[i] * 1e-6)
    acc = np.array([0.0, 0.0, GRAVITY_MPS2]) + rng.normal(0.0, 0.2, (n, 3))
    gyr = rng.normal(0.0, 0.3, (n, 3))
    stream = ImuStream(placement=p, t_s=t_true_s, acc_mps2=acc, gyr_radps=gyr, sample_rate_hz=cfg.rate_hz)
    info = DeviceInfoV1(0x50A6000000000000 + i, "soak", "1.0", cfg.rate_hz, 16, 2000, 0)
    settings = DeviceSettings(with_mag=False, sample_loss_probability=cfg.loss, autostart=True,
                              clock_start_us=int(rng.integers(0, 2**32)), seq_start=int(rng.integers(0, 2**32)),
                              seed=cfg.seed + i)
    return EmulatedDevice(stream, info, settings)


def run_soak(cfg: SoakConfig, folder: Path) -> SoakResult:
    rng = np.random.default_rng(cfg.seed)
    devices = {p: _device(i, p, cfg, rng) for i, p in enumerate(PLACEMENTS)}
    drops = [LinkDrop(p, t, cfg.reconnect_down_s)
             for i, p in enumerate(PLACEMENTS)
             for t in np.arange(cfg.reconnect_every_s * (i + 1) / (len(PLACEMENTS) + 1),
                               cfg.duration_s - cfg.reconnect_down_s - 1.0, cfg.reconnect_every_s)]
    wire = WireEmulation(devices, drops, LatencyModel(cfg.latency_base_s, cfg.latency_jitter_mean_s, cfg.seed))
    rec = Recorder(folder, subject_id="soak", t0_host_s=wire.clock(), keep_samples=cfg.keep_samples)
    result = SoakResult(cfg, [])
    next_sample_s = [0.0]

    def sample_memory(_status) -> None:
        if wire.clock() >= next_sample_s[0]:
            result.rss_mb.append((wire.clock(), _rss_mb()))
            next_sample_s[0] += cfg.duration_s / 12

    started = time.perf_counter()
    asyncio.run(acquire_over_wire(wire, rec, on_tick=sample_memory, tick_s=0.05))
    result.real_s = time.perf_counter() - started
    result.rss_mb.append((wire.clock(), _rss_mb()))
    result.harness_mb = sum(d.record_bytes() for d in devices.values()) / 2**20
    result.held_mb = rec.assembler.held_sample_bytes() / 2**20
    session = read_session(rec.finalise())
    result.rss_end_mb = _rss_mb()
    result.events = {k.value: sum(1 for e in session.meta.events if e.kind is k) for k in EventKind}

    errors = {}
    for i, (p, device) in enumerate(devices.items()):
        sent = device.sent()
        stream = session[p]
        destroyed = wire.destroyed(p)
        arrived = ~np.isin(sent.seq, destroyed)
        lost_before_first = int((sent.lost_seq < sent.seq[0]).sum()) if sent.lost_seq.size else 0
        numbered = sent.n_sent + sent.lost_seq.size - lost_before_first
        r = SensorResult(p, DRIFTS_PPM[i], sent=sent.n_sent, received=stream.n_samples,
                         lost_accounted=stream.n_lost_total,
                         lost_silently=numbered - stream.n_samples - stream.n_lost_total,
                         made_up=max(0, stream.n_samples - int(arrived.sum())),
                         destroyed_on_wire=int(destroyed.size),
                         drops=sum(1 for d in drops if d.placement is p))
        if stream.n_samples == int(arrived.sum()):
            errors[p] = stream.t_s - device.stream.t_s[sent.source_index[arrived]]
        result.sensors.append(r)
    if errors:
        common_s = float(np.median(np.concatenate(list(errors.values()))))
        for r in result.sensors:
            if r.placement in errors:
                e = np.abs(errors[r.placement] - common_s) * 1e3
                r.alignment_max_ms, r.alignment_p99_ms = float(e.max()), float(np.percentile(e, 99))
    return result


def report(result: SoakResult) -> str:
    cfg = result.config
    lines = [f"soak: {len(result.sensors)} sensors × {cfg.rate_hz:g} Hz for {cfg.duration_s / 60:g} min of virtual "
             f"time, loss {cfg.loss:.0%}, link drops of {cfg.reconnect_down_s:g} s every "
             f"{cfg.reconnect_every_s / 60:g} min; played in {result.real_s:.0f} s real ({machine()})", ""]
    rows = [[r.placement.value, f"{r.drift_ppm:+g}", r.sent, r.received, r.lost_accounted, r.destroyed_on_wire,
             r.lost_silently, r.made_up, r.drops, f"{r.alignment_p99_ms:.3f}", f"{r.alignment_max_ms:.3f}"]
            for r in result.sensors]
    total = [sum(getattr(r, k) for r in result.sensors) for k in
             ("sent", "received", "lost_accounted", "destroyed_on_wire", "lost_silently", "made_up", "drops")]
    worst = max(r.alignment_max_ms for r in result.sensors)
    rows.append(["all", "", *total[:7], f"{max(r.alignment_p99_ms for r in result.sensors):.3f}", f"{worst:.3f}"])
    lines.append(markdown_table(["sensor", "drift ppm", "sent", "received", "lost, accounted (gaps)",
                                 "of which on the wire", "lost silently", "made up", "link drops",
                                 "align p99 ms", "align max ms"], rows))
    lines += ["", markdown_table(["virtual time min", "RSS MB"],
                                 [[f"{t / 60:.0f}", f"{m:.0f}"] for t, m in result.rss_mb]), ""]
    growth = result.rss_mb[-1][1] - result.rss_mb[0][1]
    recorder_growth = max(0.0, growth - result.harness_mb)
    per_sample = recorder_growth * 2**20 / max(1, total[1])
    lines.append(f"recorder keeps samples in memory: {'yes' if cfg.keep_samples else 'no (as imugait record)'}; "
                 f"sample data held at the end of the recording: {result.held_mb:.0f} MB; RSS after the session "
                 f"was built from the log and written: {result.rss_end_mb:.0f} MB")
    lines.append("events: " + ", ".join(f"{k} {n}" for k, n in result.events.items() if n))
    lines.append(f"the emulated devices' record of what they sent (benchmark bookkeeping, left out of the memory "
                 f"target): {result.harness_mb:.0f} MB")
    flat = recorder_growth <= 0.05 * result.rss_mb[0][1]
    met = {True: "met", False: "NOT met"}
    lines.append(f"targets: 0 lost silently ({total[4]}): {met[total[4] == 0]}; 0 made up ({total[5]}): "
                 f"{met[total[5] == 0]}; alignment ≤ 1 ms ({worst:.3f} ms): {met[worst <= 1.0]}; memory flat "
                 f"(RSS +{growth:.0f} MB in all while recording, +{recorder_growth:.0f} MB beyond that bookkeeping = "
                 f"{per_sample:.0f} B per sample received; at most 5 % of the start): {met[flat]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="virtual minutes to record (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep-samples", action="store_true",
                    help="the recorder keeps every sample in memory (the library default) instead of "
                         "replaying its log at the end (as imugait record does)")
    args = ap.parse_args(argv)
    cfg = SoakConfig(duration_s=args.minutes * 60.0, seed=args.seed, keep_samples=args.keep_samples)
    with tempfile.TemporaryDirectory() as d:
        print(report(run_soak(cfg, Path(d) / "soak")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
