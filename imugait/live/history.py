"""A bounded, columnar history of the newest rows: the live pipeline's memory stays flat.

Each column is a numpy array whose first axis is time. Rows are appended in blocks; once more than
``capacity`` rows were appended, the oldest are forgotten. Storage is twice the capacity, so the
newest rows are always one contiguous slice (a view, no copy) and moving them back to the front
happens once per ``capacity`` appended rows (amortised constant cost per row).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np

from imugait.errors import ValidationError


class History:
    """The newest ``capacity`` rows of named columns.

    Parameters
    ----------
    capacity : rows kept (at least 1).
    columns : name → trailing shape of one row (``()`` for a scalar, ``(3,)`` for a vector);
        float64 unless ``dtypes`` names another type.
    packed : name → float64 vector columns of ``columns`` kept side by side in one array, which is
        itself a column under that name (read only: appends name its members) — so that rows of
        all of them are gathered at once (the live grid interpolates a sensor's accelerations and
        rates with one gather). Its members are views of it (rows not contiguous).
    """

    def __init__(self, capacity: int, columns: Mapping[str, tuple[int, ...]],
                 dtypes: Mapping[str, type] | None = None, packed: Mapping[str, tuple[str, ...]] | None = None) -> None:
        if capacity < 1:
            raise ValidationError(f"a history needs a capacity of at least 1 row, got {capacity}")
        self.capacity = int(capacity)
        dtypes = dtypes or {}
        self._columns = tuple(columns)
        self._names = frozenset(columns)  # (an append compares its keys with it: made once)
        self._data: dict[str, np.ndarray] = {}
        self._storage: list[np.ndarray] = []  # each array once (members of a packed column are views)
        for pack, members in (packed or {}).items():
            if pack in columns or any(len(columns[m]) != 1 or m in dtypes for m in members):
                raise ValidationError(f"a history packs float64 vector columns under a new name; got {pack!r}: {members}")
            block = np.zeros((2 * self.capacity, sum(columns[m][0] for m in members)))
            self._data[pack] = block
            self._storage.append(block)
            start = 0
            for m in members:
                self._data[m] = block[:, start:start + columns[m][0]]
                start += columns[m][0]
        for name, shape in columns.items():
            if name not in self._data:
                self._data[name] = np.zeros((2 * self.capacity, *shape), dtype=dtypes.get(name, np.float64))
                self._storage.append(self._data[name])
        self._start = 0  # storage row of the oldest kept row
        self._stop = 0  # storage row after the newest
        self.n_appended = 0
        """Rows appended since construction (the absolute index of the next row)."""

    def __len__(self) -> int:
        return self._stop - self._start

    @property
    def first_index(self) -> int:
        """Absolute index (counted since construction) of the oldest kept row."""
        return self.n_appended - len(self)

    def append(self, rows: Mapping[str, np.ndarray]) -> None:
        """Append the same number of rows to every column."""
        lengths = [len(values) for values in rows.values()]
        k = lengths[0] if lengths else 0
        if rows.keys() != self._names or lengths.count(k) != len(lengths):
            n = {name: len(values) for name, values in rows.items()}
            raise ValidationError(f"a history append needs equally many rows of every column {sorted(self._columns)}, "
                                  f"got {n}")
        if k > self.capacity:  # only the newest fit
            rows = {name: values[-self.capacity:] for name, values in rows.items()}
            self.n_appended += k - self.capacity
            k = self.capacity
            self._start = self._stop = 0
        if self._stop + k > 2 * self.capacity:
            keep = min(len(self), self.capacity - k)
            for column in self._storage:
                column[:keep] = column[self._stop - keep:self._stop]
            self._start, self._stop = 0, keep
        data = self._data
        for name in self._columns:
            data[name][self._stop:self._stop + k] = rows[name]
        self._stop += k
        self.n_appended += k
        if len(self) > self.capacity:
            self._start = self._stop - self.capacity

    def tail(self, name: str, n: int | None = None) -> np.ndarray:
        """The newest ``n`` rows (all kept rows when None) of column ``name``, oldest first — a
        view that is valid until the next append."""
        size = self._stop - self._start
        n = size if n is None else min(int(n), size)
        return self._data[name][self._stop - n:self._stop]

    def since(self, name: str, index: int) -> np.ndarray:
        """Rows of ``name`` from absolute index ``index`` on (clamped to what is kept), a view."""
        stop = self._stop
        first = self.n_appended - (stop - self._start)
        return self._data[name][stop - (self.n_appended - max(int(index), first)):stop]

    def skip_to(self, index: int) -> None:
        """Forget every row and continue at absolute index ``index`` (not before the current one)."""
        self.n_appended = max(self.n_appended, int(index))
        self._start = self._stop = 0

    def copy(self, names: Collection[str] | None = None) -> History:
        """A history of the kept rows of columns ``names`` (every column when None; a packed
        column's members as columns of their own), at the same absolute indices: a snapshot that
        later appends to this one do not change."""
        names = [n for n in self._columns] if names is None else list(names)
        data = self._data
        copied = History(self.capacity, {n: data[n].shape[1:] for n in names},
                         {n: data[n].dtype.type for n in names if data[n].dtype != np.float64})
        copied.skip_to(self.first_index)
        copied.append({n: self.tail(n) for n in names})
        return copied

    def drop_before(self, index: int) -> None:
        """Forget the rows before absolute index ``index``."""
        self._start = min(self._stop, max(self._start, self._start + int(index) - self.first_index))
