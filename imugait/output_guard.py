"""Before a command writes: never over its own input, never over an existing file unless forced.

Every writer of the command line checks its outputs here *before* the work starts (an analysis
that runs for a minute and then refuses to write is no help), then writes through
:mod:`imugait.atomic`. The rules:

* an output that is one of the command's inputs (same resolved path, or the same file through a
  link) is refused, with or without ``--force``;
* an output that exists is refused unless ``force`` (the message says "use --force to replace it");
* an output that is a folder, or whose folder does not exist or cannot be written, is refused;
* two outputs of one command that are the same file are refused;
* a folder that holds a recording (``recording.imulog``) never becomes the folder of another
  session (:func:`check_session_folder`), not even with ``force``; the recorder's own check is
  :func:`imugait.acquisition.recorder.check_recording_folder`.

:func:`safe_file_stem` turns device- or file-supplied text into a file-name stem.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

from imugait.errors import ImugaitError

RECORDING_LOG_NAME = "recording.imulog"
"""The recorder's log (``imugait.acquisition.recorder.LOG_NAME``): its folder is a recording."""

PathLike = str | os.PathLike

_SAFE_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def same_file(a: PathLike, b: PathLike) -> bool:
    """True when ``a`` and ``b`` name one file (same resolved path, or one inode through links)."""
    pa, pb = Path(a), Path(b)
    if pa.resolve() == pb.resolve():
        return True
    try:
        return os.path.samefile(pa, pb)
    except OSError:  # one of them does not exist
        return False


def check_output(path: PathLike, inputs: Iterable[PathLike | None] = (), force: bool = False) -> Path:
    """Refuse ``path`` as an output file (see the module's rules); returns it as a Path.

    Raises
    ------
    ImugaitError
        ``path`` is an input, exists (without ``force``), is a folder, or its folder is missing or
        not writable.
    """
    p = Path(path)
    for source in inputs:
        if source is not None and same_file(p, source):
            raise ImugaitError(f"{p} is this command's input: refusing to write over it; choose another output")
    if p.is_dir():
        raise ImugaitError(f"{p} is a folder: give a file name for the output")
    folder = p.parent
    if not folder.is_dir():
        raise ImugaitError(f"cannot write {p}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ImugaitError(f"cannot write {p}: folder {folder} is not writable")
    if (p.exists() or p.is_symlink()) and not force:
        raise ImugaitError(f"{p} exists: use --force to replace it")
    return p


def check_outputs(outputs: Iterable[PathLike | None], inputs: Iterable[PathLike | None] = (),
                  force: bool = False) -> list[Path]:
    """:func:`check_output` for each output (``None`` skipped), and no two outputs the same file."""
    inputs = [i for i in inputs if i is not None]
    checked: list[Path] = []
    for out in outputs:
        if out is None:
            continue
        p = check_output(out, inputs, force)
        for earlier in checked:
            if same_file(p, earlier):
                raise ImugaitError(f"{p} is given for two outputs of this command: choose two files")
        checked.append(p)
    return checked


def check_session_folder(folder: PathLike, files: Iterable[str], inputs: Iterable[PathLike | None] = (),
                         force: bool = False) -> Path:
    """Refuse ``folder`` as the output folder of a new session with ``files`` (names in it).

    The folder may be missing (it will be created) or empty; it must not be a file, must not hold a
    recording (never replaced, not even with ``force``), and none of ``files`` may exist unless
    ``force``.
    """
    p = Path(folder)
    if p.exists() and not p.is_dir():
        raise ImugaitError(f"{p} is a file, not a folder: give a folder for the output")
    if (p / RECORDING_LOG_NAME).exists():
        raise ImugaitError(f"{p} holds a recording ({RECORDING_LOG_NAME}): it is never replaced; "
                           "choose another folder")
    if not p.exists():
        return p
    if not os.access(p, os.W_OK | os.X_OK):
        raise ImugaitError(f"cannot write into {p}: the folder is not writable")
    inputs = [i for i in inputs if i is not None]
    for name in files:
        target = p / name
        if any(same_file(target, i) for i in inputs):
            raise ImugaitError(f"{target} is this command's input: refusing to write over it; choose another folder")
        if target.is_dir():
            raise ImugaitError(f"{target} is a folder: cannot write the output there")
        if target.exists() and not force:
            raise ImugaitError(f"{target} exists: use --force to replace it")
    return p


def safe_file_stem(text: str, max_chars: int = 60) -> str:
    """A file-name stem for ``text`` from a device or a file (an id, a walk name).

    Text that is already a plain name (letters, digits, ``.``, ``_``, ``-``; not starting with a
    dot; at most 100 characters) is kept; anything else has each run of other characters replaced by ``_`` and gets a short
    hash, so that distinct texts stay distinct and no path separator, ``..`` or control character
    reaches the file system.
    """
    if _SAFE_STEM.fullmatch(text):
        return text
    stem = _UNSAFE_CHARS.sub("_", text).strip("._")[:max_chars] or "unnamed"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem}-{digest}"
