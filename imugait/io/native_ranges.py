"""A native session file read one time window at a time: long recordings in bounded memory.

:func:`~imugait.io.native.read_session` makes every sample of the file an array at once. A
:class:`SessionFileRanges` instead checks the whole file in streaming passes when opened (the
same checks: placement labels, missing values, each stream's SHA-256) keeping only a sparse time
index, and then :meth:`SessionFileRanges.read` decodes only the row groups that hold a window's
samples. It is the :class:`~imugait.analysis.chunked.SessionSource` of a file for
:func:`~imugait.analysis.chunked.analyze_in_chunks`.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pyarrow as pa

from imugait.errors import FormatError, ValidationError
from imugait.io._session_json import device_from_dict, gaps_from_list, meta_from_dict
from imugait.io.native import (
    COLUMN_GROUPS,
    GROUP_HASHES,
    GROUP_NAMES,
    MOTION_GROUPS,
    READ_BATCH_ROWS,
    carries_label,
    check_flag,
    check_nulls,
    open_native,
    stream_layout,
)
from imugait.model import Gap, ImuStream, Session

INDEX_EVERY = 4096
"""Every this-many samples of a stream, its time is kept to find a window's rows (8 bytes per
4096 samples: 1.4 kB for 8 hours at 200 Hz)."""


class SessionFileRanges:
    """A native session file, verified once, read by time window (see the module).

    ``motion_only``: the windows' streams have no magnetometer and no device orientation, as
    :func:`~imugait.io.native.read_session` with ``motion_only`` — in a file that hashes each column
    group apart, those columns are neither decoded nor verified (an older file is verified whole).
    """

    def __init__(self, path: str | os.PathLike, *, motion_only: bool = False) -> None:
        self._pf, header, self._name = open_native(path)
        self._entries = header["streams"]
        self._counts, self._offsets, self._placements, self._flags = stream_layout(self._pf, header, self._name)
        self._wanted = MOTION_GROUPS if motion_only else (True,) * len(COLUMN_GROUPS)
        self.meta = meta_from_dict(header.get("meta", {}), self._name)
        self._index: list[np.ndarray] = []
        self._last_t: list[float] = []
        self._verify()
        self._gaps = [gaps_from_list(e.get("gaps", []), self._name, f"streams[{i}].gaps") for i, e in enumerate(self._entries)]
        self._devices = [device_from_dict(e.get("device", {}), self._name, f"streams[{i}].device")
                         for i, e in enumerate(self._entries)]
        group_rows = [self._pf.metadata.row_group(g).num_rows for g in range(self._pf.metadata.num_row_groups)]
        self._group_starts = np.cumsum([0, *group_rows])
        present = [i for i, n in enumerate(self._counts) if n]
        if not present:
            raise FormatError(f"{self._name}: the session holds no samples")
        self.t_start_s = min(float(self._index[i][0]) for i in present)
        self.t_end_s = max(self._last_t[i] for i in present)

    def _verify(self) -> None:
        """One streaming pass per column group verified: every group, against the stream's hash
        over its groups in order; or, for a subset with each group hashed apart, those groups."""
        n_streams = len(self._counts)
        by_group = not all(self._wanted) and all(isinstance(e.get(GROUP_HASHES), dict) for e in self._entries)
        verified = self._wanted if by_group else (True,) * len(COLUMN_GROUPS)
        hashes = [hashlib.sha256() for _ in range(n_streams)]
        group_hashes = [[hashlib.sha256() for _ in COLUMN_GROUPS] for _ in range(n_streams)]
        labelled = [True] * n_streams
        index: list[list[np.ndarray]] = [[] for _ in range(n_streams)]
        last_t = [float("nan")] * n_streams
        for g, cols in enumerate(COLUMN_GROUPS):
            if not verified[g]:
                for i in range(n_streams):
                    check_flag(self._flags[i][g], f"{self._name}: {self._placements[i].value}")
                continue
            nulls = [0] * n_streams
            columns = (["placement"] if g == 0 else []) + list(cols)
            row = 0
            try:
                for batch in self._pf.iter_batches(batch_size=READ_BATCH_ROWS, columns=columns, use_threads=False):
                    end = row + batch.num_rows
                    for i, (offset, n) in enumerate(zip(self._offsets, self._counts, strict=True)):
                        lo, hi = max(offset, row), min(offset + n, end)
                        if lo >= hi:
                            continue
                        part = batch.slice(lo - row, hi - lo)
                        if g == 0:
                            labelled[i] &= carries_label(part.column(0), self._placements[i].value)
                        values = part.columns[1:] if g == 0 else part.columns
                        nulls[i] += sum(c.null_count for c in values)
                        if self._flags[i][g] is True and not any(c.null_count for c in values):
                            block = np.column_stack([c.to_numpy() for c in values]) if len(values) > 1 else values[0].to_numpy()
                            (group_hashes[i][g] if by_group else hashes[i]).update(np.ascontiguousarray(block, dtype="<f8"))
                            if g == 0:
                                first = (-(lo - offset)) % INDEX_EVERY  # the next multiple of INDEX_EVERY in the stream
                                index[i].append(block[first::INDEX_EVERY])
                                last_t[i] = float(block[-1])
                    row = end
            except (pa.ArrowException, OSError, ValueError) as exc:
                raise FormatError(f"{self._name} is corrupt: {' '.join(str(exc).split())}") from None
            for i, n in enumerate(self._counts):
                where = f"{self._name}: {self._placements[i].value}"
                if g == 0 and not labelled[i]:
                    raise FormatError(f"{where}: rows {self._offsets[i]}..{self._offsets[i] + n - 1} do not all carry this placement")
                check_nulls(cols, self._flags[i][g], nulls[i], n, where)
        for i, entry in enumerate(self._entries):
            if by_group:
                ok = all(group_hashes[i][g].hexdigest() == entry[GROUP_HASHES].get(key)
                         for g, key in enumerate(GROUP_NAMES) if verified[g] and self._flags[i][g] is True)
            else:
                ok = hashes[i].hexdigest() == entry.get("sha256")
            if not ok:
                raise FormatError(f"{self._name}: {self._placements[i].value}: samples do not match their checksum "
                                  "(the file is corrupt)")
        self._index = [np.concatenate(parts) if parts else np.empty(0) for parts in index]
        self._last_t = last_t

    def read(self, t_start_s: float, t_end_s: float) -> Session:
        """Every stream's samples with ``t_start_s <= t < t_end_s``, as a session (protocol steps
        cut to the window). Raises :class:`FormatError` if the file changed since it was opened."""
        streams = []
        for i in range(len(self._counts)):
            stream = self._read_stream(i, t_start_s, t_end_s)
            if stream is not None:
                streams.append(stream)
        if not streams:
            raise ValidationError(f"{self._name}: no samples between {t_start_s:g} and {t_end_s:g} s")
        return Session(streams, self.meta.cut_to(t_start_s, t_end_s))

    def _read_stream(self, i: int, t_start_s: float, t_end_s: float) -> ImuStream | None:
        index, n = self._index[i], self._counts[i]
        # Rows [lo, hi) of the stream hold the window: from the indexed sample at or before its
        # start to the indexed sample after its end.
        lo = max(int(np.searchsorted(index, t_start_s, side="right")) - 1, 0) * INDEX_EVERY
        hi = min(int(np.searchsorted(index, t_end_s, side="left")) * INDEX_EVERY, n)
        if hi <= lo:
            return None
        arrays = self._read_rows(i, lo, hi)
        t = arrays[0][:, 0]
        i0, i1 = (int(k) for k in np.searchsorted(t, [t_start_s, t_end_s]))
        if i1 - i0 < 2:
            return None
        first = lo + i0
        gaps = tuple(Gap(gap.after_index - first, gap.n_lost) for gap in self._gaps[i]
                     if first <= gap.after_index < lo + i1 - 1)
        acc, gyr, mag, q = (None if a is None else a[i0:i1] for a in arrays[1:])
        try:
            return ImuStream(placement=self._placements[i], t_s=t[i0:i1], acc_mps2=acc, gyr_radps=gyr,
                             sample_rate_hz=float(self._entries[i].get("sample_rate_hz", float("nan"))),
                             mag_uT=mag, q_world_sensor=q, device=self._devices[i], gaps=gaps)
        except (ValidationError, TypeError, ValueError) as exc:
            raise FormatError(f"{self._name}: stored data is invalid: {exc}") from None

    def _read_rows(self, i: int, lo: int, hi: int) -> list[np.ndarray | None]:
        """Rows ``lo..hi`` of stream ``i`` as its (t, acc, gyr, mag, quaternion) arrays, decoding
        only the row groups that hold them."""
        a, b = self._offsets[i] + lo, self._offsets[i] + hi
        g0 = int(np.searchsorted(self._group_starts, a, side="right")) - 1
        g1 = int(np.searchsorted(self._group_starts, b, side="left"))
        arrays = [np.empty((hi - lo, len(cols))) if flag is True and want else None
                  for cols, flag, want in zip(COLUMN_GROUPS, self._flags[i], self._wanted, strict=True)]
        # only the stream's own column groups (verified once when opened): no null column decoded
        columns = [c for cols, arr in zip(COLUMN_GROUPS, arrays, strict=True) if arr is not None for c in cols]
        row = int(self._group_starts[g0])
        try:
            for batch in self._pf.iter_batches(batch_size=READ_BATCH_ROWS, row_groups=list(range(g0, g1)),
                                               columns=columns, use_threads=False):
                end = row + batch.num_rows
                s, e = max(a, row), min(b, end)
                if s < e:
                    part = batch.slice(s - row, e - s)
                    k = 0
                    for arr in arrays:
                        if arr is not None:
                            for j in range(arr.shape[1]):
                                arr[s - a:e - a, j] = part.column(k + j).to_numpy()
                            k += arr.shape[1]
                row = end
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise FormatError(f"{self._name} is corrupt: {' '.join(str(exc).split())}") from None
        return arrays


def recording_span_s(path: str | os.PathLike) -> float:
    """The recording's length (s) without decoding its samples: the last minus the first time stamp
    over all streams, from the time column of only the row groups that hold each stream's first and
    last sample; NaN when the session holds no samples. Raises :class:`FormatError` as
    :func:`~imugait.io.native.read_session` does for a file it cannot decode.

    Not from the row groups' statistics, which would need no decoding at all: pyarrow aborts the
    interpreter (``std::terminate``) reading the statistics of some damaged footers — a one-bit
    flip found by fuzzing — where decoding raises an error that is refused in one line."""
    pf, header, name = open_native(path)
    counts, offsets, _placements, _flags = stream_layout(pf, header, name)
    ends = [(o, o + n - 1) for n, o in zip(counts, offsets, strict=True) if n]
    if not ends:
        return float("nan")
    starts = np.cumsum([0, *(pf.metadata.row_group(g).num_rows for g in range(pf.metadata.num_row_groups))])
    wanted = sorted({r for pair in ends for r in pair})
    groups = sorted({int(np.searchsorted(starts, r, side="right")) - 1 for r in wanted})
    t_at: dict[int, float] = {}
    try:
        for g in groups:
            t = pf.read_row_group(g, columns=["t_s"], use_threads=False).column(0).to_numpy()
            t_at.update({r: float(t[r - starts[g]]) for r in wanted if starts[g] <= r < starts[g + 1]})
    except (pa.ArrowException, OSError, ValueError, IndexError) as exc:
        raise FormatError(f"{name} is corrupt: {' '.join(str(exc).split())}") from None
    if len(t_at) != len(wanted):
        raise FormatError(f"{name} is corrupt: its row groups do not hold the rows its streams list")
    return max(t_at[last] for _first, last in ends) - min(t_at[first] for first, _last in ends)
