"""imugait batch on a real local Dask cluster (2 worker processes) with small simulated sessions:
the per-stride results equal `analyze` run one by one, a bad session is recorded and the run
goes on, a finished run is resumed without redoing anything, manifests are read."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import imugait
from imugait.analysis import analyze_session
from imugait.batch import (
    TaskSettings,
    collect_inputs,
    dask_client,
    read_manifest,
    read_records,
    read_strides,
    run_batch,
)
from imugait.batch.outputs import strides_path
from imugait.cli import main
from imugait.errors import ValidationError
from imugait.io import (
    SourceFormat,
    read_csv_session,
    read_recording,
    read_session,
    write_csv_session,
    write_session,
)
from imugait.simulate import SimulationConfig, simulate, walking_test

pytest.importorskip("distributed", reason="the batch extra (dask.distributed) is not installed")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> Path:
    """Two native sessions in a folder, the second also as a generic CSV, a broken file, and a
    CSV manifest listing the CSV with a subject and a date."""
    root = tmp_path_factory.mktemp("recordings")
    (root / "site_a").mkdir()
    for seed in (11, 12):
        config = SimulationConfig(seed=seed, subject_id=f"P{seed}", timeline=walking_test(n_bouts=2, bout_s=10.0))
        session = simulate(config).session
        write_session(session, root / "site_a" / f"walk{seed}.parquet")
    write_csv_session(session, root / "walk12.csv")
    (root / "broken.parquet").write_bytes(b"PAR1 this file was cut short")
    (root / "manifest.csv").write_text("session,path,format,subject,date\nw12csv,walk12.csv,csv,P12b,2026-03-04\n")
    return root


@pytest.fixture(scope="module")
def client():
    # Workers must import this checkout's imugait (a worktree may shadow an installed one).
    repo = str(Path(imugait.__file__).resolve().parents[1])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([repo, old] if old else [repo])
    try:
        with dask_client(workers=2) as c:
            yield c
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="module")
def first_run(recordings, client, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    inputs = collect_inputs([recordings / "site_a", recordings / "broken.parquet", recordings / "manifest.csv"])
    report = run_batch(client, inputs, TaskSettings(out))
    return out, inputs, report


def test_strides_equal_analyze_one_by_one(first_run, recordings):
    out, _inputs, report = first_run
    assert sorted(report.analysed) == ["w12csv", "walk11", "walk12"]
    strides = read_strides(out)
    expected = {
        "walk11": analyze_session(read_session(recordings / "site_a" / "walk11.parquet")).cycles,
        "walk12": analyze_session(read_session(recordings / "site_a" / "walk12.parquet")).cycles,
        "w12csv": analyze_session(read_csv_session(recordings / "walk12.csv")).cycles,
    }
    for sid, cycles in expected.items():
        got = strides[strides.session == sid].reset_index(drop=True)
        assert len(got) == len(cycles) > 10
        for col in cycles.columns:
            if cycles[col].dtype.kind == "f":
                np.testing.assert_allclose(got[col].to_numpy(float), cycles[col].to_numpy(float), rtol=1e-12,
                                           atol=1e-12, equal_nan=True, err_msg=f"{sid} {col}")
            else:
                assert got[col].tolist() == cycles[col].tolist(), f"{sid} {col}"
    assert set(strides.loc[strides.session == "w12csv", "subject"]) == {"P12b"}


def test_a_bad_session_is_recorded_and_the_run_goes_on(first_run):
    out, _inputs, report = first_run
    assert report.failed == ("broken",)
    errors = pd.read_csv(out / "errors.csv")
    assert errors[["session", "stage"]].values.tolist() == [["broken", "read"]]
    assert "truncated" in errors["message"].iloc[0]
    summary = pd.read_parquet(out / "summary.parquet")
    assert sorted(summary["session"]) == ["w12csv", "walk11", "walk12"]
    row = summary.set_index("session").loc["w12csv"]
    assert row["subject"] == "P12b" and row["recorded_at"].startswith("2026-03-04")
    assert row["left_strides_used"] > 5 and np.isfinite(row["right_hip_rotation_mean_deg"])


def test_cohort_page_is_self_contained(first_run):
    out, _inputs, _report = first_run
    html = (out / "cohort.html").read_text()
    assert html.count("<svg") >= 5 and 'id="distributions"' in html and "broken" in html
    assert "<script" not in html and "src=" not in html and "<link" not in html


def test_resume_skips_current_results_and_redoes_the_rest(first_run, client, recordings):
    out, inputs, _report = first_run
    kept = strides_path(out, "walk11")
    before = kept.stat().st_mtime_ns
    # A run killed mid-write leaves at most a temporary file and a session without a result.
    strides_path(out, "walk12").unlink()
    (kept.parent / ".strides.parquet.x.tmp").write_bytes(b"half")
    report = run_batch(client, inputs, TaskSettings(out))
    assert report.analysed == ("walk12",) and report.failed == ()
    assert sorted(report.skipped) == ["broken", "w12csv", "walk11"]
    assert kept.stat().st_mtime_ns == before
    assert {r["session"] for r in read_records(out)} == {"broken", "w12csv", "walk11", "walk12"}
    again = run_batch(client, inputs, TaskSettings(out), retry_failed=True)
    assert again.failed == ("broken",) and again.analysed == ()


def test_cli_on_an_existing_cluster_force_redoes_a_current_session(first_run, client, capsys):
    out, inputs, _report = first_run
    walk11 = next(i.path for i in inputs if i.session_id == "walk11")
    args = ["batch", str(walk11), "--out", str(out), "--scheduler", client.scheduler.address, "--no-progress",
            "--no-calibration"]
    assert main(args) == 0
    assert "1 of 1 sessions already done" in capsys.readouterr().out
    assert main([*args, "--force"]) == 0
    assert "1 analysed, 0 failed, 0 skipped" in capsys.readouterr().out
    assert client.status == "running"  # the CLI closed its own client, not the cluster


def test_toml_manifest_with_defaults_map_and_options(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "manifest.toml").write_text(
        'format = "xsens"\nrate_hz = 100\n'
        '[[recording]]\npath = "a"\nsubject = "S1"\ndate = 2025-05-06\n'
        'map = { left_thigh = "00B1", left_shank = "00B2" }\n'
        '[[recording]]\nsession = "second"\npath = "a"\nmap = "left_thigh=00B3; left_shank=00B4"\n'
    )
    first, second = read_manifest(tmp_path / "manifest.toml")
    assert first.session_id == "a" and first.format is SourceFormat.XSENS and first.subject_id == "S1"
    assert first.recorded_at == "2025-05-06T00:00:00" and dict(first.options) == {"rate_hz": 100}
    assert [(p.value, k) for p, k in first.placement_map] == [("left_thigh", "00B1"), ("left_shank", "00B2")]
    assert second.session_id == "second" and dict(second.placement_map)
    with pytest.raises(ValidationError, match="session id a"):
        collect_inputs([tmp_path / "manifest.toml", tmp_path / "manifest.toml"])


def test_manifest_errors_name_the_entry(tmp_path):
    (tmp_path / "m.csv").write_text("path,format\nx.txt,nosuch\n")
    with pytest.raises(ValidationError, match=r"m.csv, entry 1: unknown format 'nosuch'"):
        read_manifest(tmp_path / "m.csv")
    (tmp_path / "n.csv").write_text("path,format,speed\nx.csv,csv,3\n")
    item = read_manifest(tmp_path / "n.csv")[0]
    with pytest.raises(ValidationError, match="format csv takes no option speed"):
        item.read()
    (tmp_path / "notes.txt").write_text("walked twice")
    with pytest.raises(ValidationError, match="not a session"):
        collect_inputs([tmp_path / "notes.txt"])
    with pytest.raises(ValidationError, match="no session files"):
        collect_inputs([tmp_path])


def test_manifest_declares_the_gyroscope_samples(tmp_path):
    from imugait.model import GyroSampling

    header = "t_s," + ",".join(f"left_thigh_{k}_{a}" for k in ("acc", "gyr") for a in "xyz")
    (tmp_path / "w.csv").write_text(header + "\n" + "".join(f"{i / 100!r},0,0,9.8,0,0,0\n" for i in range(50)))
    (tmp_path / "m.csv").write_text("session,path,format,gyr_sampling\nplain,w.csv,csv,\nmean,w.csv,csv,interval_mean\n")
    plain, mean = read_manifest(tmp_path / "m.csv")
    assert {s.device.gyr_sampling for s in plain.read().values()} == {GyroSampling.INSTANT}
    assert {s.device.gyr_sampling for s in mean.read().values()} == {GyroSampling.INTERVAL_MEAN}


def test_read_recording_overrides_subject_and_date_and_checks_the_map(recordings):
    path = recordings / "site_a" / "walk11.parquet"
    session = read_recording(path, "native", subject_id="Q7", recorded_at="2026-05-06T07:08:09+00:00")
    assert (session.meta.subject_id, session.meta.recorded_at) == ("Q7", "2026-05-06T07:08:09+00:00")
    assert read_recording(path, SourceFormat.NATIVE).meta.subject_id == "P11"
    with pytest.raises(ValidationError, match="needs a placement map"):
        read_recording(recordings, "xsens")
    with pytest.raises(ValidationError, match="unknown format 'c3d'"):
        read_recording(path, "c3d")
