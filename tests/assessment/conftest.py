"""Simulated assessment sessions shared by the assessment tests (seeded; simulated once)."""

from __future__ import annotations

import pytest

from imugait.assessment import assess_session
from imugait.simulate.postures import LegProtocolParams, ProtocolParams
from imugait.simulate.protocols import ProtocolSimConfig, simulate_protocols
from imugait.simulate.walker import SideParams, WalkerParams

BATTERY_CONFIG = ProtocolSimConfig(
    seed=11,
    walker=WalkerParams(right=SideParams(hip_rotation_offset_deg=12.0, knee_valgus_deg=3.0),
                        left=SideParams(hip_rotation_offset_deg=-4.0)),
    protocol=ProtocolParams(
        weight_shift_deg=3.0,
        left=LegProtocolParams(supine_hip_rotation_deg=-12.0, prone_internal_range_deg=32.0,
                               prone_external_range_deg=44.0, balance_sway_deg=0.8, balance_hold_s=12.0),
        right=LegProtocolParams(posture_knee_valgus_deg=3.0, supine_hip_rotation_deg=8.0,
                                prone_internal_range_deg=55.0, prone_external_range_deg=22.0,
                                squat_knee_valgus_deg=8.0, squat_hip_rotation_deg=6.0,
                                balance_knee_valgus_deg=5.0, balance_sway_deg=2.5, balance_hold_s=8.0),
    ),
)


@pytest.fixture(scope="session")
def battery():
    """(ProtocolSimulation, AssessmentResult) of a whole simulated battery."""
    sim = simulate_protocols(BATTERY_CONFIG)
    return sim, assess_session(sim.session)
