"""Fixtures shared by the dashboard's browser tests."""

from __future__ import annotations

import pytest
from dashboard_helpers import chromium_path


@pytest.fixture(scope="module")
def chromium():
    """The headless Chromium the browser tests drive (installed or checked by the test setup)."""
    return chromium_path()
