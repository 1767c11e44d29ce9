"""Child process for the crash test: records a seeded message stream until it is killed.

Usage: python -m tests.acquisition.record_child FOLDER SEED
After every fsync it prints ``SYNCED <records on disk>`` (header included) and flushes.
"""

from __future__ import annotations

import sys
import time

from imugait.acquisition import Recorder

from .blockgen import message_stream

FSYNC_INTERVAL_S = 0.05


def main(folder: str, seed: int) -> None:
    messages, _ = message_stream(600.0, seed=seed, loss_probability=0.01)
    rec = Recorder(folder, subject_id="crash-test", t0_host_s=0.0, fsync_interval_s=FSYNC_INTERVAL_S)
    print(f"SYNCED {rec.records_synced}", flush=True)
    rec.begin_step("walk", 1.0)
    for p, arrival_s, msg in messages:
        rec.handle(p, arrival_s, msg)
        if rec.records_synced == rec.records_written:
            print(f"SYNCED {rec.records_synced}", flush=True)
        time.sleep(0.0005)
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
