"""BIDS-motion export, checked against the specification's required fields (imugait/data/bids_motion.json)."""

from __future__ import annotations

import csv
import json
import re

import numpy as np
import pytest

from imugait.conventions import Side
from imugait.data import load_json
from imugait.export.bids import bids_label, export_bids
from imugait.export.common import gait_events

RULES = load_json("bids_motion.json")


@pytest.fixture(scope="module")
def bids(analysis, tmp_path_factory):
    return export_bids(analysis, tmp_path_factory.mktemp("bids") / "dataset", task="walk")


def _tsv(path):
    with path.open(newline="") as fh:
        return list(csv.reader(fh, delimiter="\t"))


def test_rules_table_has_its_source():
    assert "bids-specification" in RULES["source"] and "motion.yaml" in RULES["source"]
    assert RULES["motion_json_required"] == ["TaskName", "SamplingFrequency"]


def test_file_names_carry_the_required_entities(bids):
    for path in (bids.motion_tsv, bids.motion_json, bids.channels_tsv):
        entities = dict(part.split("-", 1) for part in path.name.split("_")[:-1])
        assert set(RULES["filename_entities_required"]) <= set(entities), path.name
        assert entities["sub"] == "simexport" and entities["task"] == "walk" and entities["tracksys"] == "imugait"
        assert path.parent.name == "motion" and path.parent.parent.name == "sub-simexport"


def test_required_json_fields(bids):
    description = json.loads(bids.dataset_description.read_text())
    for key in RULES["dataset_description_required"]:
        assert description.get(key), key
    sidecar = json.loads(bids.motion_json.read_text())
    for key in RULES["motion_json_required"]:
        assert key in sidecar and sidecar[key] not in ("", None), key
    assert sidecar["SamplingFrequency"] == pytest.approx(100.0, rel=1e-6)
    assert sidecar["TaskName"] == "walk"


def test_channels_table_matches_motion_columns(bids, analysis):
    channels = _tsv(bids.channels_tsv)
    header, rows = channels[0], channels[1:]
    required = RULES["channels_tsv_required_columns"]
    assert header[: len(RULES["channels_tsv_initial_columns"])] == RULES["channels_tsv_initial_columns"]
    for row in rows:
        record = dict(zip(header, row, strict=True))
        for col in required:
            assert record[col] != "", (record["name"], col)
        assert record["component"] in RULES["component_values"]
        assert record["type"] in RULES["motion_channel_types"]
    data = _tsv(bids.motion_tsv)
    assert not RULES["motion_tsv_has_header"]
    assert all(re.fullmatch(r"-?[0-9.e+-]+|n/a", cell) for cell in data[0])  # no header row
    assert len(data) == analysis.t_s.size and {len(r) for r in data} == {len(rows)}
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
