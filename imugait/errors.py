"""The project's own exceptions: each message names what is wrong and where."""


class ImugaitError(Exception):
    """Base class of every error imugait raises on purpose."""


class ValidationError(ImugaitError, ValueError):
    """Input data that cannot be right (shape, units, NaN, time order, duplicates)."""


class FormatError(ImugaitError):
    """A file that is not a valid imugait or vendor file (corrupt, truncated, wrong columns)."""



class CalibrationError(ImugaitError):
    """The data cannot determine a calibration (no motion, not still, sensors swapped …)."""
