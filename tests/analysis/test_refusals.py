"""The analysis refuses, with a message a person can act on, when the data cannot be right."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from imugait.analysis import analyze_session
from imugait.conventions import Placement, Side
from imugait.errors import CalibrationError, ValidationError
from imugait.model import Session
from imugait.simulate import PhaseKind, SimulationConfig, TimelinePhase, simulate, walking_test

SHORT = walking_test(n_bouts=2, bout_s=10.0)


@pytest.fixture(scope="module")
def walk():
    return simulate(SimulationConfig(seed=7, timeline=SHORT)).session


def relabel(session: Session, mapping: dict[Placement, Placement]) -> Session:
    return Session([dataclasses.replace(s, placement=mapping.get(s.placement, s.placement)) for s in session.streams],
                   session.meta)


def test_needs_a_thigh_and_a_shank(walk):
    thighs = Session([walk[Placement.LEFT_THIGH], walk[Placement.RIGHT_THIGH]], walk.meta)
    with pytest.raises(ValidationError, match="needs a thigh and a shank sensor on at least one leg"):
        analyze_session(thighs)


def test_standing_only_has_no_knee_motion():
    standing = simulate(SimulationConfig(seed=1, timeline=(TimelinePhase(PhaseKind.STAND, 20.0, "stand"),))).session
    with pytest.raises(CalibrationError, match="too little knee motion"):
        analyze_session(standing)


def test_thigh_and_shank_swapped(walk):
    swapped = relabel(walk, {Placement.LEFT_THIGH: Placement.LEFT_SHANK, Placement.LEFT_SHANK: Placement.LEFT_THIGH,
                             Placement.RIGHT_THIGH: Placement.RIGHT_SHANK, Placement.RIGHT_SHANK: Placement.RIGHT_THIGH})
    # … and says what to redo: exchange the sensors, or thigh and shank in an import's placement map
    with pytest.raises(CalibrationError, match="thigh and shank look swapped: exchange the two sensors .*"
                                               "exchange thigh and shank in the import's --map"):
        analyze_session(swapped)


def test_sensors_of_different_legs_are_not_a_knee(walk):
    crossed = relabel(walk, {Placement.LEFT_SHANK: Placement.RIGHT_SHANK, Placement.RIGHT_SHANK: Placement.LEFT_SHANK})
    with pytest.raises(CalibrationError, match="do not move like one knee"):
        analyze_session(crossed)


def test_left_and_right_swapped(walk):
    swapped = relabel(walk, {Placement.LEFT_THIGH: Placement.RIGHT_THIGH, Placement.RIGHT_THIGH: Placement.LEFT_THIGH,
                             Placement.LEFT_SHANK: Placement.RIGHT_SHANK, Placement.RIGHT_SHANK: Placement.LEFT_SHANK})
    with pytest.raises(CalibrationError, match="left and right look swapped.*"
                                               "exchange left and right in the import's --map"):
        analyze_session(swapped)


def test_correct_labels_pass_the_side_check(walk):
    result = analyze_session(walk)
    assert all(leg.frontal_lean_contrast_deg > 1.0 for leg in result.legs.values())
    assert result.warnings == ()


def _walking_only(session: Session) -> Session:
    """The session with its standing periods cut out (from the first to the last walking step)."""
    walks = [st for st in session.meta.steps if not st.name.startswith("stand")]
    t0, t1 = walks[0].t_start_s, walks[-1].t_end_s
    return Session([s.slice_time(t0, t1) for s in session.streams], session.meta).with_meta(steps=tuple(walks))


def test_without_standing_the_reference_is_mid_stance():
    sim = simulate(SimulationConfig(seed=2, timeline=walking_test(n_bouts=2, bout_s=20.0)))
    result = analyze_session(_walking_only(sim.session))  # no false refusal (the knee used to read ~10° low)
    assert any("no standing-still period" in w for w in result.warnings)
    assert set(result.legs) == set(Side)
    for side, leg in result.legs.items():
        truth = np.interp(result.t_s, sim.truth.series["t_s"], sim.truth.angle(side, "hip_rotation_progression_deg"))
        est = leg.angles_deg["hip_rotation_deg"]
        m = leg.in_bout & np.isfinite(est)
        assert np.sqrt(np.mean((est[m] - truth[m]) ** 2)) < 4.0
        # Knee flexion: the mid-stance pose reads the normative mid-stance flexion, not zero.
        flex_truth = np.interp(result.t_s, sim.truth.series["t_s"], sim.truth.angle(side, "knee_flexion_deg"))
        flex_error = leg.angles_deg["knee_flexion_deg"][m] - flex_truth[m]
        assert np.sqrt(np.mean(flex_error**2)) < 2.5
        assert abs(np.mean(flex_error)) < 2.0


def test_all_legs_refused_puts_the_fatal_reason_first(walk):
    crossed = relabel(walk, {Placement.LEFT_SHANK: Placement.RIGHT_SHANK, Placement.RIGHT_SHANK: Placement.LEFT_SHANK})
    with pytest.raises(CalibrationError) as info:
        analyze_session(_walking_only(crossed))
    message = str(info.value)
    assert "no standing-still period" in message  # the warning is still said …
    first_leg = min(message.find(f"{p.value}/") for p in (Placement.LEFT_THIGH, Placement.RIGHT_THIGH) if f"{p.value}/" in message)
    assert first_leg < message.index("no standing-still period")  # … after a leg's own reason
    assert " — also noted: no standing-still period" in message  # … and not as one more reason


def test_a_leg_without_used_strides_is_told_what_to_redo_for_its_commonest_reason():
    """HuGaDB 05_00's right leg (a gyroscope the maintainers list as corrupted): 65 of 70 strides
    clipped, and the warning advised 'a longer straight walk' — which cannot help. The advice now
    follows the commonest reason."""
    from types import SimpleNamespace

    from imugait.analysis.pipeline import _no_stride_used_warnings
    from imugait.gait.cycles import Exclusion

    def leg(*reasons: Exclusion) -> SimpleNamespace:
        return SimpleNamespace(strides=[SimpleNamespace(used=False, exclusion=r) for r in reasons],
                               clipped=np.zeros(100, dtype=bool))

    clipped = leg(*[Exclusion.CLIPPED] * 3, Exclusion.NOT_IN_BOUT)
    (warning,) = _no_stride_used_warnings({Side.RIGHT: clipped})
    assert warning.startswith("right leg: none of its 4 strides used (3× sensor range exceeded")
    assert "reached the end of its range: set a wider range" in warning and "longer straight walk" not in warning
    (warning,) = _no_stride_used_warnings({Side.LEFT: leg(Exclusion.BOUT_EDGE, Exclusion.BOUT_EDGE, Exclusion.CLIPPED)})
    assert warning.endswith("a longer straight walk gives more steady strides")
    (warning,) = _no_stride_used_warnings({Side.LEFT: leg(Exclusion.IMPLAUSIBLE_HIP_ROTATION)})
    assert warning.endswith("check that both sensors are strapped firmly on this leg and record the walk again")
    (warning,) = _no_stride_used_warnings({Side.LEFT: leg(Exclusion.LOST_SAMPLES)})
    assert "keep the sensors within reach of the receiver" in warning


def test_a_clipped_gyroscope_is_named_even_when_no_bout_was_found_and_a_full_range_is_not_widened():
    """HuGaDB 04_00 (every leg gyroscope listed as corrupted, 18 % of the rows clipped): every
    stride 'not inside a straight walking bout', and the advice was 'a longer straight walk'; its
    05_00 right leg (clipped at ±2000 °/s) was told to 'set a wider range (±2000 °/s)'. Newcomer
    pass, twenty-first session."""
    from types import SimpleNamespace

    from imugait.analysis.pipeline import _no_stride_used_warnings
    from imugait.gait.cycles import Exclusion

    clipped = np.zeros(100, dtype=bool)
    clipped[:18] = True
    no_bout = SimpleNamespace(strides=[SimpleNamespace(used=False, exclusion=Exclusion.NOT_IN_BOUT)] * 5,
                              clipped=clipped)
    full = np.deg2rad(2000.0)
    (warning,) = _no_stride_used_warnings({Side.LEFT: no_bout}, {Side.LEFT: full})
    assert "longer straight walk" not in warning
    assert "reached the end of its ±2000 °/s range in 18 % of the samples" in warning
    assert "the sensor or its data is faulty" in warning and "set a wider range" not in warning
    (warning,) = _no_stride_used_warnings({Side.LEFT: no_bout}, {Side.LEFT: np.deg2rad(500.0)})
    assert "end of its ±500 °/s range in 18 % of the samples: set a wider range (±2000 °/s)" in warning
    no_bout.clipped = np.zeros(100, dtype=bool)  # a sound gyroscope: the bouts' advice
    (warning,) = _no_stride_used_warnings({Side.LEFT: no_bout}, {Side.LEFT: full})
    assert warning.endswith("a longer straight walk gives more steady strides")
