"""The live pipeline against ``analyze`` on the same recording (issue 11: after warm-up, per-stride
metrics within 1° and events within 10 ms). How the comparison is made fair is in
``conftest.offline_like_live``; what is measured is the live path's own difference."""

from __future__ import annotations

import numpy as np
import pandas as pd

from imugait.conventions import Side
from imugait.live.updates import CalibrationPhase, latest_strides

WARM_UP_S = 4.0
"""Strides starting within this long of their bout's start are warm-up (the live walking direction
needs ``drift_window_s`` of straight walking, and a few strides to settle)."""
EVENT_TOLERANCE_S = 0.010
KNEE_TOLERANCE_DEG = 1.0
HIP_TOLERANCE_DEG = 1.5
"""For a stride's first version: its walking direction from the straight run so far."""
FINAL_HIP_TOLERANCE_DEG = 0.1
"""For a stride's final version: its run's walking direction found again over all of it, with
``analyze``'s own function (:mod:`imugait.live.revision`; 0.00° over three walkers)."""
KNEE_METRICS = ("knee_flexion_initial_contact_deg", "knee_flexion_loading_peak_deg", "knee_flexion_swing_peak_deg",
                "knee_flexion_range_deg", "knee_adduction_range_deg", "knee_adduction_stance_mean_deg",
                "knee_valgus_stance_peak_deg", "knee_rotation_stance_mean_deg")
HIP_METRICS = ("hip_rotation_mean_deg", "hip_rotation_stance_mean_deg", "hip_rotation_swing_mean_deg")


def first_strides(strides) -> list:
    """The first version of each stride (by side and index): the one a live view shows first."""
    first = {}
    for stride in strides:
        first.setdefault((stride.side, stride.index), stride)
    return list(first.values())


def matched(live_run, first: bool = False) -> pd.DataFrame:
    """Each live stride beside the offline stride with the nearest initial contact: its latest
    version (``first``: the version given first)."""
    rows = []
    for stride in (first_strides if first else latest_strides)(live_run.update.strides):
        cycles = live_run.offline.cycles[live_run.offline.cycles["side"] == stride.side.value]
        o = cycles.iloc[int(np.argmin(np.abs(cycles["t_initial_contact_s"] - stride.t_initial_contact_s)))]
        bouts = live_run.offline.legs[stride.side].progression.bouts
        t = live_run.offline.t_s
        into_bout = [stride.t_initial_contact_s - t[b.start] for b in bouts
                     if t[b.start] <= stride.t_initial_contact_s <= t[b.stop - 1]]
        row = {"side": stride.side, "index": stride.index, "final": stride.final, "used": stride.used, "offline_used": bool(o["used"]),
               "into_bout_s": into_bout[0] if into_bout else np.nan,
               "ic_s": stride.t_initial_contact_s - o["t_initial_contact_s"],
               "to_s": stride.t_toe_off_s - o["t_toe_off_s"],
               "next_ic_s": stride.t_next_initial_contact_s - o["t_next_initial_contact_s"]}
        row.update({name: stride.metrics[name] - o[name]
                    for name in KNEE_METRICS + HIP_METRICS + ("thigh_shank_lag_s", "double_support_pct")})
        rows.append(row)
    return pd.DataFrame(rows)


def test_both_legs_calibrate_live_exactly_as_analyze_does(live_run):
    states = {s.side: s for s in live_run.live.calibration_states()}
    assert {side: s.phase for side, s in states.items()} == {Side.LEFT: CalibrationPhase.CALIBRATED,
                                                             Side.RIGHT: CalibrationPhase.CALIBRATED}
    for side, leg in live_run.live.legs.items():
        offline = live_run.offline.legs[side].alignment
        # Same standing, same grid, same online filter (lost samples bridged alike), same first
        # seconds of walking: the same sensor-to-segment rotations (live, the filter's period is the
        # median over the samples before fusion started: equal here).
        for live_q, offline_q in ((leg.alignment.thigh.q_sensor_segment, offline.thigh.q_sensor_segment),
                                  (leg.alignment.shank.q_sensor_segment, offline.shank.q_sensor_segment)):
            angle_deg = np.rad2deg(2 * np.arccos(min(abs(float(np.dot(live_q, offline_q))), 1.0)))
            assert angle_deg <= 0.01


def test_every_live_stride_has_the_offline_events_and_timing(live_run):
    table = matched(live_run)
    offline_strides = len(live_run.offline.cycles)
    assert len(table) >= offline_strides - 2  # at most the last stride of each leg is still open
    assert table[["ic_s", "to_s", "next_ic_s"]].abs().max().max() <= EVENT_TOLERANCE_S
    # The thigh-shank timing the plausibility check uses (gait/coordination.py), as offline.
    assert table["thigh_shank_lag_s"].notna().mean() >= 0.9
    assert table["thigh_shank_lag_s"].abs().max() <= 0.001


def test_after_warm_up_stride_metrics_agree_with_analyze(live_run):
    table = matched(live_run)
    steady = table[table["used"] & table["offline_used"] & (table["into_bout_s"] >= WARM_UP_S)]
    assert len(steady) >= 12 and steady["final"].all()
    assert steady[list(KNEE_METRICS)].abs().max().max() <= KNEE_TOLERANCE_DEG
    hip = steady[list(HIP_METRICS)].abs()
    assert hip.notna().all().all()
    assert hip.max().max() <= FINAL_HIP_TOLERANCE_DEG


def test_in_their_final_version_even_the_first_strides_of_a_bout_have_the_hip_rotation_of_analyze(live_run):
    table = matched(live_run)
    both = table[table["used"] & table["offline_used"]]
    warm_up = both[both["into_bout_s"] < WARM_UP_S]
    assert len(warm_up) >= 4
    hip = both[list(HIP_METRICS)].abs()
    assert hip.notna().all().all() and hip.max().max() <= FINAL_HIP_TOLERANCE_DEG


def test_as_first_shown_stride_metrics_agree_with_analyze_but_hip_rotation_in_the_worst_strides(live_run):
    keys = ["side", "index"]
    table = matched(live_run)
    steady = table[table["used"] & table["offline_used"] & (table["into_bout_s"] >= WARM_UP_S)][keys]
    first = matched(live_run, first=True).merge(steady, on=keys)
    assert len(first) == len(steady) and not first["final"].any()
    assert first[list(KNEE_METRICS)].abs().max().max() <= KNEE_TOLERANCE_DEG
    hip = first[list(HIP_METRICS)].abs()
    assert hip.notna().all().all()
    # The 1° is not met for hip rotation as first shown in the worst strides: the walking
    # direction of the run so far against the whole bout's — 0.97° here, 1.09° over three walkers,
    # medians 0.2-0.3° (benchmarks/live_pipeline.py, docs/live.md); the final version meets it.
    assert hip.max().max() <= HIP_TOLERANCE_DEG
    assert float(np.median(hip.to_numpy())) <= 0.5
    # What the final version changed is the hip rotation (and what reads it) and the knee's heading
    # offset, interpolated between offline's windows (Reheading.head_strides): here, where the offset
    # hardly drifts, the knee as first shown within a few tenths of a degree of its final version
    # (test_live_heading_drift.py: where it drifts).
    final = table.merge(steady, on=keys)
    np.testing.assert_allclose(first[list(KNEE_METRICS)], final[list(KNEE_METRICS)], rtol=0, atol=0.5)
    assert final[list(KNEE_METRICS)].abs().max().max() <= first[list(KNEE_METRICS)].abs().max().max()
    assert (hip.to_numpy() > final[list(HIP_METRICS)].abs().to_numpy() + 0.1).any()


def test_used_strides_mostly_agree_with_analyze(live_run):
    table = matched(live_run)
    # Live judges a stride before its bout has ended (open end); the first strides of a bout are
    # judged against fewer strides — so the used flags may differ at bout edges, rarely elsewhere.
    assert (table["used"] == table["offline_used"]).mean() >= 0.8
