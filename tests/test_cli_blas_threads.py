"""The command line runs linear algebra on one thread unless the user chose otherwise (set before
numpy is imported; see ``imugait.cli.one_blas_thread``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = ("import os; "
         "from imugait.cli import one_blas_thread; one_blas_thread(); import numpy; "
         "print(os.environ['OPENBLAS_NUM_THREADS'], os.environ['OMP_NUM_THREADS'])")


def _probe(env_overrides: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.update(env_overrides)
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_one_thread_by_default():
    assert _probe({}) == "1 1"


@pytest.mark.parametrize("value", ["2", "4"])
def test_a_users_choice_is_kept(value):
    assert _probe({"OPENBLAS_NUM_THREADS": value}) == f"{value} 1"


def test_the_cli_sets_it_before_any_command_imports_numpy():
    probe = ("import sys\nfrom imugait.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
             "import os\nprint('numpy' in sys.modules, os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    numpy_imported, value = done.stdout.splitlines()[-1].split()  # after the version line
    assert value == "1" and numpy_imported == "True"  # the commands were loaded, numpy with them
