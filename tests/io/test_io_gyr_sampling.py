"""What each importer declares its gyroscope samples to be (``DeviceInfo.gyr_sampling``), from the
sourced table ``imugait/data/gyr_sampling.json``; the native format keeps it; the user declares it
with ``imugait import … --gyr-sampling``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from io_helpers import bsn_bytes, walking_counts, write_hugadb, write_mpu9250_tree, write_xsens
from vendor_fixtures import swing, write_apdm_h5, write_dot_csv, write_mvnx, write_ximu3_device

from imugait.cli import main
from imugait.conventions import Placement
from imugait.data import load_json
from imugait.data.gyr_sampling import GYR_SAMPLING_FILE, source_gyr_sampling, ximu3_gyr_sampling
from imugait.io import (
    SourceFormat,
    read_apdm_h5,
    read_csv_session,
    read_dot_dir,
    read_hugadb,
    read_mpu9250_walk,
    read_mvnx,
    read_qmt_mat,
    read_session,
    read_ximu3,
    read_xsens_dir,
    write_session,
)
from imugait.model import GyroSampling

INSTANT, MEAN = GyroSampling.INSTANT, GyroSampling.INTERVAL_MEAN
REAL_XIMU3 = Path(__file__).parent / "fixtures" / "ximu3"
SOURCED_BASES = {"vendor", "datasheet"}
BASES = SOURCED_BASES | {"construction", "no_source", "device_dependent"}
FORMAT_ENTRY = {
    SourceFormat.CSV: "csv_generic", SourceFormat.XSENS: "xsens_mt_text", SourceFormat.HUGADB: "hugadb_txt",
    SourceFormat.QMT: "qmt_mat", SourceFormat.MPU9250: "mpu9250_1bsn", SourceFormat.DOT: "movella_dot",
    SourceFormat.XIMU3: "ximu3_csv", SourceFormat.APDM: "apdm_h5", SourceFormat.MVNX: "mvnx",
}
"""Every importing format and its entry in the table (the native format keeps what it was given)."""


def _kinds(session) -> set[GyroSampling]:
    return {s.device.gyr_sampling for s in session.values()}


def test_the_table_has_a_valid_sourced_entry_for_every_importer():
    table = load_json(GYR_SAMPLING_FILE)
    assert set(FORMAT_ENTRY) == set(SourceFormat) - {SourceFormat.NATIVE}
    entries = {**table["inputs"], **table["datasets"]}
    for key in FORMAT_ENTRY.values():
        assert key in table["inputs"], key
    for key, entry in entries.items():
        assert entry["basis"] in BASES, key
        GyroSampling(entry["gyr_sampling"])  # raises on a value that is not one
        assert entry["source"].strip(), f"{key}: no source (say 'no source found')"
        if "same_as" in entry:  # a dataset read by an importer: the importer's entry and source
            assert entries[entry["same_as"]]["gyr_sampling"] == entry["gyr_sampling"], key
        elif entry["basis"] in SOURCED_BASES:
            assert entry["quote"].strip(), f"{key}: a vendor or datasheet declaration quotes its source"
        if entry["gyr_sampling"] == MEAN.value:
            assert entry["basis"] in SOURCED_BASES, f"{key}: interval means only from a source"
    with pytest.raises(KeyError, match="no input or dataset"):
        source_gyr_sampling("no_such_device")


@pytest.mark.parametrize(("rate_hz", "expected"), [(400.0, INSTANT), (401.2, INSTANT), (300.0, INSTANT),
                                                   (200.0, MEAN), (133.33, MEAN), (50.0, MEAN)])
def test_ximu3_messages_below_the_sample_rate_are_averages(rate_hz, expected):
    assert ximu3_gyr_sampling(rate_hz) is expected


def test_ximu3_declares_by_its_message_rate(tmp_path):
    real = read_ximu3(REAL_XIMU3, {Placement.RIGHT_SHANK: "F7E4-5410-EC7B-D7E7"})
    assert real[Placement.RIGHT_SHANK].sample_rate_hz == pytest.approx(50.0, rel=0.01)
    assert _kinds(real) == {MEAN}  # the x-io example log: 50 messages/s, each the mean of 8 samples
    write_ximu3_device(tmp_path, "AAAA-0001", swing(rate_hz=400.0))
    assert _kinds(read_ximu3(tmp_path, {Placement.LEFT_THIGH: "AAAA-0001"})) == {INSTANT}


def test_dot_declares_interval_means(tmp_path):
    write_dot_csv(tmp_path / "1_x.csv", "1", swing())
    assert _kinds(read_dot_dir(tmp_path, {Placement.LEFT_THIGH: "1"})) == {MEAN}


def test_point_sampled_and_undeclared_formats_declare_instants(tmp_path):
    pytest.importorskip("h5py", reason="h5py (pip install 'imugait[hdf5]') is not importable")
    write_apdm_h5(tmp_path / "a.h5", {"11": ("Right Upper Leg", swing())})
    write_mvnx(tmp_path / "m.mvnx", {"LeftUpperLeg": swing()})
    (tmp_path / "x").mkdir()
    write_xsens(tmp_path / "x" / "MT_00B40C45.txt", np.arange(50))
    write_hugadb(tmp_path / "h.txt", np.tile([0, 0, 16384, 0, 0, 100], (40, 6)), 1)  # 1 g on z, a slow turn
    acc, gyr = walking_counts(60)
    write_mpu9250_tree({"NO.1/Thigh-left/IMU_1": bsn_bytes(np.arange(60), acc, gyr),
                        "NO.1/Shank-left/IMU_1": bsn_bytes(np.arange(60), acc, gyr)}, folder=tmp_path / "mpu")
    n = 100
    scipy.io.savemat(tmp_path / "q.mat", {"t": np.arange(n) / 100.0, "upper_leg_left": {
        "acc": np.tile([0.0, 0.0, 9.81], (n, 1)), "gyr": np.zeros((n, 3)), "quat": np.tile([1.0, 0, 0, 0], (n, 1))}})
    csv = tmp_path / "rec.csv"
    csv.write_text("t_s," + ",".join(f"right_shank_{k}_{a}" for k in ("acc", "gyr") for a in "xyz") + "\n"
                   + "".join(f"{i / 100!r},0.1,0.2,9.8,0,0,0\n" for i in range(50)))
    sessions = {
        "apdm": read_apdm_h5(tmp_path / "a.h5"),
        "mvnx": read_mvnx(tmp_path / "m.mvnx"),
        "xsens": read_xsens_dir(tmp_path / "x", {Placement.LEFT_THIGH: "00B40C45"}),
        "hugadb": read_hugadb(tmp_path / "h.txt", corrupted_gyro="keep"),
        "mpu9250": read_mpu9250_walk(tmp_path / "mpu", "NO.1/left/IMU_1"),
        "qmt": read_qmt_mat(tmp_path / "q.mat", {Placement.LEFT_THIGH: "upper_leg_left"}),
        "csv": read_csv_session(csv),
    }
    for name, session in sessions.items():
        assert _kinds(session) == {INSTANT}, name


def test_the_native_format_keeps_the_declaration(tmp_path):
    write_dot_csv(tmp_path / "1_x.csv", "1", swing())
    dot = read_dot_dir(tmp_path, {Placement.LEFT_THIGH: "1"})
    write_session(dot, tmp_path / "d.parquet")
    assert _kinds(read_session(tmp_path / "d.parquet")) == {MEAN}
    write_session(dot.with_gyr_sampling(INSTANT), tmp_path / "i.parquet")
    assert _kinds(read_session(tmp_path / "i.parquet")) == {INSTANT}


def test_session_with_gyr_sampling_refuses_a_string():
    from imugait.errors import ValidationError
    from imugait.model import ImuStream, Session

    m = swing()
    session = Session([ImuStream(Placement.LEFT_THIGH, m.t_s, m.acc_mps2, m.gyr_radps, 60.0)])
    assert _kinds(session.with_gyr_sampling(MEAN)) == {MEAN} and _kinds(session) == {INSTANT}
    with pytest.raises(ValidationError, match="GyroSampling"):
        session.with_gyr_sampling("interval_mean")


# --- imugait import … --gyr-sampling ------------------------------------------------------------


def _write_csv(tmp_path) -> Path:
    p = tmp_path / "rec.csv"
    p.write_text("t_s," + ",".join(f"right_shank_{k}_{a}" for k in ("acc", "gyr") for a in "xyz") + "\n"
                 + "".join(f"{i / 100!r},0.1,0.2,9.8,0,0,{i / 1000!r}\n" for i in range(200)))
    return p


def test_import_stores_the_users_declaration(tmp_path, capsys):
    csv, out = _write_csv(tmp_path), tmp_path / "s.parquet"
    assert main(["import", "csv", str(csv), "--out", str(out)]) == 0
    assert "gyroscope samples: instant" in capsys.readouterr().out
    assert _kinds(read_session(out)) == {INSTANT}
    assert main(["import", "csv", str(csv), "--out", str(out), "--force", "--gyr-sampling", "interval_mean"]) == 0
    assert "gyroscope samples: interval_mean" in capsys.readouterr().out
    s = read_session(out)
    assert _kinds(s) == {MEAN}
    assert "declared interval_mean at import (--gyr-sampling)" in s.meta.notes
    assert main(["info", str(out)]) == 0
    assert "device unknown (unknown), gyroscope samples interval_mean" in capsys.readouterr().out


def test_import_declaration_overrides_the_formats(tmp_path):
    write_dot_csv(tmp_path / "1_x.csv", "1", swing())
    out = tmp_path / "d.parquet"
    assert main(["import", "dot", str(tmp_path), "--map", "left_thigh=1", "--out", str(out),
                 "--gyr-sampling", "instant"]) == 0
    assert _kinds(read_session(out)) == {INSTANT}


def test_every_import_format_takes_the_option(tmp_path, capsys):
    for fmt in ("csv", "xsens", "mpu9250", "hugadb", "qmt", "dot", "ximu3", "apdm", "mvnx"):
        with pytest.raises(SystemExit):
            main(["import", fmt, "--help"])
        assert "--gyr-sampling {instant,interval_mean}" in capsys.readouterr().out, fmt


def test_an_unknown_declaration_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["import", "csv", str(_write_csv(tmp_path)), "--out", str(tmp_path / "s.parquet"),
              "--gyr-sampling", "averaged"])
    assert exc.value.code == 2
    assert "'averaged' is not a gyroscope sampling; allowed: instant, interval_mean" in capsys.readouterr().err
    assert not (tmp_path / "s.parquet").exists()


def test_read_recording_takes_a_declaration_for_every_format(tmp_path):
    """``gyr_sampling`` is an option of every format (batch manifests pass it so)."""
    from imugait.errors import ValidationError
    from imugait.io import read_recording

    csv = _write_csv(tmp_path)
    s = read_recording(csv, "csv", options={"gyr_sampling": "interval_mean"})
    assert _kinds(s) == {MEAN} and "declared interval_mean at import (option gyr_sampling)" in s.meta.notes
    write_session(s, tmp_path / "s.parquet")
    native = read_recording(tmp_path / "s.parquet", "native", options={"gyr_sampling": " Instant "}, motion_only=True)
    assert _kinds(native) == {INSTANT}
    assert _kinds(read_recording(tmp_path / "s.parquet", "native")) == {MEAN}  # as stored
    with pytest.raises(ValidationError, match="option gyr_sampling: expected one of instant, interval_mean, got 'mean'"):
        read_recording(csv, "csv", options={"gyr_sampling": "mean"})
