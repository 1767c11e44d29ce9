"""BIDS-motion export, checked against the specification's required fields (imugait/data/bids_motion.json)."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

from imugait.conventions import Placement, Side
from imugait.data import load_json
from imugait.export.bids import bids_label, export_bids
from imugait.export.common import gait_events

RULES = load_json("bids_motion.json")


@pytest.fixture(scope="module")
def bids(simulated, tmp_path_factory):
    session, analysis = simulated
    return export_bids(analysis, tmp_path_factory.mktemp("bids") / "dataset", task="walk", session=session)


def _systems(bids):
    """(motion.tsv, channels.tsv, motion.json) of both tracking systems."""
    raw_motion, raw_channels, _raw_frames, raw_json = bids.raw
    return [(bids.motion_tsv, bids.channels_tsv, bids.motion_json), (raw_motion, raw_channels, raw_json)]


def _tsv(path):
    with path.open(newline="") as fh:
        return list(csv.reader(fh, delimiter="\t"))


def test_rules_table_has_its_source():
    assert "bids-specification" in RULES["source"] and "motion.yaml" in RULES["source"]
    assert RULES["motion_json_required"] == ["TaskName", "SamplingFrequency"]


def test_file_names_carry_the_required_entities(bids):
    for path in (bids.motion_tsv, bids.motion_json, bids.channels_tsv, *bids.raw):
        entities = dict(part.split("-", 1) for part in path.name.split("_")[:-1])
        assert set(RULES["filename_entities_required"]) <= set(entities), path.name
        assert entities["sub"] == "simexport" and entities["task"] == "walk"
        assert entities["tracksys"] == ("imu" if path in bids.raw else "imugait")
        assert path.parent.name == "motion" and path.parent.parent.name == "sub-simexport"


def test_required_json_fields(bids):
    description = json.loads(bids.dataset_description.read_text())
    for key in RULES["dataset_description_required"]:
        assert description.get(key), key
    for _motion, channels, motion_json in _systems(bids):
        sidecar = json.loads(motion_json.read_text())
        for key in RULES["motion_json_required"]:
            assert key in sidecar and sidecar[key] not in ("", None), key
        assert sidecar["SamplingFrequency"] == pytest.approx(100.0, rel=1e-6)
        assert sidecar["TaskName"] == "walk"
        assert sidecar["MotionChannelCount"] == len(_tsv(channels)) - 1


def test_channels_tables_match_motion_columns(bids):
    for motion, channels_tsv, _json in _systems(bids):
        channels = _tsv(channels_tsv)
        header, rows = channels[0], channels[1:]
        assert header[: len(RULES["channels_tsv_initial_columns"])] == RULES["channels_tsv_initial_columns"]
        for row in rows:
            record = dict(zip(header, row, strict=True))
            for col in RULES["channels_tsv_required_columns"]:
                assert record[col] != "", (record["name"], col)
            assert record["component"] in RULES["component_values"]
            assert record["type"] in RULES["motion_channel_types"]
        data = _tsv(motion)
        assert not RULES["motion_tsv_has_header"]
        assert all(re.fullmatch(r"-?[0-9.e+-]+|n/a", cell) for cell in data[0])  # no header row
        assert {len(r) for r in data} == {len(rows)}


def test_analysis_channels(bids, analysis):
    channels = _tsv(bids.channels_tsv)
    rows = channels[1:]
    data = _tsv(bids.motion_tsv)
    assert len(data) == analysis.t_s.size
    names = [r[0] for r in rows]
    values = np.array([[np.nan if c == "n/a" else float(c) for c in r] for r in data])
    k = names.index("right_knee_flexion_deg")
    np.testing.assert_allclose(values[:, k], analysis.legs[Side.RIGHT].angles_deg["knee_flexion_deg"], atol=1e-3)
    q = values[:, [names.index(f"left_shank_quat_{c}") for c in "wxyz"]]
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-5)
    assert rows[names.index("right_knee_flexion_deg")][1] == "z"


def test_events(bids, analysis):
    table = _tsv(bids.events_tsv)
    assert table[0][:2] == RULES["events_tsv_required_columns"]
    assert len(table) - 1 == len(gait_events(analysis))
    assert {r[2] for r in table[1:]} == {"initial_contact", "toe_off"}


def test_bids_label():
    assert bids_label("S-007_a") == "S007a"


def test_raw_sensor_channels(bids, simulated):
    session, _analysis = simulated
    raw_motion, raw_channels, raw_frames, _json = bids.raw
    rows = _tsv(raw_channels)[1:]
    names = [r[0] for r in rows]
    assert {r[2] for r in rows} == {"LATENCY", "ACCEL", "GYRO", "MAGN"}
    assert rows[names.index("right_thigh_mag_y")][4] == "uT"
    assert rows[names.index("left_shank_gyr_x")][4] == "rad/s" and rows[names.index("left_shank_acc_z")][4] == "m/s^2"
    values = np.array([[np.nan if c == "n/a" else float(c) for c in r] for r in _tsv(raw_motion)])
    stream = session[Placement.LEFT_SHANK]
    t = values[:, 0] + max(float(s.t_s[0]) for s in session.streams)
    expected = np.interp(t, stream.t_s, stream.gyr_radps[:, 0])
    ok = np.isfinite(values[:, names.index("left_shank_gyr_x")])
    assert ok.mean() > 0.95
    np.testing.assert_allclose(values[ok, names.index("left_shank_gyr_x")], expected[ok], atol=1e-4)
    assert "sensor" in json.loads(raw_frames.read_text())["reference_frame"]["Levels"]
