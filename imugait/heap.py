"""Hand memory that the analysis has freed back to the operating system.

NumPy and the VQF filter allocate through the C library's heap; after a stage frees its large
temporaries, glibc keeps much of that memory in its arenas (reused later, but counted in the
process's resident set), and Arrow's pool keeps what reading a file used. Between the stages of
a long analysis that slack is hundreds of MB for an hour of four sensors (docs/benchmarks.md,
"Issue 12, memory between stages"). :func:`release_free_heap` returns it: ``malloc_trim(0)`` where the C
library is glibc, Arrow's ``release_unused`` where pyarrow is loaded. It changes no result and
costs milliseconds; elsewhere (macOS, musl, Windows) it does nothing.
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


def release_free_heap() -> None:
    """Return freed heap memory to the operating system (see the module's docstring)."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:  # first: what Arrow's pool gives back may land in the C heap
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
