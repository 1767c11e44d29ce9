"""Messages → streams: exact gap accounting, values untouched, session clock within 1 ms."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.acquisition import AcquisitionConfig, SequenceTracker, SessionAssembler, gaps_from_seq
from imugait.conventions import Placement
from imugait.errors import ImugaitError, ValidationError
from imugait.model import Gap, GyroSampling
from imugait.protocol.messages import SampleBlock
from imugait.protocol.movella_dot import announcement as dot_announcement
from imugait.simulate import SensorErrors, SimulationConfig, simulate

from .blockgen import LIMBS, RATE_HZ, message_stream


def _expected_gaps(received: np.ndarray) -> tuple[Gap, ...]:
    idx = np.flatnonzero(received)
    jumps = np.diff(idx) - 1
    return tuple(Gap(int(k), int(j)) for k, j in enumerate(jumps) if j > 0)


def _assemble(messages, t0_s=0.0, **config):
    asm = SessionAssembler(AcquisitionConfig(**config), t0_host_s=t0_s)
    for p, arrival_s, msg in messages:
        asm.handle(p, arrival_s, msg)
    return asm


@pytest.fixture(scope="module")
def simulated_values():
    result = simulate(SimulationConfig(seed=3, sample_rate_hz=RATE_HZ, errors=SensorErrors(clock_drift_ppm=0.0)))
    return {p: (s.acc_mps2, s.gyr_radps) for p, s in result.session.items()}, result.session.t_end_s


def test_streams_have_exact_gaps_untouched_values_and_aligned_times(simulated_values):
    values, duration_s = simulated_values
    messages, truth = message_stream(duration_s - 1.0, seed=7, loss_probability=0.02, values=values)
    asm = _assemble(messages)
    asm.begin_step("walk", 10.0)
    asm.end_step("walk", 20.0)
    assembly = asm.assemble(subject_id="p01")
    session = assembly.session
    assert set(session) == set(LIMBS)
    assert [s.name for s in session.meta.steps] == ["walk"]
    for p in LIMBS:
        s, tr = session[p], truth[p]
        assert s.gaps == _expected_gaps(tr.received)
        assert s.n_lost_total == int((~tr.received).sum())
        assert s.n_samples == int(tr.received.sum())
        np.testing.assert_array_equal(s.acc_mps2, tr.acc_mps2[tr.received])
        np.testing.assert_array_equal(s.gyr_radps, tr.gyr_radps[tr.received])
        err_s = s.t_s - (tr.true_s[tr.received] + tr.base_latency_s)
        assert np.abs(err_s).max() < 1e-3
        assert s.device.device_id == f"DEV-{p.value}" and s.sample_rate_hz == RATE_HZ
        h = next(x for x in assembly.health if x.placement is p)
        assert h.n_lost == s.n_lost_total and h.battery_percent is not None
        assert h.n_dropped == h.n_received - h.n_samples  # the duplicates


def test_without_counter_gaps_are_inferred_from_timestamps():
    messages, truth = message_stream(60.0, seed=8, loss_probability=0.03, counter=False)
    session = _assemble(messages).assemble().session
    for p in LIMBS:
        assert session[p].gaps == _expected_gaps(truth[p].received)


def test_without_timestamps_a_virtual_clock_is_used():
    messages, truth = message_stream(60.0, seed=9, loss_probability=0.0, timestamps=False)
    session = _assemble(messages).assemble().session
    for p in LIMBS:
        tr = truth[p]
        assert session[p].n_samples == tr.seq.size
        # Arrival-only stamping cannot see the ±50 ppm of each sample within a block perfectly,
        # but the envelope fits the real rate: within 2 ms over the minute.
        assert np.abs(session[p].t_s - tr.true_s - tr.base_latency_s).max() < 2e-3


def test_live_samples_and_buffer():
    messages, _ = message_stream(30.0, seed=10, loss_probability=0.0)
    asm = SessionAssembler(AcquisitionConfig(live_window_s=5.0), t0_host_s=0.0)
    n_live = 0
    for p, arrival_s, msg in messages:
        live = asm.handle(p, arrival_s, msg)
        if live is not None:
            assert live.t_s.shape[0] == live.acc_mps2.shape[0]
            n_live += live.t_s.shape[0]
    assert n_live > 0
    window = asm.live_window(Placement.LEFT_THIGH)
    assert 4.9 < window.t_s[-1] - window.t_s[0] <= 5.0
    assert np.all(np.diff(window.t_s) > 0)
    assert window.acc_mps2.shape == (window.n_samples, 3)


def test_sequence_tracker_drops_duplicates_and_counts_losses():
    tracker = SequenceTracker(100.0)

    def block(seq):
        seq = np.asarray(seq, dtype=np.int64)
        n = seq.size
        return SampleBlock(seq, seq * 10_000, np.zeros((n, 3)), np.zeros((n, 3)))

    a = tracker.process(block([0, 1, 2]))
    b = tracker.process(block([2, 5, 6]))  # 2 again (dropped), 3 and 4 lost
    assert a.keep.all() and b.keep.tolist() == [False, True, True]
    assert (b.n_lost, b.n_dropped) == (2, 1)
    assert gaps_from_seq(np.array([0, 1, 2, 5, 6])) == (Gap(2, 2),)


def test_bad_input_is_named():
    asm = SessionAssembler()
    bad = SampleBlock(np.arange(3), np.arange(3) * 10_000, np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="left_thigh: block acc_mps2 has shape"):
        asm.handle(Placement.LEFT_THIGH, 1.0, bad)
    no_clock = SampleBlock(None, None, np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValidationError, match="no sample rate is known"):
        asm.handle(Placement.RIGHT_THIGH, 1.0, no_clock)
    with pytest.raises(ImugaitError, match="no sensor delivered"):
        SessionAssembler().assemble()


@pytest.mark.parametrize("stall", ["none", "slow_reads", "backlog"])
def test_live_times_never_step_back_and_keep_their_accuracy(stall):
    """The causal mapping is corrected as blocks arrive; the live times of a sensor only go forward.

    Early in a stream a new minimum-latency block lowers the fitted line; a transport stall
    (the host reading one sensor late, or a backlog released at once) can be taken for a clock
    step and then undone — both used to map a block before the end of the previous one.
    """
    messages, truth = message_stream(90.0, seed=10, loss_probability=0.0)
    late = Placement.RIGHT_SHANK
    if stall != "none":
        moved, latest_s = [], 0.0
        for p, arrival_s, msg in messages:
            if p is late:
                if 20.0 <= arrival_s < 24.0:
                    arrival_s = arrival_s + 0.8 if stall == "slow_reads" else 24.0 + 1e-4 * arrival_s
                arrival_s = latest_s = max(arrival_s, latest_s)  # a link delivers in order
            moved.append((p, arrival_s, msg))
        messages = sorted(moved, key=lambda m: m[1])
    asm = SessionAssembler(AcquisitionConfig(nominal_rate_hz=RATE_HZ), t0_host_s=0.0)
    live_t = {p: [] for p in LIMBS}
    for p, arrival_s, msg in messages:
        live = asm.handle(p, arrival_s, msg)
        if live is not None:
            live_t[p].append(live.t_s)
    for p in (late, *(q for q in LIMBS if q is not late)):
        t_s = np.concatenate(live_t[p])
        step_s = np.diff(t_s)
        assert step_s.min() > 0.5 / RATE_HZ, f"{p.value}: live time stepped by {step_s.min() * 1e3:.2f} ms"
        # Long run: once the window has filled and any correction has been slewed away, the live
        # times are the fit's — within 2 ms of the truth as the offline streams are.
        tr = truth[p]
        late_part = tr.true_s >= 60.0
        err_s = t_s[late_part[: t_s.size]] - tr.true_s[: t_s.size][late_part[: t_s.size]] - tr.base_latency_s
        assert np.abs(err_s).max() < 2e-3, f"{p.value}: {np.abs(err_s).max() * 1e3:.2f} ms off after 60 s"


def test_the_device_keeps_what_its_gyroscope_samples_stand_for():
    # A Movella DOT's rate quantities are interval means (vendor constant in its announcement);
    # the live samples and the assembled stream's device say so, and fusion integrates by it.
    block = SampleBlock(seq=np.arange(3), t_device_us=np.arange(3) * 16_667, acc_mps2=np.tile([0.0, 0.0, 9.81], (3, 1)),
                        gyr_radps=np.zeros((3, 3)))
    asm = SessionAssembler(AcquisitionConfig(nominal_rate_hz=60.0), t0_host_s=0.0)
    assert asm.handle(Placement.RIGHT_THIGH, 0.0, block).gyr_sampling is GyroSampling.INSTANT  # announced nothing
    asm.handle(Placement.LEFT_THIGH, 0.0, dot_announcement("D1", 60.0))
    assert asm.handle(Placement.LEFT_THIGH, 0.05, block).gyr_sampling is GyroSampling.INTERVAL_MEAN  # live fusion's
    session = asm.assemble().session
    assert session[Placement.LEFT_THIGH].device.gyr_sampling is GyroSampling.INTERVAL_MEAN
    assert session[Placement.RIGHT_THIGH].device.gyr_sampling is GyroSampling.INSTANT
