"""Suite-wide set-up: linear algebra on one thread.

numpy and scipy use OpenBLAS, which by default starts a thread per core for every call. The suite's
matrices are small (a joint-centre fit's Jacobian is 9000 × 8), and on a 2-core machine running
the suite beside other work those threads wait on each other: one such SVD took 140 ms instead of
3 ms, and assessing a 2-minute prone session 56 CPU-s instead of 1.9 (measured, issue 13). Only
takes effect before numpy is first imported, hence here (subprocesses the tests start inherit it).
"""

from __future__ import annotations

import os
import sys

from imugait.cli import one_blas_thread  # imports no numpy

one_blas_thread()
if "numpy" in sys.modules:  # pragma: no cover — a plugin imported numpy first: the setting is too late
    sys.stderr.write("tests/conftest.py: numpy was imported before the BLAS thread count was set\n")

# IMUGAIT_TEST_EVENT_LOOP=uvloop runs every test's event loop (asyncio.run) on uvloop, the loop the
# live commands run on where it is installed (imugait.live.run.run_event_loop); unset, asyncio's.
if os.environ.get("IMUGAIT_TEST_EVENT_LOOP") == "uvloop":
    import asyncio

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
