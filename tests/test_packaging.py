"""Packaging: one version, optional dependencies named in errors, no dev-only runtime import."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

import imugait
from imugait._optional import MissingDependencyError, require

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_version_has_one_source():
    project = _pyproject()["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert _pyproject()["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "imugait.__version__"}
    assert imugait.__version__.count(".") == 2


def test_extras_exist():
    extras = _pyproject()["project"]["optional-dependencies"]
    for name in ("hdf5", "export", "opensim", "ble-emulation", "batch", "dev"):
        assert name in extras, name
    runtime = " ".join(_pyproject()["project"]["dependencies"])
    for optional in ("h5py", "ezc3d", "opensim", "bluezoo", "dask"):
        assert optional not in runtime


def test_missing_optional_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` raise ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'imugait\[hdf5\]'"):
        require("h5py", "hdf5", "reading APDM files")


def test_broad_reader_names_the_hdf5_extra(monkeypatch, tmp_path):
    from imugait.fusion.broad import load_broad_trial

    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(MissingDependencyError, match=r"imugait\[hdf5\]"):
        load_broad_trial(tmp_path / "x.hdf5")
