"""The dashboard's push path alone: the server process's CPU to take 40 updates/s into the page's
state, encode them and send them over the websocket to one page; another revision against this
checkout, paired.

Reproduce (from the repository root; prints Markdown tables)::

    .venv/bin/python benchmarks/dashboard_push.py --rev main                     # 20 s per run, 4 pairs
    .venv/bin/python benchmarks/dashboard_push.py --rev main --seconds 30 --repeat 6
    .venv/bin/python benchmarks/dashboard_push.py --loop asyncio uvloop      # this checkout, two event loops
    .venv/bin/python benchmarks/dashboard_push.py --deflate on off           # permessage-deflate or not

The updates are made once, before the runs: the live kinematics (``LiveKinematics.for_dashboard``,
the reused calibration of ``benchmarks/live_pipeline.py``'s walking test, 4 sensors at 200 Hz)
fed in 20-ms blocks and polled every 25 ms of data — what the dashboard's push loop takes from
the pipeline. Each run is a fresh process with a revision's ``imugait/`` first on ``PYTHONPATH``:
it serves that revision's dashboard app (``build_app``, ``DashboardServer``: uvicorn on the run's
event loop, loopback, its token) and runs the push loop on that revision's schedule (every 25 ms of
real time; the sensors' status every 0.25 s): ``DashboardState.take`` of the next update, the
arrival stamps, ``delta``, ``Hub.broadcast`` — the dashboard's ``_push`` without the pipeline and
the sensors. One page is connected: a websocket client in a child process (Python ``websockets``,
offering permessage-deflate as browsers do) that parses every message. The CPU counted is the
server process's (``getrusage``: user + system, all threads) from the page's snapshot to the last
push, per push and as % of one core of its wall time; the page's process is not counted.

The page's content is compared between the two runs of a pair: the client re-encodes every
message it parsed (sorted keys) and hashes them; equal hashes mean the page got the same
messages, value for value. The arrival stamps are made deterministic (the update's data time as
host time, wall clock = host clock), so the messages do not depend on when a push ran.

The event loop is the revision's own (``imugait.live.run.run_event_loop`` where it exists, else
``asyncio.run``) unless ``--loop`` names one; permessage-deflate is the revision's own unless
``--deflate`` forces it (by wrapping ``uvicorn.Config``).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import _revisions  # noqa: E402
import numpy as np  # noqa: E402
from _common import machine, markdown_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PUSH_INTERVAL_S = 0.025  # DashboardConfig's defaults
STATUS_EVERY = 10  # pushes between the sensors' status (status_interval_s 0.25 s)
SETTLE_S = 1.0


# ----------------------------------------------------------------------------- the updates

def make_updates(path: Path) -> int:
    """The live kinematics' updates of a walking test polled every 25 ms of data, pickled to ``path``."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from live_pipeline import SIMULATION, stream

    from imugait.live.kinematics import LiveConfig
    from imugait.simulate import simulate

    session = simulate(SIMULATION).session
    config = LiveConfig(rate_hz=SIMULATION.sample_rate_hz)
    live, _ = stream(session, config)
    _live, updates = stream(session, config, live.calibration, PUSH_INTERVAL_S, as_dashboard=True)
    placements = [stream.placement for stream in session.streams]
    path.write_bytes(pickle.dumps((placements, updates)))
    return len(updates)


def _statuses(placements, k: int):
    """The four sensors' status at push ``k`` (counts growing as a run's do)."""
    from imugait.acquisition.sources import SourceKind
    from imugait.live.acquisition import SensorStatus
    from imugait.transport.link import LinkState

    n = 5 * k
    return tuple(SensorStatus(p, f"/dev/pts/{i}", SourceKind.SERIAL, LinkState.CONNECTED, f"EMU-{i:04d}", 200.0, n,
                              n // 500, 87.0, 12.5, 0.001, 0, 0, 0, ()) for i, p in enumerate(placements))


# ----------------------------------------------------------------------------- one run (server side)

def _force_deflate(on: bool) -> None:
    import uvicorn

    original = uvicorn.Config.__init__

    def init(self, *args, **kwargs):
        kwargs["ws_per_message_deflate"] = on
        original(self, *args, **kwargs)

    uvicorn.Config.__init__ = init


async def _serve(updates_path: Path, seconds: float, with_page: bool) -> dict:
    from imugait.live.dashboard.server import (
        DashboardServer,
        Hub,
        bind,
        build_app,
        new_token,
        url_of,
    )
    from imugait.live.dashboard.state import DashboardState

    placements, updates = pickle.loads(updates_path.read_bytes())
    n_push = min(len(updates), int(round(seconds / PUSH_INTERVAL_S)))
    state = DashboardState()
    hub = Hub(state, {"window_s": 10.0, "recording_enabled": False, "push_interval_s": PUSH_INTERVAL_S})
    token = new_token()
    sock = bind("127.0.0.1")
    url = url_of(sock, "127.0.0.1", token)
    out: dict = {"pushes": n_push, "loop": type(asyncio.get_running_loop()).__module__.split(".")[0]}
    async with DashboardServer(build_app(hub, token, None), sock, hub):
        client = None
        if with_page:
            ws_url = url.replace("http://", "ws://").replace("/?token=", "/ws?token=")
            client = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--client", ws_url],
                                      stdout=subprocess.PIPE, text=True)
            while hub.n_clients == 0:
                if client.poll() is not None:
                    raise RuntimeError("the page's client stopped before connecting")
                await asyncio.sleep(0.01)
        await asyncio.sleep(SETTLE_S)  # the snapshot sent, the client settled
        usage0, cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), _cpu_s(), time.perf_counter()
        next_push = time.monotonic()
        for k in range(n_push):
            update = updates[k]
            for placement in placements:  # blocks as they would have come: host time = data time
                state.arrivals.add(placement, update.t_s, update.t_s)
            state.take(update)
            if k % STATUS_EVERY == 0:
                state.set_sensors(_statuses(placements, k))
            hub.broadcast(state.delta(0.0))
            next_push = max(next_push + PUSH_INTERVAL_S, time.monotonic())
            await asyncio.sleep(max(next_push - time.monotonic(), 0.0))
        out["cpu_s"], out["wall_s"] = _cpu_s() - cpu0, time.perf_counter() - wall0
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["user_s"], out["system_s"] = usage.ru_utime - usage0.ru_utime, usage.ru_stime - usage0.ru_stime
        out["context_switches"] = usage.ru_nvcsw - usage0.ru_nvcsw + usage.ru_nivcsw - usage0.ru_nivcsw
    if client is not None:
        stdout, _ = client.communicate(timeout=60)
        out["page"] = json.loads(stdout.strip().splitlines()[-1])
    return out


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(updates_path: Path, seconds: float, with_page: bool, loop: str | None, deflate: str | None) -> dict:
    import imugait
    import imugait.live.run as live_run

    if deflate is not None:
        _force_deflate(deflate == "on")
    if loop is None:
        runner = getattr(live_run, "run_event_loop", asyncio.run)
    elif loop == "uvloop":
        import uvloop

        runner = lambda coro: asyncio.Runner(loop_factory=uvloop.new_event_loop).run(coro)  # noqa: E731
    else:
        runner = lambda coro: asyncio.Runner(loop_factory=asyncio.new_event_loop).run(coro)  # noqa: E731
    out = runner(_serve(updates_path, seconds, with_page))
    return {"imugait": imugait.__file__, **out}


# ----------------------------------------------------------------------------- the page

def page_client(url: str) -> dict:
    """Read every message until the server closes; their count, text size, and a hash of their content."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    digest, n, size, types = hashlib.sha256(), 0, 0, {}
    with connect(url, max_size=None, open_timeout=30) as ws:
        negotiated = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        try:
            while True:
                text = ws.recv()
                message = json.loads(text)
                types[message["type"]] = types.get(message["type"], 0) + 1
                digest.update(json.dumps(message, sort_keys=True, separators=(",", ":")).encode())
                n += 1
                size += len(text.encode())
        except ConnectionClosed:
            pass
    return {"messages": n, "text_bytes": size, "types": types, "sha256": digest.hexdigest(), "extensions": negotiated}


# ----------------------------------------------------------------------------- the comparison

def _start(root: Path, args: list[str], cwd: Path):
    return _revisions.start(Path(__file__), root, args, cwd)


def compare(variants: dict[str, tuple[Path, list[str]]], seconds: float, repeat: int, with_page: bool,
            paired: bool, tmp: Path, updates: Path | None = None) -> dict[str, list[dict]]:
    if updates is None or not updates.exists():
        updates = updates or tmp / "updates.pkl"
        make_updates(updates)
    n_updates = len(pickle.loads(updates.read_bytes())[1])
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    for r in range(repeat):
        order = list(variants) if r % 2 == 0 else list(variants)[::-1]
        base = ["--child", str(updates), "--seconds", str(seconds)] + ([] if with_page else ["--no-page"])
        if paired:  # at the same moment, which one first alternating: the same machine load
            started = {name: _start(variants[name][0], base + variants[name][1], tmp) for name in order}
            for name, process in started.items():
                runs[name].append(_revisions.result(variants[name][0], process))
        else:
            for name in order:
                runs[name].append(_revisions.result(variants[name][0], _start(variants[name][0], base + variants[name][1], tmp)))
    print(f"{n_updates} updates made; {seconds:g} s per run ({min(n_updates, round(seconds / PUSH_INTERVAL_S))} pushes), "
          f"{repeat} runs each, {'paired (at the same moment)' if paired else 'alternating'}, "
          f"{'one page' if with_page else 'no page'}; {machine()}\n")
    return runs


def report(runs: dict[str, list[dict]], with_page: bool) -> None:
    names = list(runs)
    rows = []
    for name, rs in runs.items():
        per_push = [1e6 * r["cpu_s"] / r["pushes"] for r in rs]
        pct = [100 * r["cpu_s"] / r["wall_s"] for r in rs]
        page = rs[0].get("page", {})
        text = np.mean([r["page"]["text_bytes"] / r["page"]["messages"] for r in rs]) if with_page else float("nan")
        rows.append([name, rs[0]["loop"], page.get("extensions", "") or "—", ", ".join(f"{v:.0f}" for v in per_push),
                     f"{np.median(per_push):.0f}", ", ".join(f"{v:.2f}" for v in pct), f"{np.median(pct):.2f}",
                     f"{text:.0f}"])
    print(markdown_table(["run", "event loop", "websocket extensions", "CPU µs per push (in order)", "median",
                          "% of one core (in order)", "median", "text bytes per message"], rows))
    if len(names) == 2:
        a, b = runs[names[0]], runs[names[1]]
        ratios = [(y["cpu_s"] / y["pushes"]) / (x["cpu_s"] / x["pushes"]) for x, y in zip(a, b, strict=True)]
        print(f"\n{names[1]} ÷ {names[0]}, CPU per push, pair by pair: {', '.join(f'{v:.2f}' for v in ratios)} "
              f"(median {np.median(ratios):.2f})")
    if with_page:
        hashes = {r["page"]["sha256"] for rs in runs.values() for r in rs}
        counts = {(r["page"]["messages"], r["pushes"]) for rs in runs.values() for r in rs}
        print(f"page content: {'the same in every run' if len(hashes) == 1 else f'{len(hashes)} different contents'} "
              f"(messages received, pushes: {sorted(counts)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="main", help="the revision to compare with (default main)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of pushes per run (default 20, at most 40)")
    parser.add_argument("--repeat", type=int, default=4, help="runs of each (default 4)")
    parser.add_argument("--alternate", action="store_true", help="one run after the other instead of paired")
    parser.add_argument("--no-page", action="store_true", help="no page connected (the server and the pushes' own work)")
    parser.add_argument("--loop", nargs=2, choices=["asyncio", "uvloop"], help="compare two event loops on this checkout")
    parser.add_argument("--deflate", nargs=2, choices=["on", "off"], help="compare permessage-deflate on/off on this checkout")
    parser.add_argument("--updates", type=Path, help="a file to keep the updates in (made if missing) for later runs")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--child-loop", choices=["asyncio", "uvloop"], help=argparse.SUPPRESS)
    parser.add_argument("--child-deflate", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        print(json.dumps(page_client(args.client)))
        return
    if args.child:
        print(json.dumps(child(args.child, args.seconds, not args.no_page, args.child_loop, args.child_deflate)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.loop:
            variants = {f"loop {v}": (ROOT, ["--child-loop", v]) for v in args.loop}
        elif args.deflate:
            variants = {f"deflate {v}": (ROOT, ["--child-deflate", v]) for v in args.deflate}
        else:
            variants = {args.rev: (_revisions.checkout(args.rev, tmp), []), "this checkout": (ROOT, [])}
        runs = compare(variants, args.seconds, args.repeat, not args.no_page, not args.alternate, tmp, args.updates)
    report(runs, not args.no_page)


if __name__ == "__main__":
    main()
