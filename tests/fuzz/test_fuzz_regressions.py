"""Every crash the fuzzer found stays fixed: each saved input is accepted or refused with one line.

``crashes/`` holds the first input of each distinct crash (``docs/reliability.md`` lists them):
before the fixes they raised ``KeyError``/``RuntimeError``/``TypeError`` from h5py (APDM),
``LookupError``/``OverflowError``/``ValueError`` (MVNX), killed the interpreter inside scipy's
``.mat`` reader, made libhdf5 allocate gigabytes, or made ``recover`` ask for terabytes or run
for minutes (clock knots). They run in one subprocess under a 4 GB address-space limit and a
time limit, so a regression fails its test instead of the test run or the machine.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CRASHES = sorted((HERE / "crashes").iterdir())
TARGET_OF = {"apdm": "import.apdm", "mvnx": "import.mvnx", "qmt": "import.qmt", "log-records": "log.records",
             "ximu3": "import.ximu3", "native": "import.native", "dot": "import.dot"}


def _target(path: Path) -> str:
    return next(t for prefix, t in TARGET_OF.items() if path.name.startswith(prefix + "-"))


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


@pytest.fixture(scope="module")
def outcomes() -> dict[str, dict]:
    args = [f"{_target(p)}={p}" for p in CRASHES]
    try:
        proc = subprocess.run([sys.executable, str(HERE / "replay_inputs.py"), *args], capture_output=True,
                              text=True, timeout=120, preexec_fn=_limit_memory)
        stdout, ended = proc.stdout, f"process ended with {proc.returncode}: {proc.stderr[-300:]}"
    except subprocess.TimeoutExpired as exc:  # a hang came back
        stdout, ended = (exc.stdout or b"").decode(), "still running after 120 s (a hang)"
    got = {d["file"]: d for d in (json.loads(line) for line in stdout.splitlines() if line.startswith("{"))}
    if len(got) < len(CRASHES):  # name the input the process died or hung on
        got[CRASHES[len(got)].name] = {"outcome": "crash", "type": ended, "message": ""}
    return got


def test_every_saved_crash_has_a_target():
    assert CRASHES and all(_target(p) for p in CRASHES)


ACCEPTED = {"log-records-memoryerror-clock-knots.bin", "log-records-hang-clock-knots.bin"}
"""Logs whose records are intact (valid CRCs) but whose device clock spans millennia: recovered
like any log (the bug was the terabyte allocation and the hang), every other input is refused."""


@pytest.mark.parametrize("path", CRASHES, ids=lambda p: p.name)
def test_saved_crash_is_accepted_or_refused_with_one_line(path, outcomes):
    got = outcomes.get(path.name)
    assert got is not None, f"{path.name} was not run (an earlier input ended the process)"
    assert got["outcome"] == ("accepted" if path.name in ACCEPTED else "refused"), \
        f"{path.name}: {got['outcome']}: {got['type']}: {got['message']}"
    if got["outcome"] == "refused":
        assert got["type"] in {"FormatError", "ValidationError"}
        assert "\n" not in got["message"] and got["message"]
