"""The legs' live calibrations run by an executor (``LiveKinematics(calibrate_with=...)``): the jobs
under way, the retries their failure would run, and when one is waited for.

A job (:class:`~imugait.live.leg_start.LegJob`) is decided at a grid row ``k`` and its leg started
from that row once it has returned, so the results do not depend on how long it took. Nothing
needs its result before then: a leg being calibrated is looked at as if its calibration had failed
(:meth:`CalibrationJobs.counts_from`), and the job that would then be decided is kept and run only
if it fails (:meth:`CalibrationJobs.decide`, :meth:`CalibrationJobs.returned`). A job is waited for
only once it is ``n_max_lag`` grid rows behind (the leg catching up reads the grid back from the
rows it takes: :data:`~imugait.live.flow.MAX_LAG_SHARE`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future

from imugait.conventions import Side
from imugait.live.leg_start import LegJob, LegStart, start_leg


class CalibrationJobs:
    """The jobs of ``executor`` for the legs ``sides`` (in this order when decided at one row),
    waited for ``n_max_lag`` grid rows after their row."""

    def __init__(self, executor: Executor, sides: Sequence[Side], n_max_lag: int) -> None:
        self.executor = executor
        self.n_max_lag = n_max_lag
        self._order = {side: i for i, side in enumerate(sides)}
        self.running: dict[Side, tuple[int, Future]] = {}
        """The legs being calibrated: (the grid row their job was decided at, the job), in the order decided."""
        self.retries: dict[Side, list[LegJob]] = {}
        """Per leg being calibrated, the jobs its failure would have run (each if the one before fails)."""

    def counts_from(self, side: Side, after_failure: int) -> int:
        """The grid row from which a leg's calibration walk counts: ``after_failure`` (its last
        failed calibration's row, or 0) — for a leg being calibrated, as if its job and the retries
        kept for it failed."""
        if side in self.retries:
            return self.retries[side][-1].k
        if side in self.running:
            return self.running[side][0]
        return after_failure

    def decide(self, job: LegJob) -> None:
        """Run ``job`` — or, its leg being calibrated, keep it as the retry its failure would run."""
        if job.side in self.running:
            self.retries.setdefault(job.side, []).append(job)
        else:
            self.running[job.side] = (job.k, self.executor.submit(start_leg, job))

    def must_wait(self, k: int, k_next: int) -> bool:
        """Whether a job decided at grid row ``k`` is waited for before the grid holds row ``k_next``."""
        return k_next - k > self.n_max_lag

    def returned(self, k_next: int | None) -> Iterator[tuple[LegStart, int | None]]:
        """The jobs that have returned, in the order decided — waiting for one that would otherwise
        fall too far behind before the grid holds row ``k_next`` (None: for every one): each one's
        start, with the grid row of the retry its failure runs now (None: none)."""
        while self.running:
            side, (k, future) = next(iter(self.running.items()))
            if not future.done() and k_next is not None and not self.must_wait(k, k_next):
                return
            del self.running[side]
            start = future.result()
            retries = self.retries.pop(side, [])
            if start.leg is not None or not retries:
                yield start, None
                continue
            retry, *later = retries
            if later:
                self.retries[side] = later
            self.running[side] = (retry.k, self.executor.submit(start_leg, retry))
            self.running = dict(sorted(self.running.items(), key=lambda item: (item[1][0], self._order[item[0]])))
            yield start, retry.k

    def clear(self) -> None:
        """Drop every job (what they return is not looked at)."""
        self.running, self.retries = {}, {}
