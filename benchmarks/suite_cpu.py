"""CPU time of every test in a pytest run, and a table of the costliest (docs/testing.md, "Suite time").

``--durations`` gives wall time, which on a shared machine says more about the neighbours than
about the test. This file is both a pytest plugin and a script:

* as a plugin (``-p suite_cpu``, with ``benchmarks`` on ``PYTHONPATH``) it appends one line per
  test — node id, CPU s (user + system of the process and of the child processes it reaped while
  the test ran), wall s — to ``$SUITE_CPU_DIR/<worker>.tsv``; a test's share of a module- or
  session-scoped fixture is charged to the first test that needs it;
* as a script it reads those files and prints the total and the ``--top`` costliest tests::

    SUITE_CPU_DIR=/tmp/suite PYTHONPATH=.:benchmarks .venv/bin/python -m pytest -q -n 2 \\
        --dist worksteal -p suite_cpu
    .venv/bin/python benchmarks/suite_cpu.py /tmp/suite --top 20
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import pytest


def _cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    folder = os.environ.get("SUITE_CPU_DIR")
    cpu0_s, wall0_s = _cpu_s(), time.perf_counter()
    yield
    if folder:
        cpu_s, wall_s = _cpu_s() - cpu0_s, time.perf_counter() - wall0_s
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(Path(folder) / f"{worker}.tsv", "a", encoding="utf-8") as f:
            f.write(f"{item.nodeid}\t{cpu_s:.3f}\t{wall_s:.3f}\n")


def read_runs(folder: Path) -> list[tuple[str, float, float]]:
    """(node id, CPU s, wall s) of every test the plugin wrote into ``folder``."""
    rows = []
    for path in sorted(folder.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            node, cpu_s, wall_s = line.rsplit("\t", 2)
            rows.append((node, float(cpu_s), float(wall_s)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the SUITE_CPU_DIR of a run")
    parser.add_argument("--top", type=int, default=20, help="how many of the costliest tests to list")
    args = parser.parse_args(argv)
    rows = read_runs(args.folder)
    print(f"{len(rows)} tests, {sum(r[1] for r in rows):.0f} CPU-s in the tests "
          f"(collection and start-up not included), {sum(r[2] for r in rows):.0f} s of worker wall time")
    print("| CPU s | wall s | test |\n|---:|---:|---|")
    for node, cpu_s, wall_s in sorted(rows, key=lambda r: -r[1])[:args.top]:
        print(f"| {cpu_s:.1f} | {wall_s:.1f} | `{node}` |")


if __name__ == "__main__":
    main()
