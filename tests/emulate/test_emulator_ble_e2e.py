"""BLE end to end through the real bleak BlueZ backend: emulated peripherals → recorder → session.

Needs ``dbus-daemon`` and the ``bluezoo`` and ``dbus-fast`` packages; skipped, loudly, only when
one is missing (as the transport tests are).
"""

from __future__ import annotations

import numpy as np
import pytest
from emulator_helpers import common_offset_s, record_ble, run

from imugait.emulate.bluez import emulation_unavailable_reason
from imugait.emulate.device import DeviceSettings
from imugait.emulate.emulator import emulated_devices, walker_simulation
from imugait.io.native import read_session

_UNAVAILABLE = emulation_unavailable_reason()
pytestmark = pytest.mark.skipif(_UNAVAILABLE is not None, reason=f"EMULATED BLUEZ UNAVAILABLE: {_UNAVAILABLE}")

RATE_HZ = 100.0


def test_two_ble_sensors_recorded_through_bleak(tmp_path):
    result = walker_simulation(2, 8.0, sample_rate_hz=RATE_HZ, seed=4)
    devices = emulated_devices(result, DeviceSettings(sample_loss_probability=0.01, seed=2))

    path, status, _dropped = run(record_ble(devices, tmp_path / "s", speed=2.0), timeout_s=300.0)
    session = read_session(path)
    assert len(session) == 2
    errors = {}
    for placement, device in devices.items():
        sent, stream = device.sent(), session[placement]
        assert sent.n_sent > 0.5 * 8.0 * RATE_HZ  # streaming starts after the scan and connect
        assert stream.n_samples == sent.n_sent
        np.testing.assert_array_equal(stream.gyr_radps, result.session[placement].gyr_radps[sent.source_index])
        inside = int(np.sum((sent.lost_seq > sent.seq[0]) & (sent.lost_seq < sent.seq[-1])))
        assert stream.n_lost_total == inside and status[placement].n_lost == inside
        assert status[placement].battery_percent is not None
        errors[placement] = stream.t_s - result.session[placement].t_s[sent.source_index]
    common = common_offset_s(errors)
    worst_ms = max(float(np.max(np.abs(e - common))) for e in errors.values()) * 1e3
    print(f"BLE (emulated BlueZ, 2x): alignment error max {worst_ms:.2f} ms")
    assert worst_ms < 10.0  # D-Bus round trips, not a radio: a loose bound, the number is printed
