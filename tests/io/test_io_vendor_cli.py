"""``imugait import dot|ximu3|apdm|mvnx``: thin CLI over the vendor importers."""

from __future__ import annotations

from pathlib import Path

import pytest
from vendor_fixtures import swing, write_apdm_h5, write_dot_csv, write_mvnx

from imugait.cli import main
from imugait.conventions import Placement
from imugait.io import read_session

REAL_XIMU3 = Path(__file__).parent / "fixtures" / "ximu3"


def test_dot(tmp_path, capsys):
    write_dot_csv(tmp_path / "1_x.csv", "1", swing())
    write_dot_csv(tmp_path / "2_x.csv", "2", swing())
    out = tmp_path / "s.parquet"
    assert main(["import", "dot", str(tmp_path), "--map", "left_thigh=1", "--map", "left_shank=2",
                 "--out", str(out), "--subject", "P-1"]) == 0
    s = read_session(out)
    assert set(s) == {Placement.LEFT_THIGH, Placement.LEFT_SHANK} and s.meta.subject_id == "P-1"
    assert main(["import", "dot", str(tmp_path), "--map", "left_thigh=5", "--out", str(out), "--force"]) == 1
    assert "no device matches '5'" in capsys.readouterr().err


def test_ximu3_real_fixture(tmp_path):
    out = tmp_path / "x.parquet"
    assert main(["import", "ximu3", str(REAL_XIMU3), "--map", "right_shank=F7E4-5410-EC7B-D7E7", "--out", str(out)]) == 0
    assert read_session(out)[Placement.RIGHT_SHANK].n_samples == 40


def test_apdm_and_mvnx(tmp_path, capsys):
    pytest.importorskip("h5py", reason="h5py (pip install 'imugait[hdf5]') is not importable")
    write_apdm_h5(tmp_path / "a.h5", {"11": ("Right Upper Leg", swing()), "12": ("Right Lower Leg", swing())})
    assert main(["import", "apdm", str(tmp_path / "a.h5"), "--out", str(tmp_path / "a.parquet")]) == 0
    assert set(read_session(tmp_path / "a.parquet")) == {Placement.RIGHT_THIGH, Placement.RIGHT_SHANK}
    write_mvnx(tmp_path / "m.mvnx", {"LeftUpperLeg": swing(), "LeftLowerLeg": swing()})
    assert main(["import", "mvnx", str(tmp_path / "m.mvnx"), "--map", "left_thigh=LeftUpperLeg",
                 "--out", str(tmp_path / "m.parquet")]) == 0
    assert list(read_session(tmp_path / "m.parquet")) == [Placement.LEFT_THIGH]
    (tmp_path / "bad.mvnx").write_text("<mvnx><subject")
    assert main(["import", "mvnx", str(tmp_path / "bad.mvnx"), "--out", str(tmp_path / "b.parquet")]) == 1
    assert "not well-formed XML" in capsys.readouterr().err
