"""Takes (recordings started and stopped during a live run): a take written as a session, the
next in a numbered folder, and a take that ended before any sample arrived."""

from __future__ import annotations

import numpy as np

from imugait.acquisition.recorder import LOG_NAME
from imugait.conventions import Placement
from imugait.io.native import read_session
from imugait.live.takes import Takes
from imugait.protocol.messages import SampleBlock

RATE_HZ = 100.0


class _Clock:
    def __init__(self) -> None:
        self.t_s = 1000.0

    def __call__(self) -> float:
        return self.t_s


def _block(k0: int, n: int) -> SampleBlock:
    seq = np.arange(k0, k0 + n, dtype=np.int64)
    return SampleBlock(seq=seq, t_device_us=(seq * 1e6 / RATE_HZ).astype(np.int64),
                       acc_mps2=np.tile([0.0, 0.0, 9.81], (n, 1)), gyr_radps=np.zeros((n, 3)))


def _stream(takes: Takes, clock: _Clock, k0: int, n_blocks: int, per_block: int = 10) -> None:
    for b in range(n_blocks):
        clock.t_s += per_block / RATE_HZ
        for p in (Placement.LEFT_THIGH, Placement.LEFT_SHANK):
            takes.handle(p, _block(k0 + b * per_block, per_block))


def test_takes_are_sessions_in_numbered_folders(tmp_path):
    clock = _Clock()
    takes = Takes(tmp_path / "take", clock)
    _stream(takes, clock, 0, 5)  # streamed before any take: not recorded
    takes.start()
    _stream(takes, clock, 50, 30)
    first = takes.stop()
    takes.start()
    _stream(takes, clock, 350, 20)
    second = takes.stop()
    assert first == tmp_path / "take" / "session.parquet" and second == tmp_path / "take-2" / "session.parquet"
    assert read_session(first)[Placement.LEFT_THIGH].n_samples == 300
    assert read_session(second)[Placement.LEFT_SHANK].n_samples == 200
    assert takes.sessions == [first, second] and takes.error == ""


def test_a_take_that_ended_before_any_sample_is_no_error_that_stops_the_run(tmp_path):
    clock = _Clock()
    takes = Takes(tmp_path / "take", clock)
    takes.start()
    clock.t_s += 1.0
    assert takes.stop() is None  # before: "no sensor delivered at least 2 samples" raised out of stop()
    assert "ended before it held samples" in takes.error and "no session was written" in takes.error
    assert not takes.active and takes.sessions == []
    assert (tmp_path / "take" / LOG_NAME).exists()  # the take's log is kept (devices, marks)
    # the next take records normally, in the next folder; closing the run with an empty take running is quiet too
    takes.start()
    _stream(takes, clock, 0, 10)
    assert takes.stop() == tmp_path / "take-2" / "session.parquet"
    takes.start()
    takes.close()
    assert "ended before it held samples" in takes.error and len(takes.sessions) == 1
