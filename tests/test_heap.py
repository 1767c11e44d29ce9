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



_REUSE_CHILD = r"""
import ctypes, resource, sys
from imugait.heap import reuse_freed_blocks
if sys.argv[1] == "reuse":
    assert reuse_freed_blocks()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
sizes = [k * 2**20 for k in (6, 12, 17, 23)]  # an hour-long sensor's arrays: (N,) to (N, 4) float64

def touched_and_freed(n):
    p = libc.malloc(n)
    ctypes.memset(p, 1, n)
    libc.free(p)

touched_and_freed(max(sizes))
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for n in sizes:
    touched_and_freed(n)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _page_faults_of_reallocation(mode: str) -> int:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _REUSE_CHILD, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_freed_large_blocks_are_reused_without_page_faults():
    """Blocks of 6 to 23 MB allocated, written and freed in turn after a larger one: glibc's
    defaults map each afresh (a page fault per 4-KB page); after reuse_freed_blocks the heap
    keeps the memory and every block reuses it."""
    if _malloc_trim() is None:
        pytest.skip("no glibc here: reuse_freed_blocks does nothing (by design)")
    default = _page_faults_of_reallocation("default")
    if default < 5000:
        pytest.skip(f"this C library reuses the block by default ({default} page faults): nothing to show")
    assert _page_faults_of_reallocation("reuse") < default / 20
