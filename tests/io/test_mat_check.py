"""The structure check run on a MATLAB v5 file before scipy reads it (``imugait.io._mat_check``)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from imugait.io._mat_check import MatStructureError, check_mat5


def _mat(**variables) -> bytes:
    buf = io.BytesIO()
    scipy.io.savemat(buf, variables, do_compression=variables.pop("_compress", False))
    return buf.getvalue()


@pytest.mark.parametrize("compress", [False, True])
def test_well_formed_sparse_arrays_pass(compress):
    real = scipy.sparse.csc_matrix(np.array([[0.0, 1.5, 0.0], [2.0, 0.0, 0.0]]))
    cplx = scipy.sparse.csc_matrix(np.array([[0.0, 1j], [3.0, 0.0]]))
    empty = scipy.sparse.csc_matrix((4, 5))
    data = _mat(real=real, cplx=cplx, empty=empty, _compress=compress)
    check_mat5(data)
    back = scipy.io.loadmat(io.BytesIO(data))
    assert (back["real"] != real).nnz == 0 and (back["cplx"] != cplx).nnz == 0


def _sparse_part_offsets(data: bytes) -> tuple[int, int]:
    """Byte offsets of the row-index and column-start tags of the file's only (uncompressed) array."""
    pos = 128 + 8  # inside the miMATRIX
    offsets = []
    for _ in range(5):  # flags, dimensions, name, row indices, column starts
        first, nbytes = struct.unpack_from("<II", data, pos)
        offsets.append(pos)
        pos += 8 if first >> 16 else 8 + (nbytes + 7) // 8 * 8
    return offsets[3], offsets[4]


def test_a_sparse_array_with_a_row_index_out_of_range_is_refused():
    data = bytearray(_mat(s=scipy.sparse.csc_matrix(np.array([[0.0, 1.5], [2.0, 0.0]]))))
    rows_at, _ = _sparse_part_offsets(bytes(data))
    struct.pack_into("<i", data, rows_at + 8, 7)  # the first row index: 7 in a 2-row array
    with pytest.raises(MatStructureError, match="row index outside 0..1"):
        check_mat5(bytes(data))


def test_a_sparse_array_whose_column_starts_fall_is_refused():
    data = bytearray(_mat(s=scipy.sparse.csc_matrix(np.array([[0.0, 1.5], [2.0, 0.0]]))))
    _, starts_at = _sparse_part_offsets(bytes(data))
    struct.pack_into("<i", data, starts_at + 8 + 4, 5)  # starts 0, 5, 2
    with pytest.raises(MatStructureError, match="column starts"):
        check_mat5(bytes(data))
