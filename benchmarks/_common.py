"""Helpers shared by the benchmarks: timing, Markdown tables, synthetic IMU data.

Benchmarks are scripts run from the repository root (``.venv/bin/python benchmarks/<name>.py``);
this module sits next to them and is imported as ``_common``.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation


def best_time_s(fn: Callable[[], object], repeat: int = 3) -> float:
    """Shortest wall time of ``repeat`` calls of ``fn``, s."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A Markdown table; ``align`` is one character per column, ``l`` or ``r`` (default: first
    column left, others right)."""
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---" if a == "l" else "---:" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def spread_cells(values: np.ndarray, rows: Sequence[dict], limit: float) -> list[str]:
    """Two table cells of a per-leg RMSE ``values`` (one per row of ``rows``, which name ``walker``
    and ``side``): "median / 95th pct / worst° (its leg)" and how many legs exceed ``limit``."""
    worst = rows[int(np.nanargmax(values))]
    return [f"{np.median(values):.2f} / {np.percentile(values, 95):.2f} / {np.max(values):.2f}° "
            f"({worst['walker']} {worst['side']})", str(int(np.sum(values > limit)))]


def machine() -> str:
    """One line describing where a benchmark ran."""
    return f"{platform.machine()}, Python {platform.python_version()}, {platform.system()}"


def threads_cpu_s() -> dict[str, float]:
    """CPU s of each thread of this process so far (Linux: ``/proc/self/task/*/schedstat``,
    nanoseconds on a CPU; empty elsewhere), by name: ``"main"`` for the main thread, a Python
    thread's name (``threading``), else the system's name of the thread and its id (a native
    library's thread)."""
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()}
    names[threading.main_thread().native_id] = "main"
    out: dict[str, float] = {}
    tasks = Path("/proc/self/task")
    for task in tasks.iterdir() if tasks.is_dir() else ():
        try:
            name = names.get(int(task.name)) or f"{(task / 'comm').read_text().strip()}-{task.name}"
            out[name] = int((task / "schedstat").read_text().split()[0]) / 1e9
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # (a thread that ended meanwhile)
    return out


def voluntary_switches() -> int:
    """How many times the calling thread gave up its CPU to wait (slept, waited on a descriptor or
    a lock) so far: its wake-ups (Linux; 0 elsewhere)."""
    import threading

    try:
        text = Path(f"/proc/self/task/{threading.get_native_id()}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("voluntary_ctxt_switches")), 0)


def block_session(minutes: float, seed: int = 7, rate_hz: float = 200.0, subject_id: str = "sim-0000",
                  loss_probability: float = 0.0):
    """A simulated walking session of ``minutes``: stand, 9 straight bouts with 8 turns (an even
    number: the walker ends facing the way it started), stand; default sensor errors, and lost
    samples when ``loss_probability`` (per sample, of starting a lost burst) is given."""
    from imugait.simulate import SensorErrors, SimulationConfig, simulate, walking_test

    stand_s, turn_s, n_bouts = 5.0, 2.5, 9
    bout_s = (minutes * 60.0 - 2 * stand_s - (n_bouts - 1) * turn_s) / n_bouts
    config = SimulationConfig(timeline=walking_test(n_bouts, bout_s, stand_s, turn_s), sample_rate_hz=rate_hz, seed=seed,
                              subject_id=subject_id, errors=SensorErrors(loss_probability=loss_probability))
    return simulate(config).session


def synthetic_imu(duration_s: float, rate_hz: float = 200.0, seed: int = 0):
    """Smooth random rotation with gait-like linear acceleration, as a body-worn sensor sees it.

    Returns
    -------
    gyr_radps, acc_mps2, mag_uT : (N, 3) sensor frame, with white noise.
    q_world_sensor : (N, 4) truth, ENU, scalar first.
    """
    rng = np.random.default_rng(seed)
    n = int(round(duration_s * rate_hz))
    t = np.arange(n) / rate_hz

    def smooth(amplitude: float, f_max_hz: float) -> np.ndarray:
        f = rng.uniform(0.05, f_max_hz, 4)
        phase = rng.uniform(0, 2 * np.pi, 4)
        return amplitude / 4 * np.sum(np.sin(2 * np.pi * f[:, None] * t + phase[:, None]), axis=0)

    r = Rotation.from_euler("ZYX", np.column_stack([smooth(np.pi, 0.4), smooth(1.0, 1.0), smooth(1.0, 1.0)]))
    gyr = np.zeros((n, 3))
    gyr[1:] = (r[:-1].inv() * r[1:]).as_rotvec() * rate_hz
    lin = np.column_stack([smooth(2.0, 3.0) for _ in range(3)])
    acc = r.inv().apply(lin + [0.0, 0.0, 9.81])
    mag = r.inv().apply(np.tile([0.0, 19.0, -41.0], (n, 1)))
    gyr += rng.normal(0, 0.005, gyr.shape)
    acc += rng.normal(0, 0.05, acc.shape)
    mag += rng.normal(0, 0.3, mag.shape)
    return gyr, acc, mag, r.as_quat(scalar_first=True)
