"""Fixtures of the calibration tests (the simulator's sensor model with known truth)."""

from __future__ import annotations

import pytest
from calibration_helpers import procedure_stream, run_procedure


@pytest.fixture(scope="session")
def six():
    return procedure_stream(seed=0)


@pytest.fixture(scope="session")
def six_result(six):
    return run_procedure(six[0])
