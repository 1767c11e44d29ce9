"""The shared pieces: the bounded channel and the back-off policy."""

import asyncio

import pytest
from transport_helpers import run

from imugait.transport.link import Backoff, Channel, LinkEvent, LinkState


def test_channel_drops_newest_chunks_when_full_but_never_events():
    async def scenario():
        channel = Channel(maxsize=3)
        accepted = [channel.put_nowait(bytes([i])) for i in range(5)]
        channel.put_event(LinkEvent(LinkState.RECONNECTING, 1.0))
        channel.close()
        items = [item async for item in _drain(channel)]
        return accepted, channel, items

    accepted, channel, items = run(scenario())
    assert accepted == [True, True, True, False, False]
    assert (channel.dropped_chunks, channel.dropped_bytes) == (2, 2)
    assert items[:3] == [b"\x00", b"\x01", b"\x02"]
    assert items[3].state is LinkState.RECONNECTING


def test_a_full_channel_drops_and_counts_and_each_chunk_taken_is_reported():
    """A full channel drops a chunk and counts it (a producer in another thread reserves room
    first: ``on_chunk_taken`` gives a place back each time the consumer takes a chunk)."""
    taken = []

    async def scenario():
        channel = Channel(maxsize=2, on_chunk_taken=lambda: taken.append(1))
        assert channel.put_nowait(b"a") and channel.put_nowait(b"b")
        assert not channel.put_nowait(b"c")
        got = [await channel.get(), await channel.get()]
        assert channel.put_nowait(b"d")
        got.append(await channel.get())
        return channel, got

    channel, got = run(scenario())
    assert got == [b"a", b"b", b"d"]
    assert channel.dropped_chunks == 1 and channel.dropped_bytes == 1 and len(taken) == 3


def test_channel_raises_the_close_error_after_delivering_queued_items():
    async def scenario():
        channel = Channel(maxsize=4)
        channel.put_nowait(b"last words")
        channel.close(RuntimeError("gone"))
        first = await channel.get()
        with pytest.raises(RuntimeError, match="gone"):
            await channel.get()
        return first

    assert run(scenario()) == b"last words"


def test_chunks_handed_over_together_are_taken_in_one_wake_of_the_consumer():
    """``get`` waits only when the channel is empty: chunks a reader thread handed over in one
    batch are all taken before the consumer task yields — no task switch per chunk."""

    async def scenario():
        channel = Channel(maxsize=8)
        taken: list[bytes] = []

        async def consume() -> None:
            async for item in _drain(channel):
                taken.append(item)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)  # the consumer now waits on the empty channel
        for chunk in (b"a", b"b", b"c"):
            channel.put_nowait(chunk)
        await asyncio.sleep(0)  # the consumer runs once
        after_one_wake = list(taken)
        channel.close()
        await task
        return after_one_wake

    assert run(scenario()) == [b"a", b"b", b"c"]


def test_backoff_grows_exponentially_up_to_its_cap():
    backoff = Backoff(initial_s=0.1, factor=2.0, max_s=0.5, max_attempts=4)
    assert [backoff.delay_s(n) for n in range(5)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert not backoff.exhausted(3) and backoff.exhausted(4)
    with pytest.raises(ValueError, match="initial_s"):
        Backoff(initial_s=0.0)


async def _drain(channel):
    while True:
        try:
            yield await channel.get()
        except StopAsyncIteration:
            return


def test_a_chunk_put_while_the_consumer_waits_goes_to_the_handler_in_order_with_events():
    """With ``handle_chunks_with``, a chunk put while the consumer waits on the empty channel is
    handled in the put (counted as taken); a chunk put behind a queued link event, or while the
    consumer is busy with an item, queues behind it: one order, as without the handler."""
    order: list[object] = []
    taken: list[int] = []

    async def scenario():
        channel = Channel(maxsize=4, on_chunk_taken=lambda: taken.append(1))
        channel.handle_chunks_with(lambda chunk: order.append(("handled", chunk)))
        assert channel.put_nowait(b"early")  # no consumer waiting yet: queued
        release = asyncio.Event()

        async def consume() -> None:
            async for item in _drain(channel):
                order.append(("task", item if isinstance(item, bytes) else item.state))
                if isinstance(item, LinkEvent):
                    await release.wait()  # busy with the event (a command written, say)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)  # takes b"early", then waits on the empty channel
        assert channel.put_nowait(b"a") and channel.put_nowait(b"b")  # handled at once
        direct = list(order)
        channel.put_event(LinkEvent(LinkState.CONNECTED, 1.0))
        assert channel.put_nowait(b"behind the event")  # queued: the event comes first
        await asyncio.sleep(0)  # the consumer takes the event and waits on `release`
        assert channel.put_nowait(b"while busy")  # queued: the consumer is not waiting
        release.set()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert channel.put_nowait(b"c")  # waiting again: handled at once
        channel.close()
        await task
        return direct

    direct = run(scenario())
    assert direct == [("task", b"early"), ("handled", b"a"), ("handled", b"b")]
    assert order == [("task", b"early"), ("handled", b"a"), ("handled", b"b"), ("task", LinkState.CONNECTED),
                     ("task", b"behind the event"), ("task", b"while busy"), ("handled", b"c")]
    assert len(taken) == 6  # every chunk, whichever way it was taken


def test_what_the_chunk_handler_raises_the_consumer_raises_and_later_chunks_queue():
    async def scenario():
        channel = Channel(maxsize=4)

        def handler(chunk: bytes) -> None:
            raise ValueError(f"cannot decode {chunk!r}")

        channel.handle_chunks_with(handler)
        got: list[bytes] = []

        async def consume() -> None:
            async for item in _drain(channel):
                got.append(item)

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        assert channel.put_nowait(b"bad")
        assert channel.put_nowait(b"next")  # the consumer is ending: queued, not handled
        with pytest.raises(ValueError, match="cannot decode b'bad'"):
            await task
        return got, channel

    got, channel = run(scenario())
    assert got == []
    # b"next" holds one of the four places: three more fit, the fourth is dropped
    assert [channel.put_nowait(bytes([i])) for i in range(4)] == [True, True, True, False]
