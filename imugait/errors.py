"""The project's own exceptions: each message names what is wrong and where."""

import errno


class ImugaitError(Exception):
    """Base class of every error imugait raises on purpose."""


class ValidationError(ImugaitError, ValueError):
    """Input data that cannot be right (shape, units, NaN, time order, duplicates)."""


class FormatError(ImugaitError):
    """A file that is not a valid imugait or vendor file (corrupt, truncated, wrong columns)."""



class CalibrationError(ImugaitError):
    """The data cannot determine a calibration (no motion, not still, sensors swapped …)."""


def describe_os_error(exc: OSError, with_file: bool = True) -> str:
    """One line for an ``OSError``: ``FILE: what went wrong [ERRNO]`` (the file when known)."""
    where = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None) if with_file else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    code = f" [{errno.errorcode[exc.errno]}]" if exc.errno in errno.errorcode else ""
    return f"{where}: {what}{code}" if where else f"{what}{code}"
