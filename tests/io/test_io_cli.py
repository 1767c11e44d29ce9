"""``imugait import`` and ``imugait info`` through ``imugait.cli.main``."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.io
from io_helpers import bsn_bytes, walking_counts, write_hugadb, write_mpu9250_tree, write_xsens

from imugait import cli
from imugait.conventions import Placement
from imugait.io import read_csv_session, read_session, write_session

MINE = ["imugait.cli.import_", "imugait.cli.info"]


@pytest.fixture
def main(monkeypatch):
    """``cli.main``; if another team's command module does not import yet, only ours are loaded."""
    for name in cli.COMMAND_MODULES:
        if name not in MINE:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 — not ours to judge; test our commands alone
                monkeypatch.setattr(cli, "COMMAND_MODULES", MINE)
                break
    return cli.main


def _csv(tmp_path, body: str = ""):
    p = tmp_path / "rec.csv"
    header = "t_s," + ",".join(f"right_shank_{k}_{a}" for k in ("acc", "gyr") for a in "xyz")
    rows = body or "".join(f"{i / 100!r},0.1,0.2,9.8,0,0,{i / 1000!r}\n" for i in range(200))
    p.write_text(header + "\n" + rows)
    return p


def test_commands_are_registered():
    assert set(MINE) <= set(cli.COMMAND_MODULES)


def test_import_csv_then_info(main, tmp_path, capsys):
    out = tmp_path / "s.parquet"
    assert main(["import", "csv", str(_csv(tmp_path)), "--out", str(out), "--subject", "P-12"]) == 0
    assert f"wrote {out}: right_shank (200 samples)" in capsys.readouterr().out
    s = read_session(out)
    assert s.meta.subject_id == "P-12"
    np.testing.assert_allclose(s[Placement.RIGHT_SHANK].gyr_radps[:, 2], np.arange(200) / 1000)
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "subject      P-12" in text
    assert "right_shank       200 samples @ 100 Hz, 1.990 s, lost 0 (0.00 %) in 0 gap(s)" in text
    assert "steps        none" in text


def test_import_xsens_own_files(main, tmp_path, capsys):
    rec = tmp_path / "rec"
    rec.mkdir()
    write_xsens(rec / "MT_00B40C45_000.txt", np.r_[0:100, 105:200])
    write_xsens(rec / "MT_00B40C46_000.txt", np.arange(200), seed=3)
    out = tmp_path / "x.parquet"
    argv = ["import", "xsens", str(rec), "--map", "left_thigh=00B40C45", "--map", "left_shank=00B40C46",
            "--out", str(out)]
    assert main(argv) == 0
    s = read_session(out)
    assert s[Placement.LEFT_THIGH].n_lost_total == 5
    capsys.readouterr()
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "left_thigh        195 samples @ 100 Hz, 1.990 s, lost 5 (2.50 %) in 1 gap(s), mag (nominal µT)" in text
    assert "device 00B40C46 (Xsens)" in text


def _mpu_zip(tmp_path):
    files = {}
    for subject, side, trial in (("NO.1", "left", "IMU_10"), ("NO.1", "left", "IMU_9"), ("NO.2", "right", "IMU_3")):
        for segment in ("Thigh", "Shank"):
            files[f"{subject}/{segment}-{side}/{trial}"] = bsn_bytes(np.arange(150), *walking_counts(150))
    files["NO.2/Shank-left/IMU_7"] = bsn_bytes(np.arange(150), *walking_counts(150))
    write_mpu9250_tree(files, zip_path=tmp_path / "gait.zip")
    return tmp_path / "gait.zip"


def test_import_mpu9250_list_walk_all(main, tmp_path, capsys):
    z = _mpu_zip(tmp_path)
    assert main(["import", "mpu9250", str(z), "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NO.1/left/IMU_9", "thigh", "Thigh-left/IMU_9.1bsn", "shank", "Shank-left/IMU_9.1bsn"]
    assert [ln.split()[0] for ln in lines[:3]] == ["NO.1/left/IMU_9", "NO.1/left/IMU_10", "NO.2/right/IMU_3"]
    assert lines[-1] == "3 walks; files without a partner: Shank-left/IMU_7.1bsn"
    out = tmp_path / "w.parquet"
    assert main(["import", "mpu9250", str(z), "--walk", "NO.2/right/IMU_3", "--out", str(out), "--subject", "P-2"]) == 0
    assert capsys.readouterr().out == f"wrote {out}: right_thigh (150 samples), right_shank (150 samples); gyroscope samples: instant\n"
    s = read_session(out)
    assert s.meta.subject_id == "P-2" and s[Placement.RIGHT_SHANK].device.model == "MPU-9250"
    assert main(["import", "mpu9250", str(z), "--all", "--out-dir", str(tmp_path / "all")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"3 walks written to {tmp_path / 'all'}"
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == [
        "NO.1_left_IMU_10.parquet", "NO.1_left_IMU_9.parquet", "NO.2_right_IMU_3.parquet"]


def test_import_hugadb_warns_and_maps(main, tmp_path, capsys):
    path = tmp_path / "HuGaDB_v1_walking_05_00.txt"  # right shank gyroscope listed as corrupted
    counts = np.zeros((100, 36), dtype=int)
    counts[:, 2::6] = 16384
    write_hugadb(path, counts, 1)
    out = tmp_path / "h.parquet"
    assert main(["import", "hugadb", str(path), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "imugait import: warning: HuGaDB_v1_walking_05_00.txt: gyroscopes listed as corrupted" in captured.err
    assert len(read_session(out)) == 4
    assert main(["import", "hugadb", str(path), "--out", str(out), "--corrupted-gyro", "drop-leg", "--force"]) == 0
    assert capsys.readouterr().err == ""
    assert list(read_session(out)) == [Placement.LEFT_THIGH, Placement.LEFT_SHANK]
    assert main(["import", "hugadb", str(path), "--out", str(out), "--map", "left_foot=LF", "--rate-hz", "60",
                 "--force"]) == 0
    s = read_session(out)
    assert list(s) == [Placement.LEFT_FOOT] and s[Placement.LEFT_FOOT].sample_rate_hz == 60.0


def test_import_qmt_list_map_steps(main, tmp_path, capsys):
    path = tmp_path / "q.mat"
    n = 300
    imu = {"acc": np.tile([0.0, 0.0, 9.81], (n, 1)), "gyr": np.zeros((n, 3)), "quat": np.tile([1.0, 0, 0, 0], (n, 1))}
    scipy.io.savemat(path, {"t": 40 + np.arange(n) / 100, "upper_leg_left": imu, "lower_leg_left": imu})
    assert main(["import", "qmt", str(path), "--list"]) == 0
    assert capsys.readouterr().out == "upper_leg_left\nlower_leg_left\n"
    out = tmp_path / "q.parquet"
    assert main(["import", "qmt", str(path), "--out", str(out), "--map", "left_thigh=upper_leg_left",
                 "--map", "left_shank=lower_leg_left", "--step", "stand=40:41.5"]) == 0
    s = read_session(out)
    assert list(s) == [Placement.LEFT_THIGH, Placement.LEFT_SHANK] and s.step("stand").t_end_s == 41.5
    assert "modification time" not in s.meta.notes  # the MAT header states when it was made


@pytest.mark.realdata
def test_import_xsens_real_data(main, xsens_leg_dir, tmp_path, capsys):
    out = tmp_path / "leg.parquet"
    assert main(["import", "xsens", str(xsens_leg_dir), "--map", "left_thigh=walking_xsens_upperLeg",
                 "--map", "left_shank=walking_xsens_lowerLeg", "--out", str(out), "--subject", "skin"]) == 0
    s = read_session(out)
    assert [p for p in s] == [Placement.LEFT_THIGH, Placement.LEFT_SHANK]
    assert s[Placement.LEFT_SHANK].n_samples == 3511


def test_info_shows_steps(main, session, tmp_path, capsys):
    path = write_session(session, tmp_path / "s.parquet")
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "walk                     5.250 ..    65.433 s" in text
    assert "left_thigh        500 samples @ 100 Hz" in text and "lost 4 (0.79 %) in 2 gap(s)" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["import", "csv", "{bad}", "--out", "{out}"], "imugait import: error: bad.csv: unknown column(s) knee_x"),
    (["import", "csv", "{missing}", "--out", "{out}"], "imugait import: error: missing.csv: no such file"),
    (["import", "csv", "{good}", "--out", "{nodir}"], "imugait import: error: cannot write"),
    (["import", "xsens", "{tmp}", "--map", "knee=00B40C45", "--out", "{out}"],
     "imugait import: error: --map 'knee=00B40C45': unknown placement 'knee'"),
    (["import", "xsens", "{tmp}", "--map", "left_thigh=00B40C45", "--out", "{out}"],
     "imugait import: error: no file in"),
    (["import", "mpu9250", "{tmp}", "--list"], "imugait import: error: "),
    (["import", "mpu9250", "{good}", "--walk", "NO.1/left/IMU_1", "--out", "{out}"],
     "imugait import: error: rec.csv: not a zip file or a folder of .1bsn files"),
    (["import", "hugadb", "{good}", "--out", "{out}"], "imugait import: error: HuGaDB file rec.csv: the column-name line has 7"),
    (["import", "hugadb", "{good}", "--map", "left_thigh=XT", "--out", "{out}"],
     "imugait import: error: --map left_thigh=XT: unknown HuGaDB sensor 'XT'"),
    (["import", "qmt", "{good}", "--out", "{out}"], "imugait import: error: rec.csv: not a readable MATLAB .mat file"),
    (["import", "qmt", "{good}"], "imugait import: error: --out SESSION.parquet is needed (or --list)"),
    (["info", "{cut}"], "imugait info: error: cut.parquet is truncated"),
    (["info", "{good}"], "imugait info: error: rec.csv is not a Parquet file"),
])
def test_errors_exit_1_with_a_readable_message(main, tmp_path, capsys, argv, message):
    good = _csv(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,knee_x\n0,1\n")
    cut = tmp_path / "cut.parquet"
    write_session(read_csv_session(good), cut)
    cut.write_bytes(cut.read_bytes()[:-10])
    names = {"bad": bad, "missing": tmp_path / "missing.csv", "good": good, "out": tmp_path / "o.parquet",
             "nodir": tmp_path / "no" / "o.parquet", "tmp": tmp_path, "cut": cut}
    assert main([a.format(**names) for a in argv]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "o.parquet").exists()



def test_import_mpu9250_all_checks_every_output_first(main, tmp_path, capsys):
    z = _mpu_zip(tmp_path)
    folder = tmp_path / "all"
    folder.mkdir()
    (folder / "NO.2_right_IMU_3.parquet").write_bytes(b"an earlier import")
    assert main(["import", "mpu9250", str(z), "--all", "--out-dir", str(folder)]) == 1
    assert "NO.2_right_IMU_3.parquet exists: use --force to replace it" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["NO.2_right_IMU_3.parquet"]  # nothing written at all
    assert (folder / "NO.2_right_IMU_3.parquet").read_bytes() == b"an earlier import"
    assert main(["import", "mpu9250", str(z), "--all", "--out-dir", str(folder), "--force"]) == 0
    assert len(list(folder.iterdir())) == 3


def test_import_hugadb_with_the_documented_sides_says_how_to_make_it_analysable(main, tmp_path, capsys):
    """Newcomer pass (twenty-first session): the documented import of HuGaDB 06_00 (the help's own
    example) gave a file that `imugait analyze` refuses as left and right swapped, with no word at
    import time. The import now says so and gives the exchanged --map; not with a --map of one's own."""
    path = tmp_path / "HuGaDB_v1_walking_06_00.txt"
    counts = np.zeros((100, 36), dtype=int)
    counts[:, 2::6] = 16384
    write_hugadb(path, counts, 1)
    out = tmp_path / "h.parquet"
    assert main(["import", "hugadb", str(path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "imugait import: note: HuGaDB_v1_walking_06_00.txt: the sensors went to the sides the dataset documents" in err
    assert "--map left_thigh=RT --map left_shank=RS --map right_thigh=LT --map right_shank=LS" in err
    exchanged = ["--map", "left_thigh=RT", "--map", "left_shank=RS", "--map", "right_thigh=LT", "--map", "right_shank=LS"]
    assert main(["import", "hugadb", str(path), "--out", str(out), "--force", *exchanged]) == 0
    assert capsys.readouterr().err == ""


def test_import_qmt_refuses_a_step_outside_the_file_s_time(main, tmp_path, capsys):
    """`--step walk=5:15` (the example file runs from 40 s) and `walk=95:215` (past its end) were
    stored silently (newcomer pass, twenty-first session)."""
    path = tmp_path / "q.mat"
    n = 300
    imu = {"acc": np.tile([0.0, 0.0, 9.81], (n, 1)), "gyr": np.zeros((n, 3))}
    scipy.io.savemat(path, {"t": 40 + np.arange(n) / 100, "upper_leg_left": imu, "lower_leg_left": imu})
    out = tmp_path / "q.parquet"
    base = ["import", "qmt", str(path), "--out", str(out), "--map", "left_thigh=upper_leg_left",
            "--map", "left_shank=lower_leg_left"]
    for step in ("walk=5:15", "walk=41:50"):
        assert main([*base, "--step", step]) == 1
        assert (f"imugait import: error: q.mat: --step {step} is not within the file's time, 40 to 42.99 s "
                "(steps are in s on the file's own clock)") in capsys.readouterr().err
        assert not out.exists()
    assert main([*base, "--step", "walk=40:43"]) == 0  # the last sample's period is within
