"""The interface every decoder offers, and small helpers the decoders share."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from imugait.protocol.messages import DecoderStats, Message, SampleBlock


@runtime_checkable
class Decoder(Protocol):
    """A pure, incremental decoder: bytes in, messages out, for any chunking of the stream.

    ``feed`` never raises on any bytes; what it drops is counted in ``stats``, and
    ``stats.bytes_received == stats.bytes_accepted + stats.bytes_discarded + pending_bytes``
    holds after every call.
    """

    stats: DecoderStats

    def feed(self, data: bytes) -> list[Message]:
        """Decode what ``data`` completes; incomplete frames wait for the next call."""
        ...

    def flush(self) -> list[Message]:
        """End of stream: emit what can still be emitted, discard (and count) the rest."""
        ...

    @property
    def pending_bytes(self) -> int:
        """Bytes received but not yet accepted or discarded."""
        ...


def rows_to_block(
    acc_mps2: list,
    gyr_radps: list,
    mag_uT: list | None = None,
    q_world_sensor: list | None = None,
    t_device_us: list | None = None,
    seq: list | None = None,
) -> SampleBlock:
    """One :class:`SampleBlock` from per-sample rows (lists of 3- or 4-sequences / ints)."""

    def arr(rows: list | None, width: int) -> np.ndarray | None:
        return None if rows is None else np.asarray(rows, dtype=float).reshape(-1, width)

    def ints(values: list | None) -> np.ndarray | None:
        return None if values is None else np.asarray(values, dtype=np.int64)

    return SampleBlock(
        seq=ints(seq),
        t_device_us=ints(t_device_us),
        acc_mps2=arr(acc_mps2, 3),
        gyr_radps=arr(gyr_radps, 3),
        mag_uT=arr(mag_uT, 3),
        q_world_sensor=arr(q_world_sensor, 4),
    )
