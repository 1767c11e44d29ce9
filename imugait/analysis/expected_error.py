"""How far a leg's angles can be off, by how it was calibrated — stated with every result.

The numbers are measured, not assumed: the simulated cohort of ``benchmarks/accuracy.py`` with
the literature soft-tissue artefact on thigh and shank (``imugait/data/soft_tissue_artefact.json``),
95th percentile over the cohort's legs, per anatomical reference (a standing period, or
mid-stance when the recording starts walking at once). The data file names the run.
"""

from __future__ import annotations

from functools import cache

from imugait.data import load_json

EXPECTED_ERROR_FILE = "calibration_expected_error.json"
STANDING, MID_STANCE = "standing", "mid-stance"


@cache
def expected_error_deg(reference: str) -> dict[str, float]:
    """Angle name → 95th-percentile error (deg) on the simulated cohort for ``reference``
    (:data:`STANDING` or :data:`MID_STANCE`)."""
    entry = load_json(EXPECTED_ERROR_FILE)["references"][reference]
    return {name: float(value) for name, value in entry.items()}


def describe(reference: str, heading_source: str) -> str:
    """One line for people: the reference, what fixed the heading, the expected errors."""
    err = expected_error_deg(reference)
    return (f"referred to {reference}, heading from the {heading_source}; on simulated walkers with soft-tissue "
            f"artefact 95 % of legs were within {err['knee_flexion_rmse_deg']:.1f}° knee flexion, "
            f"{err['hip_rotation_rmse_deg']:.1f}° hip rotation (RMSE) and "
            f"{err['hip_rotation_walk_mean_error_deg']:.1f}° on the walk's mean hip rotation")
