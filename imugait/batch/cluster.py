"""The Dask client a batch run submits to: a local cluster of processes, or an existing cluster."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from imugait._optional import require
from imugait.errors import ImugaitError, ValidationError


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[object]:
    """A ``distributed.Client``, closed (with its local cluster) on exit.

    Parameters
    ----------
    scheduler : address of a running scheduler (``tcp://host:8786``); None starts a
        ``LocalCluster`` of worker **processes**, one thread each (the analysis is CPU-bound
        Python and NumPy: processes, not threads, run it in parallel).
    workers : number of local worker processes (default: one per CPU core). Not used with
        ``scheduler``: an existing cluster has the workers it has.

    Workers import imugait themselves: on a cluster they need the same imugait version, and the
    inputs and the output folder at the same paths (a shared file system).

    Local workers start without Dask's default ``MALLOC_TRIM_THRESHOLD_=65536``: with it glibc
    returns every large temporary array to the system at once, and the analysis (many
    session-long NumPy temporaries) then costs ≈ 30 % more CPU (measured: 1.07 → 1.37 s per
    5-min session). One BLAS/OpenMP thread per worker is kept.
    """
    distributed = require("distributed", "batch", "imugait batch (Dask)")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if scheduler is not None and workers is not None:
        raise ValidationError("--workers starts a local cluster; with --scheduler the cluster has its own workers")
    if workers is not None and workers < 1:
        raise ValidationError(f"--workers must be at least 1, got {workers}")
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            import dask

            environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                       if k != "MALLOC_TRIM_THRESHOLD_"}
            stack.enter_context(dask.config.set({"distributed.nanny.pre-spawn-environ": environ}))
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
            ))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout="20s"))
            except (OSError, TimeoutError) as exc:
                raise ImugaitError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        yield client
