"""Xsens MVN .mvnx sensor data (files made from the MVNX 4 layout)."""

from __future__ import annotations

import numpy as np
import pytest
from vendor_fixtures import swing, write_mvnx

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io.mvnx import read_mvnx


@pytest.fixture
def mvnx(tmp_path):
    thigh, shank = swing(n=240), swing(n=240, axis=(0.1, 1, 0.3), amplitude_deg=60)
    path = write_mvnx(tmp_path / "walk.mvnx", {"Pelvis": swing(n=240, amplitude_deg=5), "LeftUpperLeg": thigh,
                                               "LeftLowerLeg": shank, "T8": swing(n=240)})
    return path, thigh, shank


def test_default_map_and_reconstructed_rates(mvnx):
    path, thigh, shank = mvnx
    s = read_mvnx(path, subject_id="M1")
    assert list(s) == [Placement.PELVIS, Placement.LEFT_THIGH, Placement.LEFT_SHANK]
    sh = s[Placement.LEFT_SHANK]
    np.testing.assert_allclose(sh.q_world_sensor, shank.q, atol=1e-8)
    np.testing.assert_allclose(sh.acc_mps2, shank.acc_mps2, atol=1e-6)  # R^T (free acc + g)
    np.testing.assert_allclose(sh.mag_uT, shank.mag_uT, atol=1e-5)
    # central differences of the orientation at 60 Hz: error O((ω dt)²) — under 1 % of the peak rate;
    # one-sided at the two ends: O(dω/dt · dt / 2), under 10 %
    peak = np.abs(shank.gyr_radps).max()
    err = np.abs(sh.gyr_radps - shank.gyr_radps)
    assert err[1:-1].max() < 0.01 * peak and err.max() < 0.1 * peak
    assert sh.sample_rate_hz == 60.0 and sh.t_s[0] == 0.0 and sh.device.device_id == "LeftLowerLeg"
    assert s.meta.recorded_at == "2019-09-09T09:40:00.000+00:00" and s.meta.source == "import:mvnx"


def test_skipped_frames_are_gaps_and_no_namespace_is_fine(tmp_path):
    m = swing(n=100)
    path = write_mvnx(tmp_path / "g.mvnx", {"RightUpperLeg": m}, drop_frames=(40, 41), namespace=False)
    st = read_mvnx(path)[Placement.RIGHT_THIGH]
    assert [(g.after_index, g.n_lost) for g in st.gaps] == [(39, 2)]
    assert np.abs(st.gyr_radps - np.delete(m.gyr_radps, [40, 41], axis=0)).max() < 0.1 * np.abs(m.gyr_radps).max()
    assert st.t_s[40] == pytest.approx(42 / 60.0)


def test_map_and_errors(mvnx, tmp_path):
    path, thigh, _shank = mvnx
    s = read_mvnx(path, {Placement.RIGHT_THIGH: "leftupperleg"})
    np.testing.assert_allclose(s[Placement.RIGHT_THIGH].q_world_sensor, thigh.q, atol=1e-8)
    with pytest.raises(ValidationError, match="no device matches 'RightFoot'"):
        read_mvnx(path, {Placement.RIGHT_FOOT: "RightFoot"})
    text = path.read_text()
    (tmp_path / "cut.mvnx").write_text(text[: len(text) // 2])
    with pytest.raises(FormatError, match="not well-formed XML"):
        read_mvnx(tmp_path / "cut.mvnx")
    (tmp_path / "short.mvnx").write_text(text.replace("</sensorOrientation>", " 0</sensorOrientation>", 1))
    with pytest.raises(FormatError, match="frame 0: sensorOrientation has 17 values, expected 4 x 4 sensors"):
        read_mvnx(tmp_path / "short.mvnx")


def test_file_time_stands_in_and_is_noted_when_frames_carry_no_time(mvnx):
    """The first frame's ``ms`` (Unix time) is the recording time; without it the file's time
    stands in and the notes say so."""
    import re

    from imugait.model import FILE_TIME_NOTE

    path, _, _ = mvnx
    assert not read_mvnx(path).meta.recorded_at_is_file_time
    path.write_text(re.sub(r' ms="\d+"', ' ms=""', path.read_text()))
    copied = read_mvnx(path)
    assert copied.meta.recorded_at_is_file_time and FILE_TIME_NOTE in copied.meta.notes
