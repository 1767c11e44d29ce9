"""How far a leg's angles can be off, by how it was calibrated and the rate it was sampled at —
stated with every result.

The numbers are measured, not assumed: the simulated cohort of ``benchmarks/accuracy.py`` with
the literature soft-tissue artefact on thigh and shank (``imugait/data/soft_tissue_artefact.json``),
95th percentile over the cohort's legs, per anatomical reference (a standing period, or
mid-stance when the recording starts walking at once) and per sample rate (``--sample-rate``:
cheap sensors run at 25–60 Hz, and knee flexion's error grows at lower rates). A leg gets the
figures measured at the nearest rate at or below its own (conservative); below the lowest rate
measured, the lowest rate's, and the sentence says so. The data file names each run.

The simulated sensors take point samples (no low-pass before sampling): right for a chip whose
filter is set wide, pessimistic at 25 Hz for one that low-passes at its output rate. No recording
format says which a device does, so the sentence states the point-sampled figures, says so, and
where the cohort was also measured with sensors that low-pass at their rate (the entry's
``low_pass``; ``benchmarks/accuracy.py --anti-alias odr``) adds those figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from imugait.data import load_json

EXPECTED_ERROR_FILE = "calibration_expected_error.json"
STANDING, MID_STANCE = "standing", "mid-stance"

RATE_TOLERANCE = 0.01
"""A leg's rate within 1 % below a measured rate counts as that rate (a device's nominal rate is
often quoted as, e.g., 99.9 Hz; the error does not change over such a step)."""


@dataclass(frozen=True)
class ExpectedError:
    """The errors to expect for one leg (``errors_deg``: angle name → 95th percentile, deg, None
    for an angle the calibration does not measure) and where they were measured."""

    errors_deg: dict[str, float | None]
    measured_at: str
    """The sample rate(s) of the simulated recordings, in words (``50 Hz``)."""
    measured_rate_hz: float
    """The (lowest) sample rate of those recordings, Hz."""
    leg_rate_hz: float | None
    below_measured: bool
    """The leg's rate is below every rate measured: the figures are the lowest rate's."""
    low_pass_errors_deg: dict[str, float | None] | None = None
    """The same errors with sensors that low-pass at their rate (None: not measured at that rate);
    ``errors_deg`` are those of point-sampling sensors."""

    @property
    def where(self) -> str:
        """``recorded at 50 Hz`` (and, below it, that the leg's rate was not measured)."""
        text = f"recorded at {self.measured_at} by sensors that point-sample (no low-pass before sampling)"
        if self.below_measured and self.leg_rate_hz is not None:
            text += f"; this leg's {self.leg_rate_hz:g} Hz is below the rates measured"
        elif self.leg_rate_hz is None:
            text += "; this leg's sample rate is unknown"
        return text


def _by_rate(pose_only: bool) -> list[dict[str, Any]]:
    doc = load_json(EXPECTED_ERROR_FILE)
    return sorted(doc["pose_only_by_sample_rate" if pose_only else "by_sample_rate"], key=lambda e: e["sample_rate_hz"])


@cache
def expected_error(reference: str, sample_rate_hz: float | None, pose_only: bool = False) -> ExpectedError:
    """The errors to expect on a leg sampled at ``sample_rate_hz`` (Hz; None: unknown, the lowest
    rate's figures) referred to ``reference`` (:data:`STANDING` or :data:`MID_STANCE`), of the
    regular calibration or of the pose-only fallback: the figures measured at the nearest rate at
    or below the leg's (within :data:`RATE_TOLERANCE`), or the lowest rate's."""
    entries = _by_rate(pose_only)
    fitting = [e for e in entries
               if sample_rate_hz is not None and sample_rate_hz >= e["sample_rate_hz"] * (1.0 - RATE_TOLERANCE)]
    entry = fitting[-1] if fitting else entries[0]
    low_pass = entry.get("low_pass")
    return ExpectedError(_floats(entry["references"][reference]), entry["measured_at"], float(entry["sample_rate_hz"]),
                         sample_rate_hz, below_measured=sample_rate_hz is not None and not fitting,
                         low_pass_errors_deg=_floats(low_pass["references"][reference]) if low_pass else None)


def _floats(errors: dict[str, Any]) -> dict[str, float | None]:
    return {name: None if value is None else float(value) for name, value in errors.items()}


def expected_error_deg(reference: str, sample_rate_hz: float | None, pose_only: bool = False) -> dict[str, float | None]:
    """Angle name → 95th-percentile error (deg) of :func:`expected_error`."""
    return expected_error(reference, sample_rate_hz, pose_only).errors_deg


def describe(reference: str, heading_source: str, sample_rate_hz: float | None, pose_only: bool = False) -> str:
    """One line for people: the reference, what fixed the heading, the expected errors and the
    sample rate they were measured at."""
    expected = expected_error(reference, sample_rate_hz, pose_only)
    err = expected.errors_deg
    walkers = f"on simulated walkers with soft-tissue artefact {expected.where}, 95 % of legs were within"
    low = expected.low_pass_errors_deg
    if pose_only:
        also = ("" if low is None else f" (with sensors that low-pass at their rate, {low['knee_flexion_rmse_deg']:.1f}° "
                f"and {low['knee_rotation_rmse_deg']:.1f}°)")
        return (f"referred to {reference}, calibrated from the {heading_source} (no knee model); {walkers} "
                f"{err['knee_flexion_rmse_deg']:.1f}° knee flexion and {err['knee_rotation_rmse_deg']:.1f}° knee "
                f"rotation (RMSE){also}; hip rotation not measured")
    text = (f"referred to {reference}, heading from the {heading_source}; {walkers} "
            f"{err['knee_flexion_rmse_deg']:.1f}° knee flexion, {err['hip_rotation_rmse_deg']:.1f}° hip rotation "
            f"(RMSE) and {err['hip_rotation_walk_mean_error_deg']:.1f}° on the walk's mean hip rotation")
    if low is not None:
        text += (f" (with sensors that low-pass at their rate, {low['knee_flexion_rmse_deg']:.1f}°, "
                 f"{low['hip_rotation_rmse_deg']:.1f}° and {low['hip_rotation_walk_mean_error_deg']:.1f}°)")
    return text
