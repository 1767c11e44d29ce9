"""Generic CSV import and export."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from io_helpers import assert_same_session

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io.csv_generic import read_csv_session, write_csv_session
from imugait.model import Gap, ImuStream, Session, SessionMeta

HEADER = "t_s," + ",".join(f"left_thigh_{k}_{a}" for k in ("acc", "gyr") for a in "xyz")


def _write(tmp_path: Path, text: str, name: str = "rec.csv") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _rows(t: np.ndarray, values: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in (ti, *row)) for ti, row in zip(t, values, strict=True))


def _two_leg_session(n: int = 300, rate_hz: float = 100.0) -> Session:
    rng = np.random.default_rng(7)
    t = np.arange(n) / rate_hz + 12.5

    def stream(p: Placement, mag: bool) -> ImuStream:
        acc = rng.normal(0, 2, (n, 3)) + [0, 0, 9.81]
        return ImuStream(p, t, acc, rng.normal(0, 3, (n, 3)), rate_hz,
                         mag_uT=rng.normal(0, 40, (n, 3)) if mag else None)

    return Session([stream(Placement.LEFT_THIGH, True), stream(Placement.PELVIS, False)],
                   SessionMeta(subject_id="csv-1", recorded_at="2025-01-01T00:00:00+00:00",
                               source="import:csv", notes="imported from out.csv"))


def test_export_then_import_is_bit_exact(tmp_path):
    s = _two_leg_session()
    path = write_csv_session(s, tmp_path / "out.csv")
    header = path.read_text().splitlines()[0].split(",")
    assert header[0] == "t_s" and "pelvis_acc_x" in header and "left_thigh_mag_z" in header
    back = read_csv_session(path, subject_id="csv-1", recorded_at="2025-01-01T00:00:00+00:00")
    assert_same_session(s, back)
    assert back[Placement.LEFT_THIGH].sample_rate_hz == 100.0


def test_quaternion_columns_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    n = 50
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    s = Session([ImuStream(Placement.RIGHT_FOOT, np.arange(n) / 50, rng.normal(size=(n, 3)) + [0, 0, 9.81],
                           rng.normal(size=(n, 3)), 50.0, q_world_sensor=q)])
    back = read_csv_session(write_csv_session(s, tmp_path / "q.csv"))
    assert back[Placement.RIGHT_FOOT].q_world_sensor.tobytes() == q.tobytes()


def test_nan_rows_are_missing_samples_and_become_gaps(tmp_path):
    n = 40
    t = np.arange(n) / 50.0
    vals = np.tile([0.1, 0.2, 9.8, 0.01, 0.02, 0.03], (n, 1))
    vals[:, 0] += np.arange(n) * 1e-3  # make every sample distinguishable
    text = HEADER + "\n" + _rows(t, vals) + "\n"
    lines = text.splitlines()
    lines[1 + 10] = f"{float(t[10])!r},,,,,,"           # empty cells
    lines[1 + 11] = f"{float(t[11])!r},NaN,0,0,0,0,0"   # one NaN is enough to drop the sample
    lines[1 + 30] = f"{float(t[30])!r},nan,nan,nan,nan,nan,nan"
    s = read_csv_session(_write(tmp_path, "\n".join(lines) + "\n"))
    st = s[Placement.LEFT_THIGH]
    assert st.n_samples == n - 3
    assert st.sample_rate_hz == pytest.approx(50.0, rel=1e-9)
    assert st.gaps == (Gap(after_index=9, n_lost=2), Gap(after_index=27, n_lost=1))
    np.testing.assert_array_equal(st.acc_mps2[10], vals[12, :3])  # kept values, not interpolated
    assert s.meta.source == "import:csv"


def test_unaligned_streams_in_one_file_have_no_false_gaps(tmp_path):
    # Two sensors on their own clocks: rows alternate, each sensor empty in the other's rows.
    n = 100
    base = _two_leg_session(n)
    shifted = ImuStream(Placement.PELVIS, base[Placement.PELVIS].t_s + 0.004,
                        base[Placement.PELVIS].acc_mps2, base[Placement.PELVIS].gyr_radps, 100.0)
    s = Session([base[Placement.LEFT_THIGH], shifted])
    back = read_csv_session(write_csv_session(s, tmp_path / "u.csv"))
    for p in s:
        assert back[p].gaps == ()
        assert back[p].t_s.tobytes() == s[p].t_s.tobytes()


def test_sample_rate_from_median_dt_with_jitter(tmp_path):
    rng = np.random.default_rng(1)
    n = 401
    t = np.cumsum(np.full(n, 1 / 60) + rng.uniform(-1e-3, 1e-3, n))
    vals = np.tile([0.0, 0.0, 9.8, 0.0, 0.0, 0.0], (n, 1))
    s = read_csv_session(_write(tmp_path, HEADER + "\n" + _rows(t, vals) + "\n"))
    st = s[Placement.LEFT_THIGH]
    assert st.sample_rate_hz == pytest.approx(1 / np.median(np.diff(t)), rel=1e-8)
    assert st.sample_rate_hz == pytest.approx(60.0, rel=5e-3)
    assert st.gaps == ()


def test_tab_separated_and_pelvis_columns(tmp_path):
    header = "t_s\t" + "\t".join(f"pelvis_{k}_{a}" for k in ("acc", "gyr") for a in "xyz")
    body = "0.0\t0\t0\t9.8\t0\t0\t0\n0.01\t0\t0\t9.8\t0\t0\t0.5\n"
    s = read_csv_session(_write(tmp_path, header + "\n" + body, "tab.csv"))
    assert list(s) == [Placement.PELVIS]
    assert s[Placement.PELVIS].gyr_radps[1, 2] == 0.5


@pytest.mark.parametrize(("text", "message"), [
    ("time,left_thigh_acc_x\n0,1\n", r"rec\.csv: no t_s column"),
    ("t_s,left_thigh_acc_x,left_thigh_acc_y,left_thigh_acc_z\n0,0,0,9.8\n0.1,0,0,9.8\n",
     r"rec\.csv: left_thigh has no gyr columns"),
    (HEADER + ",knee_acc_x,left_thigh_temp_c,right_thigh_acc_w\n",
     r"rec\.csv: unknown column\(s\) knee_acc_x, left_thigh_temp_c, right_thigh_acc_w"),
    (HEADER.replace(",left_thigh_gyr_z", "") + "\n", r"rec\.csv: left_thigh lacks column\(s\) left_thigh_gyr_z"),
    (HEADER + "\n0,0,0,9.8,0,0,0\n0.01,0,0,9.8,zero,0,0\n",
     r"rec\.csv: line 3: column left_thigh_gyr_x holds 'zero', not a number"),
    (HEADER + "\n0,0,0,9.8,0,0,0\n0.01,0,0,9.8,0\n", r"rec\.csv: line 3 has 5 fields but the header has 7"),
    ("t_s,left_thigh_acc_x,t_s\n", r"rec\.csv: duplicate column\(s\) t_s"),
    ("", r"rec\.csv: no header row"),
])
def test_format_errors(tmp_path, text, message):
    with pytest.raises(FormatError, match=message):
        read_csv_session(_write(tmp_path, text))


@pytest.mark.parametrize(("body", "message"), [
    ("0,0,0,9.8,0,0,0\n0.02,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0,0\n",
     r"rec\.csv: t_s does not increase at line 4 \(0\.02 s then 0\.01 s\)"),
    ("0,0,0,9.8,0,0,0\n,0,0,9.8,0,0,0\n", r"rec\.csv: line 3: column t_s is empty"),
    ("0,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0,0\n0.02,0,0,9.8,0,0,90\n",
     r"rec\.csv: left_thigh: gyroscope magnitude 90\.0 rad/s at sample 2 .* deg/s"),
    ("0,0,0,9.8,0,0,0\n0.01,,,,,,\n", r"rec\.csv: left_thigh: fewer than 2 complete samples"),
])
def test_data_errors(tmp_path, body, message):
    with pytest.raises((ValidationError, FormatError), match=message):
        read_csv_session(_write(tmp_path, HEADER + "\n" + body))


def test_recorded_at_defaults_to_file_time(tmp_path):
    p = _write(tmp_path, HEADER + "\n0,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0,0\n")
    os.utime(p, (1_700_000_000, 1_700_000_000))
    assert read_csv_session(p).meta.recorded_at == "2023-11-14T22:13:20+00:00"


def test_the_notes_say_when_the_recording_time_is_the_file_s_time(tmp_path):
    """A CSV states no date: without ``recorded_at`` the file's time stands in, and the notes say so
    (newcomer pass, twenty-first session: a copied file's time read as the recording's)."""
    s = _two_leg_session()
    path = write_csv_session(s, tmp_path / "out.csv")
    note = "recording time taken from the file's modification time (the export states no date)"
    assert read_csv_session(path).meta.notes == f"imported from out.csv; {note}"
    assert note not in read_csv_session(path, recorded_at="2025-01-01T00:00:00+00:00").meta.notes
