"""USB / UART serial transport (pyserial) with re-plug recovery.

A reader thread owns the port; chunks reach the event loop through a bounded channel with
back-pressure (the OS buffer holds bytes while the consumer is behind, nothing is dropped here):
the thread reserves a place in the channel before it reads on (a semaphore the consumer releases
as it takes each chunk) and hands chunks and link events over in order, waking the loop once per
batch rather than waiting on the loop for each chunk.
When a read fails because the device went away the link goes ``RECONNECTING`` and the thread
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
import threading
from dataclasses import dataclass

import serial
import serial.tools.list_ports

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

_registered_ports: dict[str, str] = {}


@dataclass(frozen=True)
class SerialPortInfo:
    """One serial port the host can open.

    Attributes
    ----------
    path : str
        What to pass to ``SerialTransport`` (``/dev/ttyACM0``, ``COM3``, a pty symlink).
    description : str
        Human-readable description from the OS (or from ``register_port``).
    hwid : str
        Hardware id string (USB VID:PID and serial number when known).
    vid, pid : int or None
        USB vendor and product id.
    serial_number : str or None
    """

    path: str
    description: str
    hwid: str = ""
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None


def register_port(path: str, description: str = "registered port") -> None:
    """Make ``list_serial_ports`` report ``path`` too (pseudo-terminals, emulated sensors)."""
    _registered_ports[str(path)] = description


def unregister_port(path: str) -> None:
    _registered_ports.pop(str(path), None)


def list_serial_ports(include_registered: bool = True) -> list[SerialPortInfo]:
    """Serial ports present now: the OS's (``serial.tools.list_ports``) plus registered ones."""
    ports = [
        SerialPortInfo(
            path=p.device,
            description=p.description or "",
            hwid=p.hwid or "",
            vid=p.vid,
            pid=p.pid,
            serial_number=p.serial_number,
        )
        for p in serial.tools.list_ports.comports()
    ]
    if include_registered:
        known = {p.path for p in ports}
        ports += [
            SerialPortInfo(path=path, description=desc, hwid="registered")
            for path, desc in _registered_ports.items()
            if path not in known
        ]
    return ports


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
        Most chunks buffered for a slow consumer before the reader thread waits.
    read_chunk_bytes : int
        Largest single read.
    poll_interval_s : float
        Read timeout of the thread, seconds: how quickly ``close()`` is noticed.
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
    ) -> None:
        self.port = str(port)
        self.baud_rate = int(baud_rate)
        self.backoff = backoff if backoff is not None else Backoff()
        self.read_chunk_bytes = read_chunk_bytes
        self.poll_interval_s = poll_interval_s
        self.state = LinkState.CLOSED
        self.bytes_received = 0
        self.reconnects = 0
        self._queue_size = queue_size
        self._channel: Channel | None = None
        self._serial: serial.Serial | None = None
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room = threading.Semaphore(queue_size)  # places left in the channel (reader side)
        self._handover: list[TransportItem] = []  # items the loop has not taken over yet, in order
        self._handover_lock = threading.Lock()
        self._handover_due = False  # a hand-over is scheduled on the loop

    # -- opening and closing -------------------------------------------------------------------

    def _open_port(self) -> serial.Serial:
        return serial.serial_for_url(
            self.port, baudrate=self.baud_rate, timeout=self.poll_interval_s, write_timeout=1.0
        )

    async def open(self) -> SerialTransport:
        """Open the port (raising ``TransportError`` if it cannot) and start the reader thread."""
        if self._thread is not None:
            return self
        self._loop = asyncio.get_running_loop()
        self._room = threading.Semaphore(self._queue_size)
        self._handover, self._handover_due = [], False
        self._channel = Channel(self._queue_size, on_chunk_taken=self._room.release)
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
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"imugait-serial-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    async def close(self) -> None:
        """Stop reading and close the port; the iterator ends after the queued items."""
        self._stop.set()  # the thread notices within poll_interval_s, even when blocked on room
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 5.0)
            self._thread = None
            await asyncio.sleep(0)  # let the thread's last CLOSED event land
        self._close_serial()
        if self._channel is not None:
            self._channel.close()


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

    # -- the reader thread --------------------------------------------------------------------

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

    def _close_serial(self) -> None:
        with self._write_lock:
            if self._serial is not None:
                try:
                    self._serial.close()
                except (serial.SerialException, OSError):
                    pass
                self._serial = None

    def _run(self) -> None:
        reason = "closed by the application"
        error: DeviceDisconnected | None = None
        try:
            while not self._stop.is_set():
                failure = self._read_until_error()
                if failure is None:
                    break
                if not self._recover(failure):
                    if not self._stop.is_set():
                        reason = (
                            f"gave up reopening serial port {self.port!r} after "
                            f"{self.backoff.max_attempts} attempts (last error: {failure}); "
                            "re-plug the device and open the transport again"
                        )
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

    def _recover(self, error: str) -> bool:
        """Reopen the port with back-off; True when the link is back, False when giving up."""
        t_down_s = now_s()
        self.state = LinkState.RECONNECTING
        self._close_serial()
        self._emit(LinkEvent(LinkState.RECONNECTING, t_down_s, reason=error))
        failures = 0
        while not self._stop.is_set():
            if self._stop.wait(self.backoff.delay_s(failures)):
                return False
            try:
                opened = self._open_port()
            except (serial.SerialException, OSError, ValueError):
                failures += 1
                if self.backoff.exhausted(failures):
                    return False
                continue
            with self._write_lock:
                self._serial = opened
                self.state = LinkState.CONNECTED
            self.reconnects += 1
            t_up_s = now_s()
            self._emit(
                LinkEvent(
                    LinkState.CONNECTED,
                    t_up_s,
                    down_s=t_up_s - t_down_s,
                    attempt=failures + 1,
                    reason="reopened",
                )
            )
            return True
        return False
