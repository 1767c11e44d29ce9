"""Line of progression from the thigh's swing, and the normative lateral lean of that swing."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.conventions import Placement, Segment, Side
from imugait.kinematics.progression import ProgressionConfig, find_progression
from imugait.kinematics.swing_tilt import heading_correction_rad, lateral_swing_lean_rad
from imugait.simulate import SideParams, SimulationConfig, WalkerParams, simulate, walking_test
from imugait.timebase import sample_period_s


def test_normative_lean_is_lateral_and_grows_as_the_swing_shrinks():
    normal, short, long = (np.rad2deg(lateral_swing_lean_rad(e)) for e in (0.70, 0.45, 1.0))
    assert 1.5 < normal < 3.5
    assert short > normal > long > 0.0
    # Mirrored: anticlockwise for the left leg, clockwise for the right one.
    assert heading_correction_rad(Side.LEFT, 0.7) == pytest.approx(-heading_correction_rad(Side.RIGHT, 0.7))
    assert heading_correction_rad(Side.RIGHT, 0.7) > 0.0


def test_swing_extent_is_numpys_percentile_range_to_the_bit():
    """swing_extent's own percentiles are np.percentile's (linear method) to the bit: one set or
    K at once, any length, ties, and NaN (which numpy's result carries)."""
    from imugait.kinematics.swing_tilt import SWING_PERCENTILES, swing_extent

    rng = np.random.default_rng(7)
    n_nan = 0
    for _ in range(600):
        n, k = int(rng.integers(1, 2500)), int(rng.integers(0, 4))
        along = rng.normal(size=(n,) if k == 0 else (k, n)) * 10 ** rng.uniform(-3, 1)
        if rng.random() < 0.3:
            along = np.round(along, 1)  # ties
        if rng.random() < 0.1:
            along.flat[int(rng.integers(0, along.size))] = np.nan
            n_nan += 1
        low, high = np.percentile(along, SWING_PERCENTILES, axis=-1)
        got = swing_extent(along)
        assert np.array_equal(np.asarray(got), high - low, equal_nan=True)
        assert isinstance(got, float) == (k == 0)
    assert n_nan > 20


def test_mean_of_rows_is_numpys_mean_to_the_bit():
    """The walking direction's means of many rows of two columns by a running sum: numpy's
    mean over the rows to the bit — columns of a wider array, sliding windows, thinned rows, one
    column (numpy's pairwise sum), a long recording."""
    from numpy.lib.stride_tricks import sliding_window_view

    from imugait.kinematics.swing_tilt import mean_of_rows

    rng = np.random.default_rng(9)
    for n in (1, 3, 499, 2000, 200_000):
        x = rng.normal(size=(n, 3)) * 10 ** rng.uniform(-3, 2) + rng.uniform(-1, 1)
        width = min(500, n)
        windows = np.moveaxis(sliding_window_view(x, width, axis=0)[::max(width // 2, 1)], -1, 1)
        columns_first = np.ascontiguousarray(x.T).T  # (rows closer together: numpy sums pairwise)
        for v in (x[:, :2], x[::2, :2], x[None, :, :2], x, x[:, :1], windows[..., :2], np.ascontiguousarray(x[:, 1:]),
                  columns_first, columns_first[None, :, :2], x[::-1, :2]):
            np.testing.assert_array_equal(mean_of_rows(v), v.mean(axis=-2))


def test_lean_table_of_all_scales_equals_one_scale_at_a_time():
    """The table is built for every swing scale at once; one scale alone (the model as the
    module describes it) gives the same extent and lean, to the bit."""
    from scipy.spatial.transform import Rotation

    from imugait.conventions import (
        Joint,
        pelvis_rotation_from_angles,
        relative_rotation_from_angles,
    )
    from imugait.data import normative_gait_table
    from imugait.kinematics.swing_tilt import (
        SWING_SCALES,
        _lean_table,
        principal_horizontal_direction,
        swing_extent,
    )

    table = normative_gait_table().iloc[:-1]
    deg = lambda name: np.deg2rad(table[f"{name}_mean_deg"].to_numpy(dtype=float))  # noqa: E731
    pelvis = pelvis_rotation_from_angles(np.column_stack([deg("pelvis_tilt"), deg("pelvis_obliquity"), deg("pelvis_rotation")]))
    extents, leans = _lean_table()
    assert extents.size == SWING_SCALES.size and np.all(np.diff(extents) > 0)
    flexion = deg("hip_flexion")
    for scale in SWING_SCALES[[0, 11, 34]]:
        hip = np.column_stack([flexion.mean() + scale * (flexion - flexion.mean()), deg("hip_adduction"), deg("hip_rotation")])
        rotation = pelvis * relative_rotation_from_angles(hip, Joint.HIP, Side.RIGHT)
        assert isinstance(rotation, Rotation)
        horizontal = rotation.apply([0.0, 1.0, 0.0])[:, [0, 2]]
        direction = principal_horizontal_direction(horizontal)
        direction = direction if direction[0] >= 0 else -direction
        i = int(np.flatnonzero(extents == swing_extent(horizontal @ direction))[0])
        assert leans[i] == np.arctan2(direction[1], direction[0])


@pytest.fixture(scope="module")
def walker():
    config = SimulationConfig(
        seed=7, walker=WalkerParams(left=SideParams(hip_rotation_offset_deg=10.0)),
        timeline=walking_test(n_bouts=2, bout_s=12.0), initial_heading_deg=33.0,
    )
    return simulate(config)


def _bout_heading_errors_deg(sim, side, correct):
    series = sim.truth.series
    t = series["t_s"].to_numpy()
    q_thigh = sim.truth.q_world(Placement.of(Segment.THIGH, side))
    walking = series["walking_weight"].to_numpy() > 0.5
    progression = find_progression(t, q_thigh, walking, ProgressionConfig(correct_swing_lean=correct), side=side)
    assert len(progression.bouts) == 2
    true_heading = series["heading_rad"].to_numpy()
    errors = []
    for bout in progression.bouts:
        truth = np.angle(np.mean(np.exp(1j * true_heading[bout.start : bout.stop])))
        errors.append(np.rad2deg(np.angle(np.exp(1j * (bout.heading_rad - truth)))))
    return np.array(errors)


@pytest.mark.parametrize("side", list(Side))
def test_walking_direction_from_true_thigh_motion(walker, side):
    # On the true thigh orientations the only error left is the swing's lean (the simulator's
    # pelvis and hip follow the same normative curves the correction is built from, so this checks
    # the model's geometry and signs, not how well it carries over to a real person).
    raw = _bout_heading_errors_deg(walker, side, correct=False)
    corrected = _bout_heading_errors_deg(walker, side, correct=True)
    lateral = -side.mirror  # anticlockwise is lateral for the left leg
    assert np.all(lateral * raw > 1.5)
    assert np.all(np.abs(corrected) < 0.6)


def test_every_sample_of_a_bout_takes_its_own_walking_direction():
    # A long length, a turn, a short length back: splitting half-way between bout centres gave the
    # long bout's last seconds the short bout's (opposite) direction.
    from imugait.kinematics.progression import Bout, _nearest_bout_heading

    t = np.arange(0.0, 60.0, 0.01)
    long_bout = Bout(start=100, stop=3000, heading_rad=0.1, drift_radps=0.0)
    short_bout = Bout(start=3300, stop=4200, heading_rad=0.1 + np.pi, drift_radps=0.0)
    heading = _nearest_bout_heading(t, [long_bout, short_bout])
    assert np.all(heading[100:3000] == pytest.approx(0.1))
    assert np.all(heading[3300:4200] == pytest.approx(0.1 + np.pi))
    assert np.all(heading[:3150] == pytest.approx(0.1)) and np.all(heading[3150:] == pytest.approx(0.1 + np.pi))


@pytest.mark.parametrize("side", list(Side))
def test_causal_walking_direction_follows_the_offline_one(walker, side):
    # The live variant, fed the true thigh motion in 0.1-s blocks: inside each offline bout, once
    # the run is a few seconds old, its direction is the offline bout's within a degree or two.
    from imugait.kinematics.progression import CausalProgression

    series = walker.truth.series
    t = series["t_s"].to_numpy()
    q_thigh = walker.truth.q_world(Placement.of(Segment.THIGH, side))
    walking = series["walking_weight"].to_numpy() > 0.5
    offline = find_progression(t, q_thigh, walking, side=side)
    rate_hz = 1.0 / sample_period_s(t)
    causal = CausalProgression(rate_hz, side=side)
    direction = np.full(t.size, np.nan)
    runs = np.full(t.size, -1)
    n = int(round(0.1 * rate_hz))
    for i in range(0, t.size, n):
        direction[i:i + n] = causal.direction_at(t[i:i + n])  # the state before the block, as live
        runs[i:i + n] = causal.update(t[i:i + n], q_thigh[i:i + n], walking[i:i + n])
    assert len(offline.bouts) == 2
    for bout in offline.bouts:
        settled = slice(bout.start + int(4.0 * rate_hz), bout.stop)
        error = np.rad2deg(np.angle(np.exp(1j * (direction[settled] - offline.heading_rad[settled]))))
        assert np.isfinite(error).all()
        assert np.abs(error).max() < 2.0
        # One straight run per bout (live runs start where offline bouts do, give or take the margins).
        assert np.unique(runs[settled]).size == 1 and runs[settled][0] >= 0
    assert not (runs[~walking] >= 0).any()


def test_window_headings_at_once_equal_each_window_alone():
    from imugait.kinematics.progression import _bout_heading, _window_headings
    from imugait.kinematics.swing_tilt import swing_extent

    rng = np.random.default_rng(5)
    t = np.arange(600) / 100.0
    swing = 0.5 * np.sin(2 * np.pi * 0.9 * t)
    heading = np.deg2rad(40.0)
    forward, right = np.array([np.cos(heading), np.sin(heading)]), np.array([np.sin(heading), -np.cos(heading)])
    long_axis = np.column_stack([np.outer(swing, forward) + rng.normal(0, 0.02, (t.size, 2)), np.ones(t.size)])
    flexion = np.column_stack([np.tile(right, (t.size, 1)) + rng.normal(0, 0.05, (t.size, 2)), np.zeros(t.size)])
    starts = [0, 150, 300, 450]
    batch = _window_headings(np.stack([long_axis[s:s + 150] for s in starts]),
                             np.stack([flexion[s:s + 150] for s in starts]), Side.LEFT)
    for k, s in enumerate(starts):
        assert batch[k] == pytest.approx(_bout_heading(long_axis[s:s + 150], flexion[s:s + 150], Side.LEFT), abs=1e-12)
        assert abs(np.rad2deg(batch[k] - heading)) < 6.0  # the swing's direction, less the normative lean
    extents = swing_extent(np.stack([swing[:300], swing[300:]]))
    assert extents == pytest.approx([swing_extent(swing[:300]), swing_extent(swing[300:])], abs=1e-15)


def test_unwrap_is_numpys():
    from imugait.kinematics.progression import _unwrap

    rng = np.random.default_rng(11)
    walk = np.angle(np.exp(1j * np.cumsum(rng.normal(0.0, 0.4, 3000))))
    with_nan = walk.copy()
    with_nan[rng.uniform(size=walk.size) < 0.03] = np.nan
    boundary = rng.choice([-np.pi, np.pi, 0.0, 3.0, -3.0, np.pi / 2], 500)  # steps of exactly ±π and 2π
    for p in (walk, with_nan, boundary, rng.uniform(-np.pi, np.pi, 1000), rng.normal(0.0, 10.0, 200), walk[:1]):
        expected = np.unwrap(p)
        got = _unwrap(p)
        assert np.array_equal(got, expected, equal_nan=True)
        assert np.array_equal(np.signbit(got), np.signbit(expected))


def test_drifts_of_all_bouts_at_once_equal_each_bout_alone():
    from imugait.kinematics.progression import (
        ProgressionConfig,
        _bout_heading,
        _heading_drifts_radps,
    )

    rng = np.random.default_rng(8)
    rate_hz, n = 100.0, 9000
    t = np.arange(n) / rate_hz
    drift = 0.01 * t + 0.3 * np.sin(t / 40.0)
    swing = 0.5 * np.sin(2 * np.pi * 0.9 * t)
    forward = np.column_stack([np.cos(drift), np.sin(drift)])
    right = np.column_stack([np.sin(drift), -np.cos(drift)])
    long_axis = np.column_stack([swing[:, None] * forward + rng.normal(0, 0.02, (n, 2)), np.ones(n)])
    flexion = np.column_stack([right + rng.normal(0, 0.05, (n, 2)), np.zeros(n)])
    config = ProgressionConfig()
    # Bouts of several lengths, one too short for three windows, thinned by two as on a 200-Hz grid.
    spans = [slice(0, 1500, 2), slice(1700, 2100, 2), slice(2300, 8800, 2), slice(8850, 9000, 2)]
    headings = [_bout_heading(long_axis[s], flexion[s], Side.RIGHT) for s in spans]
    together = _heading_drifts_radps(t, 2 / rate_hz, long_axis, flexion, spans, Side.RIGHT, headings, config)
    alone = [_heading_drifts_radps(t[s], 2 / rate_hz, long_axis[s], flexion[s], [slice(0, t[s].size)], Side.RIGHT,
                                   [h], config)[0] for s, h in zip(spans, headings, strict=True)]
    assert together == alone
    assert together[3] == 0.0 and together[0] != 0.0
    assert together[2] == pytest.approx(0.01, abs=0.005)  # the drift of the middle of the long bout


def test_the_shanks_swing_turns_with_the_femur_the_thighs_does_not():
    # Why the walking direction comes from the thigh's swing and not the shank's (docs/validation.md,
    # *The Geneva walks' hip-rotation tail*): the shank swings in the knee's flexion plane, which turns
    # with the femur, so its swing direction follows the hip's rotation (measured 2026-12-06 on this
    # walker: 0.53° per degree of the right hip's offset); the thigh's swing direction does not move.
    from imugait.kinematics.swing_tilt import principal_horizontal_direction

    leans = {}
    for offset_deg in (-10.0, 10.0):
        sim = simulate(SimulationConfig(
            seed=7, walker=WalkerParams(right=SideParams(hip_rotation_offset_deg=offset_deg)),
            timeline=walking_test(n_bouts=2, bout_s=12.0), initial_heading_deg=33.0))
        series = sim.truth.series
        t = series["t_s"].to_numpy()
        walking = series["walking_weight"].to_numpy() > 0.5
        true_heading = series["heading_rad"].to_numpy()
        q_thigh, q_shank = (sim.truth.q_world(Placement.of(seg, Side.RIGHT)) for seg in (Segment.THIGH, Segment.SHANK))
        progression = find_progression(t, q_thigh, walking, side=Side.RIGHT)
        assert len(progression.bouts) == 2
        shank_long = np.column_stack([2 * (q_shank[:, 1] * q_shank[:, 2] - q_shank[:, 0] * q_shank[:, 3]),
                                      1 - 2 * (q_shank[:, 1] ** 2 + q_shank[:, 3] ** 2)])  # the shank's Y, x and y
        for k, bout in enumerate(progression.bouts):
            truth = np.angle(np.mean(np.exp(1j * true_heading[bout.start:bout.stop])))
            d = principal_horizontal_direction(shank_long[bout.start:bout.stop])
            shank = np.angle(np.exp(1j * (np.arctan2(d[1], d[0]) - truth)))
            shank = np.angle(np.exp(1j * (shank + np.pi))) if abs(shank) > np.pi / 2 else shank
            leans[offset_deg, k] = (np.rad2deg(np.angle(np.exp(1j * (bout.heading_rad - truth)))), np.rad2deg(shank))
    for k in range(2):
        thigh_per_deg = (leans[10.0, k][0] - leans[-10.0, k][0]) / 20.0
        shank_per_deg = (leans[10.0, k][1] - leans[-10.0, k][1]) / 20.0
        assert abs(thigh_per_deg) < 0.02
        assert 0.3 < shank_per_deg < 0.8  # internal rotation of the right femur: anticlockwise, +
