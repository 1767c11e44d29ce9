"""Optional dependencies: imported only where used, with an error naming the extra to install.

The extras are declared in ``pyproject.toml`` (``[project.optional-dependencies]``); nothing that
the plain ``pip install imugait`` brings in may need a development extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from imugait.errors import ImugaitError


class MissingDependencyError(ImugaitError):
    """An optional package that a feature needs is not installed."""


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``extra``.

    ``feature`` says what needs it ("reading APDM .h5 files"); the message tells the user the
    exact command: ``pip install 'imugait[hdf5]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs the Python package {module.split('.')[0]!r}, which is not installed "
            f"({exc}): pip install 'imugait[{extra}]'"
        ) from None
