"""C3D export, read back by ezc3d."""

from __future__ import annotations

import numpy as np
import pytest

from imugait.conventions import Side
from imugait.export.c3d import export_c3d
from imugait.export.common import gait_events

ezc3d = pytest.importorskip("ezc3d", reason="ezc3d (pip install 'imugait[export]') is not importable")


@pytest.fixture(scope="module")
def c3d_back(analysis, tmp_path_factory):
    path = export_c3d(analysis, tmp_path_factory.mktemp("c3d") / "walk.c3d")
    return ezc3d.c3d(str(path))


def _param(c3d, group, name):
    return c3d["parameters"][group][name]["value"]


def test_angles_are_points_listed_as_angles(analysis, c3d_back):
    labels = list(_param(c3d_back, "POINT", "LABELS"))
    assert labels == ["LKneeAngles", "LThighProgressAngles", "RKneeAngles", "RThighProgressAngles"]
    assert list(_param(c3d_back, "POINT", "ANGLES")) == labels
    assert list(_param(c3d_back, "POINT", "ANGLE_UNITS")) == ["deg"]
    assert float(_param(c3d_back, "POINT", "RATE")[0]) == pytest.approx(100.0, rel=1e-6)
    points = c3d_back["data"]["points"]
    assert points.shape[2] == analysis.t_s.size
    knee = analysis.legs[Side.RIGHT].angles_deg
    got = points[:3, labels.index("RKneeAngles"), :]
    for axis, name in enumerate(("knee_flexion_deg", "knee_adduction_deg", "knee_rotation_deg")):
        np.testing.assert_allclose(got[axis], knee[name], atol=1e-3)  # C3D stores float32


def test_unknown_hip_rotation_is_an_invalid_point(analysis, c3d_back):
    labels = list(_param(c3d_back, "POINT", "LABELS"))
    z = c3d_back["data"]["points"][2, labels.index("LThighProgressAngles"), :]
    ours = analysis.legs[Side.LEFT].angles_deg["hip_rotation_deg"]
    assert np.isnan(ours).any() and np.isfinite(ours).any()
    np.testing.assert_array_equal(np.isnan(z), np.isnan(ours))
    np.testing.assert_allclose(z[np.isfinite(ours)], ours[np.isfinite(ours)], atol=1e-3)


def test_events(analysis, c3d_back):
    events = gait_events(analysis)
    assert int(_param(c3d_back, "EVENT", "USED")[0]) == len(events) > 10
    labels, contexts = list(_param(c3d_back, "EVENT", "LABELS")), list(_param(c3d_back, "EVENT", "CONTEXTS"))
    times = np.asarray(_param(c3d_back, "EVENT", "TIMES"))
    assert set(labels) == {"Foot Strike", "Foot Off"} and set(contexts) == {"Left", "Right"}
    t0 = float(_param(c3d_back, "IMUGAIT", "SESSION_T0_S")[0])
    for k, e in enumerate(events):
        assert labels[k] == e.label and contexts[k] == e.side.value.capitalize()
        assert times[0, k] * 60 + times[1, k] + t0 == pytest.approx(e.t_s, abs=1e-4)
    assert list(_param(c3d_back, "EVENT", "SUBJECTS"))[0] == "sim-export"


def test_hip_angles_vs_pelvis_when_a_pelvis_was_worn(analysis, tmp_path):
    """With a pelvis sensor the analysis adds hip_flexion/adduction/rotation_pelvis: LHipAngles etc."""
    from dataclasses import replace

    legs = {}
    for side, leg in analysis.legs.items():
        n = analysis.t_s.size
        extra = {"hip_flexion_deg": np.full(n, 20.0), "hip_adduction_deg": np.full(n, -3.0),
                 "hip_rotation_pelvis_deg": np.full(n, 7.0)}
        legs[side] = replace(leg, angles_deg={**leg.angles_deg, **extra})
    c3d = ezc3d.c3d(str(export_c3d(replace(analysis, legs=legs, pelvis_worn=True), tmp_path / "p.c3d")))
    labels = list(_param(c3d, "POINT", "LABELS"))
    assert labels == ["LKneeAngles", "LHipAngles", "LThighProgressAngles", "RKneeAngles", "RHipAngles",
                      "RThighProgressAngles"]
    np.testing.assert_allclose(c3d["data"]["points"][:3, labels.index("RHipAngles"), 0], [20.0, -3.0, 7.0], atol=1e-5)
