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


def test_channel_put_waits_for_room_instead_of_dropping():
    async def scenario():
        channel = Channel(maxsize=2)
        writer = asyncio.ensure_future(_put_all(channel, [bytes([i]) for i in range(10)]))
        got = []
        while len(got) < 10:
            got.append(await channel.get())
        await writer
        return channel, got

    channel, got = run(scenario())
    assert got == [bytes([i]) for i in range(10)]
    assert channel.dropped_chunks == 0


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


async def _put_all(channel, chunks):
    for chunk in chunks:
        await channel.put(chunk)
