"""Atomic file replacement: a crash never leaves a half-written file where a good one was."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from imugait.errors import ImugaitError

_NEW_FILE_MODE = 0o644


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the folder of ``path``; on success move it onto ``path``.

    The caller writes the whole file to the yielded path. When the ``with`` block ends without an
    exception the temporary file is flushed to disk (``fsync``), renamed over ``path`` with
    ``os.replace`` (atomic on POSIX and Windows) and the folder entry is flushed too. On any
    exception the temporary file is removed and ``path`` is left untouched.

    Raises
    ------
    ImugaitError
        The target folder does not exist.
    OSError
        Writing failed (disk full, read-only folder …); the error names ``path``, not the
        temporary file, and ``path`` is as it was.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise ImugaitError(f"cannot write {target}: folder {folder} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _naming(exc, target) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; keep the mode of the file being replaced, else a normal one.
        mode = target.stat().st_mode & 0o777 if target.exists() else _NEW_FILE_MODE
        os.chmod(tmp, mode)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.filename in (None, str(tmp), tmp):
            raise _naming(exc, target) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def _naming(exc: OSError, target: Path) -> OSError:
    """``exc`` about ``target`` (the user's file) instead of the temporary file."""
    return type(exc)(exc.errno, exc.strerror or str(exc), str(target)) if exc.errno else exc


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not supported on every platform (e.g. Windows).
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` through :func:`atomic_path`; returns the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)
