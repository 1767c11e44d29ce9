"""Numeric helpers of the analysis: resampling onto the grid (imugait.timebase) and rotating vectors
by quaternions (imugait.quaternion), against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from imugait.conventions import GRAVITY_MPS2, Placement, Side
from imugait.errors import ValidationError
from imugait.fusion.settings import FilterKind
from imugait.kinematics.prepare import fuse_session
from imugait.model import Gap, ImuStream, Session
from imugait.quaternion import quat_multiply, quat_rotate
from imugait.timebase import (
    common_grid,
    gap_mask,
    grid_position,
    interp_vectors,
    sample_period_s,
    slerp_quats,
)


def _times(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.cumsum(rng.uniform(0.004, 0.006, n))  # jittered 200 Hz


def test_interp_vectors_matches_numpy_interp_and_clamps():
    rng = np.random.default_rng(1)
    t_src = _times(rng, 500)
    values = rng.normal(size=(500, 3))
    t_dst = np.linspace(t_src[0] - 0.05, t_src[-1] + 0.05, 777)  # beyond both ends
    expected = np.column_stack([np.interp(t_dst, t_src, values[:, k]) for k in range(3)])
    np.testing.assert_allclose(interp_vectors(t_src, values, t_dst), expected, atol=1e-12)
    position = grid_position(t_src, t_dst)
    np.testing.assert_allclose(interp_vectors(t_src, values, t_dst, position), expected, atol=1e-12)


def test_slerp_quats_close_to_slerp_and_exact_at_samples():
    rng = np.random.default_rng(2)
    t_src = _times(rng, 400)
    # A body-like rotation: up to ~6 rad/s, so a few degrees between samples.
    rotvec = np.cumsum(rng.normal(scale=0.02, size=(400, 3)), axis=0)
    r_src = Rotation.from_rotvec(rotvec)
    q_src = r_src.as_quat(scalar_first=True)
    q_src[::3] *= -1.0  # the sign of a quaternion must not matter
    t_dst = np.sort(rng.uniform(t_src[0], t_src[-1], 1000))
    got = Rotation.from_quat(slerp_quats(t_src, q_src, t_dst), scalar_first=True)
    truth = Slerp(t_src, r_src)(t_dst)
    assert np.max(np.rad2deg((truth.inv() * got).magnitude())) < 0.01
    at_samples = slerp_quats(t_src, q_src, t_src[5:50])
    np.testing.assert_allclose(np.abs(np.sum(at_samples * q_src[5:50], axis=1)), 1.0, atol=1e-12)


def test_quat_rotate_matches_scipy():
    r = Rotation.random(200, random_state=3)
    q = r.as_quat(scalar_first=True)
    v = np.random.default_rng(3).normal(size=(200, 3))
    np.testing.assert_allclose(quat_rotate(q, v), r.apply(v), atol=1e-12)
    np.testing.assert_allclose(quat_rotate(-q, [0.0, 1.0, 0.0]), r.apply([0.0, 1.0, 0.0]), atol=1e-12)
    np.testing.assert_allclose(quat_rotate(q[7], v[7]), r[7].apply(v[7]), atol=1e-12)


def test_a_segments_axes_at_once_are_what_rotating_each_gives():
    """quat_rotate_each shares the quaternions' products between the vectors: the same values,
    bit for bit, as one quat_rotate per vector, over several blocks of rows."""
    from imugait.quaternion import CHUNK_ROWS, quat_rotate_each

    q = Rotation.random(CHUNK_ROWS + 77, random_state=10).as_quat(scalar_first=True)
    q[::7, 1:3] = 0.0  # rotations about one axis: exact zeros among the products
    q[::11] = [1.0, 0.0, 0.0, 0.0]
    # The unit axes take a shorter path (a column of the rotation matrix): the same values.
    axes = ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.3, -0.5, 0.8])
    for got, v in zip(quat_rotate_each(q, axes), axes, strict=True):
        assert np.array_equal(got, quat_rotate(q, v))


def test_quat_multiply_with_a_constant_matches_scipy():
    a = Rotation.random(300, random_state=4)
    b = Rotation.random(300, random_state=5)
    qa, qb = a.as_quat(scalar_first=True), b.as_quat(scalar_first=True)

    def same(q: np.ndarray, r: Rotation) -> None:
        np.testing.assert_allclose(np.abs(np.sum(q * r.as_quat(scalar_first=True), axis=-1)), 1.0, atol=1e-12)

    same(quat_multiply(qa[0], qb), a[0] * b)  # constant on the left
    same(quat_multiply(qa, qb[0]), a * b[0])  # … on the right
    same(quat_multiply(qa, qb), a * b)
    # The constant's matrix is made once per constant (keyed by its bytes: a -0.0 is a constant of
    # its own): to the bit the product with the matrix made anew at each call, as before.
    for c in (qa[1], qb[2], np.array([0.5, -0.0, 0.5, 0.0]) * np.sqrt(2.0)):
        for _ in range(2):  # (made, then taken from the cache)
            w, x, y, z = c
            np.testing.assert_array_equal(quat_multiply(c, qb), qb @ np.array(
                [[w, -x, -y, -z], [x, w, -z, y], [y, z, w, -x], [z, -y, x, w]]).T)
            np.testing.assert_array_equal(quat_multiply(qa, c), qa @ np.array(
                [[w, -x, -y, -z], [x, w, z, -y], [y, -z, w, x], [z, y, -x, w]]).T)


def test_long_arrays_in_blocks_give_what_one_block_gives():
    """quat_rotate, quat_multiply, joint_angles_rad and segment_orientations work on recordings
    longer than CHUNK_ROWS in blocks: the same numbers as scipy on the whole array at once."""
    from imugait.conventions import Joint, Side, joint_angles_rad
    from imugait.kinematics.angles import segment_orientations
    from imugait.quaternion import CHUNK_ROWS, quat_about_z

    n = 2 * CHUNK_ROWS + 123  # three blocks, the last one short
    a, b = Rotation.random(n, random_state=6), Rotation.random(n, random_state=7)
    qa, qb = a.as_quat(scalar_first=True), b.as_quat(scalar_first=True)
    v = np.random.default_rng(8).normal(size=(n, 3))
    np.testing.assert_allclose(quat_rotate(qa, v), a.apply(v), atol=1e-12)
    np.testing.assert_allclose(quat_rotate(qa, [0.0, 0.0, 1.0]), a.apply([0.0, 0.0, 1.0]), atol=1e-12)
    np.testing.assert_allclose(np.abs(np.sum(quat_multiply(qa, qb) * (a * b).as_quat(scalar_first=True), axis=1)), 1.0,
                               atol=1e-12)
    expected = (a.inv() * b).as_euler("ZXY") * [-1.0, -1.0, -1.0]  # knee flexion sign; left: adduction, rotation mirrored
    angles = joint_angles_rad(qa, qb, Joint.KNEE, Side.LEFT)
    np.testing.assert_allclose(np.angle(np.exp(1j * (angles - expected))), 0.0, atol=1e-9)
    heading = np.linspace(-1.0, 2.0, n)
    c_thigh, c_shank = Rotation.random(2, random_state=9).as_quat(scalar_first=True)
    q_thigh, q_shank = segment_orientations(qa, qb, c_thigh, c_shank, heading)
    whole = quat_multiply(quat_about_z(heading)[:CHUNK_ROWS], quat_multiply(qb[:CHUNK_ROWS], c_shank))
    np.testing.assert_allclose(q_shank[:CHUNK_ROWS], whole, atol=1e-15)
    np.testing.assert_allclose(np.abs(np.sum(q_shank * (Rotation.from_rotvec(np.outer(heading, [0, 0, 1])) * b
                                                          * Rotation.from_quat(c_shank, scalar_first=True))
                                             .as_quat(scalar_first=True), axis=1)), 1.0, atol=1e-12)
    np.testing.assert_allclose(q_thigh, quat_multiply(qa, c_thigh))


def test_sample_period_is_the_known_rate_or_the_median_step():
    rng = np.random.default_rng(3)
    t = 1000.0 + _times(rng, 500)  # jittered 200 Hz, far from 0 (a device clock)
    t = np.delete(t, np.s_[100:140])  # 40 lost samples
    assert sample_period_s(t) == float(np.median(np.diff(t)))
    assert sample_period_s(t) == pytest.approx(0.005, abs=2e-4)
    assert sample_period_s(t, rate_hz=250.0) == 1.0 / 250.0  # a known rate wins, whatever t_s holds


@pytest.mark.parametrize(("t_s", "rate_hz", "message"), [
    (np.array([0.5]), None, "at least two sample instants"),
    (np.zeros((3, 2)), None, "at least two sample instants"),
    (np.array([0.0, 0.01, 0.01, 0.02]), None, r"strictly increase: t_s\[2\]"),
    (np.array([0.0, 0.01, np.nan]), None, "strictly increase"),
    (np.arange(5.0), 0.0, "positive and finite"),
    (np.arange(5.0), np.inf, "positive and finite"),
])
def test_sample_period_refuses_what_has_no_period(t_s, rate_hz, message):
    with pytest.raises(ValidationError, match=message):
        sample_period_s(t_s, rate_hz)


def _still_stream(placement: Placement, rate_hz: float, t0_s: float, duration_s: float) -> ImuStream:
    t = t0_s + np.arange(int(duration_s * rate_hz)) / rate_hz
    acc = np.tile([0.0, 0.0, GRAVITY_MPS2], (t.size, 1))
    return ImuStream(placement, t, acc, np.zeros((t.size, 3)), sample_rate_hz=rate_hz)


def test_fused_session_carries_the_rate_its_grid_was_made_at():
    # Two sensors at different rates on a clock far from 0, where the grid's steps differ from
    # 1 / rate in their last digits: the rate is carried, not measured back from the steps.
    session = Session([_still_stream(Placement.LEFT_THIGH, 100.0, 5000.0, 3.0),
                       _still_stream(Placement.LEFT_SHANK, 60.0, 5000.1, 3.0)])
    fused = fuse_session(session, FilterKind.MADGWICK)
    assert fused.rate_hz == 100.0  # the highest nominal rate, common_grid's default
    np.testing.assert_array_equal(fused.t_s, common_grid(session.streams))
    assert np.ptp(np.diff(fused.t_s)) > 0  # the steps are not all 1 / rate exactly
    slower = fuse_session(session, FilterKind.MADGWICK, rate_hz=40.0)
    assert slower.rate_hz == 40.0
    np.testing.assert_array_equal(slower.t_s, common_grid(session.streams, 40.0))
    assert fuse_session(session, FilterKind.MADGWICK, t_s=slower.t_s).rate_hz == 1.0 / sample_period_s(slower.t_s)
    assert fused.leg(Side.LEFT).rate_hz == 100.0  # and every leg calibration step with it


def test_the_low_pass_equals_scipys_sosfiltfilt_to_the_bit():
    """lowpass calls sosfilt's compiled core itself (without its per-call checks): the values of
    scipy's sosfiltfilt (default padding, 2nd-order Butterworth) to the bit, for a series and for
    columns filtered together."""
    from scipy.signal import butter, sosfiltfilt

    from imugait.timebase import lowpass

    rng = np.random.default_rng(11)
    for n, columns, cutoff_hz in ((1200, None, 6.0), (1200, 2, 6.0), (300, 3, 35.0), (11, None, 20.0), (5000, 1, 2.0)):
        x = rng.normal(size=(n,) if columns is None else (n, columns)) * 10 ** rng.uniform(-2, 2)
        expected = sosfiltfilt(butter(2, cutoff_hz / 100.0, output="sos"), x, axis=0)
        got = lowpass(x, 200.0, cutoff_hz)
        assert got.shape == x.shape
        np.testing.assert_array_equal(got, expected)


def test_the_low_pass_as_a_matrix_gives_what_filtering_gives():
    from imugait.timebase import lowpass, lowpass_band, lowpass_rows

    rng = np.random.default_rng(4)
    x = np.cumsum(rng.normal(size=1200)) + 3.0 * np.sin(np.arange(1200) / 7.0)
    band, _outside = lowpass_band(1200, 200.0, 6.0)
    whole = lowpass(x, 200.0, 6.0)
    width = band.shape[1] // 2
    assert width == 100 and band[0, :width].max() == 0.0  # (off the matrix)
    # Row 600's band is the matrix's row (the response of each sample) about its diagonal.
    impulse = np.zeros(1200)
    impulse[620] = 1.0
    assert band[600, width + 20] == pytest.approx(lowpass(impulse, 200.0, 6.0)[600], abs=1e-15)
    # A few rows from the band about them, within the bound it gives on the rest (small but not 0).
    for lo, hi in ((0, 5), (500, 700), (1150, 1200)):
        rows, bound = lowpass_rows(x, lo, hi, 200.0, 6.0)
        assert 0 < bound < 1e-4
        assert np.abs(rows - whole[lo:hi]).max() <= bound + 1e-10
    assert lowpass_band(1200, 200.0, 6.0)[0] is band and not band.flags.writeable


def test_upsampling_gives_a_band_limited_signal_between_its_samples_from_nearby_samples_only():
    # A 3-Hz and a 9-Hz sine sampled at 32 Hz (below its Nyquist frequency, 16 Hz): upsampled by 4,
    # the series is the sines at 128 Hz (away from the ends, where the line the ends are extended
    # along is not a sine), and each output depends on the 4 input samples either side only.
    from imugait.timebase import upsample

    t = np.arange(320) / 32.0
    tone = lambda t_s: np.sin(2 * np.pi * 3.0 * t_s) + 0.5 * np.cos(2 * np.pi * 9.0 * t_s)  # noqa: E731
    fine = upsample(tone(t), 4, 4)
    assert fine.shape == (1280,)
    inner = slice(40, -40)
    assert np.abs(fine[inner] - tone(np.arange(1280) / 128.0)[inner]).max() < 0.01
    np.testing.assert_allclose(fine[::4][10:-10], tone(t)[10:-10], atol=0.005)  # through the samples
    changed = tone(t)
    changed[160] += 1.0
    moved = np.flatnonzero(np.abs(upsample(changed, 4, 4) - fine) > 1e-12)
    assert moved.min() > 4 * (160 - 4) and moved.max() < 4 * (160 + 4)
    np.testing.assert_array_equal(upsample(tone(t), 1, 4), tone(t))  # (factor 1: the series itself)


def _lossy_stream(rng: np.random.Generator, n: int, n_gaps: int) -> ImuStream:
    """A 200-Hz stream of ``n`` samples with ``n_gaps`` lost bursts of 1–5 samples."""
    after = np.sort(rng.choice(np.arange(1, n - 2), n_gaps, replace=False))
    lost = rng.integers(1, 6, n_gaps)
    index = np.arange(n) + np.cumsum(np.bincount(after + 1, weights=lost, minlength=n)).astype(int)
    return ImuStream(placement=Placement.LEFT_THIGH, t_s=100.0 + index / 200.0, acc_mps2=np.tile([0.0, 0.0, GRAVITY_MPS2], (n, 1)),
                     gyr_radps=np.zeros((n, 3)), sample_rate_hz=200.0,
                     gaps=tuple(Gap(int(a), int(k)) for a, k in zip(after, lost, strict=True)))


@pytest.mark.parametrize("grid", ["the stream's rate", "another rate, beyond both ends", "the samples themselves"])
def test_gap_mask_marks_the_grid_strictly_inside_each_gap(grid):
    """By bisection of the grid (issue 12: one comparison with the whole grid per gap took seconds
    for a lossy hour), the same mask as the gaps' definition, gap by gap."""
    rng = np.random.default_rng(8)
    stream = _lossy_stream(rng, 20_000, 600)
    t = {"the stream's rate": common_grid([stream]), "another rate, beyond both ends": np.arange(90.0, 250.0, 1.0 / 333.0),
         "the samples themselves": stream.t_s}[grid]
    expected = np.zeros(t.size, dtype=bool)
    for gap in stream.gaps:
        expected |= (t > stream.t_s[gap.after_index]) & (t < stream.t_s[gap.after_index + 1])
    mask = gap_mask(stream, t)
    np.testing.assert_array_equal(mask, expected)
    assert mask.any() == (grid != "the samples themselves")
    assert not gap_mask(_lossy_stream(rng, 1000, 0), t).any()
