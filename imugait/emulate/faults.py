"""Faults an emulated sensor can be made to show, scheduled in true time, and the frame shaping
(duplicates, reordering) that two of them arm — shared by every carrier of :mod:`imugait.emulate`.

* :class:`LinkDrop` — the link goes down for ``duration_s`` (a BLE disconnect, a cable pulled);
  with ``tear_frame`` the frame in flight is cut in half first (serial unplugged mid-frame).
* :class:`Reboot` — the device restarts: link down for ``down_s``, then counter and clock from
  their origin.
* :class:`ClockJump` — the device clock steps by ``jump_s`` while its counter goes on.
* :class:`Duplicate` / :class:`Reorder` — the next sample frame is sent twice / overtaken by the
  sample frame after it.
* :class:`Garbage` — ``n_bytes`` random bytes on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imugait.conventions import Placement


@dataclass(frozen=True)
class LinkDrop:
    placement: Placement
    at_s: float
    duration_s: float
    tear_frame: bool = False
    """Cut the first frame due at the drop in half and deliver only its first half."""


@dataclass(frozen=True)
class Reboot:
    placement: Placement
    at_s: float
    down_s: float = 0.5


@dataclass(frozen=True)
class ClockJump:
    placement: Placement
    at_s: float
    jump_s: float


@dataclass(frozen=True)
class Duplicate:
    placement: Placement
    at_s: float


@dataclass(frozen=True)
class Reorder:
    placement: Placement
    at_s: float


@dataclass(frozen=True)
class Garbage:
    placement: Placement
    at_s: float
    n_bytes: int
    seed: int = 0


Fault = LinkDrop | Reboot | ClockJump | Duplicate | Reorder | Garbage

TaggedFrame = tuple[bytes, "np.ndarray | None"]
"""A frame with the sequence numbers of the samples it carries (None: a frame without samples,
or a copy that carries no new samples)."""


class FrameShaper:
    """One device's outgoing frames with the armed :class:`Duplicate` and :class:`Reorder` applied.

    Only sample frames are duplicated or held back; replies and status frames pass in order. A
    duplicate's copy is tagged ``None`` (it carries no new samples); a reordered pair leaves as
    (second, first), however many calls of :meth:`shape` it takes for the second to come.
    """

    def __init__(self) -> None:
        self._duplicate = False
        self._held: list[TaggedFrame] | None = None

    def arm(self, fault: Duplicate | Reorder) -> None:
        if isinstance(fault, Duplicate):
            self._duplicate = True
        else:
            self._held = []

    def shape(self, frames: list[TaggedFrame]) -> list[TaggedFrame]:
        out: list[TaggedFrame] = []
        for frame, seq in frames:
            if seq is None:
                out.append((frame, seq))
            elif self._held is not None:
                self._held.append((frame, seq))
                if len(self._held) == 2:
                    out.extend(reversed(self._held))
                    self._held = None
            else:
                out.append((frame, seq))
                if self._duplicate:
                    self._duplicate = False
                    out.append((frame, None))
        return out
