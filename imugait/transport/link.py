"""What every transport shares: link states, link events, back-off, errors, the bounded channel.

A transport is an async iterator of ``bytes | LinkEvent``: byte chunks exactly as they came off
the wire, interleaved — in arrival order — with events that say when the link went down and came
back. Transports know nothing of frames; a decoder downstream consumes the bytes and acquisition
uses the events to account for the gap.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

from imugait.errors import ImugaitError


class TransportError(ImugaitError):
    """A link that cannot be opened or used (no such port, device not found, write failed)."""


class DeviceDisconnected(TransportError):
    """The device went away and did not come back (or the transport was closed)."""


class LinkState(enum.Enum):
    """Where a transport's link is."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


@dataclass(frozen=True)
class LinkEvent:
    """A change of link state, delivered in the transport's stream between byte chunks.

    Attributes
    ----------
    state : LinkState
        The state the link entered.
    t_s : float
        Host time of the change, seconds on ``time.monotonic()`` (acquisition maps it to the
        session clock).
    down_s : float
        Seconds the link had been down when it came back (``CONNECTED`` after ``RECONNECTING``);
        for ``RECONNECTING`` and ``CLOSED`` the seconds down so far; 0.0 for the first connect.
    attempt : int
        Number of the open attempt that produced this state (1 for the first).
    reason : str
        Human-readable cause (the error that dropped the link, or why it closed).
    """

    state: LinkState
    t_s: float
    down_s: float = 0.0
    attempt: int = 1
    reason: str = ""


TransportItem = bytes | LinkEvent
"""What a transport's async iterator yields."""


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off between reconnect attempts.

    Attributes
    ----------
    initial_s : float
        Wait before the first retry, seconds.
    factor : float
        Multiplier applied after each failed attempt.
    max_s : float
        Upper bound of one wait, seconds.
    max_attempts : int or None
        Give up after this many failed attempts in a row (``None``: retry until closed).
    """

    initial_s: float = 0.1
    factor: float = 2.0
    max_s: float = 5.0
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.max_s < self.initial_s or self.factor < 1.0:
            raise ValueError(
                f"Backoff needs 0 < initial_s <= max_s and factor >= 1, got {self!r}"
            )

    def delay_s(self, failures: int) -> float:
        """Wait before the next attempt after ``failures`` consecutive failures (>= 0)."""
        return min(self.max_s, self.initial_s * self.factor ** max(0, failures))

    def exhausted(self, failures: int) -> bool:
        return self.max_attempts is not None and failures >= self.max_attempts


def now_s() -> float:
    """The transports' clock: ``time.monotonic()`` in seconds."""
    return time.monotonic()


class Channel:
    """A bounded, ordered channel of ``bytes | LinkEvent`` with one consumer.

    Byte chunks count against ``maxsize``; link events are never dropped nor block, so the
    consumer always learns about an outage even when it is behind.

    Parameters
    ----------
    maxsize : int
        Most byte chunks held at once.
    on_chunk_taken : callable, optional
        Called (in the consumer's thread) each time the consumer takes a byte chunk: a producer in
        another thread that reserves room before handing a chunk over gets it back here.

    A consumer that can handle a chunk synchronously may also :meth:`handle_chunks_with` a
    function: a chunk put while the consumer waits on the empty channel then goes straight to it
    (in the producer's call, on the loop) instead of waking the consumer — the same order, since
    nothing was queued before it and the consumer was idle; anything else queues as before.
    """

    def __init__(self, maxsize: int, on_chunk_taken: Callable[[], object] | None = None) -> None:
        if maxsize < 1:
            raise ValueError(f"queue size must be >= 1, got {maxsize}")
        self.maxsize = maxsize
        self._on_chunk_taken = on_chunk_taken
        self.dropped_chunks = 0
        self.dropped_bytes = 0
        self._items: collections.deque[TransportItem] = collections.deque()
        self._n_chunks = 0
        self._closed = False
        self._error: BaseException | None = None
        self._readable = asyncio.Event()
        self._chunk_handler: Callable[[bytes], object] | None = None
        self._consumer_waiting = False  # the consumer waits in get() on an empty channel
        self._handler_error: BaseException | None = None  # what the handler raised: get() raises it

    def handle_chunks_with(self, handler: Callable[[bytes], object] | None) -> None:
        """Chunks put while the consumer waits on the empty channel go to ``handler(chunk)`` at
        once (it counts as taken); an exception it raises ends the stream: the consumer's next
        :meth:`get` raises it, as if the consumer had raised it handling the chunk. None: off."""
        self._chunk_handler = handler

    @property
    def has_room(self) -> bool:
        """Whether another chunk fits."""
        return self._n_chunks < self.maxsize

    def put_nowait(self, chunk: bytes) -> bool:
        """Append a chunk; when full, drop it, count it and return False."""
        if self._closed:
            return False
        if self._n_chunks >= self.maxsize:
            self.dropped_chunks += 1
            self.dropped_bytes += len(chunk)
            return False
        if (self._consumer_waiting and not self._items and self._chunk_handler is not None
                and self._handler_error is None):
            try:
                self._chunk_handler(bytes(chunk))
            except Exception as exc:  # noqa: BLE001 (the consumer's: it gets it from get())
                self._handler_error = exc
                self._readable.set()
            if self._on_chunk_taken is not None:
                self._on_chunk_taken()
            return True
        self._items.append(bytes(chunk))
        self._n_chunks += 1
        self._readable.set()
        return True

    def put_event(self, event: LinkEvent) -> None:
        if not self._closed:
            self._items.append(event)
            self._readable.set()

    def close(self, error: BaseException | None = None) -> None:
        """End the stream; items already queued are still delivered, then ``error`` is raised."""
        self._closed = True
        self._error = error
        self._readable.set()

    async def get(self) -> TransportItem:
        """Next item in order; raises ``StopAsyncIteration`` (or the close error) at the end."""
        while self._handler_error is not None or not self._items:
            if self._handler_error is not None:
                raise self._handler_error  # before anything queued after the chunk that raised
            if self._closed:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            self._readable.clear()
            self._consumer_waiting = True
            try:
                await self._readable.wait()
            finally:
                self._consumer_waiting = False
        item = self._items.popleft()
        if isinstance(item, bytes):
            self._n_chunks -= 1
            if self._on_chunk_taken is not None:
                self._on_chunk_taken()
        return item


class ChannelTransport:
    """What every transport shares: an async context manager and an async iterator over its
    :class:`Channel` of ``bytes | LinkEvent``. Subclasses implement ``open`` and ``close`` and set
    ``self._channel`` while open."""

    _channel: Channel | None = None

    async def open(self):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    async def close(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    async def __aenter__(self):
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self):
        return self

    async def __anext__(self) -> bytes | LinkEvent:
        if self._channel is None:
            raise TransportError(f"{type(self).__name__} is not open; use 'async with' or await open()")
        return await self._channel.get()
