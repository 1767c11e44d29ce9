"""The single stalls of a live dashboard run: every late angle, push and gap of the event loop, and
what ran across it.

Reproduce (from the repository root; a run lasts ``--duration`` s of real time, plus about 30 s)::

    .venv/bin/python benchmarks/live_stalls.py --duration 180 --runs 3
    .venv/bin/python benchmarks/live_stalls.py --duration 120 --record /tmp/takes   # a take recorded too

The host runs what ``imugait live --emulate 4`` runs (as ``benchmarks/dashboard_latency.py``
does, whose 60-s sets found one angle 0.35–1.6 s late now and then): four emulated sensors at
200 Hz in a child process on real time, the live acquisition, ``LiveKinematics.for_dashboard``
calibrating live (its fits in the worker thread), the push loop and the server on the loop
``imugait live`` runs on — with a websocket client in another process standing in for the page (it
notes when each update came; no drawing). It does not need a quiet machine: it says, for each
stall, how much of it our process spent on a CPU and how long its threads waited for one.

Recorded in the server process, into arrays made before the run (so the probes add no objects
for the collector):

* a heartbeat task every ``--beat-ms`` on the loop: the time, the process's CPU time, the
  loop thread's and the calibration worker's time on a CPU and waiting in the run queue
  (``/proc/self/task/TID/schedstat``), the machine's steal and idle time (``/proc/stat``) and the
  loop thread's page faults read from disk — a gap between beats is a stall of the loop;
* every garbage collection (``gc.callbacks``): its generation, duration and objects collected;
* every push (``LiveDashboard._push``: poll, state, JSON, broadcast, the ticks' tails), with the
  legs still catching up with the grid after their calibration fit; every feed; every wait of
  the pipeline for a fit on the loop (``_collect`` with a fit not done and too far behind);
* a watchdog thread (every 20 ms): when the loop has not beaten for ``--stack-ms``, the loop
  thread's innermost frames (``sys._current_frames``; it needs the interpreter lock, so a stall
  that holds the lock shows the frames just after it). ``faulthandler.dump_traceback_later``, which
  needs no lock, was tried first: two runs with it ended in a segmentation fault (it reads a running
  thread's frames without the lock), none since.

An angle counts as late when the client got it more than ``--late-ms`` after its last needed sample
arrived (what the page measures, without the drawing). Each late angle is split into: waiting
for the other leg's sensors (the grid waits for every sensor), the loop (the push after all four
had arrived), and the send (the push's broadcast to the client's receive); its cause is the
longest gap's across it (:func:`cause`: where the gap's time went), or its leg's catch-up.
``--save DIR`` keeps each run's records (``runN.npz``, the client's ``clientN.json``, the stacks).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from imugait.cli import one_blas_thread  # imports no numpy

one_blas_thread()  # as `imugait live`

import numpy as np  # noqa: E402
from _common import machine, markdown_table  # noqa: E402
from dashboard_latency import N_SENSORS, RATE_HZ, STAND_S, _opener, run_loop  # noqa: E402

from imugait.conventions import Placement, Side  # noqa: E402
from imugait.emulate.device import DeviceSettings  # noqa: E402
from imugait.emulate.emulator import emulated_devices, walker_simulation  # noqa: E402
from imugait.emulate.process import SerialEmulatorProcess  # noqa: E402
from imugait.live.dashboard.run import DashboardConfig, LiveDashboard  # noqa: E402
from imugait.live.kinematics import LiveKinematics  # noqa: E402
from imugait.live.updates import CalibrationPhase  # noqa: E402

SIDES = (Side.LEFT, Side.RIGHT)
CLOCK_TICKS_HZ = os.sysconf("SC_CLK_TCK")
PLACEMENTS = (Placement.LEFT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_THIGH, Placement.RIGHT_SHANK)


class Table:
    """Rows of floats in an array made beforehand (appending makes no object the collector tracks)."""

    def __init__(self, n: int, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self.data = np.full((n, len(columns)), np.nan)
        self.n = 0

    def add(self, *row: float) -> None:
        if self.n < len(self.data):
            self.data[self.n] = row
            self.n += 1

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[:self.n, self.columns.index(name)]


def _schedstat(fd: int | None) -> tuple[float, float]:
    """(s on a CPU, s waiting in the run queue) of one thread; NaN without it."""
    if fd is None:
        return np.nan, np.nan
    run_ns, wait_ns, _ = os.pread(fd, 100, 0).split()
    return int(run_ns) * 1e-9, int(wait_ns) * 1e-9


def _machine_s(fd: int) -> tuple[float, float]:
    """(s stolen by the hypervisor, s idle) summed over the machine's CPUs (``/proc/stat``)."""
    fields = os.pread(fd, 200, 0).split(maxsplit=9)
    return int(fields[8]) / CLOCK_TICKS_HZ, int(fields[4]) / CLOCK_TICKS_HZ


def _task_fd(native_id: int) -> int | None:
    try:
        return os.open(f"/proc/self/task/{native_id}/schedstat", os.O_RDONLY)
    except OSError:
        return None


class Probe:
    """What the server process did, in time (``time.monotonic``, s); see the module docstring."""

    def __init__(self, duration_s: float, beat_s: float, stack_s: float) -> None:
        n_beats = int(duration_s / beat_s * 1.5) + 1000
        self.beat_s, self.stack_s = beat_s, stack_s
        self.stacks: dict[float, str] = {}
        """The loop's innermost frames during a gap, by the time of the beat before it."""
        self._last_beat = np.nan
        self._stop = threading.Event()
        self._loop_ident = threading.get_ident()
        self.beats = Table(n_beats, ("t", "cpu", "loop_run", "loop_wait", "worker_run", "worker_wait",
                                     "steal", "idle", "majflt"))
        self.gcs = Table(200_000, ("t0", "t1", "generation", "collected"))
        self.pushes = Table(int(duration_s * 60) + 1000, ("t0", "t_poll", "t_sent", "t1", "cpu", "epoch", "catching"))
        self.feeds = Table(int(duration_s * 400) + 1000, ("t0", "t1", "sensor", "t_s_end"))
        self.waits = Table(1000, ("t0", "t1"))
        self.calibrated_s: dict[str, float] = {}
        self._gc_t0 = 0.0
        self._loop_fd = _task_fd(threading.get_native_id())
        self._stat_fd = os.open("/proc/stat", os.O_RDONLY)
        self._worker_fd: int | None = None
        self._marks: dict[str, float] = {}

    def on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_t0 = time.monotonic()
        else:
            self.gcs.add(self._gc_t0, time.monotonic(), info["generation"], info["collected"])

    def _find_worker(self) -> None:
        for thread in threading.enumerate():
            if thread.name.startswith("imugait-live-calibration") and thread.native_id is not None:
                self._worker_fd = _task_fd(thread.native_id)

    async def beat(self) -> None:
        next_find = 0.0
        while True:
            now = time.monotonic()
            if self._worker_fd is None and now >= next_find:
                self._find_worker()
                next_find = now + 0.5
            self.beats.add(now, time.process_time(), *_schedstat(self._loop_fd), *_schedstat(self._worker_fd),
                           *_machine_s(self._stat_fd), resource.getrusage(resource.RUSAGE_THREAD).ru_majflt)
            self._last_beat = now
            await asyncio.sleep(self.beat_s)

    def watch(self) -> None:
        """The watchdog thread's loop (see the module docstring)."""
        while not self._stop.wait(0.02):
            beat = self._last_beat
            if time.monotonic() - beat > self.stack_s and beat not in self.stacks:
                frame = sys._current_frames().get(self._loop_ident)
                inner = traceback.extract_stack(frame)[-4:][::-1] if frame is not None else []
                self.stacks[beat] = " ← ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in inner)

    def wrap_pipeline(self, pipeline: LiveKinematics) -> LiveKinematics:
        """Count the pipeline's feeds, its waits for a calibration fit, and when each poll ended."""
        poll, feed, collect = pipeline.poll, pipeline.feed, pipeline._collect
        sensor = {p: i for i, p in enumerate(PLACEMENTS)}

        def counted_poll():
            update = poll()
            self._marks["poll"] = time.monotonic()
            # Legs still catching up with the grid after their fit: their newest angle is a backlog row.
            self._marks["catching"] = sum(1 << i for i, side in enumerate(SIDES) if side in pipeline._legs.catching_up)
            for state in update.calibration:
                if state.phase is CalibrationPhase.CALIBRATED:
                    self.calibrated_s.setdefault(state.side.value, time.monotonic())
            return update

        def counted_feed(samples):
            t0 = time.monotonic()
            feed(samples)
            self.feeds.add(t0, time.monotonic(), sensor[samples.placement], float(samples.t_s[-1]))

        def counted_collect(k_next: int | None):
            first = next(iter(pipeline._jobs.running.values()), None)
            forced = first is not None and not first[1].done() and (k_next is None or pipeline._jobs.must_wait(first[0], k_next))
            t0 = time.monotonic()
            collect(k_next)
            if forced:  # a fit not done, too far behind: waited for on the loop
                self.waits.add(t0, time.monotonic())

        pipeline.poll, pipeline.feed, pipeline._collect = counted_poll, counted_feed, counted_collect
        return pipeline

    def wrap_push(self, dash: LiveDashboard) -> None:
        """Count each push: its start, the poll's end, the broadcast's end (queued for the client), its end."""
        push, broadcast = dash._push, dash.hub.broadcast

        def counted_broadcast(message):
            broadcast(message)
            self._marks["sent"] = time.monotonic()

        def counted_push(with_status: bool):
            t0, c0 = time.monotonic(), time.thread_time()
            epoch = time.time() - t0
            self._marks.clear()
            push(with_status)
            self.pushes.add(t0, self._marks.get("poll", np.nan), self._marks.get("sent", np.nan), time.monotonic(),
                            time.thread_time() - c0, epoch, self._marks.get("catching", 0))

        dash.hub.broadcast, dash._push = counted_broadcast, counted_push


async def _run(emulator, args, probe: Probe, client_out: Path) -> dict:
    config = DashboardConfig(record_dir=args.record, record_at_start=args.record is not None)

    def make(placements):
        return probe.wrap_pipeline(LiveKinematics.for_dashboard(placements))
    async with LiveDashboard(_opener(emulator), make, config) as dash:
        probe.wrap_push(dash)
        ws_url = dash.url.replace("http://", "ws://").replace("/?token=", "/ws?token=")
        client = subprocess.Popen([sys.executable, __file__, "--client", ws_url, str(client_out)])
        while dash.hub.n_clients < 1:
            await asyncio.sleep(0.01)
        gc.callbacks.append(probe.on_gc)
        beat = asyncio.create_task(probe.beat())
        watchdog = threading.Thread(target=probe.watch, name="stall-watchdog", daemon=True)
        watchdog.start()
        host_to_epoch_s = dash._host_to_epoch_s()
        try:
            await dash.run(args.duration)
        finally:
            beat.cancel()
            probe._stop.set()
            gc.callbacks.remove(probe.on_gc)
        error = dash.pipeline_error
    client.wait(30)
    return {"host_to_epoch_s": host_to_epoch_s, "pipeline_error": error}


def client(url: str, out: str) -> None:
    """The page's stand-in: note when each update came (wall clock, ms) and its arrival stamps."""
    from websockets.sync.client import connect

    gc.disable()  # (its own pauses would count as ours; what it keeps is acyclic)
    got = []
    fd = _task_fd(threading.get_native_id())
    with connect(url, max_size=None) as ws:
        try:
            for text in ws:
                now_ms = time.time() * 1e3
                message = json.loads(text)
                stamps = message.get("arrival_epoch_ms") or {}
                angles = message.get("angles") or {}
                newest = [(angles.get(side) or {}).get("t_s") or [None] for side in ("left", "right")]
                got.append((now_ms, message.get("type"), stamps.get("left"), stamps.get("right"),
                            newest[0][-1], newest[1][-1], *_schedstat(fd)))
                if message.get("finished"):
                    break
        except Exception:  # noqa: BLE001 (the server closed: what came is kept)
            pass
    Path(out).write_text(json.dumps(got))


# ---------------------------------------------------------------------------------------- analysis
def _overlap(t0: np.ndarray, t1: np.ndarray, a: float, b: float) -> np.ndarray:
    """Seconds of each interval [t0, t1] inside [a, b]."""
    return np.clip(np.minimum(t1, b) - np.maximum(t0, a), 0.0, None)


def gaps(probe: Probe, gap_s: float) -> list[dict]:
    """Each gap between heartbeats longer than ``gap_s``, with what ran across it."""
    b = probe.beats
    t = b["t"]
    d = {name: np.diff(b[name]) for name in b.columns}
    out = []
    for i in np.flatnonzero(d["t"] > gap_s):
        a, z = t[i], t[i + 1]
        g = {"t0": a, "ms": 1e3 * (z - a), "cpu_ms": 1e3 * d["cpu"][i], "loop_run_ms": 1e3 * d["loop_run"][i],
             "loop_wait_ms": 1e3 * d["loop_wait"][i], "worker_run_ms": np.nan_to_num(1e3 * d["worker_run"][i]),
             "worker_wait_ms": np.nan_to_num(1e3 * d["worker_wait"][i]), "steal_ms": 1e3 * d["steal"][i],
             "idle_ms": 1e3 * d["idle"][i], "majflt": int(d["majflt"][i])}
        gc_in = _overlap(probe.gcs["t0"], probe.gcs["t1"], a, z)
        g["gc_ms"] = 1e3 * gc_in.sum()
        g["gc_generation"] = int(probe.gcs["generation"][gc_in > 0].max()) if (gc_in > 0).any() else -1
        g["wait_ms"] = 1e3 * _overlap(probe.waits["t0"], probe.waits["t1"], a, z).sum()
        p = probe.pushes
        push_in = _overlap(p["t0"], p["t1"], a, z)
        g["push_ms"] = 1e3 * push_in.sum()
        if (push_in > 0).any():
            j = int(np.argmax(push_in))
            g["push_parts_ms"] = (1e3 * (p["t_poll"][j] - p["t0"][j]), 1e3 * (p["t_sent"][j] - p["t_poll"][j]),
                                  1e3 * (p["t1"][j] - p["t_sent"][j]))
        g["feed_ms"] = 1e3 * _overlap(probe.feeds["t0"], probe.feeds["t1"], a, z).sum()
        g["stack"] = probe.stacks.get(a, "")
        g["cause"] = cause(g)
        out.append(g)
    return out


def cause(g: dict) -> str:
    """The gap's likeliest cause, from where its time went (each test a share of the gap)."""
    ms = g["ms"]
    if g["gc_ms"] >= 0.5 * ms:
        return f"garbage collection (generation {g['gc_generation']})"
    if g["wait_ms"] >= 0.5 * ms:
        return "the loop waits for a calibration fit"
    if g["loop_run_ms"] >= 0.4 * ms:  # (the rest mostly waiting for a CPU: ours, slowed by the machine)
        where = "a push" if g["push_ms"] >= 0.5 * ms else "a feed" if g["feed_ms"] >= 0.5 * ms else "elsewhere"
        return f"the loop thread computing ({where})"
    if g["loop_wait_ms"] >= 0.5 * ms:
        return "machine: the loop thread ready, waiting for a CPU"
    if g["worker_run_ms"] >= 0.3 * ms:
        return "the calibration worker holds the interpreter lock"
    if g["worker_run_ms"] + g["worker_wait_ms"] >= 0.5 * ms:
        return "machine: the calibration worker waits for a CPU (holding the interpreter lock)"
    if g["steal_ms"] >= 0.3 * ms:
        return "machine: the hypervisor ran another guest (steal)"
    if g["majflt"]:
        return "page faults read from disk"
    if g["cpu_ms"] < 0.2 * ms:
        return "no CPU of ours and not ready (asleep or blocked)"
    return "not explained"


def late_angles(probe: Probe, received: list, late_s: float) -> tuple[np.ndarray, list[dict]]:
    """The client's angle latencies (ms, every stamped update) and the late ones split into parts."""
    updates = [r for r in received if r[1] == "update"]
    p = probe.pushes
    if len(updates) != p.n:
        print(f"(the client got {len(updates)} updates for {p.n} pushes: matched by order up to the shorter)")
    feeds = probe.feeds
    latencies, late = [], []
    for k, (recv_ms, _kind, stamp_l, stamp_r, t_l, t_r, _run, client_wait) in enumerate(updates[:p.n]):
        epoch = p["epoch"][k]
        recv = recv_ms / 1e3 - epoch
        for bit, (side, stamp, t_new) in enumerate((("left", stamp_l, t_l), ("right", stamp_r, t_r))):
            if stamp is None or t_new is None:
                continue
            latency = recv_ms - stamp
            latencies.append(latency)
            if latency <= 1e3 * late_s:
                continue
            own = stamp / 1e3 - epoch
            arrived = []
            for s in range(len(PLACEMENTS)):
                mine = (feeds["sensor"] == s) & (feeds["t_s_end"] >= t_new - 0.5e-3)
                arrived.append(feeds["t0"][mine][0] if mine.any() else np.nan)
            all_in = float(np.nanmax(arrived))
            late.append({"k": k, "side": side, "t_s": t_new, "ms": latency, "own": own,
                         "other_sensors_ms": 1e3 * (all_in - own), "to_push_ms": 1e3 * (p["t0"][k] - all_in),
                         "push_ms": 1e3 * (p["t_sent"][k] - p["t0"][k]), "send_ms": 1e3 * (recv - p["t_sent"][k]),
                         "late_sensor": PLACEMENTS[int(np.nanargmax(arrived))].value, "recv": recv,
                         "catching_up": bool(int(p["catching"][k]) >> bit & 1),
                         "client_wait_ms": 1e3 * (client_wait - updates[k - 1][7]) if k else np.nan})
    return np.asarray(latencies), late


def _stamp(t: float, t0: float) -> str:
    return f"{t - t0:.2f}"


def _ms(values) -> str:
    return "/".join(f"{v:.0f}" for v in values)


def one_run(args, run_i: int, workdir: Path) -> tuple[list[dict], list[dict]]:
    result = walker_simulation(N_SENSORS, args.duration + 2 * STAND_S, sample_rate_hz=RATE_HZ, seed=run_i + 1,
                               stand_s=STAND_S)
    devices = emulated_devices(result, DeviceSettings(samples_per_block=4))
    client_out = workdir / f"client{run_i}.json"
    load0, start = os.getloadavg()[0], time.strftime("%Y-%m-%d %H:%M:%S %Z")
    with SerialEmulatorProcess(devices, speed=1.0) as emulator:
        probe = Probe(args.duration, args.beat_ms / 1e3, args.stack_ms / 1e3)
        info = run_loop(_run(emulator, args, probe, client_out))
        emulator.stop()
    received = json.loads(client_out.read_text())
    if args.save is not None:
        args.save.mkdir(parents=True, exist_ok=True)
        np.savez(args.save / f"run{run_i}.npz", **{name: getattr(probe, name).data[:getattr(probe, name).n]
                                                      for name in ("beats", "gcs", "pushes", "feeds", "waits")},
                 calibrated=json.dumps({k: v for k, v in probe.calibrated_s.items()}))
        (args.save / f"client{run_i}.json").write_text(json.dumps(received))
        (args.save / f"stacks{run_i}.json").write_text(json.dumps(probe.stacks))
    found = gaps(probe, args.gap_ms / 1e3)
    latencies, late = late_angles(probe, received, args.late_ms / 1e3)
    t0 = probe.beats["t"][0]
    for a in late:
        inside = [g for g in found if g["t0"] < a["recv"] and g["t0"] + g["ms"] / 1e3 > a["own"]]
        a["gap"] = max(inside, key=lambda g: g["ms"]) if inside else None
        a["cause"] = ("the leg catching up after its calibration fit (a backlog row)" if a["catching_up"] else
                      a["gap"]["cause"] if a["gap"] else "no loop gap")
    gen = probe.gcs["generation"]
    pause = 1e3 * (probe.gcs["t1"] - probe.gcs["t0"])
    gc_text = ", ".join(f"gen {g}: {int((gen == g).sum())} (max {pause[gen == g].max():.1f} ms)"
                        for g in range(3) if (gen == g).any())
    calibrated = ", ".join(f"{side} {t - t0:.1f} s" for side, t in sorted(probe.calibrated_s.items()))
    waits = ", ".join(f"{a - t0:.1f} s: {1e3 * (b - a):.0f} ms" for a, b in zip(probe.waits["t0"], probe.waits["t1"],
                                                                               strict=True)) or "none"
    lag = []
    for s_i, placement in enumerate(PLACEMENTS):
        mine = probe.feeds["sensor"] == s_i
        x = 1e3 * (probe.feeds["t0"][mine] - probe.feeds["t_s_end"][mine])
        lag.append(f"{placement.value} {np.max(x) - np.median(x):.0f}")
    print(f"\n### Run {run_i + 1}: {start}, {args.duration:g} s, load average {load0:.1f} → "
          f"{os.getloadavg()[0]:.1f}; {machine()}\n")
    print(f"pushes {probe.pushes.n}, updates received {sum(r[1] == 'update' for r in received)}; angle latency at "
          f"the client p50 / p99 / max {_ms(np.percentile(latencies, [50, 99, 100]))} ms ({latencies.size}); "
          f"loop gaps over {args.gap_ms:g} ms: {len(found)} (beats every {args.beat_ms:g} ms); collections {gc_text}; "
          f"legs calibrated at {calibrated or 'never'}; the loop waited for a fit: {waits}; a chunk's arrival "
          f"later than its sensor's median, max (ms): {', '.join(lag)}"
          f"{'; pipeline error: ' + info['pipeline_error'] if info['pipeline_error'] else ''}\n")
    if late:
        print(markdown_table(["t (s)", "leg", "late (ms)", "other sensors", "to the push", "push", "send",
                              "last sensor", "client queued (ms)", "loop gap (ms)", "cause"],
                             [[_stamp(a["own"], t0), a["side"], f"{a['ms']:.0f}", f"{a['other_sensors_ms']:.0f}",
                               f"{a['to_push_ms']:.0f}", f"{a['push_ms']:.0f}", f"{a['send_ms']:.0f}",
                               a["late_sensor"], f"{a['client_wait_ms']:.0f}",
                               f"{a['gap']['ms']:.0f}" if a["gap"] else "", a["cause"]]
                              for a in sorted(late, key=lambda a: -a["ms"])[:args.longest]], "rlrrrrrlrrl"))
        print()
    rows = []
    for g in sorted(found, key=lambda g: -g["ms"])[:args.longest]:
        parts = g.get("push_parts_ms")
        rows.append([_stamp(g["t0"], t0), f"{g['ms']:.0f}", f"{g['cpu_ms']:.0f}", f"{g['loop_run_ms']:.0f}",
                     f"{g['loop_wait_ms']:.0f}", f"{g['steal_ms']:.0f}", f"{g['idle_ms']:.0f}",
                     f"{g['worker_run_ms']:.0f}", f"{g['gc_ms']:.1f}",
                     f"{g['push_ms']:.0f}" + (f" ({_ms(parts)})" if parts else ""), f"{g['feed_ms']:.0f}",
                     g["cause"], g["stack"]])
    if rows:
        print(markdown_table(["t (s)", "gap (ms)", "process CPU", "loop on CPU", "loop in run queue", "steal",
                              "machine idle", "worker on CPU", "collections", "push (poll/broadcast/tails)", "feeds",
                              "cause", "the loop's stack in it"], rows, "rrrrrrrrrrrll"))
    return late, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180.0, metavar="S", help="real seconds per run (default 180)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--beat-ms", type=float, default=5.0, help="heartbeat of the loop (default 5)")
    parser.add_argument("--gap-ms", type=float, default=40.0, help="gaps between beats listed from (default 40)")
    parser.add_argument("--late-ms", type=float, default=80.0, help="angles listed as late from (default 80)")
    parser.add_argument("--stack-ms", type=float, default=100.0, help="the loop's stack taken after (default 100)")
    parser.add_argument("--longest", type=int, default=12, help="rows per table (default 12)")
    parser.add_argument("--record", type=Path, default=None, metavar="DIR", help="also record a take into DIR")
    parser.add_argument("--save", type=Path, default=None, metavar="DIR", help="keep each run's raw records in DIR")
    parser.add_argument("--client", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client(*args.client)
        return
    import imugait.live.run  # noqa: F401  (imported before the heap is frozen, as by the command)

    late_all, gaps_all = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            late, found = one_run(args, i, Path(tmp))
            late_all += late
            gaps_all += found
    if args.runs > 1:
        causes: dict[str, list[float]] = {}
        for g in gaps_all:
            causes.setdefault(g["cause"], []).append(g["ms"])
        print(f"\n### All {args.runs} runs: loop gaps over {args.gap_ms:g} ms by cause\n")
        print(markdown_table(["cause", "gaps", "longest (ms)", "over 100 ms"],
                             [[c, len(v), f"{max(v):.0f}", sum(x > 100 for x in v)] for c, v in
                              sorted(causes.items(), key=lambda kv: -max(kv[1]))], "lrrr"))
        print(f"\nangles later than {args.late_ms:g} ms: {len(late_all)}")


if __name__ == "__main__":
    main()
