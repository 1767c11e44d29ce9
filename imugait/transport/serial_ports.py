"""Serial ports the host can open: the OS's (``serial.tools.list_ports``) plus registered ones
(pseudo-terminals of emulated sensors)."""

from __future__ import annotations

from dataclasses import dataclass

import serial.tools.list_ports

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
