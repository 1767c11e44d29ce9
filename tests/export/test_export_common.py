"""What the exports share: the ground frame's heading where no bout gave one, events, channels."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from imugait.conventions import Side
from imugait.errors import ValidationError
from imugait.export.common import _filled_heading, angle_channels, gait_events, sample_rate_hz


def _leg(heading):
    return SimpleNamespace(side=Side.LEFT, progression=SimpleNamespace(heading_rad=np.asarray(heading, float)))


def test_heading_is_filled_from_the_nearest_bout():
    h = _filled_heading(_leg([np.nan, 1.0, np.nan, np.nan, np.nan, np.nan, 2.0, np.nan]))
    np.testing.assert_array_equal(h, [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    with pytest.raises(ValidationError, match="no line of progression"):
        _filled_heading(_leg([np.nan, np.nan]))


def test_events_channels_and_rate(analysis):
    events = gait_events(analysis)
    assert [e.t_s for e in events] == sorted(e.t_s for e in events)
    assert {e.label for e in events} == {"Foot Strike", "Foot Off"}
    labels = [c.label for c in angle_channels(analysis)]
    assert labels[0].startswith("left_") and "right_knee_flexion_deg" in labels
    assert sample_rate_hz(analysis) == pytest.approx(100.0, rel=1e-9)
