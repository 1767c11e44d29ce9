"""Serial transport over pseudo-terminal pairs: order, no loss, unplug/replug, discovery."""

import asyncio
import contextlib
import random
import threading
import time

import pytest
from transport_helpers import Recorder, RecordingBackoff, run

from imugait.emulate.pty_pair import PtyPair
from imugait.transport.link import Backoff, DeviceDisconnected, LinkState, TransportError
from imugait.transport.serial import (
    SerialTransport,
    list_serial_ports,
    register_port,
    unregister_port,
)

FAST = Backoff(initial_s=0.01, factor=2.0, max_s=0.1)


@pytest.fixture
def device():
    with PtyPair() as pty:
        yield pty


@pytest.fixture(params=[True, False], ids=["on-loop", "thread"])
def read_on_loop(request):
    """Each pty test runs both ways of reading: on the event loop (the default for a port with a
    descriptor) and in a reader thread (ports without one)."""
    return request.param


@pytest.fixture(params=[False, True], ids=["iterated", "handler"])
def direct(request):
    """Chunks taken through the iterator only, or handed to a handler while the consumer waits
    (``handle_chunks_with``, as live acquisition does)."""
    return request.param


def _random_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def test_bytes_written_in_random_pieces_arrive_in_order_without_loss(device, read_on_loop, direct):
    rng = random.Random(7)
    payload = _random_bytes(rng, 60_000)

    async def scenario():
        async with SerialTransport(device.path, baud_rate=921_600, read_on_loop=read_on_loop) as link:
            rec = Recorder(link, direct=direct)
            pieces, sent = [], 0
            while sent < len(payload):
                n = rng.randint(1, 700)
                pieces.append(payload[sent : sent + n])
                sent += n
            # The "device" writes from its own thread: a full pty buffer must block it, not us.
            await asyncio.to_thread(lambda: [device.write(p) for p in pieces])
            await rec.wait_for(lambda: len(rec.data) >= len(payload))
        await rec.finished()
        return rec, link

    rec, link = run(scenario())
    assert rec.data == payload
    assert rec.states() == [LinkState.CONNECTED, LinkState.CLOSED]
    assert link.bytes_received == len(payload)
    assert (rec.n_direct > 0) == direct


class _BurstPort:
    """A port on which each burst (bytes a device wrote at once) arrives while the reader waits
    for a first byte: ``read(1)`` returns that byte, ``in_waiting`` then counts the rest."""

    def __init__(self, bursts: list[bytes]) -> None:
        self._bursts = list(bursts)
        self._arrived = b""

    @property
    def in_waiting(self) -> int:
        return len(self._arrived)

    def read(self, size: int) -> bytes:
        if not self._arrived and self._bursts:
            self._arrived = self._bursts.pop(0)
        out, self._arrived = self._arrived[:size], self._arrived[size:]
        if not out:
            time.sleep(0.01)  # the read timeout: nothing came
        return out

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("read_chunk_bytes", "sizes"), [(4096, [90, 50]), (64, [64, 26, 50])])
def test_a_burst_is_handed_over_whole_not_as_its_first_byte_then_the_rest(read_chunk_bytes, sizes):
    """A frame written at once wakes the reader thread with its first byte; the rest is already
    waiting and goes in the same chunk (up to ``read_chunk_bytes``): one hand-over per frame.
    (A port without a descriptor, as this one, is read in a thread.)"""
    bursts = [bytes(range(1, 91)), bytes(range(100, 150))]

    async def scenario():
        link = SerialTransport("burst-port", read_chunk_bytes=read_chunk_bytes)
        link._open_port = lambda: _BurstPort(bursts)
        async with link:
            rec = Recorder(link)
            await rec.wait_for(lambda: len(rec.data) >= 140)
        await rec.finished()
        return rec

    rec = run(scenario())
    chunks = [item for item in rec.items if isinstance(item, bytes)]
    assert rec.data == b"".join(bursts)
    assert [len(c) for c in chunks] == sizes


def test_a_stalled_consumer_holds_the_reader_back_and_nothing_is_dropped(device, read_on_loop):
    """With room for 2 chunks and a consumer that takes nothing for a while, reading pauses (the
    pty buffer fills) instead of dropping; then everything arrives in order."""
    rng = random.Random(11)
    payload = _random_bytes(rng, 20_000)
    pieces = [payload[k:k + 100] for k in range(0, len(payload), 100)]

    async def scenario():
        async with SerialTransport(device.path, baud_rate=921_600, queue_size=2, read_chunk_bytes=100,
                                   read_on_loop=read_on_loop) as link:
            writer = asyncio.ensure_future(asyncio.to_thread(lambda: [device.write(p) for p in pieces]))
            async with asyncio.timeout(60.0):  # a hang guard: the channel fills, nobody takes from it
                while link._channel._n_chunks < 2:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the consumer stalls on: the reader must wait, not drop
            held = link._channel._n_chunks
            rec = Recorder(link)
            await writer
            await rec.wait_for(lambda: len(rec.data) >= len(payload))
        await rec.finished()
        return rec, link, held

    rec, link, held = run(scenario())
    assert held == 2  # full, never over
    assert rec.data == payload and link._channel.dropped_chunks == 0
    assert rec.states() == [LinkState.CONNECTED, LinkState.CLOSED]


@contextlib.asynccontextmanager
async def ticking(link: SerialTransport, period_s: float = 0.005):
    """Call ``link.read_waiting()`` every ``period_s`` while inside (the push loop's part); a
    port read at readiness or in a thread reads nothing there."""
    read: list[int] = []

    async def tick() -> None:
        while True:
            read.append(link.read_waiting())
            await asyncio.sleep(period_s)

    task = asyncio.ensure_future(tick())
    try:
        yield read
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.parametrize("at_tick", [False, True], ids=["watched", "at-tick"])
def test_unplug_and_replug_reports_the_outage_and_loses_nothing(device, read_on_loop, direct, at_tick):
    before, after = b"before-" * 500, b"after-" * 700
    unplugged_s = 0.25
    backoff = RecordingBackoff(initial_s=FAST.initial_s, factor=FAST.factor, max_s=FAST.max_s)

    async def scenario():
        async with (SerialTransport(device.path, backoff=backoff, read_on_loop=read_on_loop, watch=not at_tick) as link,
                    ticking(link)):
            rec = Recorder(link, direct=direct)
            await asyncio.to_thread(device.write, before)
            await rec.wait_for(lambda: len(rec.data) == len(before))
            device.unplug()
            await rec.wait_for(lambda: LinkState.RECONNECTING in rec.states())
            assert link.state is LinkState.RECONNECTING
            with pytest.raises(DeviceDisconnected, match="reconnecting"):
                await link.write(b"cmd")
            await asyncio.sleep(unplugged_s)
            # Out at least that long and until an attempt has failed (the transport's thread
            # may be slow to get there on a loaded machine): it asks a second wait after it.
            await rec.wait_for(lambda: len(backoff.asked_s) >= 2)
            device.replug()
            await rec.wait_for(lambda: rec.states().count(LinkState.CONNECTED) == 2)
            assert (link._watched_fd is None) == at_tick or not read_on_loop  # reopened, watched as before
            await asyncio.to_thread(device.write, after)
            await rec.wait_for(lambda: len(rec.data) == len(before) + len(after))
        await rec.finished()
        return rec, link

    rec, link = run(scenario())
    assert rec.data == before + after
    assert rec.states() == [
        LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CONNECTED, LinkState.CLOSED
    ]
    # Every byte from before the unplug comes before the outage events, every later byte after.
    i_down = rec.items.index(rec.events[1])
    i_up = rec.items.index(rec.events[2])
    assert b"".join(x for x in rec.items[:i_down] if isinstance(x, bytes)) == before
    assert b"".join(x for x in rec.items[i_up:] if isinstance(x, bytes)) == after
    back = rec.events[2]
    assert back.down_s >= unplugged_s
    # Every wait between attempts the back-off's, growing geometrically to max_s, never longer
    # (measured down times only have a lower bound: a loaded machine stretches them).
    asked = backoff.asked_s
    assert len(asked) == back.attempt
    assert asked == [min(FAST.max_s, FAST.initial_s * FAST.factor ** k) for k in range(len(asked))]
    assert back.t_s - rec.events[1].t_s == pytest.approx(back.down_s)
    assert back.attempt > 1  # it had to retry while the cable was out
    assert link.reconnects == 1
    assert (rec.n_direct > 0) == direct


def _serial_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("imugait-serial-")]


@pytest.mark.parametrize(("port", "threads"), [("pty", 0), ("loop://", 1)])
def test_a_port_with_a_descriptor_is_read_on_the_loop_others_in_a_thread(device, port, threads):
    """A pty (as every POSIX serial device) has a descriptor the loop watches: no reader thread;
    ``loop://`` has none and gets one."""

    async def scenario():
        async with SerialTransport(device.path if port == "pty" else port) as link:
            rec = Recorder(link)
            if port == "pty":
                await asyncio.to_thread(device.write, b"frame")
            else:
                await link.write(b"frame")
            await rec.wait_for(lambda: rec.data == b"frame")
            running = _serial_threads()
        await rec.finished()
        return running

    assert len(run(scenario())) == threads


def test_closing_while_reconnecting_ends_the_stream_cleanly(device, read_on_loop):
    """Closed during the back-off after an unplug: the stream ends with ``CLOSED``, no error, and
    no attempt goes on after it."""
    backoff = RecordingBackoff(initial_s=0.05, factor=1.0, max_s=0.05)

    async def scenario():
        async with SerialTransport(device.path, backoff=backoff, read_on_loop=read_on_loop) as link:
            rec = Recorder(link)
            await asyncio.to_thread(device.write, b"kept")
            await rec.wait_for(lambda: rec.data == b"kept")
            device.unplug()
            await rec.wait_for(lambda: LinkState.RECONNECTING in rec.states())
            await asyncio.sleep(0.12)  # an attempt or two fail while the cable is out
        await rec.finished()
        asked = len(backoff.asked_s)
        await asyncio.sleep(0.2)
        return rec, link, asked

    rec, link, asked = run(scenario())
    assert rec.data == b"kept" and rec.error is None
    assert rec.states() == [LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CLOSED]
    assert len(backoff.asked_s) == asked  # nothing retried after the close
    assert link.state is LinkState.CLOSED and not _serial_threads()


def test_an_unexpected_error_while_reopening_counts_as_a_failed_attempt(device, read_on_loop):
    """A reopen that fails with anything (here a RuntimeError, as ``termios.error`` from a port
    configured while it vanishes would be) is one failed attempt: the transport goes on trying and
    the link comes back, instead of its recovery dying and the port never being read again."""
    attempts = []

    async def scenario():
        link = SerialTransport(device.path, backoff=FAST, read_on_loop=read_on_loop)
        opener = link._open_port

        def flaky():
            attempts.append(1)
            if len(attempts) == 2:  # the first attempt after the unplug
                raise RuntimeError("the port went away while it was configured")
            return opener()

        link._open_port = flaky
        async with link:
            rec = Recorder(link)
            await asyncio.to_thread(device.write, b"before")
            await rec.wait_for(lambda: rec.data == b"before")
            device.unplug()
            device.replug()
            await rec.wait_for(lambda: rec.states().count(LinkState.CONNECTED) == 2)
            await asyncio.to_thread(device.write, b"after")
            await rec.wait_for(lambda: rec.data == b"beforeafter")
        await rec.finished()
        return rec

    rec = run(scenario())
    assert rec.states() == [LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CONNECTED, LinkState.CLOSED]
    assert rec.events[2].attempt == 2 and len(attempts) == 3


def test_commands_reach_the_device(device, read_on_loop):
    async def scenario():
        async with SerialTransport(device.path, read_on_loop=read_on_loop) as link:
            await link.write(b"\xff\xaa\x03\x0b\x00")
            return await asyncio.to_thread(device.read, 64, 2.0)

    assert run(scenario()) == b"\xff\xaa\x03\x0b\x00"


def test_gives_up_after_max_attempts_and_says_so(device, read_on_loop):
    async def scenario():
        backoff = Backoff(initial_s=0.01, max_s=0.02, max_attempts=3)
        async with SerialTransport(device.path, backoff=backoff, read_on_loop=read_on_loop) as link:
            rec = Recorder(link)
            device.write(b"kept")
            await rec.wait_for(lambda: rec.data == b"kept")
            device.unplug()
            await rec.finished()
        return rec

    rec = run(scenario())
    assert rec.data == b"kept"
    assert rec.states() == [LinkState.CONNECTED, LinkState.RECONNECTING, LinkState.CLOSED]
    assert isinstance(rec.error, DeviceDisconnected)
    assert "3 attempts" in str(rec.error) and "re-plug" in str(rec.error)


def test_opening_a_missing_port_names_it_and_lists_the_ports_present(device):
    missing = device.path + "-missing"

    async def scenario():
        async with SerialTransport(missing):
            pass

    with pytest.raises(TransportError, match="Ports present") as info:
        run(scenario())
    assert missing in str(info.value)


def test_port_discovery_lists_a_registered_pty(device):
    register_port(device.path, "emulated IMU")
    try:
        ports = {p.path: p for p in list_serial_ports()}
        assert ports[device.path].description == "emulated IMU"
    finally:
        unregister_port(device.path)
    assert device.path not in {p.path for p in list_serial_ports()}


def test_loop_url_works_without_any_device():
    async def scenario():
        async with SerialTransport("loop://") as link:
            rec = Recorder(link)
            await link.write(b"echo")
            await rec.wait_for(lambda: rec.data == b"echo")
        return rec

    assert run(scenario()).data == b"echo"


def test_a_direct_read_of_a_readable_descriptor_keeps_pyserials_answers():
    """On the loop a non-blocking port is read with one ``os.read`` instead of pyserial's ``read``
    (its ``select`` is the loop's): what is waiting comes back up to a chunk, a wake-up with
    nothing to read gives nothing, and a descriptor that is readable but has nothing (the device
    went away) or fails to read raises pyserial's ``SerialException``, which the loop's reader
    takes as a lost link."""
    import os

    import serial

    transport = SerialTransport("/dev/null", read_chunk_bytes=4)
    r, w = os.pipe()
    os.set_blocking(r, False)
    try:
        assert transport._read_waiting(r) == b""  # nothing waiting (EAGAIN): a spurious wake-up
        os.write(w, b"abcdef")
        assert transport._read_waiting(r) == b"abcd"  # at most a chunk
        assert transport._read_waiting(r) == b"ef"
        os.close(w)
        w = -1
        with pytest.raises(serial.SerialException, match="readiness to read but returned no data"):
            transport._read_waiting(r)  # end of file: the device went away
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    folder = os.open(".", os.O_RDONLY)
    try:
        with pytest.raises(serial.SerialException, match="read failed"):
            transport._read_waiting(folder)  # a read that fails (EISDIR)
    finally:
        os.close(folder)


def test_a_port_opened_non_blocking_is_read_directly_on_the_loop(device):
    async def scenario():
        async with SerialTransport(device.path, baud_rate=921_600) as link:
            rec = Recorder(link)
            device.write(b"hello")
            await rec.wait_for(lambda: len(rec.data) >= 5)
            direct = link._read_fd is not None and link._read_fd == link._watched_fd
        await rec.finished()
        return rec, direct

    rec, direct = run(scenario())
    assert rec.data == b"hello" and direct


# -- read at the caller's tick (watch=False), as live acquisition reads at the push tick -------------


def test_read_at_the_tick_bytes_arrive_in_order_without_loss_and_only_when_read(device, direct):
    rng = random.Random(17)
    payload = _random_bytes(rng, 60_000)
    pieces, sent = [], 0
    while sent < len(payload):
        n = rng.randint(1, 700)
        pieces.append(payload[sent:sent + n])
        sent += n

    async def scenario():
        async with SerialTransport(device.path, baud_rate=921_600, watch=False) as link:
            rec = Recorder(link, direct=direct)
            await asyncio.to_thread(device.write, b"waiting")
            await asyncio.sleep(0.1)
            unread = list(rec.items)  # not watched: nothing is read until the tick
            assert link.read_waiting() == len(b"waiting")
            await rec.wait_for(lambda: len(rec.data) == len(b"waiting"))
            async with ticking(link) as reads:
                await asyncio.to_thread(lambda: [device.write(p) for p in pieces])
                await rec.wait_for(lambda: len(rec.data) == len(b"waiting") + len(payload))
            assert link.read_waiting() == 0  # nothing left, and an empty port is no lost link
        await rec.finished()
        return rec, link, unread, reads

    rec, link, unread, reads = run(scenario())
    assert [i for i in unread if isinstance(i, bytes)] == []
    assert rec.data == b"waiting" + payload
    assert sum(reads) == len(payload) and link._channel.dropped_chunks == 0
    assert rec.states() == [LinkState.CONNECTED, LinkState.CLOSED]
    assert (rec.n_direct > 0) == direct
    assert link.bytes_received == len(b"waiting") + len(payload)


def test_read_at_the_tick_stops_at_a_full_channel_and_drops_nothing(device):
    payload = bytes(range(256)) * 40

    async def scenario():
        async with SerialTransport(device.path, queue_size=2, read_chunk_bytes=100, watch=False) as link:
            await asyncio.to_thread(device.write, payload)
            await asyncio.sleep(0.1)
            first = link.read_waiting()  # two chunks fit; the rest waits in the kernel
            rec = Recorder(link)
            async with ticking(link):
                await rec.wait_for(lambda: len(rec.data) == len(payload))
        await rec.finished()
        return rec, link, first

    rec, link, first = run(scenario())
    assert first == 200
    assert rec.data == payload and link._channel.dropped_chunks == 0


def test_a_watched_port_is_not_read_by_read_waiting(device):
    async def scenario():
        async with SerialTransport(device.path) as link:
            rec = Recorder(link)
            await asyncio.to_thread(device.write, b"abc")
            await rec.wait_for(lambda: rec.data == b"abc")
            return link.read_waiting()

    assert run(scenario()) == 0
