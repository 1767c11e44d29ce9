"""``imugait export``: thin CLI over the exporters."""

from __future__ import annotations

from imugait.cli import main
from imugait.conventions import Placement
from imugait.io import write_session


def test_export_opensim_from_a_session_file(simulated, tmp_path, capsys, monkeypatch):
    session, analysis = simulated
    # The CLI only wires: the analysis itself is tested elsewhere, so reuse the fixture's.
    monkeypatch.setattr("imugait.analysis.analyze_session", lambda s, config=None: analysis)
    path = tmp_path / "s01.parquet"
    write_session(session, path)
    rc = main(["export", "opensim", str(path), "--out", str(tmp_path / "os"), "--no-calibration"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "s01_orientations.sto" in out and (tmp_path / "os" / "s01_ik_setup.xml").is_file()


def test_export_refuses_a_session_without_a_leg(simulated, tmp_path, capsys):
    session, _analysis = simulated
    thigh_only = type(session)([session[Placement.LEFT_THIGH]], session.meta)
    path = tmp_path / "thigh.parquet"
    write_session(thigh_only, path)
    rc = main(["export", "c3d", str(path), "--out", str(tmp_path / "x.c3d"), "--no-calibration"])
    assert rc == 1
    assert "thigh and a shank" in capsys.readouterr().err
    assert not (tmp_path / "x.c3d").exists()


def test_export_never_replaces_files_without_force(simulated, tmp_path, capsys, monkeypatch):
    session, analysis = simulated
    monkeypatch.setattr("imugait.analysis.analyze_session", lambda s, config=None: analysis)
    path = tmp_path / "s01.parquet"
    write_session(session, path)
    for fmt, out, existing in (("opensim", tmp_path / "os", tmp_path / "os" / "s01_angles.mot"),
                               ("c3d", tmp_path / "s01.c3d", tmp_path / "s01.c3d")):
        assert main(["export", fmt, str(path), "--out", str(out), "--no-calibration"]) == 0
        before = existing.read_bytes()
        capsys.readouterr()
        assert main(["export", fmt, str(path), "--out", str(out), "--no-calibration"]) == 1
        assert "exists: use --force to replace it" in capsys.readouterr().err
        assert existing.read_bytes() == before
        assert main(["export", fmt, str(path), "--out", str(out), "--no-calibration", "--force"]) == 0
    assert main(["export", "c3d", str(path), "--out", str(path), "--no-calibration", "--force"]) == 1
    assert "input" in capsys.readouterr().err
    assert path.stat().st_size > 0
