"""Hand memory that the analysis has freed back to the operating system.

NumPy and the VQF filter allocate through the C library's heap; after a stage frees its large
temporaries, glibc keeps much of that memory in its arenas (reused later, but counted in the
process's resident set), and Arrow's pool keeps what reading a file used. Between the stages of
a long analysis that slack is hundreds of MB for an hour of four sensors (docs/benchmarks.md,
"Issue 12, memory between stages"). :func:`release_free_heap` returns it: ``malloc_trim(0)`` where the C
library is glibc, Arrow's ``release_unused`` where pyarrow is loaded. It changes no result and
costs milliseconds; elsewhere (macOS, musl, Windows) it does nothing.

:func:`reuse_freed_blocks` (called once by the analysis) keeps large freed blocks in glibc's heap
for the next allocation instead of handing them straight back: by default glibc gives each block
above a sliding threshold (128 KiB, rising to the largest block freed so far) its own mapping,
unmapped when freed, and shrinks the heap whenever its free top exceeds twice that threshold. Every
such page is faulted in again, zero-filled, on its next first write — for the analysis of an hour,
about 200 000 page faults and a quarter of its CPU time on the development machine (a virtual
machine, where faults are dear; docs/benchmarks.md, "fourth round"). With the threshold fixed at
512 MiB (above every array and filter buffer of an hour) and the automatic trim off, freed blocks
are reused in place; memory still goes back to the system at the stage boundaries, where
:func:`release_free_heap` is called.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache


@cache
def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim  # glibc only
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD_BYTES = 512 * 2**20
"""Blocks up to this size come from the heap (an hour-long analysis's largest blocks are tens of
MB). A glibc that refuses so large a threshold gets ``FALLBACK_MMAP_THRESHOLD_BYTES``."""
FALLBACK_MMAP_THRESHOLD_BYTES = 32 * 2**20
"""The largest threshold glibc's own sliding adjustment reaches on 64-bit."""
TRIM_THRESHOLD_BYTES = 2**31 - 1
"""A free heap top up to 2 GiB is kept (mallopt's largest value), returned by
:func:`release_free_heap`."""


@cache
def reuse_freed_blocks() -> bool:
    """Set glibc's heap to keep freed blocks for reuse (see the module's docstring), once per
    process; True if set (glibc), False elsewhere, where it does nothing. It changes no result."""
    if _malloc_trim() is None:
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    # the threshold first: setting either one ends glibc's sliding adjustment of both
    threshold = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) or mallopt(_M_MMAP_THRESHOLD, FALLBACK_MMAP_THRESHOLD_BYTES)
    return bool(threshold) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))


def release_free_heap() -> None:
    """Return freed heap memory to the operating system (see the module's docstring)."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:  # first: what Arrow's pool gives back may land in the C heap
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
