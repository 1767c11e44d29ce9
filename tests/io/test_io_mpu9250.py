"""MPU-9250 ``.1bsn`` files and the gait-rehab walks: records, units, counters, pairing, real data."""

from __future__ import annotations

import numpy as np
import pytest
from io_helpers import DATASETS, assert_same_session, bsn_bytes, walking_counts, write_mpu9250_tree

from imugait.conventions import GRAVITY_MPS2, Placement, Side
from imugait.errors import FormatError
from imugait.io import (
    catalog_mpu9250,
    decode_1bsn,
    iter_mpu9250_walks,
    list_mpu9250_walks,
    read_1bsn,
    read_mpu9250_walk,
    read_session,
    write_session,
)
from imugait.model import FILE_TIME_NOTE, Gap

ZIP = DATASETS / "gait_rehab_mpu9250" / "Healthy_Adults-gait_activity.zip"


def _leg_files(subject: str, side: str, trial: str, n_thigh: int = 300, n_shank: int = 300, seed: int = 0) -> dict:
    out = {}
    for segment, n in (("Thigh", n_thigh), ("Shank", n_shank)):
        acc, gyr = walking_counts(n, seed=seed + (segment == "Shank"))
        out[f"{subject}/{segment}-{side}/{trial}"] = bsn_bytes(np.arange(n), acc, gyr)
    return out


def test_record_layout_and_units():
    data = bsn_bytes([7, 8], [[4096, -4096, 32767], [0, 1, -32768]], [[16384, -16384, 0], [1, 0, -1]],
                     extra=[[-8824, 14502, 783], [0, 0, 0]])
    assert len(data) == 56
    s = decode_1bsn(data, "x.1bsn")
    np.testing.assert_array_equal(s.counter, [7, 8])
    np.testing.assert_allclose(s.t_s, [0.07, 0.08], rtol=0, atol=1e-15)
    # ±8 g over int16: 4096 counts = 1 g; ±2000 °/s: 16384 counts = 1000 °/s
    np.testing.assert_allclose(s.acc_mps2[0], [GRAVITY_MPS2, -GRAVITY_MPS2, 8 * GRAVITY_MPS2 * 32767 / 32768], rtol=1e-15)
    np.testing.assert_allclose(s.acc_mps2[1, 2], -8 * GRAVITY_MPS2, rtol=1e-15)
    np.testing.assert_allclose(s.gyr_radps[0], np.deg2rad([1000.0, -1000.0, 0.0]), rtol=1e-15)
    np.testing.assert_allclose(s.gyr_radps[1], np.deg2rad([2000 / 32768, 0, -2000 / 32768]), rtol=1e-15)
    np.testing.assert_array_equal(s.extra_raw[0], [-8824, 14502, 783])
    assert s.repaired == () and s.trailing_bytes == 0 and s.gaps == ()


def test_stream_device_info_for_clipping():
    acc, gyr = walking_counts(50)
    st = decode_1bsn(bsn_bytes(np.arange(50), acc, gyr), "a.1bsn").to_stream(Placement.RIGHT_SHANK, "NO.1/Shank-right")
    assert st.placement is Placement.RIGHT_SHANK and st.sample_rate_hz == 100.0
    assert st.device.model == "MPU-9250" and st.device.device_id == "NO.1/Shank-right"
    assert st.device.acc_range_mps2 == pytest.approx(8 * 9.80665)
    assert st.device.gyr_range_radps == pytest.approx(np.deg2rad(2000.0))
    assert st.mag_uT is None and st.q_world_sensor is None


def test_counter_gaps_are_lost_samples():
    counter = np.r_[0:10, 12:20, 21:30]
    acc, gyr = walking_counts(counter.size)
    s = decode_1bsn(bsn_bytes(counter, acc, gyr), "g.1bsn")
    assert s.gaps == (Gap(after_index=9, n_lost=2), Gap(after_index=17, n_lost=1))
    st = s.to_stream(Placement.LEFT_THIGH)
    assert st.n_lost_total == 3 and st.n_samples == 27
    np.testing.assert_allclose(st.t_s[9:11], [0.09, 0.12])


def test_lone_corrupted_counter_is_repaired_and_reported():
    counter = np.arange(470)
    counter[464] = 208  # 464 with bit 8 flipped, as in NO.3/Shank-left/IMU_13
    acc, gyr = walking_counts(470)
    s = decode_1bsn(bsn_bytes(counter, acc, gyr), "c.1bsn")
    np.testing.assert_array_equal(s.counter, np.arange(470))
    assert s.repaired == (464,) and s.gaps == ()
    assert s.notes() == ["c.1bsn: corrupted counter repaired at record(s) 464"]


@pytest.mark.parametrize(("counter", "where"), [
    ([0, 1, 2, 300, 400, 5, 6], r"record 5 \(400 then 5\)"),   # two bad values in a row: not guessed
    ([0, 1, 2, 3, 3, 4], r"record 4 \(3 then 3\)"),
    ([5, 6, 7, 2, 3, 4], r"record 3 \(7 then 2\)"),
])
def test_counter_that_does_not_increase_is_refused(counter, where):
    acc, gyr = walking_counts(len(counter))
    with pytest.raises(FormatError, match=rf"^r\.1bsn: record counter does not increase at {where}"):
        decode_1bsn(bsn_bytes(counter, acc, gyr), "r.1bsn")


def test_truncated_file_names_the_file_and_trailing_bytes(tmp_path):
    acc, gyr = walking_counts(20)
    path = tmp_path / "IMU_3.1bsn"
    path.write_bytes(bsn_bytes(np.arange(20), acc, gyr)[:-11])  # 19 records + 17 bytes
    with pytest.raises(FormatError, match=r"^IMU_3\.1bsn is truncated: 549 bytes are 19 complete 28-byte records "
                                          r"and 17 trailing byte\(s\) .*--allow-truncated"):
        read_1bsn(path)
    s = read_1bsn(path, allow_truncated=True)
    assert s.counter.size == 19 and s.trailing_bytes == 17
    assert s.notes() == ["IMU_3.1bsn: 17 trailing byte(s) of an incomplete record left out"]
    with pytest.raises(FormatError, match="needs at least 2 records"):
        decode_1bsn(b"\0" * 28, "one.1bsn")
    with pytest.raises(FormatError, match="nope.1bsn: no such file"):
        read_1bsn(tmp_path / "nope.1bsn")


def test_walk_from_zip_and_folder_are_the_same_session(tmp_path):
    files = {**_leg_files("NO.1", "left", "IMU_10", 300, 249), **_leg_files("NO.1", "right", "IMU_3", seed=5)}
    write_mpu9250_tree(files, zip_path=tmp_path / "d.zip", folder=tmp_path / "unzipped")
    from_zip = read_mpu9250_walk(tmp_path / "d.zip", "NO.1/left/IMU_10")
    from_dir = read_mpu9250_walk(tmp_path / "unzipped", "no.1/LEFT/imu_10")
    assert list(from_zip) == [Placement.LEFT_THIGH, Placement.LEFT_SHANK]
    for p in from_zip:
        for name in ("t_s", "acc_mps2", "gyr_radps"):
            np.testing.assert_array_equal(getattr(from_zip[p], name), getattr(from_dir[p], name))
    thigh, shank = from_zip[Placement.LEFT_THIGH], from_zip[Placement.LEFT_SHANK]
    assert thigh.n_samples == 300 and shank.n_samples == 249 and thigh.t_s[0] == shank.t_s[0] == 0.0
    assert thigh.acc_mps2[0, 0] == pytest.approx(GRAVITY_MPS2, rel=1e-15)  # 4096 counts
    m = from_zip.meta
    assert m.subject_id == "NO.1" and m.source == "import:mpu9250"
    assert m.notes == ("walk NO.1/left/IMU_10 from d.zip: left_thigh=NO.1/Thigh-left/IMU_10.1bsn; "
                       f"left_shank=NO.1/Shank-left/IMU_10.1bsn; {FILE_TIME_NOTE}")
    assert m.recorded_at_is_file_time  # the records carry no date: the files' time stands in, and says so
    assert from_dir.meta.notes.startswith("walk NO.1/left/IMU_10 from unzipped:")
    # the native format keeps it bit-exact
    assert_same_session(from_zip, read_session(write_session(from_zip, tmp_path / "w.parquet")))
    # a subject's own folder works too
    assert [w.walk_id for w in list_mpu9250_walks(tmp_path / "unzipped" / "Healthy Adults-gait activity" / "NO.1")] == [
        "NO.1/left/IMU_10", "NO.1/right/IMU_3"]


def test_catalog_order_unpaired_and_known_pair_fix(tmp_path):
    files = {
        **_leg_files("NO.10", "left", "IMU_9"), **_leg_files("NO.2", "right", "IMU_10"),
        **_leg_files("NO.2", "right", "IMU_9"), **_leg_files("NO.2", "left", "IMU_11"),
        "NO.2/Thigh-left/IMU_12": _leg_files("x", "left", "y")["x/Thigh-left/y"],
        # NO.8 left as in the dataset: shank files numbered one higher than their thigh files
        "NO.8/Thigh-left/IMU_2": bsn_bytes(np.arange(1427), *walking_counts(1427)),
        "NO.8/Thigh-left/IMU_3": bsn_bytes(np.arange(1733), *walking_counts(1733)),
        "NO.8/Shank-left/IMU_3": bsn_bytes(np.arange(1427), *walking_counts(1427, seed=1)),
        "NO.8/Shank-left/IMU_4": bsn_bytes(np.arange(1733), *walking_counts(1733, seed=1)),
    }
    write_mpu9250_tree(files, zip_path=tmp_path / "d.zip")
    c = catalog_mpu9250(tmp_path / "d.zip")
    assert [w.walk_id for w in c.walks] == [
        "NO.2/left/IMU_11", "NO.2/right/IMU_9", "NO.2/right/IMU_10", "NO.8/left/IMU_2", "NO.8/left/IMU_3",
        "NO.10/left/IMU_9"]
    assert c.unpaired == ("Healthy Adults-gait activity/NO.2/Thigh-left/IMU_12.1bsn",)
    no8 = {w.trial: w for w in c.walks if w.subject == "NO.8"}
    assert no8["IMU_2"].shank_file.endswith("Shank-left/IMU_3.1bsn") and no8["IMU_2"].side is Side.LEFT
    assert no8["IMU_3"].shank_file.endswith("Shank-left/IMU_4.1bsn")
    s = read_mpu9250_walk(tmp_path / "d.zip", "NO.8/left/IMU_3")
    assert s[Placement.LEFT_THIGH].n_samples == s[Placement.LEFT_SHANK].n_samples == 1733
    by_name = catalog_mpu9250(tmp_path / "d.zip", fix_known_pairs=False)
    assert [w.walk_id for w in by_name.walks if w.subject == "NO.8"] == ["NO.8/left/IMU_3"]
    assert len(by_name.unpaired) == 3
    # the same names in other recordings (sizes differ) are paired by name
    other = {**_leg_files("NO.8", "left", "IMU_2"), **_leg_files("NO.8", "left", "IMU_3")}
    write_mpu9250_tree(other, zip_path=tmp_path / "other.zip")
    assert [(w.trial, w.shank_file.rsplit("/", 1)[1]) for w in list_mpu9250_walks(tmp_path / "other.zip")] == [
        ("IMU_2", "IMU_2.1bsn"), ("IMU_3", "IMU_3.1bsn")]
    with pytest.raises(FormatError, match=r"no walk 'NO.2/left/IMU_1' .*; walks of NO.2/left: IMU_11$"):
        c.find("NO.2/left/IMU_1")
    with pytest.raises(FormatError, match="use --list to see the walks"):
        c.find("NO.5/left/IMU_1")
    walks = list(iter_mpu9250_walks(tmp_path / "d.zip", subject_id="P-1"))
    assert len(walks) == 6 and all(s.meta.subject_id == "P-1" for _, s in walks)


def test_a_bad_file_in_a_walk_names_the_zip_and_member(tmp_path):
    files = _leg_files("NO.1", "left", "IMU_1")
    files["NO.1/Shank-left/IMU_1"] = files["NO.1/Shank-left/IMU_1"][:-3]
    write_mpu9250_tree(files, zip_path=tmp_path / "d.zip")
    with pytest.raises(FormatError, match=r"^d\.zip: NO\.1/Shank-left/IMU_1\.1bsn is truncated: .* 25 trailing byte"):
        read_mpu9250_walk(tmp_path / "d.zip", "NO.1/left/IMU_1")
    s = read_mpu9250_walk(tmp_path / "d.zip", "NO.1/left/IMU_1", allow_truncated=True)
    assert s[Placement.LEFT_SHANK].n_samples == 299
    assert "NO.1/Shank-left/IMU_1.1bsn: 25 trailing byte(s) of an incomplete record left out" in s.meta.notes


def test_sources_that_are_not_the_dataset(tmp_path):
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match=r"^junk\.zip: not a zip file or a folder of \.1bsn files"):
        catalog_mpu9250(tmp_path / "junk.zip")
    with pytest.raises(FormatError, match="no such file or folder"):
        catalog_mpu9250(tmp_path / "absent")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "IMU_1.1bsn").write_bytes(bsn_bytes([0, 1], [0, 0, 4096], [0, 0, 0]))
    with pytest.raises(FormatError, match=r"no NO.<subject>/<Thigh\|Shank>-<left\|right>/<name>.1bsn files; "
                                          r"\.1bsn files elsewhere: flat/IMU_1\.1bsn"):
        catalog_mpu9250(tmp_path / "flat")


@pytest.fixture(scope="module")
def real_walks():
    if not ZIP.is_file():
        pytest.skip(f"MPU-9250 walks not available: {ZIP.resolve()} is absent (see ../shared/datasets/README.md)")
    return list(iter_mpu9250_walks(ZIP))


@pytest.mark.realdata
def test_real_zip_every_walk(real_walks):
    # 65 walks pair by name; NO.8 left's shank files are numbered one higher, which pairs the two
    # files that have no partner by name: 66 walks.
    assert len(real_walks) == 66
    assert len(list_mpu9250_walks(ZIP, fix_known_pairs=False)) == 65
    assert len({w.subject for w, _ in real_walks}) == 10
    durations, repaired = [], []
    for w, s in real_walks:
        assert [p.segment.value for p in s] == ["thigh", "shank"] and {p.side for p in s} == {w.side}
        peaks = []
        for st in s.streams:
            assert st.sample_rate_hz == 100.0 and st.gaps == () and st.t_s[0] == 0.0
            # 1 g at rest with ·8/32768 g; with ·16/32768 (±16 g) it would be 2 g
            assert np.median(np.linalg.norm(st.acc_mps2, axis=1)) == pytest.approx(GRAVITY_MPS2, rel=0.04)
            # swing peaks of a few rad/s (shank ~ 400 °/s); ·1000/32768 °/s would halve them
            peaks.append(np.percentile(np.linalg.norm(st.gyr_radps, axis=1), 99))
            assert 2.0 < peaks[-1] < 9.0, f"{w.walk_id} {st.placement.value}: 99th percentile |gyr| {peaks[-1]:.1f} rad/s"
            durations.append(st.duration_s)
        assert peaks[1] > peaks[0], f"{w.walk_id}: the shank swings faster than the thigh"
        if "repaired" in s.meta.notes:
            repaired.append(w.walk_id)
    assert 12.0 < min(durations) and max(durations) < 21.0
    assert repaired == ["NO.3/left/IMU_13"]
