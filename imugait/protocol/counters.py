"""Unwrapping of wrapping wire counters (sequence numbers, µs timestamps) into monotonic int64."""

from __future__ import annotations


class Unwrapper:
    """Turn a ``bits``-bit counter that wraps into a monotonic count.

    Each raw value is taken as the smallest forward step from the previous one, so a wrap is
    resolved as long as consecutive values are less than half the counter range apart
    (2³¹ µs ≈ 35.8 min for a u32 µs clock). A backward step of less than half the range cannot
    be a wrap: it is reported as a reset (device reboot, clock restart) and the count continues
    from the previous value.

    Parameters
    ----------
    bits : width of the wire counter (16 or 32).
    """

    def __init__(self, bits: int) -> None:
        self.modulus = 1 << bits
        self._half = self.modulus >> 1
        self._mask = self.modulus - 1
        self._last_raw: int | None = None
        self._last: int = 0
        self.resets = 0

    @property
    def started(self) -> bool:
        return self._last_raw is not None

    @property
    def last(self) -> int:
        """The last unwrapped value (0 before the first call)."""
        return self._last

    def step(self, raw: int) -> int:
        """Forward distance from the previous raw value to ``raw`` (0 for the first value)."""
        if self._last_raw is None:
            return 0
        return (raw - self._last_raw) & self._mask

    def nearest(self, raw: int) -> int:
        """The unwrapped value nearest the last one that ``raw`` can stand for (backwards too);
        nothing is updated. Before the first call: ``raw`` itself."""
        raw &= self._mask
        if self._last_raw is None:
            return raw
        return self._last + ((raw - self._last_raw + self._half) & self._mask) - self._half

    def unwrap(self, raw: int) -> int:
        """Unwrapped value of ``raw``; see the class docstring for resets."""
        raw &= self._mask
        if self._last_raw is None:
            self._last = raw
        else:
            delta = (raw - self._last_raw) & self._mask
            if delta >= self._half:
                self.resets += 1
                delta = 0
            self._last += delta
        self._last_raw = raw
        return self._last

    def rebase(self, raw: int, value: int) -> None:
        """Declare that ``raw`` corresponds to the unwrapped ``value`` (after a reset)."""
        self._last_raw = raw & self._mask
        self._last = value
