"""The native Parquet session format: bit-exact round trips and every corruption case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from io_helpers import assert_same_session, flipped_byte_outcomes

from imugait.conventions import Placement
from imugait.errors import FormatError, ImugaitError, ValidationError
from imugait.io import native
from imugait.io._session_json import device_from_dict
from imugait.io.native import read_session, write_session
from imugait.model import DeviceInfo, GyroSampling


def test_round_trip_is_bit_exact(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    assert path == tmp_path / "s.parquet"
    back = read_session(path)
    assert_same_session(session, back)
    # the awkward values really were in there
    acc = back[Placement.LEFT_THIGH].acc_mps2
    assert np.any((acc != 0) & (np.abs(acc) < np.finfo(float).tiny)), "no subnormals tested"
    assert np.any(np.signbit(acc) & (acc == 0)), "no -0.0 tested"


def test_read_in_small_batches_is_bit_exact(session, tmp_path, monkeypatch):
    """Batches that end inside streams and span stream boundaries give the same session."""
    path = write_session(session, tmp_path / "s.parquet")
    monkeypatch.setattr(native, "READ_BATCH_ROWS", 37)
    assert max(s.n_samples for s in session.streams) > 3 * 37
    assert_same_session(session, read_session(path))


def test_a_value_where_the_metadata_says_absent_is_found_in_any_batch(session, tmp_path, monkeypatch):
    path = write_session(session, tmp_path / "s.parquet")
    table = pq.read_table(path)
    rows = np.flatnonzero(table.column("placement").to_numpy(zero_copy_only=False) == "right_thigh")
    mag = table.column("mag_x_uT").to_numpy(zero_copy_only=False)
    mag[rows[-1]] = 1.0  # the stream's last row: in its last batch
    table = table.set_column(table.schema.get_field_index("mag_x_uT"), "mag_x_uT",
                             pa.array(mag, mask=np.isnan(mag)))
    pq.write_table(table, path)
    monkeypatch.setattr(native, "READ_BATCH_ROWS", 37)
    with pytest.raises(FormatError, match="right_thigh: mag columns hold values the metadata says are absent"):
        read_session(path)


def test_readable_with_pandas_alone(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    df = pd.read_parquet(path)
    assert list(df.columns) == list(native.COLUMNS)
    assert len(df) == sum(s.n_samples for s in session.streams)
    thigh = df[df["placement"] == "left_thigh"]
    s = session[Placement.LEFT_THIGH]
    assert thigh["t_s"].to_numpy().tobytes() == s.t_s.tobytes()
    assert thigh[["gyr_x_radps", "gyr_y_radps", "gyr_z_radps"]].to_numpy().tobytes() == s.gyr_radps.tobytes()
    right = df[df["placement"] == "right_thigh"]
    assert right["mag_x_uT"].isna().all() and right["q_world_sensor_w"].isna().all()
    kv = pq.ParquetFile(path).schema_arrow.metadata
    assert kv[b"imugait.format_version"] == b"1"
    header = json.loads(kv[b"imugait.session"])
    assert header["meta"]["subject_id"] == "S-007"
    assert [st["placement"] for st in header["streams"]] == [p.value for p in session]
    assert {st["placement"]: st["gaps"] for st in header["streams"]}["left_thigh"] == [[10, 3], [200, 1]]


def test_streams_are_stored_in_placement_order(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    labels = pd.read_parquet(path)["placement"].astype(str).to_numpy()
    order = [labels[0]] + [b for a, b in zip(labels[:-1], labels[1:], strict=True) if a != b]
    assert order == [p.value for p in Placement if p in session]


def test_page_checksums_are_written(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    data = bytearray(path.read_bytes())
    # Flip a byte inside the compressed page of t_s: Parquet's own CRC must catch it, before
    # decompression or our stream hashes get a chance.
    col = pq.ParquetFile(path).metadata.row_group(0).column(1)
    offset = col.data_page_offset + col.total_compressed_size // 2
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"s\.parquet is corrupt: .*CRC checksum"):
        read_session(path)


def test_new_files_are_lz4_and_files_written_with_zstd_still_read(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    meta = pq.ParquetFile(path).metadata
    codecs = {meta.row_group(g).column(c).compression for g in range(meta.num_row_groups) for c in range(meta.num_columns)}
    assert codecs == {"LZ4"}
    # A file as imugait wrote it before the codec changed: the same table and metadata, zstd.
    old = tmp_path / "zstd.parquet"
    pq.write_table(pq.read_table(path), old, compression="zstd", write_page_checksum=True, use_dictionary=["placement"])
    assert pq.ParquetFile(old).metadata.row_group(0).column(1).compression == "ZSTD"
    assert_same_session(session, read_session(old))
    assert_same_session(session, read_session(path))


@pytest.mark.parametrize("keep_fraction", [0.0, 0.1, 0.5, 0.999])
def test_truncated_file(session, tmp_path, keep_fraction):
    path = write_session(session, tmp_path / "cut.parquet")
    data = path.read_bytes()
    path.write_bytes(data[: max(int(len(data) * keep_fraction), 1 if keep_fraction else 0)])
    with pytest.raises(FormatError, match=r"cut\.parquet") as exc:
        read_session(path)
    if keep_fraction:
        assert "truncated" in str(exc.value)


def test_flipped_bytes_never_give_silently_wrong_data(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    # every 31st byte over the whole file: data pages, dictionary, footer, key-value metadata;
    # identical reads: e.g. a flipped byte in unused column statistics
    outcomes = flipped_byte_outcomes(path, tmp_path / "flipped.parquet", read_session, session, 31)
    assert outcomes["error"] > 0.5 * sum(outcomes.values())


def test_middle_flip_is_reported_as_corrupt(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError, match=r"s\.parquet.*(corrupt|checksum)"):
        read_session(path)


def _rewrite(path: Path, table: pa.Table, **kw) -> None:
    pq.write_table(table, path, **kw)


def test_consistent_but_altered_samples_fail_the_stream_hash(session, tmp_path):
    # A rewrite with valid Parquet checksums but changed data (e.g. a tool that "fixed" a value).
    path = write_session(session, tmp_path / "s.parquet")
    table = pq.read_table(path)
    col = table.column("gyr_y_radps").to_numpy().copy()
    col[3] = np.nextafter(col[3], np.inf)
    table = table.set_column(table.schema.get_field_index("gyr_y_radps"), "gyr_y_radps", pa.array(col))
    _rewrite(path, table.replace_schema_metadata(pq.read_table(path).schema.metadata))
    with pytest.raises(FormatError, match=r"s\.parquet: left_thigh: samples do not match their checksum"):
        read_session(path)


def test_edited_metadata_fails_its_hash(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    table = pq.read_table(path)
    kv = dict(table.schema.metadata)
    kv[b"imugait.session"] = kv[b"imugait.session"].replace(b"S-007", b"S-008")
    _rewrite(path, table.replace_schema_metadata(kv))
    with pytest.raises(FormatError, match="session metadata does not match its checksum"):
        read_session(path)


def test_parquet_that_is_not_ours(tmp_path):
    path = tmp_path / "other.parquet"
    pd.DataFrame({"t_s": [0.0, 0.01], "acc_x_mps2": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(FormatError, match=r"other\.parquet is a Parquet file but not an imugait session"):
        read_session(path)


def test_missing_columns(session, tmp_path):
    path = write_session(session, tmp_path / "s.parquet")
    table = pq.read_table(path)
    kv = table.schema.metadata
    _rewrite(path, table.drop_columns(["gyr_y_radps", "mag_z_uT"]).replace_schema_metadata(kv))
    with pytest.raises(FormatError, match=r"s\.parquet: missing column\(s\) gyr_y_radps, mag_z_uT"):
        read_session(path)


@pytest.mark.parametrize(("version", "hint"), [(b"2", "upgrade imugait"), (b"0", "convert it")])
def test_wrong_format_version(session, tmp_path, version, hint):
    path = write_session(session, tmp_path / "s.parquet")
    table = pq.read_table(path)
    kv = dict(table.schema.metadata)
    kv[b"imugait.format_version"] = version
    _rewrite(path, table.replace_schema_metadata(kv))
    with pytest.raises(FormatError, match=rf"s\.parquet has format version {version.decode()}; this imugait reads version 1 \({hint}"):
        read_session(path)


def test_not_parquet_and_missing_file(tmp_path):
    text = tmp_path / "notes.parquet"
    text.write_text("t_s,acc\n0,1\n")
    with pytest.raises(FormatError, match=r"notes\.parquet is not a Parquet file") as not_json:
        read_session(text)
    assert "JSON" not in str(not_json.value)
    result = tmp_path / "walk.analysis.json"
    result.write_text('{"schema": "imugait.analysis"}')
    with pytest.raises(FormatError, match=r"looks like JSON .*give the session's \.parquet file"):
        read_session(result)
    with pytest.raises(FormatError, match=r"nowhere\.parquet: no such file"):
        read_session(tmp_path / "nowhere.parquet")


def test_write_is_atomic(session, tmp_path, monkeypatch):
    path = write_session(session, tmp_path / "s.parquet")
    good = path.read_bytes()
    assert path.stat().st_mode & 0o777 == 0o644

    def crash(table, where, **kw):
        Path(where).write_bytes(good[:100])  # half a file, then the process "dies"
        raise KeyboardInterrupt

    monkeypatch.setattr(native.pq, "write_table", crash)
    with pytest.raises(KeyboardInterrupt):
        write_session(session.with_meta(subject_id="other"), path)
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["s.parquet"], "temporary file left behind"


def test_write_errors(session, tmp_path):
    with pytest.raises(ValidationError, match="needs a Session"):
        write_session({"left_thigh": None}, tmp_path / "x.parquet")
    with pytest.raises(ImugaitError, match="folder .*missing.* does not exist"):
        write_session(session, tmp_path / "missing" / "x.parquet")


def test_unstorable_device_info_is_a_validation_error(session, tmp_path):
    from dataclasses import replace

    from imugait.model import DeviceInfo, Session

    bad = replace(session[Placement.PELVIS], device=DeviceInfo(acc_range_mps2=float("nan")))
    with pytest.raises(ValidationError, match="session metadata cannot be stored: Out of range float"):
        write_session(Session([bad]), tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_event_log_round_trips(session, tmp_path):
    from dataclasses import replace

    from imugait.model import EventKind, Session, SessionEvent

    events = (SessionEvent(1.5, EventKind.LINK_DOWN, Placement.LEFT_THIGH, detail="radio"),
              SessionEvent(1.8, EventKind.LINK_UP, Placement.LEFT_THIGH, value_s=0.3),
              SessionEvent(9.0, EventKind.INTERRUPTED))
    with_events = Session(session.streams, replace(session.meta, events=events))
    back = read_session(write_session(with_events, tmp_path / "e.parquet"))
    assert back.meta.events == events


def test_a_malformed_event_is_a_format_error(session, tmp_path):
    from imugait.io._session_json import meta_from_dict, meta_to_dict

    d = meta_to_dict(session.meta)
    d["events"] = [{"t_s": 1.0, "kind": "no_such_kind"}]
    with pytest.raises(FormatError, match=r"meta.events\[0\]"):
        meta_from_dict(d, "x.parquet")


def test_a_footer_declaring_a_huge_list_is_refused_without_taking_memory_for_it():
    """Fuzzing found a 9-KB file whose damaged footer declares a million-element thrift list:
    pyarrow's default limits let it take 177 MB before refusing it; the limits are now the file's size."""
    saved = Path(__file__).resolve().parents[1] / "fuzz" / "crashes" / "native-memory-thrift-list.parquet"
    code = (
        "import resource, sys\n"
        "from imugait.errors import FormatError\n"
        "from imugait.io.native import read_session\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        "    read_session(sys.argv[1])\n"
        "except FormatError as exc:\n"
        "    print(str(exc).splitlines()[0])\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(saved)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}).stdout.splitlines()
    assert "cannot read the Parquet footer" in out[0]
    assert int(out[1]) < 32  # MB more than before the read (was 177)


def test_what_a_gyroscope_sample_stands_for_round_trips(session, tmp_path):
    from dataclasses import replace

    interval = replace(session[Placement.LEFT_THIGH], device=DeviceInfo(model="dot", gyr_sampling=GyroSampling.INTERVAL_MEAN))
    changed = type(session)([interval if s.placement is Placement.LEFT_THIGH else s for s in session.streams],
                            session.meta)
    back = read_session(write_session(changed, tmp_path / "s.parquet"))
    assert back[Placement.LEFT_THIGH].device.gyr_sampling is GyroSampling.INTERVAL_MEAN
    assert back[Placement.RIGHT_THIGH].device.gyr_sampling is GyroSampling.INSTANT


def test_a_device_without_gyr_sampling_is_instant_and_a_wrong_one_is_refused():
    # Files written before the field existed carry none: the documented default.
    assert device_from_dict({"model": "m"}, "f.parquet", "streams[0].device").gyr_sampling is GyroSampling.INSTANT
    with pytest.raises(FormatError, match=r"f\.parquet: metadata 'streams\[0\]\.device\.gyr_sampling' must be one of"):
        device_from_dict({"gyr_sampling": "average"}, "f.parquet", "streams[0].device")
