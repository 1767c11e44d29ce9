"""Small async helpers shared by the transport tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from imugait.transport.link import Backoff, LinkEvent, LinkState


def run(coro: Coroutine[Any, Any, Any], timeout_s: float = 120.0) -> Any:
    """Run a test coroutine with a hard time limit, so a bug cannot hang the suite."""

    async def limited() -> Any:
        async with asyncio.timeout(timeout_s):
            return await coro

    return asyncio.run(limited())


@dataclass(frozen=True)
class RecordingBackoff(Backoff):
    """A :class:`Backoff` that keeps every wait a transport asked of it (s), in order: what a test
    asserts on instead of the measured gaps, which a loaded machine stretches."""

    asked_s: list[float] = field(default_factory=list, compare=False, repr=False)

    def delay_s(self, failures: int) -> float:
        delay = super().delay_s(failures)
        self.asked_s.append(delay)
        return delay


class Recorder:
    """Consumes a transport in the background, keeping bytes and events in arrival order."""

    def __init__(self, link: Any, direct: bool = False) -> None:
        self.items: list[bytes | LinkEvent] = []
        self.error: BaseException | None = None
        self.n_direct = 0
        """Chunks the transport handed to the handler (``direct``) rather than through the iterator."""
        self._link = link
        if direct:
            link.handle_chunks_with(self._take_direct)
        self._task = asyncio.create_task(self._consume())

    def _take_direct(self, chunk: bytes) -> None:
        self.n_direct += 1
        self.items.append(chunk)

    async def _consume(self) -> None:
        try:
            async for item in self._link:
                self.items.append(item)
        except Exception as exc:  # kept for the test to inspect
            self.error = exc

    @property
    def data(self) -> bytes:
        return b"".join(i for i in self.items if isinstance(i, bytes))

    @property
    def events(self) -> list[LinkEvent]:
        return [i for i in self.items if isinstance(i, LinkEvent)]

    def states(self) -> list[LinkState]:
        return [e.state for e in self.events]

    async def wait_for(self, condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not condition():
                if self._task.done():
                    raise AssertionError(f"transport ended early ({self.error!r})")
                await asyncio.sleep(0.005)

    async def finished(self, timeout_s: float = 60.0) -> None:
        async with asyncio.timeout(timeout_s):
            await self._task
