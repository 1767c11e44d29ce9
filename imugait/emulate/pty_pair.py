"""A pseudo-terminal pair that stands in for a USB-serial sensor, with unplug and replug.

The *slave* end is what a serial transport opens (through a stable symlink, as a udev rule would
give a real sensor); the *master* end is the "device": bytes written to it arrive at the reader.
``unplug()`` closes the master so the reader gets an I/O error, as when a cable is pulled;
``replug()`` creates a new pair and points the same symlink at it.
"""

from __future__ import annotations

import os
import select
import tempfile
import termios
import tty
from pathlib import Path

from imugait.transport.link import TransportError


class PtyPair:
    """An emulated serial device at a stable path.

    Parameters
    ----------
    link_path : str or Path, optional
        Where the symlink to the current slave goes. Default: ``ttyIMU0`` in a new temporary
        directory (removed by ``close()``).

    Attributes
    ----------
    path : str
        The stable path to open with pyserial (the symlink).
    """

    def __init__(self, link_path: str | os.PathLike[str] | None = None) -> None:
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        if link_path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="imugait-pty-")
            link_path = Path(self._tmpdir.name) / "ttyIMU0"
        self.path = str(link_path)
        self._master_fd: int | None = None
        self._slave_fd: int | None = None
        self.slave_name: str | None = None
        self.replug()

    @property
    def plugged(self) -> bool:
        return self._master_fd is not None

    def replug(self) -> str:
        """Create a fresh pair (if unplugged) and point ``path`` at its slave; return the slave."""
        if self.plugged:
            return self.slave_name or ""
        master_fd, slave_fd = os.openpty()
        # Raw mode on the slave: no echo, no line editing, no CR/LF translation — bytes pass as is.
        tty.setraw(slave_fd, termios.TCSANOW)
        self._master_fd, self._slave_fd = master_fd, slave_fd
        self.slave_name = os.ttyname(slave_fd)
        tmp_link = self.path + ".new"
        if os.path.lexists(tmp_link):
            os.unlink(tmp_link)
        os.symlink(self.slave_name, tmp_link)
        os.replace(tmp_link, self.path)  # atomic: a reader never sees a half-made link
        return self.slave_name

    def unplug(self) -> None:
        """Pull the cable: remove the symlink and close both ends held here."""
        if os.path.lexists(self.path):
            os.unlink(self.path)
        for fd in (self._master_fd, self._slave_fd):
            if fd is not None:
                os.close(fd)
        self._master_fd = self._slave_fd = None

    def write(self, data: bytes) -> int:
        """Send bytes from the device to the host (all of them); return how many."""
        if self._master_fd is None:
            raise TransportError(f"pty device at {self.path} is unplugged; call replug() first")
        view = memoryview(data)
        while view:
            n = os.write(self._master_fd, view)
            view = view[n:]
        return len(data)

    def read(self, max_bytes: int = 4096, timeout_s: float = 0.0) -> bytes:
        """Bytes the host wrote to the device (commands); ``b""`` if none within ``timeout_s``."""
        if self._master_fd is None:
            return b""
        ready, _, _ = select.select([self._master_fd], [], [], timeout_s)
        if not ready:
            return b""
        try:
            return os.read(self._master_fd, max_bytes)
        except OSError:  # EIO: no host has the slave open
            return b""

    def close(self) -> None:
        self.unplug()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> PtyPair:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"-> {self.slave_name}" if self.plugged else "unplugged"
        return f"PtyPair({self.path!r} {state})"
