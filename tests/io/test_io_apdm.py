"""APDM Opal .h5 files (format version 5, made from the documented layout)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from vendor_fixtures import swing, write_apdm_h5

from imugait.conventions import Placement
from imugait.errors import FormatError, ValidationError
from imugait.io.apdm import read_apdm_h5

pytest.importorskip("h5py", reason="h5py (pip install 'imugait[hdf5]') is not importable")


@pytest.fixture
def opal(tmp_path):
    thigh, shank = swing(rate_hz=128.0), swing(rate_hz=128.0, axis=(1, 0.2, 0))
    path = write_apdm_h5(tmp_path / "walk.h5", {"1234": ("Left Upper Leg", thigh), "SI-000646": ("Left Lower Leg", shank),
                                               "999": ("Sternum", swing(rate_hz=128.0))})
    return path, thigh, shank


def test_default_labels_units_and_time(opal):
    path, thigh, shank = opal
    s = read_apdm_h5(path, subject_id="A1")
    assert list(s) == [Placement.LEFT_THIGH, Placement.LEFT_SHANK]  # the sternum is not a placement imugait uses
    st = s[Placement.LEFT_THIGH]
    np.testing.assert_allclose(st.acc_mps2, thigh.acc_mps2, rtol=1e-6)  # stored float32
    np.testing.assert_allclose(st.gyr_radps, thigh.gyr_radps, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(st.mag_uT, thigh.mag_uT, rtol=1e-6)
    np.testing.assert_allclose(st.q_world_sensor, thigh.q, atol=1e-6)
    assert st.sample_rate_hz == 128.0 and st.t_s[0] == 0.0 and st.device.device_id == "1234"
    assert s.meta.recorded_at == "2023-11-14T22:13:20.000+00:00" and s.meta.source == "import:apdm-h5"


def test_map_by_label_or_case_id(opal):
    path, _thigh, shank = opal
    s = read_apdm_h5(path, {Placement.RIGHT_SHANK: "si-000646", Placement.PELVIS: "Sternum"})
    np.testing.assert_allclose(s[Placement.RIGHT_SHANK].gyr_radps, shank.gyr_radps, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValidationError, match="no device matches 'Lumbar'"):
        read_apdm_h5(path, {Placement.PELVIS: "Lumbar"})


def test_lost_samples_are_gaps(tmp_path):
    m = swing(n=200, rate_hz=128.0)
    from vendor_fixtures import Motion
    keep = np.r_[0:100, 104:200]
    path = write_apdm_h5(tmp_path / "g.h5", {"1": ("Right Thigh", Motion(*(a[keep] for a in (m.t_s, m.q, m.gyr_radps, m.acc_mps2, m.mag_uT))))})
    st = read_apdm_h5(path)[Placement.RIGHT_THIGH]
    assert [(g.after_index, g.n_lost) for g in st.gaps] == [(99, 4)]


def test_broken_files(tmp_path, opal):
    path, _t, _s = opal
    data = path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 3])
    with pytest.raises(FormatError, match="not a readable HDF5 file"):
        read_apdm_h5(tmp_path / "cut.h5")
    old = write_apdm_h5(tmp_path / "v4.h5", {"1": ("Left Thigh", swing())}, version=4)
    with pytest.raises(FormatError, match="version 4; only 5"):
        read_apdm_h5(old)
    import h5py
    with h5py.File(path, "a") as f:
        del f["Sensors/1234/Gyroscope"]
    with pytest.raises(FormatError, match="/Sensors/1234 has no Gyroscope dataset"):
        read_apdm_h5(path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="found through /proc/self/maps")
def test_reading_switches_libhdf5_free_lists_off(opal):
    """A damaged file (tests/fuzz/crashes/apdm-slow-damaged-local-heap.h5) made every later read in
    the process slower through libhdf5's free lists; the importer switches them off on the libhdf5
    h5py loaded (docs/reliability.md, "A slow-down inside libhdf5")."""
    from imugait.io import _hdf5_free_lists

    _hdf5_free_lists.switch_off_hdf5_free_lists.cache_clear()
    read_apdm_h5(opal[0])
    assert _hdf5_free_lists.switch_off_hdf5_free_lists.cache_info().currsize == 1  # the importer did it
    path = _hdf5_free_lists._loaded_libhdf5()
    assert path is not None and "libhdf5" in path and "_hl" not in path.rsplit("/", 1)[-1]
    assert _hdf5_free_lists.switch_off_hdf5_free_lists() is True
