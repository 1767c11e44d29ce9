"""Helpers of the benchmarks that run another revision's ``imugait/`` against this checkout's, each
in a fresh process (``acquisition_cpu.py``, ``dashboard_push.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout(rev: str, tmp: Path, name: str = "other") -> Path:
    """``imugait/`` of ``rev`` extracted into ``tmp / name`` (returned: the folder to put first on
    ``PYTHONPATH``)."""
    archive = subprocess.run(["git", "archive", rev, "imugait"], cwd=ROOT, capture_output=True, check=True)
    (tmp / f"{name}.tar").write_bytes(archive.stdout)
    with tarfile.open(tmp / f"{name}.tar") as tar:
        tar.extractall(tmp / name, filter="data")
    return tmp / name


def start(script: Path, root: Path, args: list[str], cwd: Path) -> subprocess.Popen:
    """``script`` with ``args`` in a new process importing ``imugait`` from ``root``, BLAS on one
    thread; its stdout and stderr piped."""
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{ROOT / 'benchmarks'}", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    # Not from the checkout's folder: the working directory would come first on sys.path.
    return subprocess.Popen([sys.executable, str(Path(script).resolve()), *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd)


def result(root: Path, process: subprocess.Popen) -> dict:
    """The JSON the process printed last, once it has ended; an error if it failed or imported
    ``imugait`` from elsewhere than ``root`` (its result says where: key ``imugait``)."""
    stdout, stderr = process.communicate()
    if process.returncode:
        raise RuntimeError(f"the run with {root} failed:\n{stderr[-3000:]}")
    out = json.loads(stdout.strip().splitlines()[-1])
    if not Path(out["imugait"]).resolve().is_relative_to(root.resolve()):
        raise RuntimeError(f"the run meant for {root} imported {out['imugait']}")
    return out
