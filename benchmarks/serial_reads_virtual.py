"""The samples' times read at the push tick against read at readiness, on the emulator's virtual
clock: no machine in the comparison (a read at readiness is stamped at the frame's send time
exactly, a read at the tick at the tick's time exactly), so what differs is the clock mapping's
answer to the two kinds of stamps.

Reproduce (from the repository root; 4 sensors at 200 Hz, a 40-s walk at 4× playback)::

    .venv/bin/python benchmarks/serial_reads_virtual.py --seconds 40 --playback 4

Each way records the same emulated walk over pseudo-terminals with real pyserial (the tests'
``record_serial``, ``tests/emulate/emulator_helpers.py``), keeping every sample's live time (what
the live pipeline gets) besides the recording; both are compared with the walk's true times,
less the readiness run's median offset (the link's smallest delay). Prints ms per sensor, and a
leg's thigh − shank.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "emulate"))  # the tests' recording helpers
from emulator_helpers import alignment_errors_s, record_serial, run  # noqa: E402

from imugait.acquisition.recorder import Recorder  # noqa: E402
from imugait.emulate.device import DeviceSettings  # noqa: E402
from imugait.emulate.emulator import SerialEmulator, emulated_devices, walker_simulation  # noqa: E402
from imugait.io.native import read_session  # noqa: E402
from imugait.live.ticks import SerialReads  # noqa: E402

RATE_HZ = 200.0
SKIP_S = 10.0


def _record(result, reads: SerialReads, playback: float) -> tuple[dict, dict]:
    """(recorded times − true times, live times − true times), s per placement."""
    live: dict = {}
    handle = Recorder.handle

    def keeping(self, placement, arrival_s, message):
        samples = handle(self, placement, arrival_s, message)
        if samples is not None and samples.t_s.size:
            live.setdefault(placement, []).extend(samples.t_s.tolist())
        return samples

    Recorder.handle = keeping
    try:
        devices = emulated_devices(result, DeviceSettings(samples_per_block=4, seed=11))
        with tempfile.TemporaryDirectory() as tmp, SerialEmulator(devices, speed=playback) as emulator:
            path, _status, _decoders = run(record_serial(emulator, Path(tmp) / "s", timeout_s=1800.0,
                                                         serial_reads=reads), 1800.0)
            session = read_session(path)
    finally:
        Recorder.handle = handle
    sent = {p: d.sent() for p, d in devices.items()}
    truth = {p: result.session[p].t_s[sent[p].source_index] for p in sent}
    return alignment_errors_s(session, result.session, sent), {p: np.asarray(v) - truth[p] for p, v in live.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="seconds of walking (default 40)")
    parser.add_argument("--playback", type=float, default=4.0, help="playback factor (default 4)")
    args = parser.parse_args()
    result = walker_simulation(4, args.seconds, sample_rate_hz=RATE_HZ, clock_drift_ppm=40.0, seed=7)
    runs = {reads: _record(result, reads, args.playback) for reads in SerialReads}
    skip = int(SKIP_S * RATE_HZ)
    print(f"4 sensors × {RATE_HZ:g} Hz, {args.seconds:g} s of walking at {args.playback:g}× on the virtual clock; "
          f"time − true time less the readiness run's median, ms: median / p95 |.| / max |.| / max |.| from {SKIP_S:g} s")
    for k, kind in enumerate(("recorded", "live")):
        offset_s = float(np.median(np.concatenate(list(runs[SerialReads.READINESS][k].values()))))
        for reads, errors in runs.items():
            e = {p.value: (v - offset_s) * 1e3 for p, v in errors[k].items()}
            cells = [f"{name} {np.median(v):.3f} / {np.percentile(np.abs(v), 95):.3f} / {np.max(np.abs(v)):.3f} / "
                     f"{np.max(np.abs(v[skip:])):.3f}" for name, v in e.items()]
            legs = [e[f"{side}_thigh"] - e[f"{side}_shank"] for side in ("left", "right")]
            cells += [f"{side} thigh − shank max |.| {np.max(np.abs(d)):.3f}, from {SKIP_S:g} s {np.max(np.abs(d[skip:])):.3f}"
                      for side, d in zip(("left", "right"), legs, strict=True)]
            print(f"{kind}, {reads.value}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
