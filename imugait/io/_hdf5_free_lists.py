"""libhdf5's free lists switched off while APDM files are read.

libhdf5 keeps freed blocks of its internal structures on free lists for reuse. Fuzzing found
damaged APDM ``.h5`` files (a damaged local heap's free list) whose every further read in the same
process is slower than the one before — 0.11, 0.17, 0.24, 0.31 … s of CPU for a file that reads in
0.13 s in a fresh process, and over 14 s after many such files — in libhdf5's own free-list
handling (docs/reliability.md, "A slow-down inside libhdf5"). With the free-list limits at 0 (a
freed block goes back to the C allocator at once) every read of it takes the same 0.10 s.

h5py does not expose ``H5set_free_list_limits``, so it is called through ctypes on the libhdf5
h5py has loaded, found in ``/proc/self/maps``: Linux only; elsewhere, or when the library or the
symbol is not found, nothing is changed. Process-wide and once per process.
"""

from __future__ import annotations

import ctypes
import functools


def _loaded_libhdf5() -> str | None:
    """Path of the libhdf5 this process has loaded (not the high-level ``libhdf5_hl``)."""
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "/libhdf5" in line}
    except OSError:
        return None
    main = sorted(p for p in paths if "libhdf5_hl" not in p and ".so" in p)
    return main[0] if main else None


@functools.cache
def switch_off_hdf5_free_lists() -> bool:
    """Set libhdf5's free-list limits to 0 (h5py must be imported first); True if it was done."""
    path = _loaded_libhdf5()
    if path is None:
        return False
    try:
        set_limits = ctypes.CDLL(path).H5set_free_list_limits
    except (OSError, AttributeError):
        return False
    set_limits.argtypes = [ctypes.c_int] * 6
    set_limits.restype = ctypes.c_int
    return set_limits(0, 0, 0, 0, 0, 0) >= 0
