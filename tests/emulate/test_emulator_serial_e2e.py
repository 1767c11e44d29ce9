"""Serial end to end: emulated sensors on pseudo-terminals → live acquisition → recorder → session.

Four sensors with different crystal errors (SD 40 ppm, values from the simulator), device clocks
and counters that start far apart (one wraps its u32 µs clock during the run), 1 % of samples
lost on the wire; 20 s of walking played at 2× real time on the emulator's virtual clock: every
frame leaves at its due time and the host stamps it before the clock moves on, so what is recorded
does not depend on how busy the machine is (a loaded machine only makes the test slower).
"""

from __future__ import annotations

import numpy as np
import pytest
from emulator_helpers import alignment_errors_s, common_offset_s, record_serial, run

from imugait.acquisition.sequence import gaps_from_seq
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import SerialEmulator, emulated_devices, walker_simulation
from imugait.io.native import read_session

DURATION_S = 20.0
SPEED = 2.0
RATE_HZ = 200.0


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    result = walker_simulation(4, DURATION_S, sample_rate_hz=RATE_HZ, clock_drift_ppm=40.0, seed=7)
    settings = DeviceSettings(sample_loss_probability=0.01, samples_per_block=4, seed=11)
    devices = emulated_devices(result, settings)
    folder = tmp_path_factory.mktemp("serial_e2e")
    with SerialEmulator(devices, speed=SPEED) as emulator:
        # The time limit is a hang guard only: under load the run takes longer, with the same result.
        path, status, decoders = run(record_serial(emulator, folder / "session", timeout_s=600.0), timeout_s=600.0)
    sent = {p: d.sent() for p, d in devices.items()}
    return result, devices, sent, read_session(path), status, decoders


def test_every_sample_sent_is_recorded_and_every_loss_counted(recording):
    result, devices, sent_by_placement, session, status, decoders = recording
    assert len(session) == 4
    for placement, device in devices.items():
        sent = sent_by_placement[placement]
        stream = session[placement]
        truth = result.session[placement]
        assert sent.lost_seq.size > 0.005 * (sent.n_sent + sent.lost_seq.size)  # loss happened
        assert sent.n_sent > 0.9 * DURATION_S * RATE_HZ
        assert stream.n_samples == sent.n_sent
        np.testing.assert_array_equal(stream.acc_mps2, truth.acc_mps2[sent.source_index])
        np.testing.assert_array_equal(stream.gyr_radps, truth.gyr_radps[sent.source_index])
        np.testing.assert_array_equal(stream.mag_uT, truth.mag_uT[sent.source_index])
        # Every sample lost between the first and last sent one is in a gap, exactly.
        inside = int(np.sum((sent.lost_seq > sent.seq[0]) & (sent.lost_seq < sent.seq[-1])))
        assert stream.n_lost_total == inside
        assert stream.gaps == gaps_from_seq(sent.seq)
        assert status[placement].n_lost == inside
        assert decoders[placement].stats.bytes_discarded == 0
        assert stream.device.device_id == f"{device.info.device_id:016x}"
        assert stream.sample_rate_hz == RATE_HZ


def test_clocks_aligned_within_a_millisecond_after_drift_correction(recording):
    result, devices, sent, session, _status, _ = recording
    drifts = [result.sensors[p].clock_drift_ppm for p in devices]
    assert max(drifts) - min(drifts) > 40.0  # the sensors' crystals really differ
    errors = alignment_errors_s(session, result.session, sent)
    common = common_offset_s(errors)
    worst = {p.value: float(np.max(np.abs(e - common))) for p, e in errors.items()}
    print(f"alignment error after drift correction, max |.| per sensor (ms): "
          f"{ {k: round(v * 1e3, 3) for k, v in worst.items()} }")
    assert max(worst.values()) < 1e-3
    for p in devices:
        # Session seconds per nominal device second: a device that runs fast (+ppm) is
        # stretched by the mapping (− ppm), undoing its crystal error.
        index = sent[p].source_index
        t = session[p].t_s
        mapped_ppm = ((t[-1] - t[0]) / ((index[-1] - index[0]) / RATE_HZ) - 1.0) * 1e6
        print(f"{p.value}: crystal {result.sensors[p].clock_drift_ppm:+.2f} ppm, mapping {mapped_ppm:+.2f} ppm")
        # Arrivals are stamped on the virtual clock at the frames' due times, so the drift estimate
        # does not wobble with the machine's load (it did by ~30 ppm on real time).
        assert mapped_ppm == pytest.approx(-result.sensors[p].clock_drift_ppm, abs=1.0)
