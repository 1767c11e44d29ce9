"""Check the element structure of a MATLAB v5 ``.mat`` file before scipy reads it.

``scipy.io.loadmat``'s v5 reader is not hardened against damaged files (its docstring says so
since scipy 1.17): an element tag with an unknown data type, or sizes that run past their
parent, can crash the interpreter (segmentation fault, bus error) or make it allocate gigabytes
instead of raising. Fuzzing found such files (``docs/reliability.md``). This walks every element
tag — the 128-byte header, then ``miMATRIX`` elements and their sub-elements, ``miCOMPRESSED``
elements decompressed with a size bound — and refuses a file whose structure cannot be right,
so that only well-formed files reach scipy. Layout: MathWorks, "MAT-File Format" (R2024a),
chapter 1 (Level 5 MAT-files).
"""

from __future__ import annotations

import struct
import zlib

_VALID_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 14, 15, 16, 17, 18})
"""miINT8 … miSINGLE, miDOUBLE, miINT64, miUINT64, miMATRIX, miCOMPRESSED, miUTF8/16/32."""
_MATRIX, _COMPRESSED, _INT32, _UINT32 = 14, 15, 5, 6
_SPARSE_CLASS = 5
_NUMERIC_CLASSES = (6, 15)
"""mxDOUBLE_CLASS … mxUINT64_CLASS."""
_COMPLEX_FLAG = 0x08
_ITEM_BYTES = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8}
_INT_FORMATS = {1: "b", 2: "B", 3: "h", 4: "H", 5: "i", 6: "I", 12: "q", 13: "Q"}
"""struct formats of the integer element types (the row indices and column starts of a sparse array)."""
_MAX_DEPTH = 32
_MAX_EXPANSION = 200
"""A compressed element may inflate to at most this many times the file's size."""


class MatStructureError(ValueError):
    """The file's element structure cannot be right (the message says where)."""


def check_mat5(data: bytes) -> None:
    """Raise :class:`MatStructureError` if ``data`` is a v5 MAT file with a damaged structure.

    Files that are not v5 (v4, v7.3/HDF5) are left to scipy, which refuses or reads them safely.
    """
    if len(data) < 128 or data[126:128] not in (b"IM", b"MI"):
        return
    order = "<" if data[126:128] == b"IM" else ">"
    budget = [_MAX_EXPANSION * len(data) + (1 << 20)]
    _walk(data, 128, len(data), order, 0, budget, top=True)


def _tags(data: bytes, start: int, end: int, order: str):
    """(mdtype, offset of the data, number of bytes) of each element in ``data[start:end]``."""
    pos = start
    while pos < end:
        if end - pos < 8:
            if data[pos:end].strip(b"\x00"):
                raise MatStructureError(f"{end - pos} stray byte(s) at byte {pos}")
            return
        first, nbytes = struct.unpack_from(order + "II", data, pos)
        if first >> 16:  # small data element: type and size in the first 4 bytes, data in the next 4
            mdtype, nbytes, body, step = first & 0xFFFF, first >> 16, pos + 4, 8
            if nbytes > 4:
                raise MatStructureError(f"small element at byte {pos} claims {nbytes} bytes (at most 4)")
        else:
            mdtype, body = first, pos + 8
            step = 8 + (nbytes if mdtype == _COMPRESSED else (nbytes + 7) // 8 * 8)
            if body + nbytes > end:
                raise MatStructureError(f"element at byte {pos} claims {nbytes} bytes; only {end - body} follow")
        if mdtype not in _VALID_TYPES:
            raise MatStructureError(f"element at byte {pos} has unknown data type {mdtype}")
        yield mdtype, body, nbytes
        pos += step


def _walk(data: bytes, start: int, end: int, order: str, depth: int, budget: list[int], top: bool = False) -> None:
    if depth > _MAX_DEPTH:
        raise MatStructureError(f"elements nested more than {_MAX_DEPTH} deep")
    for mdtype, body, nbytes in _tags(data, start, end, order):
        if mdtype == _COMPRESSED:
            if not top:
                raise MatStructureError(f"compressed element inside an array at byte {body - 8}")
            inner = _inflate(data[body:body + nbytes], budget, body - 8)
            _walk(inner, 0, len(inner), order, depth + 1, budget)
        elif mdtype == _MATRIX:
            _matrix(data, body, body + nbytes, order, depth, budget)
        elif top:
            raise MatStructureError(f"top-level element at byte {body - 8} is not an array (type {mdtype})")


def _matrix(data: bytes, start: int, end: int, order: str, depth: int, budget: list[int]) -> None:
    if start == end:
        return  # an empty miMATRIX is an empty array
    parts = list(_tags(data, start, end, order))
    if len(parts) < 3 or parts[0][0] != _UINT32 or parts[0][2] != 8 or parts[1][0] != _INT32:
        raise MatStructureError(f"array at byte {start - 8} lacks its flags, dimensions and name")
    array_class = data[parts[0][1] + (0 if order == "<" else 3)]
    dims_at, dims_bytes = parts[1][1], parts[1][2]
    if dims_bytes < 8 or dims_bytes % 4:
        raise MatStructureError(f"array at byte {start - 8} has {dims_bytes} bytes of dimensions")
    dims = struct.unpack_from(f"{order}{dims_bytes // 4}i", data, dims_at)
    if min(dims) < 0:
        raise MatStructureError(f"array at byte {start - 8} has negative dimensions {dims}")
    count = 1
    for d in dims:
        count *= d
    if array_class != _SPARSE_CLASS and count > 8 * (end - start) + 64:
        raise MatStructureError(f"array at byte {start - 8} declares {count} elements in {end - start} bytes")
    complex_ = bool(data[parts[0][1] + (1 if order == "<" else 2)] & _COMPLEX_FLAG)
    if _NUMERIC_CLASSES[0] <= array_class <= _NUMERIC_CLASSES[1]:
        _numeric(parts[3:], count, complex_, start)
    elif array_class == _SPARSE_CLASS:
        _sparse(data, parts[3:], dims, complex_, start, order)
    for mdtype, body, nbytes in parts[3:]:
        if mdtype == _MATRIX:
            if depth + 1 > _MAX_DEPTH:
                raise MatStructureError(f"arrays nested more than {_MAX_DEPTH} deep")
            _matrix(data, body, body + nbytes, order, depth + 1, budget)
        elif mdtype == _COMPRESSED:
            raise MatStructureError(f"compressed element inside an array at byte {body - 8}")


def _numeric(parts: list[tuple[int, int, int]], count: int, complex_: bool, start: int) -> None:
    """A numeric array holds a real part (and an imaginary one if flagged complex) of ``count``
    values each, stored as one of the numeric element types."""
    if len(parts) != 1 + complex_:
        raise MatStructureError(f"numeric array at byte {start - 8} has {len(parts)} data part(s), "
                                f"expected {1 + complex_}")
    for mdtype, _body, nbytes in parts:
        size = _ITEM_BYTES.get(mdtype)
        if size is None or nbytes != count * size:
            raise MatStructureError(f"numeric array at byte {start - 8}: {nbytes} bytes of type {mdtype} "
                                    f"for {count} values")


def _sparse(data: bytes, parts: list[tuple[int, int, int]], dims: tuple[int, ...], complex_: bool, start: int,
            order: str) -> None:
    """A sparse (M, N) array holds row indices, N + 1 column starts (0 first, never decreasing) and
    the values (a real part, and an imaginary one if flagged complex) of at least as many entries
    as the last start says, every row index below M. scipy reads these parts without checking
    their presence or sizes: fuzzing found a sparse array with only a value part that crashed it."""
    where = f"sparse array at byte {start - 8}"
    if len(dims) != 2:
        raise MatStructureError(f"{where} has {len(dims)} dimensions, expected 2")
    if len(parts) != 3 + complex_:
        raise MatStructureError(f"{where} has {len(parts)} data part(s), expected {3 + complex_} "
                                "(row indices, column starts, values)")
    for mdtype, _body, nbytes in parts:
        size = _ITEM_BYTES.get(mdtype)
        if size is None or nbytes % size:
            raise MatStructureError(f"{where}: {nbytes} bytes of type {mdtype} are not whole numbers")
    rows, starts = (_integers(data, part, order, where) for part in parts[:2])
    m, n = dims
    if len(starts) < n + 1 or starts[0] != 0 or any(b < a for a, b in zip(starts[:n], starts[1:n + 1], strict=True)):
        raise MatStructureError(f"{where}: its {len(starts)} column starts are not {n + 1} rising from 0")
    entries = starts[n]
    if any(nbytes // _ITEM_BYTES[mdtype] < entries for mdtype, _body, nbytes in (parts[0], *parts[2:])):
        raise MatStructureError(f"{where}: fewer row indices or values than its {entries} entries")
    if any(not 0 <= r < m for r in rows[:entries]):
        raise MatStructureError(f"{where}: a row index outside 0..{m - 1}")


def _integers(data: bytes, part: tuple[int, int, int], order: str, where: str) -> tuple[int, ...]:
    mdtype, body, nbytes = part
    fmt = _INT_FORMATS.get(mdtype)
    if fmt is None:
        raise MatStructureError(f"{where}: indices of type {mdtype}, not integers")
    return struct.unpack_from(f"{order}{nbytes // _ITEM_BYTES[mdtype]}{fmt}", data, body)


def _inflate(blob: bytes, budget: list[int], at: int) -> bytes:
    d = zlib.decompressobj()
    try:
        out = d.decompress(blob, budget[0] + 1)
    except zlib.error as exc:
        raise MatStructureError(f"compressed element at byte {at} cannot be decompressed ({exc})") from None
    if len(out) > budget[0] or d.unconsumed_tail:
        raise MatStructureError(f"compressed element at byte {at} inflates beyond {budget[0]} bytes")
    budget[0] -= len(out)
    return out
