"""The benchmarks' per-thread CPU and wake-up counters (``_common.threads_cpu_s``,
``voluntary_switches``), which ``acquisition_cpu.py --with-pipeline`` and ``live_paced.py`` report."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

common = pytest.importorskip("_common")

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_a_busy_thread_is_counted_under_its_name_and_the_main_thread_as_main():
    done = threading.Event()

    def work() -> None:
        _burn(0.2)
        done.wait(5.0)  # (still alive when counted)

    thread = threading.Thread(target=work, name="burner")
    before = common.threads_cpu_s()
    thread.start()
    _burn(0.05)
    give_up = time.monotonic() + 30.0  # (a wall-clock limit: this thread's CPU so far depends on the tests before)
    while thread.is_alive() and time.monotonic() < give_up and common.threads_cpu_s().get("burner", 0.0) < 0.2:
        time.sleep(0.01)
    after = common.threads_cpu_s()
    done.set()
    thread.join()
    assert after["burner"] - before.get("burner", 0.0) >= 0.19
    assert after["main"] - before["main"] >= 0.04


def test_a_sleep_is_a_wake_up_and_busy_work_is_none():
    n0 = common.voluntary_switches()
    for _ in range(20):
        time.sleep(0.002)
    n1 = common.voluntary_switches()
    _burn(0.02)
    n2 = common.voluntary_switches()
    assert n1 - n0 >= 20
    # no wait of its own: at most a page fault's, or the interpreter lock handed to another thread of
    # the process that asked for it (pytest's worker has some; once in a fresh clone it was 2)
    assert n2 - n1 <= 3
