"""Real data: offline VQF on a 60 s segment of a BROAD trial against optical ground truth.

Skipped when ``../shared/datasets/broad`` (next to the repository root) is absent. Tolerance: on
the full undisturbed slow-rotation trial VQF's 6-axis inclination RMSE is 0.3° (our benchmark,
docs/accuracy.md; Laidig & Seel 2023 report ≈ 1° mean for undisturbed BROAD trials); the optical
reference itself is good to a few tenths of a degree. 1.0° leaves room for the short segment's
start-up yet fails on any frame, unit or rate mistake (those cost many degrees).
"""

from __future__ import annotations

import pytest

from imugait.fusion import FilterKind, FusionSettings, make_filter
from imugait.fusion.broad import BROAD_DIR, load_broad_trial
from imugait.fusion.evaluation import WorldAlignment, orientation_rmse

TRIAL = BROAD_DIR / "02_undisturbed_slow_rotation_B.hdf5"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not TRIAL.exists(), reason=f"BROAD dataset not found at {TRIAL} (see ../shared/datasets/README.md)"),
]


@pytest.fixture(scope="module")
def trial():
    return load_broad_trial(TRIAL, t_start_s=0.0, t_end_s=60.0)


def test_offline_vqf_inclination_on_broad_segment(trial):
    # Its speed is benchmarks/fusion_speed.py's business: no assertion here depends on the machine's load.
    result = make_filter(FilterKind.VQF_OFFLINE, FusionSettings.from_rate(trial.rate_hz)).estimate(
        trial.gyr_radps, trial.acc_mps2
    )
    rmse, alignment = orientation_rmse(result.q_world_sensor, trial.q_ref, trial.movement)
    assert rmse.n_samples > 15.0 * trial.rate_hz  # ≥ 15 s of movement with optical tracking
    assert rmse.inclination_deg < 1.0
    assert rmse.total_deg < 2.0


def test_9d_heading_without_world_alignment(trial):
    # BROAD's opt_quat is ENU: 9-axis VQF must agree with it without any heading fitted.
    settings = FusionSettings.from_rate(trial.rate_hz, use_magnetometer=True)
    result = make_filter(FilterKind.VQF_OFFLINE, settings).estimate(trial.gyr_radps, trial.acc_mps2, trial.mag_uT)
    rmse, _ = orientation_rmse(result.q_world_sensor, trial.q_ref, trial.movement, world=WorldAlignment.NONE, sensor_to_marker=False)
    assert rmse.heading_deg < 3.0
