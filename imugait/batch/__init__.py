"""Many sessions at once, on a local Dask cluster or an existing one (``docs/batch.md``).

>>> from imugait.batch import collect_inputs, dask_client, run_batch, TaskSettings  # doctest: +SKIP
>>> with dask_client(workers=2) as client:                                           # doctest: +SKIP
...     run_batch(client, collect_inputs(["sessions/"]), TaskSettings(Path("out")))

Modules: ``inputs`` (sessions, folders, manifests), ``task`` (one session on a worker),
``outputs`` (the output folder and its tables), ``run`` (what to do, submit, gather),
``cluster`` (the Dask client), ``cohort`` (the cohort summary page).
"""

from imugait.batch.cluster import dask_client
from imugait.batch.cohort import cohort_distributions, write_cohort_html
from imugait.batch.inputs import BatchInput, collect_inputs, read_manifest
from imugait.batch.outputs import errors_table, read_records, read_strides, summary_table
from imugait.batch.run import BatchReport, finish, pending, run_batch
from imugait.batch.task import TaskSettings, run_session

__all__ = [
    "BatchInput",
    "BatchReport",
    "TaskSettings",
    "cohort_distributions",
    "collect_inputs",
    "dask_client",
    "errors_table",
    "finish",
    "pending",
    "read_manifest",
    "read_records",
    "read_strides",
    "run_batch",
    "run_session",
    "summary_table",
    "write_cohort_html",
]
