"""The live commands' event loop (:func:`imugait.live.run.run_event_loop`): uvloop's where installed, else asyncio's."""

import asyncio
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
