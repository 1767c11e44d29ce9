"""HuGaDB text import: columns by position, units, placements, corrupted gyroscopes, real data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from io_helpers import DATASETS, write_hugadb

from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.errors import FormatError, ValidationError
from imugait.io import read_hugadb, read_hugadb_file
from imugait.io.hugadb import HUGADB_CORRUPTED_GYRO, hugadb_corrupted_gyros

FOLDER = DATASETS / "hugadb_walking"
SENSORS = ("RF", "RS", "RT", "LF", "LS", "LT")


def _counts(n: int = 120, seed: int = 0) -> np.ndarray:
    """(n, 36): each sensor k gets acc x = 8192 + k (0.5 g), z = 16384 (1 g), gyr z = 1000·(k+1)."""
    rng = np.random.default_rng(seed)
    c = rng.integers(-300, 300, (n, 36))
    for k in range(6):
        c[:, 6 * k] = 8192 + k
        c[:, 6 * k + 2] = 16384
        c[:, 6 * k + 5] = 1000 * (k + 1)
    return c


@pytest.mark.parametrize("spelling", ["upper", "lower"])
def test_columns_by_position_units_and_default_placements(tmp_path, spelling):
    path = tmp_path / "HuGaDB_v1_walking_06_00.txt"
    counts = _counts()
    write_hugadb(path, counts, 1, spelling=spelling)
    s = read_hugadb(path)
    assert list(s) == [Placement.LEFT_THIGH, Placement.RIGHT_THIGH, Placement.LEFT_SHANK, Placement.RIGHT_SHANK]
    for placement, k in ((Placement.RIGHT_SHANK, 1), (Placement.RIGHT_THIGH, 2), (Placement.LEFT_SHANK, 4),
                         (Placement.LEFT_THIGH, 5)):
        st = s[placement]
        # ±2 g over int16: 16384 counts = 1 g; ±2000 °/s: 1000 counts = 61.04 °/s
        np.testing.assert_allclose(st.acc_mps2[:, 0], (8192 + k) * 2 * GRAVITY_MPS2 / 32768, rtol=1e-15)
        np.testing.assert_allclose(st.acc_mps2[:, 2], GRAVITY_MPS2, rtol=1e-15)
        np.testing.assert_allclose(st.gyr_radps[:, 2], np.deg2rad(1000 * (k + 1) * 2000 / 32768), rtol=1e-15)
        np.testing.assert_allclose(st.acc_mps2[:, 1], counts[:, 6 * k + 1] * 2 * GRAVITY_MPS2 / 32768, rtol=1e-15)
        assert st.sample_rate_hz == 58.8 and st.n_samples == 120 and st.gaps == ()
        np.testing.assert_allclose(st.t_s, np.arange(120) / 58.8, rtol=0, atol=1e-12)
        assert st.device.device_id == f"hugadb-{SENSORS[k]}"
        assert st.device.acc_range_mps2 == pytest.approx(2 * 9.80665)
        assert st.device.gyr_range_radps == pytest.approx(np.deg2rad(2000))
    m = s.meta
    assert m.subject_id == "HuGaDB-06" and m.source == "import:hugadb" and m.recorded_at == "2016-10-20T15:35:00"
    assert [(st.name, st.t_start_s) for st in m.steps] == [("walking", 0.0)]
    assert m.steps[0].t_end_s == pytest.approx(120 / 58.8)
    assert m.notes == ("imported from HuGaDB_v1_walking_06_00.txt: left_thigh=LT; left_shank=LS; right_thigh=RT; "
                       "right_shank=RS")


def test_map_feet_rate_activity_steps_and_date_without_year(tmp_path):
    path = tmp_path / "HuGaDB_v1_various_01_02.txt"
    activity = np.r_[np.full(40, 8), np.full(50, 1), np.full(30, 5)]
    write_hugadb(path, _counts(), activity, date="08-18-11-45")
    s = read_hugadb(path, {Placement.LEFT_FOOT: "lf", Placement.PELVIS: "RT"}, subject_id="P-3", sample_rate_hz=60.0)
    assert list(s) == [Placement.PELVIS, Placement.LEFT_FOOT]
    np.testing.assert_allclose(s[Placement.LEFT_FOOT].acc_mps2[:, 0], (8192 + 3) * 2 * GRAVITY_MPS2 / 32768)
    assert s[Placement.PELVIS].sample_rate_hz == 60.0
    assert [(st.name, st.t_start_s, st.t_end_s) for st in s.meta.steps] == [
        ("standing", 0.0, 40 / 60), ("walking", 40 / 60, 90 / 60), ("sitting", 90 / 60, 2.0)]
    assert s.meta.subject_id == "P-3" and s.meta.recorded_at == "2016-08-18T11:45:00"
    assert "#Date has no year: 2016 assumed" in s.meta.notes
    with pytest.raises(ValidationError, match=r"unknown HuGaDB sensor 'XX'; expected one of RF RS RT LF LS LT"):
        read_hugadb(path, {Placement.LEFT_FOOT: "XX"})
    with pytest.raises(ValidationError, match="needs at least one placement"):
        read_hugadb(path, {})
    with pytest.raises(ValidationError, match="sample_rate_hz must be a positive number, got 0.0"):
        read_hugadb(path, sample_rate_hz=0.0)
    write_hugadb(path, _counts(), 1, date="13-45-11-45")
    s = read_hugadb(path)
    assert "no readable #Date line: recording time is the file's modification time" in s.meta.notes


def test_corrupted_gyroscopes_warn_drop_or_keep(tmp_path):
    path = tmp_path / "HuGaDB_v1_walking_03_00.txt"  # the maintainers list RF, RS and RT here
    write_hugadb(path, _counts(), 1)
    assert hugadb_corrupted_gyros(path) == {"RF", "RS", "RT"}
    with pytest.warns(UserWarning, match=r"HuGaDB_v1_walking_03_00.txt: gyroscopes listed as corrupted .*: "
                                         r"right_thigh \(RT\), right_shank \(RS\)$"):
        s = read_hugadb(path)
    assert len(s) == 4 and "listed as corrupted by the HuGaDB maintainers: right_thigh (RT), right_shank (RS)" in s.meta.notes
    s = read_hugadb(path, corrupted_gyro="drop_leg")
    assert list(s) == [Placement.LEFT_THIGH, Placement.LEFT_SHANK]
    assert "left out: right_thigh, right_shank" in s.meta.notes
    # a listed foot goes alone; a sound foot on a bad leg's side stays
    s = read_hugadb(path, {Placement.RIGHT_FOOT: "RF", Placement.LEFT_FOOT: "LF", Placement.LEFT_SHANK: "LS"},
                    corrupted_gyro="drop_leg")
    assert list(s) == [Placement.LEFT_SHANK, Placement.LEFT_FOOT]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(read_hugadb(path, corrupted_gyro="keep")) == 4
    with pytest.raises(ValidationError, match="every mapped sensor is on a leg with a gyroscope listed as corrupted"):
        read_hugadb(path, {Placement.RIGHT_THIGH: "RT"}, corrupted_gyro="drop_leg")
    with pytest.raises(ValidationError, match="corrupted_gyro must be one of warn, drop_leg, keep"):
        read_hugadb(path, corrupted_gyro="ignore")


def test_corrupted_table_matches_the_maintainers_walking_rows():
    assert HUGADB_CORRUPTED_GYRO["05_02"] == {"RF", "LF", "RS"}
    assert HUGADB_CORRUPTED_GYRO["18_03"] == {"RF", "LF", "RS", "LS", "LT"}
    assert HUGADB_CORRUPTED_GYRO["15_10"] == set(SENSORS)
    assert "01_00" not in HUGADB_CORRUPTED_GYRO and "06_00" not in HUGADB_CORRUPTED_GYRO
    assert len(HUGADB_CORRUPTED_GYRO) == 70
    assert hugadb_corrupted_gyros("HuGaDB_v1_running_03_00.txt") == frozenset()  # other tables: not shipped


def test_truncated_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "HuGaDB_v1_walking_01_00.txt"
    write_hugadb(path, _counts(), 1, cut_last=20)
    with pytest.raises(FormatError, match=r"^HuGaDB file HuGaDB_v1_walking_01_00\.txt is truncated: line 124 has \d+ "
                                          r"of 39 fields and no end-of-line; .*--allow-truncated"):
        read_hugadb(path)
    s = read_hugadb(path, allow_truncated=True)
    assert s[Placement.LEFT_THIGH].n_samples == 119 and "truncated last line 124 left out" in s.meta.notes


def test_broken_files(tmp_path):
    path = tmp_path / "h.txt"
    write_hugadb(path, _counts(), 1)
    lines = path.read_bytes().decode().split("\r\n")
    path.write_text("\r\n".join([*lines[:3], lines[3] + "\tspare", *lines[4:]]))
    with pytest.raises(FormatError, match=r"h\.txt: the column-name line has 40 columns, expected 39"):
        read_hugadb_file(path)
    bad = lines[:]
    bad[10] = bad[10].replace("\t", "\t1.5\t", 1).rsplit("\t", 1)[0]
    path.write_text("\r\n".join(bad))
    with pytest.raises(FormatError, match=r"h\.txt: line 11: column 2 \(RF_acc_y\) holds 1\.5, not a 16-bit integer"):
        read_hugadb_file(path)
    bad[10] = lines[10].replace("\t", "\tx\t", 1).rsplit("\t", 1)[0]
    path.write_text("\r\n".join(bad))
    with pytest.raises(FormatError, match=r"h\.txt: line 11: column RF_acc_y holds 'x', not a number"):
        read_hugadb_file(path)
    with pytest.raises(FormatError, match="no such file"):
        read_hugadb_file(tmp_path / "absent.txt")


@pytest.fixture
def hugadb_folder():
    if not (FOLDER / "HuGaDB_v1_walking_06_00.txt").is_file():
        pytest.skip(f"HuGaDB walking files not available: {FOLDER.resolve()} is absent (see ../shared/datasets/README.md)")
    return FOLDER


@pytest.mark.realdata
def test_real_files_clean_and_corrupted(hugadb_folder):
    s = read_hugadb(hugadb_folder / "HuGaDB_v1_walking_06_00.txt")  # no gyroscope listed
    assert len(s) == 4 and s.meta.recorded_at == "2016-08-22T18:24:00"
    for st in s.streams:
        assert st.n_samples == 6916 and st.duration_s == pytest.approx(6915 / 58.8)
        # walking with a ±2 g accelerometer: the median |acc| sits a little above 1 g
        assert 0.95 * GRAVITY_MPS2 < np.median(np.linalg.norm(st.acc_mps2, axis=1)) < 1.3 * GRAVITY_MPS2
        assert 1.5 < np.median(np.linalg.norm(st.gyr_radps, axis=1)) < 4.5  # rad/s, not °/s
    with pytest.warns(UserWarning, match=r"right_shank \(RS\)$"):
        s = read_hugadb(hugadb_folder / "HuGaDB_v1_walking_05_00.txt")
    # the listed gyroscope is visibly amplified: median |rate| ~ 24 rad/s against ~ 2–3
    assert np.median(np.linalg.norm(s[Placement.RIGHT_SHANK].gyr_radps, axis=1)) > 10.0
    assert np.median(np.linalg.norm(s[Placement.LEFT_SHANK].gyr_radps, axis=1)) < 4.5
    assert list(read_hugadb(hugadb_folder / "HuGaDB_v1_walking_05_00.txt", corrupted_gyro="drop_leg")) == [
        Placement.LEFT_THIGH, Placement.LEFT_SHANK]
