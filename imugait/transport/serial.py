"""USB / UART serial transport (pyserial) with re-plug recovery.

Chunks reach the consumer through a bounded channel with back-pressure: when it is full nothing
more is read (the OS buffer holds the bytes) and nothing is dropped here. Two ways to read:

* **on the event loop** (a port with a file descriptor — every POSIX device and pty — on a loop
  that can watch one): the loop watches the port's descriptor (``add_reader``) and reads what is
  waiting when it becomes readable — with one ``os.read`` of the descriptor when pyserial opened
  it non-blocking (as it does on POSIX), keeping pyserial's read errors, else with the port's own
  ``read``; when the channel is full the loop stops watching until the consumer takes a chunk. No
  thread, no cross-thread hand-over: one loop wake-up per burst the device writes. A consumer
  that registered a synchronous handler (:meth:`SerialTransport.handle_chunks_with`) gets a chunk
  read while it waits on the empty channel in that callback, with no wake-up of its task.
* **on the event loop when asked** (``watch=False``, a port with a descriptor): the loop does not
  watch the port; the bytes wait in the kernel's buffer until :meth:`SerialTransport.read_waiting`
  reads all of them (non-blocking) and hands each chunk on as a readiness read would. Live
  acquisition calls it for every port at the push tick, so a tick costs one wake-up for all the
  ports and the pipeline's poll instead of one per burst and port (docs/live-history.md,
  "Thirteenth round"). A port without a descriptor is read in a thread whatever ``watch`` says.
* **in a reader thread** (``loop://``, ports without a descriptor, loops that cannot watch one,
  or ``read_on_loop=False``): the thread reserves a place in the channel before it reads on (a
  semaphore the consumer releases as it takes each chunk) and hands chunks and link events over
  in order, waking the loop once per batch.

When a read fails because the device went away the link goes ``RECONNECTING`` and the transport
retries opening the same path with exponential back-off until it reappears or the transport is
closed. Chunks delivered before the error stay delivered.

Example
-------
>>> async with SerialTransport("/dev/ttyACM0", baud_rate=921_600) as link:   # doctest: +SKIP
...     async for item in link:
...         if isinstance(item, LinkEvent):
...             print(item.state, item.down_s)
...         else:
...             decoder.feed(item)
"""

from __future__ import annotations

import asyncio
import errno
import os
import select
import threading
from collections.abc import Callable, Generator

import serial

from imugait.transport.link import (
    Backoff,
    Channel,
    ChannelTransport,
    DeviceDisconnected,
    LinkEvent,
    LinkState,
    TransportError,
    TransportItem,
    now_s,
)
from imugait.transport.serial_ports import (  # noqa: F401 (re-exported: where callers import them from)
    SerialPortInfo,
    list_serial_ports,
    register_port,
    unregister_port,
)

_RETRY_ERRNOS = frozenset((errno.EAGAIN, errno.EALREADY, errno.EWOULDBLOCK, errno.EINPROGRESS, errno.EINTR))
"""A read failing with one of these read nothing (pyserial's list): not a lost link."""


class SerialTransport(ChannelTransport):
    """Byte stream from a serial port, as an async context manager and async iterator.

    Iterating yields ``bytes`` chunks in arrival order, interleaved with ``LinkEvent`` items
    (``CONNECTED`` on open and after each recovery with ``down_s`` set, ``RECONNECTING`` when the
    device vanished, ``CLOSED`` at the end).

    Parameters
    ----------
    port : str
        Device path or pyserial URL (``loop://`` and ``socket://`` work too).
    baud_rate : int
        Line rate, bits per second (ignored by USB-CDC devices and ptys).
    backoff : Backoff, optional
        Waits between re-open attempts after the device disappeared.
    queue_size : int
        Most chunks buffered for a slow consumer before reading pauses.
    read_chunk_bytes : int
        Largest single read.
    poll_interval_s : float
        Read timeout of the reader thread, seconds: how quickly ``close()`` is noticed.
    read_on_loop : bool
        Read on the event loop when the port has a file descriptor the loop can watch (the
        default); False always reads in a thread.
    watch : bool
        On the loop, read at each readiness event (the default); False: only when
        :meth:`read_waiting` is called (the caller's tick).
    """

    def __init__(
        self,
        port: str,
        baud_rate: int = 115_200,
        *,
        backoff: Backoff | None = None,
        queue_size: int = 1024,
        read_chunk_bytes: int = 4096,
        poll_interval_s: float = 0.05,
        read_on_loop: bool = True,
        watch: bool = True,
    ) -> None:
        self.port = str(port)
        self.baud_rate = int(baud_rate)
        self.backoff = backoff if backoff is not None else Backoff()
        self.read_chunk_bytes = read_chunk_bytes
        self.poll_interval_s = poll_interval_s
        self.read_on_loop = read_on_loop
        self.watch = watch
        self.state = LinkState.CLOSED
        self.bytes_received = 0
        self.reconnects = 0
        self._queue_size = queue_size
        self._channel: Channel | None = None
        self._serial: serial.Serial | None = None
        self._write_lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Reading in a thread:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._room = threading.Semaphore(queue_size)  # places left in the channel (reader side)
        self._handover: list[TransportItem] = []  # items the loop has not taken over yet, in order
        self._handover_lock = threading.Lock()
        self._handover_due = False  # a hand-over is scheduled on the loop
        # Reading on the loop:
        self._on_loop = False  # chosen at open, kept across reconnections
        # A port read on the loop is opened non-blocking (no reconfiguration after opening).
        self._read_timeout_s = 0.0 if read_on_loop else poll_interval_s
        self._watched_fd: int | None = None  # the descriptor the loop watches now, if any
        self._read_fd: int | None = None  # the watched descriptor when it is read directly (non-blocking)
        self._closing: asyncio.Event | None = None
        self._recovery: asyncio.Task[None] | None = None
        self._ended = False  # the CLOSED event was given (the transport gave up)
        self._chunk_handler: Callable[[bytes], object] | None = None

    # -- opening and closing -------------------------------------------------------------------

    def _open_port(self) -> serial.Serial:
        return serial.serial_for_url(
            self.port, baudrate=self.baud_rate, timeout=self._read_timeout_s, write_timeout=1.0
        )

    async def open(self) -> SerialTransport:
        """Open the port (raising ``TransportError`` if it cannot) and start reading."""
        if self._thread is not None or self._on_loop:
            return self
        self._loop = asyncio.get_running_loop()
        self._room = threading.Semaphore(self._queue_size)
        self._handover, self._handover_due = [], False
        self._channel = Channel(self._queue_size, on_chunk_taken=self._chunk_taken)
        self._channel.handle_chunks_with(self._chunk_handler)
        self.state = LinkState.CONNECTING
        try:
            self._serial = await asyncio.to_thread(self._open_port)
        except (serial.SerialException, OSError, ValueError) as exc:
            self.state = LinkState.CLOSED
            present = ", ".join(p.path for p in list_serial_ports()) or "none"
            raise TransportError(
                f"cannot open serial port {self.port!r} at {self.baud_rate} Bd: {exc}. "
                f"Ports present: {present}. Check the cable and permissions (dialout group)."
            ) from exc
        self.state = LinkState.CONNECTED
        self._channel.put_event(LinkEvent(LinkState.CONNECTED, now_s(), reason="opened"))
        self._closing, self._recovery, self._ended = asyncio.Event(), None, False
        if self.read_on_loop and self._watch(self._serial):
            self._on_loop = True
            return self
        self._read_timeout_s = self.poll_interval_s  # a thread's reads wait, so that it notices close()
        if getattr(self._serial, "timeout", None) == 0:
            self._serial.timeout = self.poll_interval_s
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"imugait-serial-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    async def close(self) -> None:
        """Stop reading and close the port; the iterator ends after the queued items."""
        if self._on_loop:
            await self._close_on_loop()
            return
        self._stop.set()  # the thread notices within poll_interval_s, even when blocked on room
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None
            await asyncio.sleep(0)  # let the thread's last CLOSED event land
        self._close_serial()
        if self._channel is not None:
            self._channel.close()

    def handle_chunks_with(self, handler: Callable[[bytes], object] | None) -> None:
        """A consumer that handles a chunk synchronously: a chunk read while the consumer waits
        for the next item (nothing queued) goes to ``handler`` in the port's reader callback,
        without waking the consumer (:meth:`Channel.handle_chunks_with`: the same order; what
        the handler raises, the iterator raises). Link events still come through the iterator."""
        self._chunk_handler = handler
        if self._channel is not None:
            self._channel.handle_chunks_with(handler)

    def _chunk_taken(self) -> None:
        """The consumer took a chunk: a place in the channel is free again."""
        if not self._on_loop:
            self._room.release()
        elif self.watch and self._watched_fd is None and self._serial is not None and self.state is LinkState.CONNECTED:
            if not self._watch(self._serial):  # reading had paused on a full channel
                self._link_lost("the port can no longer be watched")

    # -- writing ------------------------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Send a command to the device; raises ``DeviceDisconnected`` while the link is down."""
        await asyncio.to_thread(self._write_blocking, bytes(data))

    def _write_blocking(self, data: bytes) -> None:
        with self._write_lock:
            ser = self._serial
            if ser is None or self.state is not LinkState.CONNECTED:
                raise DeviceDisconnected(
                    f"serial port {self.port!r} is {self.state.value}; the command was not sent"
                )
            try:
                ser.write(data)
                ser.flush()
            except (serial.SerialException, OSError) as exc:
                raise DeviceDisconnected(f"writing to {self.port!r} failed: {exc}") from exc

    def _close_serial(self) -> None:
        with self._write_lock:
            if self._serial is not None:
                try:
                    self._serial.close()
                except (serial.SerialException, OSError):
                    pass
                self._serial = None

    # -- recovery: one piece of logic, driven on the loop (a task) or in the reader thread -------

    def _went_down(self, error: str, emit: Callable[[LinkEvent], None]) -> float:
        """The device went away: the link is ``RECONNECTING`` (given to ``emit``); its time."""
        t_down_s = now_s()
        self.state = LinkState.RECONNECTING
        self._close_serial()
        emit(LinkEvent(LinkState.RECONNECTING, t_down_s, reason=error))
        return t_down_s

    def _reopening(self, t_down_s: float, error: str,
                   emit: Callable[[LinkEvent], None]) -> Generator[float, serial.Serial | Exception, str]:
        """The attempts to reopen the port after it went away at ``t_down_s`` with ``error``, apart
        from how waiting and opening are done: yields the back-off's wait before each attempt and
        is sent what the attempt opened (the port, or the exception it raised — any failure to
        open is a failed attempt). Returns "" once the port is back (now the transport's port,
        the ``CONNECTED`` event given to ``emit``), or, after ``backoff.max_attempts`` failures,
        why it gave up (the link ``CLOSED``; the caller ends the stream with it)."""
        failures = 0
        while True:
            opened = yield self.backoff.delay_s(failures)
            if isinstance(opened, Exception):
                failures += 1
                if self.backoff.exhausted(failures):
                    self.state = LinkState.CLOSED
                    return (f"gave up reopening serial port {self.port!r} after {self.backoff.max_attempts} "
                            f"attempts (last error: {error}); re-plug the device and open the transport again")
                continue
            with self._write_lock:
                self._serial = opened
                self.state = LinkState.CONNECTED
            self.reconnects += 1
            t_up_s = now_s()
            emit(LinkEvent(LinkState.CONNECTED, t_up_s, down_s=t_up_s - t_down_s, attempt=failures + 1,
                           reason="reopened"))
            return ""

    # -- reading on the event loop ------------------------------------------------------------

    def _watch(self, ser: serial.Serial) -> bool:
        """Have the loop read ``ser`` when it becomes readable; False if it cannot watch it."""
        assert self._loop is not None
        try:
            fd = ser.fileno()
        except (AttributeError, OSError, ValueError, serial.SerialException):
            return False  # no descriptor (loop://, a port object without one)
        if not isinstance(fd, int) or fd < 0:
            return False
        try:
            if getattr(ser, "timeout", 0) != 0:
                ser.timeout = 0  # read what is waiting, never wait on the loop
            if self.watch:
                self._loop.add_reader(fd, self._on_readable)
            # pyserial opens POSIX ports non-blocking: then the loop's readiness is the select
            # pyserial's read would make, and the descriptor is read directly (one system call).
            self._read_fd = fd if not os.get_blocking(fd) else None
        except (NotImplementedError, OSError, ValueError, serial.SerialException):
            return False  # a loop that cannot watch descriptors (Windows' proactor)
        self._watched_fd = fd if self.watch else None
        return True

    def _unwatch(self) -> None:
        if self._watched_fd is not None and self._loop is not None:
            self._loop.remove_reader(self._watched_fd)
        self._watched_fd = None

    def _on_readable(self) -> None:
        """On the loop: the port has bytes (or has gone). Read what is waiting, up to a chunk."""
        ser, channel = self._serial, self._channel
        if ser is None or channel is None:
            self._unwatch()
            return
        if self._read_chunk(ser, channel) and not channel.has_room:
            self._unwatch()  # the consumer's next take watches again

    def read_waiting(self) -> int:
        """Without readiness watching (``watch=False``): read every byte waiting in the port now,
        non-blocking, and hand each chunk on (to the channel, or the consumer's handler) as a
        readiness read does; returns the bytes read. Stops early when the channel is full (the
        rest waits in the kernel for the next call); a failed read reports the link lost and
        reopens the port, as on the loop. Nothing to do while the link is down, or when the port
        is read by readiness or in a thread."""
        ser, channel = self._serial, self._channel
        if self.watch or not self._on_loop or ser is None or channel is None or self.state is not LinkState.CONNECTED:
            return 0
        n_read = 0
        while channel.has_room:
            n = self._read_chunk(ser, channel, at_tick=True)
            n_read += n
            if n < self.read_chunk_bytes:  # a short read took everything that was waiting
                break
        return n_read

    def _read_chunk(self, ser: serial.Serial, channel: Channel, at_tick: bool = False) -> int:
        """On the loop: read what is waiting, up to a chunk, into the channel; the bytes read (0
        also when the read failed: the link is reported lost). ``at_tick``: read without a
        readiness event — nothing waiting is then no sign that the device went away."""
        try:
            if self._read_fd is None:
                chunk = ser.read(self.read_chunk_bytes)
            else:
                chunk = self._read_waiting(self._read_fd, at_tick)
        except Exception as exc:  # noqa: BLE001 (SerialException, OSError; anything else: the port is unusable)
            self._link_lost(str(exc) or type(exc).__name__)
            return 0
        if chunk:
            self.bytes_received += len(chunk)
            channel.put_nowait(chunk)  # never full here: reading pauses when the last place is taken
        return len(chunk)

    def _read_waiting(self, fd: int, at_tick: bool = False) -> bytes:
        """What pyserial's ``read`` at timeout 0 gives once the port is readable, without its
        ``select``: the bytes waiting (up to a chunk), nothing on a spurious wake-up, and its
        errors for a failed read and for a port that is readable but has nothing (it vanished).
        ``at_tick`` (read without a readiness event): a read of nothing is a port with nothing
        waiting (pyserial sets VMIN = 0: an empty port reads 0 bytes, as a vanished one does)
        unless the port is readable all the same and a second read still gives nothing — then it
        vanished, as on a readiness event (bytes that came between the read and the look are read)."""
        try:
            chunk = os.read(fd, self.read_chunk_bytes)
            if not chunk and at_tick:
                if not select.select([fd], [], [], 0)[0]:
                    return b""
                chunk = os.read(fd, self.read_chunk_bytes)
        except OSError as exc:
            if exc.errno in _RETRY_ERRNOS:
                return b""
            raise serial.SerialException(f"read failed: {exc}") from exc
        if not chunk:
            raise serial.SerialException("device reports readiness to read but returned no data "
                                         "(device disconnected or multiple access on port?)")
        return chunk

    def _link_lost(self, error: str) -> None:
        """The device went away: report it and reopen the port with back-off, in a task."""
        assert self._loop is not None and self._channel is not None
        self._unwatch()
        t_down_s = self._went_down(error, self._channel.put_event)
        self._recovery = self._loop.create_task(self._reopen(self._reopening(t_down_s, error, self._channel.put_event)))

    async def _reopen(self, attempts: Generator[float, serial.Serial | Exception, str]) -> None:
        """Drive ``attempts`` (:meth:`_reopening`) on the loop: waits that end early when the
        transport is closed, each open in a thread."""
        assert self._closing is not None and self._channel is not None
        delay_s = next(attempts)
        while True:
            try:
                await asyncio.wait_for(self._closing.wait(), delay_s)
                return  # closed while waiting
            except TimeoutError:
                pass
            try:
                opened: serial.Serial | Exception = await asyncio.to_thread(self._open_port)
            except Exception as exc:  # noqa: BLE001 (a failed attempt: the task must not die)
                opened = exc
            if self._closing.is_set():
                if not isinstance(opened, Exception):
                    opened.close()
                return
            try:
                delay_s = attempts.send(opened)
            except StopIteration as done:
                if done.value:  # gave up
                    self._ended = True
                    self._channel.put_event(LinkEvent(LinkState.CLOSED, now_s(), reason=done.value))
                    self._channel.close(DeviceDisconnected(done.value))
                elif self._channel.has_room and not self._watch(opened):
                    self._link_lost("the reopened port cannot be watched")
                return

    async def _close_on_loop(self) -> None:
        assert self._closing is not None and self._channel is not None
        self._closing.set()
        self._unwatch()
        if self._recovery is not None:
            await self._recovery
        self._on_loop = False
        if self._ended:
            return
        self.state = LinkState.CLOSED
        self._close_serial()
        self._channel.put_event(LinkEvent(LinkState.CLOSED, now_s(), reason="closed by the application"))
        self._channel.close()

    # -- reading in a thread ------------------------------------------------------------------

    def _emit(self, item: TransportItem) -> None:
        """Hand an item to the event loop, in order; a chunk first waits for a place in the channel
        so nothing is dropped (link events never wait)."""
        assert self._loop is not None
        if not isinstance(item, LinkEvent):
            while not self._room.acquire(timeout=self.poll_interval_s):
                if self._stop.is_set():
                    return
        with self._handover_lock:
            self._handover.append(item)
            if self._handover_due:
                return
            self._handover_due = True
        self._loop.call_soon_threadsafe(self._take_over)

    def _take_over(self) -> None:
        """On the loop: move what the reader handed over into the channel (each chunk has its place)."""
        with self._handover_lock:
            items, self._handover = self._handover, []
            self._handover_due = False
        channel = self._channel
        if channel is None:
            return
        for item in items:
            if isinstance(item, LinkEvent):
                channel.put_event(item)
            else:
                channel.put_nowait(item)

    def _run(self) -> None:
        reason = "closed by the application"
        error: DeviceDisconnected | None = None
        try:
            while not self._stop.is_set():
                failure = self._read_until_error()
                if failure is None:
                    break
                gave_up = self._recover(failure)
                if gave_up is not None:
                    if gave_up:
                        reason = gave_up
                        error = DeviceDisconnected(reason)
                    break
        finally:
            self.state = LinkState.CLOSED
            self._close_serial()
            if self._loop is not None and not self._loop.is_closed():
                channel = self._channel
                self._emit(LinkEvent(LinkState.CLOSED, now_s(), reason=reason))
                self._loop.call_soon_threadsafe(channel.close, error)

    def _read_until_error(self) -> str | None:
        """Read and emit chunks; return the error text when the device goes, None when stopped."""
        while not self._stop.is_set():
            ser = self._serial
            if ser is None:
                return "port closed"
            try:
                chunk = ser.read(max(1, min(ser.in_waiting, self.read_chunk_bytes)))
                if chunk and len(chunk) < self.read_chunk_bytes and (more := ser.in_waiting):
                    # Woken by the first byte of a burst (a frame written at once): the rest came
                    # with it and goes in the same chunk — one hand-over per frame, not two.
                    chunk += ser.read(min(more, self.read_chunk_bytes - len(chunk)))
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial's posix read after the fd was torn down underneath it.
                return str(exc) or type(exc).__name__
            if chunk:
                self.bytes_received += len(chunk)
                self._emit(chunk)
        return None

    def _recover(self, error: str) -> str | None:
        """In the reader thread: reopen the port with back-off (:meth:`_reopening`). None when the
        link is back, why it gave up, or "" when the transport was closed meanwhile."""
        attempts = self._reopening(self._went_down(error, self._emit), error, self._emit)
        delay_s = next(attempts)
        while True:
            if self._stop.wait(delay_s):
                return ""
            try:
                opened: serial.Serial | Exception = self._open_port()
            except Exception as exc:  # noqa: BLE001 (a failed attempt)
                opened = exc
            try:
                delay_s = attempts.send(opened)
            except StopIteration as done:
                return done.value or None
