"""imugait.output_guard: the rules every writer of the command line checks before writing."""

from __future__ import annotations

import pytest

from imugait.errors import ImugaitError
from imugait.output_guard import (
    check_output,
    check_outputs,
    check_session_folder,
    safe_file_stem,
    same_file,
)


def test_same_file_sees_through_links_and_dots(tmp_path):
    a = tmp_path / "a"
    a.write_text("x")
    (tmp_path / "sym").symlink_to(a)
    assert same_file(a, tmp_path / "sym") and same_file(a, tmp_path / "." / "a")
    assert not same_file(a, tmp_path / "b")


def test_check_output_rules(tmp_path):
    a = tmp_path / "a.json"
    assert check_output(a) == a  # new file in an existing folder
    a.write_text("x")
    with pytest.raises(ImugaitError, match="exists: use --force to replace it"):
        check_output(a)
    assert check_output(a, force=True) == a
    with pytest.raises(ImugaitError, match="this command's input"):
        check_output(a, inputs=[a], force=True)
    with pytest.raises(ImugaitError, match="is a folder"):
        check_output(tmp_path, force=True)
    with pytest.raises(ImugaitError, match="does not exist"):
        check_output(tmp_path / "missing" / "a.json")
    with pytest.raises(ImugaitError, match="two outputs"):
        check_outputs([tmp_path / "b", None, tmp_path / "." / "b"])


def test_session_folder_rules(tmp_path):
    assert check_session_folder(tmp_path / "new", ["session.parquet"]) == tmp_path / "new"
    (tmp_path / "f").write_text("x")
    with pytest.raises(ImugaitError, match="is a file"):
        check_session_folder(tmp_path / "f", ["session.parquet"])
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "session.parquet").write_text("x")
    with pytest.raises(ImugaitError, match="use --force"):
        check_session_folder(tmp_path / "s", ["session.parquet", "truth/x.csv"])
    check_session_folder(tmp_path / "s", ["session.parquet", "truth/x.csv"], force=True)
    (tmp_path / "s" / "recording.imulog").write_text("x")
    with pytest.raises(ImugaitError, match="never replaced"):
        check_session_folder(tmp_path / "s", ["session.parquet"], force=True)


@pytest.mark.parametrize("hostile", ["../../etc/passwd", "a/b", "NUL\x00x", "\x1b[31mred", ".hidden", "", "é", "x" * 300,
                                     "<script>alert(1)</script>", "C:\\Windows"])
def test_safe_file_stem_never_leaves_the_folder(hostile):
    stem = safe_file_stem(hostile)
    assert stem and "/" not in stem and "\\" not in stem and "\x00" not in stem and not stem.startswith(".")
    assert all(c.isascii() and (c.isalnum() or c in "._-") for c in stem)
    assert len(stem) <= 100


def test_safe_file_stem_keeps_plain_names_and_separates_others():
    assert safe_file_stem("NO.1_left_IMU_10") == "NO.1_left_IMU_10"
    assert safe_file_stem("BT 00:1A/7") != safe_file_stem("BT 00:1A:7")
