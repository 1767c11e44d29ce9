"""`imugait … | head`: a reader that goes away ends the command quietly, like a shell tool."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from imugait.cli import SIGPIPE_EXIT

ZIP = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "gait_rehab_mpu9250" / "Healthy_Adults-gait_activity.zip"

pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not ZIP.is_file(), reason=f"MPU-9250 walks not available: {ZIP} is absent (see "
                                                           "../shared/datasets/README.md)")]


def run_with_stdout(args: list[str], reader_closed: bool) -> subprocess.CompletedProcess[bytes]:
    read_end, write_end = os.pipe()
    if reader_closed:
        os.close(read_end)
    try:
        child = subprocess.run(
            [sys.executable, "-m", "imugait", *args], stdout=write_end, stderr=subprocess.PIPE, timeout=120
        )
    finally:
        os.close(write_end)
        if not reader_closed:
            os.close(read_end)
    return child


def test_listing_into_a_closed_pipe_stops_quietly():
    child = run_with_stdout(["import", "mpu9250", "--list", str(ZIP)], reader_closed=True)
    assert child.returncode == SIGPIPE_EXIT, child.stderr.decode()
    assert child.stderr == b""


def test_the_same_listing_with_a_reader_succeeds():
    # the control: the command itself works, so the quiet exit above is the closed pipe's doing
    child = run_with_stdout(["import", "mpu9250", "--list", str(ZIP)], reader_closed=False)
    assert child.returncode == 0, child.stderr.decode()
