"""The live commands' event loop (:func:`imugait.live.run.run_event_loop`): uvloop's where installed, else asyncio's."""

import asyncio
import gc
import sys

import pytest

from imugait.live.run import run_event_loop


async def _loop_and(value):
    await asyncio.sleep(0.001)  # a timer, then a thread: what a live run uses besides its readers
    echoed = await asyncio.to_thread(lambda: value)
    return type(asyncio.get_running_loop()), echoed


def test_runs_on_uvloop_where_it_is_installed():
    uvloop = pytest.importorskip("uvloop")
    loop_type, value = run_event_loop(_loop_and(42))
    assert loop_type is uvloop.Loop
    assert value == 42


def test_falls_back_to_asyncio_without_uvloop(monkeypatch):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    policy = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(None)  # asyncio's own (the suite may run on uvloop's: tests/conftest.py)
    try:
        loop_type, value = run_event_loop(_loop_and("x"))
    finally:
        asyncio.set_event_loop_policy(policy)
    assert issubclass(loop_type, asyncio.BaseEventLoop)
    assert loop_type.__module__.startswith("asyncio")
    assert value == "x"


def test_an_exception_comes_out_as_from_asyncio_run():
    async def fails():
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        run_event_loop(fails())


async def _freeze_count():
    await asyncio.sleep(0)
    return gc.get_freeze_count()


def test_the_heap_is_frozen_during_the_run_and_thawed_after():
    assert gc.get_freeze_count() == 0
    kept = [[] for _ in range(100)]  # objects alive when the loop starts
    frozen = run_event_loop(_freeze_count())
    assert frozen >= len(kept)  # left out of the collector's passes during the run
    assert gc.get_freeze_count() == 0  # collected as usual again after it


def test_a_heap_frozen_by_the_caller_is_left_frozen():
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        assert run_event_loop(_freeze_count()) == before
        assert gc.get_freeze_count() == before
    finally:
        gc.unfreeze()


def test_a_full_collection_during_the_run_skips_what_existed_before():
    alive = [{"n": k} for k in range(20_000)]  # tracked containers made before the run

    async def collected_and_tracked():
        await asyncio.sleep(0)
        gc.collect()
        return len(gc.get_objects())

    tracked_during = run_event_loop(collected_and_tracked())
    # (CPython's gc.get_objects lists the collected generations, not the frozen ones)
    assert tracked_during < len(alive)  # the pass did not look at them
    assert len(gc.get_objects()) >= len(alive)  # back in the collector's generations after it
