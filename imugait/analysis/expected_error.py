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
def expected_error_deg(reference: str, pose_only: bool = False) -> dict[str, float | None]:
    """Angle name → 95th-percentile error (deg) on the simulated cohort for ``reference``
    (:data:`STANDING` or :data:`MID_STANCE`), of the regular calibration or of the pose-only
    fallback (None for an angle that calibration does not measure)."""
    entry = load_json(EXPECTED_ERROR_FILE)["pose_only" if pose_only else "references"][reference]
    return {name: None if value is None else float(value) for name, value in entry.items()}


def describe(reference: str, heading_source: str, pose_only: bool = False) -> str:
    """One line for people: the reference, what fixed the heading, the expected errors."""
    err = expected_error_deg(reference, pose_only)
    if pose_only:
        return (f"referred to {reference}, calibrated from the {heading_source} (no knee model); on simulated "
                f"walkers with soft-tissue artefact 95 % of legs were within {err['knee_flexion_rmse_deg']:.1f}° knee "
                f"flexion and {err['knee_rotation_rmse_deg']:.1f}° knee rotation (RMSE); hip rotation not measured")
    return (f"referred to {reference}, heading from the {heading_source}; on simulated walkers with soft-tissue "
            f"artefact 95 % of legs were within {err['knee_flexion_rmse_deg']:.1f}° knee flexion, "
            f"{err['hip_rotation_rmse_deg']:.1f}° hip rotation (RMSE) and "
            f"{err['hip_rotation_walk_mean_error_deg']:.1f}° on the walk's mean hip rotation")
