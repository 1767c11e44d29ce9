"""qmt ``.mat`` import: IMU structs by name, SI units unchanged, placements, steps, real data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
from io_helpers import DATASETS

from imugait.conventions import GRAVITY_MPS2, Placement
from imugait.errors import FormatError, ValidationError
from imugait.io import read_qmt_mat
from imugait.io.qmt import parse_steps, qmt_segments
from imugait.model import Gap, ProtocolStep

REAL = DATASETS / "qmt_full_body" / "full_body_example_data.mat"
NAMES = ("foot_left", "lower_leg_left", "upper_leg_left", "lower_leg_right", "upper_leg_right", "hip", "head")


def _write(path, n: int = 200, t0: float = 40.0, t=None, names=NAMES, **extra) -> dict:
    """A file shaped like the qmt example: ``t`` and one struct per IMU with acc, gyr, quat."""
    rng = np.random.default_rng(1)
    data = {"t": t0 + np.arange(n) / 100.0 if t is None else t}
    n = n if t is None else len(t)
    for k, name in enumerate(names):
        q = rng.normal(size=(n, 4))
        data[name] = {"acc": rng.normal(0, 0.5, (n, 3)) + [0, 0, GRAVITY_MPS2],
                      "gyr": rng.normal(0, 0.3, (n, 3)) + k, "quat": q / np.linalg.norm(q, axis=1, keepdims=True)}
    data.update(extra)
    scipy.io.savemat(path, data)
    return data


def test_default_map_units_and_time(tmp_path):
    path = tmp_path / "qmt.mat"
    data = _write(path)
    assert qmt_segments(path) == NAMES
    s = read_qmt_mat(path)
    assert list(s) == [Placement.PELVIS, Placement.LEFT_THIGH, Placement.RIGHT_THIGH, Placement.LEFT_SHANK,
                       Placement.RIGHT_SHANK]
    for placement, name in ((Placement.PELVIS, "hip"), (Placement.LEFT_THIGH, "upper_leg_left"),
                            (Placement.RIGHT_SHANK, "lower_leg_right")):
        st = s[placement]
        np.testing.assert_array_equal(st.acc_mps2, data[name]["acc"])  # already m/s²
        np.testing.assert_array_equal(st.gyr_radps, data[name]["gyr"])  # already rad/s
        np.testing.assert_array_equal(st.t_s, data["t"])  # the file's clock, starting at 40 s
        assert st.sample_rate_hz == 100.0 and st.gaps == () and st.q_world_sensor is None
        assert st.device.device_id == f"qmt-{name}"
    assert s.meta.source == "import:qmt-mat" and s.meta.steps == ()
    assert s.meta.notes.startswith("imported from qmt.mat: pelvis=hip; left_thigh=upper_leg_left;")


def test_map_steps_and_gaps(tmp_path):
    path = tmp_path / "qmt.mat"
    t = np.r_[np.arange(100), np.arange(103, 200)] / 100.0
    data = _write(path, t=t)
    steps = parse_steps(["stand=0.1:0.5", "walk=1:1.9"])
    s = read_qmt_mat(path, {Placement.LEFT_FOOT: "foot_left"}, subject_id="Q-1", steps=steps)
    st = s[Placement.LEFT_FOOT]
    assert list(s) == [Placement.LEFT_FOOT] and st.gaps == (Gap(after_index=99, n_lost=3),)
    np.testing.assert_array_equal(st.acc_mps2, data["foot_left"]["acc"])
    assert s.meta.steps == (ProtocolStep("stand", 0.1, 0.5), ProtocolStep("walk", 1.0, 1.9))
    assert s.meta.subject_id == "Q-1"
    with pytest.raises(ValidationError, match=r"--step 'walk=1-2': expected NAME=START:END in seconds"):
        parse_steps(["walk=1-2"])
    with pytest.raises(ValidationError, match="protocol step 'walk': needs t_start_s < t_end_s"):
        parse_steps(["walk=2:1"])


def test_broken_files(tmp_path):
    path = tmp_path / "qmt.mat"
    _write(path)
    with pytest.raises(FormatError, match=r"qmt\.mat: no IMU struct 'upper_leg' \(--map left_thigh=upper_leg\); "
                                          r"it has: foot_left, lower_leg_left"):
        read_qmt_mat(path, {Placement.LEFT_THIGH: "upper_leg"})
    with pytest.raises(ValidationError, match="needs at least one placement"):
        read_qmt_mat(path, {})
    _write(path, t=np.r_[0.0, 0.01, 0.01, *np.arange(3, 200) / 100])
    with pytest.raises(FormatError, match=r"qmt\.mat: t does not increase at sample 2 \(0\.01 s then 0\.01 s\)"):
        read_qmt_mat(path)
    scipy.io.savemat(path, {**_write(path), "t": np.arange(150) / 100.0})
    with pytest.raises(FormatError, match=r"qmt\.mat: hip\.acc has shape \(200, 3\), expected \(150, 3\) like t"):
        read_qmt_mat(path)
    scipy.io.savemat(path, {"x": np.zeros(3)})
    with pytest.raises(FormatError, match=r"qmt\.mat: no time vector t"):
        read_qmt_mat(path)
    path.write_bytes(b"garbage" * 40)
    with pytest.raises(FormatError, match=r"^qmt\.mat: not a readable MATLAB \.mat file"):
        read_qmt_mat(path)
    with pytest.raises(FormatError, match="absent.mat: no such file"):
        qmt_segments(tmp_path / "absent.mat")


@pytest.mark.realdata
def test_real_full_body_file():
    if not REAL.is_file():
        pytest.skip(f"qmt example not available: {REAL.resolve()} is absent (see ../shared/datasets/README.md)")
    names = qmt_segments(REAL)
    assert len(names) == 16 and {"hip", "upper_leg_left", "lower_leg_right", "foot_left", "head"} <= set(names)
    s = read_qmt_mat(REAL, steps=parse_steps(["stand=40:44", "walk_1=95:115"]))
    assert len(s) == 5 and s.meta.recorded_at == "2021-11-01T02:25:01"
    for st in s.streams:
        assert st.n_samples == 10000 and st.sample_rate_hz == 100.0 and st.gaps == ()
        assert st.t_s[0] == pytest.approx(40.0) and st.t_s[-1] == pytest.approx(139.99)
        assert np.median(np.linalg.norm(st.acc_mps2, axis=1)) == pytest.approx(GRAVITY_MPS2, rel=0.05)
        standing = st.slice_time(40.0, 44.0)
        assert np.median(np.linalg.norm(standing.gyr_radps, axis=1)) < 0.2  # still, in rad/s
        walking = st.slice_time(95.0, 115.0)
        assert 0.3 < np.median(np.linalg.norm(walking.gyr_radps, axis=1)) < 8.0
