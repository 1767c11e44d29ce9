"""Write the fuzzing seed corpora: one small valid input per target (a few KB at most).

Reproduce (from the repository root; rewrites ``benchmarks/fuzz_corpus/``)::

    .venv/bin/python benchmarks/fuzz_seeds.py

Seeds are synthetic and made with the same writers the tests use (``tests/io`` fixtures, the
project's own encoders and writers), so every seed is an input its reader accepts: the script
checks that each seed passes its target without an error before writing it. The layout of each
target's input (the chunking byte of the decoders, the file separators of x-IMU3, the record
list of ``log.records``) is described in :mod:`fuzz_targets`.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = HERE / "fuzz_corpus"
sys.path[:0] = [str(HERE), str(REPO / "tests" / "io"), str(REPO / "tests")]

from decoders import packets_dot, stream_v1, stream_wit_ble, stream_wit_serial  # noqa: E402
from fuzz_targets import TARGETS, XIMU3_SEPARATOR, check_one, log_as_records  # noqa: E402

from imugait.conventions import Placement  # noqa: E402
from imugait.model import DeviceInfo, Gap, ImuStream, Session, SessionMeta  # noqa: E402
from imugait.protocol.imugait_v1 import (  # noqa: E402
    DeviceInfoV1,
    encode_ack,
    encode_device_info,
    encode_status,
)
from imugait.protocol.messages import AckResult, CommandCode  # noqa: E402


def _session(n: int = 24) -> Session:
    rng = np.random.default_rng(3)
    streams = []
    for k, p in enumerate((Placement.LEFT_THIGH, Placement.LEFT_SHANK)):
        q = rng.normal(size=(n, 4))
        streams.append(ImuStream(
            placement=p, t_s=np.arange(n) / 100.0,
            acc_mps2=np.round(rng.normal(0, 1, (n, 3)) + [0, 0, 9.81], 3),
            gyr_radps=np.round(rng.normal(0, 0.5, (n, 3)), 3),
            mag_uT=np.round(rng.normal(20, 5, (n, 3)), 2) if k == 0 else None,
            q_world_sensor=np.round(q / np.linalg.norm(q, axis=1, keepdims=True), 6) if k == 0 else None,
            sample_rate_hz=100.0, device=DeviceInfo(f"dev{k}", "test", "1.0"),
            gaps=(Gap(5, 2),) if k == 0 else ()))
    return Session(streams, SessionMeta(subject_id="fuzz", recorded_at="2026-01-01T00:00:00+00:00", source="fuzz"))


def _decoder_seeds() -> dict[str, list[bytes]]:
    info = DeviceInfoV1(7, "m", "f", 200.0, 8, 1000, 1600)
    v1 = (encode_device_info(info) + stream_v1(40, 8, False) + encode_status(80, 1)
          + stream_v1(16, 8, True) + encode_ack(CommandCode.START, 3, AckResult.OK))
    wit_time = bytes([0x55, 0x50, 26, 1, 2, 10, 11, 12, 0x10, 0x00])
    wit_time += bytes([sum(wit_time) & 0xFF])
    wit_reg = b"\x55\x71" + bytes(range(18))
    dot = b"".join(packets_dot(12))
    return {
        # first byte: chunk size - 1; second byte: decoder variant (fuzz_targets.decoder_target)
        "decoder.imugait_v1": [bytes([243, 0]) + v1, bytes([0, 1]) + v1[:200]],
        "decoder.witmotion_serial": [bytes([255, 0]) + wit_time + stream_wit_serial(12), bytes([6, 0]) + stream_wit_serial(3)],
        "decoder.witmotion_ble": [bytes([19, 0]) + stream_wit_ble(12) + wit_reg, bytes([6, 0]) + stream_wit_ble(4)],
        "decoder.movella_dot": [bytes([len(dot) // 12 - 1, 0]) + dot, bytes([len(dot) // 12 - 1, 1]) + dot],
    }


def _file_seeds(tmp: Path) -> dict[str, list[bytes]]:
    from io_helpers import bsn_bytes, walking_counts, write_hugadb, write_xsens
    from vendor_fixtures import swing, write_apdm_h5, write_dot_csv, write_mvnx, write_ximu3_device

    from imugait.acquisition.recorder import Recorder
    from imugait.io.csv_generic import write_csv_session
    from imugait.io.native import ROW_GROUP_ROWS, write_session
    from imugait.protocol.messages import SampleBlock

    session = _session()
    out: dict[str, list[bytes]] = {}
    native = write_session(session, tmp / "s.parquet")
    # Files written before 2026-12-05 are zstd-compressed, newer ones LZ4: the reader takes both.
    pq.write_table(pq.read_table(native), tmp / "z.parquet", compression="zstd", write_page_checksum=True,
                   use_dictionary=["placement"], write_statistics=["placement", "t_s"], row_group_size=ROW_GROUP_ROWS)
    out["import.native"] = [(tmp / "z.parquet").read_bytes(), native.read_bytes()]
    out["import.csv"] = [write_csv_session(session, tmp / "s.csv").read_bytes()]
    write_xsens(tmp / "x.txt", np.arange(100, 124), quat=True)
    out["import.xsens"] = [(tmp / "x.txt").read_bytes()]
    m = swing(n=16)
    out["import.dot"] = [write_dot_csv(tmp / "d.csv", "D1", m).read_bytes()]
    dev = write_ximu3_device(tmp / "xi", "F7E4", m)
    out["import.ximu3"] = [XIMU3_SEPARATOR.join((dev / n).read_bytes() for n in ("Command.json", "Inertial.csv", "Quaternion.csv"))]
    out["import.apdm"] = [write_apdm_h5(tmp / "a.h5", {"XI-1": ("Left Thigh", swing(n=8))}).read_bytes()]
    out["import.mvnx"] = [write_mvnx(tmp / "m.mvnx", {"LeftUpperLeg": swing(n=6), "LeftLowerLeg": swing(n=6)}).read_bytes()]
    acc, gyr = walking_counts(30)
    out["import.mpu9250"] = [bsn_bytes(np.arange(30), acc, gyr)]
    counts = np.random.default_rng(0).integers(-300, 300, (20, 36))
    counts[:, 2::6] += 16384  # acc z ≈ 1 g at ±2 g full scale; six sensors × (acc, gyr)
    write_hugadb(tmp / "HGD_v1_walking_01_00.txt", counts, 1)
    out["import.hugadb"] = [(tmp / "HGD_v1_walking_01_00.txt").read_bytes()]
    out["import.qmt"] = [_qmt_bytes(tmp / "q.mat")]
    rec = Recorder(tmp / "rec", subject_id="fuzz", t0_host_s=0.0)
    rng = np.random.default_rng(1)
    for k in range(6):
        p = (Placement.LEFT_THIGH, Placement.LEFT_SHANK)[k % 2]
        block = SampleBlock(seq=np.arange(k // 2 * 4, k // 2 * 4 + 4), t_device_us=np.arange(4) * 10_000 + k // 2 * 40_000,
                            acc_mps2=rng.normal(0, 0.3, (4, 3)) + [0, 0, 9.81], gyr_radps=rng.normal(0, 1, (4, 3)))
        rec.handle(p, 0.04 * (k // 2) + 0.005, block)
    rec.close()
    log = rec.log_path.read_bytes()
    out["log.recover"] = [log]
    out["log.records"] = [log_as_records(log)]
    return out


def _qmt_bytes(path: Path) -> bytes:
    import scipy.io

    rng = np.random.default_rng(1)
    data = {"t": 40.0 + np.arange(10) / 100.0}
    for name in ("upper_leg_left", "lower_leg_left"):
        data[name] = {"acc": np.round(rng.normal(0, 0.5, (10, 3)) + [0, 0, 9.81], 3),
                      "gyr": np.round(rng.normal(0, 0.3, (10, 3)), 3), "quat": np.tile([1.0, 0, 0, 0], (10, 1))}
    scipy.io.savemat(path, data)
    return path.read_bytes()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        seeds = {**_decoder_seeds(), **_file_seeds(Path(tmp))}
    missing = sorted(set(TARGETS) - set(seeds))
    if missing:
        raise SystemExit(f"no seed for target(s) {', '.join(missing)}")
    for name, inputs in sorted(seeds.items()):
        folder = CORPUS / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("seed-*"):
            old.unlink()
        with tempfile.TemporaryDirectory() as scratch:
            run = TARGETS[name].make(Path(scratch))
            for k, data in enumerate(inputs):
                problem = check_one(name, run, data, must_accept=True)
                if problem is not None:
                    raise SystemExit(f"seed {k} of {name} is not accepted: {problem}")
                (folder / f"seed-{k}").write_bytes(data)
        print(f"{name:26s} {len(inputs)} seed(s), {sum(map(len, inputs))} bytes")


if __name__ == "__main__":
    main()
