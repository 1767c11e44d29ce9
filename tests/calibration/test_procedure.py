import dataclasses
import re

import numpy as np
import pytest
from calibration_helpers import procedure_stream, run_procedure

from imugait.calibration import IntrinsicProcedure, ProcedureConfig, StepKind
from imugait.errors import CalibrationError


def test_steps_are_six_positions_then_rotation():
    steps = ProcedureConfig().steps()
    assert [s.key for s in steps] == ["z_up", "z_down", "x_up", "x_down", "y_up", "y_down", "rotate"]
    assert all(s.kind is StepKind.HOLD for s in steps[:6]) and steps[6].kind is StepKind.ROTATE
    assert all("5 seconds" in s.instruction for s in steps[:6])
    assert "30 seconds" in steps[6].instruction
    assert len(ProcedureConfig(with_edges=True).steps()) == 13
    assert ProcedureConfig().steps(has_magnetometer=False)[-1].key == "y_down"


def test_progress_through_the_procedure(six, six_result):
    stream, truth = six
    proc = IntrinsicProcedure(stream.device.device_id, stream.sample_rate_hz)
    chunk = 25
    seen_steps, events, max_still = [], [], {}
    for i in range(0, stream.n_samples, chunk):
        sl = slice(i, i + chunk)
        p = proc.feed(stream.t_s[sl], stream.acc_mps2[sl], stream.gyr_radps[sl], stream.mag_uT[sl])
        events += p.events
        if not p.done:
            seen_steps.append(p.step_index)
            max_still[p.step_index] = max(max_still.get(p.step_index, 0.0), p.still_s)
        if p.done:
            break
    assert p.done and p.step is None and p.hint == "all steps done"
    assert seen_steps == sorted(seen_steps) and set(seen_steps) == set(range(7))
    assert [e.split(":")[0] for e in events] == ["Z up", "Z down", "X up", "X down", "Y up", "Y down", "rotation"]
    assert max_still[1] > 4.5  # step 2 counted up to the hold time
    # Accepted at the truth's hold times.
    for pos, hold in zip(proc.positions, truth.holds, strict=True):
        assert hold.t_start_s - 0.05 <= pos.summary.t_start_s and pos.summary.t_end_s <= hold.t_end_s
        assert pos.off_by_deg < 15.0
    result = proc.finish(created_at="2026-01-01T09:00:00+00:00")
    np.testing.assert_array_equal(result.calibration.acc_bias_mps2, six_result.calibration.acc_bias_mps2)


def test_single_samples_give_the_same_result(six, six_result):
    stream, _ = six
    proc = IntrinsicProcedure(stream.device.device_id, stream.sample_rate_hz)
    for i in range(stream.n_samples):
        proc.feed(stream.t_s[i], stream.acc_mps2[i], stream.gyr_radps[i], stream.mag_uT[i])
    result = proc.finish(created_at="2026-01-01T09:00:00+00:00")
    np.testing.assert_allclose(result.calibration.acc_bias_mps2, six_result.calibration.acc_bias_mps2, atol=1e-12)
    np.testing.assert_allclose(result.calibration.mag_hard_iron_uT, six_result.calibration.mag_hard_iron_uT, atol=1e-9)


def test_repeated_position_is_not_new():
    stream, _ = procedure_stream(seed=2, up_axes=((0, 0, 1.0), (0, 0, 1.0), (0, 0, -1.0)), rotation_s=0.0)
    proc = IntrinsicProcedure(stream.device.device_id, stream.sample_rate_hz)
    hints, news = [], []
    for i in range(0, stream.n_samples, 10):
        sl = slice(i, i + 10)
        p = proc.feed(stream.t_s[sl], stream.acc_mps2[sl], stream.gyr_radps[sl], stream.mag_uT[sl])
        if p.step_index == 1 and p.is_still and p.still_s > 1.0:
            hints.append(p.hint)
            news.append((p.position, p.is_new, p.matches_step))
    assert ("z up", False, False) in news
    assert any("needs Z down" in h for h in hints)
    assert len(proc.positions) == 2  # z up once, then z down


def test_refuses_a_position_that_is_not_held_still():
    stream, truth = procedure_stream(seed=0)
    hold = truth.holds[2]  # x up
    sel = (stream.t_s >= hold.t_start_s) & (stream.t_s < hold.t_end_s)
    t = stream.t_s[sel]
    tremor = np.column_stack([np.sin(2 * np.pi * 3 * t), np.cos(2 * np.pi * 3 * t), np.zeros_like(t)])
    gyr, acc = stream.gyr_radps.copy(), stream.acc_mps2.copy()
    gyr[sel] += 0.4 * tremor
    acc[sel] += 0.5 * tremor
    shaky = dataclasses.replace(stream, gyr_radps=gyr, acc_mps2=acc)
    with pytest.raises(CalibrationError, match=r"position 3 of 7 \(X up\) was not completed: it was not held still") as err:
        run_procedure(shaky)
    assert re.search(r"stillest moment: gyro 0\.[1-9]\d rad/s", str(err.value))


def test_refuses_when_a_position_is_missing():
    stream, _ = procedure_stream(seed=0, up_axes=((0, 0, 1.0), (0, 0, -1.0), (0, 1.0, 0)), rotation_s=0.0)
    with pytest.raises(CalibrationError, match=r"position 3 of 7 \(X up\).*never pointed X up \(still positions seen: y up\)"):
        run_procedure(stream)


def test_refuses_when_the_rotation_is_missing():
    stream, _ = procedure_stream(seed=0, rotation_s=0.0)
    with pytest.raises(CalibrationError, match="rotation step was not done"):
        run_procedure(stream)
    cal = run_procedure(stream, ProcedureConfig(with_rotation=False)).calibration
    assert not cal.mag_calibrated
