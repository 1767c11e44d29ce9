"""The example session shipped in recordings/ reads and analyses (regenerate it with the command in
recordings/README.md if the format version changes)."""

from pathlib import Path

from imugait.analysis import analyze_session
from imugait.conventions import Side
from imugait.io.native import read_session

EXAMPLE = Path(__file__).parents[1] / "recordings" / "example_walk.parquet"


def test_example_recording_analyses_and_shows_the_right_hip():
    session = read_session(EXAMPLE)
    assert session.meta.subject_id == "example-walker" and len(session) == 4
    result = analyze_session(session)
    difference = result.metric(Side.RIGHT, "hip_rotation_mean_deg") - result.metric(Side.LEFT, "hip_rotation_mean_deg")
    assert 7.0 < difference < 14.0  # simulated: +10° on the right
