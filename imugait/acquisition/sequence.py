"""Lost-sample accounting and the per-sample counter/clock every stream needs.

Each received sample gets an *effective sequence number* and an *effective device time*:

* sequence: the decoder's unwrapped counter when the protocol has one; otherwise inferred from
  device timestamps (a step of ``k`` nominal periods means ``k - 1`` lost samples); otherwise a
  plain count of received samples (losses then cannot be seen).
* device time: the device's timestamp when the protocol has one; otherwise a *virtual device
  clock* ``seq / nominal rate`` — the arrival-time envelope then fits offset and the true rate
  just like a real device clock (see ``docs/acquisition.md``, *Clock synchronisation*).

Samples whose sequence number (or device time) does not advance are duplicates; they are
dropped and counted, never merged — unless their counter falls in a gap left by the samples
before (a block overtaken on the link): then they are *late*, taken, and no longer counted lost
(with a real counter, or a sequence inferred from device timestamps; only for the last
:data:`MAX_OPEN_GAPS` gaps). Lost samples are
never interpolated: they become :class:`~imugait.model.Gap` entries.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from itertools import islice

import numpy as np

from imugait.errors import ValidationError
from imugait.model import Gap
from imugait.protocol.messages import SampleBlock

MAX_OPEN_GAPS = 64
"""Gaps remembered for late samples to fill; older gaps are closed for good (bounded memory)."""


@dataclass(frozen=True, eq=False)
class TrackedSamples:
    """The result of :meth:`SequenceTracker.process` for one block.

    Attributes
    ----------
    keep : (n,) bool — which samples of the block were accepted.
    seq : (k,) int64 — effective sequence numbers of the accepted samples.
    t_device_us : (k,) int64 — effective device times (µs) of the accepted samples.
    n_lost : int — samples lost just before and inside this block.
    n_dropped : int — samples of this block dropped as duplicates / not advancing.
    late : (k,) bool — accepted samples that filled an earlier gap (older than the newest).

    The arrays are to be read, not written: they may be shared masks or the block's own arrays.
    """

    keep: np.ndarray
    seq: np.ndarray
    t_device_us: np.ndarray
    n_lost: int
    n_dropped: int
    late: np.ndarray
    late_count: int | None = None
    """How many of ``late`` are true, when the maker knows it (else counted on demand)."""

    @property
    def n_late(self) -> int:
        return int(np.count_nonzero(self.late)) if self.late_count is None else self.late_count


class SequenceTracker:
    """Online sequence and device-time bookkeeping of one sensor.

    Parameters
    ----------
    sample_rate_hz : nominal rate, or None while unknown (needed only for protocols without a
        counter or without timestamps; set :attr:`sample_rate_hz` once a device announces it).
    name : used in error messages (the placement).
    """

    def __init__(self, sample_rate_hz: float | None = None, name: str = "sensor") -> None:
        self.sample_rate_hz = sample_rate_hz
        self.name = name
        self._last_seq: int | None = None
        self._last_t_us: int | None = None
        self.n_received = 0
        self.n_kept = 0
        self.n_lost = 0
        self.n_dropped = 0
        self.n_late = 0
        self._open_gaps: list[list[int]] = []
        """[first, last] missing sequence numbers of recent gaps, oldest first."""
        self.seq_source = ""
        """``counter``, ``timestamps`` or ``count``: where the sequence numbers come from."""

    def process(self, block: SampleBlock) -> TrackedSamples:
        """Effective counters of a block's samples; updates the running totals."""
        n = block.n_samples
        from_time = block.seq is None and block.t_device_us is not None and bool(self.sample_rate_hz)
        if from_time:
            self.seq_source = "timestamps"
            t_list = np.asarray(block.t_device_us, dtype=np.int64).reshape(n).tolist()
            seq_list = [0] * n  # filled in the loop, from the last accepted sample
        else:
            seq = self._effective_seq(block)
            t_us = self._effective_time(block, seq)
            seq_list, t_list = seq.tolist(), t_us.tolist()
            if n and self._in_order(seq_list, t_list):
                return self._take_in_order(seq, t_us, seq_list, t_list)
        # Plain Python: blocks are small (≤ ~50 samples), the rule is per sample, and a few numpy
        # calls on a 4-sample block cost more than the loop.
        keep = [False] * n
        kept_seq, kept_t, kept_late = [], [], []
        last_seq = self._last_seq
        last_t = self._last_t_us
        lost = 0
        for i in range(n):
            t = t_list[i]
            if from_time:
                seq_list[i] = self._seq_from_time(t, last_seq, last_t)
            s = seq_list[i]
            if last_seq is not None and (s <= last_seq or t <= last_t):
                if self.seq_source != "count" and self._fill(s):
                    keep[i] = True
                    kept_seq.append(s)
                    kept_t.append(t)
                    kept_late.append(True)
                continue
            if last_seq is not None and s > last_seq + 1:
                lost += s - last_seq - 1
                self._open_gaps.append([last_seq + 1, s - 1])
                del self._open_gaps[:-MAX_OPEN_GAPS]
            keep[i] = True
            kept_seq.append(s)
            kept_t.append(t)
            kept_late.append(False)
            last_seq, last_t = s, t
        self._last_seq, self._last_t_us = last_seq, last_t
        kept, n_late = len(kept_seq), sum(kept_late)
        self.n_received += n
        self.n_kept += kept
        self.n_lost += lost - n_late
        self.n_late += n_late
        self.n_dropped += n - kept
        if kept == n and not n_late and not from_time:
            # The common case, every sample taken in order: the block's own counters and shared
            # read-only masks, no new arrays.
            return TrackedSamples(_mask(n, True), seq, t_us, lost, 0, _mask(n, False), 0)
        return TrackedSamples(np.array(keep, dtype=bool), np.array(kept_seq, dtype=np.int64),
                              np.array(kept_t, dtype=np.int64), lost, n - kept, np.array(kept_late, dtype=bool),
                              n_late)

    def _in_order(self, seq_list: list[int], t_list: list[int]) -> bool:
        """Whether every sample of a block comes right after the one before it — consecutive
        counters, rising times — and the first after the last accepted sample: the common case,
        where the per-sample rule of :meth:`process` keeps every sample, none late."""
        s0, n = seq_list[0], len(seq_list)
        if self._last_seq is not None and not (s0 > self._last_seq and t_list[0] > self._last_t_us):
            return False
        return seq_list == list(range(s0, s0 + n)) and all(map(operator.lt, t_list, islice(t_list, 1, None)))

    def _take_in_order(self, seq: np.ndarray, t_us: np.ndarray, seq_list: list[int],
                       t_list: list[int]) -> TrackedSamples:
        """:meth:`process` of a block that :meth:`_in_order` accepted: the same counts and gaps."""
        n, s0, last_seq = len(seq_list), seq_list[0], self._last_seq
        lost = 0
        if last_seq is not None and s0 > last_seq + 1:
            lost = s0 - last_seq - 1
            self._open_gaps.append([last_seq + 1, s0 - 1])
            del self._open_gaps[:-MAX_OPEN_GAPS]
        self._last_seq, self._last_t_us = seq_list[-1], t_list[-1]
        self.n_received += n
        self.n_kept += n
        self.n_lost += lost
        return TrackedSamples(_mask(n, True), seq, t_us, lost, 0, _mask(n, False), 0)

    def _seq_from_time(self, t_us: int, last_seq: int | None, last_t_us: int | None) -> int:
        """Sequence number of a sample stamped ``t_us`` from the last accepted one: whole nominal
        periods since then — at least one when later (jitter), none or negative when not later (a
        duplicate, or a sample overtaken on the link whose place may be an open gap)."""
        if last_seq is None:
            return 0
        steps = int(np.rint((t_us - last_t_us) / self._period_us()))
        return last_seq + (max(steps, 1) if t_us > last_t_us else min(steps, 0))

    def _fill(self, s: int) -> bool:
        """Take sequence number ``s`` out of an open gap; False when it is in none (a duplicate)."""
        for k, (first, last) in enumerate(self._open_gaps):
            if first <= s <= last:
                parts = [p for p in ([first, s - 1], [s + 1, last]) if p[0] <= p[1]]
                self._open_gaps[k:k + 1] = parts
                return True
        return False

    def _period_us(self) -> float:
        if not self.sample_rate_hz:
            raise ValidationError(
                f"{self.name}: the samples carry no device timestamps or no sequence counter and no "
                f"sample rate is known; pass nominal_rate_hz to the assembler or let the device "
                f"announce itself (DeviceAnnouncement) before its samples"
            )
        return 1e6 / self.sample_rate_hz

    def _effective_seq(self, block: SampleBlock) -> np.ndarray:
        n = block.n_samples
        if block.seq is not None:
            self.seq_source = "counter"
            return _as_int64(block.seq, (n,))
        self.seq_source = "count"
        base = 0 if self._last_seq is None else self._last_seq + 1
        return base + np.arange(n, dtype=np.int64)

    def _effective_time(self, block: SampleBlock, seq: np.ndarray) -> np.ndarray:
        if block.t_device_us is not None:
            return _as_int64(block.t_device_us, seq.shape)
        return np.rint(seq * self._period_us()).astype(np.int64)


def _as_int64(values, shape: tuple[int, ...]) -> np.ndarray:
    """``values`` as int64 of ``shape`` (the array itself when it already is)."""
    out = np.asarray(values, dtype=np.int64)
    return out if out.shape == shape else out.reshape(shape)


_MASKS: dict[tuple[int, bool], np.ndarray] = {}


def _mask(n: int, value: bool) -> np.ndarray:
    """A read-only (n,) bool array filled with ``value``, made once per block size."""
    mask = _MASKS.get((n, value))
    if mask is None:
        mask = np.full(n, value)
        mask.flags.writeable = False
        if n <= 256:
            _MASKS[(n, value)] = mask
    return mask


def gaps_from_seq(seq: np.ndarray) -> tuple[Gap, ...]:
    """Gaps of a stream from the sequence numbers of its received samples.

    Parameters
    ----------
    seq : (N,) int, strictly increasing.

    Returns
    -------
    One :class:`Gap` per jump, ``after_index`` = index of the sample before the jump.
    """
    s = np.asarray(seq, dtype=np.int64)
    jumps = np.diff(s) - 1
    idx = np.flatnonzero(jumps > 0)
    return tuple(Gap(int(i), int(jumps[i])) for i in idx)
