"""What each input's gyroscope sample stands for in time, from ``gyr_sampling.json`` (every entry
with its source): the importers' and the Movella DOT decoder's declarations
(``DeviceInfo.gyr_sampling``), and the benchmarks' for the datasets they read.
"""

from __future__ import annotations

from imugait.data import load_json
from imugait.model import GyroSampling

GYR_SAMPLING_FILE = "gyr_sampling.json"


def _entry(key: str) -> dict:
    table = load_json(GYR_SAMPLING_FILE)
    entry = table["inputs"].get(key) or table["datasets"].get(key)
    if entry is None:
        raise KeyError(f"{GYR_SAMPLING_FILE} has no input or dataset {key!r}")
    return entry


def source_gyr_sampling(key: str) -> GyroSampling:
    """The declaration of input or dataset ``key`` (``apdm_h5``, ``dfjimu`` …)."""
    return GyroSampling(_entry(key)["gyr_sampling"])


def ximu3_gyr_sampling(message_rate_hz: float) -> GyroSampling:
    """An x-IMU3 log's declaration from its inertial message rate (Hz): a message averages the
    last ``n = round(400 Hz / message rate)`` samples when ``n > 1`` (an interval mean), else it is
    one sample (an instant). x-IMU3 User Manual v0.11, 9.1-9.3 (``gyr_sampling.json``)."""
    entry = _entry("ximu3_csv")
    n = round(float(entry["inertial_sample_rate_hz"]) / message_rate_hz) if message_rate_hz > 0 else 1
    return GyroSampling(entry["gyr_sampling_when_averaged"] if n > 1 else entry["gyr_sampling"])
