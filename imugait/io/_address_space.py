"""A cap on the process's address space while a native library parses an untrusted file.

libhdf5 trusts size fields of a damaged file: fuzzing found an APDM ``.h5`` whose object header
makes it allocate (and touch) gigabytes until the kernel kills the process. Under a cap of the
current address space plus a budget, that allocation fails inside the library instead, which
h5py reports as an error the importer turns into a ``FormatError``. Linux only (elsewhere, and
when the current size cannot be read, the block runs uncapped). One block at a time: a lock
keeps two threads from restoring each other's limit (h5py serialises its calls anyway).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def address_space_budget(extra_bytes: int) -> Iterator[None]:
    """Run the block with ``RLIMIT_AS`` at most the current address space + ``extra_bytes``.

    An allocation beyond it fails (``MemoryError`` in Python, an error return in C) instead of
    growing the process. A lower limit already in force is kept.
    """
    try:
        import resource
    except ImportError:  # not a Unix
        yield
        return
    with _LOCK:
        now = _address_space_bytes()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if now is None:
            yield
            return
        cap = now + int(extra_bytes)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft != resource.RLIM_INFINITY and soft <= cap:
            yield
            return
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
