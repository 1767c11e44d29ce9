"""Real walks of real people (``../shared/datasets``): every leg gets plausible per-stride results,
and the refusals that stay are right on the recordings they fire on.

The whole set (83 legs) is ``benchmarks/real_data.py``; here one walk per MPU-9250 subject and
leg (20 short 10-m walks, most without standing still), the qmt recording whose thigh sensors shake on
their straps, and the HuGaDB file whose documented left/right labels the swap check refuses.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from imugait.analysis import analyze_session
from imugait.calibration.segment import HeadingSource
from imugait.conventions import Placement, Side
from imugait.errors import CalibrationError
from imugait.gait.cycles import Exclusion
from imugait.gait.plausibility import plausibility_limits
from imugait.io import list_mpu9250_walks, read_hugadb, read_mpu9250_walk, read_qmt_mat
from imugait.model import Session

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"
MPU_ZIP = DATASETS / "gait_rehab_mpu9250" / "Healthy_Adults-gait_activity.zip"
HUGADB_06 = DATASETS / "hugadb_walking" / "HuGaDB_v1_walking_06_00.txt"
QMT = DATASETS / "qmt_full_body" / "full_body_example_data.mat"
LEGS = {Placement.LEFT_THIGH: "upper_leg_left", Placement.LEFT_SHANK: "lower_leg_left",
        Placement.RIGHT_THIGH: "upper_leg_right", Placement.RIGHT_SHANK: "lower_leg_right"}

KNEE_TIMING = Exclusion.KNEE_TIMING_OUTLIER

pytestmark = pytest.mark.realdata


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"real dataset not available: {path} is absent (see ../shared/datasets/README.md)")


def _assert_plausible_leg(result, side: Side, min_used: int = 3) -> None:
    leg = result.legs[side]
    used = result.cycles[(result.cycles["side"] == side.value) & result.cycles["used"]]
    assert leg.trusted
    assert len(used) >= min_used
    assert used["cadence_steps_per_min"].between(70.0, 160.0).all()
    # The plausibility contract (imugait/data/plausibility.json) holds for every used stride.
    limits = plausibility_limits()
    assert (used["knee_flexion_min_deg"] >= limits.knee_flexion_min_deg).all()
    assert (used["knee_flexion_max_deg"] <= limits.knee_flexion_max_deg).all()
    assert (used["knee_adduction_range_deg"] <= limits.knee_adduction_range_deg).all()
    assert (used["hip_rotation_mean_deg"].abs() <= limits.hip_rotation_mean_abs_deg).all()
    assert used["knee_rotation_stance_mean_deg"].between(-limits.knee_rotation_stance_mean_external_deg,
                                                         limits.knee_rotation_stance_mean_internal_deg).all()


def _one_walk_per_leg():
    if not MPU_ZIP.is_file():
        return []
    first = {}
    for walk in list_mpu9250_walks(MPU_ZIP):
        first.setdefault((walk.subject, walk.side), walk)
    return list(first.values())


@pytest.fixture(scope="module")
def mpu_analysis():
    """``mpu_analysis(walk_id)``: the MPU-9250 walk analysed, once for this module (the per-leg
    test and the heading-source test look at the same walks)."""
    cache: dict = {}

    def analysed(walk_id: str):
        if walk_id not in cache:
            cache[walk_id] = analyze_session(read_mpu9250_walk(MPU_ZIP, walk_id))
        return cache[walk_id]

    return analysed


@pytest.mark.parametrize("walk", _one_walk_per_leg() or [None], ids=lambda w: w.walk_id if w else "absent")
def test_every_mpu9250_leg_gives_plausible_strides(walk, mpu_analysis):
    _need(MPU_ZIP)
    _assert_plausible_leg(mpu_analysis(walk.walk_id), walk.side)


def test_shaking_thigh_sensors_of_qmt_are_calibrated():
    """The qmt thighs shake on their straps (rates up to 27 rad/s): the hinge fit on low-passed
    rates with the thigh's axis about its long axis calibrates both legs (it used to refuse them:
    'the knee axis is 76° (83°) from horizontal'). The left knee then reads +20.7 … +31.6° of
    internal rotation through stance (the right −7.9°), beyond the knee's passive range: its
    thigh's fitted flexion axis is 26° from the shank's hinge axis carried into it at standing
    (the right's 2.5°), and its strides are excluded — the leg is not trusted (2026-12-07)."""
    _need(QMT)
    from imugait.model import ProtocolStep

    session = read_qmt_mat(QMT, LEGS, steps=[ProtocolStep("stand", 40.0, 44.0), ProtocolStep("walk_1", 95.0, 115.0),
                                             ProtocolStep("walk_2", 116.0, 138.5)])
    result = analyze_session(session)
    for side in Side:
        # One logger clocks both sensors: no stride is out of step with its leg's others.
        assert KNEE_TIMING.value not in set(result.cycles["exclusion"])
        thigh_axis_tilt = result.legs[side].alignment.quality.axis_tilt_deg
        assert thigh_axis_tilt < 30.0
    _assert_plausible_leg(result, Side.RIGHT)
    left = result.cycles[result.cycles["side"] == "left"]
    rotated = left["exclusion"] == Exclusion.IMPLAUSIBLE_KNEE_ROTATION.value
    assert not result.legs[Side.LEFT].trusted
    assert rotated.sum() > 0.5 * (rotated.sum() + left["used"].sum())
    assert (left.loc[rotated, "knee_rotation_stance_mean_deg"] > 25.0).all()
    assert abs(result.legs[Side.LEFT].alignment.quality.thigh_axis_cross_check_deg) > 20.0
    assert abs(result.legs[Side.RIGHT].alignment.quality.thigh_axis_cross_check_deg) < 10.0


def _exchanged(session: Session) -> Session:
    other = {p: Placement.of(p.segment, p.side.other) for p in session if p.side is not None}
    return Session([replace(s, placement=other.get(s.placement, s.placement)) for s in session.streams], session.meta)


def test_hugadb_documented_sides_are_refused_as_swapped_and_exchanged_sides_pass():
    """Every HuGaDB leg leans like the other side's (as all 66 correctly labelled MPU-9250 legs do
    not): the documented left/right order appears exchanged, and the refusal is right."""
    _need(HUGADB_06)
    session = read_hugadb(HUGADB_06, corrupted_gyro="drop_leg")
    with pytest.raises(CalibrationError, match="left and right look swapped"):
        analyze_session(session)
    result = analyze_session(_exchanged(session))
    assert all(leg.frontal_lean_contrast_deg > 0 for leg in result.legs.values())
    _assert_plausible_leg(result, Side.LEFT, min_used=20)
    # Its right leg is not trusted. The warning's count is of the strides otherwise usable, not of
    # all strides found ("102 of 127 strides excluded" beside "25 / 129 strides used" read as a
    # contradiction to a newcomer, twenty-first session).
    right = result.legs[Side.RIGHT]
    used = sum(s.used for s in right.strides)
    (warning,) = [w for w in result.warnings if w.startswith("right leg: ")]
    assert not right.trusted and used < len(right.strides) - right.implausible_strides
    assert warning.startswith(f"right leg: {right.implausible_strides} of {used + right.implausible_strides} "
                              "otherwise usable strides excluded as implausible (")


def test_gait_swing_picks_the_knee_centre_fit_when_the_accelerations_cannot(mpu_analysis):
    """On many MPU-9250 walks the knee centre's accelerations fit both ways the sensors could face
    each other about equally; walking's swing picks the fit (heading source reported)."""
    _need(MPU_ZIP)
    sources = set()
    for walk in _one_walk_per_leg()[:8]:
        result = mpu_analysis(walk.walk_id)
        sources.add(result.legs[walk.side].alignment.quality.heading_source)
    assert HeadingSource.KNEE_CENTRE_SWING in sources


def test_strides_after_the_sensor_clocks_slipped_are_excluded(mpu_analysis):
    """NO.7/right/IMU_3: the two sensors keep their own clocks; some 11 s in, the shank's samples
    slip about 190 ms behind the thigh's (no counter says so) and the knee flexion range steps from
    ~45° to ~85° while both segments' own rotation ranges stay the same. Those strides are excluded
    as out of step, so the walk's used strides agree with each other again."""
    _need(MPU_ZIP)
    result = mpu_analysis("NO.7/right/IMU_3")
    cycles = result.cycles[result.cycles["side"] == "right"]
    slipped = cycles[cycles["exclusion"] == KNEE_TIMING.value]
    assert len(slipped) >= 2 and (slipped["t_initial_contact_s"] > 10.5).all()
    assert (slipped["knee_flexion_range_deg"] > 75.0).all()
    used = cycles[cycles["used"]]
    assert len(used) >= 4 and used["knee_flexion_range_deg"].max() - used["knee_flexion_range_deg"].min() < 15.0
    assert any("out of step" in w for w in result.warnings)
