"""The shared reader of delimited text files (``imugait.io._text_table``)."""

from __future__ import annotations

import tracemalloc

import pytest

from imugait.errors import FormatError
from imugait.io._text_table import drop_truncated_last_line, float_column, read_text_table


def test_short_lines_read_as_empty_cells_past_their_end(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b,c\n1,2,3\n4,5\n")
    table = read_text_table(p, label="t.csv")
    assert list(table.n_fields) == [3, 2]
    assert [table.cell(1, j) for j in range(3)] == ["4", "5", ""]
    assert list(float_column(table, "b")) == [2.0, 5.0]
    with pytest.raises(FormatError, match="line 3: column c is empty"):
        float_column(table, "c")
    kept, dropped_line = drop_truncated_last_line(table, ["a", "c"])
    assert dropped_line == 3 and len(kept.rows) == 1


def test_a_wide_header_over_many_short_lines_takes_memory_like_the_file(tmp_path):
    """Found while tracing a fuzzing worker's memory peak: rows were padded to the header's width,
    so 16 KB (2,000 named columns, then 4,192 one-number lines) took 65 MB."""
    head = "\t".join(chr(0x4E00 + k) for k in range(2000)) + "\n"
    p = tmp_path / "wide.txt"
    p.write_bytes((head + "1\n" * ((16384 - len(head.encode())) // 2)).encode())
    tracemalloc.start()
    try:
        table = read_text_table(p, label="wide.txt")
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(table.header) == 2000 and len(table.rows) > 4000
    assert peak_bytes < 8 << 20  # was > 60 MB
