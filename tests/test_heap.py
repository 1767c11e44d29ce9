"""`imugait.heap.release_free_heap` gives freed heap memory back (where the C library can)."""

from __future__ import annotations

from pathlib import Path

import pytest

from imugait.heap import _malloc_trim, release_free_heap


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) / 1024.0
    raise AssertionError("no VmRSS")


def test_freed_fragmented_heap_goes_back_to_the_system():
    if _malloc_trim() is None or not Path("/proc/self/status").exists():
        pytest.skip("no glibc malloc_trim here: release_free_heap does nothing (by design)")
    # 200 MB of 2-KB blocks (the C heap, not Python's small-object arenas nor mmap), one in 64 kept:
    # the heap cannot shrink from its top, so its free pages stay resident until trimmed.
    blocks = [bytearray(2048) for _ in range(100_000)]
    kept = blocks[::64]
    del blocks
    before = _rss_mib()
    release_free_heap()
    after = _rss_mib()
    assert before - after > 100.0, (before, after)
    assert all(len(b) == 2048 for b in kept)  # what is still held is untouched

