"""Reading only the motion columns of a native file (``read_session(..., motion_only=True)``,
``SessionFileRanges(..., motion_only=True)``): the magnetometer and device-orientation columns
are neither decoded nor trusted blindly."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from io_helpers import assert_same_session, flipped_byte_outcomes

from imugait.conventions import Placement
from imugait.errors import FormatError
from imugait.io import native, native_ranges
from imugait.io.native import read_session, write_session
from imugait.io.native_ranges import SessionFileRanges
from imugait.model import ImuStream, Session


def _motion(session: Session) -> Session:
    """``session`` as a motion-only read should give it: no magnetometer, no device orientation."""
    return Session([replace(s, mag_uT=None, q_world_sensor=None) for s in session.streams], session.meta)


def _alter(path, column: str, row: int) -> None:
    """Change one stored value of ``column`` to its next float, the Parquet file otherwise
    consistent (valid page checksums, the same metadata): only the imugait hashes can tell."""
    table = pq.read_table(path)
    values = table.column(column).to_numpy(zero_copy_only=False).copy()
    assert np.isfinite(values[row])
    values[row] = np.nextafter(values[row], np.inf)
    table = table.set_column(table.schema.get_field_index(column), column, pa.array(values, mask=np.isnan(values)))
    pq.write_table(table.replace_schema_metadata(pq.read_table(path).schema.metadata), path)


def _rewrite_header(path, edit) -> None:
    """Rewrite the session JSON through ``edit(header)``, with a matching metadata hash."""
    table = pq.read_table(path)
    kv = dict(table.schema.metadata)
    header = json.loads(kv[native.KEY_SESSION])
    edit(header)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    kv[native.KEY_SESSION], kv[native.KEY_SESSION_SHA256] = text, hashlib.sha256(text).hexdigest().encode("ascii")
    pq.write_table(table.replace_schema_metadata(kv), path)


def test_new_files_hash_each_column_group(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    header = json.loads(pq.ParquetFile(path).schema_arrow.metadata[native.KEY_SESSION])
    for entry, stream in zip(header["streams"], session.streams, strict=True):
        groups = entry[native.GROUP_HASHES]
        expected = {"t_s", "acc", "gyr"} | ({"mag"} if stream.mag_uT is not None else set()) \
            | ({"quat"} if stream.q_world_sensor is not None else set())
        assert set(groups) == expected
        assert groups["gyr"] == hashlib.sha256(np.ascontiguousarray(stream.gyr_radps, "<f8")).hexdigest()
        assert entry["sha256"] == native._stream_sha256(stream)  # the whole-stream hash is still written


def test_motion_only_read_is_the_session_without_mag_and_quat(session, tmp_path, monkeypatch):
    path = write_session(session, tmp_path / "s.parquet")
    assert any(s.mag_uT is not None for s in session.streams) and any(s.q_world_sensor is not None for s in session.streams)
    back = read_session(path, motion_only=True)
    assert all(s.mag_uT is None and s.q_world_sensor is None for s in back.streams)
    assert_same_session(_motion(session), back)
    monkeypatch.setattr(native, "READ_BATCH_ROWS", 37)  # batches that end inside streams
    assert_same_session(_motion(session), read_session(path, motion_only=True))
    assert_same_session(session, read_session(path))


def test_motion_only_read_skips_the_magnetometer_columns(session, tmp_path):
    """An altered magnetometer value fails the whole read and not the motion-only one (its columns
    are not decoded); an altered gyroscope value fails both."""
    path = write_session(session, tmp_path / "s.parquet")
    _alter(path, "mag_y_uT", 3)
    with pytest.raises(FormatError, match=r"s\.parquet: left_thigh: samples do not match their checksum"):
        read_session(path)
    assert_same_session(_motion(session), read_session(path, motion_only=True))
    _alter(path, "gyr_z_radps", 3)
    with pytest.raises(FormatError, match=r"s\.parquet: left_thigh: samples do not match their checksum"):
        read_session(path, motion_only=True)


@pytest.mark.parametrize("column", ["t_s", "acc_x_mps2", "gyr_y_radps"])
def test_each_motion_group_is_verified(session, tmp_path, column):
    path = write_session(session, tmp_path / "s.parquet")
    first, second, third = session.streams[:3]  # in row order (placement order)
    _alter(path, column, first.n_samples + second.n_samples + 5)  # the third stream's sixth sample
    with pytest.raises(FormatError, match=rf"s\.parquet: {third.placement.value}: samples do not match their checksum"):
        read_session(path, motion_only=True)


@pytest.mark.parametrize("stored", ["absent", "not a dict"])
def test_files_without_group_hashes_are_read_and_verified_whole(session, tmp_path, stored):
    """Files written before the group hashes: the motion-only read decodes and verifies every
    column (an altered magnetometer value is found) and then leaves the two groups out."""
    path = write_session(session, tmp_path / "s.parquet")

    def edit(header):
        for entry in header["streams"]:
            if stored == "absent":
                del entry[native.GROUP_HASHES]
            else:
                entry[native.GROUP_HASHES] = "0" * 64

    _rewrite_header(path, edit)
    assert_same_session(_motion(session), read_session(path, motion_only=True))
    assert_same_session(session, read_session(path))
    _alter(path, "mag_x_uT", 3)
    with pytest.raises(FormatError, match=r"s\.parquet: left_thigh: samples do not match their checksum"):
        read_session(path, motion_only=True)


def test_a_wrong_group_hash_is_an_error(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")

    def edit(header):
        header["streams"][2][native.GROUP_HASHES]["acc"] = "0" * 64

    _rewrite_header(path, edit)
    read_session(path)  # the whole read checks the whole-stream hash
    name = session.streams[2].placement.value  # the header lists the streams in row order, as the session
    with pytest.raises(FormatError, match=rf"s\.parquet: {name}: samples do not match their checksum"):
        read_session(path, motion_only=True)


def test_a_missing_presence_flag_is_an_error_in_a_motion_only_read(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")

    def edit(header):
        del header["streams"][1]["has_quat"]

    _rewrite_header(path, edit)
    with pytest.raises(FormatError, match=rf"{session.streams[1].placement.value}: metadata has no has_mag/has_quat flag"):
        read_session(path, motion_only=True)


def test_flipped_bytes_never_give_silently_wrong_motion_data(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    outcomes = flipped_byte_outcomes(path, tmp_path / "flipped.parquet", lambda p: read_session(p, motion_only=True),
                                     _motion(session), 37)
    assert outcomes["error"] > 0.3 * sum(outcomes.values())
    assert outcomes["identical"] > 0  # e.g. flips in the magnetometer's pages, which are not read


@pytest.mark.parametrize("group_hashes", [True, False])
def test_file_windows_motion_only(session, tmp_path, monkeypatch, group_hashes):
    """The window reader with ``motion_only``: windows are the motion-only session's slices; the
    magnetometer is verified only in a file without group hashes; the motion groups always."""
    monkeypatch.setattr(native, "ROW_GROUP_ROWS", 50)
    monkeypatch.setattr(native_ranges, "READ_BATCH_ROWS", 37)
    monkeypatch.setattr(native_ranges, "INDEX_EVERY", 16)
    path = write_session(session, tmp_path / "s.parquet")
    if not group_hashes:
        _rewrite_header(path, lambda header: [entry.pop(native.GROUP_HASHES) for entry in header["streams"]])
    source = SessionFileRanges(path, motion_only=True)
    longest = max(session.streams, key=lambda s: s.n_samples).t_s
    for t0, t1 in [(longest[0], longest[-1] + 1.0), (longest[11], longest[250])]:
        assert_same_session(_motion(session).slice_time(t0, t1), source.read(t0, t1))
    _alter(path, "mag_z_uT", 3)
    if group_hashes:
        SessionFileRanges(path, motion_only=True)  # not decoded, not verified
    else:
        with pytest.raises(FormatError, match="left_thigh: samples do not match their checksum"):
            SessionFileRanges(path, motion_only=True)
    with pytest.raises(FormatError, match="left_thigh: samples do not match their checksum"):
        SessionFileRanges(path)
    _alter(path, "acc_y_mps2", 3)
    with pytest.raises(FormatError, match="left_thigh: samples do not match their checksum"):
        SessionFileRanges(path, motion_only=True)


def test_carries_label_on_dictionary_and_plain_columns():
    strings = pa.array(["left_thigh", "left_thigh", "pelvis"])
    dictionary = strings.dictionary_encode()
    assert native.carries_label(dictionary.slice(0, 2), "left_thigh")
    assert not native.carries_label(dictionary, "left_thigh")
    assert not native.carries_label(dictionary.slice(0, 2), "pelvis")  # a value in the dictionary, not in the rows
    assert not native.carries_label(dictionary.slice(0, 2), "right_shank")  # not in the dictionary at all
    with_null = pa.DictionaryArray.from_arrays(pa.array([0, None], type=pa.int8()), pa.array(["left_thigh"]))
    assert not native.carries_label(with_null, "left_thigh")
    null_entry = pa.DictionaryArray.from_arrays(pa.array([0, 1], type=pa.int8()), pa.array(["left_thigh", None]))
    assert not native.carries_label(null_entry, "left_thigh")
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], type=pa.int8()), pa.array(["left_thigh", "left_thigh"]))
    assert native.carries_label(repeated, "left_thigh")
    assert native.carries_label(strings.slice(0, 2), "left_thigh")
    assert not native.carries_label(strings, "left_thigh")
    assert not native.carries_label(pa.array(["left_thigh", None]), "left_thigh")


@pytest.mark.parametrize("reader", ["whole", "motion_only", "windows"])
def test_a_row_with_another_placement_is_refused(session, tmp_path, reader):
    path = write_session(session, tmp_path / "s.parquet")
    table = pq.read_table(path)
    labels = table.column("placement").to_pylist()
    row = session.streams[0].n_samples + 7  # the second stream's eighth row
    labels[row] = session.streams[0].placement.value
    column = pa.array(labels).dictionary_encode().cast(table.schema.field("placement").type)
    table = table.set_column(0, "placement", column)
    pq.write_table(table, path, use_dictionary=["placement"])
    second = session.streams[1].placement.value
    with pytest.raises(FormatError, match=rf"s\.parquet: {second}: rows .* do not all carry this placement"):
        if reader == "windows":
            SessionFileRanges(path)
        else:
            read_session(path, motion_only=reader == "motion_only")


def test_session_motion_only_drops_mag_and_quat_and_shares_the_rest(session):
    motion = session.motion_only()
    assert motion.meta == session.meta and list(motion) == list(session)
    for a, b in zip(session.streams, motion.streams, strict=True):
        assert b.mag_uT is None and b.q_world_sensor is None
        assert b.t_s is a.t_s and b.acc_mps2 is a.acc_mps2 and b.gyr_radps is a.gyr_radps  # not copied
        assert (b.gaps, b.device, b.sample_rate_hz) == (a.gaps, a.device, a.sample_rate_hz)


def test_read_recording_motion_only_for_native_and_other_formats(session, tmp_path):
    """Through the one format dispatch (what ``imugait batch`` reads with): a native file by the
    motion-only reader, another format read whole and then without the two groups."""
    from imugait.io.csv_generic import write_csv_session
    from imugait.io.formats import read_recording

    native_path = write_session(session, tmp_path / "s.parquet")
    assert_same_session(_motion(session), read_recording(native_path, "native", motion_only=True))
    assert_same_session(session, read_recording(native_path, "native"))
    _alter(native_path, "mag_x_uT", 3)  # not decoded by the motion-only read
    assert_same_session(_motion(session), read_recording(native_path, "native", motion_only=True))
    rng = np.random.default_rng(5)
    t = np.arange(200) / 100.0
    plain = Session([ImuStream(Placement.LEFT_THIGH, t, rng.normal(0, 2, (200, 3)) + [0, 0, 9.81], rng.normal(0, 3, (200, 3)),
                               100.0, mag_uT=rng.normal(0, 40, (200, 3))),
                     ImuStream(Placement.LEFT_SHANK, t, rng.normal(0, 2, (200, 3)) + [0, 0, 9.81], rng.normal(0, 3, (200, 3)),
                               100.0)])
    csv_path = write_csv_session(plain, tmp_path / "s.csv")
    whole = read_recording(csv_path, "csv")
    assert any(s.mag_uT is not None for s in whole.streams)
    assert_same_session(whole.motion_only(), read_recording(csv_path, "csv", motion_only=True))
